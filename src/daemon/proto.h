/* SPDX-License-Identifier: MIT */
/*
 * The wdd control protocol, version 4: messages on a Unix SOCK_SEQPACKET
 * socket between a client's libwd and the daemon.  Only the control path
 * crosses the socket; requests and completions go through the queue rings
 * in shared memory (sealed memfds passed with SCM_RIGHTS), doorbells and
 * completion events through a pipe per queue and direction: the client
 * holds only its own ends, so nothing it does to them reaches the daemon's.
 *
 * Every message is a header and a fixed payload for its type; a reply
 * carries the request's type and seq and a status (0 or a negative errno).
 * Fixed-width fields only, so the format does not depend on the compiler
 * and can later be carried over another transport.  The daemon checks the
 * size of every message against its type and never trusts a field.
 */
#ifndef WDD_PROTO_H
#define WDD_PROTO_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <wd/crypto.h>
#include <wd/wd.h>

#define WDD_MAGIC 0x50444457u           /* "WDDP" */
#define WDD_VERSION 4u
#define WDD_SOCKET_NAME "wdd.sock"
#define WDD_MAX_MSG 65536
#define WDD_DIRTY_CHUNK 32768           /* bitmap bytes per DIRTY_READ reply */

enum wdd_type {
	WDD_HELLO = 1,
	WDD_QUEUE_OPEN,
	WDD_QUEUE_CLOSE,
	WDD_DOMAIN_NEW,
	WDD_DOMAIN_FREE,
	WDD_SHARE,
	WDD_UNSHARE,
	WDD_PIN_LIMIT,
	WDD_DIRTY_START,
	WDD_DIRTY_STOP,
	WDD_DIRTY_READ,
	WDD_STATS,
	WDD_CIPHER_SESSION,
	WDD_QUEUE_STATS,
	WDD__TYPES
};

struct wdd_hdr {
	uint32_t magic;
	uint16_t type;
	uint16_t nfds;          /* descriptors passed with the message */
	uint32_t len;           /* payload bytes after the header */
	int32_t status;         /* replies: 0 or -errno */
	uint64_t seq;
};

struct wdd_hello_req {
	uint32_t version;
	uint32_t rsvd;
};

struct wdd_hello_rep {
	uint32_t version;
	uint32_t client_id;
	uint32_t max_queues;    /* this client's quota */
	uint32_t nresv;
	uint64_t max_pinned;
	uint32_t daemon_pid;    /* for diagnostics */
	uint32_t rsvd;
	struct wd_dev_info info;
	struct {
		uint64_t start, last;
	} resv[16];
	char algs[256];         /* NUL-separated, empty string ends */
};

struct wdd_queue_open_req {
	char alg[WD_NAME_MAX];
	uint32_t depth;
	uint32_t flags;         /* WD_QUEUE_F_EXPLICIT */
	uint32_t domain;        /* explicit: the client's domain id */
	uint32_t rsvd;
};

/* Reply fds: [0] the ring's memfd (sealed at its size), [1] the write end
 * of the queue's doorbell pipe, [2] the read end of its completion pipe
 * (8 bytes per wake-up).  Request fds: SVA, [0] the client's /proc/self/mem;
 * explicit, none.  Every other message but SHARE takes no descriptor. */
struct wdd_queue_open_rep {
	uint32_t queue;
	uint32_t depth;
	uint64_t ring_size;
};

struct wdd_queue_close_req {
	uint32_t queue;
	uint32_t rsvd;
};

struct wdd_queue_close_rep {
	uint32_t sq_head;       /* how far the engine got, as queue_stop reports */
	uint32_t cq_tail;
};

struct wdd_domain_rep {
	uint32_t domain;
	uint32_t rsvd;
};

struct wdd_domain_req {
	uint32_t domain;
	uint32_t flags;
	uint64_t arg;           /* PIN_LIMIT: bytes */
};

/* Request fds: [0] the memfd holding the range */
struct wdd_share_req {
	uint32_t domain;
	uint32_t flags;         /* WD_SHARE_* */
	uint64_t addr;          /* the client's address of the range */
	uint64_t len;
	uint64_t offset;        /* of addr's page in the memfd */
};

struct wdd_share_rep {
	uint64_t iova;
};

struct wdd_unshare_req {
	uint32_t domain;
	uint32_t flags;
	uint64_t iova;
	int32_t timeout_ms;
	uint32_t rsvd;
};

