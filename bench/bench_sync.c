/* SPDX-License-Identifier: MIT */
/*
 * wd bench sync: the synchronous helpers against the library underneath
 * called directly on the same thread, same buffers, key schedule kept in
 * both.  wd_encrypt (AES-128-CBC) against OpenSSL's EVP (set the IV on a
 * keyed context, update, final) and wd_compress (gzip, level 1) against
 * ISA-L's isal_deflate_stateless at level 1 with a kept level buffer, at
 * 64 B, 1 KiB, 4 KiB, 64 KiB and 1 MiB; each helper both inline (the soft
 * device runs the request in the calling thread, the default) and through
 * the ring (a queue made with WD_QUEUE_F_RING_ONLY: one engine thread,
 * awake).  Then the asynchronous path: AES-128-CBC 64 B with 16 requests in
 * flight (as wd bench crypto) against the same direct calls.
 *
 * Then one-shot inflate (wd_decompress, gzip) of 64 KiB pieces of two inputs
 * (generated text, and the corpus: -d), compressed by the queue at level 1
 * (ISA-L's streams) and at zlib's -6 (libdeflate's), against ISA-L's
 * isal_inflate and libdeflate's gzip decompressor called directly on the
 * very same streams: the queue decodes with ISA-L alone (libdeflate
 * accepts streams zlib refuses), so its ratio to ISA-L is what the queue
 * costs and its ratio to libdeflate what zlib's verdicts cost.
 *
 * Every measurement of a row runs REPS times, the direct call and both
 * helpers back to back (in turns: each goes first as often), so each repetition gives a ratio (helper MB/s over
 * direct MB/s) measured under the same load; the table shows the median
 * ratio and the middle half of the repetitions' ratios (first to third
 * quartile), next to the median MB/s.  Figures are reported, never asserted.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <isa-l/igzip_lib.h>
#include <libdeflate.h>
#include <openssl/evp.h>
#include <wd/comp.h>
#include <wd/crypto.h>
#include <wd/wd.h>

#include "../tools/wd_cli.h"
#include "bench_corpus.h"
#include "bench_isal.h"
#include "bench_util.h"

#define REPS 11
#define NSIZES 5
#define SLOTS 16                /* messages rotate through this many buffers */
#define INFLIGHT 16             /* the asynchronous row */
#define MAX_MSG (1u << 20)
#define SLOT_AREA (SLOTS * (64u << 10)) /* small messages: 16 slots of <= 64 KiB */

static const size_t sizes[NSIZES] = { 64, 1u << 10, 4u << 10, 64u << 10, 1u << 20 };
static const char *const size_names[NSIZES] = { "64 B", "1 KiB", "4 KiB", "64 KiB", "1 MiB" };

/* M_LDEF: libdeflate called directly, a second baseline (inflate rows) */
enum { M_DIRECT, M_INLINE, M_RING, M_LDEF, M__N };

#define PIECE (64u << 10)       /* inflate rows */
#define ENGINE_IDLE_US 2000     /* engine thread's spin before it sleeps */
#define NINFL 4                 /* inputs x stream makers */

/* One input cut into PIECE-byte pieces, each compressed by the queue. */
struct streams {
	const char *input, *maker;
	const uint8_t *src;
	size_t len, n;
	uint8_t *comp, *out;    /* piece i at i * (PIECE + 1024), i * PIECE */
	uint32_t *clen;
};

struct bench {
	struct wd_ctx *ctx;
	struct wd_queue *q[M__N];       /* [M_INLINE], [M_RING]; comp queues */
	struct wd_queue *cq[M__N];      /* cipher queues */
	struct wd_cipher_sess *sess[M__N];
	EVP_CIPHER_CTX *evp;
	struct isal_zstream z;
	struct inflate_state isi;
	struct libdeflate_decompressor *ldd;
	struct streams *infl;           /* the inflate row being measured */
	uint8_t *corpus;
	size_t corpus_len;
	uint8_t *level_buf;
	uint8_t *src, *dst;
	size_t dst_cap;
	uint8_t key[16];
	double min_time;
	uint64_t seed;
};

