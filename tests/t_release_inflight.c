/* Releasing a queue with requests in flight loses none: each completes or
 * is cancelled with -ECANCELED, exactly once; and freeing a queue with
 * requests still in flight is safe. */
#include <unistd.h>
#include "t_helpers.h"

#define N 1000

int main(void)
{
	static struct wd_req r[N];
	static struct wd_cpl c[N];
	static int seen[N];
	struct wd_ctx *ctx = t_ctx(1, 0);
	struct wd_queue *q = t_queue(ctx, "nop", 1024);
	int i, n, total = 0, done = 0, cancelled = 0;

	for (i = 0; i < N; i++) {
		wd_prep_nop(&r[i], 1000 * 1000); /* 1 ms each: 1 s of work */
		r[i].tag = (uint64_t)i;
	}
	T_EQ(wd_send(q, r, N), N);
	T_OK(wd_queue_stop(q));
	T_OK(wd_queue_stop(q)); /* idempotent */
	T_EQ(wd_send(q, r, 1), -ESHUTDOWN);
	while ((n = wd_recv(q, c, N)) > 0)
		for (i = 0; i < n; i++) {
			T_ASSERT(c[i].tag < N);
			T_EQ(seen[c[i].tag]++, 0);
			if (c[i].status == 0)
				done++;
			else if (c[i].status == -ECANCELED)
				cancelled++;
			else
				T_FAIL("status %d", c[i].status);
			total++;
		}
	T_EQ(n, 0);
	T_EQ(total, N);
	T_ASSERT(cancelled > 0);
	/* completed ones come first: the device ran a prefix of the queue */
	for (i = 0; i < done; i++)
		T_EQ(seen[i], 1);
	T_EQ(wd_inflight(q), 0);
	fprintf(stderr, "%d done, %d cancelled\n", done, cancelled);
	wd_queue_free(q);

	/* Stop lets go after the request running now, not after a whole pass
	 * of the engine (32 requests of 100 ms here). */
	q = t_queue(ctx, "nop", 64);
	for (i = 0; i < 32; i++)
		wd_prep_nop(&r[i], 100 * 1000 * 1000);
	T_EQ(wd_send(q, r, 32), 32);
	usleep(20000);
	double t0 = t_now();
	T_OK(wd_queue_stop(q));
	T_ASSERT(t_now() - t0 < 1.5);
	for (total = 0; (n = wd_recv(q, c, N)) > 0;)
		total += n;
	T_EQ(total, 32);
	wd_queue_free(q);

	/* Free straight away with work in flight (ASan checks the rest). */
	q = t_queue(ctx, "nop", 64);
	T_EQ(wd_send(q, r, 64), 64);
	wd_queue_free(q);
	wd_ctx_free(ctx);
	return 0;
}
