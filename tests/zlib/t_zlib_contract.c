/* SPDX-License-Identifier: MIT */
/*
 * zlib's API contract through the layer, call by call, against a private
 * stock zlib: the same call sequences return the same codes (Z_BUF_ERROR
 * when no progress is possible, Z_STREAM_ERROR for bad arguments, what
 * comes after Z_STREAM_END...); deflateReset/inflateReset/inflateReset2
 * reuse; deflateParams mid-stream; the deflateBound and compressBound
 * promises; compress/compress2/uncompress/uncompress2; deflateCopy and
 * inflateCopy; inflate(Z_BLOCK) stopping where zlib stops; and libz's own
 * functions reached through dlopen(RTLD_NOLOAD) (whose internal calls go
 * through libz's PLT, i.e. into the layer, with streams the layer did not
 * make) working beside the layer.
 *
 * usage: t_zlib_contract CORPUS_DIR layer|stock
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "zl.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))
#define SEQ_MAX 4096
#define VER ZLIB_VERSION
#define SZ ((int)sizeof(z_stream))

static unsigned char *text, *rnd;	/* 1 MiB each */
static size_t text_len = 1u << 20;

/* ---- the same sequence of calls through both implementations ---- */

struct seq {
	int v[SEQ_MAX];
	unsigned n;
};

static void rec(struct seq *s, int v)
{
	if (s->n < SEQ_MAX)
		s->v[s->n++] = v;
}

typedef void scenario_fn(const struct zl_api *a, struct seq *s);

static void compare(const char *name, scenario_fn *fn)
{
	static struct seq p, r;
	unsigned i;

	memset(&p, 0, sizeof(p));
	memset(&r, 0, sizeof(r));
	fn(&zl_plain, &p);
	fn(&zl_ref, &r);
	for (i = 0; i < p.n && i < r.n && p.v[i] == r.v[i]; i++)
		;
	if (!ZL_CHECK(name, i == p.n && i == r.n, "step %u of %u: plain %d, stock %d", i, r.n,
		      i < p.n ? p.v[i] : -999, i < r.n ? r.v[i] : -999)) {
		fprintf(stderr, "  plain:");
		for (unsigned k = 0; k < p.n && k < 40; k++)
			fprintf(stderr, " %d", p.v[k]);
		fprintf(stderr, "\n  stock:");
		for (unsigned k = 0; k < r.n && k < 40; k++)
			fprintf(stderr, " %d", r.v[k]);
		fputc('\n', stderr);
	}
}

static void zinit(z_stream *z)
{
	memset(z, 0, sizeof(*z));
}

/* deflate with no room, then with room */
static void sc_deflate_no_room(const struct zl_api *a, struct seq *s)
{
	static unsigned char out[8192];
	z_stream z;

	zinit(&z);
	rec(s, a->deflateInit2_(&z, 6, Z_DEFLATED, 15, 8, 0, VER, SZ));
	z.next_in = text, z.avail_in = 4000, z.next_out = out, z.avail_out = 0;
	rec(s, a->deflate(&z, Z_NO_FLUSH));
	rec(s, a->deflate(&z, Z_FINISH));
	rec(s, (int)z.avail_in);
	z.avail_out = sizeof(out);
	rec(s, a->deflate(&z, Z_FINISH));
	rec(s, (int)z.avail_in);
	rec(s, a->deflateEnd(&z));
}

/* calls with nothing new to do, before and after the end */
static void sc_deflate_no_input(const struct zl_api *a, struct seq *s)
{
	static unsigned char out[65536];
	z_stream z;

	zinit(&z);
	rec(s, a->deflateInit2_(&z, 6, Z_DEFLATED, 15, 8, 0, VER, SZ));
	z.next_out = out, z.avail_out = sizeof(out);
	z.next_in = text, z.avail_in = 0;
	rec(s, a->deflate(&z, Z_NO_FLUSH));
	rec(s, a->deflate(&z, Z_NO_FLUSH));
	z.avail_in = 3000;
	rec(s, a->deflate(&z, Z_NO_FLUSH));
	rec(s, (int)z.avail_in);
	rec(s, a->deflate(&z, Z_SYNC_FLUSH));
	rec(s, a->deflate(&z, Z_SYNC_FLUSH));
	rec(s, a->deflate(&z, Z_NO_FLUSH));
	rec(s, a->deflate(&z, Z_FULL_FLUSH));
	rec(s, a->deflate(&z, Z_FINISH));
	rec(s, (int)z.total_in);
	rec(s, a->deflate(&z, Z_FINISH));
	z.avail_in = 10;
	rec(s, a->deflate(&z, Z_FINISH));
	z.avail_in = 0;
	rec(s, a->deflate(&z, Z_NO_FLUSH));
	rec(s, a->deflate(&z, Z_SYNC_FLUSH));
	rec(s, a->deflateEnd(&z));
}

