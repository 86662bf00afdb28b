/* SPDX-License-Identifier: MIT */
/*
 * The zlib layer against stock zlib, both ways, byte for byte: what the
 * program's own deflate (the layer, when preloaded) writes is inflated by a
 * private stock zlib, and what stock zlib writes is inflated by the
 * program's own inflate, over framings x flush schedules x input chunks x
 * output chunks x levels x data.  The full product is too big: every value
 * of every dimension is covered (the first combinations walk all of them
 * at once), then a fixed-seed random sample of combinations.  Every call is
 * checked against zlib's contract by the drivers of zl_common.c.
 *
 * usage: t_zlib_matrix CORPUS_DIR layer|stock [COMBINATIONS]
 *   layer: libwd-zlib.so must be preloaded, and deflate.wd and inflate.wd
 *          must be > 0 at the end (the work went through WarpDrive);
 *   stock: nothing preloaded (the same checks, stock against stock).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "zl.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))
/* small chunks make one call per byte: bound the data so that a stream
 * takes at most this many calls per chunk size */
#define CALLS_PER_STREAM 3000
#define JUNK "JUNK!"
#define JUNK_LEN 5

static const int enc_bits[] = { -15, -14, -13, -12, -11, -10, -9, 9, 10, 11, 12,
				13, 14, 15, 25, 26, 27, 28, 29, 30, 31 };
static const int levels[] = { -1, 0, 1, 6, 9 };
static const size_t in_chunks[] = { 1, 97, 1000, 4096, 65536, 0 /* whole */ };
static const size_t out_chunks[] = { 1, 97, 65536, 0 /* whole */ };
static const int strategies[] = { Z_DEFAULT_STRATEGY, Z_FILTERED, Z_HUFFMAN_ONLY, Z_RLE,
				  Z_FIXED };
static const int memlevels[] = { 8, 1, 9 };
enum data_kind { D_CORPUS, D_RANDOM, D_ZEROS, D_EMPTY, D_TEXT, D_COUNT };
static const char *const data_names[] = { "corpus", "random", "zeros", "empty", "text" };
/* the inflater's windowBits for a stream deflated with bits */
enum dec_kind { DEC_SAME, DEC_WIDE, DEC_AUTO, DEC_ZERO, DEC_COUNT };

struct combo {
	unsigned bits, level, in, out, flush, data, dec, din, dout, dflush, strat, mem;
};

static int dec_bits(int bits, enum dec_kind d)
{
	switch (d) {
	case DEC_WIDE:
		return bits < 0 ? -15 : bits >= 16 ? 31 : 15;
	case DEC_AUTO:
		return bits < 0 ? -15 : 47;
	case DEC_ZERO:
		return bits > 0 && bits < 16 ? 0 : bits;
	default:
		return bits;
	}
}

static size_t eff(size_t chunk)
{
	return chunk ? chunk : (size_t)1 << 30;
}

/* The data of one combination: owned by the caller. */
static unsigned char *make_data(const char *corpus, const struct combo *c, unsigned n,
				uint64_t *rs, size_t *len, char *desc, size_t dlen)
{
	size_t lim = CALLS_PER_STREAM * eff(in_chunks[c->in]);
	unsigned char *p;
	const char *name;

	if (lim > CALLS_PER_STREAM * eff(out_chunks[c->out]))
		lim = CALLS_PER_STREAM * eff(out_chunks[c->out]);
	if (lim > CALLS_PER_STREAM * eff(in_chunks[c->din]))
		lim = CALLS_PER_STREAM * eff(in_chunks[c->din]);
	if (lim > CALLS_PER_STREAM * eff(out_chunks[c->dout]))
		lim = CALLS_PER_STREAM * eff(out_chunks[c->dout]);
	switch (c->data) {
	case D_CORPUS: {
		size_t flen, off = 0;
		unsigned char *f = zl_corpus_file(corpus, n, &flen, &name);

		if (flen > lim) {
			off = zl_rand(rs) % (flen - lim);
			flen = lim;
		}
		p = zl_xmalloc(flen);
		memcpy(p, f + off, flen);
		free(f);
		*len = flen;
		snprintf(desc, dlen, "%s@%zu+%zu", name, off, flen);
		return p;
	}
	case D_EMPTY:
		*len = 0;
		break;
	case D_ZEROS:
		*len = 1 + zl_rand(rs) % (1u << 20);
		break;
	default:
		*len = 512 + zl_rand(rs) % 300000;
		break;
	}
	if (*len > lim)
		*len = lim;
	p = zl_xmalloc(*len);
	if (c->data == D_RANDOM)
		zl_fill_random(p, *len, rs);
	else if (c->data == D_TEXT)
		zl_fill_text(p, *len, rs);
	else
		memset(p, 0, *len);
	snprintf(desc, dlen, "%s %zu", data_names[c->data], *len);
	return p;
}

