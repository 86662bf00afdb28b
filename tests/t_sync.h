/* SPDX-License-Identifier: MIT */
/* Helpers for the tests of synchronous helpers run inline on the soft
 * device (src/dev/soft/inline.c) against the same helpers through the ring. */
#ifndef T_SYNC_H
#define T_SYNC_H

#include "core/internal.h"
#include "dev/soft/soft.h"
#include <wd/comp.h>
#include <wd/crypto.h>
#include "t_helpers.h"

/* A queue whose synchronous helpers run inline (ring_only 0: the default)
 * or always go through the ring (WD_QUEUE_F_RING_ONLY). */
static inline struct wd_queue *t_sync_queue(struct wd_ctx *ctx, const char *alg, int ring_only)
{
	struct wd_queue_opts o = { .size = sizeof(o), .depth = 16,
				   .flags = ring_only ? WD_QUEUE_F_RING_ONLY : 0 };
	struct wd_queue *q = NULL;

	T_OK(wd_queue_new(&q, ctx, alg, &o));
	T_ASSERT(!strcmp(q->dev->info.driver, "soft"));
	T_ASSERT(!q->exec_sync == !!ring_only);
	return q;
}

/* The soft device's counters of a queue: engine (ring) and inline apart. */
static inline struct soft_queue *t_sq(struct wd_queue *q)
{
	return q->drv;
}

static inline uint64_t t_ld(const uint64_t *p)
{
	return __atomic_load_n(p, __ATOMIC_RELAXED);
}

#endif