static uint8_t *slot_ptr(uint8_t *base, size_t len, size_t i)
{
	return len > (64u << 10) ? base : base + (i % SLOTS) * len;
}

/* Text-like input: words from a small vocabulary, so deflate has work. */
static void fill_text(uint8_t *p, size_t len, uint64_t seed)
{
	static const char *const words[] = {
		"the ", "queue ", "engine ", "request ", "completion ", "thread ", "ring ",
		"device ", "memory ", "of ", "a ", "and ", "to ", "deflate ", "cipher ",
		"block ", "session ", "stream ", "WarpDrive ", "in ", "flight\n", "42 ",
	};
	size_t i = 0, k, w;

	while (i < len) {
		seed = seed * 6364136223846793005ull + 1442695040888963407ull;
		w = (size_t)(seed >> 33) % (sizeof(words) / sizeof(words[0]));
		for (k = 0; words[w][k] && i < len; k++)
			p[i++] = (uint8_t)words[w][k];
		if ((seed >> 20 & 63) == 0 && i < len)
			p[i++] = (uint8_t)(seed >> 40); /* a little noise */
	}
}

static size_t count_for(const struct bench *b, size_t len, double mbps)
{
	size_t n = (size_t)(b->min_time * mbps * 1e6 / (double)(len + 128));

	return n < 200 ? 200 : n;
}

/* ---- AES-128-CBC ---- */

static double cbc_run(struct bench *b, int m, size_t len, size_t n)
{
	uint64_t iv[2] = { 0, 0 };
	double t0 = bench_now();
	size_t i;
	int o;

	for (i = 0; i < n; i++) {
		uint8_t *s = slot_ptr(b->src, len, i), *d = slot_ptr(b->dst, len, i);

		iv[0] = i;
		if (m == M_DIRECT) {
			if (!EVP_CipherInit_ex(b->evp, NULL, NULL, NULL, (uint8_t *)iv, -1) ||
			    !EVP_CipherUpdate(b->evp, d, &o, s, (int)len) ||
			    !EVP_CipherFinal_ex(b->evp, d + o, &o))
				return -1;
		} else if (wd_encrypt(b->sess[m], iv, s, d, len)) {
			return -1;
		}
	}
	return (double)(n * len) / (bench_now() - t0) / 1e6;
}

/* 16 in flight through the ring: top up in one doorbell, reap down to half. */
static double cbc_async(struct bench *b, size_t len, size_t n)
{
	struct wd_queue *q = b->cq[M_RING];
	struct wd_req r[INFLIGHT];
	struct wd_cpl c[INFLIGHT];
	size_t sent = 0, done = 0;
	uint64_t iv[2] = { 0, 0 };
	double t0 = bench_now();
	unsigned k, i;
	int got;

	while (done < n) {
		for (k = 0; sent + k < n && (unsigned)wd_inflight(q) + k < INFLIGHT; k++) {
			iv[0] = sent + k;
			wd_prep_encrypt(&r[k], b->sess[M_RING], iv,
					(uintptr_t)slot_ptr(b->src, len, sent + k),
					(uintptr_t)slot_ptr(b->dst, len, sent + k), (uint32_t)len);
			r[k].tag = sent + k;
		}
		if (k && wd_send(q, r, k) != (int)k)
			return -1;
		sent += k;
		do {
			got = wd_wait(q, c, INFLIGHT, -1);
			if (got < 0)
				return -1;
			for (i = 0; i < (unsigned)got; i++)
				if (c[i].status)
					return -1;
			done += (size_t)got;
		} while (wd_inflight(q) > INFLIGHT / 2);
	}
	return (double)(n * len) / (bench_now() - t0) / 1e6;
}

/* ---- deflate, gzip framing, level 1 ---- */

