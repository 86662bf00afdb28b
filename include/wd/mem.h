/* SPDX-License-Identifier: MIT */
/*
 * Memory: the address space a device sees ("domain"), explicit sharing,
 * reserved IOVA regions, pins and leases, range lists and dirty tracking.
 *
 * A queue works in one of two modes, chosen when it is created:
 *   - SVA (the default where the device offers WD_DEV_F_SVA): requests carry
 *     the process's own pointers;
 *   - explicit (WD_QUEUE_F_EXPLICIT): requests carry IOVAs, and only ranges
 *     shared into the queue's domain with wd_share() are reachable.  Anything
 *     else - an address outside every shared range, a range that runs past
 *     the end of one, a range already unshared - is answered with an error
 *     completion (-EFAULT); the device never touches it.
 * Several queues of one device may share a domain (like a VFIO container):
 * create it with wd_domain_new() and name it in wd_queue_opts.domain.
 */
#ifndef WD_MEM_H
#define WD_MEM_H

#include <stddef.h>
#include <stdint.h>
#include <wd/wd.h>

#ifdef __cplusplus
extern "C" {
#endif

struct wd_domain;

struct wd_iova_range {
	uint64_t start;
	uint64_t last;          /* inclusive */
};

/* Create an explicit-mode domain on a device (NULL: the best device that
 * offers explicit sharing). */
int wd_domain_new(struct wd_domain **out, struct wd_ctx *ctx, const char *device);

/* Free a domain: -EBUSY while queues use it; unshares what is left. */
int wd_domain_free(struct wd_domain *d);

/* The domain of an explicit-mode queue (its own one if none was given),
 * or NULL for an SVA queue. */
struct wd_domain *wd_queue_domain(const struct wd_queue *q);

/* IOVA windows the device cannot use: filled into out (up to max); returns
 * how many there are. */
int wd_domain_reserved(const struct wd_domain *d, struct wd_iova_range *out, unsigned max);

/* ---- sharing ---- */

/* wd_share() flags */
#define WD_SHARE_IDENTITY   (1u << 0)  /* IOVA must equal the address, else -EADDRNOTAVAIL */
#define WD_SHARE_READONLY   (1u << 1)  /* the device may read only */
#define WD_SHARE_FILE_OK    (1u << 2)  /* allow a long-term pin of file-backed memory */

/*
 * Share [ptr, ptr+len) with the domain.  The pages are pinned (mlock),
 * excluded from fork children (MADV_DONTFORK) and counted against the
 * domain's pin limit.  *iova receives the address the device must use for
 * ptr: ptr itself when that range of IOVA space is free and not reserved,
 * another address otherwise (never inside a reserved region).
 * Errors: -EINVAL bad arguments; -EFAULT part of the range is not mapped;
 * -EEXIST it overlaps a range already shared with this domain; -EPERM it is
 * file-backed and WD_SHARE_FILE_OK was not given (anonymous and memfd memory
 * are fine); -ENOMEM the pin limit would be exceeded or the kernel refused
 * the pin (nothing is left half-shared); -EADDRNOTAVAIL WD_SHARE_IDENTITY
 * and the identity address is reserved or taken; -ENOSPC no IOVA space.
 */
int wd_share(struct wd_domain *d, void *ptr, size_t len, unsigned flags, uint64_t *iova);

/* wd_unshare() flags */
#define WD_UNSHARE_NOWAIT   (1u << 0)  /* -EBUSY instead of waiting for requests */

/*
 * Revoke the range shared at iova.  A shared range is a lease: requests
 * submitted before this call may still use it, and this call waits (up to
 * timeout_ms, -1 for no limit) until they are done, or fails with -EBUSY
 * under WD_UNSHARE_NOWAIT, or -ETIMEDOUT; the range stays shared on
 * failure.  When it returns 0 the device will never touch the range again.
 * -ENOENT: nothing is shared at iova.
 */
int wd_unshare(struct wd_domain *d, uint64_t iova, unsigned flags, int timeout_ms);

struct wd_domain_info {
	uint32_t size;          /* caller sets sizeof(struct wd_domain_info) */
	uint32_t nmaps;         /* shared ranges */
	uint32_t nqueues;       /* queues using the domain */
	uint32_t nreserved;     /* reserved regions */
	uint64_t pinned;        /* bytes pinned (whole pages) */
	uint64_t pin_limit;     /* UINT64_MAX: none */
	uint32_t dirty_tracking;
	uint32_t rsvd;
};

int wd_domain_info(const struct wd_domain *d, struct wd_domain_info *info);

/* Pin limit of the domain in bytes; default RLIMIT_MEMLOCK. */
int wd_domain_set_pin_limit(struct wd_domain *d, uint64_t bytes);

/* Page-aligned anonymous memory suitable for sharing; free with wd_mem_free. */
void *wd_mem_alloc(size_t len);
void wd_mem_free(void *p, size_t len);

/* ---- dirty tracking ---- */

/* Start/stop recording which pages the device writes (one bit per page of
 * IOVA).  Starting clears every bit. */
int wd_dirty_start(struct wd_domain *d);
int wd_dirty_stop(struct wd_domain *d);

/*
 * Read and clear the dirty bits of [iova, iova+len): bit i of bitmap (64
 * bits per word, least significant first) is page (iova / page) + i.  iova
 * and len must be page aligned; bitmap must hold len/page bits, rounded up
 * to whole 64-bit words (all of which are written).  Pages not shared read
 * as clean.  Walks only the shared ranges inside the window, with no
 * allocation however large the range.  Returns the number of dirty pages.
 */
int64_t wd_dirty_read_clear(struct wd_domain *d, uint64_t iova, uint64_t len, uint64_t *bitmap);

/* ---- range lists ---- */

struct wd_range {
	uint64_t addr;
	uint64_t len;
};

/* A buffer described as ranges, in storage the caller owns. */
struct wd_rlist {
	struct wd_range *r;
	uint32_t n, cap;
	uint64_t bytes;         /* total length */
	uint32_t unaligned;     /* ranges not page aligned at both ends */
	uint32_t rsvd;
};

void wd_rlist_init(struct wd_rlist *l, struct wd_range *storage, uint32_t cap);

/* Append a range, merging it with the last one when they touch.
 * -ENOSPC when full; zero-length ranges are ignored. */
int wd_rlist_add(struct wd_rlist *l, const void *p, uint64_t len);

/* CPU iterator: walk the list in pieces of at most max bytes (0: whole
 * ranges).  Returns 1 and fills *p and *len, or 0 at the end. */
struct wd_rlist_iter {
	const struct wd_rlist *l;
	uint32_t idx;
	uint64_t off;
};

void wd_rlist_iter_init(struct wd_rlist_iter *it, const struct wd_rlist *l);
int wd_rlist_cpu_next(struct wd_rlist_iter *it, uint64_t max, void **p, uint64_t *len);

/*
 * DMA view: translate the list through domain d (NULL: SVA, addresses stay
 * as they are) into device segments: ranges that are contiguous in IOVA
 * space are coalesced, and segments are split at max_seg bytes (0: no
 * limit).  A segment never spans two shared ranges (the device checks
 * each segment against one).  Fills up to max_segs segments; returns the
 * count, -E2BIG when more would be needed, -EFAULT when part of the list is
 * not shared.  One pass over the list whatever its alignment; the list's
 * count of unaligned ranges tells callers that need whole pages.
 */
int wd_rlist_dma_map(struct wd_domain *d, const struct wd_rlist *l, struct wd_range *segs,
		     uint32_t max_segs, uint64_t max_seg);

#ifdef __cplusplus
}
#endif
#endif
