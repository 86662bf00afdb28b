/* SPDX-License-Identifier: MIT */
/*
 * The fallback's own state, shared by its two files: fallback.c (the data
 * path: slots, send, reap, failover, waiting) and fallback_ctl.c (making
 * it, the built-in engine's queue, sessions and kept keys, statistics).
 */
#ifndef WD_FALLBACK_INT_H
#define WD_FALLBACK_INT_H

#include <stdint.h>
#include <wd/crypto.h>

#include "fallback.h"
#include "internal.h"

/* Where a request in flight is: the slot's life. */
enum fb_where {
	FB_FREE,
	FB_DEV,         /* in the device's ring */
	FB_SOFT,        /* in the built-in engine's queue */
	FB_DONE,        /* completed by the library (fb->done), not yet reaped */
};

/* Why the built-in engine runs it: the counters of wd_queue_stats. */
enum fb_why {
	FB_WHY_FAILURE, /* the device failed it, or failed as a whole */
	FB_WHY_REFUSAL, /* the device refused it (-EOPNOTSUPP) */
};

struct fb_slot {
	uint32_t gen;           /* bumped when the slot is freed: stale tags miss */
	uint8_t where;          /* enum fb_where */
	uint8_t why;            /* enum fb_why, for FB_SOFT */
	uint8_t taken;          /* failover: the device may have started it */
	uint8_t answered;       /* failover: the device answered it (-EIO, -EOPNOTSUPP) */
	uint32_t ridx;          /* FB_DEV: its position in the device's SQ */
	int32_t status;         /* failover: that answer */
};

/* Cipher keys kept for the built-in engine (WD_QUEUE_F_FALLBACK_KEEP_KEYS),
 * in their own locked pages. */
struct fb_keys {
	uint64_t have;          /* bit id-1: cs[id] holds session id's key */
	struct wd_cipher_setup cs[WD_MAX_SESSIONS + 1];
};

struct fb_order {
	int32_t key;            /* SQ position relative to the tail */
	uint32_t slot;
};

struct wd_fb {
	uint32_t depth;
	uint32_t nfree;
	uint16_t *free;                 /* stack of free slots */
	struct fb_slot *slot;
	wd_sqe *shadow;                 /* each request as the user gave it */
	wd_cqe *done;                   /* FB_DONE completions, by slot */
	uint16_t *doneq;                /* ... in the order they were made */
	uint32_t done_head, done_tail;
	uint16_t *ring_slot;            /* device SQ position -> slot */
	struct fb_order *order;         /* failover scratch */
	uint32_t dev_inflight;          /* FB_DEV slots */
	struct wd_queue *soft;          /* the built-in engine's queue, made when needed */
	int soft_fd;                    /* its completion fd, or -1: the same counter as q->cq_fd */
	int sva_mem;                    /* /proc/self/mem for it (WD_DRV_F_SVA_CHECKED), or -1 */
	int detached;                   /* the device's ring is read no more */
	int failed;                     /* the device failed: everything goes to soft */
	uint64_t soft_set;              /* sessions (bit id-1) set on the built-in engine */
	uint64_t on_soft;               /* ... that live there: all their requests go there */
	uint64_t lost;                  /* sessions whose state went with the device */
	struct fb_keys *keys;
	/* counters (the queue's user thread writes them) */
	uint64_t n_failure, n_refusal, n_lost, n_failures, n_moved;
	struct wd_queue_stats dev_last; /* the device's, as last read */
};

static inline uint64_t fb_bit(unsigned id)
{
	return id && id <= WD_MAX_SESSIONS ? 1ull << (id - 1) : 0;
}

/* fallback_ctl.c */
/* The built-in engine's queue for q: 0 once it is there, or -errno. */
int fb_soft_open(struct wd_queue *q);
/* Make session id usable there for a request of q (a kept key is set):
 * 0, or -ENOTRECOVERABLE when the built-in engine cannot have it. */
int fb_soft_session(struct wd_queue *q, unsigned id);
/* Set every kept key there (failover). */
void fb_restore_keys(struct wd_queue *q);
/* After the failover: the fds the user waits on follow the built-in engine. */
void fb_rewire_failed(struct wd_queue *q);
/* Wake whoever waits on the queue's event fd (completions made here). */
void fb_kick_waiters(struct wd_queue *q);

/* fallback.c */
/* The slot a completion's tag names, if it is in flight where expected
 * (enum fb_where); else -1. */
int fb_slot_of(const struct wd_fb *fb, uint64_t tag, unsigned where);
/* Complete slot s here: with c (its tag is the user's again), or err. */
void fb_done_put(struct wd_fb *fb, unsigned s, const wd_cqe *c);
void fb_done_err(struct wd_fb *fb, unsigned s, int err);
/* Slot s's request to the built-in engine (enum fb_why): 0, or it stays
 * where it was (the engine cannot be had, or not its session). */
int fb_to_soft(struct wd_queue *q, unsigned s, unsigned why);
/* Can the built-in engine run the request in slot s of a queue whose
 * device failed or refused it: 0, or why not (-ENOTRECOVERABLE: state
 * only the device had; -EIO: it writes over its own input and the device
 * may have started it). */
int fb_rerun_check(struct wd_queue *q, const wd_sqe *e, int taken);

#endif