static double comp_run(struct bench *b, int m, size_t len, size_t n)
{
	double t0 = bench_now();
	size_t i, out;

	for (i = 0; i < n; i++) {
		uint8_t *s = slot_ptr(b->src, len, i), *d = slot_ptr(b->dst, len, i);
		size_t cap = len > (64u << 10) ? b->dst_cap : len + 1024;

		if (m == M_DIRECT) {
			if (!bench_isal_gzip1(&b->z, b->level_buf, s, (uint32_t)len, d, (uint32_t)cap))
				return -1;
		} else {
			out = cap;
			if (wd_compress(b->q[m], s, len, d, &out, 1, WD_COMP_GZIP))
				return -1;
		}
	}
	return (double)(n * len) / (bench_now() - t0) / 1e6;
}

/* ---- one-shot inflate, gzip, 64 KiB pieces ---- */

static size_t piece_len(const struct streams *st, size_t i)
{
	return st->len - i * PIECE < PIECE ? st->len - i * PIECE : PIECE;
}

/* The pieces of src compressed by the queue at an engine level (the
 * queue's own output: the same bytes ISA-L or libdeflate makes). */
static int streams_make(struct streams *st, struct wd_queue *q, const char *input,
			const char *maker, const uint8_t *src, size_t len, unsigned level)
{
	size_t i;

	st->input = input;
	st->maker = maker;
	st->src = src;
	st->len = len;
	st->n = (len + PIECE - 1) / PIECE;
	st->comp = malloc(st->n * (PIECE + 1024));
	st->out = malloc(st->n * PIECE);
	st->clen = malloc(st->n * sizeof(*st->clen));
	if (!st->comp || !st->out || !st->clen)
		return -ENOMEM;
	memset(st->out, 0xa5, st->n * PIECE); /* no page faults while timed */
	for (i = 0; i < st->n; i++) {
		size_t cap = PIECE + 1024;
		int ret = wd_compress(q, src + i * PIECE, piece_len(st, i), st->comp + i * cap, &cap,
				      level, WD_COMP_GZIP);

		if (ret)
			return ret;
		st->clen[i] = (uint32_t)cap;
	}
	return 0;
}

static void streams_free(struct streams *st)
{
	free(st->comp);
	free(st->out);
	free(st->clen);
}

/* isal_inflate(), as the engine's ISA-L path and bench comp call it. */
static int isal_inflate1(struct inflate_state *s, const uint8_t *src, uint32_t len, uint8_t *dst,
			 uint32_t cap)
{
	isal_inflate_init(s);
	s->crc_flag = ISAL_GZIP;
	s->next_in = (uint8_t *)src;
	s->avail_in = len;
	s->next_out = dst;
	s->avail_out = cap;
	if (isal_inflate(s) != ISAL_DECOMP_OK || s->block_state != ISAL_BLOCK_FINISH)
		return -1;
	return s->total_out == cap ? 0 : -1;
}

/* n pieces, round and round the input; len is unused (each piece's own) */
static double inflate_run(struct bench *b, int m, size_t len, size_t n)
{
	const struct streams *st = b->infl;
	double t0 = bench_now();
	size_t i, k, bytes = 0, got;

	(void)len;
	for (k = 0; k < n; k++) {
		uint8_t *d;
		const uint8_t *c;
		uint32_t want;

		i = k % st->n;
		d = st->out + i * PIECE;
		c = st->comp + i * (PIECE + 1024);
		want = (uint32_t)piece_len(st, i);
		if (m == M_DIRECT) {
			if (isal_inflate1(&b->isi, c, st->clen[i], d, want))
				return -1;
		} else if (m == M_LDEF) {
			if (libdeflate_gzip_decompress(b->ldd, c, st->clen[i], d, want, &got) ||
			    got != want)
				return -1;
		} else {
			got = want;
			if (wd_decompress(b->q[m], c, st->clen[i], d, &got, WD_COMP_GZIP) ||
			    got != want)
				return -1;
		}
		bytes += want;
	}
	return (double)bytes / (bench_now() - t0) / 1e6;
}

/* ---- the run ---- */

struct row {
	const char *op;
	size_t size;
	double mbps[M__N];      /* medians */
	double ratio[M__N];     /* median of the repetitions' ratios to direct */
	double lo[M__N], hi[M__N]; /* their first and third quartiles */
	double vs_ldef[M__N];   /* median ratio to libdeflate direct (inflate rows) */
	const struct streams *infl;
};

