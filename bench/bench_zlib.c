/* SPDX-License-Identifier: MIT */
/*
 * wd bench zlib: the zlib layer (libwd-zlib) against stock zlib and ISA-L
 * called directly, side by side in one process.  The layer is dlopen'ed
 * RTLD_LOCAL, so its functions and libz's are both at hand by handle;
 * neither is preloaded.  Rows: streaming deflate/inflate with 16 KiB and
 * 256 KiB per call, compress2/uncompress of 16 KiB and 256 KiB buffers, at
 * zlib levels 1 and 6, on the corpus and on generated data.  Figures are
 * MB/s of uncompressed data, best of three runs of >= 0.2 s; the ratios
 * are the point (the machine is shared).  Output sizes are compared too.
 */
#include <dlfcn.h>
#include <errno.h>
#include <getopt.h>
#include <isa-l/igzip_lib.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "bench_util.h"
#include "../tools/wd_cli.h"

struct zapi {
	int (*deflateInit2_)(z_streamp, int, int, int, int, int, const char *, int);
	int (*deflate)(z_streamp, int);
	int (*deflateEnd)(z_streamp);
	int (*inflateInit2_)(z_streamp, int, const char *, int);
	int (*inflate)(z_streamp, int);
	int (*inflateEnd)(z_streamp);
	int (*compress2)(Bytef *, uLongf *, const Bytef *, uLong, int);
	int (*uncompress)(Bytef *, uLongf *, const Bytef *, uLong);
};

static int zapi_load(struct zapi *z, void *h)
{
#define SYM(n) (*(void **)&z->n = dlsym(h, #n))
	return !(SYM(deflateInit2_) && SYM(deflate) && SYM(deflateEnd) && SYM(inflateInit2_) &&
		 SYM(inflate) && SYM(inflateEnd) && SYM(compress2) && SYM(uncompress));
#undef SYM
}

enum { IMPL_ZLIB, IMPL_LAYER, IMPL_ISAL, N_IMPL };
enum { OP_DEFLATE, OP_INFLATE, OP_COMPRESS2, OP_UNCOMPRESS, N_OP };
static const char *const op_names[N_OP] = { "deflate", "inflate", "compress2", "uncompress" };

struct job {
	const struct zapi *z;
	const uint8_t *src;
	size_t len, call;
	uint8_t *dst;
	size_t cap;
	int level;
	size_t out;             /* bytes the run produced */
	const size_t *clens;    /* uncompress: compressed size of each buffer */
};

/* ---- the runs: each returns 0 or -1 ---- */

static int run_deflate(struct job *j)
{
	z_stream s = { 0 };
	size_t off = 0;
	int ret;

	if (j->z->deflateInit2_(&s, j->level, Z_DEFLATED, 15, 8, Z_DEFAULT_STRATEGY, ZLIB_VERSION,
				(int)sizeof(s)) != Z_OK)
		return -1;
	s.next_out = j->dst;
	s.avail_out = (uInt)j->cap;
	do {
		size_t n = j->len - off < j->call ? j->len - off : j->call;

		s.next_in = (Bytef *)(uintptr_t)(j->src + off);
		s.avail_in = (uInt)n;
		off += n;
		ret = j->z->deflate(&s, off == j->len ? Z_FINISH : Z_NO_FLUSH);
	} while (off < j->len && ret == Z_OK);
	j->out = s.total_out;
	j->z->deflateEnd(&s);
	return ret == Z_STREAM_END ? 0 : -1;
}

static int run_inflate(struct job *j)
{
	z_stream s = { 0 };
	size_t off = 0;
	int ret = Z_OK;

	if (j->z->inflateInit2_(&s, 15, ZLIB_VERSION, (int)sizeof(s)) != Z_OK)
		return -1;
	s.next_out = j->dst;
	s.avail_out = (uInt)j->cap;
	while (off < j->len && ret == Z_OK) {
		size_t n = j->len - off < j->call ? j->len - off : j->call;

		s.next_in = (Bytef *)(uintptr_t)(j->src + off);
		s.avail_in = (uInt)n;
		ret = j->z->inflate(&s, Z_NO_FLUSH);
		off += n - s.avail_in;
	}
	j->out = s.total_out;
	j->z->inflateEnd(&s);
	return ret == Z_STREAM_END ? 0 : -1;
}

