/* SPDX-License-Identifier: MIT */
/*
 * wd bench comp: gzip compression through WarpDrive queues, measured in the
 * same run as the libraries an application would otherwise call itself:
 *   - the queue with one engine thread, and two queues (two engine threads)
 *     fed by one producer thread: one-shot requests, many in flight;
 *   - ISA-L called directly on this thread with the very calls the soft
 *     engine makes, so the gap between the two is what the queue costs;
 *   - zlib and libdeflate at levels 1 and 6, the usual alternatives;
 *   - the queue at gzip's levels 6 and 9 (wd_comp_level_from_zlib(): the
 *     soft engine's libdeflate levels) against zlib at those levels, for
 *     size and speed; and the queue's one-shot inflate (libdeflate first)
 *     against ISA-L's and libdeflate's called directly, each decoding the
 *     streams its own codec made (so "libdeflate -1" decodes libdeflate's
 *     streams, the queue and ISA-L ISA-L's: wd bench sync has the decoders
 *     side by side on the very same streams).
 * Two inputs, a corpus of real files and a large generated mix of text and
 * incompressible stretches, are cut into independent requests of 4 KiB,
 * 64 KiB and 1 MiB.  Every codec writes gzip framing, and every result is
 * decompressed and compared with the input.  Each measurement runs several
 * times, interleaved with the other codecs so a noisy neighbour hits them
 * all alike, and the median is kept.  Figures are reported, never asserted.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <isa-l.h>
#include <libdeflate.h>
#define ZLIB_CONST
#include <zlib.h>

#include <wd/comp.h>
#include <wd/wd.h>

#include "../tools/wd_cli.h"
#include "bench_corpus.h"
#include "bench_isal.h"
#include "bench_util.h"

#define QDEPTH 64               /* per queue: enough to never let an engine idle */
#define WAIT_MS 10000           /* no request takes this long unless the engine is stuck */
#define REPS_MAX 15
#define NSIZES 3
#define NINPUTS 2
#define VOCAB 2048              /* words of the generated text */
#define MB 1e6                  /* MB/s are 10^6 bytes of uncompressed data a second */

static const size_t req_sizes[NSIZES] = { 4u << 10, 64u << 10, 1u << 20 };
static const char *const size_names[NSIZES] = { "4 KiB", "64 KiB", "1 MiB" };
#define SIZE_64K 1              /* index of the 64 KiB requests, for the chart */

enum { C_Q1, C_Q2, C_ISAL, C_ZLIB1, C_ZLIB6, C_LDEF1, C_LDEF6, C_Q1_Z6, C_Q1_Z9, C_ZLIB9,
       NCODECS };

static const struct codec {
	const char *name;       /* in the table */
	const char *id;         /* in the JSON */
} codecs[NCODECS] = {
	[C_Q1] = { "wd, 1 queue", "wd_queue_1" },
	[C_Q2] = { "wd, 2 queues", "wd_queue_2" },
	[C_ISAL] = { "ISA-L direct", "isal_direct" },
	[C_ZLIB1] = { "zlib -1", "zlib_1" },
	[C_ZLIB6] = { "zlib -6", "zlib_6" },
	[C_LDEF1] = { "libdeflate -1", "libdeflate_1" },
	[C_LDEF6] = { "libdeflate -6", "libdeflate_6" },
	[C_Q1_Z6] = { "wd, 1 queue, -6", "wd_queue_1_zlib6" },
	[C_Q1_Z9] = { "wd, 1 queue, -9", "wd_queue_1_zlib9" },
	[C_ZLIB9] = { "zlib -9", "zlib_9" },
};

/* zlib level each codec compresses at (the queue's through
 * wd_comp_level_from_zlib), and the zlib codec at the same level */
static int zlevel(unsigned c)
{
	return c == C_Q1_Z6 || c == C_ZLIB6 || c == C_LDEF6 ? 6 : c == C_Q1_Z9 || c == C_ZLIB9 ? 9 : 1;
}

struct opts {
	const char *dir, *json, *png;
	int dir_given, quick, size_given, reps_given;
	unsigned long gen_mib, reps;
	unsigned long long seed;
	double min_time;        /* seconds a measurement lasts at least */
};

/* Every codec's state, set up once so no measurement pays for it. */
struct engines {
	struct wd_ctx *ctx1, *ctx2;     /* one engine thread, two */
	struct wd_queue *q1, *q2[2];
	struct isal_zstream isz;
	uint8_t *isal_lvl;
	struct inflate_state isi;
	z_stream zc[3], zd;             /* zlib -1, -6, -9 */
	int zc_ok[3], zd_ok;
	struct libdeflate_compressor *ldc[2];
	struct libdeflate_decompressor *ldd;
};

/* One input and the buffers every codec shares in turn. */
struct input {
	const char *name;
	char desc[PATH_MAX + 64];
	uint8_t *data, *comp, *out;
	uint32_t *clen;         /* compressed bytes of each request */
	size_t len;
};

/* An input cut into requests of one size. */
struct job {
	struct input *in;
	size_t req, nreq, slot; /* slot: room for one compressed request */
	unsigned level;         /* the queue's engine level */
};

struct result {
	size_t comp_bytes;      /* of the whole input, all requests */
	double ratio, comp_mbps, decomp_mbps;
	double vs_isal, vs_zlib1;       /* compress throughput, paired run by run */
	double vs_zsame;                /* compress throughput against zlib at the same level */
	double dec_vs_isal, dec_vs_ldef; /* decompress throughput against ISA-L, libdeflate */
	double comp[REPS_MAX], decomp[REPS_MAX];
};

struct bench {
	struct opts o;
	FILE *jf;               /* -j, opened before measuring */
	struct engines e;
	struct input in[NINPUTS];
	unsigned nin;
	size_t slot[NSIZES];
	struct result res[NINPUTS][NSIZES][NCODECS];
};

/* ---- generated input ---- */