typedef double (*run_fn)(struct bench *b, int m, size_t len, size_t n);

/* nm: the methods measured, M_DIRECT up to M_RING, or up to M_LDEF too */
static int measure(struct bench *b, run_fn fn, const char *op, size_t len, int nm,
		   struct row *row)
{
	double v[M__N][REPS], x[M__N][REPS], y[M__N][REPS], probe;
	size_t n;
	int m, r, k;

	/* size the runs from a short probe of the direct call */
	probe = fn(b, M_DIRECT, len, 200);
	if (probe <= 0)
		return -EIO;
	n = count_for(b, len, probe);
	row->op = op;
	row->size = len;
	for (r = 0; r < REPS; r++) {
		/* the order turns each repetition: no column is always first */
		for (k = 0; k < nm; k++) {
			m = (r + k) % nm;
			v[m][r] = fn(b, m, len, n);
			if (v[m][r] <= 0)
				return -EIO;
			/* the engine thread spins ENGINE_IDLE_US after its last
			 * ring request: on two cores that would slow whatever
			 * runs next (always the same column, the order being a
			 * rotation), so it goes to sleep first (untimed) */
			if (m != M_DIRECT && m != M_LDEF)
				usleep(3 * ENGINE_IDLE_US);
		}
		for (m = M_INLINE; m < nm; m++) {
			x[m][r] = v[m][r] / v[M_DIRECT][r];
			if (nm > M_LDEF)
				y[m][r] = v[m][r] / v[M_LDEF][r];
		}
	}
	for (m = 0; m < nm; m++) {
		row->mbps[m] = bench_median(v[m], REPS);
		if (m == M_DIRECT)
			continue;
		if (nm > M_LDEF)
			row->vs_ldef[m] = bench_median(y[m], REPS);
		row->ratio[m] = bench_median(x[m], REPS); /* sorts x[m] */
		row->lo[m] = x[m][REPS / 4];
		row->hi[m] = x[m][REPS - 1 - REPS / 4];
	}
	return 0;
}

/* The asynchronous row: both helper columns measure the queue (a second
 * sample each repetition); the table shows the first. */
static double async_fn(struct bench *b, int m, size_t len, size_t n)
{
	return m == M_DIRECT ? cbc_run(b, M_DIRECT, len, n) : cbc_async(b, len, n);
}

static int setup(struct bench *b)
{
	struct wd_ctx_opts co = { .size = sizeof(co), .soft_threads = 1,
				  .soft_idle_us = ENGINE_IDLE_US };
	struct wd_queue_opts qo = { .size = sizeof(qo), .depth = 64 };
	size_t i;
	int m, ret;

	b->src = malloc(MAX_MSG > SLOT_AREA ? MAX_MSG : SLOT_AREA);
	b->dst_cap = wd_comp_bound(MAX_MSG);
	b->dst = malloc(b->dst_cap > SLOT_AREA * 2 ? b->dst_cap : SLOT_AREA * 2);
	b->level_buf = malloc(ISAL_DEF_LVL1_DEFAULT);
	b->evp = EVP_CIPHER_CTX_new();
	b->ldd = libdeflate_alloc_decompressor();
	if (!b->src || !b->dst || !b->level_buf || !b->evp || !b->ldd)
		return -ENOMEM;
	fill_text(b->src, MAX_MSG > SLOT_AREA ? MAX_MSG : SLOT_AREA, b->seed);
	for (i = 0; i < sizeof(b->key); i++)
		b->key[i] = (uint8_t)(b->seed >> (i % 8 * 8)) ^ (uint8_t)i;
	if (!EVP_EncryptInit_ex(b->evp, EVP_aes_128_cbc(), NULL, b->key, NULL) ||
	    !EVP_CIPHER_CTX_set_padding(b->evp, 0))
		return -EIO;
	ret = wd_ctx_new(&b->ctx, &co);
	for (m = M_INLINE; m < M__N && !ret; m++) {
		qo.flags = m == M_RING ? WD_QUEUE_F_RING_ONLY : 0;
		ret = wd_queue_new(&b->q[m], b->ctx, "gzip", &qo);
		if (!ret)
			ret = wd_queue_new(&b->cq[m], b->ctx, "aes-cbc", &qo);
		if (!ret)
			ret = wd_cipher_sess_new(&b->sess[m], b->cq[m], WD_CIPHER_AES_CBC, b->key,
						 sizeof(b->key));
	}
	return ret;
}

