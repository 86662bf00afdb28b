/* A full queue answers -EBUSY at once, never blocks, and drops nothing. */
#include "t_helpers.h"

int main(void)
{
	struct wd_ctx *ctx = t_ctx(1, 0);
	struct wd_queue *q = t_queue(ctx, "nop", 8);
	struct wd_req r[16];
	struct wd_cpl c[16];
	int seen[16] = { 0 };
	unsigned i, got = 0;
	double t0;

	for (i = 0; i < 16; i++) {
		wd_prep_nop(&r[i], 20 * 1000 * 1000); /* 20 ms each: the queue stays full */
		r[i].tag = i;
	}
	T_EQ(wd_send(q, r, 16), 8);   /* partial: only depth fits */
	t0 = t_now();
	T_EQ(wd_send(q, r + 8, 1), -EBUSY);
	T_EQ(wd_send(q, r + 8, 8), -EBUSY);
	T_ASSERT(t_now() - t0 < 0.5); /* did not wait for the device */
	T_EQ(wd_inflight(q), 8);

	/* Drain and refill until every one of the 16 ran exactly once. */
	unsigned sent = 8;
	while (got < 16) {
		int n = wd_wait(q, c, 16, 5000);

		T_ASSERT(n > 0);
		for (int k = 0; k < n; k++) {
			T_EQ(c[k].status, 0);
			T_ASSERT(c[k].tag < 16);
			T_EQ(seen[c[k].tag]++, 0);
			got++;
		}
		if (sent < 16) {
			int m = wd_send(q, r + sent, 16 - sent);

			T_ASSERT(m > 0);
			sent += (unsigned)m;
		}
	}
	T_EQ(wd_inflight(q), 0);
	T_EQ(wd_wait(q, c, 1, 10), -EAGAIN);
	wd_queue_free(q);
	wd_ctx_free(ctx);
	return 0;
}
