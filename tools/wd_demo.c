/* SPDX-License-Identifier: MIT */
/*
 * wd demo: a tour of a queue on the built-in accelerator.  It moves a buffer
 * through the device in batched requests (copy, fill, compare, CRC32C),
 * checks every result against the CPU doing the same work directly, and
 * prints what happened.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <isa-l/crc.h>
#include <dirent.h>
#include <wd/comp.h>
#include <wd/mover.h>
#include <wd/wd.h>

#include "wd_cli.h"

#define CHUNK (64u << 10)

static unsigned char *demo_read(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	unsigned char *buf = NULL;
	long n;

	if (!f)
		return NULL;
	if (!fseek(f, 0, SEEK_END) && (n = ftell(f)) >= 0 && !fseek(f, 0, SEEK_SET) &&
	    (buf = malloc((size_t)n + 1)) && fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	*len = buf ? (size_t)n : 0;
	return buf;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Run one op over the whole buffer in CHUNK pieces, batches of 32; returns
 * the seconds taken or a negative error.  Per-chunk results land in res. */
static double run_chunked(struct wd_queue *q, void (*prep)(struct wd_req *, size_t off, void *arg),
			  void *arg, size_t len, uint64_t *res)
{
	size_t nchunks = (len + CHUNK - 1) / CHUNK, sent = 0, done = 0;
	struct wd_req reqs[32];
	struct wd_cpl cpls[32];
	double t0 = now();
	int n, i;

	while (done < nchunks) {
		unsigned b = 0;

		while (b < 32 && sent + b < nchunks) {
			prep(&reqs[b], (sent + b) * CHUNK, arg);
			reqs[b].tag = sent + b;
			b++;
		}
		if (b) {
			n = wd_send(q, reqs, b);
			if (n < 0 && n != -EBUSY)
				return n;
			if (n > 0)
				sent += (size_t)n;
		}
		n = wd_wait(q, cpls, 32, 5000);
		if (n < 0 && n != -EAGAIN)
			return n;
		for (i = 0; i < n; i++) {
			if (cpls[i].status)
				return cpls[i].status;
			res[cpls[i].tag] = cpls[i].result;
		}
		done += (size_t)(n > 0 ? n : 0);
	}
	return now() - t0;
}

struct bufs {
	unsigned char *a, *b;
	size_t len;
};

static uint32_t chunk_len(const struct bufs *bf, size_t off)
{
	return (uint32_t)(bf->len - off < CHUNK ? bf->len - off : CHUNK);
}

static void prep_copy(struct wd_req *r, size_t off, void *arg)
{
	struct bufs *bf = arg;

	wd_prep_copy(r, bf->b + off, bf->a + off, chunk_len(bf, off));
}

static void prep_compare(struct wd_req *r, size_t off, void *arg)
{
	struct bufs *bf = arg;

	wd_prep_compare(r, bf->a + off, bf->b + off, chunk_len(bf, off));
}

static void prep_crc(struct wd_req *r, size_t off, void *arg)
{
	struct bufs *bf = arg;

	wd_prep_crc32c(r, bf->a + off, chunk_len(bf, off), 0);
}

static void prep_fill(struct wd_req *r, size_t off, void *arg)
{
	struct bufs *bf = arg;

	wd_prep_fill(r, bf->b + off, 0x5757575757575757ull, chunk_len(bf, off));
}

/*
 * Compress every file of a directory through a gzip queue, one one-shot
 * request each, then decompress each and check it byte for byte.  A
 * directory that cannot be read or holds no file is a failure: the corpus
 * comes with the repository (corpus/README.md).
 */
static int demo_corpus(const char *dir)
{
	struct wd_queue_opts qo = { .size = sizeof(qo), .depth = 32 };
	struct wd_ctx *ctx;
	struct wd_queue *q;
	struct dirent **ents;
	uint64_t tin = 0, tout = 0;
	int n, i, ret, bad = 0, files = 0;
	double t0, tc;

	n = scandir(dir, &ents, NULL, alphasort);
	if (n < 0) {
		fprintf(stderr, "wd: demo: corpus %s: %s (corpus/README.md)\n", dir,
			strerror(errno));
		return 1;
	}
	ret = wd_ctx_new(&ctx, NULL);
	if (!ret)
		ret = wd_queue_new(&q, ctx, "gzip", &qo);
	if (ret)
		return wd_cli_fail("cannot get a gzip queue", ret);
	printf("compressing %s through a gzip queue (one one-shot request per file):\n",
	       dir);
	printf("  %-16s %10s %10s %7s  %s\n", "file", "bytes", "gzip", "ratio", "check");
	for (i = 0; i < n; i++) {
		char path[4096];
		struct wd_req r;
		struct wd_cpl c;
		unsigned char *in, *comp, *back;
		size_t len, clen, blen;

		snprintf(path, sizeof(path), "%s/%s", dir, ents[i]->d_name);
		if (ents[i]->d_name[0] == '.' || strstr(ents[i]->d_name, "README") ||
		    !(in = demo_read(path, &len)))
			continue;
		clen = wd_comp_bound(len);
		comp = malloc(clen);
		back = malloc(len + 1);
		if (!comp || !back)
			return wd_cli_fail("demo buffers", -ENOMEM);
		t0 = now();
		wd_prep_compress(&r, comp, (uint32_t)clen, in, (uint32_t)len, 1, WD_COMP_GZIP);
		r.tag = (uint64_t)i;
		ret = wd_send(q, &r, 1);
		if (ret == 1)
			ret = wd_wait(q, &c, 1, -1);
		if (ret != 1 || c.status)
			return wd_cli_fail(path, ret < 0 ? ret : ret != 1 ? -EIO : c.status);
		tc = now() - t0;
		clen = c.result;
		blen = len + 1;
		ret = wd_decompress(q, comp, clen, back, &blen, WD_COMP_GZIP);
		ret = ret || blen != len || memcmp(in, back, len);
		bad |= ret;
		printf("  %-16s %10zu %10zu %6.2fx  %s (%.0f MB/s)\n", ents[i]->d_name, len, clen,
		       (double)len / clen, ret ? "MISMATCH" : "round trip ok", len / tc / 1e6);
		tin += len;
		tout += clen;
		files++;
		free(in);
		free(comp);
		free(back);
	}
	for (i = 0; i < n; i++)
		free(ents[i]);
	free(ents);
	if (tout)
		printf("  %-16s %10llu %10llu %6.2fx\n\n", "total", (unsigned long long)tin,
		       (unsigned long long)tout, (double)tin / tout);
	wd_queue_free(q);
	wd_ctx_free(ctx);
	if (!files) {
		fprintf(stderr, "wd: demo: no readable file in corpus %s\n", dir);
		return 1;
	}
	return bad;
}

