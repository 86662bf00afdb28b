/* SPDX-License-Identifier: MIT */
/*
 * Damaged input through the layer's inflate is answered as stock zlib
 * answers it: corrupt bytes anywhere (header, body, trailer), named damage
 * (bad header check, unknown method, window too small for the stream's
 * distances, invalid block type, stored length mismatch, wrong check value
 * or length), and truncation: the same end (data error, truncated, stream
 * end), the same output when both accept, Z_DATA_ERROR with msg set.  A
 * stream cut right after a Z_SYNC_FLUSH point decodes up to that point
 * (what ssh, websockets and HTTP streaming rely on).
 *
 * usage: t_zlib_damage CORPUS_DIR layer|stock
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "zl.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static const struct zl_run schedules[] = {
	{ .flush = ZL_F_NO, .in_chunk = 0, .out_chunk = 0 },
	{ .flush = ZL_F_FULL, .in_chunk = 4096, .out_chunk = 65536 },
	{ .flush = ZL_F_FINISH, .in_chunk = 0, .out_chunk = 1000 },
	{ .flush = ZL_F_SYNC, .in_chunk = 97, .out_chunk = 4096 },
};

/* Inflate the same bytes with both; the ends must agree, and the output
 * too when both accept. */
static void same_answer(const char *what, int bits, const unsigned char *comp, size_t clen,
			const struct zl_run *run, size_t cap, enum zl_end want)
{
	unsigned char *po = zl_xmalloc(cap), *ro = zl_xmalloc(cap);
	struct zl_ires p, r;

	if (zl_inflate_drive(&zl_plain, bits, comp, clen, run, NULL, 0, po, cap, NULL, 0, &p,
			     what) < 0 ||
	    zl_inflate_drive(&zl_ref, bits, comp, clen, run, NULL, 0, ro, cap, NULL, 0, &r,
			     what) < 0)
		goto out;
	if ((int)want >= 0)
		ZL_CHECK(what, r.end == want, "stock zlib ended with %s, the test expects %s",
			 zl_end_names[r.end], zl_end_names[want]);
	if (!ZL_CHECK(what, p.end == r.end, "plain ended with %s (rc %d) after %zu in, %zu out; "
		      "stock with %s (rc %d) after %zu in, %zu out", zl_end_names[p.end], p.rc,
		      p.total_in, p.total_out, zl_end_names[r.end], r.rc, r.total_in, r.total_out))
		goto out;
	if (r.end == ZL_END_STREAM)
		ZL_CHECK(what, p.total_out == r.total_out && p.total_in == r.total_in &&
			 !memcmp(po, ro, r.total_out),
			 "both accept, but plain made %zu bytes from %zu, stock %zu from %zu",
			 p.total_out, p.total_in, r.total_out, r.total_in);
out:
	free(po);
	free(ro);
}

static void test_random_damage(const unsigned char *data, size_t len, uint64_t *rs)
{
	static const int bits[] = { -15, 15, 31, 47 };
	static const int lv[] = { 6, 0, 1, 9 };
	size_t cap = len + len / 2 + 4096;
	unsigned char *comp = zl_xmalloc(cap);
	unsigned b, m;

	for (b = 0; b < N(bits) * 2; b++) {
		int ebits = bits[b % N(bits)] == 47 ? 31 : bits[b % N(bits)];
		int level = lv[b / 2 % N(lv)];
		long clen = zl_ref_deflate(level, ebits, data, len, comp, cap);

		if (clen < 0)
			break;
		for (m = 0; m < 40; m++) {
			size_t at = m < 10 ? m : m < 18 ? (size_t)clen - (m - 9) :
				    zl_rand(rs) % (size_t)clen;
			unsigned char x = m % 5 == 4 ? (unsigned char)(1u << (zl_rand(rs) % 8))
						     : (unsigned char)(1 + zl_rand(rs) % 255);
			char what[128];

			if (at >= (size_t)clen)
				continue;
			snprintf(what, sizeof(what), "damage: bits %d level %d, byte %zu of %ld ^ %#x",
				 bits[b % N(bits)], level, at, clen, x);
			comp[at] ^= x;
			same_answer(what, bits[b % N(bits)], comp, (size_t)clen,
				    &schedules[m % N(schedules)], 2 * len + 65536, (enum zl_end)-1);
			comp[at] ^= x;
		}
	}
	free(comp);
}

