/* SPDX-License-Identifier: MIT */
/*
 * Data-mover requests: helpers that fill a struct wd_req for one operation,
 * in the style of liburing's io_uring_prep_*().  The tag is left to the
 * caller.  All of them clear the request first.
 */
#ifndef WD_MOVER_H
#define WD_MOVER_H

#include <string.h>
#include <wd/wd.h>

#ifdef __cplusplus
extern "C" {
#endif

static inline void wd_prep_nop(struct wd_req *r, uint64_t delay_ns)
{
	memset(r, 0, sizeof(*r));
	r->op = WD_OP_NOP;
	r->arg0 = delay_ns;
}

static inline void wd_prep_copy(struct wd_req *r, void *dst, const void *src, uint32_t len)
{
	memset(r, 0, sizeof(*r));
	r->op = WD_OP_COPY;
	r->dst = (uint64_t)(uintptr_t)dst;
	r->src = (uint64_t)(uintptr_t)src;
	r->len = len;
}

static inline void wd_prep_fill(struct wd_req *r, void *dst, uint64_t pattern, uint32_t len)
{
	memset(r, 0, sizeof(*r));
	r->op = WD_OP_FILL;
	r->dst = (uint64_t)(uintptr_t)dst;
	r->arg0 = pattern;
	r->len = len;
}

static inline void wd_prep_compare(struct wd_req *r, const void *a, const void *b, uint32_t len)
{
	memset(r, 0, sizeof(*r));
	r->op = WD_OP_COMPARE;
	r->src = (uint64_t)(uintptr_t)a;
	r->dst = (uint64_t)(uintptr_t)b;
	r->len = len;
}

/* seed 0 gives the standard CRC32C (iSCSI) of the buffer; to continue a
 * running CRC pass the previous result as seed. */
static inline void wd_prep_crc32c(struct wd_req *r, const void *src, uint32_t len, uint32_t seed)
{
	memset(r, 0, sizeof(*r));
	r->op = WD_OP_CRC32C;
	r->src = (uint64_t)(uintptr_t)src;
	r->len = len;
	r->arg0 = seed;
}

#ifdef __cplusplus
}
#endif
#endif
