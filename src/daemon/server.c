/* SPDX-License-Identifier: MIT */
/*
 * wdd: the software engine hosted for many processes.
 *
 * One thread runs the control path: it accepts clients on a Unix socket,
 * checks their credentials, and answers their messages (open a queue,
 * share memory, ...).  The engine threads run the data path on the rings
 * the clients map.  Each client has its own queues and domains; nothing a
 * client sends can name another client's.  A client that goes away, however
 * it dies, is torn down entirely: queues detached from the engine, shared
 * memory unpinned and unmapped, descriptors closed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/magic.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/un.h>
#include <unistd.h>

#include "../core/internal.h"
#include "../dev/soft/soft.h"
#include "../mem/domain.h"
#include "proto.h"
#include "server.h"

#define MAX_DOMAINS 64
#define SHARE_WAIT_MAX_MS 2000  /* the control thread never waits longer */

struct srv_queue {
	uint32_t id;
	char alg[WD_NAME_MAX];
	void *ring;
	size_t ring_size;
	int ring_fd, cq_fd;
	int mem_fd;             /* SVA: the client's /proc/<pid>/mem; else -1 */
	struct soft_queue *sq;
	struct wd_domain *dom;
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
	uint32_t clients, queues;
	uint64_t pinned;
	struct srv_user *next;
};

struct srv_client {
	int fd;
	pid_t pid;
	uid_t uid;
	struct srv_user *user;
	uint32_t id;
	struct srv_queue **queues;
	uint32_t nqueues, next_queue;
	struct wd_domain *domains[MAX_DOMAINS + 1]; /* by id, 1.. */
	struct srv_share *shares;
	uint32_t nshares, cap_shares;
	uint64_t pinned;
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
	uint32_t nclients;
	struct srv_user *users;         /* those with a client connected */
	uint64_t past_requests, past_errors;    /* of queues already closed */
	volatile sig_atomic_t *stop;
};

/* ---- messages ---- */

static int send_msg(int fd, struct wdd_hdr *h, const void *payload, uint32_t len, const int *fds,
		    int nfds)
{
	char cbuf[CMSG_SPACE(4 * sizeof(int))] = { 0 };
	struct iovec iov[2] = { { h, sizeof(*h) }, { (void *)payload, len } };
	struct msghdr m = { .msg_iov = iov, .msg_iovlen = len ? 2 : 1 };

	h->magic = WDD_MAGIC;
	h->len = len;
	h->nfds = (uint16_t)nfds;
	if (nfds)
		wdd_put_fds(&m, cbuf, fds, nfds);
	/* never block the one control thread on a client that does not read */
	return sendmsg(fd, &m, MSG_NOSIGNAL | MSG_DONTWAIT) < 0 ? -errno : 0;
}

/* Receive one message; fds that came with it land in fds (up to 4),
 * *nfds says how many; *sender is the pid the kernel vouches for
 * (SCM_CREDENTIALS), 0 if none came.  Returns payload bytes (maybe 0), or
 * -errno (-ECONNRESET: the client hung up). */
static ssize_t recv_msg(int fd, struct wdd_hdr *h, void *payload, size_t cap, int *fds,
			int *nfds, pid_t *sender)
{
	char cbuf[CMSG_SPACE(4 * sizeof(int)) + CMSG_SPACE(sizeof(struct ucred))];
	struct iovec iov[2] = { { h, sizeof(*h) }, { payload, cap } };
	struct msghdr m = { .msg_iov = iov, .msg_iovlen = 2, .msg_control = cbuf,
			    .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *c;
	ssize_t n;

	*nfds = 0;
	*sender = 0;
	n = recvmsg(fd, &m, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
	if (n < 0)
		return -errno;
	for (c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c)) {
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_CREDENTIALS) {
			struct ucred cr;

			memcpy(&cr, CMSG_DATA(c), sizeof(cr));
			*sender = cr.pid;
		}
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
			wdd_take_fds(c, fds, nfds, 4);
	}
	if (n == 0) {
		while (*nfds)
			close(fds[--(*nfds)]);
		return -ECONNRESET;
	}
	if ((size_t)n < sizeof(*h) || (m.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) ||
	    h->magic != WDD_MAGIC || h->len != (size_t)n - sizeof(*h))
		return -EPROTO;
	return n - (ssize_t)sizeof(*h);
}

