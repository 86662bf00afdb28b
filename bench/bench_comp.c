/* SPDX-License-Identifier: MIT */
/*
 * wd bench comp: gzip compression through WarpDrive queues, measured in the
 * same run as the libraries an application would otherwise call itself:
 *   - the queue with one engine thread, and two queues (two engine threads)
 *     fed by one producer thread: one-shot requests, many in flight;
 *   - ISA-L called directly on this thread with the very calls the soft
 *     engine makes, so the gap between the two is what the queue costs;
 *   - zlib and libdeflate at levels 1 and 6, the usual alternatives.
 * Two inputs, a corpus of real files and a large generated mix of text and
 * incompressible stretches, are cut into independent requests of 4 KiB,
 * 64 KiB and 1 MiB.  Every codec writes gzip framing, and every result is
 * decompressed and compared with the input.  Each measurement runs several
 * times, interleaved with the other codecs so a noisy neighbour hits them
 * all alike, and the median is kept.  Figures are reported, never asserted.
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <isa-l.h>
#include <libdeflate.h>
#define ZLIB_CONST
#include <zlib.h>

#include <wd/comp.h>
#include <wd/wd.h>

#include "../tools/wd_cli.h"
#include "bench_util.h"

#define QDEPTH 64               /* per queue: enough to never let an engine idle */
#define WAIT_MS 10000           /* no request takes this long unless the engine is stuck */
#define REPS_MAX 15
#define NSIZES 3
#define NINPUTS 2
#define VOCAB 2048              /* words of the generated text */
#define MB 1e6                  /* MB/s are 10^6 bytes of uncompressed data a second */

static const size_t req_sizes[NSIZES] = { 4u << 10, 64u << 10, 1u << 20 };
#define SIZE_64K 1              /* index of the 64 KiB requests, for the chart */

enum { C_Q1, C_Q2, C_ISAL, C_ZLIB1, C_ZLIB6, C_LDEF1, C_LDEF6, NCODECS };

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
};

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
	z_stream zc[2], zd;
	int zc_ok[2], zd_ok;
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
};

struct result {
	double ratio, comp_mbps, decomp_mbps;
	double comp[REPS_MAX], decomp[REPS_MAX];
};

struct bench {
	struct opts o;
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

static void put_text(struct textgen *g, struct sink *s)
{
	while (s->left) {
		unsigned words = 4 + (unsigned)(rng_next(&g->rng) % 15), k;

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

/* Text in stretches of 32-512 KiB; one stretch in four is instead 16-256
 * KiB of random bytes, as compressed or encrypted parts of real data are. */
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

		n = random ? (16u << 10) + rng_next(&g->rng) % (240u << 10)
			   : (32u << 10) + rng_next(&g->rng) % (480u << 10);
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
		 (double)len / (1 << 20), (unsigned long long)seed, 100.0 * (double)noise / (double)len);
	free(g);
	return 0;
}

/* ---- corpus ---- */

static int cmp_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Names of the regular files of dir but README.md, sorted so the buffer is
 * the same from run to run. */
static int list_corpus(const char *dir, char ***out, size_t *count)
{
	char path[PATH_MAX], **names = NULL, **grown;
	struct dirent *de;
	struct stat st;
	size_t n = 0;
	DIR *d = opendir(dir);

	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.' || !strcmp(de->d_name, "README.md"))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (stat(path, &st) || !S_ISREG(st.st_mode))
			continue;
		grown = realloc(names, (n + 1) * sizeof(*names));
		if (!grown || !(grown[n] = strdup(de->d_name))) {
			names = grown ? grown : names;
			break;
		}
		names = grown;
		n++;
	}
	closedir(d);
	if (de) {
		while (n)
			free(names[--n]);
		free(names);
		return -ENOMEM;
	}
	qsort(names, n, sizeof(*names), cmp_name);
	*out = names;
	*count = n;
	return 0;
}

static int append_file(struct input *in, const char *path)
{
	struct stat st;
	uint8_t *grown;
	int fd = open(path, O_RDONLY | O_CLOEXEC), ret = 0;

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st)) {
		ret = -errno;
	} else if (!(grown = realloc(in->data, in->len + (size_t)st.st_size + 1))) {
		ret = -ENOMEM;
	} else {
		in->data = grown;
		if (bench_read_full(fd, in->data + in->len, (size_t)st.st_size))
			ret = -EIO;
		else
			in->len += (size_t)st.st_size;
	}
	close(fd);
	return ret;
}

static int load_corpus(struct input *in, const char *dir)
{
	char path[PATH_MAX], **names;
	size_t n, i;
	int ret = list_corpus(dir, &names, &n);

	if (ret)
		return ret;
	for (i = 0; i < n && !ret; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		ret = append_file(in, path);
	}
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	if (!ret && !in->len)
		ret = -ENODATA;
	snprintf(in->desc, sizeof(in->desc), "%s, %zu files, %.2f MB", dir, n,
		 (double)in->len / MB);
	return ret;
}

/* ---- codecs, one request at a time on this thread ---- */