/* splitmix64: tiny, and the whole input follows from the seed alone. */
static uint64_t rng_next(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static double rng_unit(uint64_t *s)
{
	return (double)(rng_next(s) >> 11) * 0x1.0p-53;
}

struct textgen {
	uint64_t rng;
	char words[VOCAB][8];
	uint8_t wlen[VOCAB];
};

struct sink {
	uint8_t *p;
	size_t left;
};

static void put(struct sink *s, const void *src, size_t n)
{
	if (n > s->left)
		n = s->left;
	memcpy(s->p, src, n);
	s->p += n;
	s->left -= n;
}

/* Words of 1-8 letters, common letters more often, as in prose. */
static void make_vocab(struct textgen *g)
{
	static const char letters[] = "etaoinshrdlcumwfgypbvkjxqz";
	unsigned i, k;

	for (i = 0; i < VOCAB; i++) {
		g->wlen[i] = (uint8_t)(1 + rng_next(&g->rng) % 4 + rng_next(&g->rng) % 5);
		for (k = 0; k < g->wlen[i]; k++) {
			double u = rng_unit(&g->rng);

			g->words[i][k] = letters[(unsigned)(26 * u * u)];
		}
	}
}

/* One word (a few common ones most of the time, now and then a number)
 * and what follows it. */
static void put_word(struct textgen *g, struct sink *s, int first, int last)
{
	double u = rng_unit(&g->rng);
	unsigned w = (unsigned)(VOCAB * u * u * u);
	char buf[24];
	int n = g->wlen[w];

	if (rng_next(&g->rng) % 20 == 0) {
		n = snprintf(buf, sizeof(buf), "%u", (unsigned)(rng_next(&g->rng) % 10000));
	} else {
		memcpy(buf, g->words[w], (size_t)n);
		if (first)
			buf[0] = (char)(buf[0] - 'a' + 'A');
	}
	if (last)
		buf[n++] = '.';
	else if (rng_next(&g->rng) % 12 == 0)
		buf[n++] = ',';
	buf[n++] = last && rng_next(&g->rng) % 6 == 0 ? '\n' : ' ';
	put(s, buf, (size_t)n);
}

/* Now and then repeat an earlier stretch of the text, as real text repeats
 * phrases: long matches, not only common words. */
static void put_repeat(struct textgen *g, struct sink *s, const uint8_t *start)
{
	size_t done = (size_t)(s->p - start), len = 16 + rng_next(&g->rng) % 128, reach;

	if (done < 2 * len)
		return;
	reach = done < (32u << 10) ? done : (32u << 10);
	/* back >= len: source and destination never overlap */
	put(s, s->p - len - rng_next(&g->rng) % (reach - len), len);
}

static void put_text(struct textgen *g, struct sink *s)
{
	const uint8_t *start = s->p;

	while (s->left) {
		unsigned words = 4 + (unsigned)(rng_next(&g->rng) % 15), k;

		if (rng_next(&g->rng) % 4 == 0)
			put_repeat(g, s, start);
		for (k = 0; k < words; k++)
			put_word(g, s, k == 0, k + 1 == words);
	}
}

static void put_noise(struct textgen *g, struct sink *s)
{
	while (s->left) {
		uint64_t v = rng_next(&g->rng);

		put(s, &v, sizeof(v));
	}
}

/* Text in stretches of 16-256 KiB; one stretch in four is instead 8-128 KiB
 * of random bytes, as compressed or encrypted parts of real data are. */
static int gen_input(struct input *in, size_t len, uint64_t seed)
{
	struct textgen *g = calloc(1, sizeof(*g));
	struct sink all, seg;
	size_t noise = 0, n;

	in->data = malloc(len);
	if (!g || !in->data) {
		free(g);
		return -ENOMEM;
	}
	g->rng = seed;
	make_vocab(g);
	all = (struct sink){ in->data, len };
	while (all.left) {
		int random = rng_next(&g->rng) % 4 == 0;

		n = random ? (8u << 10) + rng_next(&g->rng) % (120u << 10)
			   : (16u << 10) + rng_next(&g->rng) % (240u << 10);
		if (n > all.left)
			n = all.left;
		seg = (struct sink){ all.p, n };
		if (random) {
			noise += n;
			put_noise(g, &seg);
		} else {
			put_text(g, &seg);
		}
		all.p += n;
		all.left -= n;
	}
	in->len = len;
	snprintf(in->desc, sizeof(in->desc), "%.1f MiB, seed %llu, %.1f%% random bytes",
		 (double)len / (1 << 20), (unsigned long long)seed,
		 100.0 * (double)noise / (double)len);
	free(g);
	return 0;
}

/* ---- corpus ---- */

/* File errors in the C library's words: wd_strerror() gives some errno
 * values meanings particular to queues (-EIO, -ENOSPC, -ENODATA). */
static int file_fail(const char *what, int err)
{
	fprintf(stderr, "wd: %s: %s\n", what, strerror(-err));
	return 1;
}

static int load_corpus(struct input *in, const char *dir)
{
	size_t n = 0;
	int ret = bench_load_corpus(dir, &in->data, &in->len, &n);

	snprintf(in->desc, sizeof(in->desc), "%s, %zu files, %.2f MB", dir, n,
		 (double)in->len / MB);
	return ret;
}

/* ---- codecs, one request at a time on this thread ---- */

/* The soft engine's one-shot compression, call for call. */
static int isal_comp1(struct engines *e, const uint8_t *src, uint32_t len, uint8_t *dst,
		      uint32_t cap, uint32_t *out)
{
	*out = bench_isal_gzip1(&e->isz, e->isal_lvl, src, len, dst, cap);
	return *out ? 0 : -1;
}

/* isal_inflate(), not the stateless variant: again what the engine calls. */
static int isal_decomp1(struct engines *e, const uint8_t *src, uint32_t len, uint8_t *dst,
			uint32_t cap, uint32_t *out)
{
	struct inflate_state *s = &e->isi;

	isal_inflate_init(s);
	s->crc_flag = ISAL_GZIP;
	s->next_in = (uint8_t *)src;
	s->avail_in = len;
	s->next_out = dst;
	s->avail_out = cap;
	if (isal_inflate(s) != ISAL_DECOMP_OK || s->block_state != ISAL_BLOCK_FINISH)
		return -1;
	*out = s->total_out;
	return 0;
}

/* deflateReset() rather than a fresh deflateInit2() per request: zlib at
 * its best, as a careful application would use it. */
static int zlib_comp1(z_stream *z, const uint8_t *src, uint32_t len, uint8_t *dst, uint32_t cap,
		      uint32_t *out)
{
	if (deflateReset(z) != Z_OK)
		return -1;
	z->next_in = src;
	z->avail_in = len;
	z->next_out = dst;
	z->avail_out = cap;
	if (deflate(z, Z_FINISH) != Z_STREAM_END)
		return -1;
	*out = cap - z->avail_out;
	return 0;
}

static int zlib_decomp1(z_stream *z, const uint8_t *src, uint32_t len, uint8_t *dst,
			uint32_t cap, uint32_t *out)
{
	if (inflateReset(z) != Z_OK)
		return -1;
	z->next_in = src;
	z->avail_in = len;
	z->next_out = dst;
	z->avail_out = cap;
	if (inflate(z, Z_FINISH) != Z_STREAM_END)
		return -1;
	*out = cap - z->avail_out;
	return 0;
}

static int ldef_comp1(struct libdeflate_compressor *c, const uint8_t *src, uint32_t len,
		      uint8_t *dst, uint32_t cap, uint32_t *out)
{
	size_t n = libdeflate_gzip_compress(c, src, len, dst, cap);

	*out = (uint32_t)n;
	return n ? 0 : -1;
}

static int ldef_decomp1(struct libdeflate_decompressor *d, const uint8_t *src, uint32_t len,
			uint8_t *dst, uint32_t cap, uint32_t *out)
{
	size_t n = 0;

	if (libdeflate_gzip_decompress(d, src, len, dst, cap, &n) != LIBDEFLATE_SUCCESS)
		return -1;
	*out = (uint32_t)n;
	return 0;
}

static int direct_comp1(struct engines *e, unsigned c, const uint8_t *src, uint32_t len,
			uint8_t *dst, uint32_t cap, uint32_t *out)
{
	switch (c) {
	case C_ISAL:
		return isal_comp1(e, src, len, dst, cap, out);
	case C_ZLIB1:
	case C_ZLIB6:
	case C_ZLIB9:
		return zlib_comp1(&e->zc[c == C_ZLIB6 ? 1 : c == C_ZLIB9 ? 2 : 0], src, len, dst, cap,
				  out);
	default:
		return ldef_comp1(e->ldc[c == C_LDEF6], src, len, dst, cap, out);
	}
}

static int direct_decomp1(struct engines *e, unsigned c, const uint8_t *src, uint32_t len,
			  uint8_t *dst, uint32_t cap, uint32_t *out)
{
	switch (c) {
	case C_ISAL:
		return isal_decomp1(e, src, len, dst, cap, out);
	case C_ZLIB1:
	case C_ZLIB6:
	case C_ZLIB9:
		return zlib_decomp1(&e->zd, src, len, dst, cap, out);
	default:
		return ldef_decomp1(e->ldd, src, len, dst, cap, out);
	}
}

/* ---- requests ---- */

static uint32_t req_len(const struct job *j, size_t i)
{
	size_t off = i * j->req;

	return (uint32_t)(j->in->len - off < j->req ? j->in->len - off : j->req);
}

static const uint8_t *req_src(const struct job *j, size_t i)
{
	return j->in->data + i * j->req;
}

static uint8_t *req_comp(const struct job *j, size_t i)
{
	return j->in->comp + i * j->slot;
}

static uint8_t *req_out(const struct job *j, size_t i)
{
	return j->in->out + i * j->req;
}

static int direct_pass(struct engines *e, unsigned c, const struct job *j, int decomp)
{
	uint32_t n, len, slot = (uint32_t)j->slot;
	size_t i;

	for (i = 0; i < j->nreq; i++) {
		len = req_len(j, i);
		if (decomp) {
			if (direct_decomp1(e, c, req_comp(j, i), j->in->clen[i], req_out(j, i), len,
					   &n) || n != len)
				break;
		} else {
			if (direct_comp1(e, c, req_src(j, i), len, req_comp(j, i), slot, &n))
				break;
			j->in->clen[i] = n;
		}
	}
	if (i == j->nreq)
		return 0;
	fprintf(stderr, "wd: bench comp: %s: request %zu failed\n", codecs[c].name, i);
	return -1;
}

/* ---- the queue ---- */

static void prep_req(const struct job *j, size_t i, int decomp, struct wd_req *r)
{
	if (decomp)
		wd_prep_decompress(r, req_out(j, i), req_len(j, i), req_comp(j, i), j->in->clen[i],
				   WD_COMP_GZIP);
	else
		wd_prep_compress(r, req_comp(j, i), (uint32_t)j->slot, req_src(j, i), req_len(j, i),
				 j->level, WD_COMP_GZIP);
	r->tag = i;
}

/* Top q up with the next requests: as many as it has room for, at most
 * max. */
static int queue_fill(struct wd_queue *q, const struct job *j, int decomp, size_t *next,
		      size_t max)
{
	struct wd_req reqs[QDEPTH];
	size_t n = QDEPTH - (size_t)wd_inflight(q), k;
	int ret;

	if (n > max)
		n = max;
	if (!n)
		return 0;
	for (k = 0; k < n; k++)
		prep_req(j, *next + k, decomp, &reqs[k]);
	ret = wd_send(q, reqs, (unsigned)n);
	if (ret < 0) {
		fprintf(stderr, "wd: bench comp: wd_send: %s\n", wd_strerror(ret));
		return -1;
	}
	*next += (size_t)ret;
	return 0;
}

static int queue_check(const struct job *j, const struct wd_cpl *c, int decomp)
{
	uint32_t len;
	int ok;

	if (c->tag >= j->nreq || c->status) {
		fprintf(stderr, "wd: bench comp: request %llu: %s\n", (unsigned long long)c->tag,
			wd_strerror(c->status));
		return -1;
	}
	len = req_len(j, c->tag);
	if (decomp)
		ok = c->result == len;
	else
		ok = wd_cpl_consumed(c) == len && (c->flags & WD_CPL_F_END) && c->result <= j->slot;
	if (!ok) {
		fprintf(stderr, "wd: bench comp: request %llu: unexpected completion\n",
			(unsigned long long)c->tag);
		return -1;
	}
	if (!decomp)
		j->in->clen[c->tag] = (uint32_t)c->result;
	return 0;
}

/* Every request of the job through nq queues from this one thread.  It
 * sleeps in wd_wait() on one queue, taking turns so each is refilled in
 * time, then takes what the others have without blocking: the engines, not
 * this thread, should have the CPUs. */
static int queue_pass(struct wd_queue *const *qs, unsigned nq, const struct job *j, int decomp)
{
	struct wd_cpl cpls[QDEPTH];
	size_t next = 0, done = 0;
	unsigned turn = 0, i, w;
	int n, k;

	while (done < j->nreq) {
		/* Share what is left evenly, or with few requests the first
		 * queue would take them all. */
		for (i = 0; i < nq; i++)
			if (queue_fill(qs[i], j, decomp, &next,
				       (j->nreq - next + nq - i - 1) / (nq - i)))
				return -1;
		w = turn++ % nq;
		for (i = 0; i < nq && !wd_inflight(qs[w]); i++)
			w = (w + 1) % nq;
		for (i = 0; i < nq; i++) {
			struct wd_queue *q = qs[(w + i) % nq];

			n = i ? wd_recv(q, cpls, QDEPTH) : wd_wait(q, cpls, QDEPTH, WAIT_MS);
			if (n < 0) {
				fprintf(stderr, "wd: bench comp: reaping: %s\n", wd_strerror(n));
				return -1;
			}
			for (k = 0; k < n; k++)
				if (queue_check(j, &cpls[k], decomp))
					return -1;
			done += (size_t)n;
		}
	}
	return 0;
}

/* ---- measuring ---- */

static int run_pass(struct bench *b, unsigned c, const struct job *j, int decomp)
{
	if (c == C_Q1 || c == C_Q1_Z6 || c == C_Q1_Z9)
		return queue_pass(&b->e.q1, 1, j, decomp);
	if (c == C_Q2)
		return queue_pass(b->e.q2, 2, j, decomp);
	return direct_pass(&b->e, c, j, decomp);
}

/* Whole passes over the input until min_time is up: small requests are
 * timed over many of them, not one at a time. */
static double timed(struct bench *b, unsigned c, const struct job *j, int decomp)
{
	double t0 = bench_now(), t;
	size_t passes = 0;

	do {
		if (run_pass(b, c, j, decomp))
			return -1;
		passes++;
		t = bench_now() - t0;
	} while (t < b->o.min_time);
	return (double)passes * (double)j->in->len / t / MB;
}

static struct job make_job(struct bench *b, unsigned in, unsigned s)
{
	struct job j = { &b->in[in], req_sizes[s], 0, b->slot[s], 1 };

	j.nreq = (j.in->len + j.req - 1) / j.req;
	return j;
}

/* Compress, decompress, compare: one run of one codec on one job. */
static int measure(struct bench *b, unsigned in, unsigned s, unsigned c, unsigned rep)
{
	struct job j = make_job(b, in, s);
	struct result *r = &b->res[in][s][c];
	size_t i, total = 0;

	j.level = wd_comp_level_from_zlib(zlevel(c));
	/* Output left by the previous codec must not pass for this one's. */
	memset(j.in->clen, 0, j.nreq * sizeof(*j.in->clen));
	memset(j.in->out, 0xa5, j.in->len);
	r->comp[rep] = timed(b, c, &j, 0);
	if (r->comp[rep] >= 0)
		r->decomp[rep] = timed(b, c, &j, 1);
	if (r->comp[rep] < 0 || r->decomp[rep] < 0) {
		fprintf(stderr, "wd: bench comp: %s failed on %s, %s requests\n", codecs[c].name,
			j.in->name, size_names[s]);
		return 1;
	}
	for (i = 0; i < j.nreq; i++) {
		total += j.in->clen[i];
		if (memcmp(req_out(&j, i), req_src(&j, i), req_len(&j, i))) {
			fprintf(stderr,
				"wd: bench comp: %s: %s, %s request %zu decompressed wrong\n",
				codecs[c].name, j.in->name, size_names[s], i);
			return 1;
		}
	}
	r->comp_bytes = total;
	r->ratio = (double)j.in->len / (double)total;
	return 0;
}

/* Medians; the ratios between codecs are taken run by run first, so that
 * a neighbour's burst that slows one run of both sides cancels out. */
static void summarize(struct result *r, unsigned reps)
{
	double vi[NCODECS][REPS_MAX], vz[NCODECS][REPS_MAX], vs[NCODECS][REPS_MAX];
	double di[NCODECS][REPS_MAX], dl[NCODECS][REPS_MAX];
	unsigned c, k;

	for (c = 0; c < NCODECS; c++) {
		unsigned same = zlevel(c) == 9 ? C_ZLIB9 : zlevel(c) == 6 ? C_ZLIB6 : C_ZLIB1;

		for (k = 0; k < reps; k++) {
			vi[c][k] = r[c].comp[k] / r[C_ISAL].comp[k];
			vz[c][k] = r[c].comp[k] / r[C_ZLIB1].comp[k];
			vs[c][k] = r[c].comp[k] / r[same].comp[k];
			di[c][k] = r[c].decomp[k] / r[C_ISAL].decomp[k];
			dl[c][k] = r[c].decomp[k] / r[C_LDEF1].decomp[k];
		}
	}
	/* only now: bench_median() sorts in place */
	for (c = 0; c < NCODECS; c++) {
		r[c].vs_isal = bench_median(vi[c], (int)reps);
		r[c].vs_zlib1 = bench_median(vz[c], (int)reps);
		r[c].vs_zsame = bench_median(vs[c], (int)reps);
		r[c].dec_vs_isal = bench_median(di[c], (int)reps);
		r[c].dec_vs_ldef = bench_median(dl[c], (int)reps);
		r[c].comp_mbps = bench_median(r[c].comp, (int)reps);
		r[c].decomp_mbps = bench_median(r[c].decomp, (int)reps);
	}
}

/* The queue sits next to the baselines it is compared with, and the order
 * runs forwards in even runs and backwards in odd ones: a slow drift (a
 * neighbour starting up) then hits both sides of a comparison alike. */
static const unsigned order[NCODECS] = {
	C_ZLIB1, C_Q1, C_ISAL, C_Q2, C_LDEF1, C_LDEF6, C_Q1_Z6, C_ZLIB6, C_ZLIB9, C_Q1_Z9,
};

static int run_all(struct bench *b)
{
	unsigned rep, in, s, k;

	for (rep = 0; rep < b->o.reps; rep++) {
		fprintf(stderr, "wd bench comp: run %u of %lu...\n", rep + 1, b->o.reps);
		for (in = 0; in < b->nin; in++)
			for (s = 0; s < NSIZES; s++)
				for (k = 0; k < NCODECS; k++)
					if (measure(b, in, s, order[rep % 2 ? NCODECS - 1 - k : k],
						    rep))
						return 1;
	}
	for (in = 0; in < b->nin; in++)
		for (s = 0; s < NSIZES; s++)
			summarize(b->res[in][s], (unsigned)b->o.reps);
	return 0;
}

/* ---- set-up ---- */

static int libs_open(struct engines *e)
{
	static const int levels[3] = { 1, 6, 9 };
	unsigned i;
	int ok;

	e->isal_lvl = malloc(ISAL_DEF_LVL1_DEFAULT);
	ok = !!e->isal_lvl;
	for (i = 0; i < 3; i++) {
		e->zc_ok[i] = deflateInit2(&e->zc[i], levels[i], Z_DEFLATED, 31, 8,
					   Z_DEFAULT_STRATEGY) == Z_OK;
		ok = ok && e->zc_ok[i];
	}
	for (i = 0; i < 2; i++) {
		e->ldc[i] = libdeflate_alloc_compressor(levels[i]);
		ok = ok && e->ldc[i];
	}
	e->zd_ok = inflateInit2(&e->zd, 31) == Z_OK;
	e->ldd = libdeflate_alloc_decompressor();
	if (ok && e->zd_ok && e->ldd)
		return 0;
	fprintf(stderr, "wd: bench comp: cannot set up the compression libraries\n");
	return 1;
}

/* The "1 queue" figures use a context of its own with one engine thread,
 * so that they measure exactly one. */
static int engines_open(struct engines *e)
{
	struct wd_ctx_opts co = { .size = sizeof(co), .soft_threads = 1 };
	struct wd_queue_opts qo = { .size = sizeof(qo), .depth = QDEPTH };
	unsigned i;
	int ret;

	ret = wd_ctx_new(&e->ctx1, &co);
	if (!ret)
		ret = wd_queue_new(&e->q1, e->ctx1, "gzip", &qo);
	co.soft_threads = 2;
	if (!ret)
		ret = wd_ctx_new(&e->ctx2, &co);
	for (i = 0; i < 2 && !ret; i++)
		ret = wd_queue_new(&e->q2[i], e->ctx2, "gzip", &qo);
	if (ret)
		return wd_cli_fail("bench comp: cannot set up the queues", ret);
	return libs_open(e);
}

static void engines_close(struct engines *e)
{
	unsigned i;

	for (i = 0; i < 3; i++)
		if (e->zc_ok[i])
			deflateEnd(&e->zc[i]);
	for (i = 0; i < 2; i++) {
		if (e->q2[i])
			wd_queue_free(e->q2[i]);
		if (e->ldc[i])
			libdeflate_free_compressor(e->ldc[i]);
	}
	if (e->q1)
		wd_queue_free(e->q1);
	if (e->ctx1)
		wd_ctx_free(e->ctx1);
	if (e->ctx2)
		wd_ctx_free(e->ctx2);
	if (e->zd_ok)
		inflateEnd(&e->zd);
	if (e->ldd)
		libdeflate_free_decompressor(e->ldd);
	free(e->isal_lvl);
}

/* Room for one compressed request: the most any of the codecs may need. */
static size_t slot_size(struct engines *e, size_t req)
{
	size_t n = wd_comp_bound(req), m;
	unsigned i;

	for (i = 0; i < 3; i++) {
		m = deflateBound(&e->zc[i], (uLong)req);
		n = m > n ? m : n;
	}
	for (i = 0; i < 2; i++) {
		m = libdeflate_gzip_compress_bound(e->ldc[i], req);
		n = m > n ? m : n;
	}
	return n;
}

static int input_buffers(struct bench *b, struct input *in)
{
	size_t need = 0, nreq, s;

	for (s = 0; s < NSIZES; s++) {
		nreq = (in->len + req_sizes[s] - 1) / req_sizes[s];
		if (nreq * b->slot[s] > need)
			need = nreq * b->slot[s];
	}
	in->comp = malloc(need);
	in->out = malloc(in->len);
	in->clen = calloc((in->len + req_sizes[0] - 1) / req_sizes[0], sizeof(*in->clen));
	if (!in->comp || !in->out || !in->clen)
		return -ENOMEM;
	/* Fault every page in now rather than in the first measurement. */
	memset(in->comp, 0, need);
	memset(in->out, 0, in->len);
	return 0;
}

static int inputs_open(struct bench *b)
{
	struct input *in = &b->in[0];
	unsigned i, s;
	int ret;

	in->name = "corpus";
	ret = b->o.dir ? load_corpus(in, b->o.dir) : -ENOENT;
	if (ret && b->o.dir_given)
		return file_fail(b->o.dir, ret);
	if (ret) {
		fprintf(stderr, "wd bench comp: no corpus in %s (%s): generated input only, "
				"see -d\n", b->o.dir ? b->o.dir : WD_CLI_CORPUS_HELP,
			strerror(-ret));
		free(in->data);
		memset(in, 0, sizeof(*in));
	} else {
		in = &b->in[++b->nin];
	}
	in->name = "generated";
	ret = gen_input(in, (size_t)b->o.gen_mib << 20, b->o.seed);
	if (ret)
		return wd_cli_fail("bench comp: generated input", ret);
	b->nin++;
	for (s = 0; s < NSIZES; s++)
		b->slot[s] = slot_size(&b->e, req_sizes[s]);
	for (i = 0; i < b->nin; i++)
		if (input_buffers(b, &b->in[i]))
			return wd_cli_fail("bench comp: buffers", -ENOMEM);
	return 0;
}

static void inputs_close(struct bench *b)
{
	unsigned i;

	for (i = 0; i < NINPUTS; i++) {
		free(b->in[i].data);
		free(b->in[i].comp);
		free(b->in[i].out);
		free(b->in[i].clen);
	}
}

/* ---- report ---- */

struct target {
	unsigned in, s;
	const char *id, *label;
	double value, min;
};

#define NTARGETS (NINPUTS * (NSIZES - SIZE_64K) * 7)

/* The queue with one engine thread against ISA-L and zlib on one thread
 * each: the same CPU budget on both sides. */
static unsigned get_targets(const struct bench *b, struct target *t)
{
	unsigned n = 0, in, s;

	for (in = 0; in < b->nin; in++)
		for (s = SIZE_64K; s < NSIZES; s++) {
			const struct result *r = b->res[in][s];

			t[n++] = (struct target){ in, s, "queue_vs_isal_direct",
						  "queue / ISA-L direct", r[C_Q1].vs_isal, 0.95 };
			t[n++] = (struct target){ in, s, "queue_vs_zlib_1", "queue / zlib -1",
						  r[C_Q1].vs_zlib1, 5.0 };
			/* one-shot inflate: libdeflate in the engine */
			t[n++] = (struct target){ in, s, "queue_inflate_vs_isal_direct",
						  "inflate: queue / ISA-L", r[C_Q1].dec_vs_isal, 1.2 };
			/* gzip's ratio at -6/-9 (zlib bytes / queue bytes), 3x its speed */
			t[n++] = (struct target){ in, s, "queue_6_size_vs_zlib_6",
						  "-6 size: zlib / queue",
						  r[C_Q1_Z6].ratio / r[C_ZLIB6].ratio, 0.99 };
			t[n++] = (struct target){ in, s, "queue_6_vs_zlib_6", "-6 speed: queue / zlib",
						  r[C_Q1_Z6].vs_zsame, 3.0 };
			t[n++] = (struct target){ in, s, "queue_9_size_vs_zlib_9",
						  "-9 size: zlib / queue",
						  r[C_Q1_Z9].ratio / r[C_ZLIB9].ratio, 0.99 };
			t[n++] = (struct target){ in, s, "queue_9_vs_zlib_9", "-9 speed: queue / zlib",
						  r[C_Q1_Z9].vs_zsame, 3.0 };
		}
	return n;
}

static void print_header(const struct bench *b)
{
	printf("\nwd bench comp: one-shot gzip requests, median of %lu run%s, >= %.2f s each\n",
	       b->o.reps, b->o.reps > 1 ? "s" : "", b->o.min_time);
	printf("  wd %s soft engine: level 1 (ISA-L level 1), -6/-9: engine levels %u/%u\n"
	       "  (libdeflate), queue depth %d; 1 queue: 1 engine thread; 2 queues: 2 engine\n"
	       "  threads fed by one thread.  ISA-L %d.%d direct, zlib %s, libdeflate %s: on\n"
	       "  this thread.  MB/s: 10^6 bytes of uncompressed data per second; x: compress\n"
	       "  MB/s against (zlib same: zlib at the row's level), dec x: decompress MB/s\n"
	       "  against, each codec decoding its own streams (the same decoders on the same\n"
	       "  streams: wd bench sync); medians of run-by-run ratios; %ld CPUs online.\n",
	       wd_version(), wd_comp_level_from_zlib(6), wd_comp_level_from_zlib(9), QDEPTH,
	       ISAL_MAJOR_VERSION, ISAL_MINOR_VERSION, zlibVersion(), LIBDEFLATE_VERSION_STRING,
	       sysconf(_SC_NPROCESSORS_ONLN));
}

static void print_input(const struct bench *b, unsigned in)
{
	unsigned s, c;

	printf("\n%s: %s\n", b->in[in].name, b->in[in].desc);
	for (s = 0; s < NSIZES; s++) {
		const struct result *r = b->res[in][s];

		printf("\n  %s requests (%zu)\n", size_names[s],
		       (b->in[in].len + req_sizes[s] - 1) / req_sizes[s]);
		printf("  %-16s %6s %9s %9s %8s %8s %8s %9s %9s\n", "codec", "ratio", "comp MB/s",
		       "dec MB/s", "x ISA-L", "x zlib-1", "x zl same", "dec x ISA", "dec x ldef");
		for (c = 0; c < NCODECS; c++)
			printf("  %-16s %6.3f %9.1f %9.1f %7.2fx %7.2fx %8.2fx %8.2fx %8.2fx\n",
			       codecs[c].name, r[c].ratio, r[c].comp_mbps, r[c].decomp_mbps,
			       r[c].vs_isal, r[c].vs_zlib1, r[c].vs_zsame, r[c].dec_vs_isal,
			       r[c].dec_vs_ldef);
	}
}

static void print_targets(const struct bench *b)
{
	struct target t[NTARGETS];
	unsigned n = get_targets(b, t), i;

	printf("\ntargets (compress throughput, 1 queue = 1 engine thread)\n");
	for (i = 0; i < n; i++)
		printf("  %-10s %6s  %-24s %7.3fx  (>= %.2fx)  %s\n", b->in[t[i].in].name,
		       size_names[t[i].s], t[i].label, t[i].value, t[i].min,
		       t[i].value >= t[i].min ? "met" : "MISSED");
	printf("\n");
}

static int near(size_t a, size_t b)
{
	return (a > b ? a - b : b - a) <= b / 1000;
}

/* The queue runs the same ISA-L calls at the same level, so its output is
 * the same size: a clear difference means another level, and an unfair
 * comparison.  Not to the byte: ISA-L's output for a request now and then
 * differs by a byte or two from one thread or process to another (both
 * decompress right). */
static void check_same_output(const struct bench *b)
{
	unsigned in, s;

	for (in = 0; in < b->nin; in++)
		for (s = 0; s < NSIZES; s++) {
			const struct result *r = b->res[in][s];

			if (!near(r[C_Q1].comp_bytes, r[C_ISAL].comp_bytes) ||
			    !near(r[C_Q2].comp_bytes, r[C_ISAL].comp_bytes))
				fprintf(stderr, "wd bench comp: note: %s, %s: %zu and %zu bytes "
						"through the queues, %zu from ISA-L direct\n",
					b->in[in].name, size_names[s], r[C_Q1].comp_bytes,
					r[C_Q2].comp_bytes, r[C_ISAL].comp_bytes);
		}
}

static void json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fprintf(f, "\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			fprintf(f, "\\u%04x", (unsigned char)*s);
		else
			fputc(*s, f);
	}
	fputc('"', f);
}