/* ---- clients ---- */

static struct wd_domain *client_domain(struct srv_client *c, uint32_t id)
{
	return id >= 1 && id <= MAX_DOMAINS ? c->domains[id] : NULL;
}

static void queue_free(struct srv *s, struct srv_client *c, struct srv_queue *q, uint32_t *head,
		       uint32_t *tail)
{
	uint32_t h = 0, t = 0;

	soft_queue_detach(s->engine, q->sq, &h, &t);
	/* detached: the engine's counters are final */
	s->past_requests += __atomic_load_n(&q->sq->nreq, __ATOMIC_RELAXED);
	s->past_errors += __atomic_load_n(&q->sq->nerr, __ATOMIC_RELAXED);
	if (q->dom)
		wd__domain_detach(q->dom, q->ring);
	soft_queue_destroy(q->sq);
	munmap(q->ring, q->ring_size);
	close(q->ring_fd);
	close(q->cq_fd);
	if (q->mem_fd >= 0)
		close(q->mem_fd);
	free(q);
	c->user->queues--;
	if (head)
		*head = h;
	if (tail)
		*tail = t;
}

/* Returns the bytes the share had pinned. */
static uint64_t share_drop(struct srv_client *c, uint32_t i)
{
	struct srv_share *sh = &c->shares[i];
	uint64_t len = sh->len;

	munmap(sh->addr, sh->len);
	c->pinned -= len;
	c->user->pinned -= len;
	c->shares[i] = c->shares[--c->nshares];
	return len;
}

/* The user's record, made on its first connection (with no client counted
 * yet); NULL: out of memory. */
static struct srv_user *user_get(struct srv *s, uid_t uid)
{
	struct srv_user *u;

	for (u = s->users; u; u = u->next)
		if (u->uid == uid)
			return u;
	u = calloc(1, sizeof(*u));
	if (!u)
		return NULL;
	u->uid = uid;
	u->next = s->users;
	s->users = u;
	return u;
}

/* Its last connection went: everything it held went with it. */
static void user_put(struct srv *s, struct srv_user *u)
{
	struct srv_user **pp;

	if (--u->clients)
		return;
	for (pp = &s->users; *pp != u; pp = &(*pp)->next)
		;
	*pp = u->next;
	free(u);
}

static void client_free(struct srv *s, struct srv_client *c)
{
	uint32_t i;

	/* queues first: after this no engine thread touches the client */
	for (i = 0; i < c->nqueues; i++)
		queue_free(s, c, c->queues[i], NULL, NULL);
	/* domains unpin; then the daemon's mappings of the memfds go */
	for (i = 1; i <= MAX_DOMAINS; i++)
		if (c->domains[i])
			wd__domain_destroy(c->domains[i]);
	while (c->nshares)
		share_drop(c, 0);
	free(c->shares);
	free(c->queues);
	epoll_ctl(s->epfd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	user_put(s, c->user);
	free(c);
	s->nclients--;
}

static int uid_allowed(const struct srv *s, uid_t uid)
{
	unsigned i;

	if (!s->cfg.nallow)
		return 1; /* the socket's permissions decide */
	for (i = 0; i < s->cfg.nallow; i++)
		if (s->cfg.allow_uids[i] == uid)
			return 1;
	return 0;
}

/* Say why (as the reply to the hello the client sends first), then hang up. */
static void refuse(int fd, int err)
{
	struct wdd_hdr h = { .type = WDD_HELLO, .status = err, .seq = 1 };

	send_msg(fd, &h, NULL, 0, NULL, 0);
	close(fd);
}

static void accept_client(struct srv *s)
{
	struct epoll_event ev = { .events = EPOLLIN };
	struct srv_user *u;
	struct srv_client *c;
	struct ucred cred;
	socklen_t len = sizeof(cred);
	int fd = accept4(s->lfd, NULL, NULL, SOCK_CLOEXEC);

	if (fd < 0) {
		if (errno == EMFILE || errno == ENFILE || errno == ENOMEM)
			usleep(10000); /* out of resources: do not spin on the listener */
		return;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) || !uid_allowed(s, cred.uid)) {
		refuse(fd, -EACCES);
		return;
	}
	u = user_get(s, cred.uid);
	if (!u) {
		refuse(fd, -ENOMEM);
		return;
	}
	u->clients++; /* counted from here on: user_put() undoes it */
	if (s->nclients >= s->cfg.max_clients || u->clients > s->cfg.user_clients) {
		user_put(s, u);
		refuse(fd, -EUSERS);
		return;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		user_put(s, u);
		close(fd);
		return;
	}
	c->user = u;
	{
		int one = 1;

		/* every message then carries its sender, checked in serve_one() */
		setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &one, sizeof(one));
	}
	c->fd = fd;
	c->pid = cred.pid;
	c->uid = cred.uid;
	c->id = ++s->next_client;
	ev.data.ptr = c;
	if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, fd, &ev)) {
		close(fd);
		user_put(s, u);
		free(c);
		return;
	}
	c->next = s->clients;
	s->clients = c;
	s->nclients++;
}

