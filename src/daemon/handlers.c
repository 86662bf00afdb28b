/* SPDX-License-Identifier: MIT */
/*
 * wdd's message handlers: what each control message does.  Every field is
 * checked, every id is looked up in the sending client's own records, and
 * nothing here waits: a request that must wait (UNSHARE with requests in
 * flight, QUEUE_CLOSE until the engine lets go of the queue) is deferred
 * and answered later by the control loop.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <linux/magic.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "../core/internal.h"
#include "../mem/domain.h"
#include "srv.h"

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int do_hello(struct srv *s, struct srv_client *c, const void *p, size_t n,
		    struct wdd_hello_rep *rep)
{
	const struct wdd_hello_req *req = p;
	size_t off = 0;
	unsigned i;

	if (n != sizeof(*req) || req->version != WDD_VERSION)
		return -EPROTONOSUPPORT;
	if (req->rsvd)
		return -EINVAL;
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

/* A wake-up channel: each end its own file description, so flags the
 * client sets on its end (O_NONBLOCK) never reach ours; one page is plenty
 * for wake-ups, and a full pipe only means one is pending. */
static int wake_pipe(int p[2])
{
	if (pipe2(p, O_CLOEXEC | O_NONBLOCK))
		return -errno;
	fcntl(p[0], F_SETPIPE_SZ, 4096);
	return 0;
}

/* The ring's memory: a memfd sealed at its size before the client sees
 * it, so it can neither shrink it under the engine (SIGBUS) nor grow it. */
