/* SPDX-License-Identifier: MIT */
#ifndef WD_INTERNAL_H
#define WD_INTERNAL_H

#include <pthread.h>
#include <stdint.h>
#include <wd/wd.h>

#include "driver.h"
#include "../ring/ring.h"

#define WD_EXPORT __attribute__((visibility("default")))
#define WD_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define wd_likely(x) __builtin_expect(!!(x), 1)
#define wd_unlikely(x) __builtin_expect(!!(x), 0)

#define WD_MAX_DEVS 16

struct wd_ctx {
	pthread_mutex_t lock;           /* devices' queue counts */
	struct wd_dev *devs[WD_MAX_DEVS];
	unsigned ndevs;
	uint32_t soft_threads;
	uint32_t soft_idle_us;
	int soft_inline;                /* WD_SOFT_INLINE: 0 turns exec_sync off */
	uint32_t ring_start;            /* first ring index: tests start near 2^32 */
	struct wd_domain *domains;      /* every domain, under lock */
	char preferred[WD_NAME_MAX];    /* WD_DEVICE: the device to pick first */
	uint64_t fork_gen;
};

/* Queue life cycle (as uacce's): requests flow only while STARTED. */
enum wd_queue_state {
	WD_Q_INIT,
	WD_Q_STARTED,
	WD_Q_STOPPED,   /* stopped by the user; completions may still be reaped */
	WD_Q_ZOMBIE,    /* the device declared the ring dead */
};

struct wd_queue {
	/* hot: touched on every send/recv */
	struct wd_ring ring;
	uint32_t sq_tail;               /* private copy: what we published */
	uint32_t cq_head;               /* private copy: what we consumed */
	uint32_t inflight;              /* submitted, not yet reaped */
	uint32_t depth;
	uint32_t state;
	uint64_t fork_gen;
	const struct wd_driver_ops *ops;
	uint64_t kicks;                 /* doorbell syscalls made */
	uint32_t dead;                  /* the device declared the ring dead */
	uint32_t armed;                 /* wd_queue_arm() set WAITING */
	uint32_t ring_ready;            /* the driver's device formatted the ring */
	int alive_fd;                   /* hangs up when the device goes away; -1: none */
	uint32_t idle_polls;
	int64_t alive_checked;          /* when alive_fd was last looked at (ns) */
	/* synchronous helpers may run requests in this thread (ops->exec_sync) */
	int (*exec_sync)(struct wd_queue *q, const wd_sqe *e, wd_cqe *c);
	/* fallback to the built-in engine (fallback.c); NULL: none, requests
	 * go to the ring as they are */
	struct wd_fb *fb;

	/* cold */
	struct wd_ctx *ctx;
	struct wd_dev *dev;
	uint32_t op_mask;
	uint32_t flags;                 /* WD_QUEUE_F_* it was made with */
	uint64_t sessions_used;         /* bit i-1: session i is taken */
	uint64_t sessions_stale;        /* freed while requests were in flight */
	struct wd_domain *domain;       /* explicit mode; NULL: SVA */
	int cq_fd;                      /* eventfd the device writes while we wait */
	/* SVA through this file of the process's own memory (a fallback for a
	 * daemon's queue checks addresses as the daemon did); -1: pointers */
	int sva_mem;
	int wait_fd;                    /* wd_queue_event_fd(); -1: cq_fd itself */
	void *mem;                      /* ring mapping, owned by the driver */
	void *drv;                      /* driver private */
	char alg[WD_NAME_MAX];
};

/* Bumped in every fork child: a queue remembers the value it was born with. */
extern uint64_t wd__fork_gen;
/* How long the wdd client waits for a reply (src/dev/wdd/wdd.c); tests lower it. */
extern unsigned wd__wdd_reply_timeout_ms;
void wd__fork_init(void);

/* Domains (src/mem/domain.c) */
int wd__domain_create(struct wd_ctx *ctx, struct wd_dev *dev, int implicit,
		      struct wd_domain **out);
void wd__domain_destroy(struct wd_domain *d);

/* The device went away: every request in flight completes with err (or,
 * on a queue with a fallback, is handed to the built-in engine). */
void wd__queue_fail_all(struct wd_queue *q, int err);

/* wd_queue_new() once the device is chosen and the options checked:
 * o->domain, when set, may belong to another device (the fallback's queue
 * on soft0 reaches the failed device's domain).  cq_fd >= 0: the queue's
 * completion eventfd is a duplicate of that one (the same counter), so
 * that whoever waits on it wakes for this queue's completions too.
 * sva_mem >= 0: q->sva_mem (the caller keeps it open while q lives). */
int wd__queue_create(struct wd_ctx *ctx, struct wd_dev *dev, const char *alg,
		     const struct wd_queue_opts *o, int cq_fd, int sva_mem,
		     struct wd_queue **out);

/* The memfd behind memory from wd_mem_alloc(): fd and the offset of p in
 * it, or -ENOENT. */
int wd__mem_lookup(const void *p, size_t len, int *fd, uint64_t *offset);

/* Session ids (1..WD_MAX_SESSIONS), shared by compression streams and
 * cipher sessions: take returns a free id or -EBUSY, put gives it back. */
int wd__session_take(struct wd_queue *q);
void wd__session_put(struct wd_queue *q, unsigned id);

/* 0 when requests may be sent to q, or why not: -ECHILD, -EIO (its ring
 * is dead), -ESHUTDOWN (stopped). */
int wd__queue_usable(struct wd_queue *q);

/* The synchronous helpers' common step (sync.c): send r (tagged here) on an
 * otherwise idle queue and wait for its completion.  0 with *c filled,
 * -EBUSY when other requests are in flight, or the error of send/wait. */
int wd__run_sync(struct wd_queue *q, struct wd_req *r, struct wd_cpl *c);

/* Test hook: rings of queues created after this start their indices at idx. */
void wd__ctx_set_ring_start(struct wd_ctx *ctx, uint32_t idx);

#endif
