/* SPDX-License-Identifier: MIT */
/*
 * libz's gz* functions under the layer: their code is stock libz, which
 * calls deflate/inflate through its PLT, so with the layer preloaded the
 * streams underneath are the layer's.  Written with gzopen/gzwrite/
 * gzprintf/gzputs/gzputc/gzflush/gzsetparams (levels, strategies, small
 * buffers, several members appended), read back by a private stock zlib's
 * gzread; stock's multi-member files (and one with trailing garbage, and a
 * plain file read transparently) read with gzread/gzgets/gzgetc/gzungetc/
 * gzseek/gzrewind under the layer, compared with stock reading the same.
 *
 * usage: t_zlib_gz CORPUS_DIR layer|stock
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "zl.h"

static gzFile (*ref_gzopen)(const char *, const char *);
static int (*ref_gzread)(gzFile, voidp, unsigned);
static int (*ref_gzwrite)(gzFile, voidpc, unsigned);
static int (*ref_gzclose)(gzFile);
static char *(*ref_gzgets)(gzFile, char *, int);

static char dir[64];
static unsigned char *data;
static size_t data_len;

static void *ref_gz_sym(const char *name)
{
	void *p = dlsym(zl_ref_handle, name);

	if (!p) {
		fprintf(stderr, "FAIL: stock zlib has no %s\n", name);
		exit(1);
	}
	return p;
}

/* the whole content of a gzip file, read by stock zlib */
static unsigned char *ref_read_all(const char *path, size_t *len)
{
	gzFile f = ref_gzopen(path, "rb");
	size_t cap = 1 << 20, n = 0;
	unsigned char *buf = zl_xmalloc(cap);
	int got;

	if (!f) {
		*len = 0;
		return buf;
	}
	while ((got = ref_gzread(f, buf + n, (unsigned)(cap - n))) > 0) {
		n += (size_t)got;
		if (n == cap)
			buf = realloc(buf, cap *= 2);
	}
	ref_gzclose(f);
	*len = got < 0 ? (size_t)-1 : n;
	return buf;
}

/* Write with the plain gz* functions in pieces of every size, appending
 * more members with mode "ab"; what was written is collected in *expect. */
static void test_write(const char *mode, size_t buffer, unsigned char **expect, size_t *elen)
{
	static const size_t pieces[] = { 1, 97, 8191, 30000, 0 };
	char path[128], what[96], line[128];
	size_t pos = 0, cap = 4 * data_len, k = 0, member;
	unsigned char *exp = zl_xmalloc(cap), *got;
	size_t glen;

	snprintf(path, sizeof(path), "%s/w-%s.gz", dir, mode);
	snprintf(what, sizeof(what), "gzwrite mode %s buffer %zu", mode, buffer);
	for (member = 0; member < 3; member++) {
		char m[16];
		gzFile f;
		size_t end = member == 2 ? data_len : data_len / 3 * (member + 1);

		snprintf(m, sizeof(m), "%c%s", member ? 'a' : 'w', mode + 1);
		f = gzopen(path, m);
		if (!ZL_CHECK(what, f != NULL, "gzopen(%s)", m))
			break;
		if (buffer)
			gzbuffer(f, (unsigned)buffer);
		while (pos < end) {
			size_t n = pieces[k++ % 5];

			n = n == 0 || n > end - pos ? end - pos : n;
			if (!ZL_CHECK(what, gzwrite(f, data + pos, (unsigned)n) == (int)n,
				      "gzwrite of %zu bytes", n))
				break;
			memcpy(exp + *elen, data + pos, n);
			*elen += n, pos += n;
			if (k % 7 == 3)
				ZL_CHECK(what, gzflush(f, Z_SYNC_FLUSH) == Z_OK, "gzflush");
			if (k % 11 == 5)
				ZL_CHECK(what, gzsetparams(f, (int)(k % 10), Z_DEFAULT_STRATEGY) == Z_OK,
					 "gzsetparams");
		}
		snprintf(line, sizeof(line), "member %zu: %d %s\n", member, 42, "printf");
		ZL_CHECK(what, gzprintf(f, "member %zu: %d %s\n", member, 42, "printf") ==
			 (int)strlen(line), "gzprintf");
		memcpy(exp + *elen, line, strlen(line));
		*elen += strlen(line);
		ZL_CHECK(what, gzputs(f, "puts\n") == 5 && gzputc(f, 'c') == 'c', "gzputs/gzputc");
		memcpy(exp + *elen, "puts\nc", 6);
		*elen += 6;
		ZL_CHECK(what, gzclose(f) == Z_OK, "gzclose");
	}
	got = ref_read_all(path, &glen);
	ZL_CHECK(what, glen == *elen && !memcmp(got, exp, glen),
		 "stock gzread of the file: %zd bytes, %zu written", (ssize_t)glen, *elen);
	free(got);
	*expect = exp;
}

/* Read a file with the plain gz* functions several ways; compare with
 * what stock reads. */