/* compress2 of every call-sized buffer; dst holds the results back to back */
static int run_compress2(struct job *j)
{
	size_t off, o = 0;

	for (off = 0; off < j->len; off += j->call) {
		size_t n = j->len - off < j->call ? j->len - off : j->call;
		uLongf dl = (uLongf)(j->cap - o);

		if (j->z->compress2(j->dst + o, &dl, j->src + off, n, j->level) != Z_OK)
			return -1;
		o += dl;
	}
	j->out = o;
	return 0;
}

/* uncompress of what run_compress2 made: j->src holds the results back to
 * back, j->clens their sizes, each of j->call bytes uncompressed (the last
 * one the rest of len) */
static int run_uncompress(struct job *j)
{
	size_t in = 0, o = 0, k;

	for (k = 0; o < j->len; k++) {
		uLongf dl = (uLongf)(j->cap - o);

		if (j->z->uncompress(j->dst + o, &dl, j->src + in, j->clens[k]) != Z_OK)
			return -1;
		in += j->clens[k];
		o += dl;
	}
	j->out = o;
	return 0;
}

static int run_isal_deflate(struct job *j)
{
	static uint8_t lvl_buf[ISAL_DEF_LVL1_DEFAULT];
	struct isal_zstream z;
	size_t off = 0;

	isal_deflate_init(&z);
	z.level = 1;
	z.level_buf = lvl_buf;
	z.level_buf_size = sizeof(lvl_buf);
	z.gzip_flag = IGZIP_ZLIB;
	z.next_out = j->dst;
	z.avail_out = (uint32_t)j->cap;
	do {
		size_t n = j->len - off < j->call ? j->len - off : j->call;

		z.next_in = (uint8_t *)(uintptr_t)(j->src + off);
		z.avail_in = (uint32_t)n;
		off += n;
		z.end_of_stream = off == j->len;
		if (isal_deflate(&z) != COMP_OK)
			return -1;
	} while (off < j->len);
	j->out = z.total_out;
	return z.internal_state.state == ZSTATE_END ? 0 : -1;
}

static int run_isal_inflate(struct job *j)
{
	struct inflate_state st;
	size_t off = 0;
	int ret;

	isal_inflate_init(&st);
	st.crc_flag = ISAL_ZLIB;
	st.next_out = j->dst;
	st.avail_out = (uint32_t)j->cap;
	do {
		size_t n = j->len - off < j->call ? j->len - off : j->call;

		st.next_in = (uint8_t *)(uintptr_t)(j->src + off);
		st.avail_in = (uint32_t)n;
		ret = isal_inflate(&st);
		off += n - st.avail_in;
	} while (ret == ISAL_DECOMP_OK && st.block_state != ISAL_BLOCK_FINISH && off < j->len);
	j->out = st.total_out;
	return st.block_state == ISAL_BLOCK_FINISH ? 0 : -1;
}

/* ---- timing ---- */

/* MB/s of uncompressed bytes (ulen), best of three runs of >= 0.2 s */
static double measure(int (*fn)(struct job *), struct job *j, size_t ulen)
{
	double best = 0;
	int r;

	for (r = 0; r < 3; r++) {
		double t0 = bench_now(), t;
		unsigned n = 0;

		do {
			if (fn(j))
				return -1;
			n++;
			t = bench_now() - t0;
		} while (t < 0.2);
		if ((double)ulen * n / t / 1e6 > best)
			best = (double)ulen * n / t / 1e6;
	}
	return best;
}

struct row {
	const char *data;
	int level, op;
	size_t call;
	double mbps[N_IMPL];    /* 0: not measured */
	size_t size[N_IMPL];    /* compressed bytes (compressing rows) */
};

static void print_row(const struct row *r)
{
	char isal[16] = "-", li[16] = "-", sz[16] = "-";

	if (r->mbps[IMPL_ISAL] > 0) {
		snprintf(isal, sizeof(isal), "%.0f", r->mbps[IMPL_ISAL]);
		snprintf(li, sizeof(li), "%.2f", r->mbps[IMPL_LAYER] / r->mbps[IMPL_ISAL]);
	}
	if (r->size[IMPL_ZLIB])
		snprintf(sz, sizeof(sz), "%.3f", (double)r->size[IMPL_LAYER] / (double)r->size[IMPL_ZLIB]);
	printf("%-9s %3d  %-10s %5zuK %9.0f %9.0f %9s %8.2fx %8s %9s\n", r->data, r->level,
	       op_names[r->op], r->call >> 10, r->mbps[IMPL_ZLIB], r->mbps[IMPL_LAYER], isal,
	       r->mbps[IMPL_LAYER] / r->mbps[IMPL_ZLIB], li, sz);
}

