/* SPDX-License-Identifier: MIT */
/*
 * One zlib behaviour per case, each found by the other tests of this
 * directory where the layer answered differently from stock zlib, reduced
 * to the few calls that show it.  argv[1] names the case; CTest runs each
 * as t_zlib_bug_<case>, with the layer and without (stock zlib passes all).
 *
 * usage: t_zlib_regress CASE CORPUS_DIR layer|stock
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "zl.h"

#define VER ZLIB_VERSION
#define SZ ((int)sizeof(z_stream))

static unsigned char *text;
static size_t text_len;

static void zinit(z_stream *z)
{
	memset(z, 0, sizeof(*z));
}

/* The soft engine's first deflate state comes from malloc uninitialised;
 * on recycled heap memory (a large block freed before: glibc then serves
 * large blocks from the heap) deflate fails with "WarpDrive device error"
 * (Python's zlib.compress after an earlier one; nginx at gzip_comp_level 1). */
static int case_engine_scratch_uninit(void)
{
	unsigned char *out = zl_xmalloc(1 << 20), *big;
	int fails = 0;

	for (int k = 0; k < 2; k++) {
		big = zl_xmalloc(4u << 20);
		for (size_t i = 0; i < (4u << 20); i++)
			big[i] = (unsigned char)(i * 2654435761u >> 13);
		free(big);
	}
	for (int round = 0; round < 3; round++) {
		z_stream z;
		int rc;

		zinit(&z);
		zl_plain.deflateInit2_(&z, 1, Z_DEFLATED, 15, 8, 0, VER, SZ);
		z.next_in = text, z.avail_in = (uInt)text_len;
		do {
			z.next_out = out + z.total_out, z.avail_out = 32768;
			rc = zl_plain.deflate(&z, Z_FINISH);
		} while (rc == Z_OK);
		fails += !ZL_CHECK("engine scratch", rc == Z_STREAM_END,
				   "round %d: deflate(Z_FINISH) = %d (%s)", round, rc, z.msg ? z.msg : "");
		zl_plain.deflateEnd(&z);
	}
	free(out);
	return fails;
}

/* Bytes after the stream stay unread at Z_STREAM_END, also when the caller
 * gives little output room per call (the layer reads ahead then). */
static int case_stream_end_readahead(void)
{
	unsigned char *comp = zl_xmalloc(40000), out[4000];
	z_stream z;
	int rc = Z_OK;
	size_t clen;

	zinit(&z);
	zl_ref.deflateInit2_(&z, 1, Z_DEFLATED, 15, 9, Z_RLE, VER, SZ);
	z.next_out = comp, z.avail_out = 40000;
	for (int i = 0; i < 3000; i++) {
		z.next_in = text + i, z.avail_in = 1;
		zl_ref.deflate(&z, i == 2999 ? Z_FINISH : Z_FULL_FLUSH);
	}
	clen = z.total_out;
	zl_ref.deflateEnd(&z);
	memcpy(comp + clen, "JUNK!", 5);
	zinit(&z);
	zl_plain.inflateInit2_(&z, 15, VER, SZ);
	z.next_in = comp, z.avail_in = (uInt)clen + 5;
	while (rc == Z_OK) {
		z.next_out = out + z.total_out, z.avail_out = 1;
		rc = zl_plain.inflate(&z, Z_NO_FLUSH);
	}
	zl_plain.inflateEnd(&z);
	free(comp);
	return !ZL_CHECK("read-ahead", rc == Z_STREAM_END && z.avail_in == 5 &&
			 z.total_in == clen, "rc %d, %lu of a %zu-byte stream read, %u bytes left "
			 "(want 5)", rc, z.total_in, clen, z.avail_in);
}

/* A zlib inflater fed a gzip stream 4 bytes at a time: Z_DATA_ERROR, not
 * Z_OK without progress forever (a caller's loop spins). */