static int ring_memfd(size_t size)
{
	int fd = memfd_create("wdd-ring", MFD_CLOEXEC | MFD_ALLOW_SEALING), err;

	if (fd < 0)
		return -errno;
	if (ftruncate(fd, (off_t)size) ||
	    fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL)) {
		err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

struct open_fds {
	int ring, bell[2], cq[2];
};

static void close_open_fds(struct open_fds *f)
{
	int *all[] = { &f->ring, &f->bell[0], &f->bell[1], &f->cq[0], &f->cq[1] };
	unsigned i;

	for (i = 0; i < 5; i++)
		if (*all[i] >= 0)
			close(*all[i]);
}

static void queue_undo(struct srv_client *c, struct srv_queue *q)
{
	soft_queue_destroy(q->sq);
	soft_quota_give(&c->user->state, q->cost);
	if (q->ring)
		munmap(q->ring, q->ring_size);
	if (q->mem_fd >= 0)
		close(q->mem_fd);
	free(q);
}

/* The queue's memory and engine state; f gets the descriptors. */
static int queue_make(struct srv *s, struct srv_client *c, struct srv_queue *q, uint32_t depth,
		      uint32_t ops, struct open_fds *f)
{
	struct wd_ring r;
	int ret;

	q->ring_size = wd_ring_size(depth, depth);
	/* what the queue itself makes the daemon hold counts like its streams */
	q->cost = q->ring_size + ((ops & (1u << WD_OP_ENCRYPT)) ? SRV_CIPHER_COST : 0);
	if (soft_quota_take(&c->user->state, q->cost)) {
		q->cost = 0;
		return -EDQUOT;
	}
	f->ring = ring_memfd(q->ring_size);
	if (f->ring < 0)
		return f->ring;
	if ((ret = wake_pipe(f->bell)) || (ret = wake_pipe(f->cq)))
		return ret;
	q->ring = mmap(NULL, q->ring_size, PROT_READ | PROT_WRITE, MAP_SHARED, f->ring, 0);
	if (q->ring == MAP_FAILED) {
		q->ring = NULL;
		return -errno;
	}
	wd_ring_bind(&r, q->ring, depth, depth);
	wd_ring_format(&r, 0);
	/* explicit: the client's domain; SVA: the client's own address space */
	q->sq = soft_queue_create(q->ring, depth, ops, q->dom, f->cq[1], q->mem_fd);
	if (!q->sq)
		return -ENOMEM;
	q->sq->bell_fd = f->bell[0];
	q->sq->max_delay_ns = s->cfg.nop_delay_max_ns;
	q->sq->max_len = s->cfg.max_request; /* no request holds an engine thread for long */
	q->sq->quota = &c->user->state;
	if (q->dom && (ret = wd__domain_attach(q->dom, q->sq->ring.ctl, 0)))
		return ret;
	return 0;
}

static int do_queue_open(struct srv *s, struct srv_client *c, const void *p, size_t n,
			 const int *in_fds, int nin, struct srv_reply *rep)
{
	const struct wdd_queue_open_req *req = p;
	struct open_fds f = { -1, { -1, -1 }, { -1, -1 } };
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
	if (s->nqueues >= s->max_queues)
		return -EBUSY; /* the daemon's own limit (engine, descriptors), whoever asks */
	depth = req->depth ? req->depth : WD_QUEUE_DEPTH_DEFAULT;
	if (depth > WD_RING_MAX_ENTRIES)
		return -EINVAL;
	for (n = 1; n < depth; n <<= 1)
		;
	depth = (uint32_t)n;
	/* An SVA copy faults the client's pages in on an engine thread: memory
	 * the client maps from a file system it serves itself (FUSE) holds the
	 * thread until it answers.  A daemon for untrusted users can refuse. */
	if (!(req->flags & WD_QUEUE_F_EXPLICIT) && s->cfg.explicit_only)
		return -EOPNOTSUPP;
	/* SVA needs the client's memory file, explicit queues take nothing */
	if (nin != !(req->flags & WD_QUEUE_F_EXPLICIT))
		return -EINVAL;
	q = calloc(1, sizeof(*q));
	nq = realloc(c->queues, (c->nqueues + 1) * sizeof(*nq));
	if (nq)
		c->queues = nq;
	if (!q || !nq) {
		free(q);
		return -ENOMEM;
	}
	q->mem_fd = -1;
	if (req->flags & WD_QUEUE_F_EXPLICIT) {
		q->dom = srv_client_domain(c, req->domain);
		if (!q->dom) {
			free(q);
			return -ENOENT;
		}
	} else if ((q->mem_fd = take_client_mem(in_fds[0])) < 0) {
		ret = q->mem_fd;
		free(q);
		return ret;
	}
	ret = queue_make(s, c, q, depth, ops, &f);
	if (!ret)
		ret = soft_queue_attach(s->engine, q->sq);
	if (ret) {
		if (q->sq && q->dom)
			wd__domain_detach(q->dom, q->sq->ring.ctl);
		queue_undo(c, q);
		close_open_fds(&f);
		return ret;
	}
	if (q->dom)
		wd__domain_use(q->dom); /* DOMAIN_FREE is -EBUSY while the queue lives */
	q->id = ++c->next_queue;
	snprintf(q->alg, sizeof(q->alg), "%s", alg);
	c->user->queues++;
	s->nqueues++;
	c->queues[c->nqueues++] = q;
	rep->u.open.queue = q->id;
	rep->u.open.depth = depth;
	rep->u.open.ring_size = q->ring_size;
	rep->len = sizeof(rep->u.open);
	/* the client's ends: sent, then closed by the caller */
	rep->fds[0] = f.ring;
	rep->fds[1] = f.bell[1];
	rep->fds[2] = f.cq[0];
	rep->nfds = 3;
	return 0;
}

/* Deferred: the engine thread lets go of the queue between requests, and
 * the reply says how far it got, so it comes from srv_pending_poll. */
static int do_queue_close(struct srv *s, struct srv_client *c, const struct wdd_hdr *h,
			  const void *p, size_t n, struct srv_reply *rep)
{
	const struct wdd_queue_close_req *req = p;
	struct srv_queue *q;
	uint32_t i;
	int status;

	if (n != sizeof(*req) || req->rsvd)
		return -EINVAL;
	for (i = 0; i < c->nqueues && c->queues[i]->id != req->queue; i++)
		;
	if (i == c->nqueues)
		return -ENOENT;
	q = c->queues[i];
	c->queues[i] = c->queues[--c->nqueues];
	srv_queue_close_start(s, q);
	c->pend = (struct srv_pending){ .h = *h, .q = q };
	c->pending = 1;
	s->npending++;
	s->nclosing++;
	return srv_pending_poll(s, c, &status, rep) ? status : 1;
}

/* Sessions of the client's own queues only: ids are looked up in its list. */
static int do_cipher(struct srv_client *c, const void *p, size_t n)
{
	static const struct wd_cipher_setup none;
	const struct wdd_cipher_req *req = p;
	struct srv_queue *q;

	if (n != sizeof(*req))
		return -EINVAL;
	q = srv_client_queue(c, req->queue);
	if (!q)
		return -ENOENT;
	if (!req->setup.alg)
		return memcmp(&req->setup, &none, sizeof(none)) ? -EINVAL
								: soft_cipher_set(q->sq, req->session, NULL);
	return soft_cipher_set(q->sq, req->session, &req->setup);
}

static int do_domain_new(struct srv *s, struct srv_client *c, size_t n, struct srv_reply *rep)
{
	uint32_t id;
	int ret;

	if (n)
		return -EINVAL;
	for (id = 1; id <= SRV_MAX_DOMAINS && c->domains[id]; id++)
		;
	if (id > SRV_MAX_DOMAINS)
		return -EDQUOT;
	ret = wd__domain_create(s->ctx, s->dev, 0, &c->domains[id]);
	if (ret)
		return ret;
	/* no limit of its own until the client sets one: the quota rules */
	wd_domain_set_pin_limit(c->domains[id], UINT64_MAX);
	rep->u.dom.domain = id;
	rep->len = sizeof(rep->u.dom);
	return 0;
}

static int do_domain_free(struct srv *s, struct srv_client *c, const struct wdd_domain_req *req)
{
	struct wd_domain *d = srv_client_domain(c, req->domain);
	uint32_t i;
	int ret;

	if (!d)
		return -ENOENT;
	if (req->flags || req->arg)
		return -EINVAL;
	ret = wd_domain_free(d); /* -EBUSY while queues use it */
	if (ret)
		return ret;
	c->domains[req->domain] = NULL;
	for (i = 0; i < c->nshares;)
		if (c->shares[i].dom == d)
			srv_share_drop(s, c, i);
		else
			i++;
	return 0;
}

/* The client's own limit for one domain, under the daemon's quota: shares
 * past it fail as they would in-process (-ENOMEM). */
static int do_domain_msg(struct srv *s, struct srv_client *c, uint16_t type, const void *p,
			 size_t n)
{
	const struct wdd_domain_req *req = p;
	struct wd_domain *d;

	if (n != sizeof(*req))
		return -EINVAL;
	if (type == WDD_DOMAIN_FREE)
		return do_domain_free(s, c, req);
	d = srv_client_domain(c, req->domain);
	if (!d)
		return -ENOENT;
	return req->flags ? -EINVAL : wd_domain_set_pin_limit(d, req->arg);
}

/* Only a shmem memfd sealed against shrinking: any other file could be
 * truncated under the daemon's mapping (SIGBUS) or make an engine thread
 * block on its filesystem (FUSE, NFS).  Not hugetlbfs either: a hole the
 * client punches gives up the page's reservation, and the daemon's next
 * touch may find the pool empty (SIGBUS); a hole in shmem reads as zeros.
 * -EINVAL: not a memfd, or too short; -EPERM: not sealed. */
static int check_memfd(int fd, uint64_t offset, uint64_t span)
{
	struct statfs sfs;
	struct stat st;
	int seals;

	if (fstatfs(fd, &sfs) || sfs.f_type != TMPFS_MAGIC || fstat(fd, &st) || !S_ISREG(st.st_mode))
		return -EINVAL;
	seals = fcntl(fd, F_GET_SEALS);
	if (seals < 0)
		return -EINVAL;
	if (!(seals & F_SEAL_SHRINK))
		return -EPERM;
	if ((uint64_t)st.st_size < offset || (uint64_t)st.st_size - offset < span)
		return -EINVAL;
	return 0;
}

static int share_room(struct srv *s, struct srv_client *c)
{
	if (c->nshares < c->cap_shares)
		return 0;
	{
		uint32_t cap = c->cap_shares ? c->cap_shares * 2 : 8;
		struct srv_share *ns = realloc(c->shares, cap * sizeof(*ns));

		if (!ns)
			return -ENOMEM;
		c->shares = ns;
		c->cap_shares = cap;
	}
	return 0;
}

static int do_share(struct srv *s, struct srv_client *c, const void *p, size_t n, const int *fds,
		    int nfds, struct srv_reply *rep)
{
	const struct wdd_share_req *req = p;
	size_t ps = (size_t)sysconf(_SC_PAGESIZE), off, span;
	struct srv_share *sh;
	struct wd_domain *d;
	uint64_t want, iova;
	void *addr;
	int ret;

	if (n != sizeof(*req) || nfds != 1 || !req->len || req->offset % ps ||
	    (req->flags & ~(WD_SHARE_IDENTITY | WD_SHARE_READONLY)))
		return -EINVAL;
	d = srv_client_domain(c, req->domain);
	if (!d)
		return -ENOENT;
	if (req->len > UINT64_MAX / 2 || req->addr > UINT64_MAX - req->len)
		return -EINVAL;
	off = req->addr % ps;
	span = (off + req->len + ps - 1) & ~(ps - 1);
	if ((ret = check_memfd(fds[0], req->offset, span)))
		return ret;
	/* each share is a mapping of the daemon's: bounded per client, per
	 * user and in all, below vm.max_map_count */
	if (c->nshares >= s->cfg.max_shares || c->user->shares >= s->cfg.user_shares ||
	    c->pinned + span > s->cfg.max_pinned || c->user->pinned + span > s->cfg.user_pinned)
		return -EDQUOT;
	if (s->nshares >= s->max_shares)
		return -ENOSPC;
	if ((ret = share_room(s, c)))
		return ret;
	addr = mmap(NULL, span, PROT_READ | ((req->flags & WD_SHARE_READONLY) ? 0 : PROT_WRITE),
		    MAP_SHARED, fds[0], (off_t)req->offset);
	if (addr == MAP_FAILED)
		return -errno;
	/* identity with the client's own address when that IOVA is free; never
	 * a fallback to the daemon's own address (that would leak its layout) */
	want = req->addr >= ps ? req->addr : WD__IOVA_ANY;
	ret = wd__share_at(d, (char *)addr + off, req->len,
			   req->flags | WD_SHARE_FILE_OK | WD__SHARE_UNLOCKED, want,
			   &iova);
	if (ret) {
		munmap(addr, span);
		return ret;
	}
	sh = &c->shares[c->nshares++];
	sh->dom = d;
	sh->iova = iova - off;
	sh->addr = addr;
	sh->len = span;
	c->pinned += span;
	c->user->pinned += span;
	c->user->shares++;
	s->nshares++;
	rep->u.share.iova = iova;
	rep->len = sizeof(rep->u.share);
	return 0;
}

/* ---- deferred answers: UNSHARE while requests submitted before it may
 * run, QUEUE_CLOSE until the engine thread lets go ---- */

void srv_pending_drop(struct srv *s, struct srv_client *c)
{
	if (!c->pending)
		return;
	/* its slot is still there: the client could not open one since */
	if (c->pend.q) {
		c->queues[c->nqueues++] = c->pend.q;
		s->nclosing--;
	}
	free(c->pend.fence);
	memset(&c->pend, 0, sizeof(c->pend));
	c->pending = 0;
	s->npending--;
}

/* Are requests submitted before the UNSHARE still in flight?  The indices
 * are the client's to corrupt: that only delays its own answer (to the
 * deadline), since the engine's use of the range is checked separately. */
static int fences_busy(struct srv_client *c, const struct srv_pending *p)
{
	uint32_t i;

	for (i = 0; i < p->nfence; i++) {
		struct srv_queue *q = srv_client_queue(c, p->fence[i].queue);
		struct wd_ring_ctl *ctl;

		if (!q)
			continue;
		ctl = q->sq->ring.ctl;
		if (wd_load_acquire(&ctl->dev_status))
			continue;
		if ((int32_t)(wd_load_acquire(&ctl->cq_tail) - p->fence[i].tail) < 0)
			return 1;
	}
	return 0;
}

/* The client's record of the share at iova; -1 if none. */
static int64_t share_find(const struct srv_client *c, const struct wd_domain *d, uint64_t iova)
{
	uint32_t i;

	for (i = 0; i < c->nshares; i++)
		if (c->shares[i].dom == d && c->shares[i].iova <= iova &&
		    iova < c->shares[i].iova + c->shares[i].len)
			return i;
	return -1;
}

static int close_poll(struct srv *s, struct srv_client *c, int *status, struct srv_reply *rep)
{
	if (!srv_queue_reap(s, c, c->pend.q, &rep->u.close.sq_head, &rep->u.close.cq_tail))
		return 0;
	c->pend.q = NULL;
	s->nclosing--;
	rep->len = sizeof(rep->u.close);
	*status = 0;
	srv_pending_drop(s, c);
	return 1;
}

int srv_pending_poll(struct srv *s, struct srv_client *c, int *status, struct srv_reply *rep)
{
	struct srv_pending *p = &c->pend;
	struct wd_domain *d;
	int64_t i;
	int ret;

	if (p->q)
		return close_poll(s, c, status, rep);
	d = srv_client_domain(c, p->domain);
	if (!d) {
		ret = -ENOENT;
	} else if (fences_busy(c, p)) {
		ret = (p->flags & WD_UNSHARE_NOWAIT) ? -EBUSY : -EAGAIN;
	} else {
		ret = wd__unshare_now(d, p->iova); /* -EBUSY: an engine is on it right now */
		if (ret == -EBUSY && !(p->flags & WD_UNSHARE_NOWAIT))
			ret = -EAGAIN;
	}
	if (ret == -EAGAIN && mono_ms() < p->deadline_ms)
		return 0;
	if (ret == -EAGAIN)
		ret = -ETIMEDOUT; /* the client library asks again until its own deadline */
	if (!ret) {
		rep->u.unshare.unpinned = 0;
		i = share_find(c, d, p->iova);
		if (i >= 0)
			rep->u.unshare.unpinned = srv_share_drop(s, c, (uint32_t)i);
		rep->len = sizeof(rep->u.unshare);
	}
	*status = ret;
	srv_pending_drop(s, c);
	return 1;
}

static int do_unshare(struct srv *s, struct srv_client *c, const struct wdd_hdr *h, const void *p,
		      size_t n, struct srv_reply *rep)
{
	const struct wdd_unshare_req *req = p;
	struct srv_fence *fence = NULL;
	struct srv_pending *pd = &c->pend;
	struct wd_domain *d;
	int64_t wait;
	uint32_t i, nfence = 0;
	int status;

	if (n != sizeof(*req) || (req->flags & ~WD_UNSHARE_NOWAIT) || req->rsvd)
		return -EINVAL;
	d = srv_client_domain(c, req->domain);
	if (!d)
		return -ENOENT;
	if (share_find(c, d, req->iova) < 0)
		return -ENOENT;
	if (c->nqueues && !(fence = calloc(c->nqueues, sizeof(*fence))))
		return -ENOMEM;
	for (i = 0; i < c->nqueues; i++)
		if (c->queues[i]->dom == d) {
			fence[nfence].queue = c->queues[i]->id;
			fence[nfence].tail = wd_load_acquire(&c->queues[i]->sq->ring.ctl->sq_tail);
			nfence++;
		}
	wait = req->timeout_ms < 0 || req->timeout_ms > SRV_WAIT_MAX_MS ? SRV_WAIT_MAX_MS
									  : req->timeout_ms;
	*pd = (struct srv_pending){ .h = *h, .domain = req->domain, .flags = req->flags,
				    .iova = req->iova, .deadline_ms = mono_ms() + wait,
				    .nfence = nfence, .fence = fence };
	c->pending = 1;
	s->npending++;
	if (srv_pending_poll(s, c, &status, rep))
		return status; /* nothing in flight: answered at once */
	return 1;
}

static int do_dirty(struct srv_client *c, uint16_t type, const void *p, size_t n,
		    struct srv_reply *rep)
{
	const struct wdd_dirty_req *req = p;
	size_t ps = (size_t)sysconf(_SC_PAGESIZE);
	struct wd_domain *d;
	int64_t count;

	if (n != sizeof(*req) || req->rsvd)
		return -EINVAL;
	d = srv_client_domain(c, req->domain);
	if (!d)
		return -ENOENT;
	if (type == WDD_DIRTY_START)
		return wd_dirty_start(d);
	if (type == WDD_DIRTY_STOP)
		return wd_dirty_stop(d);
	if (req->len / ps > (uint64_t)WDD_DIRTY_CHUNK * 8)
		return -E2BIG;
	count = wd_dirty_read_clear(d, req->iova, req->len, rep->u.dirty.bitmap);
	if (count < 0)
		return (int)count;
	rep->u.dirty.count = count;
	rep->len = (uint32_t)(offsetof(struct wdd_dirty_rep, bitmap) +
			      (req->len / ps + 63) / 64 * sizeof(uint64_t));
	return 0;
}

static void stats_row(struct wdd_stats_rep *rep, const struct srv_client *o,
		      const struct srv_queue *q)
{
	struct wdd_queue_stats *qs = &rep->q[rep->nq++];
	struct wd_queue_stats st = { .size = sizeof(st) };

	qs->client = o->id;
	qs->queue = q->id;
	qs->uid = (uint32_t)o->uid;
	qs->pid = (uint32_t)o->pid;
	memcpy(qs->alg, q->alg, sizeof(qs->alg) - 1);
	qs->alg[sizeof(qs->alg) - 1] = 0;
	soft_queue_stats_public(q->sq, &st);
	wdd_stats_to_wire(&qs->st, &st);
}

/* One of the client's own queues: the same counters, for wd_queue_stats(). */
static int do_queue_stats(struct srv_client *c, const void *p, size_t n, struct srv_reply *rep)
{
	const struct wdd_queue_stats_req *req = p;
	struct wd_queue_stats st = { .size = sizeof(st) };
	struct srv_queue *q;

	if (n != sizeof(*req) || req->rsvd)
		return -EINVAL;
	q = srv_client_queue(c, req->queue);
	if (!q)
		return -ENOENT;
	soft_queue_stats_public(q->sq, &st);
	wdd_stats_to_wire(&rep->u.qstats, &st);
	rep->len = sizeof(rep->u.qstats);
	return 0;
}

/* The engine-thread counters of a queue held, open or closing: read as
 * they are, a snapshot. */
static void stats_add(struct wdd_stats_rep *st, const struct srv_queue *q)
{
	struct soft_stats sst;

	soft_queue_stats(q->sq, &sst);
	st->requests += sst.nreq;
	st->errors += sst.nerr;
}

/* Totals for everyone, of all the daemon holds: queues being closed and
 * clients gone whose queues an engine thread still serves count until they
 * are freed.  Rows (who runs what, how much) only of open queues, and only
 * for root and for the asking user's own, as ps would with hidepid. */
static int do_stats(struct srv *s, struct srv_client *c, size_t n, struct srv_reply *rep)
{
	struct wdd_stats_rep *st = &rep->u.stats;
	struct srv_client *o;
	uint32_t i;

	if (n)
		return -EINVAL;
	memset(st, 0, sizeof(*st));
	st->clients = s->nclients;
	st->queues = s->nqueues;
	st->requests = s->past_requests;
	st->errors = s->past_errors;
	for (o = s->clients; o; o = o->next) {
		st->pinned += o->pinned;
		if (o->pend.q)
			stats_add(st, o->pend.q);
		for (i = 0; i < o->nqueues; i++) {
			stats_add(st, o->queues[i]);
			if (st->nq < WDD_STATS_MAX && (c->uid == 0 || o->uid == c->uid))
				stats_row(st, o, o->queues[i]);
		}
	}
	for (o = s->dying; o; o = o->next) {
		st->pinned += o->pinned;
		for (i = 0; i < o->nqueues; i++)
			stats_add(st, o->queues[i]);
	}
	rep->len = (uint32_t)offsetof(struct wdd_stats_rep, q) +
		   st->nq * (uint32_t)sizeof(struct wdd_queue_stats);
	return 0;
}

int srv_handle(struct srv *s, struct srv_client *c, const struct wdd_hdr *h, void *req, size_t n,
	       const int *fds, int nfds, struct srv_reply *rep)
{
	rep->len = 0;
	rep->nfds = 0;
	/* descriptors only where the type takes them, and as many as it says */
	if (h->nfds != nfds ||
	    (nfds && h->type != WDD_SHARE && h->type != WDD_QUEUE_OPEN))
		return -EINVAL;
	switch (h->type) {
	case WDD_HELLO:
		rep->len = sizeof(rep->u.hello);
		return do_hello(s, c, req, n, &rep->u.hello);
	case WDD_QUEUE_OPEN:
		return do_queue_open(s, c, req, n, fds, nfds, rep);
	case WDD_QUEUE_CLOSE:
		return do_queue_close(s, c, h, req, n, rep);
	case WDD_DOMAIN_NEW:
		return do_domain_new(s, c, n, rep);
	case WDD_DOMAIN_FREE:
	case WDD_PIN_LIMIT:
		return do_domain_msg(s, c, h->type, req, n);
	case WDD_SHARE:
		return do_share(s, c, req, n, fds, nfds, rep);
	case WDD_UNSHARE:
		return do_unshare(s, c, h, req, n, rep);
	case WDD_DIRTY_START:
	case WDD_DIRTY_STOP:
	case WDD_DIRTY_READ:
		return do_dirty(c, h->type, req, n, rep);
	case WDD_STATS:
		return do_stats(s, c, n, rep);
	case WDD_QUEUE_STATS:
		return do_queue_stats(c, req, n, rep);
	case WDD_CIPHER_SESSION: {
		int ret = do_cipher(c, req, n);

		explicit_bzero(req, n); /* the key */
		return ret;
	}
	default:
		return -EOPNOTSUPP;
	}
}
