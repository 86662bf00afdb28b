/* A batch is one doorbell: a sleeping engine is kicked once per batch. */
#include <unistd.h>
#include "core/internal.h"
#include "t_helpers.h"

int main(void)
{
	static unsigned char src[32][256], dst[32][256];
	struct wd_ctx *ctx = t_ctx(1, 1); /* engine sleeps after 1 us idle */
	struct wd_queue *q = t_queue(ctx, "mover", 64);
	struct wd_req r[32];
	struct wd_cpl c[32];
	uint64_t seed = t_seed();
	unsigned round, i, got;

	for (round = 0; round < 20; round++) {
		uint64_t kicks;

		/* let the engine fall asleep (it says so in sq_flags) */
		for (i = 0; i < 5000 && !(__atomic_load_n(&q->ring.ctl->sq_flags, __ATOMIC_ACQUIRE) &
					   WD_SQ_NEED_WAKEUP); i++)
			usleep(1000);
		T_ASSERT(i < 5000);
		for (i = 0; i < 32; i++) {
			t_fill_random(src[i], sizeof(src[i]), &seed);
			wd_prep_copy(&r[i], dst[i], src[i], sizeof(src[i]));
			r[i].tag = round * 100 + i;
		}
		kicks = q->kicks;
		T_EQ(wd_send(q, r, 32), 32);
		T_EQ(q->kicks - kicks, 1);
		for (got = 0; got < 32;) {
			int n = wd_wait(q, c + got, 32 - got, 5000);

			T_ASSERT(n > 0);
			got += (unsigned)n;
		}
		for (i = 0; i < 32; i++) {
			T_EQ(c[i].status, 0);
			T_EQ(c[i].tag, round * 100 + i);
			T_ASSERT(!memcmp(src[i], dst[i], sizeof(src[i])));
		}
	}
	wd_queue_free(q);
	wd_ctx_free(ctx);
	return 0;
}