static void teardown(struct bench *b)
{
	int m;

	for (m = M_INLINE; m < M__N; m++) {
		wd_cipher_sess_free(b->sess[m]);
		wd_queue_free(b->cq[m]);
		wd_queue_free(b->q[m]);
	}
	wd_ctx_free(b->ctx);
	EVP_CIPHER_CTX_free(b->evp);
	libdeflate_free_decompressor(b->ldd);
	free(b->corpus);
	free(b->level_buf);
	free(b->src);
	free(b->dst);
}

static void usage(FILE *f)
{
	fprintf(f, "usage: wd bench sync [-t SECONDS] [-s SEED] [-d DIR] [-j FILE] [-q]\n"
		   "  -t SECONDS  length of one measurement (default 0.03)\n"
		   "  -s SEED     seed of the input text and key (printed)\n"
		   "  -d DIR      corpus of the inflate rows: every file in DIR but README.md\n"
		   "              (default: the first of " WD_CLI_CORPUS_HELP ")\n"
		   "  -j FILE     also write the figures as JSON to FILE\n"
		   "  -q          JSON only, on stdout\n");
}

/* The inflate rows' streams: {generated, corpus} x {level 1, zlib's -6}. */
static int inflate_setup(struct bench *b, const char *dir, int dir_given,
			 struct streams *st, int *nst)
{
	static const char *const makers[2] = { "level 1 (ISA-L)", "zlib -6 (libdeflate)" };
	const unsigned levels[2] = { 1, wd_comp_level_from_zlib(6) };
	size_t nfiles = 0;
	int ret, k;

	*nst = 0;
	for (k = 0; k < 2; k++) {
		ret = streams_make(&st[(*nst)++], b->q[M_INLINE], "generated", makers[k], b->src,
				   MAX_MSG, levels[k]);
		if (ret)
			return ret;
	}
	ret = dir ? bench_load_corpus(dir, &b->corpus, &b->corpus_len, &nfiles) : -ENOENT;
	if (ret) {
		if (dir_given)
			return ret;
		fprintf(stderr, "wd bench sync: no corpus in %s: inflate rows on generated "
				"input only (see -d)\n", dir ? dir : WD_CLI_CORPUS_HELP);
		return 0;
	}
	for (k = 0; k < 2; k++) {
		ret = streams_make(&st[(*nst)++], b->q[M_INLINE], "corpus", makers[k], b->corpus,
				   b->corpus_len, levels[k]);
		if (ret)
			return ret;
	}
	return 0;
}

/* What the inflate rows' queues fell back on: nothing is expected. */
static uint64_t inflate_fallbacks(struct bench *b)
{
	uint64_t sum = 0;
	int m;

	for (m = M_INLINE; m <= M_RING; m++) {
		struct wd_queue_stats qs = { .size = sizeof(qs) };

		if (!wd_queue_stats(b->q[m], &qs))
			sum += qs.sync_ring_busy + qs.sync_ring_nomem;
	}
	return sum;
}