/* The soft engine's one-shot compression, call for call. */
static int isal_comp1(struct engines *e, const uint8_t *src, uint32_t len, uint8_t *dst,
		      uint32_t cap, uint32_t *out)
{
	struct isal_zstream *z = &e->isz;

	isal_deflate_stateless_init(z);
	z->level = 1;
	z->level_buf = e->isal_lvl;
	z->level_buf_size = ISAL_DEF_LVL1_DEFAULT;
	z->gzip_flag = IGZIP_GZIP;
	z->end_of_stream = 1;
	z->flush = NO_FLUSH;
	z->next_in = (uint8_t *)src;
	z->avail_in = len;
	z->next_out = dst;
	z->avail_out = cap;
	if (isal_deflate_stateless(z) != COMP_OK)
		return -1;
	*out = cap - z->avail_out;
	return 0;
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
		return zlib_comp1(&e->zc[c == C_ZLIB6], src, len, dst, cap, out);
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
	uint32_t n, len;
	size_t i;

	for (i = 0; i < j->nreq; i++) {
		len = req_len(j, i);
		if (decomp) {
			if (direct_decomp1(e, c, req_comp(j, i), j->in->clen[i], req_out(j, i), len,
					   &n) || n != len)
				break;
		} else {
			if (direct_comp1(e, c, req_src(j, i), len, req_comp(j, i), (uint32_t)j->slot,
					 &n))
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
				 1, WD_COMP_GZIP);
	r->tag = i;
}

/* Top q up with the next requests, as many as it has room for. */
static int queue_fill(struct wd_queue *q, const struct job *j, int decomp, size_t *next)
{
	struct wd_req reqs[QDEPTH];
	size_t n = QDEPTH - (size_t)wd_inflight(q), k;
	int ret;

	if (n > j->nreq - *next)
		n = j->nreq - *next;
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
	uint32_t len = c->tag < j->nreq ? req_len(j, c->tag) : 0;

	if (c->tag >= j->nreq || c->status) {
		fprintf(stderr, "wd: bench comp: request %llu: %s\n", (unsigned long long)c->tag,
			wd_strerror(c->status));
		return -1;
	}
	if (decomp ? c->result != len
		   : wd_cpl_consumed(c) != len || !(c->flags & WD_CPL_F_END) || c->result > j->slot) {
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
		for (i = 0; i < nq; i++)
			if (queue_fill(qs[i], j, decomp, &next))
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
	if (c == C_Q1)
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

static const char *size_name(size_t n)
{
	static char buf[4][16];
	static unsigned k;
	char *s = buf[k++ % 4];

	if (n >= (1u << 20))
		snprintf(s, sizeof(buf[0]), "%zu MiB", n >> 20);
	else
		snprintf(s, sizeof(buf[0]), "%zu KiB", n >> 10);
	return s;
}

static struct job make_job(struct bench *b, unsigned in, unsigned s)
{
	struct job j = { &b->in[in], req_sizes[s], 0, b->slot[s] };

	j.nreq = (j.in->len + j.req - 1) / j.req;
	return j;
}

/* Compress, decompress, compare: one run of one codec on one job. */
static int measure(struct bench *b, unsigned in, unsigned s, unsigned c, unsigned rep)
{
	struct job j = make_job(b, in, s);
	struct result *r = &b->res[in][s][c];
	size_t i, total = 0;

	/* Output left by the previous codec must not pass for this one's. */
	memset(j.in->clen, 0, j.nreq * sizeof(*j.in->clen));
	memset(j.in->out, 0xa5, j.in->len);
	r->comp[rep] = timed(b, c, &j, 0);
	if (r->comp[rep] >= 0)
		r->decomp[rep] = timed(b, c, &j, 1);
	if (r->comp[rep] < 0 || r->decomp[rep] < 0) {
		fprintf(stderr, "wd: bench comp: %s failed on %s, %s requests\n", codecs[c].name,
			j.in->name, size_name(j.req));
		return 1;
	}
	for (i = 0; i < j.nreq; i++) {
		total += j.in->clen[i];
		if (memcmp(req_out(&j, i), req_src(&j, i), req_len(&j, i))) {
			fprintf(stderr, "wd: bench comp: %s: %s, %s request %zu decompressed wrong\n",
				codecs[c].name, j.in->name, size_name(j.req), i);
			return 1;
		}
	}
	r->ratio = (double)j.in->len / (double)total;
	return 0;
}

static int run_all(struct bench *b)
{
	unsigned rep, in, s, k;

	for (rep = 0; rep < b->o.reps; rep++) {
		fprintf(stderr, "wd bench comp: run %u of %lu...\n", rep + 1, b->o.reps);
		for (in = 0; in < b->nin; in++)
			for (s = 0; s < NSIZES; s++)
				for (k = 0; k < NCODECS; k++)
					/* rotate the order: no codec always follows the same one */
					if (measure(b, in, s, (k + rep) % NCODECS, rep))
						return 1;
	}
	for (in = 0; in < b->nin; in++)
		for (s = 0; s < NSIZES; s++)
			for (k = 0; k < NCODECS; k++) {
				struct result *r = &b->res[in][s][k];

				r->comp_mbps = bench_median(r->comp, (int)b->o.reps);
				r->decomp_mbps = bench_median(r->decomp, (int)b->o.reps);
			}
	return 0;
}
