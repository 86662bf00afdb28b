/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: data compressed through a queue must decode, by WarpDrive
 * and by stock zlib, to exactly what went in - at every level and framing,
 * one-shot (with too small an output space every other time) and as a
 * stream fed in pieces with sync and full flushes.
 *
 * The input is not the data itself but a short program that makes it:
 * literals, copies from earlier (matches at any distance in the window and
 * beyond), runs and incompressible noise, up to DATA_MAX bytes.  Raw bytes
 * alone keep the fuzzer at a few dozen bytes with no matches, since
 * coverage cannot see inside the compressors; a program reaches long
 * matches, block boundaries and stored blocks from a few input bytes.
 *
 * Input: [0] level and framing, [1] mode, [2] piece size, [3] output
 * chunk size, then the program.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <wd/comp.h>
#include <zlib.h>

#define DATA_MAX (256u << 10)
#define MODE_SMALL_OUT 1u       /* one-shot: first try a quarter of the input */
#define MODE_STREAM 2u          /* a compression stream instead */
#define PIECES_MAX 512          /* a stream's pieces, each perhaps flushed */
/* what a flushed piece may cost beyond its data: a block header with its
 * Huffman tables, and the empty block that aligns it */
#define FLUSH_COST 400

static struct wd_ctx *ctx;
static struct wd_queue *q;
static unsigned char *data, *comp, *back;
static size_t comp_cap;

int LLVMFuzzerTestOneInput(const uint8_t *in, size_t size);

static void setup(void)
{
	struct wd_ctx_opts o = { .size = sizeof(o), .soft_threads = 1 };

	if (wd_ctx_new(&ctx, &o) || wd_queue_new(&q, ctx, "deflate", NULL))
		abort();
	comp_cap = wd_comp_bound(DATA_MAX) + PIECES_MAX * FLUSH_COST;
	data = malloc(DATA_MAX);
	comp = malloc(comp_cap);
	back = malloc(DATA_MAX + 1);
	if (!data || !comp || !back)
		abort();
}