static void print_tables(const struct row *rows, int nrows, const struct row *infl, int ninfl,
			 uint64_t fallbacks)
{
	const struct row *a = &rows[nrows - 1];
	int i;

	printf("\nwd bench sync: synchronous helpers vs the library called directly "
	       "(1 thread, %d back-to-back runs: median MB/s, median ratio [quartiles])\n\n",
	       REPS);
	printf("%-20s %7s %11s %11s %20s %11s %20s\n", "operation", "size", "direct MB/s",
	       "inline MB/s", "inline/direct", "ring MB/s", "ring/direct");
	for (i = 0; i < nrows - 1; i++) {
		const struct row *r = &rows[i];

		printf("%-20s %7s %11.1f %11.1f %6.2fx [%.2f-%.2f] %11.1f %6.2fx [%.2f-%.2f]\n",
		       r->op, size_names[i % NSIZES], r->mbps[M_DIRECT], r->mbps[M_INLINE],
		       r->ratio[M_INLINE], r->lo[M_INLINE], r->hi[M_INLINE], r->mbps[M_RING],
		       r->ratio[M_RING], r->lo[M_RING], r->hi[M_RING]);
	}
	printf("\n%-20s %7s %11s %11s %20s\n", "asynchronous", "size", "direct MB/s", "queue MB/s",
	       "queue/direct");
	printf("%-20s %7s %11.1f %11.1f %6.2fx [%.2f-%.2f]\n", "aes-128-cbc, 16 in flight", "64 B",
	       a->mbps[M_DIRECT], a->mbps[M_INLINE], a->ratio[M_INLINE], a->lo[M_INLINE],
	       a->hi[M_INLINE]);
	printf("\none-shot inflate, gzip, 64 KiB pieces, the same streams for all (MB/s of output;\n"
	       "queue = wd_decompress: inline, or through the ring to an engine thread)\n\n");
	printf("%-10s %-21s %8s %8s %9s %8s %20s %9s %8s %9s\n", "input", "streams", "ISA-L",
	       "libdefl", "ldef/ISA", "inline", "inline/ISA-L", "inl/ldef", "ring", "ring/ISA");
	for (i = 0; i < ninfl; i++) {
		const struct row *r = &infl[i];

		printf("%-10s %-21s %8.1f %8.1f %8.2fx %8.1f %6.2fx [%.2f-%.2f] %8.2fx %8.1f %8.2fx\n",
		       r->infl->input, r->infl->maker, r->mbps[M_DIRECT], r->mbps[M_LDEF],
		       r->ratio[M_LDEF], r->mbps[M_INLINE], r->ratio[M_INLINE], r->lo[M_INLINE],
		       r->hi[M_INLINE], r->vs_ldef[M_INLINE], r->mbps[M_RING], r->ratio[M_RING]);
	}
	printf("fallbacks on these queues (inline requests sent to the ring; libdeflate "
	       "retries, 0 since decoding is ISA-L's): %llu\n\n", (unsigned long long)fallbacks);
}

static void write_json(FILE *f, const struct bench *b, const struct row *rows, int nrows,
		       const struct row *infl, int ninfl, uint64_t fallbacks)
{
	const struct row *a = &rows[nrows - 1];
	int i;

	fprintf(f, "{\"bench\":\"sync\",\"seed\":%llu,\"reps\":%d,\"rows\":[",
		(unsigned long long)b->seed, REPS);
	for (i = 0; i < nrows - 1; i++)
		fprintf(f, "%s{\"op\":\"%s\",\"size\":%zu,\"direct_mbps\":%.1f,"
			   "\"inline_mbps\":%.1f,\"ring_mbps\":%.1f,\"inline_ratio\":%.3f,"
			   "\"ring_ratio\":%.3f}", i ? "," : "", rows[i].op, rows[i].size,
			rows[i].mbps[M_DIRECT], rows[i].mbps[M_INLINE], rows[i].mbps[M_RING],
			rows[i].ratio[M_INLINE], rows[i].ratio[M_RING]);
	fprintf(f, "],\"async\":{\"op\":\"aes-128-cbc\",\"size\":64,\"inflight\":%d,"
		   "\"direct_mbps\":%.1f,\"queue_mbps\":%.1f,\"ratio\":%.3f},\"inflate\":[",
		INFLIGHT, a->mbps[M_DIRECT], a->mbps[M_INLINE], a->ratio[M_INLINE]);
	for (i = 0; i < ninfl; i++) {
		const struct row *r = &infl[i];

		fprintf(f, "%s{\"input\":\"%s\",\"streams\":\"%s\",\"size\":%u,"
			   "\"isal_direct_mbps\":%.1f,\"libdeflate_direct_mbps\":%.1f,"
			   "\"inline_mbps\":%.1f,\"ring_mbps\":%.1f,"
			   "\"libdeflate_vs_isal\":%.3f,\"inline_vs_isal\":%.3f,"
			   "\"inline_vs_libdeflate\":%.3f,\"ring_vs_isal\":%.3f,"
			   "\"ring_vs_libdeflate\":%.3f}", i ? "," : "", r->infl->input,
			r->infl->maker, PIECE, r->mbps[M_DIRECT], r->mbps[M_LDEF], r->mbps[M_INLINE],
			r->mbps[M_RING], r->ratio[M_LDEF], r->ratio[M_INLINE], r->vs_ldef[M_INLINE],
			r->ratio[M_RING], r->vs_ldef[M_RING]);
	}
	fprintf(f, "],\"inflate_fallbacks\":%llu}\n", (unsigned long long)fallbacks);
}

