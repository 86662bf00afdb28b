/* SPDX-License-Identifier: MIT */
/*
 * fork() under the layer.  The parent compresses (its queue is up), then
 * forks; a queue is never inherited, so the child must still get right
 * results: with new streams (deflate and inflate, streaming and one-shot),
 * with a stream the parent had started before the fork (the child finishes
 * it, and so does the parent: both copies must be right), and in a
 * grandchild.  Each process reports through the statistics: with
 * WD_ZLIB_STATS=<file> every child's line, with its own pid, must be in
 * the file once it has exited, showing work on WarpDrive.
 *
 * usage: t_zlib_fork CORPUS_DIR layer|stock   (layer: WD_ZLIB_STATS=<file>)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "zl.h"

#define VER ZLIB_VERSION
#define SZ ((int)sizeof(z_stream))

static unsigned char *data;
static size_t data_len;

/* a fresh deflate and inflate stream each, checked; returns failures */
static void work(const char *who, size_t off)
{
	struct zl_run run = { .level = 6, .bits = 31, .memlevel = 8, .flush = ZL_F_NO,
			      .in_chunk = 4096, .out_chunk = 65536, .seed = off };
	size_t len = 100000, cap = 2 * len + 4096;
	unsigned char *comp = zl_xmalloc(cap), *out = zl_xmalloc(len + 64);
	struct zl_ires res;
	long clen;
	uLongf dl = cap, back = len;
	int rc;

	clen = zl_deflate_drive(&zl_plain, &run, data + off, len, comp, cap, NULL, 0, who);
	if (clen >= 0) {
		zl_inflate_drive(&zl_ref, 31, comp, (size_t)clen, &run, data + off, len, out,
				 len + 64, NULL, 0, &res, who);
		ZL_CHECK(who, res.end == ZL_END_STREAM && res.total_out == len,
			 "stock inflate of the child's stream: %s", zl_end_names[res.end]);
	}
	clen = zl_ref_deflate(6, 15, data + off, len, comp, cap);
	zl_inflate_drive(&zl_plain, 15, comp, (size_t)clen, &run, data + off, len, out, len + 64,
			 NULL, 0, &res, who);
	ZL_CHECK(who, res.end == ZL_END_STREAM && res.total_out == len, "inflate: %s",
		 zl_end_names[res.end]);
	rc = zl_plain.compress2(comp, &dl, data + off, len, 1);
	ZL_CHECK(who, rc == Z_OK, "compress2 = %d", rc);
	rc = zl_plain.uncompress(out, &back, comp, dl);
	ZL_CHECK(who, rc == Z_OK && back == len && !memcmp(out, data + off, len),
		 "uncompress = %d, %lu bytes", rc, back);
	free(comp);
	free(out);
}

/* finish a stream started before the fork; check it against all the input */
static void finish_started(const char *who, z_stream *z, unsigned char *comp, size_t cap,
			   size_t half, size_t len)
{
	unsigned char *out = zl_xmalloc(len + 64);
	long n = zl_pump_deflate(&zl_plain, z, data + half, len - half, comp + z->total_out,
				 cap - z->total_out, 5000, 1, who);
	uLongf back = len + 64;
	int rc;

	if (n >= 0) {
		rc = zl_ref.uncompress(out, &back, comp, z->total_out);
		ZL_CHECK(who, rc == Z_OK && back == len && !memcmp(out, data, len),
			 "a stream started before fork, finished after: stock uncompress = %d, "
			 "%lu of %zu bytes", rc, back, len);
	}
	ZL_CHECK(who, zl_plain.deflateEnd(z) == Z_OK, "deflateEnd");
	free(out);
}

static int reap(pid_t pid, const char *who)
{
	int st;

	if (waitpid(pid, &st, 0) != pid)
		return ZL_CHECK(who, 0, "waitpid failed"), -1;
	ZL_CHECK(who, WIFEXITED(st) && WEXITSTATUS(st) == 0, "child %d: status %#x", (int)pid, st);
	return 0;
}

