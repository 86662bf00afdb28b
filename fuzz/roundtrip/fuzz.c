/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: any input compressed through a queue (level and framing
 * from the first byte, output space too small on purpose every other time)
 * must decode, by WarpDrive and by zlib, to exactly the input.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <wd/comp.h>
#include <zlib.h>

static struct wd_ctx *ctx;
static struct wd_queue *q;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const int bits[] = { -15, 15, 31 };
	unsigned level, framing;
	size_t cap, clen, dlen;
	unsigned char *comp, *back;
	z_stream z = { 0 };
	int ret;

	if (!q) {
		struct wd_ctx_opts o = { .size = sizeof(o), .soft_threads = 1 };

		if (wd_ctx_new(&ctx, &o) || wd_queue_new(&q, ctx, "deflate", NULL))
			abort();
	}
	if (size < 1)
		return 0;
	/* every level: ISA-L's 0-3 and libdeflate's 4-12 */
	level = data[0] % (WD_COMP_LEVEL_MAX + 1);
	framing = (unsigned)(data[0] / (WD_COMP_LEVEL_MAX + 1)) % 3;
	data++;
	size--;
	cap = wd_comp_bound(size);
	comp = malloc(cap);
	back = malloc(size + 1);
	if (!comp || !back)
		abort();
	clen = (data[-1] & 0x80) ? size / 4 : cap;
	ret = wd_compress(q, data, size, comp, &clen, level, framing);
	if (ret == -ENOSPC) {
		if (clen > cap)
			abort();
		ret = wd_compress(q, data, size, comp, &clen, level, framing);
	}
	if (ret)
		abort();
	dlen = size + 1;
	if (wd_decompress(q, comp, clen, back, &dlen, framing) || dlen != size ||
	    memcmp(back, data, size))
		abort();
	if (inflateInit2(&z, bits[framing]) != Z_OK)
		abort();
	z.next_in = comp;
	z.avail_in = (uInt)clen;
	z.next_out = back;
	z.avail_out = (uInt)size + 1;
	if (inflate(&z, Z_FINISH) != Z_STREAM_END || z.total_out != size || memcmp(back, data, size))
		abort();
	inflateEnd(&z);
	free(comp);
	free(back);
	return 0;
}
