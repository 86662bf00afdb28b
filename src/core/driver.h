/* SPDX-License-Identifier: MIT */
/*
 * The driver-facing side of libwd (like DPDK's _pmd.h): what a device driver
 * implements and what the core offers it.  Not installed.
 */
#ifndef WD_DRIVER_H
#define WD_DRIVER_H

#include <stdint.h>
#include <wd/mem.h>
#include <wd/wd.h>

#include "../ring/ring.h"

struct wd_queue;
struct wd_dev;
struct wd_cipher_setup;
struct wd_ctx;

/* The device pins shared memory itself (an IOMMU pin keeps the pages
 * resident and the kernel charges them to RLIMIT_MEMLOCK): the library
 * does not mlock what is shared with it, which would charge them twice. */
#define WD_DRV_F_PINS (1u << 0)
/* The built-in engine itself (soft): a queue on it has nothing to fall
 * back to, and the fallback of other queues is a queue on it. */
#define WD_DRV_F_BUILTIN (1u << 1)
/* Its SVA queues reach the process's memory through the kernel (a daemon
 * reading /proc/<pid>/mem): a bad address completes with -EFAULT instead
 * of faulting.  Their fallback checks addresses the same way. */
#define WD_DRV_F_SVA_CHECKED (1u << 2)

struct wd_driver_ops {
	const char *name;
	unsigned flags;                 /* WD_DRV_F_* */
	/* Discover devices and register each with wd__dev_add(). */
	int (*probe)(struct wd_ctx *ctx);
	/* Release a device's private state.  in_child: called in a fork child,
	 * where the parent's threads do not exist; free memory only. */
	void (*remove)(struct wd_dev *dev, int in_child);
	/* Allocate the queue's ring (q->ring, q->mem) and its event fds: the
	 * device's completion fd q->cq_fd, an eventfd of this process unless
	 * q->wait_fd is set too (then an epoll set of the fds to wait on,
	 * which the core may add to); q->alive_fd if the device can go away.
	 * The ring's SQEs carry the core's tags, not the user's, on a queue
	 * with a fallback (q->fb): a device returns them untouched. */
	int (*queue_open)(struct wd_queue *q);
	/* Free what queue_open allocated.  in_child: in a fork child, free heap
	 * memory only; the ring is not mapped there and the fds may by now
	 * mean something else. */
	void (*queue_close)(struct wd_queue *q, int in_child);
	/* Let the device start consuming the ring. */
	int (*queue_start)(struct wd_queue *q);
	/* Detach the device from the ring; when this returns it never reads or
	 * writes the ring again.  It reports how far it got: the SQ index up
	 * to which it consumed requests and the CQ index up to which it posted
	 * completions. */
	void (*queue_stop)(struct wd_queue *q, uint32_t *sq_head, uint32_t *cq_tail);
	/* Doorbell slow path: the device sleeps and must be woken. */
	void (*kick)(struct wd_queue *q);
	/* Explicit-mode domains kept by the device itself (a daemon); NULL:
	 * the library's own domain code (src/mem) does it in this process. */
	int (*dom_create)(struct wd_domain *d);
	void (*dom_destroy)(struct wd_domain *d);
	int (*share)(struct wd_domain *d, void *ptr, size_t len, unsigned flags, uint64_t *iova);
	int (*unshare)(struct wd_domain *d, uint64_t iova, unsigned flags, int timeout_ms);
	int (*pin_limit)(struct wd_domain *d, uint64_t bytes);
	int (*dirty_ctl)(struct wd_domain *d, int start);
	int64_t (*dirty_read)(struct wd_domain *d, uint64_t iova, uint64_t len, uint64_t *bitmap);
	/* Library-kept domains on a device with its own IOMMU (VFIO): called
	 * once a range has its IOVA and is pinned, and once no request can use
	 * it any more.  A failing dma_map fails the share. */
	int (*dma_map)(struct wd_domain *d, uint64_t iova, void *host, uint64_t len,
		       unsigned flags);
	void (*dma_unmap)(struct wd_domain *d, uint64_t iova, uint64_t len);
	/* Start/stop the IOMMU's own dirty tracking next to the library's, and
	 * read-and-clear its bits for one whole shared range: a page is
	 * reported dirty only when both saw it written. */
	int (*dirty_hw_ctl)(struct wd_domain *d, int start);
	int (*dirty_hw_read)(struct wd_domain *d, uint64_t iova, uint64_t len, uint64_t *bitmap);
	/* Control path of cipher sessions (like virtio-crypto's control queue):
	 * set session id (1..WD_MAX_SESSIONS) of queue q to *cs, or close it
	 * when cs is NULL.  The library only sets an id no request in flight
	 * names; requests naming an unset id complete with -EINVAL. */
	int (*cipher_session)(struct wd_queue *q, unsigned id, const struct wd_cipher_setup *cs);
	/* Optional, for devices whose engine runs in this process: execute one
	 * request in the calling thread, with the checks, error codes and
	 * statistics of the ring path, and fill *c as its completion would be.
	 * The core calls it only from a synchronous helper, on a started queue
	 * with nothing in flight (so the device holds none of its requests).
	 * Returns 0 (the request ran, its status in c->status) or 1: not now
	 * (the device's threads hold the queue's state), send it on the ring. */
	int (*exec_sync)(struct wd_queue *q, const wd_sqe *e, wd_cqe *c);
	/* Optional: the queue's counters, into *st (zeroed by the core, size
	 * set); NULL: the device keeps none (wd_queue_stats: -EOPNOTSUPP). */
	int (*queue_stats)(struct wd_queue *q, struct wd_queue_stats *st);
};

struct wd_dev {
	struct wd_ctx *ctx;
	const struct wd_driver_ops *ops;
	struct wd_dev_info info;
	const char *const *algs;        /* NULL-terminated, driver owned */
	struct wd_iova_range resv[16];  /* IOVA the device cannot use, sorted */
	uint32_t nresv;
	uint32_t nqueues;               /* open queues, under ctx->lock */
	/* Memory the device keeps pinned for itself (VFIO: its ring area),
	 * charged by the kernel like shares: a domain on the device counts it
	 * as pinned, so wd_domain_info() shows the room really left. */
	uint64_t pinned_self;
	void *priv;
};

/* Register a device found by a driver's probe; the core owns the struct. */
int wd__dev_add(struct wd_ctx *ctx, const struct wd_driver_ops *ops,
		const struct wd_dev_info *info, const char *const *algs, void *priv);

/* For devices served in this process: the queue's ring in private anonymous
 * memory kept from fork children, and its completion eventfd (q->mem,
 * q->ring, q->cq_fd); and their release (in a fork child: nothing to do). */
int wd__queue_ring_local(struct wd_queue *q);
void wd__queue_ring_local_free(struct wd_queue *q, int in_child);

/* Options the context resolved from wd_ctx_opts and the environment. */
uint32_t wd__ctx_soft_threads(const struct wd_ctx *ctx);
uint32_t wd__ctx_soft_idle_us(const struct wd_ctx *ctx);

/* Operations allowed on a queue of algorithm alg, as a bit per enum wd_op;
 * 0 when the library does not know alg. */
uint32_t wd__alg_ops(const char *alg);

/* Check a cipher session's setup (alg, key length, XTS halves that differ):
 * 0 or -EINVAL.  Drivers check what reaches them from elsewhere (a daemon's
 * clients) with the library's own rules. */
int wd__cipher_check(const struct wd_cipher_setup *cs);

extern const struct wd_driver_ops wd_soft_driver;
extern const struct wd_driver_ops wd_wdd_driver;
extern const struct wd_driver_ops wd_vfio_driver;

#endif