/* the child's line in the stats file */
static void check_stats_line(const char *path, pid_t pid)
{
	char line[1024], key[32];
	struct zl_stats st;
	FILE *f = fopen(path, "r");
	int found = 0;

	snprintf(key, sizeof(key), "pid=%d ", (int)pid);
	while (f && fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = 0;
		if (!strstr(line, key))
			continue;
		found++;
		ZL_CHECK("stats file", zl_stats_parse(line, &st) == 0 && st.deflate_wd > 0 &&
			 st.inflate_wd > 0 && st.in_wd > 0,
			 "child %d's line shows no work on WarpDrive: %s", (int)pid, line);
	}
	if (f)
		fclose(f);
	ZL_CHECK("stats file", found == 1, "%d lines for child %d in %s", found, (int)pid, path);
}

int main(int argc, char **argv)
{
	const char *corpus = argc > 1 ? argv[1] : NULL;
	int layer = zl_mode(argc > 2 ? argv[2] : NULL);
	const char *stats = getenv("WD_ZLIB_STATS"), *name;
	size_t cap, half = 150000, len = 300000;
	unsigned char *comp;
	z_stream z;
	pid_t kids[3];
	int i;

	if (!corpus) {
		fprintf(stderr, "usage: t_zlib_fork CORPUS_DIR layer|stock\n");
		return 2;
	}
	if (layer && (!stats || stats[0] != '/')) {
		fprintf(stderr, "FAIL: layer mode needs WD_ZLIB_STATS=<absolute file>\n");
		return 1;
	}
	if (layer && truncate(stats, 0) < 0 && access(stats, F_OK) == 0) {
		fprintf(stderr, "FAIL: cannot empty %s\n", stats);
		return 1;
	}
	data = zl_corpus_file(corpus, 7, &data_len, &name); /* lcet10.txt */
	work("parent before fork", 0);
	/* a stream in the middle of its work when the process forks */
	cap = 2 * len + 4096;
	comp = zl_xmalloc(cap);
	memset(&z, 0, sizeof(z));
	zl_plain.deflateInit2_(&z, 6, Z_DEFLATED, 15, 8, 0, VER, SZ);
	zl_pump_deflate(&zl_plain, &z, data, half, comp, cap, 5000, 0, "parent, started");
	fflush(NULL);
	for (i = 0; i < 3; i++) {
		kids[i] = fork();
		if (kids[i] < 0) {
			perror("fork");
			return 1;
		}
		if (kids[i] == 0) {
			char who[64];

			snprintf(who, sizeof(who), "child %d", i);
			work(who, 1000 * (size_t)(i + 1));
			if (i == 0)
				finish_started("child 0, the parent's stream", &z, comp, cap, half, len);
			if (i == 2) { /* a grandchild */
				pid_t g = fork();

				if (g == 0) {
					work("grandchild", 5000);
					exit(zl_failures ? 1 : 0);
				}
				reap(g, "grandchild");
				if (layer)
					check_stats_line(stats, g);
			}
			if (layer) {
				struct zl_stats st;

				zl_stats_get(&st);
				ZL_CHECK(who, strstr(st.line, "pid=") &&
					 atoi(strstr(st.line, "pid=") + 4) == (int)getpid(),
					 "the stats line in a child names pid %s, not %d",
					 strstr(st.line, "pid="), (int)getpid());
			}
			exit(zl_failures ? 1 : 0);
		}
		reap(kids[i], "parent");
	}
	finish_started("parent, its own stream after the fork", &z, comp, cap, half, len);
	work("parent after fork", 7000);
	if (layer)
		for (i = 0; i < 3; i++)
			check_stats_line(stats, kids[i]);
	free(comp);
	free(data);
	return zl_finish("t_zlib_fork", layer, 1, 1);
}
