/* zlib as the reference codec for the compression tests. */
#ifndef T_ZLIB_H
#define T_ZLIB_H

#include <wd/comp.h>
#include <zlib.h>
#include "t_helpers.h"

static inline int t_zbits(enum wd_comp_framing f)
{
	return f == WD_COMP_RAW ? -15 : f == WD_COMP_ZLIB ? 15 : 31;
}

/* Inflate a whole stream with zlib; returns Z_STREAM_END on success. */
static inline int t_zinflate(enum wd_comp_framing f, const void *in, size_t len, void *out,
			     size_t cap, size_t *out_len)
{
	z_stream z = { 0 };
	int ret;

	T_EQ(inflateInit2(&z, t_zbits(f)), Z_OK);
	z.next_in = (Bytef *)(uintptr_t)in;
	z.avail_in = (uInt)len;
	z.next_out = out;
	z.avail_out = (uInt)cap;
	ret = inflate(&z, Z_FINISH);
	*out_len = z.total_out;
	inflateEnd(&z);
	return ret;
}

/* Deflate a whole buffer with zlib at a zlib level; returns the size. */
static inline size_t t_zdeflate(enum wd_comp_framing f, int level, const void *in, size_t len,
				void *out, size_t cap)
{
	z_stream z = { 0 };
	size_t n;

	T_EQ(deflateInit2(&z, level, Z_DEFLATED, t_zbits(f), 8, Z_DEFAULT_STRATEGY), Z_OK);
	z.next_in = (Bytef *)(uintptr_t)in;
	z.avail_in = (uInt)len;
	z.next_out = out;
	z.avail_out = (uInt)cap;
	T_EQ(deflate(&z, Z_FINISH), Z_STREAM_END);
	n = z.total_out;
	deflateEnd(&z);
	return n;
}

static inline uint32_t t_zcheck(enum wd_comp_framing f, const void *p, size_t len)
{
	if (f == WD_COMP_ZLIB)
		return (uint32_t)adler32(adler32(0, NULL, 0), p, (uInt)len);
	return (uint32_t)crc32(0, p, (uInt)len);
}

/* Read a whole file; NULL if it cannot be read. */
static inline unsigned char *t_read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	unsigned char *buf;
	long n;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t)n + 1);
	if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n) {
		fclose(f);
		free(buf);
		return NULL;
	}
	fclose(f);
	*len = (size_t)n;
	return buf;
}

static const char *const t_corpus_files[] = {
	"alice29.txt", "asyoulik.txt", "fireworks.jpeg", "geo.protodata", "html", "html_x_4",
	"kppkn.gtb", "lcet10.txt", "paper-100k.pdf", "plrabn12.txt", "urls.10K",
};

/* A compressible, reproducible input: words from a small vocabulary. */
static inline void t_fill_text(unsigned char *p, size_t len, uint64_t *seed)
{
	static const char *const words[] = { "warp ", "drive ", "queue ", "ring ", "the ",
					     "accelerator ", "deflate ", "of ", "memory ", "\n" };
	size_t i = 0;

	while (i < len) {
		const char *w = words[t_rand(seed) % 10];

		while (*w && i < len)
			p[i++] = (unsigned char)*w++;
	}
}

#endif