/* bad arguments and streams in the wrong state */
static void sc_bad_args(const struct zl_api *a, struct seq *s)
{
	static unsigned char out[4096];
	z_stream z, zero;

	rec(s, a->deflate(NULL, Z_NO_FLUSH));
	rec(s, a->deflateEnd(NULL));
	rec(s, a->inflate(NULL, Z_NO_FLUSH));
	rec(s, a->inflateEnd(NULL));
	rec(s, a->deflateReset(NULL));
	rec(s, a->inflateReset(NULL));
	zinit(&zero);
	rec(s, a->deflate(&zero, Z_NO_FLUSH));
	rec(s, a->deflateEnd(&zero));
	rec(s, a->deflateReset(&zero));
	rec(s, a->deflateParams(&zero, 1, 0));
	rec(s, a->deflateSetDictionary(&zero, text, 100));
	rec(s, a->inflate(&zero, Z_NO_FLUSH));
	rec(s, a->inflateEnd(&zero));
	rec(s, a->inflateReset(&zero));
	rec(s, a->inflateReset2(&zero, 15));
	rec(s, a->inflateSetDictionary(&zero, text, 100));
	zinit(&z);
	rec(s, a->deflateInit2_(&z, 6, Z_DEFLATED, 15, 8, 0, VER, SZ));
	z.next_in = text, z.avail_in = 1000, z.next_out = out, z.avail_out = sizeof(out);
	rec(s, a->deflate(&z, Z_TREES));
	rec(s, a->deflate(&z, -1));
	z.next_out = NULL;
	rec(s, a->deflate(&z, Z_NO_FLUSH));
	z.next_out = out, z.next_in = NULL;
	rec(s, a->deflate(&z, Z_NO_FLUSH));
	z.next_in = text;
	rec(s, a->deflateParams(&z, 10, 0));
	rec(s, a->deflateParams(&z, 6, 5));
	rec(s, a->deflateEnd(&z));
	rec(s, a->deflateEnd(&z));
	zinit(&z);
	rec(s, a->inflateInit2_(&z, 15, VER, SZ));
	z.next_in = text, z.avail_in = 0, z.next_out = NULL, z.avail_out = 10;
	rec(s, a->inflate(&z, Z_NO_FLUSH));
	z.next_out = out, z.next_in = NULL, z.avail_in = 10;
	rec(s, a->inflate(&z, Z_NO_FLUSH));
	rec(s, a->inflateReset2(&z, 7));
	rec(s, a->inflateReset2(&z, 64));
	rec(s, a->inflateEnd(&z));
	rec(s, a->inflateEnd(&z));
}

/* what deflateInit2_/inflateInit2_ accept, and the version checks */
static void sc_init_args(const struct zl_api *a, struct seq *s)
{
	static const int dbits[] = { -16, -15, -9, -8, 7, 8, 9, 15, 16, 24, 25, 31, 32 };
	static const int ibits[] = { -16, -15, -9, -8, -7, 0, 7, 8, 15, 16, 23, 24, 31, 32,
				     40, 47, 48, 63 };
	static const int bad[][4] = { /* level, method, memLevel, strategy */
		{ 10, 8, 8, 0 }, { -2, 8, 8, 0 }, { 6, 7, 8, 0 }, { 6, 8, 0, 0 },
		{ 6, 8, 10, 0 }, { 6, 8, 8, 5 }, { 6, 8, 8, -1 }, { 0, 8, 1, 4 },
	};
	z_stream z;
	int rc;
	size_t i;

	for (i = 0; i < N(dbits); i++) {
		zinit(&z);
		rec(s, rc = a->deflateInit2_(&z, 6, Z_DEFLATED, dbits[i], 8, 0, VER, SZ));
		if (rc == Z_OK)
			rec(s, a->deflateEnd(&z));
	}
	for (i = 0; i < N(bad); i++) {
		zinit(&z);
		rec(s, rc = a->deflateInit2_(&z, bad[i][0], bad[i][1], 15, bad[i][2], bad[i][3],
					     VER, SZ));
		if (rc == Z_OK)
			rec(s, a->deflateEnd(&z));
	}
	for (i = 0; i < N(ibits); i++) {
		zinit(&z);
		rec(s, rc = a->inflateInit2_(&z, ibits[i], VER, SZ));
		if (rc == Z_OK)
			rec(s, a->inflateEnd(&z));
	}
	zinit(&z);
	rec(s, a->deflateInit_(&z, 6, "2.0.0", SZ));
	rec(s, a->deflateInit_(&z, 6, NULL, SZ));
	rec(s, a->deflateInit_(&z, 6, VER, SZ - 8));
	rec(s, a->inflateInit_(&z, "2.0.0", SZ));
	rec(s, a->inflateInit_(&z, VER, SZ - 8));
	rec(s, rc = a->deflateInit_(&z, 6, "1.0", SZ));
	if (rc == Z_OK)
		rec(s, a->deflateEnd(&z));
	rec(s, rc = a->inflateInit_(&z, "1.2.11", SZ));
	if (rc == Z_OK)
		rec(s, a->inflateEnd(&z));
}

