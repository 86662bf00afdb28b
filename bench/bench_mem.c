/* SPDX-License-Identifier: MIT */
/*
 * wd bench mem: what the memory layer costs, each figure next to its
 * baseline from the same run:
 *   - share+unshare per call and per MiB, next to the bare mlock+munlock
 *     the kernel charges for the same pages;
 *   - range-list translation, ns per range, explicit domain vs SVA;
 *   - dirty read-and-clear, GB of IOVA scanned per second;
 *   - compression through an explicit-mode queue vs an SVA queue (64 KiB
 *     and 1 MiB requests): the price of translation and leases.
 * Medians of interleaved runs; figures are reported, never asserted.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <wd/comp.h>
#include <wd/mem.h>
#include <wd/mover.h>
#include <wd/wd.h>

#include "../tools/wd_cli.h"
#include "bench_util.h"

#define REPS 5

static FILE *json;
static const char *json_sep = "";

static void jfig(const char *name, double v)
{
	if (json) {
		fprintf(json, "%s\n  \"%s\": %.4f", json_sep, name, v);
		json_sep = ",";
	}
}

/* ---- share / unshare ---- */

static double time_share(struct wd_domain *d, unsigned char *buf, size_t len, int iters)
{
	double t0 = bench_now();
	uint64_t iova;
	int i;

	for (i = 0; i < iters; i++)
		if (wd_share(d, buf, len, 0, &iova) || wd_unshare(d, iova, 0, -1))
			return -1;
	return (bench_now() - t0) / iters;
}

static double time_mlock(unsigned char *buf, size_t len, int iters)
{
	double t0 = bench_now();
	int i;

	for (i = 0; i < iters; i++)
		if (mlock(buf, len) || munlock(buf, len))
			return -1;
	return (bench_now() - t0) / iters;
}

static int bench_share(struct wd_ctx *ctx)
{
	static const size_t sizes[] = { 4096, 64 << 10, 1 << 20, 16 << 20 };
	struct wd_domain *d;
	unsigned i, r;
	int ret;

	ret = wd_domain_new(&d, ctx, NULL);
	if (ret)
		return ret;
	wd_domain_set_pin_limit(d, UINT64_MAX);
	printf("share + unshare (pin, place, account, revoke) vs bare mlock + munlock\n");
	printf("  %10s %14s %14s %14s %10s\n", "size", "us/call", "us/MiB", "mlock us/call",
	       "ratio");
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		size_t len = sizes[i];
		int iters = len >= (16 << 20) ? 20 : len >= (1 << 20) ? 200 : 2000;
		unsigned char *buf = wd_mem_alloc(len);
		double s[REPS], m[REPS], ms, mm;
		char name[64];

		if (!buf)
			return -ENOMEM;
		memset(buf, 1, len);
		for (r = 0; r < REPS; r++) {
			s[r] = time_share(d, buf, len, iters);
			m[r] = time_mlock(buf, len, iters);
			if (s[r] < 0 || m[r] < 0) {
				wd_mem_free(buf, len);
				return -EIO;
			}
		}
		ms = bench_median(s, REPS) * 1e6;
		mm = bench_median(m, REPS) * 1e6;
		printf("  %8zuKiB %14.2f %14.2f %14.2f %9.2fx\n", len >> 10, ms,
		       ms / ((double)len / (1 << 20)), mm, ms / mm);
		snprintf(name, sizeof(name), "share_us_%zuk", len >> 10);
		jfig(name, ms);
		snprintf(name, sizeof(name), "mlock_us_%zuk", len >> 10);
		jfig(name, mm);
		wd_mem_free(buf, len);
	}
	printf("\n");
	return wd_domain_free(d);
}

/* ---- range lists ---- */

static double time_rlist(struct wd_domain *d, const struct wd_rlist *l, struct wd_range *segs,
			 int iters)
{
	double t0 = bench_now();
	int i;

	for (i = 0; i < iters; i++)
		if (wd_rlist_dma_map(d, l, segs, 512, 0) <= 0)
			return -1;
	return (bench_now() - t0) / iters / l->n * 1e9;
}

