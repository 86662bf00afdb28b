/* Ring indices wrap over 2^32 without losing or reordering anything. */
#include "core/internal.h"
#include "t_helpers.h"

int main(void)
{
	struct wd_ctx *ctx = t_ctx(1, 0);
	struct wd_queue *q;
	struct wd_req r[8];
	struct wd_cpl c[8];
	uint64_t next_tag = 0, want = 0;
	unsigned i, total = 5000;

	/* Start 1000 requests before the wrap: the run crosses it. */
	wd__ctx_set_ring_start(ctx, 0xFFFFFFFFu - 1000);
	q = t_queue(ctx, "nop", 8);
	T_EQ(q->ring.ctl->sq_tail, 0xFFFFFFFFu - 1000);
	while (want < total) {
		int n, k;

		for (i = 0; i < 8 && next_tag + i < total; i++) {
			wd_prep_nop(&r[i], 0);
			r[i].tag = next_tag + i;
		}
		if (i) {
			n = wd_send(q, r, i);
			if (n == -EBUSY)
				n = 0;
			T_ASSERT(n >= 0);
			next_tag += (unsigned)n;
		}
		n = wd_wait(q, c, 8, 5000);
		T_ASSERT(n > 0);
		for (k = 0; k < n; k++) {
			T_EQ(c[k].status, 0);
			T_EQ(c[k].tag, want); /* one engine, one queue: in order */
			want++;
		}
	}
	/* The indices really did wrap. */
	T_ASSERT(q->sq_tail < 0x80000000u);
	T_EQ(wd_inflight(q), 0);
	wd_queue_free(q);
	wd_ctx_free(ctx);
	return 0;
}