static int case_wrong_header_spin(void)
{
	unsigned char gz[65536], out[5001];
	long glen = zl_ref_deflate(1, 31, text, 100000, gz, sizeof(gz));
	int fails = 0;

	for (int b = 0; b < 2; b++) {
		z_stream z;
		int rc = Z_OK, calls = 0;
		size_t fed = 0;

		zinit(&z);
		zl_plain.inflateInit2_(&z, b ? 15 : 0, VER, SZ);
		while (rc == Z_OK && calls++ < 50) {
			if (!z.avail_in && fed < (size_t)glen) {
				z.next_in = gz + fed, z.avail_in = 4;
				fed += 4;
			}
			z.next_out = out, z.avail_out = sizeof(out);
			rc = zl_plain.inflate(&z, Z_NO_FLUSH);
		}
		fails += !ZL_CHECK("wrong header", rc == Z_DATA_ERROR,
				   "windowBits %d: after %d calls rc %d with %u bytes of input left",
				   b ? 15 : 0, calls, rc, z.avail_in);
		zl_plain.inflateEnd(&z);
	}
	return fails;
}

/* inflate(Z_FINISH) that cannot finish returns Z_BUF_ERROR, never Z_OK
 * (here: one byte of a zlib header and one byte of room). */
static int case_finish_not_ok(void)
{
	unsigned char comp[65536], out[1];
	long clen = zl_ref_deflate(6, 15, text, 3000, comp, sizeof(comp));
	z_stream z;
	int rc;

	(void)clen;
	zinit(&z);
	zl_plain.inflateInit2_(&z, 15, VER, SZ);
	z.next_in = comp, z.avail_in = 1, z.next_out = out, z.avail_out = 1;
	rc = zl_plain.inflate(&z, Z_FINISH);
	zl_plain.inflateEnd(&z);
	return !ZL_CHECK("Z_FINISH", rc == Z_BUF_ERROR, "inflate(Z_FINISH) = %d", rc);
}

/* A refused inflateReset2 (bad windowBits) leaves the stream as it was. */
static int case_reset2_refused(void)
{
	int fails = 0;

	for (int bits = 7; bits <= 64; bits += 57) {
		z_stream z;
		int rc, end;

		zinit(&z);
		zl_plain.inflateInit2_(&z, 15, VER, SZ);
		rc = zl_plain.inflateReset2(&z, bits);
		end = zl_plain.inflateReset2(&z, 15);
		end = end == Z_OK ? zl_plain.inflateEnd(&z) : (zl_plain.inflateEnd(&z), end);
		fails += !ZL_CHECK("inflateReset2", rc == Z_STREAM_ERROR && end == Z_OK,
				   "inflateReset2(%d) = %d, then inflateReset2(15)/inflateEnd = %d",
				   bits, rc, end);
	}
	return fails;
}

/* deflate refuses flush values it does not know (Z_TREES is inflate's). */
static int case_deflate_bad_flush(void)
{
	unsigned char out[4096];
	z_stream z;
	int rc, end;

	zinit(&z);
	zl_plain.deflateInit2_(&z, 6, Z_DEFLATED, 15, 8, 0, VER, SZ);
	z.next_in = text, z.avail_in = 1000, z.next_out = out, z.avail_out = sizeof(out);
	rc = zl_plain.deflate(&z, Z_TREES);
	end = zl_plain.deflateEnd(&z);
	return !ZL_CHECK("deflate flush", rc == Z_STREAM_ERROR && end == Z_OK,
			 "deflate(Z_TREES) = %d, then deflateEnd = %d", rc, end);
}

/* inflate(Z_BLOCK) stops after the zlib header first; total_in counts the
 * header (a caller finds the next object by it). */