static void json_results(FILE *f, const struct bench *b)
{
	const char *sep = "";
	unsigned in, s, c;

	fprintf(f, "  \"results\": [");
	for (in = 0; in < b->nin; in++)
		for (s = 0; s < NSIZES; s++)
			for (c = 0; c < NCODECS; c++) {
				const struct result *r = &b->res[in][s][c];

				fprintf(f, "%s\n    {\"input\": \"%s\", \"request_bytes\": %zu, "
					   "\"codec\": \"%s\", \"ratio\": %.4f, "
					   "\"comp_mbps\": %.1f, \"decomp_mbps\": %.1f, "
					   "\"comp_vs_isal_direct\": %.3f, "
					   "\"comp_vs_zlib_1\": %.3f, \"zlib_level\": %d, "
					   "\"comp_vs_zlib_same_level\": %.3f, "
					   "\"decomp_vs_isal_direct\": %.3f, "
					   "\"decomp_vs_libdeflate_direct\": %.3f}",
					sep, b->in[in].name, req_sizes[s], codecs[c].id, r->ratio,
					r->comp_mbps, r->decomp_mbps, r->vs_isal, r->vs_zlib1,
					zlevel(c), r->vs_zsame, r->dec_vs_isal, r->dec_vs_ldef);
				sep = ",";
			}
	fprintf(f, "\n  ],\n");
}