static void test_read(const char *path, const char *what)
{
	size_t rlen, cap, n = 0;
	unsigned char *ref = ref_read_all(path, &rlen), *buf;
	char line[4096], rline[4096];
	gzFile f, r;
	int got = 0, c;

	cap = rlen + 65536;
	buf = zl_xmalloc(cap);
	/* gzread in pieces of 1, 100 and 65536 bytes, small buffer */
	for (unsigned way = 0; way < 3; way++) {
		static const unsigned pieces[] = { 1, 100, 65536 };

		f = gzopen(path, "rb");
		if (!ZL_CHECK(what, f != NULL, "gzopen"))
			return;
		if (way == 1)
			gzbuffer(f, 1024);
		n = 0;
		while (n < cap && (got = gzread(f, buf + n, pieces[way] < cap - n ? pieces[way]
							     : (unsigned)(cap - n))) > 0)
			n += (size_t)got;
		ZL_CHECK(what, got >= 0 && n == rlen && !memcmp(buf, ref, n),
			 "gzread in pieces of %u: %zu bytes (last %d), stock %zu", pieces[way], n, got,
			 rlen);
		ZL_CHECK(what, gzeof(f), "gzeof after reading it all");
		gzclose(f);
	}
	/* gzgets line by line against stock's */
	f = gzopen(path, "rb");
	r = ref_gzopen(path, "rb");
	for (;;) {
		char *a = gzgets(f, line, sizeof(line)), *b = ref_gzgets(r, rline, sizeof(rline));

		if (!ZL_CHECK(what, (a == NULL) == (b == NULL) && (!a || !strcmp(line, rline)),
			      "gzgets differs from stock's"))
			break;
		if (!a)
			break;
	}
	gzclose(f);
	ref_gzclose(r);
	/* gzgetc/gzungetc, gzseek forward, gzrewind */
	f = gzopen(path, "rb");
	c = gzgetc(f);
	ZL_CHECK(what, c == (rlen ? ref[0] : -1), "gzgetc = %d", c);
	if (rlen > 300000) {
		ZL_CHECK(what, gzungetc(c, f) == c && gzgetc(f) == c, "gzungetc");
		ZL_CHECK(what, gzseek(f, 250000, SEEK_SET) == 250000, "gzseek");
		ZL_CHECK(what, gzread(f, buf, 1000) == 1000 && !memcmp(buf, ref + 250000, 1000),
			 "gzread after gzseek");
		ZL_CHECK(what, gzrewind(f) == 0 && gzread(f, buf, 5000) == 5000 &&
			 !memcmp(buf, ref, 5000), "gzread after gzrewind");
	}
	gzclose(f);
	free(ref);
	free(buf);
}

static void write_file(const char *path, const void *p, size_t n)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	if (fd < 0 || write(fd, p, n) != (ssize_t)n) {
		fprintf(stderr, "FAIL: cannot write %s\n", path);
		exit(1);
	}
	close(fd);
}

static int remove_one(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(p);
}

int main(int argc, char **argv)
{
	const char *corpus = argc > 1 ? argv[1] : NULL;
	int layer = zl_mode(argc > 2 ? argv[2] : NULL);
	static const char *const modes[] = { "wb", "wb1", "wb9", "wb0", "wb6f", "wb6h", "wb6R",
					     "wb4F" };
	const char *name;
	unsigned char *exp;
	size_t elen, i;
	char path[128];

	if (!corpus) {
		fprintf(stderr, "usage: t_zlib_gz CORPUS_DIR layer|stock\n");
		return 2;
	}
	snprintf(dir, sizeof(dir), "/tmp/t_zlib_gz.XXXXXX");
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	ref_gzopen = ref_gz_sym("gzopen");
	ref_gzread = ref_gz_sym("gzread");
	ref_gzwrite = ref_gz_sym("gzwrite");
	ref_gzclose = ref_gz_sym("gzclose");
	ref_gzgets = ref_gz_sym("gzgets");
	data = zl_corpus_file(corpus, 5, &data_len, &name); /* html_x_4 */

	for (i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		elen = 0;
		test_write(modes[i], i == 3 ? 1024 : 0, &exp, &elen);
		snprintf(path, sizeof(path), "%s/w-%s.gz", dir, modes[i]);
		test_read(path, modes[i]);
		free(exp);
	}
	/* stock's members, one after the other, then trailing garbage */
	snprintf(path, sizeof(path), "%s/stock.gz", dir);
	for (i = 0; i < 3; i++) {
		gzFile f = ref_gzopen(path, i ? "ab" : "wb");

		ref_gzwrite(f, data + i * 1000, (unsigned)(data_len / 2));
		ref_gzclose(f);
	}
	test_read(path, "stock members");
	{
		FILE *f = fopen(path, "ab");

		fputs("trailing garbage", f);
		fclose(f);
	}
	test_read(path, "stock members and trailing garbage");
	/* not gzip at all: read as it is */
	snprintf(path, sizeof(path), "%s/plain.txt", dir);
	write_file(path, data, data_len);
	test_read(path, "a plain file");
	/* an empty member */
	snprintf(path, sizeof(path), "%s/empty.gz", dir);
	gzclose(gzopen(path, "wb"));
	test_read(path, "an empty member");

	if (nftw(dir, remove_one, 8, FTW_DEPTH | FTW_PHYS) != 0)
		fprintf(stderr, "warning: could not remove %s\n", dir);
	free(data);
	return zl_finish("t_zlib_gz", layer, 1, 1);
}