static unsigned char *stream_z; /* a zlib stream of the first 200000 bytes of text */
static size_t stream_z_len;

/* inflate without input, with too little room under Z_FINISH, after the end */
static void sc_inflate_edges(const struct zl_api *a, struct seq *s)
{
	static unsigned char out[300000];
	z_stream z;

	zinit(&z);
	rec(s, a->inflateInit2_(&z, 15, VER, SZ));
	z.next_in = stream_z, z.avail_in = 0, z.next_out = out, z.avail_out = sizeof(out);
	rec(s, a->inflate(&z, Z_NO_FLUSH));
	rec(s, a->inflate(&z, Z_FINISH));
	z.avail_in = (uInt)stream_z_len;
	z.avail_out = 100;
	rec(s, a->inflate(&z, Z_FINISH));
	rec(s, z.avail_out == 0);
	z.avail_out = (uInt)(sizeof(out) - z.total_out);
	rec(s, a->inflate(&z, Z_FINISH));
	rec(s, (int)z.total_out);
	rec(s, (int)z.avail_in);
	rec(s, a->inflate(&z, Z_NO_FLUSH));
	rec(s, a->inflate(&z, Z_FINISH));
	z.next_in = text, z.avail_in = 10;
	rec(s, a->inflate(&z, Z_NO_FLUSH));
	rec(s, (int)z.avail_in);
	rec(s, a->inflateEnd(&z));
	/* exact room under Z_FINISH from the first call */
	zinit(&z);
	rec(s, a->inflateInit2_(&z, 15, VER, SZ));
	z.next_in = stream_z, z.avail_in = (uInt)stream_z_len;
	z.next_out = out, z.avail_out = 200000;
	rec(s, a->inflate(&z, Z_FINISH));
	rec(s, (int)z.avail_out);
	rec(s, a->inflateEnd(&z));
}

/* ending a stream in the middle */
static void sc_end_busy(const struct zl_api *a, struct seq *s)
{
	static unsigned char out[64];
	z_stream z;

	zinit(&z);
	rec(s, a->deflateInit2_(&z, 6, Z_DEFLATED, 15, 8, 0, VER, SZ));
	rec(s, a->deflateEnd(&z));
	zinit(&z);
	rec(s, a->deflateInit2_(&z, 6, Z_DEFLATED, 15, 8, 0, VER, SZ));
	z.next_in = text, z.avail_in = 100000, z.next_out = out, z.avail_out = sizeof(out);
	rec(s, a->deflate(&z, Z_NO_FLUSH));
	rec(s, a->deflateEnd(&z));
	zinit(&z);
	rec(s, a->inflateInit2_(&z, 15, VER, SZ));
	z.next_in = stream_z, z.avail_in = (uInt)stream_z_len;
	z.next_out = out, z.avail_out = sizeof(out);
	rec(s, a->inflate(&z, Z_NO_FLUSH));
	rec(s, a->inflateEnd(&z));
}

/* an error sticks until a reset */
static void sc_inflate_after_error(const struct zl_api *a, struct seq *s)
{
	static unsigned char out[300000], bad[300000];
	z_stream z;

	memcpy(bad, stream_z, stream_z_len);
	bad[0] ^= 0x01; /* the header's check fails */
	zinit(&z);
	rec(s, a->inflateInit2_(&z, 15, VER, SZ));
	z.next_in = bad, z.avail_in = (uInt)stream_z_len, z.next_out = out, z.avail_out = sizeof(out);
	rec(s, a->inflate(&z, Z_NO_FLUSH));
	rec(s, a->inflate(&z, Z_NO_FLUSH));
	rec(s, a->inflateReset(&z));
	rec(s, (int)z.total_in);
	z.next_in = stream_z, z.avail_in = (uInt)stream_z_len, z.next_out = out;
	z.avail_out = sizeof(out);
	rec(s, a->inflate(&z, Z_NO_FLUSH));
	rec(s, (int)z.total_out);
	rec(s, a->inflateEnd(&z));
}