static int bench_rlist(struct wd_ctx *ctx)
{
	size_t ps = (size_t)sysconf(_SC_PAGESIZE), len = 1024 * ps;
	unsigned char *buf = wd_mem_alloc(len);
	struct wd_range store[256], segs[512];
	struct wd_rlist al, ul;
	struct wd_domain *d;
	double e[REPS], s[REPS], u[REPS], me, ms, mu;
	uint64_t iova;
	unsigned i, r;
	int ret;

	if (!buf)
		return -ENOMEM;
	ret = wd_domain_new(&d, ctx, NULL);
	if (ret)
		return ret;
	wd_domain_set_pin_limit(d, UINT64_MAX);
	ret = wd_share(d, buf, len, 0, &iova);
	if (ret)
		return ret;
	/* 256 ranges: every other page (aligned), or odd pieces (unaligned) */
	wd_rlist_init(&al, store, 256);
	wd_rlist_init(&ul, store + 128, 128);
	for (i = 0; i < 128; i++)
		wd_rlist_add(&al, buf + 2 * i * ps, ps);
	for (i = 0; i < 128; i++)
		wd_rlist_add(&ul, buf + 2 * i * ps + 100 + i, 3000);
	for (r = 0; r < REPS; r++) {
		e[r] = time_rlist(d, &al, segs, 20000);
		u[r] = time_rlist(d, &ul, segs, 20000);
		s[r] = time_rlist(NULL, &al, segs, 20000);
		if (e[r] < 0 || u[r] < 0 || s[r] < 0)
			return -EIO;
	}
	me = bench_median(e, REPS);
	mu = bench_median(u, REPS);
	ms = bench_median(s, REPS);
	printf("range list DMA translation (128 ranges per list)\n");
	printf("  %-34s %8.1f ns/range\n", "SVA (no translation, baseline)", ms);
	printf("  %-34s %8.1f ns/range %8.2fx SVA\n", "explicit, page-aligned ranges", me, me / ms);
	printf("  %-34s %8.1f ns/range %8.2fx SVA\n\n", "explicit, unaligned ranges", mu, mu / ms);
	jfig("rlist_sva_ns", ms);
	jfig("rlist_explicit_aligned_ns", me);
	jfig("rlist_explicit_unaligned_ns", mu);
	wd_domain_free(d);
	wd_mem_free(buf, len);
	return 0;
}

/* ---- dirty bitmaps ---- */

static int bench_dirty(struct wd_ctx *ctx)
{
	struct wd_queue_opts qo = { .size = sizeof(qo), .depth = 64, .flags = WD_QUEUE_F_EXPLICIT };
	size_t ps = (size_t)sysconf(_SC_PAGESIZE), len = 256u << 20, npages = len / ps;
	unsigned char *buf = wd_mem_alloc(len);
	uint64_t *bitmap = calloc(npages / 64 + 1, 8), iova;
	static const unsigned every[] = { 0, 100, 1 }; /* none, 1%, all pages dirty */
	struct wd_queue *q;
	struct wd_domain *d;
	unsigned k, r;
	int ret;

	if (!buf || !bitmap)
		return -ENOMEM;
	ret = wd_queue_new(&q, ctx, "fill", &qo);
	if (ret)
		return ret;
	d = wd_queue_domain(q);
	wd_domain_set_pin_limit(d, UINT64_MAX);
	ret = wd_share(d, buf, len, 0, &iova);
	if (!ret)
		ret = wd_dirty_start(d);
	if (ret)
		return ret;
	printf("dirty read-and-clear over a 256 MiB share\n");
	for (k = 0; k < 3; k++) {
		double t[REPS], m;

		for (r = 0; r < REPS; r++) {
			struct wd_req req;
			struct wd_cpl c;
			size_t p;
			double t0;

			/* the device dirties every n-th page */
			for (p = 0; every[k] && p < npages; p += every[k]) {
				wd_prep_fill(&req, NULL, 0, 8);
				req.dst = iova + p * ps;
				if (wd_send(q, &req, 1) != 1 || wd_wait(q, &c, 1, -1) != 1 || c.status)
					return -EIO;
			}
			t0 = bench_now();
			if (wd_dirty_read_clear(d, iova, len, bitmap) < 0)
				return -EIO;
			t[r] = bench_now() - t0;
		}
		m = bench_median(t, REPS);
		printf("  %-20s %8.2f ms %10.1f GB of IOVA/s\n",
		       k == 0 ? "clean" : k == 1 ? "1% of pages dirty" : "every page dirty", m * 1e3,
		       len / m / 1e9);
		jfig(k == 0 ? "dirty_clean_gbps" : k == 1 ? "dirty_1pct_gbps" : "dirty_all_gbps",
		     len / m / 1e9);
	}
	printf("\n");
	wd_queue_free(q);
	wd_mem_free(buf, len);
	free(bitmap);
	return 0;
}

/* ---- compression: explicit vs SVA ---- */

