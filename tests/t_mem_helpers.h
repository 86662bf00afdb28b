/* Helpers for the memory-layer tests. */
#ifndef T_MEM_HELPERS_H
#define T_MEM_HELPERS_H

#include <unistd.h>
#include <wd/mem.h>
#include "t_helpers.h"

static inline size_t t_page(void)
{
	return (size_t)sysconf(_SC_PAGESIZE);
}

/* An explicit-mode queue on its own (or the given) domain. */
static inline struct wd_queue *t_xqueue(struct wd_ctx *ctx, const char *alg,
					struct wd_domain *dom)
{
	struct wd_queue_opts o = { .size = sizeof(o), .depth = 64,
				   .flags = WD_QUEUE_F_EXPLICIT, .domain = dom };
	struct wd_queue *q = NULL;

	T_OK(wd_queue_new(&q, ctx, alg, &o));
	T_ASSERT(wd_queue_domain(q) != NULL);
	return q;
}

/* Copy len bytes between device addresses; returns the status. */
static inline int t_dev_copy(struct wd_queue *q, uint64_t dst, uint64_t src, uint32_t len)
{
	struct wd_req r;

	memset(&r, 0, sizeof(r));
	r.op = WD_OP_COPY;
	r.dst = dst;
	r.src = src;
	r.len = len;
	r.tag = 99;
	return t_run(q, &r).status;
}

#endif