/* inflate(Z_BLOCK) stops at each block boundary, where zlib stops */
static void sc_inflate_block(const struct zl_api *a, struct seq *s)
{
	static unsigned char out[300000];
	z_stream z;
	int rc = Z_OK, calls = 0;

	zinit(&z);
	rec(s, a->inflateInit2_(&z, 15, VER, SZ));
	z.next_in = stream_z, z.avail_in = (uInt)stream_z_len, z.next_out = out;
	z.avail_out = sizeof(out);
	while (rc == Z_OK && calls++ < 1000) {
		rec(s, rc = a->inflate(&z, Z_BLOCK));
		rec(s, (int)z.total_in);
		rec(s, (int)z.total_out);
		rec(s, z.data_type & 0xc0);
	}
	rec(s, a->inflateEnd(&z));
}

/* ---- reuse through resets ---- */

static void test_resets(void)
{
	static unsigned char comp[1 << 21], out[1 << 20];
	static const int ibits[] = { 15, 31, -15, 47, 9, 47, -9, 0 };
	static const size_t sizes[] = { 100000, 300, 0, 700000, 5000, 1, 65536, 511 };
	z_stream d, i;
	size_t r;
	int rc;

	/* one deflate stream, reset between streams and once in the middle */
	zinit(&d);
	ZL_CHECK("deflateReset", zl_plain.deflateInit2_(&d, 6, Z_DEFLATED, 15, 8, 0, VER, SZ) == Z_OK,
		 "init");
	for (r = 0; r < N(sizes); r++) {
		long n;
		uLongf back = sizeof(out);

		if (r == 3) { /* abandon a stream half way */
			zl_pump_deflate(&zl_plain, &d, text + 1, 200000, comp, sizeof(comp), 4096, 0,
					"deflateReset mid-stream");
			ZL_CHECK("deflateReset", zl_plain.deflateReset(&d) == Z_OK, "mid-stream reset");
		}
		ZL_CHECK("deflateReset", d.total_in == 0 && d.total_out == 0,
			 "round %zu: totals %lu/%lu after a reset", r, d.total_in, d.total_out);
		n = zl_pump_deflate(&zl_plain, &d, text + r, sizes[r], comp, sizeof(comp),
				    r % 2 ? 0 : 8192, 1, "deflateReset round");
		if (n < 0)
			break;
		rc = zl_ref.uncompress(out, &back, comp, (uLong)n);
		ZL_CHECK("deflateReset", rc == Z_OK && back == sizes[r] &&
			 !memcmp(out, text + r, sizes[r]),
			 "round %zu (%zu bytes): stock uncompress = %d, %lu bytes", r, sizes[r], rc, back);
		ZL_CHECK("deflateReset", d.adler == zl_check_value(ZL_ZLIB, text + r, sizes[r]),
			 "round %zu: adler", r);
		ZL_CHECK("deflateReset", zl_plain.deflateReset(&d) == Z_OK, "reset");
	}
	zl_plain.deflateEnd(&d);

	/* one inflate stream, inflateReset2 to each framing; inflateReset once
	 * in the middle of a stream */
	zinit(&i);
	ZL_CHECK("inflateReset", zl_plain.inflateInit2_(&i, 15, VER, SZ) == Z_OK, "init");
	for (r = 0; r < N(ibits); r++) {
		int bits = ibits[r] == 0 ? 15 : ibits[r] == 47 ? (r == 3 ? 31 : 15) : ibits[r];
		long clen = zl_ref_deflate(6, bits, text + r, sizes[r], comp, sizeof(comp));
		long n;

		if (clen < 0)
			break;
		rc = r == 4 ? zl_plain.inflateReset(&i) : zl_plain.inflateReset2(&i, ibits[r]);
		if (r == 4) { /* same windowBits as before: plain reset, after half a stream */
			long h = zl_ref_deflate(6, 9, text, 300000, comp + clen, sizeof(comp) - clen);
			int rch;

			zl_pump_inflate(&zl_plain, &i, comp + clen, (size_t)h / 2, out, sizeof(out), 0,
					&rch);
			rc = zl_plain.inflateReset(&i);
		}
		ZL_CHECK("inflateReset", rc == Z_OK && i.total_in == 0 && i.total_out == 0,
			 "round %zu: reset = %d, totals %lu/%lu", r, rc, i.total_in, i.total_out);
		n = zl_pump_inflate(&zl_plain, &i, comp, (size_t)clen, out, sizeof(out),
				    r % 2 ? 0 : 3000, &rc);
		ZL_CHECK("inflateReset", rc == Z_STREAM_END && n == (long)sizes[r] &&
			 !memcmp(out, text + r, sizes[r]) && i.total_in == (uLong)clen,
			 "round %zu (windowBits %d, %zu bytes): rc %d, %ld bytes", r, ibits[r],
			 sizes[r], rc, n);
	}
	zl_plain.inflateEnd(&i);
}

