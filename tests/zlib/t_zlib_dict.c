/* SPDX-License-Identifier: MIT */
/*
 * Preset dictionaries and gzip headers through the layer, both ways with
 * stock zlib: deflateSetDictionary (zlib and raw framing; refused for gzip
 * and once a zlib stream has started), Z_NEED_DICT with strm->adler the
 * dictionary's id, inflateSetDictionary (a wrong one is Z_DATA_ERROR),
 * dictionaries longer than the window, an empty one (no FDICT: stock
 * inflate needs none), two in a row (they add up: the id covers both,
 * matches reach both); deflateSetHeader/inflateGetHeader
 * with name, comment, extra field and header CRC.
 *
 * usage: t_zlib_dict CORPUS_DIR layer|stock
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "zl.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))
#define VER ZLIB_VERSION
#define SZ ((int)sizeof(z_stream))

static void test_cross(const struct zl_api *enc, const struct zl_api *dec,
		       const unsigned char *data, size_t len, const unsigned char *dict,
		       size_t dlen)
{
	static const int bits[] = { 15, -15, 9, -9, 12 };
	static const size_t chunks[] = { 0, 4096, 97 };
	size_t cap = 2 * len + 4096;
	unsigned char *comp = zl_xmalloc(cap), *out = zl_xmalloc(len + 64);
	unsigned b;

	for (b = 0; b < N(bits) * N(chunks); b++) {
		struct zl_run run = { .level = b % 3 ? 6 : 1, .bits = bits[b % N(bits)],
				      .memlevel = 8, .flush = b % 2 ? ZL_F_SYNC : ZL_F_NO,
				      .in_chunk = chunks[b % N(chunks)], .out_chunk = 0, .seed = b };
		struct zl_run drun = { .flush = ZL_F_NO, .in_chunk = chunks[(b + 1) % N(chunks)],
				       .out_chunk = b % 2 ? 4096 : 0 };
		struct zl_ires res;
		char what[128];
		long clen;

		snprintf(what, sizeof(what), "dictionary of %zu: %s deflate bits %d -> %s inflate",
			 dlen, enc->name, run.bits, dec->name);
		clen = zl_deflate_drive(enc, &run, data, len, comp, cap, dict, dlen, what);
		if (clen < 0)
			continue;
		if (zl_inflate_drive(dec, run.bits, comp, (size_t)clen, &drun, data, len, out,
				     len + 64, dict, dlen, &res, what) < 0)
			continue;
		ZL_CHECK(what, res.end == ZL_END_STREAM && res.total_out == len,
			 "ended with %s after %zu bytes", zl_end_names[res.end], res.total_out);
		if (run.bits > 0)
			ZL_CHECK(what, res.dict_asked &&
				 res.dict_id == zl_check_value(ZL_ZLIB, dict, dlen),
				 "Z_NEED_DICT %s, id %#lx (the dictionary's adler32 is %#lx)",
				 res.dict_asked ? "seen" : "not seen", res.dict_id,
				 zl_check_value(ZL_ZLIB, dict, dlen));
		/* without the dictionary: zlib framing asks for it */
		if (run.bits > 0) {
			zl_inflate_drive(dec, run.bits, comp, (size_t)clen, &drun, NULL, 0, out,
					 len + 64, NULL, 0, &res, what);
			ZL_CHECK(what, res.end == ZL_END_DICT, "without the dictionary: %s, not %s",
				 zl_end_names[res.end], zl_end_names[ZL_END_DICT]);
		}
	}
	free(comp);
	free(out);
}

