/* Many threads, each with its own queue on one context, all correct. */
#include <pthread.h>
#include "t_helpers.h"
#include <isa-l/crc.h>

#define NTHREADS 8
#define ITERS 3000

static struct wd_ctx *ctx;
static uint64_t base_seed;

static void *worker(void *arg)
{
	unsigned id = (unsigned)(uintptr_t)arg, i, k;
	uint64_t seed = base_seed + id;
	struct wd_queue *q = t_queue(ctx, "mover", 16);
	unsigned char src[4][512], dst[4][512];
	struct wd_req r[8];
	struct wd_cpl c[8];

	for (i = 0; i < ITERS; i++) {
		int got = 0;

		for (k = 0; k < 4; k++) {
			t_fill_random(src[k], sizeof(src[k]), &seed);
			wd_prep_copy(&r[2 * k], dst[k], src[k], sizeof(src[k]));
			r[2 * k].tag = 2 * k;
			wd_prep_crc32c(&r[2 * k + 1], src[k], sizeof(src[k]), 0);
			r[2 * k + 1].tag = 2 * k + 1;
		}
		T_EQ(wd_send(q, r, 8), 8);
		while (got < 8) {
			int n = wd_wait(q, c + got, 8 - (unsigned)got, 5000);

			T_ASSERT(n > 0);
			got += n;
		}
		for (k = 0; k < 8; k++) {
			T_EQ(c[k].status, 0);
			T_EQ(c[k].tag, k);
			if (k & 1)
				T_EQ(c[k].result, ~crc32_iscsi(src[k / 2], 512, ~0u));
			else
				T_ASSERT(!memcmp(src[k / 2], dst[k / 2], 512));
		}
	}
	wd_queue_free(q);
	return NULL;
}

int main(void)
{
	pthread_t th[NTHREADS];
	unsigned i;

	base_seed = t_seed();
	ctx = t_ctx(2, 0);
	for (i = 0; i < NTHREADS; i++)
		T_ASSERT(!pthread_create(&th[i], NULL, worker, (void *)(uintptr_t)i));
	for (i = 0; i < NTHREADS; i++)
		pthread_join(th[i], NULL);
	wd_ctx_free(ctx);
	return 0;
}