/* ---- deflateParams in the middle of a stream ---- */

static void test_params(void)
{
	static const int lv[] = { 1, 9, 0, 6, -1, 1, 0, 9 };
	static const int st[] = { 0, 0, 0, Z_FILTERED, Z_RLE, Z_HUFFMAN_ONLY, Z_FIXED, 0 };
	static unsigned char comp[1 << 21], out[1 << 20];
	static const int bits[] = { 15, -15, 31 };
	size_t b, k, piece = 60000;

	for (b = 0; b < N(bits); b++) {
		z_stream z;
		size_t opos = 0;
		long n;
		int rc;
		char what[64];

		snprintf(what, sizeof(what), "deflateParams bits %d", bits[b]);
		zinit(&z);
		if (!ZL_CHECK(what, zl_plain.deflateInit2_(&z, 1, Z_DEFLATED, bits[b], 8, 0, VER,
							   SZ) == Z_OK, "init"))
			continue;
		/* before any input */
		rc = zl_plain.deflateParams(&z, 6, 0);
		ZL_CHECK(what, rc == Z_OK, "deflateParams before input = %d", rc);
		for (k = 0; k < N(lv); k++) {
			n = zl_pump_deflate(&zl_plain, &z, text + k * piece, piece, comp + opos,
					    sizeof(comp) - opos, 7000, 0, what);
			if (n < 0)
				break;
			opos += (size_t)n;
			z.next_out = comp + opos;
			z.avail_out = (uInt)(sizeof(comp) - opos);
			rc = zl_plain.deflateParams(&z, lv[k], st[k]);
			opos = (size_t)(z.next_out - comp);
			ZL_CHECK(what, rc == Z_OK, "deflateParams(%d, %d) after %zu bytes = %d", lv[k],
				 st[k], (k + 1) * piece, rc);
		}
		n = zl_pump_deflate(&zl_plain, &z, text + k * piece, 1000, comp + opos,
				    sizeof(comp) - opos, 0, 1, what);
		zl_plain.deflateEnd(&z);
		if (n < 0)
			continue;
		opos += (size_t)n;
		{
			z_stream r;
			long got;

			zinit(&r);
			zl_ref.inflateInit2_(&r, bits[b], VER, SZ);
			got = zl_pump_inflate(&zl_ref, &r, comp, opos, out, sizeof(out), 0, &rc);
			ZL_CHECK(what, rc == Z_STREAM_END && got == (long)(k * piece + 1000) &&
				 !memcmp(out, text, (size_t)got),
				 "stock inflate of the result: rc %d, %ld bytes", rc, got);
			zl_ref.inflateEnd(&r);
		}
	}
}

/* ---- deflateBound and compressBound are promises ---- */