/* the return codes around dictionaries, compared with stock */
static void test_codes(const unsigned char *data, size_t len, const unsigned char *dict,
		       size_t dlen)
{
	const struct zl_api *apis[2] = { &zl_plain, &zl_ref };
	int rcs[2][12];
	uLong ids[2];
	unsigned a, k;

	for (a = 0; a < 2; a++) {
		const struct zl_api *api = apis[a];
		size_t cap = 2 * len + 4096;
		unsigned char *comp = zl_xmalloc(cap), *out = zl_xmalloc(len + 64);
		unsigned char *other = zl_xmalloc(dlen);
		z_stream z;
		long clen;
		int *rc = rcs[a];

		memset(&z, 0, sizeof(z));
		api->deflateInit2_(&z, 6, Z_DEFLATED, 31, 8, 0, VER, SZ);
		rc[0] = api->deflateSetDictionary(&z, dict, (uInt)dlen); /* gzip: refused */
		api->deflateEnd(&z);
		memset(&z, 0, sizeof(z));
		api->deflateInit2_(&z, 6, Z_DEFLATED, 15, 8, 0, VER, SZ);
		rc[1] = api->deflateSetDictionary(&z, dict, (uInt)dlen);
		ids[a] = z.adler;
		z.next_in = (Bytef *)data, z.avail_in = (uInt)len;
		z.next_out = comp, z.avail_out = (uInt)cap;
		rc[2] = api->deflate(&z, Z_SYNC_FLUSH);
		rc[3] = api->deflateSetDictionary(&z, dict, (uInt)dlen); /* started: refused */
		rc[4] = api->deflate(&z, Z_FINISH);
		clen = (long)z.total_out;
		api->deflateEnd(&z);
		/* inflate: a wrong dictionary, then the right one */
		memcpy(other, dict, dlen);
		other[dlen / 2] ^= 1;
		memset(&z, 0, sizeof(z));
		api->inflateInit2_(&z, 15, VER, SZ);
		z.next_in = comp, z.avail_in = (uInt)clen;
		z.next_out = out, z.avail_out = (uInt)(len + 64);
		rc[5] = api->inflateSetDictionary(&z, dict, (uInt)dlen); /* too early */
		rc[6] = api->inflate(&z, Z_NO_FLUSH);
		rc[7] = api->inflateSetDictionary(&z, other, (uInt)dlen);
		rc[8] = api->inflateSetDictionary(&z, dict, (uInt)dlen);
		rc[9] = api->inflate(&z, Z_NO_FLUSH);
		rc[10] = (int)z.total_out;
		rc[11] = api->inflateEnd(&z);
		ZL_CHECK("dictionary codes", rc[10] == (int)len && !memcmp(out, data, len),
			 "%s: %d bytes back of %zu", api->name, rc[10], len);
		free(comp);
		free(out);
		free(other);
	}
	for (k = 0; k < N(rcs[0]); k++)
		ZL_CHECK("dictionary codes", rcs[0][k] == rcs[1][k], "step %u: plain %d, stock %d",
			 k, rcs[0][k], rcs[1][k]);
	ZL_CHECK("dictionary codes", ids[0] == ids[1],
		 "strm->adler after deflateSetDictionary: plain %#lx, stock %#lx", ids[0], ids[1]);
}

/* An empty dictionary changes nothing (zlib: no FDICT, strm->adler as it
 * was): stock inflate takes the stream without a dictionary, and the
 * streams stay on the engine. */
static void test_empty(int layer, const unsigned char *data, size_t len)
{
	static const int bits[] = { 15, -15, 12 };
	static const int levels[] = { 1, 6, 9 };
	const struct zl_api *apis[2] = { &zl_plain, &zl_ref };
	size_t cap = 2 * len + 4096;
	unsigned char *comp = zl_xmalloc(cap), *out = zl_xmalloc(len + 64);
	struct zl_stats s0, s1;
	unsigned k, a;

	zl_stats_get(&s0);
	for (k = 0; k < N(bits) * N(levels) * 2; k++) {
		struct zl_run run = { .level = levels[k / 2 % N(levels)], .bits = bits[k / 6],
				      .memlevel = 8, .flush = k % 2 ? ZL_F_FINISH : ZL_F_NO,
				      .in_chunk = 4096 };
		struct zl_run drun = { .flush = ZL_F_NO };
		struct zl_ires res;
		char what[128];
		long clen;

		snprintf(what, sizeof(what), "empty dictionary: level %d bits %d %s", run.level,
			 run.bits, zl_flush_names[run.flush]);
		clen = zl_deflate_drive(&zl_plain, &run, data, len, comp, cap, "", 0, what);
		if (clen < 2)
			continue;
		if (run.bits > 0)
			ZL_CHECK(what, !(comp[1] & 0x20), "header %02x %02x: FDICT set", comp[0],
				 comp[1]);
		if (zl_inflate_drive(&zl_ref, run.bits, comp, (size_t)clen, &drun, data, len, out,
				     len + 64, NULL, 0, &res, what) < 0)
			continue;
		ZL_CHECK(what, res.end == ZL_END_STREAM && res.total_out == len,
			 "stock inflate without a dictionary: %s after %zu bytes",
			 zl_end_names[res.end], res.total_out);
	}
	zl_stats_get(&s1);
	/* windows of 32 KiB at levels 1..9: all on the engine */
	if (layer)
		ZL_CHECK("empty dictionary", s1.deflate_wd - s0.deflate_wd >= 12,
			 "%lld streams on the engine of 12 with 32 KiB windows",
			 s1.deflate_wd - s0.deflate_wd);
	/* the return code and strm->adler, as stock's */
	for (k = 0; k < 2; k++) {
		int rc[2];
		uLong id[2];

		for (a = 0; a < 2; a++) {
			z_stream z;

			memset(&z, 0, sizeof(z));
			apis[a]->deflateInit2_(&z, 6, Z_DEFLATED, k ? -15 : 15, 8, 0, VER, SZ);
			rc[a] = apis[a]->deflateSetDictionary(&z, (const Bytef *)"", 0);
			id[a] = z.adler;
			apis[a]->deflateEnd(&z);
		}
		ZL_CHECK("empty dictionary", rc[0] == rc[1] && id[0] == id[1],
			 "bits %d: plain = %d, adler %#lx; stock = %d, adler %#lx", k ? -15 : 15,
			 rc[0], id[0], rc[1], id[1]);
	}
	free(comp);
	free(out);
}

