/* SPDX-License-Identifier: MIT */
/*
 * wdd's internals, shared by its parts: the records of users, clients,
 * queues and shares (clients.c), the message handlers (handlers.c) and the
 * control loop (server.c).  Everything here runs on the one control thread;
 * the engine threads see only the soft queues.
 */
#ifndef WDD_SRV_H
#define WDD_SRV_H

#include <signal.h>
#include <stdint.h>
#include <sys/types.h>

#include "../dev/soft/soft.h"
#include "proto.h"
#include "server.h"

#define SRV_MAX_DOMAINS 64
#define SRV_WAIT_MAX_MS 2000    /* longest a deferred UNSHARE is held */
#define SRV_FDS_PER_QUEUE 3     /* doorbell, completion, SVA memory file */
#define SRV_FDS_RESERVE 64      /* listener, epoll, logs, a message's fds */
/* Connections root may make past the daemon-wide cap: however many users
 * fill it, the administrator can still look (wd stat) */
#define SRV_ROOT_CLIENTS 8
#define SRV_CIPHER_COST (128u << 10) /* a cipher queue's session table and contexts, at most */

struct srv_queue {
	uint32_t id;
	char alg[WD_NAME_MAX];
	void *ring;
	size_t ring_size;
	int mem_fd;             /* SVA: the client's /proc/self/mem; else -1 */
	struct soft_queue *sq;  /* holds the daemon's pipe ends: bell_fd, cq_fd */
	struct wd_domain *dom;
	uint64_t cost;          /* taken from the user's state quota (ring, sessions) */
	uint32_t ticket;        /* its detach from the engine, once started */
	int detaching;
};

struct srv_share {
	struct wd_domain *dom;
	uint64_t iova;
	void *addr;             /* the daemon's mapping of the client's memfd */
	size_t len;
};

/* What one user holds over all its connections: quotas per connection
 * alone would let a user open as many connections as it likes. */
struct srv_user {
	uid_t uid;
	uint32_t clients, queues, shares;
	uint64_t pinned;
	struct soft_quota state;        /* engine memory (streams), all its queues */
	struct srv_user *next;
};

/*
 * A request answered later by the control loop, never waited for: an
 * UNSHARE whose requests are still in flight (until they are done, or its
 * deadline), a QUEUE_CLOSE whose engine thread has not let go of the queue
 * yet (it may be inside a long request).  Part of the client: deferring
 * allocates nothing but an UNSHARE's fences.
 */
struct srv_fence {
	uint32_t queue;                 /* id: the queue may be closed meanwhile */
	uint32_t tail;                  /* its sq_tail when the UNSHARE came */
};

struct srv_pending {
	struct wdd_hdr h;               /* the request's header, for the reply */
	struct srv_queue *q;            /* QUEUE_CLOSE: the queue, off the client's list */
	uint32_t domain, flags;         /* UNSHARE */
	uint64_t iova;
	int64_t deadline_ms;
	uint32_t nfence;
	struct srv_fence *fence;
};

struct srv_client {
	int fd;
	pid_t pid;
	uid_t uid;
	struct srv_user *user;
	uint32_t id;
	struct srv_queue **queues;
	uint32_t nqueues, next_queue;
	struct wd_domain *domains[SRV_MAX_DOMAINS + 1]; /* by id, 1.. */
	struct srv_share *shares;
	uint32_t nshares, cap_shares;
	uint64_t pinned;
	int pending;                    /* pend holds a request: nothing more is read */
	struct srv_pending pend;
	struct srv_client *next;
};

struct srv {
	struct wdd_config cfg;
	struct wd_ctx *ctx;
	struct wd_dev *dev;
	struct soft_dev *engine;
	int lfd, epfd;
	uint32_t next_client;
	struct srv_client *clients;
	/* gone (socket closed), waiting for engine threads to let go of their
	 * queues; still counted in nclients and their users' quotas */
	struct srv_client *dying;
	uint32_t nclients;
	uint32_t nqueues, max_queues;   /* all clients; the cap fits the fd limit */
	uint32_t nshares, max_shares;   /* all clients; the cap fits vm.max_map_count */
	uint32_t npending;
	uint32_t nclosing;              /* of npending: QUEUE_CLOSEs (notified, not polled) */
	/* an eventfd an engine thread writes when it lets go of a queue being
	 * detached (closes, dying clients): no need to look every millisecond.
	 * -1 (srv_init alone, as in the fuzzer): looked at every millisecond. */
	int ackfd;
	struct srv_user *users;         /* those with a client connected */
	uint64_t past_requests, past_errors;    /* of queues already closed */
	volatile sig_atomic_t *stop;
};

/* A reply being built: payload, and descriptors the caller sends and then
 * closes (they are the client's ends, never kept by the daemon). */
struct srv_reply {
	union {
		struct wdd_hello_rep hello;
		struct wdd_queue_open_rep open;
		struct wdd_queue_close_rep close;
		struct wdd_domain_rep dom;
		struct wdd_share_rep share;
		struct wdd_unshare_rep unshare;
		struct wdd_dirty_rep dirty;
		struct wdd_stats_rep stats;
		struct wdd_stats_wire qstats;
	} u;
	uint32_t len;
	int fds[3], nfds;
};

/* Set up the engine and the limits (no socket); 0 or -errno. */
int srv_init(struct srv *s, const struct wdd_config *cfg);
void srv_fini(struct srv *s);

/* clients.c */
struct srv_user *srv_user_get(struct srv *s, uid_t uid);
void srv_user_put(struct srv *s, struct srv_user *u);
/* A client on connected socket fd (owned from here on), not yet polled. */
struct srv_client *srv_client_new(struct srv *s, int fd, uid_t uid, pid_t pid);
/* The client is gone: its socket is closed now, everything it holds goes
 * at once or, while an engine thread still serves one of its queues, from
 * s->dying (srv_dying_poll).  Never waits. */
void srv_client_free(struct srv *s, struct srv_client *c);
/* Finish the dying clients whose queues the engine let go of. */
void srv_dying_poll(struct srv *s);
struct srv_queue *srv_client_queue(struct srv_client *c, uint32_t id);
struct wd_domain *srv_client_domain(struct srv_client *c, uint32_t id);
/* Closing a queue: start takes it off its engine thread (no wait); reap
 * frees it once the thread let go (1, with how far the engine got in
 * head/tail when asked), else returns 0.  c: the owner, live or dying. */
void srv_queue_close_start(struct srv *s, struct srv_queue *q);
int srv_queue_reap(struct srv *s, struct srv_client *c, struct srv_queue *q, uint32_t *head,
		   uint32_t *tail);
/* Returns the bytes the share had pinned. */
uint64_t srv_share_drop(struct srv *s, struct srv_client *c, uint32_t i);

/* handlers.c: one message's effect.  Returns the status to answer with, or
 * 1 when the answer is deferred (c->pending is set; srv_pending_poll will
 * answer it).  Descriptors that came with it stay the caller's. */
int srv_handle(struct srv *s, struct srv_client *c, const struct wdd_hdr *h, void *req, size_t n,
	       const int *fds, int nfds, struct srv_reply *rep);
/* A deferred request of c: 0 when it is still waiting, else done and its
 * status and reply are in *status and rep. */
int srv_pending_poll(struct srv *s, struct srv_client *c, int *status, struct srv_reply *rep);
/* Forget c's deferred request unanswered (the client is going); a queue it
 * was closing goes back on c's list, to go with the others. */
void srv_pending_drop(struct srv *s, struct srv_client *c);

#endif