static void test_bounds(void)
{
	static const size_t sizes[] = { 0, 1, 100, 511, 512, 4096, 65536, 1u << 20 };
	static const int lv[] = { -1, 0, 1, 6, 9 };
	static const int bits[] = { 15, -15, 31, 9, -9, 25 };
	static const int mem[] = { 8, 1, 9 };
	size_t cap = (1u << 20) + (1u << 18);
	unsigned char *comp = zl_xmalloc(cap), *out = zl_xmalloc(1u << 20);
	uint64_t rs = 77;
	unsigned t;

	for (t = 0; t < 60; t++) {
		size_t len = sizes[t % N(sizes)];
		int level = lv[t % N(lv)], b = bits[(t / 2) % N(bits)], m = mem[(t / 5) % N(mem)];
		const unsigned char *in = t % 3 == 2 ? text : rnd;
		char what[96];
		z_stream z;
		uLong bound;
		int rc;

		if (len == 1u << 20 && (level == 9 || level == 6) && t > 20)
			len = 200000; /* keep it short */
		snprintf(what, sizeof(what), "deflateBound %zu bytes level %d bits %d memLevel %d%s",
			 len, level, b, m, in == rnd ? " random" : " text");
		zinit(&z);
		if (!ZL_CHECK(what, zl_plain.deflateInit2_(&z, level, Z_DEFLATED, b, m, 0, VER,
							   SZ) == Z_OK, "init"))
			continue;
		bound = zl_plain.deflateBound(&z, len);
		z.next_in = (Bytef *)in, z.avail_in = (uInt)len;
		z.next_out = comp, z.avail_out = (uInt)bound;
		rc = zl_plain.deflate(&z, Z_FINISH);
		zl_plain.deflateEnd(&z);
		if (rc != Z_STREAM_END && level == 0 && m == 9) {
			/* zlib 1.2.13's own bound is short for level 0 with memLevel 9
			 * (fixed in 1.3): there, be as good as stock */
			zinit(&z);
			zl_ref.deflateInit2_(&z, level, Z_DEFLATED, b, m, 0, VER, SZ);
			z.next_in = (Bytef *)in, z.avail_in = (uInt)len;
			z.next_out = comp, z.avail_out = (uInt)zl_ref.deflateBound(&z, len);
			if (zl_ref.deflate(&z, Z_FINISH) != Z_STREAM_END)
				rc = Z_STREAM_END;
			zl_ref.deflateEnd(&z);
		}
		ZL_CHECK(what, rc == Z_STREAM_END && z.total_out <= bound,
			 "one deflate(Z_FINISH) into deflateBound() = %lu bytes: rc %d, %lu written",
			 bound, rc, z.total_out);
		(void)zl_rand(&rs);
	}
	for (t = 0; t < N(sizes) * 2; t++) {
		size_t len = sizes[t % N(sizes)];
		const unsigned char *in = t >= N(sizes) ? text : rnd;
		uLongf dl = zl_plain.compressBound(len), back = 1u << 20;
		int rc = zl_plain.compress2(comp, &dl, in, len, (int)(t % 10));

		ZL_CHECK("compressBound", rc == Z_OK, "compress2(%zu bytes, level %u) into "
			 "compressBound() = %d", len, t % 10, rc);
		if (rc == Z_OK) {
			rc = zl_ref.uncompress(out, &back, comp, dl);
			ZL_CHECK("compressBound", rc == Z_OK && back == len && !memcmp(out, in, len),
				 "stock uncompress of compress2's %lu bytes = %d", dl, rc);
		}
		ZL_CHECK("compressBound", zl_plain.compressBound(len) >= zl_ref.compressBound(len),
			 "compressBound(%zu) smaller than stock's", len);
	}
	free(comp);
	free(out);
}

/* ---- compress, compress2, uncompress, uncompress2 ---- */

static void test_oneshot(const char *corpus)
{
	static const size_t sizes[] = { 0, 1, 100, 511, 512, 513, 4000, 100000, 0 };
	size_t flen, cap = 1u << 21, k;
	const char *fname;
	unsigned char *file = zl_corpus_file(corpus, 5, &flen, &fname);
	unsigned char *comp = zl_xmalloc(cap), *out = zl_xmalloc(cap), *rout = zl_xmalloc(cap);

	for (k = 0; k < N(sizes); k++) {
		size_t len = k == N(sizes) - 1 ? flen : sizes[k];
		const unsigned char *in = k == N(sizes) - 1 ? file : text;
		uLongf dl, back, rback;
		uLong src, rsrc;
		int lvl, rc, rrc;
		char what[64];

		snprintf(what, sizeof(what), "one-shot %zu bytes", len);
		for (lvl = -1; lvl <= 9; lvl++) {
			dl = cap;
			rc = lvl == -1 ? zl_plain.compress(comp, &dl, in, len)
				       : zl_plain.compress2(comp, &dl, in, len, lvl);
			back = cap;
			rrc = zl_ref.uncompress(out, &back, comp, dl);
			ZL_CHECK(what, rc == Z_OK && rrc == Z_OK && back == len && !memcmp(out, in, len),
				 "compress2 level %d = %d, stock uncompress = %d (%lu bytes)", lvl, rc,
				 rrc, back);
		}
		/* not enough room for compress: same answer as zlib */
		dl = rback = zl_ref.compressBound(len) / 3;
		rc = zl_plain.compress2(comp, &dl, in, len, 6);
		rrc = zl_ref.compress2(out, &rback, in, len, 6);
		ZL_CHECK(what, rc == rrc, "compress2 into %lu bytes = %d, stock %d", rback, rc, rrc);
		/* stock's stream through the layer */
		dl = cap;
		zl_ref.compress2(comp, &dl, in, len, 6);
		back = len;
		rc = zl_plain.uncompress(out, &back, comp, dl);
		ZL_CHECK(what, rc == Z_OK && back == len && !memcmp(out, in, len),
			 "uncompress with exact room = %d, %lu bytes", rc, back);
		back = cap;
		rc = zl_plain.uncompress(out, &back, comp, dl);
		ZL_CHECK(what, rc == Z_OK && back == len, "uncompress with more room = %d, %lu bytes",
			 rc, back);
		/* one byte short, and no room at all */
		for (int room = 0; room < 2; room++) {
			back = rback = room ? (len ? len - 1 : 0) : 0;
			rc = zl_plain.uncompress(out, &back, comp, dl);
			rrc = zl_ref.uncompress(rout, &rback, comp, dl);
			ZL_CHECK(what, rc == rrc && back == rback && !memcmp(out, rout, back),
				 "uncompress into %s: %d with %lu bytes, stock %d with %lu",
				 room ? "one byte short" : "no room", rc, back, rrc, rback);
		}
		/* uncompress2 tells how much it read: the stream, not what follows */
		memcpy(comp + dl, "JUNK", 4);
		back = cap, src = dl + 4;
		rc = zl_plain.uncompress2(out, &back, comp, &src);
		ZL_CHECK(what, rc == Z_OK && back == len && src == dl,
			 "uncompress2 = %d, %lu bytes, read %lu of a %lu-byte stream", rc, back, src, dl);
		/* truncated and corrupt: same answer as zlib */
		for (int cut = 1; cut < 4; cut++) {
			back = rback = cap;
			src = rsrc = dl * (size_t)cut / 4;
			rc = zl_plain.uncompress2(out, &back, comp, &src);
			rrc = zl_ref.uncompress2(rout, &rback, comp, &rsrc);
			ZL_CHECK(what, rc == rrc && src == rsrc,
				 "uncompress2 of %d/4 of the stream = %d (read %lu), stock %d (read %lu)",
				 cut, rc, src, rrc, rsrc);
		}
		for (int flip = 0; flip < 6; flip++) {
			size_t at = flip * dl / 6;

			comp[at] ^= 0x5a;
			back = rback = cap;
			rc = zl_plain.uncompress(out, &back, comp, dl);
			rrc = zl_ref.uncompress(rout, &rback, comp, dl);
			ZL_CHECK(what, rc == rrc && (rc != Z_OK || (back == rback &&
								      !memcmp(out, rout, back))),
				 "uncompress with byte %zu of %lu changed = %d, stock %d", at, dl, rc,
				 rrc);
			comp[at] ^= 0x5a;
		}
	}
	free(file);
	free(comp);
	free(out);
	free(rout);
}

