/*
 * One engine thread, two clients: one keeps 64 large compressions queued,
 * the other sends a no-op.  The no-op is served after at most a couple of
 * the large requests (the one under way, one more per round), not after the
 * busy client's backlog: the engine goes round the queues.  The check
 * counts requests, not time, so a slow or busy machine does not change it.
 */
#include "t_wdd.h"
#include "t_zlib.h"

#define BIG (1u << 20)
#define NBIG 64

int main(int argc, char **argv)
{
	static const char *const opts[] = { "-t", "1", NULL };
	struct t_wdd w = { 0 };
	struct wd_ctx *busy_ctx, *small_ctx;
	struct wd_queue *busy, *small;
	struct wd_req r[NBIG];
	struct wd_cpl c[NBIG];
	unsigned char *src = malloc(BIG), *dst = malloc((size_t)NBIG * wd_comp_bound(BIG));
	uint64_t seed = t_seed();
	unsigned round, worst = 0, best = NBIG;
	int i, n, ahead;

	if (argc < 2)
		return T_SKIP;
	t_wdd_start(&w, argv[1], opts); /* "-t 1" comes after the helper's "-t 2" */
	busy_ctx = t_wdd_ctx();
	small_ctx = t_wdd_ctx();
	{
		struct wd_queue_opts o = { .size = sizeof(o), .depth = NBIG, .device = "wdd0" };

		T_OK(wd_queue_new(&busy, busy_ctx, "gzip", &o));
	}
	small = t_wdd_queue(small_ctx, "nop", 0, NULL);
	t_fill_text(src, BIG, &seed);
	for (round = 0; round < 5; round++) {
		for (i = 0; i < NBIG; i++)
			wd_prep_compress(&r[i], dst + (size_t)i * wd_comp_bound(BIG),
					 (uint32_t)wd_comp_bound(BIG), src, BIG, 1, WD_COMP_GZIP);
		T_EQ(wd_send(busy, r, NBIG), NBIG);
		usleep(1000); /* the engine is into the backlog */
		wd_prep_nop(&r[0], 0);
		T_EQ(t_run(small, &r[0]).status, 0);
		/* how many large ones were served before the no-op came back */
		ahead = wd_recv(busy, c, NBIG);
		T_ASSERT(ahead >= 0);
		if ((unsigned)ahead > worst)
			worst = (unsigned)ahead;
		if ((unsigned)ahead < best)
			best = (unsigned)ahead;
		for (n = ahead; n < NBIG;) {
			i = wd_wait(busy, c, NBIG, -1);
			T_ASSERT(i > 0);
			n += i;
		}
	}
	printf("large requests served ahead of the no-op: %u to %u of %u\n", best, worst, NBIG);
	/* the count may include some served after the no-op, before we looked
	 * (a descheduled test thread): judge by the best round; a backlog
	 * served first would show 32 or more in every round */
	T_ASSERT(best <= 4);
	T_ASSERT(worst < NBIG / 2);
	wd_queue_free(busy);
	wd_queue_free(small);
	wd_ctx_free(busy_ctx);
	wd_ctx_free(small_ctx);
	t_wdd_cleanup(&w);
	free(src);
	free(dst);
	return 0;
}