static void test_named_damage(const unsigned char *data, size_t len)
{
	size_t cap = len + len / 2 + 4096;
	unsigned char *comp = zl_xmalloc(cap), *raw = zl_xmalloc(4096);
	const struct zl_run *run = &schedules[0];
	long clen;
	size_t k;

	/* zlib header: the check bits, the method, the window */
	clen = zl_ref_deflate(6, 15, data, len, comp, cap);
	comp[1] ^= 1;
	same_answer("zlib header check", 15, comp, (size_t)clen, run, len + 64, ZL_END_DATA);
	comp[1] ^= 1;
	comp[0] = (comp[0] & 0xf0) | 7, comp[1] = (unsigned char)(31 - ((comp[0] << 8) % 31));
	same_answer("zlib method 7", 15, comp, (size_t)clen, run, len + 64, ZL_END_DATA);
	zl_ref_deflate(6, 15, data, len, comp, cap);
	same_answer("zlib window 15 into inflateInit2(9)", 9, comp, (size_t)clen, run, len + 64,
		    ZL_END_DATA);
	comp[clen - 1] ^= 0x10;
	same_answer("zlib wrong adler32", 15, comp, (size_t)clen, run, len + 64, ZL_END_DATA);
	comp[clen - 1] ^= 0x10;
	same_answer("zlib intact", 15, comp, (size_t)clen, run, len + 64, ZL_END_STREAM);

	/* gzip: magic, method, reserved flags, CRC, length */
	clen = zl_ref_deflate(6, 31, data, len, comp, cap);
	static const struct {
		const char *what;
		long at;
		unsigned char x;
	} gz[] = {
		{ "gzip magic", 1, 0x01 },	   { "gzip method 9", 2, 0x01 },
		{ "gzip reserved flag", 3, 0x80 }, { "gzip wrong crc32", -8, 0x01 },
		{ "gzip wrong length", -1, 0x01 },
	};
	for (k = 0; k < N(gz); k++) {
		long at = gz[k].at < 0 ? clen + gz[k].at : gz[k].at;

		comp[at] ^= gz[k].x;
		same_answer(gz[k].what, 31, comp, (size_t)clen, run, len + 64, ZL_END_DATA);
		same_answer(gz[k].what, 47, comp, (size_t)clen, &schedules[1], len + 64,
			    ZL_END_DATA);
		comp[at] ^= gz[k].x;
	}
	/* distances farther back than the inflater's window: zlib sees them
	 * only when they reach before its output buffer, so small buffers */
	clen = zl_ref_deflate(9, -15, data, len, comp, cap);
	same_answer("raw window 15 into windowBits -9", -9, comp, (size_t)clen, &schedules[2],
		    len + 64, ZL_END_DATA);
	clen = zl_ref_deflate(9, 31, data, len, comp, cap);
	same_answer("gzip window 15 into windowBits 25", 25, comp, (size_t)clen, &schedules[2],
		    len + 64, ZL_END_DATA);

	/* raw: a good stored block of 2000 bytes, then an invalid block type */
	raw[0] = 0x00, raw[1] = 2000 & 0xff, raw[2] = 2000 >> 8;
	raw[3] = (unsigned char)~raw[1], raw[4] = (unsigned char)~raw[2];
	memcpy(raw + 5, data, 2000);
	raw[2005] = 0x07;
	same_answer("raw invalid block type 3", -15, raw, 2006, run, 4096, ZL_END_DATA);
	/* a stored block whose NLEN does not match LEN */
	raw[2005] = 0x01, raw[2006] = 0x10, raw[2007] = 0x00, raw[2008] = 0xef;
	raw[2009] = 0xfe;
	memset(raw + 2010, 'x', 16);
	same_answer("raw stored length mismatch", -15, raw, 2026, run, 4096, ZL_END_DATA);
	raw[2009] = 0xff;
	same_answer("raw stored block intact", -15, raw, 2026, run, 4096, ZL_END_STREAM);
	free(comp);
	free(raw);
}

