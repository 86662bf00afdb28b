/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: the input is a program of zlib calls (init with a framing,
 * level, windowBits, memLevel and strategy; deflate/inflate with chunk
 * sizes and flush modes; reset, reset2, params, setDictionary, end; the
 * one-shot calls), run twice: through the process's own zlib calls (the
 * layer, linked in or preloaded) and through a private stock zlib
 * (dlmopen, tests/zlib/zl_common.c).  Both must make the same decisions:
 *  - inflate: the same accept/reject (stream end, data error, need a
 *    dictionary, want more input), and the same bytes, at the end of every
 *    step; one's output a prefix of the other's while both want more;
 *  - deflate: every finished stream inflates (stock) back to its input,
 *    given the dictionaries only when stock's own stream asks for them
 *    (FDICT; a zlib header as stock's); errors for bad calls where stock
 *    has them;
 *  - setDictionary (any number of calls before data, empty ones too) and
 *    reset codes as stock's.
 * Inflate reads the fuzz input's own bytes or a stream one of the
 * deflaters finished, sometimes with a byte changed.
 * ZL_FUZZ_REQUIRE_LAYER=1: abort at start unless the layer is there.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "zl.h"

#define VER ZLIB_VERSION
#define SZ ((int)sizeof(z_stream))
#define CAP (1u << 20)
/* what one step may generate or inflate: small keeps a run fast */
#define STEP_MAX (64u << 10)

static const struct zl_api *side[2]; /* 0: the layer (plain calls), 1: stock */
static int trace;

struct prog {
	const uint8_t *p;
	size_t n;
};

static unsigned take(struct prog *g)
{
	if (!g->n)
		return 0;
	g->n--;
	return *g->p++;
}

static unsigned take16(struct prog *g)
{
	unsigned lo = take(g);

	return lo | take(g) << 8;
}

/* bytes from the program itself (up to len; fewer when it runs out) */
static size_t take_bytes(struct prog *g, unsigned char *dst, size_t len)
{
	if (len > g->n)
		len = g->n;
	memcpy(dst, g->p, len);
	g->p += len;
	g->n -= len;
	return len;
}

#define FAIL(...)                                                                         \
	do {                                                                              \
		fprintf(stderr, "zlib_diff: " __VA_ARGS__);                               \
		fputc('\n', stderr);                                                      \
		abort();                                                                  \
	} while (0)

/* ZL_FUZZ_KNOWN=tag,tag...: differences already reported, let through so
 * that a run can look for others (the default lets nothing through) */
static int known(const char *tag)
{
	const char *k = getenv("ZL_FUZZ_KNOWN"), *p;
	size_t n = strlen(tag);

	for (p = k ? strstr(k, tag) : NULL; p; p = strstr(p + 1, tag))
		if ((p == k || p[-1] == ',') && (p[n] == ',' || !p[n]))
			return 1;
	return 0;
}

#define DIFF(tag, ...)                                                                    \
	do {                                                                              \
		if (!known(tag))                                                          \
			FAIL("[" tag "] " __VA_ARGS__);                                   \
	} while (0)

static int is_err(int rc)
{
	return rc == Z_STREAM_ERROR || rc == Z_DATA_ERROR || rc == Z_MEM_ERROR ||
	       rc == Z_VERSION_ERROR;
}

struct dstate {
	z_stream z[2];
	int live, bits, started, finished;
	unsigned char *in;	/* this stream's input so far */
	size_t in_len;
	unsigned char *out[2];	/* each side's output so far */
	size_t out_len[2];
	unsigned char dict[4096];	/* the dictionaries given, one after another */
	size_t dict_len;
};

struct istate {
	z_stream z[2];
	int live, bits, rc[2], ended;
	unsigned char *out[2];
	size_t out_len[2];
};

static struct dstate D;
static struct istate I;
static unsigned char *last_stream, *src, *scratch, *oneshot[2];
static size_t last_len;
static int last_bits;

static const int dbits_table[] = { -15, -14, -13, -12, -11, -10, -9, 9, 10, 11, 12, 13, 14,
				   15, 25, 26, 27, 28, 29, 30, 31, 8, -8, 24, 16, 7 };
static const int ibits_table[] = { -15, -9, -12, 9, 12, 15, 25, 31, 0, 40, 47, 8, -8, 16, 7, 48 };

static void d_end(void)
{
	if (!D.live)
		return;
	side[0]->deflateEnd(&D.z[0]);
	side[1]->deflateEnd(&D.z[1]);
	D.live = 0;
}

static void i_end(void)
{
	if (!I.live)
		return;
	side[0]->inflateEnd(&I.z[0]);
	side[1]->inflateEnd(&I.z[1]);
	I.live = 0;
}

static void d_restart(void)
{
	D.started = D.finished = 0;
	D.in_len = D.out_len[0] = D.out_len[1] = 0;
	D.dict_len = 0;
}

/* A zlib stream's FDICT and dictid as in stock's stream; whether it has one. */
static int d_header_dict(void)
{
	int fdict;

	if (D.bits < 8 || D.bits > 15 || D.out_len[0] < 2 || D.out_len[1] < 2)
		return D.bits < 0 && D.dict_len;
	fdict = D.out[1][1] & 0x20;
	if ((D.out[0][1] & 0x20) != fdict ||
	    (fdict && (D.out_len[0] < 6 || memcmp(D.out[0] + 2, D.out[1] + 2, 4))))
		DIFF("dheader", "zlib header %02x %02x (%zu dictionary bytes), stock %02x %02x",
		     D.out[0][0], D.out[0][1], D.dict_len, D.out[1][0], D.out[1][1]);
	return fdict;
}

/* A finished deflate stream of the layer must inflate (stock) to its input,
 * with the dictionary only where stock's stream needs one. */
static void d_verify(void)
{
	z_stream r;
	int rc, dict = d_header_dict();

	memset(&r, 0, sizeof(r));
	if (zl_ref.inflateInit2_(&r, D.bits == 8 ? 9 : D.bits, VER, SZ) != Z_OK)
		FAIL("stock inflateInit2(%d)", D.bits);
	if (dict && D.bits < 0)
		zl_ref.inflateSetDictionary(&r, D.dict, (uInt)D.dict_len);
	r.next_in = D.out[0], r.avail_in = (uInt)D.out_len[0];
	r.next_out = scratch, r.avail_out = CAP;
	rc = zl_ref.inflate(&r, Z_FINISH);
	if (rc == Z_NEED_DICT && dict) {
		zl_ref.inflateSetDictionary(&r, D.dict, (uInt)D.dict_len);
		rc = zl_ref.inflate(&r, Z_FINISH);
	}
	if (rc != Z_STREAM_END || r.total_out != D.in_len || memcmp(scratch, D.in, D.in_len))
		FAIL("the layer's deflate stream (bits %d, %zu bytes in, %zu out) inflates to %lu "
		     "bytes with %d (%s)", D.bits, D.in_len, D.out_len[0], r.total_out, rc,
		     r.msg ? r.msg : "");
	zl_ref.inflateEnd(&r);
	/* remember one side's stream for inflate to read */
	memcpy(last_stream, D.out[D.in_len & 1], D.out_len[D.in_len & 1]);
	last_len = D.out_len[D.in_len & 1];
	last_bits = D.bits;
}

static void op_dinit(struct prog *g)
{
	int level = (int)(take(g) % 11) - 1, bits = dbits_table[take(g) % 26];
	int mem = 1 + (int)(take(g) % 9), strat = (int)(take(g) % 5), rc[2];

	d_end();
	d_restart();
	for (int s = 0; s < 2; s++) {
		memset(&D.z[s], 0, sizeof(z_stream));
		rc[s] = side[s]->deflateInit2_(&D.z[s], level, Z_DEFLATED, bits, mem, strat, VER, SZ);
	}
	if (trace)
		fprintf(stderr, "  deflateInit2(level %d, bits %d, memLevel %d, strategy %d) = %d\n",
			level, bits, mem, strat, rc[1]);
	if (rc[0] != rc[1])
		DIFF("dinit", "deflateInit2(%d, %d, %d, %d) = %d, stock %d", level, bits, mem, strat, rc[0],
		     rc[1]);
	if (rc[0] != Z_OK)
		return;
	D.live = 1;
	D.bits = bits;
}

static void op_ddata(struct prog *g)
{
	static const int flushes[] = { Z_NO_FLUSH, Z_SYNC_FLUSH, Z_FULL_FLUSH, Z_FINISH,
				       Z_PARTIAL_FLUSH, Z_BLOCK };
	unsigned how = take(g), len = take16(g), ochunk = 1 + take16(g) % 4096;
	int flush = flushes[take(g) % 6], rc[2] = { 0, 0 };
	size_t n;

	if (!D.live)
		return;
	if (how & 1) { /* generated: compressible and long */
		n = (len % 4096) * 16 > CAP / 2 - D.in_len ? CAP / 2 - D.in_len : (len % 4096) * 16u;
		for (size_t i = 0; i < n; i++)
			src[i] = (unsigned char)("warp drive queue "[(i + how) % 17] ^ (i % 251 == 0));
	} else {
		n = take_bytes(g, src, len % 2048 > CAP / 2 - D.in_len ? CAP / 2 - D.in_len : len % 2048);
	}
	if (D.finished && n == 0 && flush != Z_FINISH)
		return; /* zlib: Z_STREAM_ERROR on both, nothing to learn */
	for (int s = 0; s < 2; s++) {
		z_stream *z = &D.z[s];
		unsigned guard = 0;

		z->next_in = src, z->avail_in = (uInt)n;
		do {
			if (D.out_len[s] >= CAP - 8)
				FAIL("deflate output passes %u bytes", CAP);
			z->next_out = D.out[s] + D.out_len[s];
			z->avail_out = (uInt)(CAP - D.out_len[s] < ochunk ? CAP - D.out_len[s] : ochunk);
			/* a flush repeated for want of room: zlib answers each repeat
			 * with one more empty block, which 1 byte never holds */
			if (guard && z->avail_in == 0 && flush != Z_NO_FLUSH && z->avail_out < 16)
				z->avail_out = 16;
			rc[s] = side[s]->deflate(z, flush);
			D.out_len[s] = (size_t)(z->next_out - D.out[s]);
		} while (rc[s] == Z_OK && (z->avail_out == 0 || z->avail_in) && ++guard < 1000000);
	}
	if (trace)
		fprintf(stderr, "  deflate(flush %d, %zu bytes, out chunks %u) = %d, stock %d\n", flush,
			n, ochunk, rc[0], rc[1]);
	if (is_err(rc[0]) != is_err(rc[1]) || (rc[0] == Z_STREAM_END) != (rc[1] == Z_STREAM_END))
		DIFF("deflate-rc", "deflate(flush %d, %zu bytes) = %d, stock %d", flush, n, rc[0], rc[1]);
	if (D.z[0].avail_in != D.z[1].avail_in)
		DIFF("deflate-unread", "deflate left %u bytes unread, stock %u", D.z[0].avail_in, D.z[1].avail_in);
	if (!is_err(rc[0])) {
		memcpy(D.in + D.in_len, src, n - D.z[0].avail_in);
		D.in_len += n - D.z[0].avail_in;
		D.started = 1;
	}
	if (rc[0] == Z_STREAM_END && !D.finished) {
		D.finished = 1;
		d_verify();
	}
}

static void op_dreset(void)
{
	int rc[2];

	if (!D.live)
		return;
	rc[0] = side[0]->deflateReset(&D.z[0]);
	rc[1] = side[1]->deflateReset(&D.z[1]);
	if (rc[0] != rc[1])
		DIFF("dreset", "deflateReset = %d, stock %d", rc[0], rc[1]);
	d_restart();
}

static void op_dparams(struct prog *g)
{
	int level = (int)(take(g) % 11) - 1, strat = (int)(take(g) % 5), rc[2];

	if (!D.live || D.finished)
		return;
	for (int s = 0; s < 2; s++) {
		D.z[s].next_in = src, D.z[s].avail_in = 0;
		D.z[s].next_out = D.out[s] + D.out_len[s];
		D.z[s].avail_out = (uInt)(CAP - D.out_len[s]);
		rc[s] = side[s]->deflateParams(&D.z[s], level, strat);
		D.out_len[s] = (size_t)(D.z[s].next_out - D.out[s]);
	}
	if (trace)
		fprintf(stderr, "  deflateParams(%d, %d) = %d, stock %d\n", level, strat, rc[0], rc[1]);
	if (is_err(rc[0]) != is_err(rc[1]))
		DIFF("params", "deflateParams(%d, %d) = %d, stock %d", level, strat, rc[0], rc[1]);
}

static void op_ddict(struct prog *g)
{
	unsigned char dict[1024];
	unsigned how = take(g);
	size_t n = take_bytes(g, dict, how & 7 ? take16(g) % sizeof(dict) : 0);
	int rc[2];

	/* before any data, as often as the program likes (they add up, up to
	 * D.dict): a raw stream's dictionary later is a window change the
	 * checker cannot follow */
	if (!D.live || D.started || n > sizeof(D.dict) - D.dict_len)
		return;
	memcpy(D.dict + D.dict_len, dict, n);
	rc[0] = side[0]->deflateSetDictionary(&D.z[0], D.dict + D.dict_len, (uInt)n);
	rc[1] = side[1]->deflateSetDictionary(&D.z[1], D.dict + D.dict_len, (uInt)n);
	if (trace)
		fprintf(stderr, "  deflateSetDictionary(%zu bytes) = %d, stock %d\n", n, rc[0], rc[1]);
	if (rc[0] != rc[1])
		DIFF("ddict", "deflateSetDictionary(%zu bytes, bits %d) = %d, stock %d", n, D.bits, rc[0],
		     rc[1]);
	if (rc[0] == Z_OK) {
		D.dict_len += n;
		if (D.bits > 0 && D.bits < 16 && D.z[0].adler != D.z[1].adler)
			DIFF("ddict", "strm->adler after deflateSetDictionary %#lx, stock %#lx", D.z[0].adler,
			     D.z[1].adler);
	}
}

static void op_iinit(struct prog *g)
{
	int bits = ibits_table[take(g) % 16], rc[2];

	i_end();
	for (int s = 0; s < 2; s++) {
		memset(&I.z[s], 0, sizeof(z_stream));
		rc[s] = side[s]->inflateInit2_(&I.z[s], bits, VER, SZ);
		I.out_len[s] = 0;
		I.rc[s] = Z_OK;
	}
	if (trace)
		fprintf(stderr, "  inflateInit2(%d) = %d, stock %d\n", bits, rc[0], rc[1]);
	if (rc[0] != rc[1])
		DIFF("iinit", "inflateInit2(%d) = %d, stock %d", bits, rc[0], rc[1]);
	I.live = rc[0] == Z_OK;
	I.bits = bits;
	I.ended = 0;
}

/* The ends both inflaters reached must be the same, and their bytes. */
static void i_compare(const char *when)
{
	size_t common = I.out_len[0] < I.out_len[1] ? I.out_len[0] : I.out_len[1];
	int end0 = I.rc[0] == Z_STREAM_END, end1 = I.rc[1] == Z_STREAM_END;
	int err0 = I.rc[0] == Z_DATA_ERROR, err1 = I.rc[1] == Z_DATA_ERROR;

	/* Damage one decoder has judged and the other not yet (ISA-L and zlib
	 * look at a broken header or code set at different moments): not a
	 * verdict against each other, as long as neither has ended and the
	 * bytes so far agree; the comparison of this stream ends there.  Valid
	 * streams never take this way (a side would have to reject them). */
	if (err0 != err1 && !end0 && !end1 &&
	    (I.rc[err0 ? 1 : 0] == Z_OK || I.rc[err0 ? 1 : 0] == Z_BUF_ERROR) &&
	    !memcmp(I.out[0], I.out[1], common)) {
		i_end();
		return;
	}
	if (end0 != end1 || err0 != err1 || (I.rc[0] == Z_NEED_DICT) != (I.rc[1] == Z_NEED_DICT)) {
		DIFF("inflate-end", "%s: inflate ended with %d (%s) after %zu bytes out, stock %d "
		     "(%s) after %zu", when, I.rc[0], I.z[0].msg ? I.z[0].msg : "", I.out_len[0],
		     I.rc[1], I.z[1].msg ? I.z[1].msg : "", I.out_len[1]);
		return;
	}
	if (err0)
		return; /* where each noticed the damage may differ */
	if (memcmp(I.out[0], I.out[1], common))
		DIFF("inflate-bytes", "%s: inflate output differs from stock's within the first %zu bytes", when,
		     common);
	/* (strm->adler means nothing for raw deflate) */
	if (end0 && (I.out_len[0] != I.out_len[1] || I.z[0].total_in != I.z[1].total_in ||
		     I.z[0].avail_in != I.z[1].avail_in ||
		     (I.bits >= 0 && I.z[0].adler != I.z[1].adler)))
		DIFF("inflate-tail", "%s: stream end after %zu bytes out (%lu in, %u left, adler %#lx), stock after "
		     "%zu (%lu in, %u left, adler %#lx)", when, I.out_len[0], I.z[0].total_in,
		     I.z[0].avail_in, I.z[0].adler, I.out_len[1], I.z[1].total_in, I.z[1].avail_in,
		     I.z[1].adler);
	if (I.rc[0] == Z_NEED_DICT && I.z[0].adler != I.z[1].adler)
		DIFF("dict-id", "%s: Z_NEED_DICT with id %#lx, stock %#lx", when, I.z[0].adler, I.z[1].adler);
}

static void op_idata(struct prog *g)
{
	static const int flushes[] = { Z_NO_FLUSH, Z_SYNC_FLUSH, Z_FINISH, Z_NO_FLUSH };
	unsigned how = take(g), len = take16(g), ichunk = 1 + take16(g) % 8192;
	unsigned ochunk = 1 + take16(g) % 8192;
	int flush = flushes[take(g) % 4];
	size_t n;

	if (!I.live || I.ended)
		return;
	if ((how & 3) == 0 && last_len) { /* a stream a deflater made, maybe damaged */
		n = last_len;
		memcpy(src, last_stream, n);
		if (how & 4)
			src[take16(g) % n] ^= (unsigned char)(1 + take(g) % 255);
		if (how & 8)
			n = take16(g) % (n + 1); /* truncated */
	} else {
		n = take_bytes(g, src, len % 4096);
	}
	if (trace)
		fprintf(stderr, "  inflate (windowBits %d) of %zu bytes (%s), in %u out %u, flush %d\n",
			I.bits, n, (how & 3) == 0 && last_len ? "a deflater's stream" : "the program's",
			ichunk, ochunk, flush);
	for (int s = 0; s < 2; s++) {
		z_stream *z = &I.z[s];
		size_t fed = 0;
		unsigned guard = 0;

		if (I.rc[s] != Z_OK && I.rc[s] != Z_BUF_ERROR)
			continue; /* an end or an error stays */
		z->avail_in = 0;
		/* a step without input leaves next_in NULL, as callers do */
		if (!z->next_in && known("null-next-in"))
			z->next_in = src;
		for (;;) {
			uInt ai, ao;

			if (z->avail_in == 0 && fed < n) {
				size_t k = n - fed < ichunk ? n - fed : ichunk;

				z->next_in = src + fed, z->avail_in = (uInt)k;
				fed += k;
			}
			if (I.out_len[s] >= STEP_MAX * 4)
				break; /* a bomb: both stop at the same size */
			z->next_out = I.out[s] + I.out_len[s];
			z->avail_out = (uInt)(STEP_MAX * 4 - I.out_len[s] < ochunk ?
					      STEP_MAX * 4 - I.out_len[s] : ochunk);
			ai = z->avail_in, ao = z->avail_out;
			I.rc[s] = side[s]->inflate(z, flush);
			I.out_len[s] = (size_t)(z->next_out - I.out[s]);
			if (I.rc[s] != Z_OK && I.rc[s] != Z_BUF_ERROR)
				break;
			if (ai == z->avail_in && ao == z->avail_out && fed == n)
				break; /* wants more input than this step has */
			if (ai == z->avail_in && ao == z->avail_out && z->avail_in) {
				/* no progress with input there and room given */
				DIFF("inflate-stuck", "%s inflate(flush %d) = %d makes no progress with "
				     "%u bytes in and %u of room", side[s]->name, flush, I.rc[s],
				     z->avail_in, ao);
				break;
			}
			if (++guard > 4000000)
				FAIL("inflate loops");
		}
	}
	i_compare("inflate step");
	if (I.rc[0] == Z_STREAM_END || I.rc[0] == Z_DATA_ERROR)
		I.ended = 1;
}

static void op_ireset(struct prog *g)
{
	unsigned how = take(g);
	int bits = ibits_table[take(g) % 16], rc[2];

	if (!I.live)
		return;
	for (int s = 0; s < 2; s++) {
		rc[s] = how & 1 ? side[s]->inflateReset2(&I.z[s], bits)
				: side[s]->inflateReset(&I.z[s]);
		I.out_len[s] = 0;
		I.rc[s] = Z_OK;
	}
	if (trace)
		fprintf(stderr, "  inflateReset%s(%d) = %d, stock %d\n", how & 1 ? "2" : "", bits, rc[0],
			rc[1]);
	if (rc[0] != rc[1])
		DIFF("ireset", "inflateReset%s(%d) = %d, stock %d", how & 1 ? "2" : "", bits, rc[0], rc[1]);
	if (how & 1 && rc[1] == Z_OK)
		I.bits = bits;
	I.ended = 0;
}

static void op_idict(struct prog *g)
{
	unsigned char dict[sizeof(D.dict)]; /* the deflater's may be all of it */
	size_t n;
	int rc[2];

	if (!I.live)
		return;
	if (take(g) & 1) { /* the deflater's */
		n = D.dict_len;
		memcpy(dict, D.dict, n);
	} else {
		n = take_bytes(g, dict, take16(g) % 1024);
	}
	rc[0] = side[0]->inflateSetDictionary(&I.z[0], dict, (uInt)n);
	rc[1] = side[1]->inflateSetDictionary(&I.z[1], dict, (uInt)n);
	if (trace)
		fprintf(stderr, "  inflateSetDictionary(%zu bytes) = %d, stock %d\n", n, rc[0], rc[1]);
	/* libwd-zlib(7) BUGS: a raw stream that has begun on the engine cannot
	 * take a new window (zlib's mid-stream inflateSetDictionary): refused
	 * loudly (before any data the layer hands the stream to zlib and
	 * answers as zlib); the two sides part there: this comparison ends */
	if (rc[0] == Z_STREAM_ERROR && rc[1] == Z_OK && I.bits < 0) {
		i_end();
		return;
	}
	if (rc[0] != rc[1])
		DIFF("idict", "inflateSetDictionary(%zu bytes) = %d, stock %d", n, rc[0], rc[1]);
	for (int s = 0; s < 2; s++)
		if (rc[s] == Z_OK && I.rc[s] == Z_NEED_DICT)
			I.rc[s] = Z_OK;
}

static void op_oneshot(struct prog *g)
{
	unsigned how = take(g), len = take16(g);
	int level = (int)(how % 11) - 1, rc[2];
	uLongf dl[2], cl = CAP;
	size_t n = take_bytes(g, src, len % 4096);

	if (how & 0x80) { /* uncompress the program's bytes, or a stream made above */
		const unsigned char *in = how & 0x40 && last_len ? last_stream : src;
		size_t in_len = how & 0x40 && last_len ? last_len : n;

		dl[0] = dl[1] = 1 + take16(g) % CAP;
		for (int s = 0; s < 2; s++)
			rc[s] = side[s]->uncompress(oneshot[s], &dl[s], in, in_len);
		if (rc[0] != rc[1] || dl[0] != dl[1] ||
		    (rc[0] == Z_OK && memcmp(oneshot[0], oneshot[1], dl[0])))
			DIFF("uncompress", "uncompress(%zu bytes) = %d with %lu bytes, stock %d with %lu", in_len,
			     rc[0], dl[0], rc[1], dl[1]);
		return;
	}
	rc[0] = side[0]->compress2(oneshot[0], &cl, src, n, level);
	if (rc[0] != Z_OK)
		FAIL("compress2(%zu bytes, level %d) = %d", n, level, rc[0]);
	dl[1] = CAP;
	rc[1] = zl_ref.uncompress(scratch, &dl[1], oneshot[0], cl);
	if (rc[1] != Z_OK || dl[1] != n || memcmp(scratch, src, n))
		FAIL("stock uncompress of the layer's compress2 = %d, %lu of %zu bytes", rc[1], dl[1],
		     n);
}

static const char *const op_names[] = { "deflateInit2", "deflate", "deflate", "deflateReset",
					"deflateParams", "deflateSetDictionary", "inflateInit2",
					"inflate", "inflate", "inflateReset", "inflateSetDictionary",
					"one-shot" };

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *req = getenv("ZL_FUZZ_REQUIRE_LAYER");

	/* every stream on WarpDrive, however small (unless set otherwise) */
	setenv("WD_ZLIB_MIN", "0", 0);
	trace = getenv("ZL_FUZZ_TRACE") != NULL;
	zl_ref_load();
	/* the layer is there when the process's deflate is not libz's (linked
	 * in, its other symbols need not be exported) */
	if (req && *req == '1') {
		void *h = dlopen("libz.so.1", RTLD_NOW | RTLD_NOLOAD);

		if (!h || dlsym(h, "deflate") == (void *)zl_plain.deflate)
			FAIL("ZL_FUZZ_REQUIRE_LAYER=1 but the layer is not in the process");
	}
	side[0] = &zl_plain;
	side[1] = &zl_ref;
	D.in = malloc(CAP);
	D.out[0] = malloc(CAP);
	D.out[1] = malloc(CAP);
	I.out[0] = malloc(CAP);
	I.out[1] = malloc(CAP);
	last_stream = malloc(CAP);
	src = malloc(CAP);
	scratch = malloc(CAP);
	oneshot[0] = malloc(CAP);
	oneshot[1] = malloc(CAP);
	if (!oneshot[0] || !oneshot[1] ||!D.in || !D.out[0] || !D.out[1] || !I.out[0] || !I.out[1] || !last_stream || !src ||
	    !scratch)
		abort();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct prog g = { data, size };
	unsigned steps = 0;

	last_len = 0;
	while (g.n && steps++ < 64) {
		unsigned op = take(&g) % 12;

		/* ZL_FUZZ_TRACE=1: the program, step by step, for reproducers */
		if (trace)
			fprintf(stderr, "step %u: %s (%zu bytes left)\n", steps, op_names[op], g.n);
		switch (op) {
		case 0: op_dinit(&g); break;
		case 1: case 2: op_ddata(&g); break;
		case 3: op_dreset(); break;
		case 4: op_dparams(&g); break;
		case 5: op_ddict(&g); break;
		case 6: op_iinit(&g); break;
		case 7: case 8: op_idata(&g); break;
		case 9: op_ireset(&g); break;
		case 10: op_idict(&g); break;
		default: op_oneshot(&g); break;
		}
	}
	d_end();
	i_end();
	return 0;
}