int wd_bench_sync(int argc, char **argv)
{
	struct bench b = { .min_time = 0.03, .seed = 0x5eed5eedull };
	struct row rows[2 * NSIZES + 1], infl[NINFL];
	struct streams st[NINFL] = { 0 };
	const char *json = NULL, *dir = NULL;
	int opt, quiet = 0, ret = 0, z, nrows = 0, nst = 0, i, dir_given = 0;
	uint64_t fallbacks = 0;
	FILE *jf = NULL;

	while ((opt = getopt(argc, argv, "t:s:d:j:qh")) != -1) {
		switch (opt) {
		case 't':
			b.min_time = strtod(optarg, NULL);
			if (b.min_time < 0.005)
				b.min_time = 0.005;
			break;
		case 's':
			b.seed = strtoull(optarg, NULL, 0);
			break;
		case 'd':
			dir = optarg;
			dir_given = 1;
			break;
		case 'j':
			json = optarg;
			break;
		case 'q':
			quiet = 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (!dir_given)
		dir = wd_cli_corpus_dir();
	ret = setup(&b);
	if (!ret)
		ret = inflate_setup(&b, dir, dir_given, st, &nst);
	if (ret) {
		for (i = 0; i < nst; i++)
			streams_free(&st[i]);
		teardown(&b);
		return wd_cli_fail("bench sync: cannot set up the queues or the inflate input", ret);
	}
	if (!quiet)
		fprintf(stderr, "measuring (seed 0x%llx): %d interleaved runs of about %.2f s each...\n",
			(unsigned long long)b.seed, REPS, b.min_time);
	for (z = 0; z < NSIZES && !ret; z++)
		ret = measure(&b, cbc_run, "aes-128-cbc", sizes[z], M_LDEF, &rows[nrows++]);
	for (z = 0; z < NSIZES && !ret; z++)
		ret = measure(&b, comp_run, "gzip-1", sizes[z], M_LDEF, &rows[nrows++]);
	if (!ret)
		ret = measure(&b, async_fn, "aes-128-cbc-async16", 64, M_LDEF, &rows[nrows++]);
	fallbacks = inflate_fallbacks(&b);
	for (i = 0; i < nst && !ret; i++) {
		b.infl = &st[i];
		infl[i].infl = &st[i];
		ret = measure(&b, inflate_run, "inflate", PIECE, M__N, &infl[i]);
	}
	fallbacks = inflate_fallbacks(&b) - fallbacks;
	for (i = 0; i < nst; i++)
		streams_free(&st[i]);
	teardown(&b);
	if (ret)
		return wd_cli_fail("bench sync: a measurement failed", ret);
	if (!quiet)
		print_tables(rows, nrows, infl, nst, fallbacks);
	if (json)
		jf = fopen(json, "w");
	if (json && !jf)
		return wd_cli_fail("bench sync: cannot write the JSON file", -errno);
	if (jf || quiet) {
		write_json(jf ? jf : stdout, &b, rows, nrows, infl, nst, fallbacks);
		if (jf)
			fclose(jf);
	}
	return 0;
}