/* Deflate with one API, inflate with the other, expect the data back whole,
 * the stream's exact length consumed (trailing bytes left alone) and the
 * check value of the framing. */
static void cross(const struct zl_api *enc, const struct zl_api *dec, const struct combo *c,
		  const unsigned char *data, size_t len, const char *what, uint64_t seed)
{
	struct zl_run run = {
		.level = levels[c->level], .bits = enc_bits[c->bits],
		.memlevel = memlevels[c->mem], .strategy = strategies[c->strat],
		.flush = c->flush, .in_chunk = in_chunks[c->in], .out_chunk = out_chunks[c->out],
		.seed = seed,
	};
	struct zl_run drun = {
		.flush = c->dflush, .in_chunk = in_chunks[c->din], .out_chunk = out_chunks[c->dout],
		.seed = seed * 3,
	};
	int dbits = dec_bits(run.bits, c->dec);
	/* a flush per input byte costs zlib up to 11 bytes (stored block and
	 * marker), the layer about 31 (a block with its own code tables): no bound
	 * holds for flushed streams, the room is generous */
	size_t cap = 40 * len + 4096, out_cap = len + 64;
	unsigned char *comp = zl_xmalloc(cap + JUNK_LEN), *out = zl_xmalloc(out_cap);
	struct zl_ires res;
	long clen;

	clen = zl_deflate_drive(enc, &run, data, len, comp, cap, NULL, 0, what);
	if (clen < 0)
		goto out;
	memcpy(comp + clen, JUNK, JUNK_LEN);
	if (zl_inflate_drive(dec, dbits, comp, (size_t)clen + JUNK_LEN, &drun, data, len, out,
			     out_cap, NULL, 0, &res, what) < 0)
		goto out;
	if (!ZL_CHECK(what, res.end == ZL_END_STREAM,
		      "%s inflate(bits %d) of %s's %ld bytes ended with %s (rc %d) after %zu of "
		      "%zu bytes", dec->name, dbits, enc->name, clen, zl_end_names[res.end], res.rc,
		      res.total_out, len))
		goto out;
	ZL_CHECK(what, res.total_out == len && res.total_in == (size_t)clen,
		 "%s inflate: total_out %zu (want %zu), total_in %zu (want %ld: the stream's own "
		 "length, the trailing bytes left)", dec->name, res.total_out, len, res.total_in,
		 clen);
	if (zl_kind_of(dbits, comp, (size_t)clen) != ZL_RAW)
		ZL_CHECK(what, res.adler == zl_check_value(zl_kind_of(dbits, comp, (size_t)clen),
							   data, len),
			 "%s inflate: final adler %#lx is not the data's check value", dec->name,
			 res.adler);
out:
	free(comp);
	free(out);
}

static void describe(char *buf, size_t len, unsigned n, const struct combo *c,
		     const char *data)
{
	snprintf(buf, len,
		 "#%u deflate bits %d level %d strategy %d memLevel %d flush %s in %zu out %zu | "
		 "inflate bits %d flush %s in %zu out %zu | %s",
		 n, enc_bits[c->bits], levels[c->level], strategies[c->strat], memlevels[c->mem],
		 zl_flush_names[c->flush], in_chunks[c->in], out_chunks[c->out],
		 dec_bits(enc_bits[c->bits], c->dec), zl_flush_names[c->dflush], in_chunks[c->din],
		 out_chunks[c->dout], data);
}