static int case_block_header(void)
{
	static unsigned char comp[300000], out[300000];
	long clen = zl_ref_deflate(6, 15, text, 200000, comp, sizeof(comp));
	z_stream z;
	int rc, rc2, fails = 0;

	zinit(&z);
	zl_plain.inflateInit2_(&z, 15, VER, SZ);
	z.next_in = comp, z.avail_in = (uInt)clen, z.next_out = out, z.avail_out = sizeof(out);
	rc = zl_plain.inflate(&z, Z_BLOCK);
	fails += !ZL_CHECK("Z_BLOCK", rc == Z_OK && z.total_in == 2 && z.total_out == 0 &&
			   (z.data_type & 0x80), "first inflate(Z_BLOCK) = %d, total_in %lu, "
			   "total_out %lu, data_type %#x (want after the 2-byte header, 0x80 set)",
			   rc, z.total_in, z.total_out, z.data_type);
	do
		rc2 = zl_plain.inflate(&z, Z_BLOCK);
	while (rc2 == Z_OK);
	fails += !ZL_CHECK("Z_BLOCK", rc2 == Z_STREAM_END && z.total_in == (uLong)clen,
			   "at the end: rc %d, total_in %lu of a %ld-byte stream", rc2, z.total_in,
			   clen);
	zl_plain.inflateEnd(&z);
	return fails;
}

/* A gzip header with a reserved flag bit set is Z_DATA_ERROR. */
static int case_gzip_reserved_flag(void)
{
	static unsigned char comp[65536], out[200000];
	long clen = zl_ref_deflate(6, 31, text, 100000, comp, sizeof(comp));
	z_stream z;
	long n;
	int rc;

	comp[3] |= 0x80;
	zinit(&z);
	zl_plain.inflateInit2_(&z, 31, VER, SZ);
	n = zl_pump_inflate(&zl_plain, &z, comp, (size_t)clen, out, sizeof(out), 0, &rc);
	zl_plain.inflateEnd(&z);
	return !ZL_CHECK("gzip flags", rc == Z_DATA_ERROR, "inflate = %d after %ld bytes", rc, n);
}

/* inflateCopy in the middle of a stream (Python's decompressobj.copy()). */
static int case_inflate_copy(void)
{
	static unsigned char comp[300000], out[300000];
	long clen = zl_ref_deflate(1, 15, text, 200000, comp, sizeof(comp));
	z_stream a, b;
	int rc;

	zinit(&a);
	zinit(&b);
	zl_plain.inflateInit2_(&a, 15, VER, SZ);
	zl_pump_inflate(&zl_plain, &a, comp, (size_t)clen / 2, out, sizeof(out), 0, &rc);
	rc = zl_plain.inflateCopy(&b, &a);
	if (rc == Z_OK) {
		long n = zl_pump_inflate(&zl_plain, &b, comp + b.total_in, (size_t)clen - b.total_in,
					 out + b.total_out, sizeof(out) - b.total_out, 0, &rc);

		ZL_CHECK("inflateCopy", rc == Z_STREAM_END && b.total_out == 200000 &&
			 !memcmp(out, text, 200000), "the copy ends with %d after %ld more bytes", rc,
			 n);
		zl_plain.inflateEnd(&b);
	}
	zl_plain.inflateEnd(&a);
	return !ZL_CHECK("inflateCopy", rc == Z_STREAM_END, "inflateCopy or the copy: %d", rc);
}

/* deflateParams changing the strategy in the middle of a stream. */
static int case_params_strategy(void)
{
	static unsigned char comp[300000];
	z_stream z;
	int rc;

	zinit(&z);
	zl_plain.deflateInit2_(&z, 1, Z_DEFLATED, 15, 8, 0, VER, SZ);
	zl_pump_deflate(&zl_plain, &z, text, 100000, comp, sizeof(comp), 10000, 0, "params");
	z.next_out = comp + z.total_out, z.avail_out = (uInt)(sizeof(comp) - z.total_out);
	rc = zl_plain.deflateParams(&z, 1, Z_FILTERED);
	zl_plain.deflateEnd(&z);
	return !ZL_CHECK("deflateParams", rc == Z_OK, "deflateParams(1, Z_FILTERED) = %d", rc);
}

