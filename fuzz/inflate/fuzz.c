/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: arbitrary bytes as compressed data, decoded through a queue
 * in every framing, one-shot and as a stream fed in small pieces.  Whatever
 * the input, no crash and no out-of-bounds access (ASan); and where both
 * WarpDrive and zlib accept the data, they must produce the same bytes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <wd/comp.h>
#include <zlib.h>

#define OUT_CAP (1u << 20)

static struct wd_ctx *ctx;
static struct wd_queue *q;
static unsigned char *out, *ref;

static void setup(void)
{
	struct wd_ctx_opts o = { .size = sizeof(o), .soft_threads = 1 };

	if (wd_ctx_new(&ctx, &o) || wd_queue_new(&q, ctx, "gzip", NULL))
		abort();
	out = malloc(OUT_CAP);
	ref = malloc(OUT_CAP);
	if (!out || !ref)
		abort();
}

static int zlib_decode(int framing, const uint8_t *d, size_t n, size_t *len)
{
	static const int bits[] = { -15, 15, 31 };
	z_stream z = { 0 };
	int ret;

	if (inflateInit2(&z, bits[framing]) != Z_OK)
		abort();
	z.next_in = (Bytef *)(uintptr_t)d;
	z.avail_in = (uInt)n;
	z.next_out = ref;
	z.avail_out = OUT_CAP;
	ret = inflate(&z, Z_FINISH);
	*len = z.total_out;
	inflateEnd(&z);
	return ret == Z_STREAM_END;
}

static void stream_decode(int framing, const uint8_t *d, size_t n, size_t piece)
{
	struct wd_comp_stream *s;
	size_t pos = 0, opos = 0, used, made;
	int ret = 0;

	if (wd_comp_stream_new(&s, q, WD_DECOMPRESS, framing, 0))
		abort();
	while (ret == 0 && opos < OUT_CAP) {
		size_t k = n - pos < piece ? n - pos : piece;

		ret = wd_comp_stream_run(s, d + pos, k, &used, out + opos,
					 OUT_CAP - opos < 977 ? OUT_CAP - opos : 977, &made,
					 pos + k == n ? WD_COMP_FINISH : WD_COMP_NO_FLUSH);
		if (ret >= 0 && !used && !made && pos + k != n)
			break; /* no progress possible */
		pos += used;
		opos += made;
	}
	wd_comp_stream_free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int framing;

	if (!q)
		setup();
	if (size < 1)
		return 0;
	for (framing = WD_COMP_RAW; framing <= WD_COMP_GZIP; framing++) {
		struct wd_req r;
		struct wd_cpl c;
		size_t zlen;
		int zok;

		wd_prep_decompress(&r, out, OUT_CAP, data + 1, (uint32_t)(size - 1), framing);
		if (wd_send(q, &r, 1) != 1 || wd_wait(q, &c, 1, -1) != 1)
			abort();
		zok = zlib_decode(framing, data + 1, size - 1, &zlen);
		if (c.status == 0 && zok && framing != WD_COMP_RAW &&
		    (c.result != zlen || memcmp(out, ref, zlen)))
			abort(); /* both accept the stream but disagree on its bytes */
		stream_decode(framing, data + 1, size - 1, 1 + data[0] % 64);
	}
	return 0;
}