int wd_cmd_demo(int argc, char **argv)
{
	struct wd_queue_opts qo = { .size = sizeof(qo), .depth = 64 };
	struct wd_queue_info qi = { .size = sizeof(qi) };
	const char *corpus = NULL;
	size_t mib = 64, i, nchunks;
	struct bufs bf;
	struct wd_ctx *ctx;
	struct wd_queue *q;
	uint64_t *res;
	double t;
	int opt, ret, bad = 0;

	while ((opt = getopt(argc, argv, "d:m:h")) != -1) {
		if (opt == 'm' && atoi(optarg) > 0) {
			mib = (size_t)atoi(optarg);
		} else if (opt == 'd') {
			corpus = optarg;
		} else {
			fprintf(opt == 'h' ? stdout : stderr,
				"usage: wd demo [-d CORPUS_DIR] [-m MIB]\n"
				"  compress a corpus through a gzip queue and check it, then\n"
				"  copy/compare/crc32c/fill MIB of memory through a mover queue\n"
				"  (default corpus: the first of %s)\n",
				WD_CLI_CORPUS_HELP);
			return opt == 'h' ? 0 : 2;
		}
	}
	if (!corpus)
		corpus = wd_cli_corpus_dir();
	if (!corpus) {
		printf("no corpus in %s: skipping the compression part (-d names one)\n\n",
		       WD_CLI_CORPUS_HELP);
	} else if (demo_corpus(corpus)) {
		printf("demo FAILED\n");
		return 1;
	}
	bf.len = mib << 20;
	nchunks = (bf.len + CHUNK - 1) / CHUNK;
	bf.a = malloc(bf.len);
	bf.b = malloc(bf.len);
	res = calloc(nchunks, sizeof(*res));
	if (!bf.a || !bf.b || !res)
		return wd_cli_fail("demo buffers", -ENOMEM);
	for (i = 0; i < bf.len; i++)
		bf.a[i] = (unsigned char)(i * 2654435761u >> 13);
	memset(bf.b, 0, bf.len); /* fault the pages in now, not inside the device */

	ret = wd_ctx_new(&ctx, NULL);
	if (!ret)
		ret = wd_queue_new(&q, ctx, "mover", &qo);
	if (ret)
		return wd_cli_fail("cannot get a mover queue", ret);
	wd_queue_info(q, &qi);
	printf("queue: algorithm %s on device %s, depth %u; %zu MiB in %zu requests of %u KiB\n",
	       qi.alg, qi.device, qi.depth, mib, nchunks, CHUNK >> 10);

	t = run_chunked(q, prep_copy, &bf, bf.len, res);
	if (t < 0)
		return wd_cli_fail("copy", (int)t);
	bad |= memcmp(bf.a, bf.b, bf.len) != 0;
	printf("  copy     %8.0f MB/s  %s\n", bf.len / t / 1e6, bad ? "MISMATCH" : "verified");

	t = run_chunked(q, prep_compare, &bf, bf.len, res);
	if (t < 0)
		return wd_cli_fail("compare", (int)t);
	for (i = 0; i < nchunks; i++)
		bad |= res[i] != 0;
	printf("  compare  %8.0f MB/s  %s\n", bf.len / t / 1e6, bad ? "MISMATCH" : "equal, as expected");

	t = run_chunked(q, prep_crc, &bf, bf.len, res);
	if (t < 0)
		return wd_cli_fail("crc32c", (int)t);
	for (i = 0; i < nchunks; i++)
		bad |= (uint32_t)res[i] !=
		       (uint32_t)~crc32_iscsi(bf.a + i * CHUNK, (int)chunk_len(&bf, i * CHUNK), ~0u);
	printf("  crc32c   %8.0f MB/s  %s\n", bf.len / t / 1e6, bad ? "MISMATCH" : "matches ISA-L");

	t = run_chunked(q, prep_fill, &bf, bf.len, res);
	if (t < 0)
		return wd_cli_fail("fill", (int)t);
	for (i = 0; i < bf.len; i++)
		bad |= bf.b[i] != 0x57;
	printf("  fill     %8.0f MB/s  %s\n", bf.len / t / 1e6, bad ? "MISMATCH" : "verified");

	wd_queue_free(q);
	wd_ctx_free(ctx);
	free(bf.a);
	free(bf.b);
	free(res);
	printf("demo %s\n", bad ? "FAILED" : "ok");
	return bad;
}
