/* SPDX-License-Identifier: MIT */
/*
 * Queue rings: the shared-memory wire format between a queue's user (the
 * producer of requests) and its device (the consumer), version 1.
 *
 * One mapping holds, in order: the control block (struct wd_ring_ctl), the
 * submission entries and the completion entries.  Both sides compute the
 * layout from the entry counts agreed at setup and keep it in private memory;
 * nothing in the mapping except the four indices and two flag words is ever
 * read back, and the device validates those on every read.
 *
 * Indices are free-running 32-bit counters; an entry's slot is idx & mask.
 * Each index lives on its own cache line, grouped by the side that writes it,
 * so producer and consumer never write the same line.
 *
 * Ordering (the pairs that matter):
 *  - user writes SQEs, then store-release sq_tail; device load-acquire
 *    sq_tail, then reads SQEs.
 *  - device writes CQEs, then store-release cq_tail; user load-acquire
 *    cq_tail, then reads CQEs.
 *  - sleeping device: device stores SQ_NEED_WAKEUP then loads sq_tail; the
 *    user stores sq_tail then loads sq_flags.  Both are sequentially
 *    consistent so at least one side sees the other (Dekker); the user then
 *    kicks the device's eventfd.  The waiting user and cq_flags/cq_tail form
 *    the mirror pair.
 */
#ifndef WD_RING_H
#define WD_RING_H

#include <stddef.h>
#include <stdint.h>
#include <wd/wd.h>

#define WD_RING_MAGIC   0x47525744u   /* "WDRG" */
#define WD_RING_VERSION 1u
#define WD_CACHELINE    64

#define WD_RING_MAX_ENTRIES 4096u

/* sq_flags, written by the device */
#define WD_SQ_NEED_WAKEUP 1u
/* cq_flags, written by the user */
#define WD_CQ_WAITING 1u
/* dev_status, written by the device: nonzero means the ring is dead */
#define WD_DEV_BROKEN 1u
/* ... and the device could not be stopped: it may still write what its
 * requests named (a fallback does not run those again, lest the device
 * overwrite the result) */
#define WD_DEV_UNSTOPPED 2u

typedef struct wd_req wd_sqe;
typedef struct wd_cpl wd_cqe;

_Static_assert(sizeof(wd_sqe) == 64, "SQE is 64 bytes on the wire");
_Static_assert(sizeof(wd_cqe) == 32, "CQE is 32 bytes on the wire");

struct wd_ring_ctl {
	/* set once at setup, informational for debuggers; never trusted */
	_Alignas(WD_CACHELINE) uint32_t magic;
	uint32_t version;
	uint32_t sq_entries;
	uint32_t cq_entries;
	uint32_t features;
	uint32_t rsvd[11];
	/* written by the user */
	_Alignas(WD_CACHELINE) uint32_t sq_tail;
	_Alignas(WD_CACHELINE) uint32_t cq_head;
	uint32_t cq_flags;
	/* written by the device; the user reads this line on every submit */
	_Alignas(WD_CACHELINE) uint32_t sq_head;
	uint32_t sq_flags;
	uint32_t dev_status;
	int32_t dev_error;      /* why the ring is dead, a negative errno */
	_Alignas(WD_CACHELINE) uint32_t cq_tail;
};

_Static_assert(sizeof(struct wd_ring_ctl) == 5 * WD_CACHELINE, "ring control block layout");

/* A side's private view of a ring mapping. */
struct wd_ring {
	struct wd_ring_ctl *ctl;
	wd_sqe *sqes;
	wd_cqe *cqes;
	uint32_t sq_entries, sq_mask;
	uint32_t cq_entries, cq_mask;
	size_t size;            /* bytes of the whole mapping */
};

/* Bytes needed for a ring of these sizes (both powers of two), page rounded. */
size_t wd_ring_size(uint32_t sq_entries, uint32_t cq_entries);

/* Bind a private view to mem; the sizes come from setup, never from mem. */
void wd_ring_bind(struct wd_ring *r, void *mem, uint32_t sq_entries, uint32_t cq_entries);

/* Write a fresh control block; all four indices start at start_idx. */
void wd_ring_format(struct wd_ring *r, uint32_t start_idx);

static inline uint32_t wd_load_acquire(const uint32_t *p)
{
	return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

static inline void wd_store_release(uint32_t *p, uint32_t v)
{
	__atomic_store_n(p, v, __ATOMIC_RELEASE);
}

static inline uint32_t wd_load_relaxed(const uint32_t *p)
{
	return __atomic_load_n(p, __ATOMIC_RELAXED);
}

/* Sequentially consistent pair used by the sleep/wake protocol. */
static inline void wd_store_sc(uint32_t *p, uint32_t v)
{
	__atomic_store_n(p, v, __ATOMIC_SEQ_CST);
}

static inline uint32_t wd_load_sc(const uint32_t *p)
{
	return __atomic_load_n(p, __ATOMIC_SEQ_CST);
}

static inline void wd_cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield" ::: "memory");
#endif
}

#endif
