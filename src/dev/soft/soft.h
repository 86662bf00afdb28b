/* SPDX-License-Identifier: MIT */
/* The soft device: a software accelerator running engine threads in-process. */
#ifndef WD_SOFT_H
#define WD_SOFT_H

#include <pthread.h>
#include <stdint.h>

#include "../../ring/ring.h"

#define SOFT_MAX_LEN (1u << 30)         /* largest request, bytes */
#define SOFT_BUDGET 32                  /* requests per queue per round */

struct soft_worker;

/* The device's private state for one queue: its own view of the ring and
 * its own copies of the indices it owns; nothing it decides on comes from
 * shared memory without a check. */
struct soft_queue {
	struct wd_ring ring;
	uint32_t sq_head;
	uint32_t cq_tail;
	uint32_t op_mask;
	int cq_fd;                      /* wakes a waiting user */
	int broken;
	struct soft_worker *worker;
	uint64_t nreq, nerr;            /* served, failed (engine-thread only) */
};

struct soft_worker {
	pthread_t thread;
	int efd;                        /* doorbell slow path */
	unsigned idle_us;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct soft_queue **list;       /* under lock, room for max_queues */
	unsigned n;
	uint32_t gen;                   /* bumped under lock on every list change */
	uint32_t ack_gen;               /* last gen the thread took, under lock */
	uint32_t stop;
	struct soft_queue **local;      /* the thread's snapshot, same room */
	unsigned nlocal;
};

/* max_queues: most queues the worker will ever serve at once. */
int soft_worker_start(struct soft_worker *w, unsigned idle_us, unsigned max_queues);
void soft_worker_stop(struct soft_worker *w);
void soft_worker_attach(struct soft_worker *w, struct soft_queue *sq);
/* Synchronous: when it returns, the worker no longer touches sq. */
void soft_worker_detach(struct soft_worker *w, struct soft_queue *sq);
void soft_worker_kick(struct soft_worker *w);

/* Validate one copied descriptor and execute it; returns the status. */
int soft_exec(struct soft_queue *sq, const wd_sqe *e, wd_cqe *c);

#endif