static uint32_t noise(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

/* Run the program in p[0..n) into data[]; the data's length. */
static size_t make_data(const uint8_t *p, size_t n)
{
	size_t len = 0, i = 0, k, want;
	uint32_t seed;

	while (i < n && len < DATA_MAX) {
		uint8_t op = p[i++];

		want = (size_t)(op >> 2) + 1;
		switch (op & 3) {
		case 0: /* literals from the program */
			want = want < n - i ? want : n - i;
			want = want < DATA_MAX - len ? want : DATA_MAX - len;
			memcpy(data + len, p + i, want);
			i += want;
			len += want;
			break;
		case 1: { /* a copy from earlier: distance up to 64 KiB, length up to 4 KiB */
			size_t dist, mlen;

			if (!len || n - i < 3)
				break;
			dist = ((size_t)p[i] | (size_t)p[i + 1] << 8) % len + 1;
			mlen = (want << 6 | (p[i + 2] & 63)) + 3;
			i += 3;
			for (k = 0; k < mlen && len < DATA_MAX; k++, len++)
				data[len] = data[len - dist];
			break;
		}
		case 2: /* a run of one byte */
			if (i == n)
				break;
			want *= 64;
			for (k = 0; k < want && len < DATA_MAX; k++)
				data[len++] = p[i];
			i++;
			break;
		default: /* noise: nothing to find */
			if (i == n)
				break;
			seed = 0x9e3779b9u ^ p[i++];
			want *= 256;
			for (k = 0; k < want && len < DATA_MAX; k++)
				data[len++] = (unsigned char)noise(&seed);
			break;
		}
	}
	return len;
}

/* Stock zlib must restore the input from comp[0..clen). */
static void check_zlib(size_t clen, size_t len, enum wd_comp_framing framing)
{
	static const int bits[] = { -15, 15, 31 };
	z_stream z = { 0 };

	if (inflateInit2(&z, bits[framing]) != Z_OK)
		abort();
	z.next_in = comp;
	z.avail_in = (uInt)clen;
	z.next_out = back;
	z.avail_out = (uInt)len + 1;
	if (inflate(&z, Z_FINISH) != Z_STREAM_END || z.total_out != len ||
	    z.avail_in || memcmp(back, data, len))
		abort();
	inflateEnd(&z);
}

/* ... and so must the engine. */
static void check_engine(size_t clen, size_t len, enum wd_comp_framing framing)
{
	size_t dlen = len + 1;

	if (wd_decompress(q, comp, clen, back, &dlen, framing) || dlen != len ||
	    memcmp(back, data, len))
		abort();
}

static size_t oneshot(size_t len, unsigned level, enum wd_comp_framing framing, int small)
{
	size_t clen = small ? len / 4 : comp_cap;
	int ret = wd_compress(q, data, len, comp, &clen, level, framing);

	if (ret == -ENOSPC) {
		/* the capacity that will succeed, and then it must */
		if (!small || clen > comp_cap)
			abort();
		ret = wd_compress(q, data, len, comp, &clen, level, framing);
	}
	if (ret)
		abort();
	return clen;
}

/* A compression stream: input in pieces of piece bytes, each with a flush
 * the program's bytes pick, output space given chunk bytes at a time. */
static size_t stream(size_t len, unsigned level, enum wd_comp_framing framing, size_t piece,
		     size_t chunk, const uint8_t *flushes, size_t nflushes)
{
	struct wd_comp_stream *s;
	size_t off = 0, clen = 0, used, made, n, k = 0;
	enum wd_comp_flush fl;
	int ret = 0;

	if (wd_comp_stream_new(&s, q, WD_COMPRESS, framing, level % (WD_COMP_STREAM_LEVEL_MAX + 1)))
		abort();
	while (ret != 1) {
		n = len - off < piece ? len - off : piece;
		if (off + n == len)
			fl = WD_COMP_FINISH;
		else
			fl = nflushes ? (enum wd_comp_flush)(flushes[k++ % nflushes] % 3) :
					WD_COMP_NO_FLUSH;
		/* the same call again until this piece is in and, if flushed, out */
		do {
			size_t room = comp_cap - clen < chunk ? comp_cap - clen : chunk;

			if (!room)
				abort(); /* more output than a generous bound */
			ret = wd_comp_stream_run(s, data + off, n, &used, comp + clen, room, &made, fl);
			if (ret < 0 || used > n || made > room)
				abort();
			off += used;
			n -= used;
			clen += made;
		} while (ret == 0 && (n || made == chunk));
		if (ret == 0 && fl == WD_COMP_FINISH && !n && made < chunk)
			abort(); /* finished input and output room, yet not complete */
	}
	if (off != len)
		abort();
	wd_comp_stream_free(s);
	return clen;
}

int LLVMFuzzerTestOneInput(const uint8_t *in, size_t size)
{
	unsigned level, mode;
	enum wd_comp_framing framing;
	size_t len, clen, piece, chunk;

	if (!q)
		setup();
	if (size < 4)
		return 0;
	/* every level: ISA-L's 0-3 and libdeflate's 4-12 */
	level = in[0] % (WD_COMP_LEVEL_MAX + 1);
	framing = (enum wd_comp_framing)((in[0] / (WD_COMP_LEVEL_MAX + 1)) % 3);
	mode = in[1];
	piece = ((size_t)in[2] + 1) * ((in[2] & 1) ? 1 : 997);
	chunk = ((size_t)in[3] + 1) * ((in[3] & 1) ? 1 : 509);
	len = make_data(in + 4, size - 4);
	if ((mode & MODE_STREAM) && len > piece * PIECES_MAX)
		len = piece * PIECES_MAX;
	if (mode & MODE_STREAM)
		clen = stream(len, level, framing, piece, chunk, in + 4, size - 4);
	else
		clen = oneshot(len, level, framing, mode & MODE_SMALL_OUT);
	check_engine(clen, len, framing);
	check_zlib(clen, len, framing);
	return 0;
}