/* inflate with next_in NULL and avail_in 0 (a call for more output before
 * any input): no pointer arithmetic on NULL (UBSan stops the process). */
static int case_null_next_in(void)
{
	unsigned char out[100];
	z_stream z;
	int rc;

	zinit(&z);
	zl_plain.inflateInit2_(&z, 15, VER, SZ);
	z.next_in = NULL, z.avail_in = 0, z.next_out = out, z.avail_out = sizeof(out);
	rc = zl_plain.inflate(&z, Z_NO_FLUSH);
	zl_plain.inflateEnd(&z);
	return !ZL_CHECK("next_in NULL", rc == Z_BUF_ERROR, "inflate = %d", rc);
}

/* A counter of the layer's statistics line ("why.bound", "level_kept"),
 * 0 when absent; -1 without the layer. */
static long long stat_of(const char *key)
{
	struct zl_stats st;
	char pat[64];
	const char *p;

	if (zl_stats_get(&st) < 0)
		return -1;
	snprintf(pat, sizeof(pat), " %s=", key);
	p = strstr(st.line, pat);
	return p ? atoll(p + strlen(pat)) : 0;
}

/* Each way to zlib is counted with its own reason (nothing silent):
 * uncompress with no room is 'bound' and buffers over 4 GiB are 'size'
 * (both were 'small'); deflateParams to level 0, or to a level a small
 * window cannot have, after data is level_kept, and before data hands
 * the stream to zlib as deflateInit2_ would ('window'); deflateTune
 * before data hands it over ('api'), after data is tune_kept. */
static int case_fallback_reasons(void)
{
	static unsigned char comp[300000], out[300000];
	uLongf clen = sizeof(comp), olen;
	uLong slen;
	long long b0 = stat_of("why.bound"), z0 = stat_of("why.size"), l0 = stat_of("level_kept");
	long long w0 = stat_of("why.window"), a0 = stat_of("why.api"), t0 = stat_of("tune_kept");
	int layer = b0 >= 0, fails = 0, rc;
	z_stream z;

	zl_ref.compress2(comp, &clen, text, 100000, 6);
	olen = 0;
	rc = zl_plain.uncompress(out, &olen, comp, clen);
	olen = 0;
	fails += !ZL_CHECK("uncompress, no room", rc == zl_ref.uncompress(out, &olen, comp, clen),
			   "= %d, stock %d", rc, zl_ref.uncompress(out, &olen, comp, clen));
	/* sizes over 4 GiB the call never reaches (zlib stops at the end) */
	olen = (uLongf)1 << 33, slen = (uLong)1 << 33;
	rc = zl_plain.uncompress2(out, &olen, comp, &slen);
	fails += !ZL_CHECK("uncompress2, 8 GiB", rc == Z_OK && olen == 100000 && slen == clen,
			   "= %d, %lu bytes from %lu", rc, olen, slen);
	olen = (uLongf)1 << 33;
	rc = zl_plain.compress2(out, &olen, text, 1000, 6);
	fails += !ZL_CHECK("compress2, 8 GiB of room", rc == Z_OK && olen < 1000, "= %d, %lu",
			   rc, olen);
	/* after data: level 0, then level 9 on a 4 KiB window */
	for (int k = 0; k < 2; k++) {
		zinit(&z);
		zl_plain.deflateInit2_(&z, 1, Z_DEFLATED, k ? 12 : 15, 8, 0, VER, SZ);
		zl_pump_deflate(&zl_plain, &z, text, 50000, comp, sizeof(comp), 10000, 0, "params");
		z.next_out = comp + z.total_out, z.avail_out = (uInt)(sizeof(comp) - z.total_out);
		rc = zl_plain.deflateParams(&z, k ? 9 : 0, 0);
		fails += !ZL_CHECK("deflateParams after data", rc == Z_OK, "= %d", rc);
		zl_plain.deflateEnd(&z);
	}
	/* before data: level 9 on a 4 KiB window */
	zinit(&z);
	zl_plain.deflateInit2_(&z, 1, Z_DEFLATED, 12, 8, 0, VER, SZ);
	rc = zl_plain.deflateParams(&z, 9, 0);
	fails += !ZL_CHECK("deflateParams before data", rc == Z_OK, "= %d", rc);
	fails += zl_pump_deflate(&zl_plain, &z, text, 50000, comp, sizeof(comp), 10000, 1,
				 "params before data") < 0;
	zl_plain.deflateEnd(&z);
	/* deflateTune before and after data */
	for (int k = 0; k < 2; k++) {
		long n;

		zinit(&z);
		zl_plain.deflateInit2_(&z, 6, Z_DEFLATED, 15, 8, 0, VER, SZ);
		if (k)
			zl_pump_deflate(&zl_plain, &z, text, 50000, comp, sizeof(comp), 10000, 0,
					"tune");
		rc = deflateTune(&z, 4, 4, 16, 16);
		fails += !ZL_CHECK("deflateTune", rc == Z_OK, "= %d", rc);
		n = zl_pump_deflate(&zl_plain, &z, text + 50000, 50000, comp + z.total_out,
				    sizeof(comp) - z.total_out, 10000, 1, "tune");
		fails += n < 0;
		zl_plain.deflateEnd(&z);
	}
	if (!layer)
		return fails;
	fails += !ZL_CHECK("reasons", stat_of("why.bound") == b0 + 1 &&
			   stat_of("why.size") == z0 + 2, "why.bound +%lld, why.size +%lld "
			   "(want +1, +2)", stat_of("why.bound") - b0, stat_of("why.size") - z0);
	fails += !ZL_CHECK("reasons", stat_of("level_kept") == l0 + 2 &&
			   stat_of("why.window") == w0 + 1, "level_kept +%lld, why.window +%lld "
			   "(want +2, +1)", stat_of("level_kept") - l0, stat_of("why.window") - w0);
	fails += !ZL_CHECK("reasons", stat_of("why.api") == a0 + 1 &&
			   stat_of("tune_kept") == t0 + 1, "why.api +%lld, tune_kept +%lld "
			   "(want +1, +1)", stat_of("why.api") - a0, stat_of("tune_kept") - t0);
	return fails;
}

