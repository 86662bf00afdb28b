/* A corrupted ring index kills that queue with -EIO (no crash, no hang),
 * leaves other queues alone, and stopping it accounts for every request. */
#include "core/internal.h"
#include "t_helpers.h"
#include <unistd.h>

static void run_case(struct wd_ctx *ctx, struct wd_queue *other, int which)
{
	struct wd_queue *q = t_queue(ctx, "nop", 16);
	struct wd_req r[2];
	struct wd_cpl c[16];
	int seen[2] = { 0 }, n, i, total = 0;
	const int want = which == 0 ? 1 : 2;

	wd_prep_nop(&r[0], 100 * 1000 * 1000); /* keeps the engine busy 100 ms */
	r[0].tag = 0;
	wd_prep_nop(&r[1], 0);
	r[1].tag = 1;
	T_EQ(wd_send(q, r, 1), 1);
	usleep(10000);
	/* Corrupt an index the device reads on its next round. */
	if (which == 0) {
		__atomic_store_n(&q->ring.ctl->sq_tail, q->sq_tail + 100000, __ATOMIC_SEQ_CST);
	} else {
		__atomic_store_n(&q->ring.ctl->cq_head, q->cq_head + 100000, __ATOMIC_SEQ_CST);
		T_EQ(wd_send(q, &r[1], 1), 1);
	}
	q->ops->kick(q);
	for (i = 0; i < 5000 && !__atomic_load_n(&q->ring.ctl->dev_status, __ATOMIC_ACQUIRE); i++)
		usleep(1000);
	T_ASSERT(i < 5000);

	/* The queue is dead: clear errors, no hang. */
	T_EQ(wd_send(q, &r[1], 1), -EIO);
	/* a poller learns it too, once what was posted is reaped (within a
	 * bounded number of empty polls) */
	for (i = 0; i < 100000 && (n = wd_recv(q, c, 1)) >= 0; i++)
		if (n == 1) {
			T_EQ(c[0].tag, 0);
			seen[0]++;
			total++;
		}
	if (wd_inflight(q))
		T_EQ(n, -EIO);
	n = wd_wait(q, c, 16, 5000);
	T_ASSERT(n == -EIO || n == -EAGAIN || n == 1);
	if (n == 1) {
		/* a completion the device posted before it noticed */
		T_EQ(c[0].tag, 0);
		seen[0]++;
		total++;
	}

	/* Other queues are unaffected. */
	wd_prep_nop(&r[0], 0);
	T_EQ(t_run(other, &r[0]).status, 0);

	/* Stopping accounts for every request: done or cancelled, once. */
	T_OK(wd_queue_stop(q));
	while ((n = wd_recv(q, c, 16)) > 0)
		for (i = 0; i < n; i++) {
			T_ASSERT(c[i].tag < 2);
			seen[c[i].tag]++;
			T_ASSERT(c[i].status == 0 || c[i].status == -ECANCELED);
			total++;
		}
	T_EQ(total, want);
	for (i = 0; i < want; i++)
		T_EQ(seen[i], 1);
	T_EQ(wd_inflight(q), 0);
	T_EQ(wd_send(q, r, 1), -EIO); /* the reason it died survives the stop */
	wd_queue_free(q);
}

int main(void)
{
	struct wd_ctx *ctx = t_ctx(1, 0);
	struct wd_queue *other = t_queue(ctx, "nop", 4);

	run_case(ctx, other, 0);
	run_case(ctx, other, 1);
	wd_queue_free(other);
	wd_ctx_free(ctx);
	return 0;
}
