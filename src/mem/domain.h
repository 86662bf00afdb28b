/* SPDX-License-Identifier: MIT */
/* The memory layer's device-facing side: how an engine reaches shared memory. */
#ifndef WD_DOMAIN_H
#define WD_DOMAIN_H

#include <pthread.h>
#include <stdint.h>
#include <wd/mem.h>

#include "../ring/ring.h"

#define WD_MAX_RESV 16
#define WD_IOVA_MIN 0x10000ull          /* the first 64 KiB are never handed out */
#define WD_IOVA_END (1ull << 48)        /* IOVA space of the domain */

/* A queue's ring in its domain; dev_fenced: its device waits for the
 * ring's requests itself before it lets a range go (a daemon), so an
 * unshare here does not. */
struct wd_dom_ring {
	struct wd_ring_ctl *ctl;
	int dev_fenced;
};

/* One shared range: pinned and mapped here, or (a daemon's domain) kept by
 * the device, and entered here with its host address all the same, so that
 * the built-in engine can run the device's requests (a fallback). */
struct wd_map {
	uint64_t iova;                  /* page aligned */
	uint64_t len;                   /* page multiple */
	uintptr_t host;                 /* page aligned */
	uint32_t flags;                 /* WD_SHARE_* */
	uint32_t inflight;              /* engine operations using it now (atomic) */
	uint64_t *dirty;                /* one bit per page, once tracking started */
	uint64_t *hw_dirty;             /* the IOMMU's bits not yet reported (VFIO) */
};

struct wd_domain {
	struct wd_ctx *ctx;
	struct wd_dev *dev;
	pthread_rwlock_t lock;          /* maps[] and each map's life */
	struct wd_map **maps;           /* sorted by iova, no overlaps */
	struct wd_map **hmaps;          /* the same, sorted by host address */
	uint32_t nmaps, cap;
	uint32_t dirty_on;              /* atomic: tracking */
	uint64_t pinned, pin_limit;     /* under lock */
	pthread_mutex_t qlock;          /* rings[] */
	struct wd_dom_ring *rings;      /* the rings of the queues using it (lease fences) */
	uint32_t nqueues, qcap;
	uint32_t users;                 /* queues made on it, until freed (qlock) */
	int implicit;                   /* made for one queue, dies with it */
	uint32_t remote_id;             /* the device's own name for it (daemon) */
	void *drv;
	struct wd_domain *next;         /* ctx's list, under ctx->lock */
};

/*
 * Engine side: translate [iova, iova+len) to a host pointer, holding the
 * shared range until wd__domain_put().  -EFAULT when the range is not
 * entirely inside one shared range (or write to a read-only one).
 */
int wd__domain_get(struct wd_domain *d, uint64_t iova, uint64_t len, int write, void **host,
		   struct wd_map **map);

/* Release a range; written bytes from iova are marked dirty if tracking. */
void wd__domain_put(struct wd_domain *d, struct wd_map *m, uint64_t iova, uint64_t written);

/* A queue holds its domain from creation to free; an implicit domain goes
 * with its last user. */
void wd__domain_use(struct wd_domain *d);
void wd__domain_unuse(struct wd_domain *d);

/* Queues (their rings) join and leave their domain, for lease fences. */
int wd__domain_attach(struct wd_domain *d, struct wd_ring_ctl *ring, int dev_fenced);
void wd__domain_detach(struct wd_domain *d, struct wd_ring_ctl *ring);

/* wd_share() with the IOVA to try first (identity with another process's
 * address, for the daemon); want 0 means the host address, WD__IOVA_ANY
 * none (the allocator chooses: a daemon must not hand out its own
 * addresses). */
#define WD__IOVA_ANY UINT64_MAX
/* Flag of wd__share_at only: map, do not lock.  The daemon's shares are
 * sealed memfds its engine only reads and writes through (no DMA): locking
 * them would fault in and charge to the daemon what a client never used. */
#define WD__SHARE_UNLOCKED (1u << 31)
int wd__share_at(struct wd_domain *d, void *ptr, size_t len, unsigned flags, uint64_t want,
		 uint64_t *iova);

/* wd_unshare() without waiting for fences (the daemon tracks those itself
 * and never blocks): -EBUSY while an engine is using the range right now. */
int wd__unshare_now(struct wd_domain *d, uint64_t iova);

/* A range the device (a daemon) keeps: it placed [ptr, ptr+len) at iova.
 * Entered in the table with its host address (counted as pinned), not
 * pinned or mapped here; 0, -ENOMEM, or -EPROTO when the device's IOVA
 * cannot be (not at ptr's page offset, or over another range). */
int wd__domain_mirror(struct wd_domain *d, uint64_t iova, void *ptr, size_t len,
		      unsigned flags);

#endif