/* A stream handed to zlib before data (deflateParams with a strategy)
 * keeps the dictionary it was given: the header and the stream as
 * stock's. */
static int case_handoff_dict(void)
{
	static unsigned char comp[2][100000];
	const struct zl_api *apis[2] = { &zl_plain, &zl_ref };
	long clen[2];
	int fails = 0;

	for (int a = 0; a < 2; a++) {
		z_stream z;

		zinit(&z);
		apis[a]->deflateInit2_(&z, 6, Z_DEFLATED, 15, 8, 0, VER, SZ);
		apis[a]->deflateSetDictionary(&z, text, 20000);
		apis[a]->deflateSetDictionary(&z, text + 20000, 20000);
		apis[a]->deflateParams(&z, 6, Z_FILTERED);
		clen[a] = zl_pump_deflate(apis[a], &z, text, 40000, comp[a], sizeof(comp[a]), 0, 1,
					  "handoff");
		apis[a]->deflateEnd(&z);
	}
	fails += !ZL_CHECK("dictionary handed to zlib", clen[0] == clen[1] &&
			   !memcmp(comp[0], comp[1], (size_t)clen[0]),
			   "%ld bytes, header %02x %02x %02x%02x%02x%02x; stock %ld, %02x %02x "
			   "%02x%02x%02x%02x", clen[0], comp[0][0], comp[0][1], comp[0][2],
			   comp[0][3], comp[0][4], comp[0][5], clen[1], comp[1][0], comp[1][1],
			   comp[1][2], comp[1][3], comp[1][4], comp[1][5]);
	return fails;
}

/* Messages each ended by Z_SYNC_FLUSH (websocket's per-message deflate,
 * an interactive protocol) at the default level: each was made alone at
 * libdeflate's level, without the history before it, so repeated content
 * came out at 7x stock's size.  Short pieces now take the history (ISA-L's
 * top level): within a quarter of stock's output, and stock inflates it. */