static void json_targets(FILE *f, const struct bench *b)
{
	struct target t[NTARGETS];
	unsigned n = get_targets(b, t), i;

	fprintf(f, "  \"targets\": [");
	for (i = 0; i < n; i++)
		fprintf(f, "%s\n    {\"input\": \"%s\", \"request_bytes\": %zu, \"what\": \"%s\", "
			   "\"value\": %.3f, \"min\": %.2f, \"met\": %s}",
			i ? "," : "", b->in[t[i].in].name, req_sizes[t[i].s], t[i].id, t[i].value,
			t[i].min, t[i].value >= t[i].min ? "true" : "false");
	fprintf(f, "\n  ]\n");
}

static void write_json(FILE *f, const struct bench *b)
{
	unsigned in;

	fprintf(f, "{\n  \"bench\": \"comp\",\n  \"runs\": %lu,\n  \"min_seconds\": %.3f,\n"
		   "  \"queue_depth\": %d,\n  \"seed\": %llu,\n  \"versions\": {\"wd\": \"%s\", "
		   "\"isal\": \"%d.%d.%d\", \"zlib\": \"%s\", \"libdeflate\": \"%s\"},\n"
		   "  \"inputs\": [",
		b->o.reps, b->o.min_time, QDEPTH, b->o.seed, wd_version(), ISAL_MAJOR_VERSION,
		ISAL_MINOR_VERSION, ISAL_PATCH_VERSION, zlibVersion(), LIBDEFLATE_VERSION_STRING);
	for (in = 0; in < b->nin; in++) {
		fprintf(f, "%s\n    {\"name\": \"%s\", \"bytes\": %zu, \"desc\": ", in ? "," : "",
			b->in[in].name, b->in[in].len);
		json_str(f, b->in[in].desc);
		fprintf(f, "}");
	}
	fprintf(f, "\n  ],\n");
	json_results(f, b);
	json_targets(f, b);
	fprintf(f, "}\n");
}