static void test_truncation(const unsigned char *data, size_t len, uint64_t *rs)
{
	static const int bits[] = { -15, 15, 31 };
	size_t cap = len + len / 2 + 65536, points[64], outs[64];
	unsigned char *comp = zl_xmalloc(cap), *out = zl_xmalloc(len + 64);
	unsigned b, k, np;

	for (b = 0; b < N(bits); b++) {
		z_stream z;
		size_t fed = 0, step = len / 20 + 1;
		struct zl_ires res;
		char what[128];

		/* stock deflate with a sync flush every step bytes */
		memset(&z, 0, sizeof(z));
		zl_ref.deflateInit2_(&z, 6, Z_DEFLATED, bits[b], 8, 0, ZLIB_VERSION,
				     (int)sizeof(z));
		z.next_out = comp;
		z.avail_out = (uInt)cap;
		for (np = 0; fed < len && np < N(points); np++) {
			size_t n = len - fed < step ? len - fed : step;

			z.next_in = (Bytef *)data + fed;
			z.avail_in = (uInt)n;
			fed += n;
			zl_ref.deflate(&z, fed == len ? Z_FINISH : Z_SYNC_FLUSH);
			points[np] = fed;
			outs[np] = z.total_out;
		}
		zl_ref.deflateEnd(&z);
		for (k = 0; k + 1 < np; k++) {
			const struct zl_run *run = &schedules[k % N(schedules)];

			snprintf(what, sizeof(what), "cut at sync point %u: bits %d, %zu of %zu bytes",
				 k, bits[b], outs[k], outs[np - 1]);
			if (zl_inflate_drive(&zl_plain, bits[b], comp, outs[k], run, data, len, out,
					     len + 64, NULL, 0, &res, what) < 0)
				continue;
			ZL_CHECK(what, res.end == ZL_END_TRUNC && res.total_out == points[k],
				 "ended with %s after %zu bytes out; all %zu bytes before the flush "
				 "point must come out", zl_end_names[res.end], res.total_out, points[k]);
		}
		/* anywhere: the same end as stock, the output a prefix (checked) */
		for (k = 0; k < 24; k++) {
			size_t cut = k < 4 ? k : k < 12 ? outs[np - 1] - (k - 3) :
				     zl_rand(rs) % outs[np - 1];

			snprintf(what, sizeof(what), "cut anywhere: bits %d, %zu of %zu bytes", bits[b],
				 cut, outs[np - 1]);
			same_answer(what, bits[b], comp, cut, &schedules[k % N(schedules)], len + 64,
				    ZL_END_TRUNC);
			zl_inflate_drive(&zl_plain, bits[b], comp, cut, &schedules[k % N(schedules)],
					 data, len, out, len + 64, NULL, 0, &res, what);
		}
	}
	free(comp);
	free(out);
}

int main(int argc, char **argv)
{
	const char *corpus = argc > 1 ? argv[1] : NULL;
	int layer = zl_mode(argc > 2 ? argv[2] : NULL);
	uint64_t rs = zl_seed();
	const char *name;
	unsigned char *file;
	size_t len;

	if (!corpus) {
		fprintf(stderr, "usage: t_zlib_damage CORPUS_DIR layer|stock\n");
		return 2;
	}
	file = zl_corpus_file(corpus, 0, &len, &name); /* alice29.txt */
	if (len > 120000)
		len = 120000;
	test_named_damage(file, len);
	test_random_damage(file, 60000, &rs);
	test_truncation(file, len, &rs);
	free(file);
	file = zl_corpus_file(corpus, 4, &len, &name); /* html */
	test_random_damage(file, len, &rs);
	free(file);
	return zl_finish("t_zlib_damage", layer, 0, 1);
}