static void json_row(FILE *f, const struct row *r, int last)
{
	fprintf(f, "  {\"data\": \"%s\", \"level\": %d, \"op\": \"%s\", \"call_bytes\": %zu, "
		   "\"zlib_mbps\": %.1f, \"layer_mbps\": %.1f, \"isal_mbps\": %.1f, "
		   "\"layer_vs_zlib\": %.3f, \"layer_vs_isal\": %.3f, \"size_layer_vs_zlib\": %.4f}%s\n",
		r->data, r->level, op_names[r->op], r->call, r->mbps[IMPL_ZLIB], r->mbps[IMPL_LAYER],
		r->mbps[IMPL_ISAL], r->mbps[IMPL_LAYER] / r->mbps[IMPL_ZLIB],
		r->mbps[IMPL_ISAL] > 0 ? r->mbps[IMPL_LAYER] / r->mbps[IMPL_ISAL] : 0,
		r->size[IMPL_ZLIB] ? (double)r->size[IMPL_LAYER] / (double)r->size[IMPL_ZLIB] : 0,
		last ? "" : ",");
}

static void write_png(const struct row *rows, int n, const char *file)
{
	FILE *gp;
	int i;

	if (system("command -v gnuplot >/dev/null 2>&1")) {
		fprintf(stderr, "wd bench zlib: gnuplot is not installed: no chart drawn\n");
		return;
	}
	gp = popen("gnuplot", "w");
	if (!gp)
		return;
	fprintf(gp, "set terminal png size 1100,520\nset output '%s'\n"
		    "set title 'libwd-zlib vs stock zlib (speed ratio, higher is better)'\n"
		    "set style data histograms\nset style fill solid 0.8\nset boxwidth 0.8\n"
		    "set xtics rotate by -60 font ',8'\nset ylabel 'layer / zlib'\nset grid ytics\n"
		    "plot '-' using 2:xtic(1) title 'layer/zlib' lc rgb '#3070b0'\n", file);
	for (i = 0; i < n; i++)
		fprintf(gp, "\"%s-%d-%s-%zuK\" %.3f\n", rows[i].data, rows[i].level,
			op_names[rows[i].op], rows[i].call >> 10,
			rows[i].mbps[IMPL_LAYER] / rows[i].mbps[IMPL_ZLIB]);
	fprintf(gp, "e\n");
	pclose(gp);
}

/* ---- data ---- */

static uint8_t *load_corpus(const char *dir, size_t *len);

/* Text-like data: words from a small vocabulary with some noise. */
static uint8_t *generate(size_t len)
{
	static const char *const words[] = { "accelerator ", "queue ", "ring ", "the ", "of ",
					     "deflate ", "memory ", "device ", "\n", "0x7f3a ",
					     "completion ", "and ", "shared ", "request " };
	uint8_t *p = malloc(len);
	uint64_t x = 88172645463325252ull;
	size_t o = 0;

	if (!p)
		return NULL;
	while (o < len) {
		const char *w;
		size_t n;

		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		w = words[x % (sizeof(words) / sizeof(words[0]))];
		n = strlen(w);
		if (x % 29 == 0)
			p[o++] = (uint8_t)(x >> 24);
		else
			for (size_t i = 0; i < n && o < len; i++)
				p[o++] = (uint8_t)w[i];
	}
	return p;
}

/* stock compress2 of every call-sized buffer: the input of the uncompress rows */
static size_t *chunk_sizes(const struct zapi *z, const uint8_t *src, size_t len, size_t call,
			   int level, uint8_t *dst, size_t cap)
{
	size_t n = (len + call - 1) / call, k, o = 0;
	size_t *cl = calloc(n, sizeof(*cl));

	for (k = 0; cl && k < n; k++) {
		size_t m = len - k * call < call ? len - k * call : call;
		uLongf dl = (uLongf)(cap - o);

		if (z->compress2(dst + o, &dl, src + k * call, m, level) != Z_OK) {
			free(cl);
			return NULL;
		}
		cl[k] = dl;
		o += dl;
	}
	return cl;
}

