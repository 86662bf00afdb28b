/* The sleep/wake protocol loses no wake-up: with an engine that sleeps after
 * 1 us idle and a user that sleeps too, thousands of round trips at random
 * spacing all complete. */
#include <unistd.h>
#include "t_helpers.h"

int main(void)
{
	uint64_t seed = t_seed();
	struct wd_ctx *ctx = t_ctx(2, 1);
	struct wd_queue *q = t_queue(ctx, "nop", 4);
	struct wd_req r;
	struct wd_cpl c;
	int i;

	for (i = 0; i < 3000; i++) {
		unsigned gap = (unsigned)(t_rand(&seed) % 4);

		if (gap == 3)
			usleep((unsigned)(t_rand(&seed) % 200));
		wd_prep_nop(&r, gap == 2 ? 20000 : 0);
		r.tag = (uint64_t)i;
		T_EQ(wd_send(q, &r, 1), 1);
		T_EQ(wd_wait(q, &c, 1, 10000), 1);
		T_EQ(c.tag, i);
	}
	wd_queue_free(q);
	wd_ctx_free(ctx);
	return 0;
}