static int bench_comp_modes(void)
{
	struct wd_ctx_opts co = { .size = sizeof(co), .soft_threads = 1 };
	struct wd_queue_opts so = { .size = sizeof(so), .depth = 64 };
	struct wd_queue_opts xo = { .size = sizeof(so), .depth = 64, .flags = WD_QUEUE_F_EXPLICIT };
	static const size_t reqs[] = { 64 << 10, 1 << 20 };
	size_t total = 32u << 20, cap = wd_comp_bound(1 << 20), i;
	unsigned char *in = wd_mem_alloc(total), *out = wd_mem_alloc(32 * cap);
	struct wd_queue *sva, *xq;
	struct wd_ctx *ctx;
	uint64_t iin, iout, seed = 7;
	unsigned k, r;
	int ret;

	if (!in || !out)
		return -ENOMEM;
	/* text-like input: words, some noise */
	for (i = 0; i < total; i++) {
		seed = seed * 6364136223846793005ull + 1442695040888963407ull;
		in[i] = (seed >> 60) < 12 ? (unsigned char)"warp drive q"[seed >> 60]
					  : (unsigned char)(seed >> 33);
	}
	ret = wd_ctx_new(&ctx, &co);
	if (!ret)
		ret = wd_queue_new(&sva, ctx, "gzip", &so);
	if (!ret)
		ret = wd_queue_new(&xq, ctx, "gzip", &xo);
	if (ret)
		return ret;
	wd_domain_set_pin_limit(wd_queue_domain(xq), UINT64_MAX);
	ret = wd_share(wd_queue_domain(xq), in, total, WD_SHARE_READONLY, &iin);
	if (!ret)
		ret = wd_share(wd_queue_domain(xq), out, 32 * cap, 0, &iout);
	if (ret)
		return ret;
	if (iin != (uintptr_t)in || iout != (uintptr_t)out)
		return -EADDRNOTAVAIL; /* identity is expected here: same addresses for both */
	printf("gzip level 1 through a queue: explicit mode vs SVA (1 engine thread)\n");
	printf("  %10s %12s %12s %12s %10s\n", "request", "SVA MB/s", "explicit", "ratio",
	       "target");
	for (k = 0; k < 2; k++) {
		double s[REPS], x[REPS], ms, mx;
		char name[64];

		for (r = 0; r < REPS; r++) {
			s[r] = bench_comp_mbps(sva, (uintptr_t)in, (uintptr_t)out, total, reqs[k], cap, 32);
			x[r] = bench_comp_mbps(xq, iin, iout, total, reqs[k], cap, 32);
			if (s[r] < 0 || x[r] < 0)
				return -EIO;
		}
		ms = bench_median(s, REPS);
		mx = bench_median(x, REPS);
		printf("  %8zuKiB %12.1f %12.1f %11.3fx %10s %s\n", reqs[k] >> 10, ms, mx, mx / ms,
		       ">= 0.97x", mx / ms >= 0.97 ? "met" : "MISSED");
		snprintf(name, sizeof(name), "comp_explicit_vs_sva_%zuk", reqs[k] >> 10);
		jfig(name, mx / ms);
	}
	printf("\n");
	wd_queue_free(xq);
	wd_queue_free(sva);
	wd_ctx_free(ctx);
	wd_mem_free(in, total);
	wd_mem_free(out, 32 * cap);
	return 0;
}

int wd_bench_mem(int argc, char **argv)
{
	const char *jpath = NULL;
	struct wd_ctx *ctx;
	int opt, ret;

	while ((opt = getopt(argc, argv, "j:h")) != -1) {
		if (opt == 'j') {
			jpath = optarg;
		} else {
			fprintf(opt == 'h' ? stdout : stderr,
				"usage: wd bench mem [-j FILE]\n"
				"  share/unshare, range-list translation, dirty bitmaps, and\n"
				"  compression in explicit vs SVA mode; -j writes JSON\n");
			return opt == 'h' ? 0 : 2;
		}
	}
	if (jpath) {
		json = fopen(jpath, "w");
		if (!json) {
			fprintf(stderr, "wd: %s: %s\n", jpath, strerror(errno));
			return 1;
		}
		fprintf(json, "{\"bench\": \"mem\",");
		json_sep = "";
	}
	ret = wd_ctx_new(&ctx, NULL);
	if (!ret)
		ret = bench_share(ctx);
	if (!ret)
		ret = bench_rlist(ctx);
	if (!ret)
		ret = bench_dirty(ctx);
	if (!ret)
		ret = bench_comp_modes();
	wd_ctx_free(ctx);
	if (json) {
		fprintf(json, "\n}\n");
		fclose(json);
	}
	return ret ? wd_cli_fail("bench mem", ret) : 0;
}
