/* A wd_poll callback may reap (and send) on its own queue: every completion
 * is still handed out once, none is made up from ring entries the device
 * never wrote, and the queue's count of requests in flight stays right.
 * On soft0 (the plain ring) and on wdd0, whose queue keeps the fallback's
 * copies (a second reap path); there a re-entrant reap must not look like
 * a broken device either.  It used to: the outer loop kept the count of
 * ready entries it read before the callback ran. */
#include "t_wdd.h"

#define N 8

struct tally {
	struct wd_queue *q;
	int seen[2 * N];
	int depth, sent, got;
};

static void count(struct tally *t, const struct wd_cpl *c)
{
	T_EQ(c->status, 0);
	T_ASSERT(c->tag < 2 * N);
	t->seen[c->tag]++;
	t->got++;
}

static void inner(void *arg, const struct wd_cpl *c)
{
	count(arg, c);
}

static void outer(void *arg, const struct wd_cpl *c)
{
	struct tally *t = arg;
	struct wd_req r;

	count(t, c);
	if (t->depth++)
		return;
	/* reap the rest from inside, then send one more from inside too */
	T_ASSERT(wd_poll(t->q, 2 * N, 2000, inner, t) >= 0);
	wd_prep_nop(&r, 0);
	r.tag = N + t->sent++;
	T_EQ(wd_send(t->q, &r, 1), 1);
}

static void run(struct wd_queue *q, const char *name)
{
	struct wd_queue_stats st = { .size = sizeof(st) };
	struct tally t = { .q = q };
	struct wd_req r[N];
	int i, rounds = 0;

	for (i = 0; i < N; i++) {
		wd_prep_nop(&r[i], 0);
		r[i].tag = (uint64_t)i;
	}
	T_EQ(wd_send(q, r, N), N);
	/* let them all complete, so the outer call sees N ready at once */
	usleep(100000);
	while (t.got < N + t.sent) {
		T_ASSERT(++rounds < 1000);
		T_ASSERT(wd_poll(q, 2 * N, 1000, outer, &t) >= 0);
	}
	for (i = 0; i < N + t.sent; i++)
		if (t.seen[i] != 1)
			T_FAIL("%s: tag %d handed out %d times", name, i, t.seen[i]);
	T_EQ(t.got, N + 1);
	T_EQ(wd_inflight(q), 0);
	T_EQ(wd_poll(q, 2 * N, 0, outer, &t), 0);
	T_OK(wd_queue_stats(q, &st));
	T_EQ(st.device_failures, 0);
	printf("%s: %d completions, each once\n", name, t.got);
}

int main(int argc, char **argv)
{
	struct t_wdd w = { 0 };
	struct wd_ctx *ctx;
	struct wd_queue *q;

	T_ASSERT(argc > 1);
	ctx = t_ctx(1, 0);
	q = t_queue(ctx, "nop", 32);
	run(q, "soft0");
	wd_queue_free(q);
	wd_ctx_free(ctx);

	t_wdd_start(&w, argv[1], NULL);
	ctx = t_wdd_ctx();
	q = t_wdd_queue(ctx, "nop", 0, NULL);
	run(q, "wdd0");
	wd_queue_free(q);
	wd_ctx_free(ctx);
	t_wdd_cleanup(&w);
	return 0;
}