/* ---- deflateCopy / inflateCopy in the middle of a stream ---- */

static void test_copies(void)
{
	static unsigned char c1[1 << 20], c2[1 << 20], out[1 << 20];
	size_t half = 150000;
	z_stream a, b;
	long n1, n2, h;
	int rc;

	zinit(&a);
	zinit(&b);
	zl_plain.deflateInit2_(&a, 6, Z_DEFLATED, 31, 8, 0, VER, SZ);
	h = zl_pump_deflate(&zl_plain, &a, text, half, c1, sizeof(c1), 10000, 0, "deflateCopy");
	rc = zl_plain.deflateCopy(&b, &a);
	if (!ZL_CHECK("deflateCopy", rc == Z_OK && h >= 0, "deflateCopy = %d", rc)) {
		zl_plain.deflateEnd(&a);
		return;
	}
	memcpy(c2, c1, (size_t)h);
	/* the original goes on with the text, the copy with random bytes */
	n1 = zl_pump_deflate(&zl_plain, &a, text + half, half, c1 + h, sizeof(c1) - h, 0, 1,
			     "deflateCopy original");
	n2 = zl_pump_deflate(&zl_plain, &b, rnd, half, c2 + h, sizeof(c2) - h, 0, 1,
			     "deflateCopy copy");
	zl_plain.deflateEnd(&a);
	zl_plain.deflateEnd(&b);
	if (n1 >= 0 && n2 >= 0) {
		z_stream r;
		long got;

		zinit(&r);
		zl_ref.inflateInit2_(&r, 31, VER, SZ);
		got = zl_pump_inflate(&zl_ref, &r, c1, (size_t)(h + n1), out, sizeof(out), 0, &rc);
		ZL_CHECK("deflateCopy", rc == Z_STREAM_END && got == (long)(2 * half) &&
			 !memcmp(out, text, 2 * half), "original: rc %d, %ld bytes", rc, got);
		zl_ref.inflateReset(&r);
		got = zl_pump_inflate(&zl_ref, &r, c2, (size_t)(h + n2), out, sizeof(out), 0, &rc);
		ZL_CHECK("deflateCopy", rc == Z_STREAM_END && got == (long)(2 * half) &&
			 !memcmp(out, text, half) && !memcmp(out + half, rnd, half),
			 "copy: rc %d, %ld bytes", rc, got);
		zl_ref.inflateEnd(&r);
	}

	/* inflateCopy: both halves finish the same stream */
	zinit(&a);
	zinit(&b);
	zl_plain.inflateInit2_(&a, 15, VER, SZ);
	n1 = zl_pump_inflate(&zl_plain, &a, stream_z, stream_z_len / 2, out, sizeof(out), 5000, &rc);
	rc = zl_plain.inflateCopy(&b, &a);
	if (!ZL_CHECK("inflateCopy", rc == Z_OK, "inflateCopy = %d", rc)) {
		zl_plain.inflateEnd(&a);
		return;
	}
	for (int k = 0; k < 2; k++) {
		z_stream *z = k ? &b : &a;
		long got = n1 + zl_pump_inflate(&zl_plain, z, stream_z + z->total_in,
						stream_z_len - z->total_in, out + n1,
						sizeof(out) - n1, 0, &rc);

		ZL_CHECK("inflateCopy", rc == Z_STREAM_END && got == 200000 &&
			 !memcmp(out, text, 200000), "%s: rc %d, %ld bytes", k ? "copy" : "original",
			 rc, got);
		zl_plain.inflateEnd(z);
	}
}