int main(int argc, char **argv)
{
	const char *corpus = argc > 1 ? argv[1] : NULL;
	int layer = zl_mode(argc > 2 ? argv[2] : NULL);
	unsigned samples = argc > 3 ? (unsigned)strtoul(argv[3], NULL, 0) : 400;
	uint64_t rs = zl_seed();
	unsigned walk = N(enc_bits), n;

	if (!corpus) {
		fprintf(stderr, "usage: t_zlib_matrix CORPUS_DIR layer|stock [COMBINATIONS]\n");
		return 2;
	}
	/* this test holds the layer to strm->adler after every call */
	zl_running_adler_strict = 1;
	for (n = 0; n < walk + samples; n++) {
		struct combo c;
		unsigned char *data;
		size_t len;
		char dd[128], what[512];
		uint64_t seed = zl_rand(&rs);

		if (n < walk) { /* every value of every dimension */
			c = (struct combo){ n % N(enc_bits), n % N(levels), n % N(in_chunks),
					    n % N(out_chunks), n % ZL_F_COUNT, n % D_COUNT,
					    n % DEC_COUNT, (n + 1) % N(in_chunks),
					    (n + 1) % N(out_chunks), (n + 2) % ZL_F_COUNT,
					    n % N(strategies), n % N(memlevels) };
		} else {
			/* half the sample at the largest window of each framing:
			 * smaller windows are handed to zlib, the largest run on
			 * WarpDrive, which is what is under test */
			unsigned wide = zl_rand(&rs) % 6;

			c = (struct combo){ wide < 3 ? (unsigned[]){ 0, 13, 20 }[wide]
						     : zl_rand(&rs) % N(enc_bits),
					    zl_rand(&rs) % N(levels),
					    zl_rand(&rs) % N(in_chunks), zl_rand(&rs) % N(out_chunks),
					    zl_rand(&rs) % ZL_F_COUNT, zl_rand(&rs) % D_COUNT,
					    zl_rand(&rs) % DEC_COUNT, zl_rand(&rs) % N(in_chunks),
					    zl_rand(&rs) % N(out_chunks), zl_rand(&rs) % ZL_F_COUNT,
					    /* mostly the default strategy and memLevel */
					    zl_rand(&rs) % 3 ? 0 : zl_rand(&rs) % N(strategies),
					    zl_rand(&rs) % 3 ? 0 : zl_rand(&rs) % N(memlevels) };
		}
		data = make_data(corpus, &c, n, &rs, &len, dd, sizeof(dd));
		/* ZL_ONLY=N or A-B: run combination N alone, or A to B (their data
		 * and seeds as in a whole run), e.g. with ZL_TRACE=1 */
		if (getenv("ZL_ONLY")) {
			char *end;
			unsigned long a = strtoul(getenv("ZL_ONLY"), &end, 0);
			unsigned long b = *end == '-' ? strtoul(end + 1, NULL, 0) : a;

			if (n < a || n > b) {
				free(data);
				continue;
			}
		}
		describe(what, sizeof(what), n, &c, dd);
		if (getenv("ZL_VERBOSE"))
			fprintf(stderr, "%s\n", what);
		cross(&zl_plain, &zl_ref, &c, data, len, what, seed);
		cross(&zl_ref, &zl_plain, &c, data, len, what, seed);
		/* the layer with itself now and then */
		if (n % 4 == 0)
			cross(&zl_plain, &zl_plain, &c, data, len, what, seed);
		free(data);
	}
	fprintf(stderr, "%u combinations (%u walking every value, %u sampled)\n", n, walk,
		samples);
	return zl_finish("t_zlib_matrix", layer, 1, 1);
}