static void client_unlink(struct srv *s, struct srv_client *c)
{
	struct srv_client **pp;

	for (pp = &s->clients; *pp; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	client_free(s, c);
}

/* ---- requests ---- */

static int do_hello(struct srv *s, struct srv_client *c, const void *p, size_t n,
		    struct wdd_hello_rep *rep)
{
	const struct wdd_hello_req *req = p;
	size_t off = 0;
	unsigned i;

	if (n != sizeof(*req) || req->version != WDD_VERSION)
		return -EPROTONOSUPPORT;
	memset(rep, 0, sizeof(*rep));
	rep->version = WDD_VERSION;
	rep->client_id = c->id;
	rep->max_queues = s->cfg.max_queues;
	rep->max_pinned = s->cfg.max_pinned;
	rep->daemon_pid = (uint32_t)getpid();
	rep->info = s->dev->info;
	rep->nresv = s->dev->nresv;
	for (i = 0; i < s->dev->nresv && i < 16; i++) {
		rep->resv[i].start = s->dev->resv[i].start;
		rep->resv[i].last = s->dev->resv[i].last;
	}
	for (i = 0; s->dev->algs[i]; i++) {
		size_t k = strlen(s->dev->algs[i]) + 1;

		if (off + k >= sizeof(rep->algs))
			break;
		memcpy(rep->algs + off, s->dev->algs[i], k);
		off += k;
	}
	return 0;
}

static uint32_t total_queues(const struct srv *s)
{
	const struct srv_client *c;
	uint32_t n = 0;

	for (c = s->clients; c; c = c->next)
		n += c->nqueues;
	return n;
}

/*
 * SVA: the engine reaches the client's memory through the client's own
 * /proc/self/mem, which the client opens and passes with the request.  The
 * kernel lets a process open that file only for memory it may already read
 * and write (its own, or a process it may ptrace), so the daemon can never
 * be pointed at anyone else's, whatever pid the numbers name meanwhile
 * (opening /proc/<pid>/mem by number could meet a recycled pid).  The file is
 * bound to the address space it was opened on: after the client runs
 * another program, what it queued fails instead of reaching the new one.
 * Only such a file is taken: another kind could block an engine thread.
 * Returns the daemon's own copy of the descriptor, or -errno.
 */
static int take_client_mem(int fd)
{
	struct statfs sfs;
	struct stat st;

	/* procfs, a regular file, private to its owner (mode 0600: mem, not
	 * the world-readable or write-only files), open for reading and writing */
	if (fstatfs(fd, &sfs) || sfs.f_type != PROC_SUPER_MAGIC || fstat(fd, &st) ||
	    !S_ISREG(st.st_mode) || (st.st_mode & 07777) != 0600 ||
	    (fcntl(fd, F_GETFL) & O_ACCMODE) != O_RDWR)
		return -EINVAL;
	fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	return fd < 0 ? -errno : fd;
}

static int do_queue_open(struct srv *s, struct srv_client *c, const void *p, size_t n,
			 const int *in_fds, int nin, struct wdd_queue_open_rep *rep, int *fds)
{
	const struct wdd_queue_open_req *req = p;
	struct srv_queue *q, **nq;
	char alg[WD_NAME_MAX];
	uint32_t depth, ops;
	int ret;

	if (n != sizeof(*req) || (req->flags & ~WD_QUEUE_F_EXPLICIT) || req->rsvd)
		return -EINVAL;
	memcpy(alg, req->alg, sizeof(alg));
	alg[sizeof(alg) - 1] = 0;
	ops = wd__alg_ops(alg);
	if (!ops || !wd_dev_has_alg(s->dev, alg))
		return -EOPNOTSUPP;
	if (c->nqueues >= s->cfg.max_queues || c->user->queues >= s->cfg.user_queues)
		return -EDQUOT;
	if (total_queues(s) >= SOFT_MAX_QUEUES)
		return -EBUSY; /* the engine's own limit, whoever asks */
	depth = req->depth ? req->depth : WD_QUEUE_DEPTH_DEFAULT;
	if (depth > WD_RING_MAX_ENTRIES)
		return -EINVAL;
	for (n = 1; n < depth; n <<= 1)
		;
	depth = (uint32_t)n;
	q = calloc(1, sizeof(*q));
	nq = realloc(c->queues, (c->nqueues + 1) * sizeof(*nq));
	if (!q || !nq) {
		free(q);
		return -ENOMEM;
	}
	c->queues = nq;
	q->mem_fd = -1;
	if (req->flags & WD_QUEUE_F_EXPLICIT) {
		q->dom = client_domain(c, req->domain);
		if (!q->dom) {
			free(q);
			return -ENOENT;
		}
	}
	/* SVA needs the client's memory file, explicit queues take nothing */
	if (nin != !q->dom) {
		free(q);
		return -EINVAL;
	}
	if (!q->dom && (q->mem_fd = take_client_mem(in_fds[0])) < 0) {
		ret = q->mem_fd;
		free(q);
		return ret;
	}
	q->ring_size = wd_ring_size(depth, depth);
	q->ring_fd = memfd_create("wdd-ring", MFD_CLOEXEC);
	q->cq_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (q->ring_fd < 0 || q->cq_fd < 0 || ftruncate(q->ring_fd, (off_t)q->ring_size)) {
		ret = -errno;
		goto err;
	}
	q->ring = mmap(NULL, q->ring_size, PROT_READ | PROT_WRITE, MAP_SHARED, q->ring_fd, 0);
	if (q->ring == MAP_FAILED) {
		ret = -errno;
		q->ring = NULL;
		goto err;
	}
	{
		struct wd_ring r;

		wd_ring_bind(&r, q->ring, depth, depth);
		wd_ring_format(&r, 0);
	}
	/* explicit: the client's domain; SVA: the client's own address space */
	q->sq = soft_queue_create(q->ring, depth, ops, q->dom, q->cq_fd, q->mem_fd);
	if (!q->sq) {
		ret = -ENOMEM;
		goto err;
	}
	if (q->dom && (ret = wd__domain_attach(q->dom, q->sq->ring.ctl)))
		goto err;
	q->id = ++c->next_queue;
	c->user->queues++;
	snprintf(q->alg, sizeof(q->alg), "%s", alg);
	soft_queue_attach(s->engine, q->sq);
	c->queues[c->nqueues++] = q;
	rep->queue = q->id;
	rep->depth = depth;
	rep->ring_size = q->ring_size;
	fds[0] = q->ring_fd;
	fds[1] = q->sq->worker->efd;
	fds[2] = q->cq_fd;
	return 0;
err:
	soft_queue_destroy(q->sq);
	if (q->ring)
		munmap(q->ring, q->ring_size);
	if (q->ring_fd >= 0)
		close(q->ring_fd);
	if (q->cq_fd >= 0)
		close(q->cq_fd);
	if (q->mem_fd >= 0)
		close(q->mem_fd);
	free(q);
	return ret;
}

static int do_queue_close(struct srv *s, struct srv_client *c, const void *p, size_t n,
			  struct wdd_queue_close_rep *rep)
{
	const struct wdd_queue_close_req *req = p;
	uint32_t i;

	if (n != sizeof(*req))
		return -EINVAL;
	for (i = 0; i < c->nqueues; i++)
		if (c->queues[i]->id == req->queue) {
			queue_free(s, c, c->queues[i], &rep->sq_head, &rep->cq_tail);
			c->queues[i] = c->queues[--c->nqueues];
			return 0;
		}
	return -ENOENT;
}

static struct srv_queue *client_queue(struct srv_client *c, uint32_t id)
{
	uint32_t i;

	for (i = 0; i < c->nqueues; i++)
		if (c->queues[i]->id == id)
			return c->queues[i];
	return NULL;
}

/* Sessions of the client's own queues only: ids are looked up in its list. */
static int do_cipher(struct srv_client *c, const void *p, size_t n)
{
	static const struct wd_cipher_setup none;
	const struct wdd_cipher_req *req = p;
	struct srv_queue *q;

	if (n != sizeof(*req))
		return -EINVAL;
	q = client_queue(c, req->queue);
	if (!q)
		return -ENOENT;
	if (!req->setup.alg)
		return memcmp(&req->setup, &none, sizeof(none)) ? -EINVAL
								: soft_cipher_set(q->sq, req->session, NULL);
	return soft_cipher_set(q->sq, req->session, &req->setup);
}

static int do_domain_new(struct srv *s, struct srv_client *c, struct wdd_domain_rep *rep)
{
	uint32_t id;
	int ret;

	for (id = 1; id <= MAX_DOMAINS && c->domains[id]; id++)
		;
	if (id > MAX_DOMAINS)
		return -EDQUOT;
	ret = wd__domain_create(s->ctx, s->dev, 0, &c->domains[id]);
	if (ret)
		return ret;
	/* no limit of its own until the client sets one: the quota rules */
	wd_domain_set_pin_limit(c->domains[id], UINT64_MAX);
	rep->domain = id;
	return 0;
}

/* The client's own limit for one domain, under the daemon's quota: shares
 * past it fail as they would in-process (-ENOMEM). */
static int do_pin_limit(struct srv_client *c, const struct wdd_domain_req *req)
{
	struct wd_domain *d = client_domain(c, req->domain);

	return d ? wd_domain_set_pin_limit(d, req->arg) : -ENOENT;
}

static int do_domain_free(struct srv_client *c, const struct wdd_domain_req *req)
{
	struct wd_domain *d = client_domain(c, req->domain);
	uint32_t i;
	int ret;

	if (!d)
		return -ENOENT;
	ret = wd_domain_free(d); /* -EBUSY while queues use it */
	if (ret)
		return ret;
	c->domains[req->domain] = NULL;
	for (i = 0; i < c->nshares;)
		if (c->shares[i].dom == d)
			share_drop(c, i);
		else
			i++;
	return 0;
}

static int do_share(struct srv *s, struct srv_client *c, const void *p, size_t n, const int *fds,
		    int nfds, struct wdd_share_rep *rep)
{
	const struct wdd_share_req *req = p;
	struct wd_domain *d;
	struct srv_share *sh;
	size_t ps = (size_t)sysconf(_SC_PAGESIZE), off, span;
	struct stat st;
	void *addr;
	int ret;

	if (n != sizeof(*req) || nfds != 1 || !req->len || req->offset % ps ||
	    (req->flags & ~(WD_SHARE_IDENTITY | WD_SHARE_READONLY)))
		return -EINVAL;
	d = client_domain(c, req->domain);
	if (!d)
		return -ENOENT;
	off = req->addr % ps;
	if (req->len > UINT64_MAX / 2 || req->addr > UINT64_MAX - req->len)
		return -EINVAL;
	span = (off + req->len + ps - 1) & ~(ps - 1);
	/* only what the memfd really holds, and within the client's quota */
	if (fstat(fds[0], &st) || !S_ISREG(st.st_mode) || (uint64_t)st.st_size < req->offset ||
	    (uint64_t)st.st_size - req->offset < span)
		return -EINVAL;
	/* a memfd the client could shrink would make the daemon fault */
	if (!(fcntl(fds[0], F_GET_SEALS) & F_SEAL_SHRINK))
		return -EPERM;
	if (c->pinned + span > s->cfg.max_pinned || c->user->pinned + span > s->cfg.user_pinned)
		return -EDQUOT;
	if (c->nshares == c->cap_shares) {
		uint32_t cap = c->cap_shares ? c->cap_shares * 2 : 8;
		struct srv_share *ns = realloc(c->shares, cap * sizeof(*ns));

		if (!ns)
			return -ENOMEM;
		c->shares = ns;
		c->cap_shares = cap;
	}
	addr = mmap(NULL, span, PROT_READ | ((req->flags & WD_SHARE_READONLY) ? 0 : PROT_WRITE),
		    MAP_SHARED, fds[0], (off_t)req->offset);
	if (addr == MAP_FAILED)
		return -errno;
	/* identity with the client's own address when that IOVA is free */
	ret = wd__share_at(d, (char *)addr + off, req->len, req->flags | WD_SHARE_FILE_OK,
			   req->addr, &rep->iova);
	if (ret) {
		munmap(addr, span);
		return ret;
	}
	sh = &c->shares[c->nshares++];
	sh->dom = d;
	sh->iova = rep->iova - off;
	sh->addr = addr;
	sh->len = span;
	c->pinned += span;
	c->user->pinned += span;
	return 0;
}

static int do_unshare(struct srv_client *c, const void *p, size_t n, struct wdd_unshare_rep *rep)
{
	const struct wdd_unshare_req *req = p;
	struct wd_domain *d;
	int tmo, ret;
	uint32_t i;

	if (n != sizeof(*req))
		return -EINVAL;
	d = client_domain(c, req->domain);
	if (!d)
		return -ENOENT;
	/* the control thread serves everyone: it waits a bounded time and the
	 * client library retries until its own deadline */
	tmo = req->timeout_ms < 0 || req->timeout_ms > SHARE_WAIT_MAX_MS ? SHARE_WAIT_MAX_MS
									   : req->timeout_ms;
	ret = wd_unshare(d, req->iova, req->flags, tmo);
	if (ret)
		return ret;
	rep->unpinned = 0;
	for (i = 0; i < c->nshares; i++)
		if (c->shares[i].dom == d && c->shares[i].iova <= req->iova &&
		    req->iova < c->shares[i].iova + c->shares[i].len) {
			rep->unpinned = share_drop(c, i);
			break;
		}
	return 0;
}

static int do_dirty(struct srv_client *c, uint16_t type, const void *p, size_t n,
		    struct wdd_dirty_rep *rep, uint32_t *rep_len)
{
	const struct wdd_dirty_req *req = p;
	size_t ps = (size_t)sysconf(_SC_PAGESIZE);
	struct wd_domain *d;

	if (n != sizeof(*req))
		return -EINVAL;
	d = client_domain(c, req->domain);
	if (!d)
		return -ENOENT;
	if (type == WDD_DIRTY_START)
		return wd_dirty_start(d);
	if (type == WDD_DIRTY_STOP)
		return wd_dirty_stop(d);
	if (req->len / ps > (uint64_t)WDD_DIRTY_CHUNK * 8)
		return -E2BIG;
	rep->count = wd_dirty_read_clear(d, req->iova, req->len, rep->bitmap);
	if (rep->count < 0)
		return (int)rep->count;
	*rep_len = (uint32_t)(offsetof(struct wdd_dirty_rep, bitmap) +
			      (req->len / ps + 63) / 64 * sizeof(uint64_t));
	return 0;
}

static int do_stats(struct srv *s, struct wdd_stats_rep *rep)
{
	struct srv_client *c;
	uint32_t i;

	memset(rep, 0, sizeof(*rep));
	rep->clients = s->nclients;
	rep->requests = s->past_requests;
	rep->errors = s->past_errors;
	for (c = s->clients; c; c = c->next) {
		rep->queues += c->nqueues;
		rep->pinned += c->pinned;
		for (i = 0; i < c->nqueues; i++) {
			/* engine-thread counters: read as they are, a snapshot */
			struct soft_queue *sq = c->queues[i]->sq;
			uint64_t nreq = __atomic_load_n(&sq->nreq, __ATOMIC_RELAXED);
			uint64_t nerr = __atomic_load_n(&sq->nerr, __ATOMIC_RELAXED);

			rep->requests += nreq;
			rep->errors += nerr;
			if (rep->nq < WDD_STATS_MAX) {
				struct wdd_queue_stats *qs = &rep->q[rep->nq++];

				qs->client = c->id;
				qs->queue = c->queues[i]->id;
				qs->uid = (uint32_t)c->uid;
				qs->pid = (uint32_t)c->pid;
				memcpy(qs->alg, c->queues[i]->alg, sizeof(qs->alg) - 1);
				qs->alg[sizeof(qs->alg) - 1] = 0;
				qs->requests = nreq;
				qs->errors = nerr;
				qs->bytes = __atomic_load_n(&sq->bytes, __ATOMIC_RELAXED);
				qs->busy_ns = __atomic_load_n(&sq->busy_ns, __ATOMIC_RELAXED);
			}
		}
	}
	return 0;
}

/* One message from a client; returns <0 to drop the client. */
static int serve_one(struct srv *s, struct srv_client *c)
{
	union {
		struct wdd_hello_rep hello;
		struct wdd_queue_open_rep open;
		struct wdd_queue_close_rep close;
		struct wdd_domain_rep dom;
		struct wdd_share_rep share;
		struct wdd_unshare_rep unshare;
		struct wdd_dirty_rep dirty;
		struct wdd_stats_rep stats;
	} rep;
	char req[512];
	struct wdd_hdr h;
	uint32_t rep_len = 0;
	int fds[4], nfds, out[3], nout = 0, i, ret;
	pid_t sender;
	ssize_t n = recv_msg(c->fd, &h, req, sizeof(req), fds, &nfds, &sender);

	if (n == -EAGAIN)
		return 0;
	/* Only the process that connected may speak on its connection: SVA
	 * requests reach that pid's memory, so a fork child (or a program the
	 * connection was passed to) must not use it. */
	if (n < 0) {
		for (i = 0; i < nfds; i++)
			close(fds[i]);
		return -1; /* gone, or not speaking the protocol */
	}
	if (sender != c->pid) {
		for (i = 0; i < nfds; i++)
			close(fds[i]);
		h.status = -EPERM;
		return send_msg(c->fd, &h, NULL, 0, NULL, 0) ? -1 : 0;
	}
	switch (h.type) {
	case WDD_HELLO:
		ret = do_hello(s, c, req, (size_t)n, &rep.hello);
		rep_len = sizeof(rep.hello);
		break;
	case WDD_QUEUE_OPEN:
		ret = do_queue_open(s, c, req, (size_t)n, fds, nfds, &rep.open, out);
		rep_len = sizeof(rep.open);
		nout = ret ? 0 : 3;
		break;
	case WDD_QUEUE_CLOSE:
		ret = do_queue_close(s, c, req, (size_t)n, &rep.close);
		rep_len = sizeof(rep.close);
		break;
	case WDD_DOMAIN_NEW:
		ret = do_domain_new(s, c, &rep.dom);
		rep_len = sizeof(rep.dom);
		break;
	case WDD_DOMAIN_FREE:
	case WDD_PIN_LIMIT:
		ret = (size_t)n != sizeof(struct wdd_domain_req) ? -EINVAL
		      : h.type == WDD_DOMAIN_FREE ? do_domain_free(c, (void *)req)
						  : do_pin_limit(c, (void *)req);
		break;
	case WDD_SHARE:
		ret = do_share(s, c, req, (size_t)n, fds, nfds, &rep.share);
		rep_len = sizeof(rep.share);
		break;
	case WDD_UNSHARE:
		ret = do_unshare(c, req, (size_t)n, &rep.unshare);
		rep_len = sizeof(rep.unshare);
		break;
	case WDD_DIRTY_START:
	case WDD_DIRTY_STOP:
	case WDD_DIRTY_READ:
		ret = do_dirty(c, h.type, req, (size_t)n, &rep.dirty, &rep_len);
		break;
	case WDD_STATS:
		ret = do_stats(s, &rep.stats);
		rep_len = (uint32_t)offsetof(struct wdd_stats_rep, q) +
			  rep.stats.nq * (uint32_t)sizeof(struct wdd_queue_stats);
		break;
	case WDD_CIPHER_SESSION:
		ret = do_cipher(c, req, (size_t)n);
		explicit_bzero(req, sizeof(req)); /* the key */
		break;
	default:
		ret = -EOPNOTSUPP;
	}
	for (i = 0; i < nfds; i++)
		close(fds[i]); /* the daemon keeps its own mappings, not the fds */
	h.status = ret;
	if (ret)
		rep_len = 0;
	return send_msg(c->fd, &h, &rep, rep_len, out, nout) ? -1 : 0;
}

/* ---- the daemon ---- */

static int listen_on(struct srv *s)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };

	if (s->cfg.listen_fd >= 0) { /* socket activation */
		s->lfd = s->cfg.listen_fd;
		return 0;
	}
	if (strlen(s->cfg.socket_path) >= sizeof(a.sun_path))
		return -ENAMETOOLONG;
	/*
	 * Bind and listen under a temporary name, then rename into place: a
	 * client that sees the path can connect at once (between bind and
	 * listen it would be refused), and a stale socket of a dead daemon is
	 * replaced atomically.
	 */
	if ((size_t)snprintf(a.sun_path, sizeof(a.sun_path), "%s.%d", s->cfg.socket_path,
			     (int)getpid()) >= sizeof(a.sun_path))
		return -ENAMETOOLONG;
	s->lfd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (s->lfd < 0)
		return -errno;
	unlink(a.sun_path);
	if (bind(s->lfd, (struct sockaddr *)&a, sizeof(a)))
		return -errno;
	if (chmod(a.sun_path, s->cfg.socket_mode) || listen(s->lfd, 64) ||
	    rename(a.sun_path, s->cfg.socket_path)) {
		int err = -errno;

		unlink(a.sun_path);
		return err;
	}
	return 0;
}