/* Dictionaries given in two calls add up, as in zlib: the id is the
 * Adler-32 of both, and the window (deflateGetDictionary) holds the last
 * window's worth of both. */
static void test_chain(const unsigned char *file, size_t l1, size_t l2)
{
	static const int bits[] = { 15, -15 };
	const struct zl_api *apis[2] = { &zl_plain, &zl_ref };
	const unsigned char *d1 = file, *d2 = file + l1, *data = file;
	size_t len = l1, cap = 2 * len + 4096;
	unsigned char *comp = zl_xmalloc(cap), *out = zl_xmalloc(len + 64);
	uLong want = zl_check_value(ZL_ZLIB, file, l1 + l2);
	int (*ref_get)(z_streamp, Bytef *, uInt *);
	uInt wwant = l1 + l2 < 32768 ? (uInt)(l1 + l2) : 32768, wlen;
	unsigned char *win = zl_xmalloc(32768);
	unsigned b, a;

	zl_ref_load();
	ref_get = (int (*)(z_streamp, Bytef *, uInt *))dlsym(zl_ref_handle, "deflateGetDictionary");
	if (!ZL_CHECK("two dictionaries", ref_get, "stock zlib has no deflateGetDictionary"))
		return;
	for (b = 0; b < N(bits); b++) {
		uLong id[2];
		long clen[2];

		for (a = 0; a < 2; a++) {
			struct zl_run drun = { .flush = ZL_F_NO, .in_chunk = 4096 };
			struct zl_ires res;
			char what[128];
			z_stream z;
			int rc1, rc2;

			snprintf(what, sizeof(what), "two dictionaries of %zu and %zu: %s bits %d",
				 l1, l2, apis[a]->name, bits[b]);
			memset(&z, 0, sizeof(z));
			apis[a]->deflateInit2_(&z, 1, Z_DEFLATED, bits[b], 8, 0, VER, SZ);
			rc1 = apis[a]->deflateSetDictionary(&z, d1, (uInt)l1);
			rc2 = apis[a]->deflateSetDictionary(&z, d2, (uInt)l2);
			id[a] = z.adler;
			ZL_CHECK(what, rc1 == Z_OK && rc2 == Z_OK, "deflateSetDictionary = %d, %d",
				 rc1, rc2);
			rc1 = (a ? ref_get : deflateGetDictionary)(&z, win, &wlen);
			ZL_CHECK(what, rc1 == Z_OK && wlen == wwant &&
				 !memcmp(win, file + l1 + l2 - wwant, wwant),
				 "deflateGetDictionary = %d, %u bytes%s (the last %u of both)", rc1,
				 wlen, wlen == wwant ? " that differ" : "", wwant);
			clen[a] = zl_pump_deflate(apis[a], &z, data, len, comp, cap, 4096, 1, what);
			apis[a]->deflateEnd(&z);
			if (clen[a] < 6)
				continue;
			if (bits[b] > 0)
				ZL_CHECK(what, (comp[1] & 0x20) &&
					 ((uLong)comp[2] << 24 | (uLong)comp[3] << 16 |
					  (uLong)comp[4] << 8 | comp[5]) == want,
					 "header %02x %02x id %02x%02x%02x%02x, the adler32 of both is "
					 "%#lx", comp[0], comp[1], comp[2], comp[3], comp[4], comp[5],
					 want);
			if (zl_inflate_drive(&zl_ref, bits[b], comp, (size_t)clen[a], &drun, data,
					     len, out, len + 64, file, l1 + l2, &res, what) < 0)
				continue;
			ZL_CHECK(what, res.end == ZL_END_STREAM && res.total_out == len &&
				 (bits[b] < 0 || res.dict_id == want),
				 "stock inflate with both: %s after %zu bytes, id %#lx",
				 zl_end_names[res.end], res.total_out, res.dict_id);
		}
		ZL_CHECK("two dictionaries", id[0] == id[1],
			 "bits %d: strm->adler plain %#lx, stock %#lx", bits[b], id[0], id[1]);
	}
	free(comp);
	free(out);
	free(win);
}

