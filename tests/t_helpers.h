/* SPDX-License-Identifier: MIT */
/* Shared helpers for the one-behaviour-per-program tests.
 * Exit status: 0 pass, 1 fail, 77 skip (CTest SKIP_RETURN_CODE). */
#ifndef T_HELPERS_H
#define T_HELPERS_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <wd/mover.h>
#include <wd/wd.h>

#define T_SKIP 77

#define T_FAIL(...)                                                            \
	do {                                                                   \
		fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);           \
		fprintf(stderr, __VA_ARGS__);                                  \
		fprintf(stderr, "\n");                                         \
		exit(1);                                                       \
	} while (0)

#define T_ASSERT(cond)                                                         \
	do {                                                                   \
		if (!(cond))                                                   \
			T_FAIL("assertion failed: %s", #cond);                 \
	} while (0)

/* Expect an exact integer value; prints both on mismatch. */
#define T_EQ(got, want)                                                        \
	do {                                                                   \
		long long g_ = (long long)(got), w_ = (long long)(want);       \
		if (g_ != w_)                                                  \
			T_FAIL("%s = %lld, expected %lld", #got, g_, w_);      \
	} while (0)

/* Expect a call to succeed (>= 0); prints the error text otherwise. */
#define T_OK(expr)                                                             \
	({                                                                     \
		long long r_ = (long long)(expr);                              \
		if (r_ < 0)                                                    \
			T_FAIL("%s failed: %lld (%s)", #expr, r_,              \
			       wd_strerror((int)r_));                          \
		r_;                                                            \
	})

static inline struct wd_ctx *t_ctx(unsigned threads, unsigned idle_us)
{
	struct wd_ctx_opts o = { .size = sizeof(o), .soft_threads = threads,
				 .soft_idle_us = idle_us };
	struct wd_ctx *ctx = NULL;

	T_OK(wd_ctx_new(&ctx, &o));
	return ctx;
}

static inline struct wd_queue *t_queue(struct wd_ctx *ctx, const char *alg, unsigned depth)
{
	struct wd_queue_opts o = { .size = sizeof(o), .depth = depth };
	struct wd_queue *q = NULL;

	T_OK(wd_queue_new(&q, ctx, alg, &o));
	return q;
}

/* Submit one request and wait for its completion (5 s at most). */
static inline struct wd_cpl t_run(struct wd_queue *q, struct wd_req *r)
{
	struct wd_cpl c;

	T_EQ(wd_send(q, r, 1), 1);
	T_EQ(wd_wait(q, &c, 1, 5000), 1);
	T_EQ(c.tag, r->tag);
	return c;
}

static inline double t_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* xorshift64*: reproducible data; tests print their seed. */
static inline uint64_t t_rand(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545F4914F6CDD1Dull;
}

static inline uint64_t t_seed(void)
{
	const char *e = getenv("WD_TEST_SEED");
	uint64_t s = e ? strtoull(e, NULL, 0) : (uint64_t)time(NULL) * 2654435761u;

	if (!s)
		s = 1;
	fprintf(stderr, "seed %llu (set WD_TEST_SEED to repeat)\n", (unsigned long long)s);
	return s;
}

static inline void t_fill_random(void *buf, size_t len, uint64_t *s)
{
	unsigned char *p = buf;
	size_t i;

	for (i = 0; i < len; i++)
		p[i] = (unsigned char)(t_rand(s) >> 56);
}

/* This process's locked memory as the kernel counts it (mlock and VFIO
 * pins alike), in KiB; -1 if unreadable. */
static inline long t_vm_locked_kb(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long kb = -1;

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "VmLck: %ld kB", &kb) == 1)
			break;
	if (f)
		fclose(f);
	return kb;
}

#endif