int wdd_serve(const struct wdd_config *cfg, volatile sig_atomic_t *stop)
{
	struct wd_ctx_opts co = { .size = sizeof(co), .soft_threads = cfg->threads,
				  .flags = WD_CTX_F_LOCAL_ONLY };
	struct epoll_event ev = { .events = EPOLLIN }, evs[32];
	struct srv s = { .cfg = *cfg, .lfd = -1, .epfd = -1, .stop = stop };
	int ret, n, i;

	ret = wd_ctx_new(&s.ctx, &co);
	if (ret)
		return ret;
	s.dev = wd_dev_by_name(s.ctx, "soft0");
	s.engine = s.dev->priv;
	ret = listen_on(&s);
	if (!ret) {
		s.epfd = epoll_create1(EPOLL_CLOEXEC);
		ev.data.ptr = NULL;
		if (s.epfd < 0 || epoll_ctl(s.epfd, EPOLL_CTL_ADD, s.lfd, &ev))
			ret = -errno;
	}
	while (!ret && !*stop) {
		n = epoll_wait(s.epfd, evs, 32, 500);
		if (n < 0 && errno != EINTR) {
			ret = -errno;
			break;
		}
		for (i = 0; i < n; i++) {
			struct srv_client *c = evs[i].data.ptr;

			if (!c)
				accept_client(&s);
			else if ((evs[i].events & (EPOLLHUP | EPOLLERR)) && !(evs[i].events & EPOLLIN))
				client_unlink(&s, c);
			else if (serve_one(&s, c) < 0)
				client_unlink(&s, c);
		}
	}
	while (s.clients)
		client_unlink(&s, s.clients);
	if (s.epfd >= 0)
		close(s.epfd);
	if (s.lfd >= 0 && cfg->listen_fd < 0) {
		close(s.lfd);
		unlink(cfg->socket_path);
	}
	wd_ctx_free(s.ctx);
	return ret;
}