static void bench_row(struct row *r, const struct zapi *zl, const struct zapi *ly,
		      const uint8_t *src, size_t len, const uint8_t *comp, size_t clen,
		      const size_t *clens, uint8_t *out, size_t cap)
{
	static int (*const fns[N_OP])(struct job *) = { run_deflate, run_inflate, run_compress2,
							 run_uncompress };
	int impl;

	for (impl = 0; impl < N_IMPL; impl++) {
		struct job k = { .z = impl == IMPL_LAYER ? ly : zl, .src = src, .len = len,
				 .call = r->call, .level = r->level, .dst = out, .cap = cap,
				 .clens = clens };
		int (*f)(struct job *) = fns[r->op];

		if (impl == IMPL_ISAL) {
			/* ISA-L direct: the level-1 streams (its level 1 is zlib's 1) */
			if (r->level != 1 || r->op > OP_INFLATE)
				continue;
			f = r->op == OP_DEFLATE ? run_isal_deflate : run_isal_inflate;
		}
		if (r->op == OP_INFLATE || r->op == OP_UNCOMPRESS) {
			k.src = comp;
			k.len = r->op == OP_INFLATE ? clen : len;
		}
		r->mbps[impl] = measure(f, &k, len);
		r->size[impl] = r->op == OP_DEFLATE || r->op == OP_COMPRESS2 ? k.out : 0;
	}
	print_row(r);
}

static int bench_data(const char *name, const uint8_t *src, size_t len, const struct zapi *zl,
		      const struct zapi *ly, struct row *rows, int *nrows)
{
	static const size_t calls[] = { 16u << 10, 256u << 10 };
	static const int levels[] = { 1, 6 };
	size_t cap = len + len / 8 + (1u << 20);
	uint8_t *comp = malloc(cap), *chunks = malloc(cap), *out = malloc(cap);
	int li, ci, op;

	if (!comp || !chunks || !out)
		return -ENOMEM;
	for (li = 0; li < 2; li++) {
		struct job j = { .z = zl, .src = src, .len = len, .dst = comp, .cap = cap,
				 .level = levels[li], .call = len };

		/* stock zlib's stream: what the inflate rows read */
		if (run_deflate(&j))
			return -EIO;
		for (ci = 0; ci < 2; ci++) {
			size_t *clens = chunk_sizes(zl, src, len, calls[ci], levels[li], chunks, cap);

			if (!clens)
				return -EIO;
			for (op = 0; op < N_OP; op++) {
				struct row *r = &rows[(*nrows)++];

				memset(r, 0, sizeof(*r));
				r->data = name;
				r->level = levels[li];
				r->op = op;
				r->call = calls[ci];
				bench_row(r, zl, ly, src, len, op == OP_UNCOMPRESS ? chunks : comp,
					  j.out, clens, out, cap);
			}
			free(clens);
		}
	}
	free(comp);
	free(chunks);
	free(out);
	return 0;
}

/* µs per one-shot call of n bytes (median-free: best of three 0.1 s runs) */
static double small_us(const struct zapi *z, int comp, const uint8_t *src, size_t n,
		       uint8_t *buf, size_t cap, const uint8_t *zsrc, uLong zlen)
{
	double best = 1e9;
	int r;

	for (r = 0; r < 3; r++) {
		double t0 = bench_now(), t;
		unsigned k = 0;

		do {
			uLongf dl = (uLongf)cap;

			if (comp)
				z->compress2(buf, &dl, src + (k % 64) * 64, n, 1);
			else
				z->uncompress(buf, &dl, zsrc, zlen);
			k++;
			t = bench_now() - t0;
		} while (t < 0.1);
		if (t / k < best)
			best = t / k;
	}
	return best * 1e6;
}

/* Where one-shot calls of small buffers cross over (WD_ZLIB_MIN). */
static void bench_small(const struct zapi *zl, const struct zapi *ly, const uint8_t *src,
			FILE *json)
{
	static uint8_t buf[1 << 16], zbuf[1 << 16];
	size_t n;

	printf("\none-shot calls of small buffers, us per call (level 1):\n");
	printf("%6s %12s %12s %8s %12s %12s %8s\n", "bytes", "compress2 z", "layer", "l/z",
	       "uncompress z", "layer", "l/z");
	for (n = 64; n <= 16384; n *= 4) {
		uLongf zl_len = sizeof(zbuf);
		double c[2], u[2];

		zl->compress2(zbuf, &zl_len, src, n, 1);
		c[0] = small_us(zl, 1, src, n, buf, sizeof(buf), NULL, 0);
		c[1] = small_us(ly, 1, src, n, buf, sizeof(buf), NULL, 0);
		u[0] = small_us(zl, 0, NULL, n, buf, sizeof(buf), zbuf, zl_len);
		u[1] = small_us(ly, 0, NULL, n, buf, sizeof(buf), zbuf, zl_len);
		printf("%6zu %12.2f %12.2f %7.2fx %12.2f %12.2f %7.2fx\n", n, c[0], c[1],
		       c[0] / c[1], u[0], u[1], u[0] / u[1]);
		if (json)
			fprintf(json, ",\n  {\"small_bytes\": %zu, \"compress2_zlib_us\": %.3f, "
				      "\"compress2_layer_us\": %.3f, \"uncompress_zlib_us\": %.3f, "
				      "\"uncompress_layer_us\": %.3f}", n, c[0], c[1], u[0], u[1]);
	}
}

