/*
 * Quotas per user hold across connections: a user cannot get around the
 * per-client limits by opening more clients.  Here: 2 queues and 8 MiB per
 * client, 3 queues, 12 MiB and 2 clients per user.  What a client gives
 * back (a queue, a share, its whole connection) is the user's again.
 */
#include "t_wdd.h"

#define MIB (1u << 20)

static struct wd_queue *nop_queue(struct wd_ctx *ctx, int *err)
{
	struct wd_queue_opts o = { .size = sizeof(o), .depth = 8, .device = "wdd0" };
	struct wd_queue *q = NULL;

	*err = wd_queue_new(&q, ctx, "nop", &o);
	return q;
}

static void check_rows(struct wd_ctx *ctx, uint32_t want)
{
	struct wdd_stats_rep *st = malloc(sizeof(*st));
	uint32_t i;

	T_OK(wd__wdd_stats(ctx, st));
	T_EQ(st->nq, want);
	for (i = 0; i < st->nq; i++) {
		T_EQ(st->q[i].pid, (uint32_t)getpid()); /* who holds each queue */
		T_EQ(st->q[i].uid, (uint32_t)getuid());
	}
	free(st);
}

int main(int argc, char **argv)
{
	static const char *const opts[] = { "-q", "2", "-p", "8", "-Q", "3", "-P", "12",
					    "-C", "2", NULL };
	struct t_wdd w = { 0 };
	struct wd_ctx *a, *b, *c;
	struct wd_queue *qa[2], *qb[2], *extra;
	struct wd_domain *da, *db;
	unsigned char *ma, *mb, *mb2;
	uint64_t ia, ib, ib2;
	int err;

	if (argc < 2)
		return T_SKIP;
	t_wdd_start(&w, argv[1], opts);
	a = t_wdd_ctx();
	b = t_wdd_ctx();
	/* a third client of the same user is refused: no wdd0 for it */
	T_OK(wd_ctx_new(&c, NULL));
	T_ASSERT(wd_dev_by_name(c, "wdd0") == NULL);
	wd_ctx_free(c);

	/* queues: 2 per client, 3 for the user */
	qa[0] = nop_queue(a, &err);
	T_OK(err);
	qa[1] = nop_queue(a, &err);
	T_OK(err);
	extra = nop_queue(a, &err);
	T_ASSERT(!extra);
	T_EQ(err, -EBUSY); /* the client's own quota, known from the hello */
	qb[0] = nop_queue(b, &err);
	T_OK(err);
	qb[1] = nop_queue(b, &err);
	T_EQ(err, -EDQUOT); /* the user's: b alone is under its quota */
	check_rows(a, 3);
	wd_queue_free(qa[1]);
	qb[1] = nop_queue(b, &err);
	T_OK(err); /* a gave one back */

	/* shared memory: 8 MiB per client, 12 MiB for the user */
	T_OK(wd_domain_new(&da, a, "wdd0"));
	T_OK(wd_domain_new(&db, b, "wdd0"));
	ma = wd_mem_alloc(8 * MIB);
	mb = wd_mem_alloc(8 * MIB);
	mb2 = wd_mem_alloc(4 * MIB);
	T_ASSERT(ma && mb && mb2);
	T_OK(wd_share(da, ma, 8 * MIB, 0, &ia));
	T_EQ(wd_share(db, mb, 8 * MIB, 0, &ib), -EDQUOT); /* 16 > 12 for the user */
	T_OK(wd_share(db, mb, 4 * MIB, 0, &ib));
	T_EQ(wd_share(db, mb2, 4 * MIB, 0, &ib2), -EDQUOT);
	T_OK(wd_unshare(da, ia, 0, -1));
	T_OK(wd_share(db, mb2, 4 * MIB, 0, &ib2)); /* a's 8 MiB came back */
	T_OK(wd_share(da, ma, 4 * MIB, 0, &ia));    /* 12 in all */
	T_EQ(wd_share(da, ma + 4 * MIB, MIB, 0, &ia), -EDQUOT);

	/* a whole client going away gives everything back, its slot too */
	wd_queue_free(qa[0]);
	wd_domain_free(da);
	wd_ctx_free(a);
	a = t_wdd_ctx();
	qa[0] = nop_queue(a, &err);
	T_OK(err);
	T_OK(wd_domain_new(&da, a, "wdd0"));
	T_OK(wd_share(da, ma, 4 * MIB, 0, &ia));
	check_rows(b, 3);

	wd_queue_free(qa[0]);
	wd_queue_free(qb[0]);
	wd_queue_free(qb[1]);
	T_OK(wd_unshare(db, ib, 0, -1));
	T_OK(wd_unshare(db, ib2, 0, -1));
	wd_domain_free(da);
	wd_domain_free(db);
	wd_ctx_free(a);
	wd_ctx_free(b);
	wd_mem_free(ma, 8 * MIB);
	wd_mem_free(mb, 8 * MIB);
	wd_mem_free(mb2, 4 * MIB);
	t_wdd_cleanup(&w);
	return 0;
}
