/* SPDX-License-Identifier: MIT */
/* Small helpers shared by the benchmark programs. */
#ifndef WD_BENCH_UTIL_H
#define WD_BENCH_UTIL_H

#include <errno.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include <wd/comp.h>

static inline double bench_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static inline void bench_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#endif
}

static int bench_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Median of n values (sorts them in place). */
static inline double bench_median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), bench_cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static inline int bench_read_full(int fd, void *buf, size_t len)
{
	char *p = buf;

	while (len) {
		ssize_t n = read(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static inline int bench_write_full(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/*
 * MB/s compressing total bytes at device address in, cut into one-shot gzip
 * level 1 requests of req bytes, up to inflight (<= 64) of them at once,
 * each written to its own cap-sized slot at device address out.  -1 on any
 * failure.  Used by the benchmarks that compare ways of reaching a device.
 */
static inline double bench_comp_mbps(struct wd_queue *q, uint64_t in, uint64_t out, size_t total,
				     size_t req, size_t cap, int inflight)
{
	size_t nreq = total / req, sent = 0, done = 0;
	struct wd_cpl c[64];
	double t0 = bench_now();
	int n, i;

	while (done < nreq) {
		while (sent < nreq && wd_inflight(q) < inflight) {
			struct wd_req r;

			wd_prep_compress(&r, NULL, (uint32_t)cap, NULL, (uint32_t)req, 1, WD_COMP_GZIP);
			r.src = in + sent * req;
			r.dst = out + (sent % (size_t)inflight) * cap;
			r.tag = sent;
			if (wd_send(q, &r, 1) != 1)
				return -1;
			sent++;
		}
		n = wd_wait(q, c, 64, -1);
		if (n < 0)
			return -1;
		for (i = 0; i < n; i++)
			if (c[i].status)
				return -1;
		done += (size_t)n;
	}
	return (double)(nreq * req) / (bench_now() - t0) / 1e6;
}

#endif