static int case_flushed_messages(void)
{
	static unsigned char msg[16 * 4096], comp[16 * 4096 * 2], back[16 * 4096];
	const size_t n = sizeof(msg);
	long sizes[2];
	int side, ok = 1;
	size_t i;

	/* 4 KiB messages, two kinds repeating, each from 37 symbols */
	for (i = 0; i < n; i++)
		msg[i] = text[(i % 8192) * 7 % text_len];
	for (side = 0; side < 2; side++) {
		const struct zl_api *api = side ? &zl_ref : &zl_plain;
		z_stream z;

		zinit(&z);
		api->deflateInit2_(&z, 6, Z_DEFLATED, -15, 8, 0, VER, SZ);
		z.next_out = comp;
		z.avail_out = sizeof(comp);
		for (i = 0; i < n; i += 4096) {
			z.next_in = msg + i;
			z.avail_in = 4096;
			api->deflate(&z, Z_SYNC_FLUSH);
		}
		sizes[side] = (long)z.total_out;
		api->deflateEnd(&z);
		if (!side) {
			z_stream inf;
			int rc;

			zinit(&inf);
			zl_ref.inflateInit2_(&inf, -15, VER, SZ);
			inf.next_in = comp;
			inf.avail_in = (uInt)sizes[0];
			inf.next_out = back;
			inf.avail_out = sizeof(back);
			rc = zl_ref.inflate(&inf, Z_SYNC_FLUSH);
			ok &= ZL_CHECK("flushed", rc == Z_OK && inf.total_out == n &&
				       !memcmp(back, msg, n), "stock inflate: %d, %lu bytes", rc,
				       (unsigned long)inf.total_out);
			zl_ref.inflateEnd(&inf);
		}
	}
	fprintf(stderr, "16 messages of 4 KiB, each sync-flushed, level 6: %ld bytes, stock %ld\n",
		sizes[0], sizes[1]);
	return !(ok && ZL_CHECK("flushed", sizes[0] <= sizes[1] + sizes[1] / 4,
				"%ld bytes, stock %ld", sizes[0], sizes[1]));
}

static const struct {
	const char *name;
	int (*fn)(void);
} cases[] = {
	{ "engine_scratch_uninit", case_engine_scratch_uninit },
	{ "stream_end_readahead", case_stream_end_readahead },
	{ "wrong_header_spin", case_wrong_header_spin },
	{ "finish_not_ok", case_finish_not_ok },
	{ "reset2_refused", case_reset2_refused },
	{ "deflate_bad_flush", case_deflate_bad_flush },
	{ "block_header", case_block_header },
	{ "gzip_reserved_flag", case_gzip_reserved_flag },
	{ "inflate_copy", case_inflate_copy },
	{ "params_strategy", case_params_strategy },
	{ "null_next_in", case_null_next_in },
	{ "fallback_reasons", case_fallback_reasons },
	{ "handoff_dict", case_handoff_dict },
	{ "flushed_messages", case_flushed_messages },
};

int main(int argc, char **argv)
{
	const char *name;
	size_t k;
	int layer;

	if (argc < 4) {
		fprintf(stderr, "usage: t_zlib_regress CASE CORPUS_DIR layer|stock\n");
		return 2;
	}
	layer = zl_mode(argv[3]);
	text = zl_corpus_file(argv[2], 9, &text_len, &name); /* plrabn12.txt, 470 KiB */
	for (k = 0; k < sizeof(cases) / sizeof(cases[0]); k++)
		if (!strcmp(cases[k].name, argv[1]))
			break;
	if (k == sizeof(cases) / sizeof(cases[0])) {
		fprintf(stderr, "no case %s\n", argv[1]);
		return 2;
	}
	cases[k].fn();
	free(text);
	return zl_finish(argv[1], layer, 0, 0);
}
