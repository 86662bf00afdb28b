/* SPDX-License-Identifier: MIT */
/* Small steps the fault-injection scenarios share (t_failinj_*.c). */
#ifndef T_FI_LIB_H
#define T_FI_LIB_H

#include <errno.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <wd/comp.h>
#include <wd/crypto.h>
#include <wd/mem.h>
#include <wd/mover.h>
#include <wd/wd.h>

#include "core/internal.h"
#include "fi.h"
#include "mem/domain.h"

#define FI_CRC_CHECK 0xE3069283u        /* CRC32C of "123456789" */

/* A context with one engine thread, in-process devices only. */
static inline struct wd_ctx *fi_ctx_local(void)
{
	struct wd_ctx_opts o = { .size = sizeof(o), .soft_threads = 1,
				 .flags = WD_CTX_F_LOCAL_ONLY };
	struct wd_ctx *ctx = NULL;

	FI_TRY(wd_ctx_new(&ctx, &o));
	return ctx;
}

static inline struct wd_queue *fi_queue(struct wd_ctx *ctx, const char *alg, const char *dev,
					unsigned flags, struct wd_domain *dom)
{
	struct wd_queue_opts o = { .size = sizeof(o), .depth = 16, .device = dev, .flags = flags,
				   .domain = dom };
	struct wd_queue *q = NULL;

	FI_TRY(wd_queue_new(&q, ctx, alg, &o));
	return q;
}

/* Submit one request, wait for it (a failure here is the test's). */
static inline struct wd_cpl fi_run_req(struct wd_queue *q, struct wd_req *r)
{
	struct wd_cpl c;
	int ret;

	r->tag = 0x7e57;
	ret = wd_send(q, r, 1);
	if (ret != 1)
		FI_FAIL("wd_send: %d (%s)", ret, wd_strerror(ret));
	ret = wd_wait(q, &c, 1, 10000);
	if (ret != 1)
		FI_FAIL("wd_wait: %d (%s)", ret, wd_strerror(ret));
	FI_ASSERT(c.tag == 0x7e57);
	return c;
}

/* The queue serves: a CRC32C through the ring; its status.  A request's
 * resources are the engine's to get: a failure there is an error status. */
static inline int fi_crc(struct wd_queue *q)
{
	struct wd_req r;
	struct wd_cpl c;

	wd_prep_crc32c(&r, "123456789", 9, 0);
	c = fi_run_req(q, &r);
	if (c.status)
		return c.status;
	FI_ASSERT((uint32_t)c.result == FI_CRC_CHECK);
	return 0;
}

#define fi_check_crc(q) FI_TRY(fi_crc(q))

/* Copy len bytes between device addresses; the completion's status. */
static inline int fi_dev_copy(struct wd_queue *q, uint64_t dst, uint64_t src, uint32_t len)
{
	struct wd_req r;

	memset(&r, 0, sizeof(r));
	r.op = WD_OP_COPY;
	r.dst = dst;
	r.src = src;
	r.len = len;
	return fi_run_req(q, &r).status;
}

/*
 * What a failure could leave counted that no memory check sees, since
 * freeing the context or queue frees it along: at a run's end every device
 * must have all its queue slots free and the context no domain left.
 */
static inline void fi_check_ctx_idle(struct wd_ctx *ctx)
{
	struct wd_dev_info info = { .size = sizeof(info) };
	struct wd_domain *d;
	unsigned i, n = 0;

	for (i = 0; wd_dev_get(ctx, i); i++) {
		FI_ASSERT(wd_dev_info(wd_dev_get(ctx, i), &info) == 0);
		if (info.avail_queues != info.max_queues)
			FI_FAIL("%s: %u of %u queue slots free", info.name, info.avail_queues,
				info.max_queues);
	}
	pthread_mutex_lock(&ctx->lock);
	for (d = ctx->domains; d; d = d->next)
		n++;
	pthread_mutex_unlock(&ctx->lock);
	if (n)
		FI_FAIL("%u domain(s) left in the context", n);
}

static inline void fi_ctx_free(struct wd_ctx *ctx)
{
	fi_check_ctx_idle(ctx);
	wd_ctx_free(ctx);
}

/* ... and every session id of a queue free again (nothing in flight). */
static inline void fi_check_sessions(struct wd_queue *q)
{
	int i;

	for (i = 1; i <= WD_MAX_SESSIONS; i++)
		if (wd__session_take(q) < 0)
			FI_FAIL("only %d session ids free", i - 1);
	FI_ASSERT(wd__session_take(q) == -EBUSY);
	for (i = 1; i <= WD_MAX_SESSIONS; i++)
		wd__session_put(q, (unsigned)i);
}

static inline double fi_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/*
 * The lease: an unshare asked not to wait while a request that takes
 * delay_s, sent at t0, is in flight must be -EBUSY.  A machine so loaded
 * that the request may be over by then gets 0 (the range is shared again,
 * for the waiting unshare that follows); before the delay, 0 is a failure.
 */
static inline void fi_unshare_busy(struct wd_domain *d, void *p, size_t len, uint64_t *iova,
				   double t0, double delay_s)
{
	int before = fi_injected();
	int ret = wd_unshare(d, *iova, WD_UNSHARE_NOWAIT, 0);

	if (ret < 0 && ret != -EBUSY) {
		fi_failed("wd_unshare(NOWAIT)", ret, before, __FILE__, __LINE__);
		ret = wd_unshare(d, *iova, WD_UNSHARE_NOWAIT, 0);
	}
	if (ret == -EBUSY)
		return;
	if (ret || fi_now() - t0 < delay_s)
		FI_FAIL("wd_unshare(NOWAIT) = %d with a request in flight", ret);
	FI_TRY(wd_share(d, p, len, 0, iova));
}

/* Page-aligned static buffers: a scenario allocates nothing of its own
 * while injection is on (the test's calls are wrapped too). */
#define FI_PAGE 4096
#define FI_BUF(name, size) static unsigned char name[size] __attribute__((aligned(FI_PAGE)))

#endif
