/* SPDX-License-Identifier: MIT */
/* The soft device: a software accelerator running engine threads in-process. */
#ifndef WD_SOFT_H
#define WD_SOFT_H

#include <pthread.h>
#include <stdint.h>

#include <isa-l/igzip_lib.h>

#include "../../ring/ring.h"

#define SOFT_MAX_LEN (1u << 30)         /* largest request, bytes */
#define SOFT_BUDGET 32                  /* requests per queue per round */

struct soft_worker;
struct soft_stream;
struct wd_domain;
struct wd_map;

/* A request's buffers as the engine reaches them: host pointers, and the
 * shared ranges held while the operation runs (explicit mode). */
struct soft_io {
	void *src, *dst, *dict;
	struct wd_map *map[3];
	uint64_t iova[3];
	unsigned nmaps;
	int dst_map;                    /* index in map[] of dst, or -1 */
};

/* Per engine thread: state for one-shot compression requests, allocated on
 * first use and touched only by that thread. */
struct soft_scratch {
	struct isal_zstream *z;
	struct inflate_state *inf;
	uint8_t *level_buf[4];
	uint8_t *count_buf;             /* output sink for measuring a too-large result */
};

/* The device's private state for one queue: its own view of the ring and
 * its own copies of the indices it owns; nothing it decides on comes from
 * shared memory without a check. */
struct soft_queue {
	struct wd_ring ring;
	uint32_t sq_head;
	uint32_t cq_tail;
	uint32_t op_mask;
	struct wd_domain *dom;          /* explicit mode; NULL: SVA */
	int cq_fd;                      /* wakes a waiting user */
	int broken;
	struct soft_worker *worker;
	uint64_t nreq, nerr;            /* served, failed (engine-thread only) */
	struct soft_stream *streams[WD_MAX_SESSIONS + 1]; /* by session id */
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
	struct soft_scratch scratch;
};

/* max_queues: most queues the worker will ever serve at once. */
int soft_worker_start(struct soft_worker *w, unsigned idle_us, unsigned max_queues);
void soft_worker_stop(struct soft_worker *w);
void soft_worker_attach(struct soft_worker *w, struct soft_queue *sq);
/* Synchronous: when it returns, the worker no longer touches sq. */
void soft_worker_detach(struct soft_worker *w, struct soft_queue *sq);
void soft_worker_kick(struct soft_worker *w);

/* Validate one copied descriptor and execute it; returns the status. */
int soft_exec(struct soft_queue *sq, struct soft_scratch *s, const wd_sqe *e, wd_cqe *c);

/* Compression ops (comp.c), called after the generic checks. */
int soft_compress(struct soft_queue *sq, struct soft_scratch *s, const wd_sqe *e,
		  const struct soft_io *io, wd_cqe *c);
int soft_decompress(struct soft_queue *sq, struct soft_scratch *s, const wd_sqe *e,
		    const struct soft_io *io, wd_cqe *c);
void soft_scratch_free(struct soft_scratch *s);
void soft_streams_free(struct soft_queue *sq);

#endif