/* ---- chart ---- */

static int have_prog(const char *prog)
{
	const char *p = getenv("PATH");
	char path[PATH_MAX];
	size_t n;

	while (p && *p) {
		n = strcspn(p, ":");
		snprintf(path, sizeof(path), "%.*s/%s", (int)n, p, prog);
		if (n && !access(path, X_OK))
			return 1;
		p += n + (p[n] == ':');
	}
	return 0;
}

/* A gnuplot single-quoted string: a quote inside is written twice. */
static void gp_str(FILE *gp, const char *s)
{
	fputc('\'', gp);
	for (; *s; s++) {
		if (*s == '\'')
			fputc('\'', gp);
		fputc(*s, gp);
	}
	fputc('\'', gp);
}

static void gp_script(FILE *gp, const struct bench *b, const char *file)
{
	unsigned in, c;

	for (in = 0; in < b->nin; in++) {
		fprintf(gp, "$d%u << EOD\n", in);
		for (c = 0; c < NCODECS; c++) {
			const struct result *r = &b->res[in][SIZE_64K][c];

			fprintf(gp, "\"%s\" %.1f %.1f\n", codecs[c].name, r->comp_mbps,
				r->decomp_mbps);
		}
		fprintf(gp, "EOD\n");
	}
	fprintf(gp, "if (strstrt(GPVAL_TERMINALS, 'pngcairo') > 0) {\n"
		    "  set terminal pngcairo size %u,560 font ',10'\n} else {\n"
		    "  set terminal png size %u,560\n}\nset output ", 640 * b->nin, 640 * b->nin);
	gp_str(gp, file);
	fprintf(gp, "\nset style data histograms\nset style histogram clustered gap 1\n"
		    "set style fill solid 0.85 border -1\nset boxwidth 0.9\nset grid ytics\n"
		    "set yrange [0:*]\nset xtics rotate by 30 right nomirror\nset key above\n"
		    "set ylabel 'MB/s of uncompressed data'\n"
		    "set multiplot layout 1,%u title 'wd bench comp: 64 KiB gzip requests, "
		    "median of %lu run%s'\n", b->nin, b->o.reps,
		    b->o.reps > 1 ? "s" : "");
	for (in = 0; in < b->nin; in++)
		fprintf(gp, "set title '%s'\nplot $d%u using 2:xtic(1) title 'compress', "
			    "'' using 3 title 'decompress', "
			    "'' using ($0-1./6):2:(sprintf('%%.0f',$2)) with labels offset 0,0.7 "
			    "font ',8' notitle, "
			    "'' using ($0+1./6):3:(sprintf('%%.0f',$3)) with labels offset 0,0.7 "
			    "font ',8' notitle\n", b->in[in].name, in);
	fprintf(gp, "unset multiplot\n");
}

