/* wd_wait honours its timeout and never waits on an empty queue. */
#include "t_helpers.h"

int main(void)
{
	struct wd_ctx *ctx = t_ctx(1, 0);
	struct wd_queue *q = t_queue(ctx, "nop", 4);
	struct wd_req r;
	struct wd_cpl c;
	double t0, dt;

	/* Nothing in flight: no wait at all. */
	T_EQ(wd_wait(q, &c, 1, -1), -EAGAIN);
	T_EQ(wd_wait(q, &c, 1, 1000), -EAGAIN);

	wd_prep_nop(&r, 300 * 1000 * 1000); /* the device takes 300 ms */
	r.tag = 42;
	T_EQ(wd_send(q, &r, 1), 1);
	T_EQ(wd_recv(q, &c, 1), 0);
	T_EQ(wd_wait(q, &c, 1, 0), -ETIMEDOUT);
	t0 = t_now();
	T_EQ(wd_wait(q, &c, 1, 30), -ETIMEDOUT);
	dt = t_now() - t0;
	T_ASSERT(dt >= 0.029); /* a lower bound: it did wait */
	T_EQ(wd_inflight(q), 1);
	/* No limit: it comes. */
	T_EQ(wd_wait(q, &c, 1, -1), 1);
	T_EQ(c.tag, 42);
	T_EQ(c.status, 0);
	T_EQ(wd_inflight(q), 0);
	wd_queue_free(q);
	wd_ctx_free(ctx);
	return 0;
}
