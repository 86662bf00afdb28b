/* Many compression requests in flight at once on one queue (matched by tag),
 * and several threads each driving its own queue at the same time. */
#include <pthread.h>
#include "t_zlib.h"

#define PIECES 48
#define PIECE (40u << 10)
#define NTHREADS 4

static struct wd_ctx *ctx;
static unsigned char *input;

static void *worker(void *arg)
{
	unsigned id = (unsigned)(uintptr_t)arg, i, got = 0, sent = 0, round;
	struct wd_queue *q = t_queue(ctx, "deflate", 16);
	size_t cap = wd_comp_bound(PIECE);
	unsigned char *comp = malloc(cap * PIECES), *out = malloc(PIECE);
	size_t clen[PIECES];
	struct wd_req r[PIECES];
	struct wd_cpl c[PIECES];
	int seen[PIECES] = { 0 };

	T_ASSERT(comp && out);
	for (round = 0; round < 3; round++) {
		unsigned f = (id + round) % 3;

		for (i = 0; i < PIECES; i++) {
			wd_prep_compress(&r[i], comp + i * cap, (uint32_t)cap, input + i * PIECE, PIECE,
					 (id + i) % 4, f);
			r[i].tag = 1000 * id + i;
			seen[i] = 0;
		}
		got = sent = 0;
		while (got < PIECES) {
			if (sent < PIECES) {
				int n = wd_send(q, r + sent, PIECES - sent); /* depth 16: partial */

				T_ASSERT(n > 0 || n == -EBUSY);
				if (n > 0)
					sent += (unsigned)n;
			}
			int n = wd_wait(q, c, PIECES, 10000);

			T_ASSERT(n > 0);
			for (int k = 0; k < n; k++) {
				unsigned idx = (unsigned)(c[k].tag - 1000 * id);

				T_ASSERT(idx < PIECES);
				T_EQ(seen[idx]++, 0);
				T_EQ(c[k].status, 0);
				T_EQ(wd_cpl_checksum(&c[k]), t_zcheck(f, input + idx * PIECE, PIECE));
				clen[idx] = c[k].result;
				got++;
			}
		}
		for (i = 0; i < PIECES; i++) {
			size_t dlen;

			T_EQ(t_zinflate(f, comp + i * cap, clen[i], out, PIECE, &dlen), Z_STREAM_END);
			T_EQ(dlen, PIECE);
			T_ASSERT(!memcmp(out, input + i * PIECE, PIECE));
		}
	}
	free(comp);
	free(out);
	wd_queue_free(q);
	return NULL;
}

int main(void)
{
	uint64_t seed = t_seed();
	pthread_t th[NTHREADS];
	unsigned i;

	input = malloc((size_t)PIECES * PIECE);
	T_ASSERT(input);
	t_fill_text(input, (size_t)PIECES * PIECE, &seed);
	ctx = t_ctx(2, 0);
	for (i = 0; i < NTHREADS; i++)
		T_ASSERT(!pthread_create(&th[i], NULL, worker, (void *)(uintptr_t)i));
	for (i = 0; i < NTHREADS; i++)
		pthread_join(th[i], NULL);
	wd_ctx_free(ctx);
	free(input);
	return 0;
}