/* ---- libz's own functions, reached the lead's way, beside the layer ---- */

static void test_noload(void)
{
	static unsigned char comp[1 << 21], out[1 << 20];
	void *h = dlopen("libz.so.1", RTLD_NOW | RTLD_NOLOAD);
	struct zl_api base;
	z_stream z;
	long n, got;
	int rc;

	if (!ZL_CHECK("noload", h != NULL, "dlopen(libz.so.1, RTLD_NOLOAD) failed"))
		return;
	zl_api_from_handle(&base, h, "libz(noload)");
	/* its deflateInit2_ calls deflateReset, its deflateParams calls
	 * deflate, through libz's PLT */
	zinit(&z);
	rc = base.deflateInit2_(&z, 1, Z_DEFLATED, 15, 8, 0, VER, SZ);
	ZL_CHECK("noload", rc == Z_OK, "libz deflateInit2_ = %d", rc);
	n = zl_pump_deflate(&base, &z, text, 300000, comp, sizeof(comp), 20000, 0, "noload");
	z.next_out = comp + n, z.avail_out = (uInt)(sizeof(comp) - n);
	rc = base.deflateParams(&z, 9, Z_FILTERED);
	ZL_CHECK("noload", rc == Z_OK, "libz deflateParams mid-stream = %d", rc);
	n = (long)(z.next_out - comp);
	got = zl_pump_deflate(&base, &z, text + 300000, 300000, comp + n, sizeof(comp) - n, 0, 1,
			      "noload");
	base.deflateEnd(&z);
	if (got >= 0) {
		uLongf back = sizeof(out);

		n += got;
		rc = zl_plain.uncompress(out, &back, comp, (uLong)n);
		ZL_CHECK("noload", rc == Z_OK && back == 600000 && !memcmp(out, text, 600000),
			 "uncompress of libz's stream = %d, %lu bytes", rc, back);
		zinit(&z);
		base.inflateInit2_(&z, 15, VER, SZ);
		got = zl_pump_inflate(&base, &z, comp, (size_t)n, out, sizeof(out), 4096, &rc);
		ZL_CHECK("noload", rc == Z_STREAM_END && got == 600000 && !memcmp(out, text, 600000),
			 "libz inflate = %d, %ld bytes", rc, got);
		rc = base.inflateReset2(&z, -15);
		ZL_CHECK("noload", rc == Z_OK, "libz inflateReset2 = %d", rc);
		base.inflateEnd(&z);
	}
}

int main(int argc, char **argv)
{
	const char *corpus = argc > 1 ? argv[1] : NULL;
	int layer = zl_mode(argc > 2 ? argv[2] : NULL);
	uint64_t rs = zl_seed();
	static unsigned char zbuf[1 << 20];
	long n;

	if (!corpus) {
		fprintf(stderr, "usage: t_zlib_contract CORPUS_DIR layer|stock\n");
		return 2;
	}
	text = zl_xmalloc(text_len);
	rnd = zl_xmalloc(text_len);
	zl_fill_text(text, text_len, &rs);
	zl_fill_random(rnd, text_len, &rs);
	n = zl_ref_deflate(6, 15, text, 200000, zbuf, sizeof(zbuf));
	if (n < 0)
		return 1;
	stream_z = zbuf;
	stream_z_len = (size_t)n;

	compare("deflate without room", sc_deflate_no_room);
	compare("deflate without input, before and after the end", sc_deflate_no_input);
	compare("bad arguments", sc_bad_args);
	compare("init arguments and versions", sc_init_args);
	compare("inflate edges", sc_inflate_edges);
	compare("End in the middle", sc_end_busy);
	compare("inflate after an error", sc_inflate_after_error);
	compare("inflate(Z_BLOCK)", sc_inflate_block);
	test_resets();
	test_params();
	test_bounds();
	test_oneshot(corpus);
	test_copies();
	test_noload();
	free(text);
	free(rnd);
	return zl_finish("t_zlib_contract", layer, 1, 1);
}