/* No gnuplot is no error: the chart is an extra. */
static void write_png(const struct bench *b, const char *file)
{
	void (*old)(int);
	FILE *gp;
	int st;

	if (!have_prog("gnuplot")) {
		fprintf(stderr, "wd bench comp: gnuplot is not installed: no chart drawn\n");
		return;
	}
	/* A gnuplot that quits early must not take this process with it. */
	old = signal(SIGPIPE, SIG_IGN);
	gp = popen("gnuplot", "w");
	if (gp) {
		gp_script(gp, b, file);
		st = pclose(gp);
	}
	signal(SIGPIPE, old);
	if (!gp || st)
		fprintf(stderr, "wd bench comp: gnuplot failed: %s may be missing or wrong\n",
			file);
}

static int report(const struct bench *b)
{
	unsigned in;

	print_header(b);
	for (in = 0; in < b->nin; in++)
		print_input(b, in);
	print_targets(b);
	fflush(stdout);
	check_same_output(b);
	if (b->o.png)
		write_png(b, b->o.png);
	if (b->jf)
		write_json(b->jf, b);
	return 0;
}

/* Open the JSON file now, not find out after minutes of measuring that it
 * cannot be written. */
static int open_json(struct bench *b)
{
	if (!b->o.json)
		return 0;
	b->jf = fopen(b->o.json, "w");
	return b->jf ? 0 : file_fail(b->o.json, -errno);
}