static void test_header(const struct zl_api *enc, const struct zl_api *dec,
			const unsigned char *data, size_t len)
{
	static unsigned char extra[] = "AB\x04\x00wxyz";
	size_t cap = 2 * len + 4096;
	unsigned char *comp = zl_xmalloc(cap), *out = zl_xmalloc(len + 64);
	unsigned char got_extra[64];
	char got_name[64], got_comment[64], what[64];
	gz_header h, g;
	z_stream z;
	long clen;
	int rc;

	snprintf(what, sizeof(what), "gzip header: %s -> %s", enc->name, dec->name);
	memset(&h, 0, sizeof(h));
	h.text = 1, h.time = 1234567890, h.os = 3, h.hcrc = 1;
	h.extra = extra, h.extra_len = 8;
	h.name = (Bytef *)"corpus-file.txt", h.comment = (Bytef *)"a comment";
	memset(&z, 0, sizeof(z));
	enc->deflateInit2_(&z, 6, Z_DEFLATED, 31, 8, 0, VER, SZ);
	rc = enc->deflateSetHeader(&z, &h);
	ZL_CHECK(what, rc == Z_OK, "deflateSetHeader = %d", rc);
	clen = zl_pump_deflate(enc, &z, data, len, comp, cap, 10000, 1, what);
	enc->deflateEnd(&z);
	if (clen < 0)
		goto out;
	memset(&g, 0, sizeof(g));
	g.extra = got_extra, g.extra_max = sizeof(got_extra);
	g.name = (Bytef *)got_name, g.name_max = sizeof(got_name);
	g.comment = (Bytef *)got_comment, g.comm_max = sizeof(got_comment);
	memset(&z, 0, sizeof(z));
	dec->inflateInit2_(&z, 31, VER, SZ);
	rc = dec->inflateGetHeader(&z, &g);
	ZL_CHECK(what, rc == Z_OK, "inflateGetHeader = %d", rc);
	if (zl_pump_inflate(dec, &z, comp, (size_t)clen, out, len + 64, 4096, &rc) != (long)len ||
	    rc != Z_STREAM_END || memcmp(out, data, len))
		zl_fail(what, "inflate = %d, %lu bytes of %zu", rc, z.total_out, len);
	ZL_CHECK(what, g.done == 1 && g.text == 1 && g.time == 1234567890 && g.os == 3 &&
		 g.hcrc == 1 && g.extra_len == 8 && !memcmp(got_extra, extra, 8) &&
		 !strcmp(got_name, "corpus-file.txt") && !strcmp(got_comment, "a comment"),
		 "header read back: done %d text %d time %lu os %d hcrc %d extra %u name '%.20s' "
		 "comment '%.20s'", g.done, g.text, g.time, g.os, g.hcrc, g.extra_len, got_name,
		 got_comment);
	dec->inflateEnd(&z);
	/* a damaged header CRC is a data error */
	comp[10 + 2 + 8 + 16 + 10] ^= 1;
	memset(&z, 0, sizeof(z));
	dec->inflateInit2_(&z, 31, VER, SZ);
	zl_pump_inflate(dec, &z, comp, (size_t)clen, out, len + 64, 0, &rc);
	ZL_CHECK(what, rc == Z_DATA_ERROR, "header CRC damaged: inflate = %d", rc);
	dec->inflateEnd(&z);
out:
	free(comp);
	free(out);
}

int main(int argc, char **argv)
{
	const char *corpus = argc > 1 ? argv[1] : NULL;
	int layer = zl_mode(argc > 2 ? argv[2] : NULL);
	const char *name;
	unsigned char *file;
	size_t len;

	if (!corpus) {
		fprintf(stderr, "usage: t_zlib_dict CORPUS_DIR layer|stock\n");
		return 2;
	}
	(void)zl_seed();
	file = zl_corpus_file(corpus, 7, &len, &name); /* lcet10.txt */
	/* the dictionary is text like the data: its first 32 KiB, or 40 KiB
	 * (more than any window), or a few bytes */
	test_cross(&zl_plain, &zl_ref, file + 40960, 200000, file, 32768);
	test_cross(&zl_ref, &zl_plain, file + 40960, 200000, file, 32768);
	test_cross(&zl_plain, &zl_ref, file + 40960, 100000, file, 40960);
	test_cross(&zl_ref, &zl_plain, file + 40960, 100000, file, 40960);
	test_cross(&zl_plain, &zl_ref, file + 40960, 5000, file + 100, 7);
	test_cross(&zl_ref, &zl_plain, file + 40960, 5000, file + 100, 7);
	test_codes(file + 40960, 100000, file, 32768);
	test_empty(layer, file + 40960, 100000);
	test_chain(file, 20000, 10000);
	test_chain(file, 30000, 10000);
	test_header(&zl_plain, &zl_ref, file, 100000);
	test_header(&zl_ref, &zl_plain, file, 100000);
	test_header(&zl_plain, &zl_plain, file, 100000);
	free(file);
	return zl_finish("t_zlib_dict", layer, 1, 1);
}