int wd_bench_zlib(int argc, char **argv)
{
	const char *dir = NULL, *json = NULL, *png = NULL;
	struct zapi zl, ly;
	char lib[PATH_MAX];
	struct row rows[64];
	int c, n = 0, i;
	void *hz, *hl;
	uint8_t *corpus, *gen;
	size_t clen, glen = 4u << 20;

	while ((c = getopt(argc, argv, "d:j:p:h")) != -1) {
		switch (c) {
		case 'd':
			dir = optarg;
			break;
		case 'j':
			json = optarg;
			break;
		case 'p':
			png = optarg;
			break;
		default:
			printf("usage: wd bench zlib [-d CORPUS_DIR] [-j JSON] [-p PNG]\n");
			return c == 'h' ? 0 : 2;
		}
	}
	if (wd_cli_find_layer(lib, sizeof(lib)))
		return wd_cli_fail("libwd-zlib.so (set WD_ZLIB_LIB)", -ENOENT);
	/* the layer's small-call thresholds come from the small rows: measure
	 * the engine at every size (nothing here is under 16 KiB otherwise) */
	setenv("WD_ZLIB_MIN", "0", 1);
	hz = dlopen("libz.so.1", RTLD_NOW | RTLD_NOLOAD);
	hl = dlopen(lib, RTLD_NOW | RTLD_LOCAL);
	if (!hz || !hl || zapi_load(&zl, hz) || zapi_load(&ly, hl)) {
		fprintf(stderr, "wd bench zlib: cannot load zlib or %s: %s\n", lib, dlerror());
		return 1;
	}
	if (!dir)
		dir = wd_cli_corpus_dir();
	corpus = dir ? load_corpus(dir, &clen) : NULL;
	gen = generate(glen);
	if (!corpus || !gen) {
		fprintf(stderr, "wd bench zlib: no corpus (-d DIR)\n");
		return 1;
	}
	printf("layer: %s; MB/s of uncompressed data, best of 3\n", lib);
	printf("%-9s %3s  %-10s %6s %9s %9s %9s %9s %8s %9s\n", "data", "lvl", "op", "call",
	       "zlib", "layer", "isal", "lay/zlib", "lay/isal", "size l/z");
	if (bench_data("corpus", corpus, clen, &zl, &ly, rows, &n) ||
	    bench_data("generated", gen, glen, &zl, &ly, rows, &n))
		return wd_cli_fail("bench zlib", -EIO);
	{
		FILE *f = json ? fopen(json, "w") : NULL;

		if (json && !f)
			return wd_cli_fail(json, -errno);
		if (f) {
			fprintf(f, "[\n");
			for (i = 0; i < n; i++)
				json_row(f, &rows[i], i == n - 1);
		}
		bench_small(&zl, &ly, corpus, f);
		if (f) {
			fprintf(f, "\n]\n");
			fclose(f);
		}
	}
	if (png)
		write_png(rows, n, png);
	free(corpus);
	free(gen);
	return 0;
}

static uint8_t *load_corpus(const char *dir, size_t *len)
{
	char cmd[PATH_MAX + 64];
	size_t cap = 16u << 20, n;
	uint8_t *p = malloc(cap);
	FILE *f;

	if (!p)
		return NULL;
	/* every file but the README, in a fixed order */
	snprintf(cmd, sizeof(cmd), "cat $(ls -d '%s'/* | grep -v README | sort) 2>/dev/null", dir);
	f = popen(cmd, "r");
	if (!f) {
		free(p);
		return NULL;
	}
	n = fread(p, 1, cap, f);
	pclose(f);
	if (!n) {
		free(p);
		return NULL;
	}
	*len = n;
	return p;
}