/* ---- options ---- */

static void usage(FILE *f)
{
	fprintf(f, "usage: wd bench comp [-d DIR] [-s MIB] [-S SEED] [-r REPS] [-q] [-j FILE] "
		   "[-p FILE.png]\n"
		   "  -d DIR    corpus: every file in DIR but README.md\n"
		   "            (default: the first of " WD_CLI_CORPUS_HELP ")\n"
		   "  -s MIB    size of the generated input (default 32, 4 with -q)\n"
		   "  -S SEED   seed of the generated input (default 1)\n"
		   "  -r REPS   runs of each measurement, the median is kept\n"
		   "            (default 3, 1 with -q; at most %d)\n"
		   "  -q        quick: smaller input, fewer runs, shorter measurements\n"
		   "  -j FILE   also write the figures as JSON to FILE\n"
		   "  -p FILE   also draw the 64 KiB figures as a PNG chart (needs gnuplot)\n"
		   "  -h        this help\n",
		REPS_MAX);
}

static int parse_num(const char *s, unsigned long long min, unsigned long long max,
		     unsigned long long *out)
{
	unsigned long long v;
	char *end;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || end == s || *end || *s == '-' || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

/* Returns -1 to go on, else the exit status. */
static int parse_opts(struct opts *o, int argc, char **argv)
{
	unsigned long long v;
	int opt;

	*o = (struct opts){ .gen_mib = 32, .reps = 3, .seed = 1 };
	while ((opt = getopt(argc, argv, "d:s:S:r:qj:p:h")) != -1) {
		switch (opt) {
		case 'd':
			o->dir = optarg;
			o->dir_given = 1;
			break;
		case 's':
			if (parse_num(optarg, 1, 1024, &v))
				goto bad;
			o->gen_mib = (unsigned long)v;
			o->size_given = 1;
			break;
		case 'S':
			if (parse_num(optarg, 0, ULLONG_MAX, &v))
				goto bad;
			o->seed = v;
			break;
		case 'r':
			if (parse_num(optarg, 1, REPS_MAX, &v))
				goto bad;
			o->reps = (unsigned long)v;
			o->reps_given = 1;
			break;
		case 'q':
			o->quick = 1;
			break;
		case 'j':
			o->json = optarg;
			break;
		case 'p':
			o->png = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		usage(stderr);
		return 2;
	}
	if (!o->dir)
		o->dir = wd_cli_corpus_dir();
	if (o->quick && !o->size_given)
		o->gen_mib = 4;
	if (o->quick && !o->reps_given)
		o->reps = 1;
	o->min_time = o->quick ? 0.05 : 0.2;
	return -1;
bad:
	fprintf(stderr, "wd bench comp: bad value for -%c: %s\n", opt, optarg);
	usage(stderr);
	return 2;
}

int wd_bench_comp(int argc, char **argv)
{
	struct bench *b = calloc(1, sizeof(*b));
	int ret;

	if (!b)
		return wd_cli_fail("bench comp", -ENOMEM);
	ret = parse_opts(&b->o, argc, argv);
	if (ret < 0)
		ret = open_json(b) || engines_open(&b->e) || inputs_open(b) || run_all(b) ||
		      report(b);
	if (b->jf && fclose(b->jf) && !ret)
		ret = file_fail(b->o.json, -errno);
	engines_close(&b->e);
	inputs_close(b);
	free(b);
	return ret;
}