struct wdd_unshare_rep {
	uint64_t unpinned;      /* bytes no longer pinned (whole pages) */
};

struct wdd_dirty_req {
	uint32_t domain;
	uint32_t rsvd;
	uint64_t iova;
	uint64_t len;           /* at most WDD_DIRTY_CHUNK * 8 pages */
};

struct wdd_dirty_rep {
	int64_t count;
	uint64_t bitmap[WDD_DIRTY_CHUNK / 8];
};

/* Set or close cipher session `session` (1..WD_MAX_SESSIONS) of one of
 * the client's own queues; setup.alg 0 closes it (the rest then 0).  The
 * key crosses the socket only here, and both sides wipe their copies of
 * the message after use. */
struct wdd_cipher_req {
	uint32_t queue;
	uint32_t session;
	struct wd_cipher_setup setup;
};

#define WDD_STATS_MAX 256

/*
 * The engine's counters and fallbacks on the wire: struct wd_queue_stats
 * as protocol 4 had it, through deflate_stored.  Frozen: what the library
 * appends to the public struct later (such as the fallback of a client's
 * queue to its own built-in engine, which the daemon never has) changes
 * neither the messages nor their layout.
 */
struct wdd_stats_wire {
	uint32_t size;          /* bytes the daemon filled */
	uint32_t rsvd;
	uint64_t requests, errors, bytes, busy_ns, inline_requests;
	uint64_t sync_ring_busy, sync_ring_nomem;
	uint64_t inflate_retry_nospace, inflate_retry_baddata, inflate_retry_nomem;
	uint64_t deflate_stored;
};

_Static_assert(sizeof(struct wdd_stats_wire) ==
		       offsetof(struct wd_queue_stats, deflate_stored) + sizeof(uint64_t) &&
	       offsetof(struct wdd_stats_wire, deflate_stored) ==
		       offsetof(struct wd_queue_stats, deflate_stored),
	       "the wire's counters are the public struct's first ones");

/* The public struct's first fields, to the wire and back (size kept). */
static inline void wdd_stats_to_wire(struct wdd_stats_wire *w, const struct wd_queue_stats *st)
{
	memcpy(w, st, sizeof(*w));
	w->size = sizeof(*w);
}

static inline void wdd_stats_from_wire(struct wd_queue_stats *st, const struct wdd_stats_wire *w)
{
	uint32_t size = st->size;

	memcpy(st, w, sizeof(*w));
	st->size = size;
}

struct wdd_queue_stats {
	uint32_t client, queue;
	uint32_t uid, pid;              /* of the client that owns the queue */
	char alg[16];
	struct wdd_stats_wire st;       /* its counters, as wd_queue_stats() gives them */
};

/* The counters of one of the client's own queues (wd_queue_stats());
 * the reply is a struct wdd_stats_wire. */
struct wdd_queue_stats_req {
	uint32_t queue;
	uint32_t rsvd;
};

struct wdd_stats_rep {
	uint32_t clients;
	uint32_t queues;
	uint64_t pinned;
	uint64_t requests;      /* all queues ever, closed ones included */
	uint64_t errors;
	uint32_t nq;            /* entries below (open queues, at most WDD_STATS_MAX) */
	uint32_t rsvd;
	struct wdd_queue_stats q[WDD_STATS_MAX];
};

struct wd_ctx;

/* Descriptors ride with a message as one SCM_RIGHTS record: attach n of
 * them to m, in cbuf (room for CMSG_SPACE(n * sizeof(int))). */
static inline void wdd_put_fds(struct msghdr *m, void *cbuf, const int *fds, int n)
{
	struct cmsghdr *c;

	m->msg_control = cbuf;
	m->msg_controllen = CMSG_SPACE(n * sizeof(int));
	c = CMSG_FIRSTHDR(m);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(n * sizeof(int));
	memcpy(CMSG_DATA(c), fds, n * sizeof(int));
}

/* Collect the descriptors of an SCM_RIGHTS record into fds (*got of cap
 * used); those beyond cap are closed, never leaked. */
static inline void wdd_take_fds(const struct cmsghdr *c, int *fds, int *got, int cap)
{
	int k = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int)), i, f;

	for (i = 0; i < k; i++) {
		memcpy(&f, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
		if (*got < cap)
			fds[(*got)++] = f;
		else
			close(f);
	}
}

/* Ask the daemon behind ctx's wdd0 device for its counters. */
int wd__wdd_stats(struct wd_ctx *ctx, struct wdd_stats_rep *out);

#endif
