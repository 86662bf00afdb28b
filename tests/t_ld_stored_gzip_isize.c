/* SPDX-License-Identifier: MIT */
/*
 * Regression: at libdeflate's levels, incompressible data given just the
 * room of its stored form (libdeflate wants more slack and gives up) is
 * written as stored blocks by the engine itself; in gzip framing that
 * trailer lacked ISIZE, so the member was 4 bytes short and no gzip reader
 * took it.  Every libdeflate level and framing, checked with zlib.
 */
#include "t_sync.h"
#include "t_zlib.h"

int main(void)
{
	static const size_t lens[] = { 100, 4096, 70000 };
	struct wd_ctx *ctx = t_ctx(1, 0);
	struct wd_queue *q = t_sync_queue(ctx, "gzip", 0);
	uint64_t seed = t_seed();
	size_t max = 70000, i;
	uint8_t *src = malloc(max), *comp = malloc(wd_comp_bound(max)), *out = malloc(max);
	unsigned level, f;

	T_ASSERT(src && comp && out);
	t_fill_random(src, max, &seed);
	for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++)
		for (level = SOFT_LD_LEVEL_MIN; level <= WD_COMP_LEVEL_MAX; level++)
			for (f = WD_COMP_RAW; f <= WD_COMP_GZIP; f++) {
				size_t n = lens[i], blocks = (n + 65534) / 65535;
				size_t frame = f == WD_COMP_GZIP ? 18 : f == WD_COMP_ZLIB ? 6 : 0;
				size_t room = n + 5 * blocks + frame, clen = room, dlen = 0;

				T_OK(wd_compress(q, src, n, comp, &clen, level, f));
				T_EQ(clen, room);
				T_EQ(t_zinflate(f, comp, clen, out, n, &dlen), Z_STREAM_END);
				T_ASSERT(dlen == n && !memcmp(out, src, n));
			}
	wd_queue_free(q);
	wd_ctx_free(ctx);
	free(src);
	free(comp);
	free(out);
	printf("ok\n");
	return 0;
}
