/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target, differential against zlib: arbitrary bytes as compressed
 * data in every framing, decoded by a queue one-shot (libdeflate, then
 * ISA-L) and as a stream fed in small pieces (ISA-L), and by zlib.  The
 * engine must make zlib's decision - accept or reject - and, accepting,
 * produce the same bytes from the same count of input.  Rejections are not
 * told apart: zlib judges a dynamic block header bit by bit where ISA-L
 * waits for the whole header, so a short input whose header is already
 * wrong is "corrupt" to zlib and "truncated" to the engine (both refuse
 * it).  Output beyond OUT_CAP is not compared: each stops elsewhere.
 *
 * One difference is ISA-L's and known (docs/internals.md): a dynamic
 * block whose Huffman codes do not fill their code space (the code-length
 * code of its header, the literal/length code).  zlib refuses it ("invalid
 * code lengths set", "invalid literal/lengths set", "invalid distances
 * set"); ISA-L decodes with it.  Telling would need a second decoding of
 * every stream; that case alone, by zlib's own messages, is counted rather
 * than failed (seeds/isal-incomplete-* keep it in every run).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wd/comp.h>
#include <zlib.h>

#define OUT_CAP (1u << 20)

/* zlib's and the engine's verdicts on one input, in common terms */
enum verdict { V_END, V_CORRUPT, V_TRUNCATED, V_NOSPACE, V_OTHER };

static struct wd_ctx *ctx;
static struct wd_queue *q;
static unsigned char *out, *ref;
static int zlib_code_set;               /* zlib's last refusal: "invalid ... set" */
static unsigned long known_codes;       /* inputs ISA-L took for that reason */

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

static enum verdict zlib_decode(int framing, const uint8_t *d, size_t n, size_t *len,
				size_t *used)
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
	*used = z.total_in;
	zlib_code_set = ret == Z_DATA_ERROR && z.msg &&
			(!strcmp(z.msg, "invalid code lengths set") ||
			 !strcmp(z.msg, "invalid literal/lengths set") ||
			 !strcmp(z.msg, "invalid distances set"));
	inflateEnd(&z);
	switch (ret) {
	case Z_STREAM_END:
		return V_END;
	case Z_DATA_ERROR:
	case Z_NEED_DICT: /* a preset dictionary nobody gave: the engine has none */
		return V_CORRUPT;
	case Z_BUF_ERROR:
		return z.avail_out ? V_TRUNCATED : V_NOSPACE;
	}
	return V_OTHER;
}

static enum verdict of_status(int status)
{
	switch (status) {
	case 0:
		return V_END;
	case -EBADMSG:
		return V_CORRUPT;
	case -ENODATA:
		return V_TRUNCATED;
	case -ENOSPC:
		return V_NOSPACE;
	}
	return V_OTHER;
}

/* The stream's verdict, fed piece bytes at a time with small output
 * space; *made: bytes produced in all. */
static enum verdict stream_decode(int framing, const uint8_t *d, size_t n, size_t piece,
				  size_t *made_all, size_t *used_all)
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
			abort(); /* no progress with input and space left: a hang */
		pos += used;
		opos += made;
	}
	wd_comp_stream_free(s);
	*made_all = opos;
	*used_all = pos;
	if (ret == 1)
		return V_END;
	return ret == 0 ? V_NOSPACE : of_status(ret);
}

/* Where both saw the whole answer, it must be the same one. */
static void compare(const char *who, int framing, enum verdict zv, size_t zlen, size_t zused, enum verdict wv,
		    size_t wlen, size_t wused)
{
	if (zv == V_NOSPACE || wv == V_NOSPACE)
		return; /* output past OUT_CAP: each stops somewhere else */
	if (zv == V_CORRUPT && wv == V_END && zlib_code_set) {
		if (!known_codes++)
			fprintf(stderr, "%s, framing %d: ISA-L decodes with a Huffman code that does "
				"not fill its space, zlib refuses it (known, counted)\n", who, framing);
		return;
	}
	if ((zv == V_END) != (wv == V_END) || wv == V_OTHER) {
		fprintf(stderr, "%s, framing %d: zlib verdict %d, engine %d\n", who, framing, zv, wv);
		abort();
	}
	if (zv == V_END && (zlen != wlen || zused != wused || memcmp(out, ref, zlen))) {
		fprintf(stderr, "%s, framing %d: same verdict, different bytes (%zu/%zu out, %zu/%zu in)\n",
			who, framing, zlen, wlen, zused, wused);
		abort();
	}
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
		size_t zlen, zused, slen, sused;
		enum verdict zv, sv;

		wd_prep_decompress(&r, out, OUT_CAP, data + 1, (uint32_t)(size - 1), framing);
		if (wd_send(q, &r, 1) != 1 || wd_wait(q, &c, 1, -1) != 1)
			abort();
		zv = zlib_decode(framing, data + 1, size - 1, &zlen, &zused);
		compare("one-shot", framing, zv, zlen, zused, of_status(c.status), c.result,
			(uint32_t)c.aux);
		sv = stream_decode(framing, data + 1, size - 1, 1 + data[0] % 64, &slen, &sused);
		compare("stream", framing, zv, zlen, zused, sv, slen, sused);
	}
	return 0;
}
