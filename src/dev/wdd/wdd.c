/* SPDX-License-Identifier: MIT */
/*
 * The wdd driver: device "wdd0", the software engine hosted by the wdd
 * daemon and shared with other processes.  The control path (open a queue,
 * share memory...) is a request/reply on the daemon's socket; the data path
 * is the queue ring in a memfd both sides map, a doorbell pipe and a
 * completion pipe - no syscall while the daemon's engine is awake.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/un.h>
#include <linux/magic.h>
#include <time.h>
#include <unistd.h>

#include "../../core/internal.h"
#include "../../daemon/proto.h"
#include "../../mem/domain.h"

struct wdd_conn {
	int fd;
	pid_t daemon;                   /* its pid, as it says (diagnostics) */
	pthread_mutex_t lock;           /* one request/reply at a time */
	uint64_t seq;
	int gone;
	char algs[256];
	const char *alg_ptrs[32];
};

struct wdd_queue {
	uint32_t id;
	int kick_fd;
	int open;                       /* the daemon holds it: not stopped yet */
};

/* ---- messages ---- */

/* A reply the daemon does not send within this is taken for a dead daemon
 * (a stuck one must not hang every program that finds it); tests lower it. */
unsigned wd__wdd_reply_timeout_ms = 10000;
/* ... but the answer to QUEUE_CLOSE waits until the engine thread lets go
 * of the queue, after the request it is in - another client's, perhaps,
 * up to the daemon's largest: that long, while the daemon is there. */
#define CLOSE_WAIT_MS 120000

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait on for the reply to type, after a receive timed out? */
static int wait_more(uint16_t type, int64_t since)
{
	return (errno == EAGAIN || errno == EWOULDBLOCK) && type == WDD_QUEUE_CLOSE &&
	       mono_ms() - since < CLOSE_WAIT_MS;
}

/* A reply's status is 0 or -errno (proto.h), and what a request counts
 * travels in the payload: anything else would reach our callers as a
 * count, or a success with nothing filled in. */
static int reply_status(int32_t status)
{
	return status <= 0 && status >= -4095 ? status : -EPROTO;
}

static int xfer(struct wdd_conn *c, uint16_t type, const void *req, uint32_t len,
		const int *fds, int nfds, void *rep, uint32_t rep_len, int *rfds, int nrfds)
{
	/* room for the fds and the credentials SO_PASSCRED attaches */
	char cbuf[CMSG_SPACE(4 * sizeof(int)) + CMSG_SPACE(sizeof(struct ucred))] = { 0 };
	struct wdd_hdr h = { .magic = WDD_MAGIC, .type = type, .len = len };
	struct iovec iov[2] = { { &h, sizeof(h) }, { (void *)req, len } };
	struct msghdr m = { .msg_iov = iov, .msg_iovlen = len ? 2 : 1 };
	struct cmsghdr *cm;
	int64_t since;
	ssize_t n;
	int got = 0, ret = 0;

	pthread_mutex_lock(&c->lock);
	if (c->gone) {
		ret = -ECONNRESET;
		goto out;
	}
	h.seq = ++c->seq;
	h.nfds = (uint16_t)nfds;
	if (nfds)
		wdd_put_fds(&m, cbuf, fds, nfds);
	if (sendmsg(c->fd, &m, MSG_NOSIGNAL) < 0) {
		ret = -errno;
		c->gone = 1;
		goto out;
	}
	if (rep_len)
		memset(rep, 0, rep_len); /* a shorter reply leaves zeros, never garbage */
	iov[1].iov_base = rep;
	iov[1].iov_len = rep_len;
	memset(&m, 0, sizeof(m));
	m.msg_iov = iov;
	m.msg_iovlen = 2;
	m.msg_control = cbuf;
	m.msg_controllen = sizeof(cbuf);
	since = mono_ms();
	do
		n = recvmsg(c->fd, &m, MSG_CMSG_CLOEXEC);
	while (n < 0 && (errno == EINTR || wait_more(type, since)));
	for (cm = CMSG_FIRSTHDR(&m); n > 0 && cm; cm = CMSG_NXTHDR(&m, cm))
		if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS)
			wdd_take_fds(cm, rfds, &got, nrfds);
	if (n <= 0) {
		ret = n < 0 ? -errno : -ECONNRESET;
		c->gone = 1;
	} else if ((size_t)n < sizeof(h) || (m.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) ||
		   h.magic != WDD_MAGIC || h.type != type || h.seq != c->seq) {
		ret = -EPROTO;
		c->gone = 1;
	} else if (h.status) {
		ret = reply_status(h.status);
	} else if (got != nrfds) {
		ret = -EPROTO;
	}
	if (ret)
		while (got)
			close(rfds[--got]);
out:
	pthread_mutex_unlock(&c->lock);
	return ret;
}

/* ---- discovery ---- */

/* Not from the environment in a set-uid or set-gid program (secure_getenv):
 * there only /run/wdd.sock, root's. */
static const char *socket_path(char *buf, size_t len)
{
	const char *env = secure_getenv("WD_WDD_SOCKET");
	const char *xdg = secure_getenv("XDG_RUNTIME_DIR");
	struct stat st;

	if (env && *env)
		return env;
	if (getuid() != 0 && xdg && *xdg) {
		snprintf(buf, len, "%s/%s", xdg, WDD_SOCKET_NAME);
		if (!stat(buf, &st))
			return buf;
	}
	return "/run/" WDD_SOCKET_NAME;
}

/*
 * Only root, or we ourselves, may be our daemon: an SVA queue hands it our
 * memory file, read-write.  Another user's socket (a path from the
 * environment, a stale runtime directory) is refused before a word is
 * said.  The credentials are those of the listener when it called
 * listen(), taken by the kernel: no daemon can forge them.
 */
static int check_peer(int fd, const char *path)
{
	struct ucred cr;
	socklen_t len = sizeof(cr);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len))
		return -errno;
	if (cr.uid == 0 || cr.uid == geteuid())
		return 0;
	if (secure_getenv("WD_DEBUG"))
		fprintf(stderr, "wd: wdd %s: served by uid %u, neither root nor ours: not used\n",
			path, (unsigned)cr.uid);
	return -EPERM;
}

static int wdd_connect(const char *path)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int fd, err;

	if (strlen(path) >= sizeof(a.sun_path))
		return -ENAMETOOLONG;
	strcpy(a.sun_path, path);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* the daemon checks the sender of every message; it can only ask the
	 * kernel for that once it has accepted us, and a message sent before
	 * would carry none: attach our credentials from the first one on */
	{
		int one = 1;

		setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &one, sizeof(one));
	}
	if (connect(fd, (struct sockaddr *)&a, sizeof(a))) {
		err = -errno;
		close(fd);
		return err;
	}
	err = check_peer(fd, path);
	if (err) {
		close(fd);
		return err;
	}
	return fd;
}

static int wdd_probe(struct wd_ctx *ctx)
{
	struct wdd_hello_req req = { .version = WDD_VERSION };
	struct wdd_hello_rep rep;
	struct wdd_conn *c;
	struct wd_dev *dev;
	char buf[256];
	const char *path = socket_path(buf, sizeof(buf));
	unsigned i, n = 0;
	size_t off;
	int fd, ret;

	fd = wdd_connect(path);
	if (fd < 0) {
		/* check_peer said why it refused */
		if (secure_getenv("WD_DEBUG") && fd != -ENOENT && fd != -EPERM)
			fprintf(stderr, "wd: wdd %s: connect: %s\n", path, strerror(-fd));
		return 0; /* no daemon: no such device, not an error */
	}
	{
		struct timeval tv = { .tv_sec = wd__wdd_reply_timeout_ms / 1000,
				      .tv_usec = wd__wdd_reply_timeout_ms % 1000 * 1000 };

		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		close(fd);
		return -ENOMEM;
	}
	c->fd = fd;
	pthread_mutex_init(&c->lock, NULL);
	ret = xfer(c, WDD_HELLO, &req, sizeof(req), NULL, 0, &rep, sizeof(rep), NULL, 0);
	if (ret) {
		if (secure_getenv("WD_DEBUG"))
			fprintf(stderr, "wd: wdd %s: hello: %s\n", path, strerror(-ret));
		goto skip; /* refused (credentials, quota) or a foreign protocol */
	}
	c->daemon = (pid_t)rep.daemon_pid;
	memcpy(c->algs, rep.algs, sizeof(c->algs));
	c->algs[sizeof(c->algs) - 1] = 0;
	/* a name may end on the last byte: the list ends with the array */
	for (off = 0; off < sizeof(c->algs) && c->algs[off] && n < 31;
	     off += strlen(c->algs + off) + 1)
		c->alg_ptrs[n++] = c->algs + off;
	c->alg_ptrs[n] = NULL;
	snprintf(rep.info.name, sizeof(rep.info.name), "wdd0");
	snprintf(rep.info.driver, sizeof(rep.info.driver), "wdd");
	rep.info.flags &= WD_DEV_F_SVA | WD_DEV_F_EXPLICIT;
	rep.info.max_queues = rep.max_queues;
	ret = wd__dev_add(ctx, &wd_wdd_driver, &rep.info, c->alg_ptrs, c);
	if (ret)
		goto skip;
	dev = ctx->devs[ctx->ndevs - 1];
	for (i = 0; i < rep.nresv && i < 16; i++) {
		dev->resv[i].start = rep.resv[i].start;
		dev->resv[i].last = rep.resv[i].last;
	}
	dev->nresv = i;
	return 0;
skip:
	close(fd);
	pthread_mutex_destroy(&c->lock);
	free(c);
	return ret == -ENOMEM ? ret : 0;
}

static void wdd_remove(struct wd_dev *dev, int in_child)
{
	struct wdd_conn *c = dev->priv;

	if (!in_child) {
		close(c->fd);
		pthread_mutex_destroy(&c->lock);
	}
	free(c);
}

/* ---- queues ---- */

/* Give a queue of ours back to the daemon: until then it counts against
 * our quota and holds the daemon's memory. */
static int queue_close_remote(struct wdd_conn *c, uint32_t id, struct wdd_queue_close_rep *rep)
{
	struct wdd_queue_close_req req = { .queue = id };

	return xfer(c, WDD_QUEUE_CLOSE, &req, sizeof(req), NULL, 0, rep, sizeof(*rep), NULL, 0);
}

/*
 * What wd_queue_event_fd() hands out: an epoll set of the completion pipe
 * and the control socket's hang-up, so that whoever sleeps on it by hand
 * also wakes when the daemon dies, whichever it notices first.  The
 * library's own waits poll both fds directly.
 */
static int make_wait_fd(int cq_fd, int sock)
{
	struct epoll_event cq = { .events = EPOLLIN }, hup = { .events = EPOLLRDHUP };
	int ep = epoll_create1(EPOLL_CLOEXEC);

	if (ep < 0)
		return -errno;
	/* replies on the socket are not events: only its hang-up (or error) */
	if (epoll_ctl(ep, EPOLL_CTL_ADD, cq_fd, &cq) || epoll_ctl(ep, EPOLL_CTL_ADD, sock, &hup)) {
		int err = -errno;

		close(ep);
		return err;
	}
	return ep;
}

/*
 * The ring's memfd is mapped for the life of the queue and touched by
 * every call on it: it must hold the whole ring and be unable to shrink
 * (a mapping past the end of its file is SIGBUS on the next access), and
 * be shmem, as the daemon asks of ours (a hole punched in hugetlbfs can
 * fault too).  wdd seals it so; anything else is not the daemon speaking.
 */
static int check_ring_fd(int fd, uint64_t size)
{
	struct statfs sfs;
	struct stat st;
	int seals;

	if (fstat(fd, &st) || !S_ISREG(st.st_mode) || (uint64_t)st.st_size < size)
		return -EPROTO;
	if (fstatfs(fd, &sfs) || sfs.f_type != TMPFS_MAGIC)
		return -EPROTO;
	seals = fcntl(fd, F_GET_SEALS);
	return seals >= 0 && (seals & F_SEAL_SHRINK) ? 0 : -EPROTO;
}

/*
 * Our end of a wake-up pipe (wdd sends pipes, never eventfds), open for
 * mode.  It must never block: wd_queue_arm drains the completion pipe
 * however empty it is, and a doorbell nobody reads fills up.  wdd makes
 * its pipes non-blocking; we set the flag rather than count on that.
 */
static int check_wake_fd(int fd, int mode)
{
	struct stat st;
	int fl;

	if (fstat(fd, &st) || !S_ISFIFO(st.st_mode))
		return -EPROTO;
	fl = fcntl(fd, F_GETFL);
	if (fl < 0 || (fl & O_ACCMODE) != mode)
		return -EPROTO;
	if (!(fl & O_NONBLOCK) && fcntl(fd, F_SETFL, fl | O_NONBLOCK))
		return -errno;
	return 0;
}

static int wdd_queue_open(struct wd_queue *q)
{
	struct wdd_conn *c = q->dev->priv;
	struct wdd_queue_open_req req = { .depth = q->depth };
	struct wdd_queue_open_rep rep;
	struct wdd_queue *wq;
	int fds[3], self_mem = -1, ret;
	void *mem;

	snprintf(req.alg, sizeof(req.alg), "%s", q->alg);
	if (q->domain) {
		req.flags = WD_QUEUE_F_EXPLICIT;
		req.domain = q->domain->remote_id;
	} else {
		/* SVA: we hand the daemon our own memory file, nothing more (no
		 * ptrace rights); it stays bound to this address space */
		self_mem = open("/proc/self/mem", O_RDWR | O_CLOEXEC);
		if (self_mem < 0)
			return -errno;
	}
	wq = calloc(1, sizeof(*wq));
	if (!wq) {
		if (self_mem >= 0)
			close(self_mem);
		return -ENOMEM;
	}
	ret = xfer(c, WDD_QUEUE_OPEN, &req, sizeof(req), &self_mem, self_mem >= 0, &rep, sizeof(rep),
		   fds, 3);
	if (self_mem >= 0)
		close(self_mem);
	if (ret) {
		free(wq);
		return ret;
	}
	/* the daemon's answer is checked like any other input */
	if (rep.depth != q->depth || rep.ring_size != wd_ring_size(q->depth, q->depth)) {
		ret = -EPROTO;
		goto err;
	}
	if ((ret = check_ring_fd(fds[0], rep.ring_size)) || (ret = check_wake_fd(fds[1], O_WRONLY)) ||
	    (ret = check_wake_fd(fds[2], O_RDONLY)))
		goto err;
	mem = mmap(NULL, rep.ring_size, PROT_READ | PROT_WRITE, MAP_SHARED, fds[0], 0);
	if (mem == MAP_FAILED) {
		ret = -errno;
		goto err;
	}
	/* never inherited: a fork child must not reach the ring */
	if (madvise(mem, rep.ring_size, MADV_DONTFORK)) {
		ret = -errno;
		munmap(mem, rep.ring_size);
		goto err;
	}
	ret = make_wait_fd(fds[2], c->fd);
	if (ret < 0) {
		munmap(mem, rep.ring_size);
		goto err;
	}
	q->wait_fd = ret;
	close(fds[0]);
	wd_ring_bind(&q->ring, mem, q->depth, q->depth);
	q->ring_ready = 1;
	q->mem = mem;
	q->cq_fd = fds[2];
	q->alive_fd = c->fd;
	wq->id = rep.queue;
	wq->kick_fd = fds[1];
	wq->open = 1;
	q->drv = wq;
	return 0;
err:
	close(fds[0]);
	close(fds[1]);
	close(fds[2]);
	free(wq);
	{
		struct wdd_queue_close_rep crep;

		queue_close_remote(c, rep.queue, &crep); /* the daemon made it */
	}
	return ret;
}

static void wdd_queue_close(struct wd_queue *q, int in_child)
{
	struct wdd_queue *wq = q->drv;

	if (!in_child && wq) {
		/* never stopped: wd_queue_new failed after opening it */
		if (wq->open) {
			struct wdd_queue_close_rep rep;

			queue_close_remote(q->dev->priv, wq->id, &rep);
		}
		munmap(q->mem, q->ring.size);
		close(q->cq_fd);
		close(q->wait_fd);
		close(wq->kick_fd);
	}
	free(wq);
}

static int wdd_queue_start(struct wd_queue *q)
{
	return 0; /* the daemon attached the queue to its engine when it made it */
}

static void wdd_queue_stop(struct wd_queue *q, uint32_t *sq_head, uint32_t *cq_tail)
{
	struct wdd_queue *wq = q->drv;
	struct wdd_queue_close_rep rep;

	wq->open = 0;
	if (!queue_close_remote(q->dev->priv, wq->id, &rep)) {
		*sq_head = rep.sq_head;
		*cq_tail = rep.cq_tail;
		return;
	}
	/* the daemon is gone: it completed in order up to its cq_tail */
	*cq_tail = wd_load_acquire(&q->ring.ctl->cq_tail);
	*sq_head = *cq_tail;
}

/*
 * The doorbell is a pipe whose reader is the daemon.  A daemon that died
 * leaves it without one, and a plain write would raise SIGPIPE, which
 * kills a program that does not ignore it: the write runs with SIGPIPE
 * blocked in this thread, and a SIGPIPE it raised (none was pending
 * before) is taken back.  The queue then finds the daemon gone as usual.
 */
static void wdd_kick(struct wd_queue *q)
{
	struct wdd_queue *wq = q->drv;
	static const char bell = 1;
	struct timespec zero = { 0, 0 };
	sigset_t pipe_set, old, pending;
	int was_pending;

	sigemptyset(&pipe_set);
	sigaddset(&pipe_set, SIGPIPE);
	sigpending(&pending);
	was_pending = sigismember(&pending, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
	/* full (EAGAIN): a wake-up is pending anyway */
	if (write(wq->kick_fd, &bell, 1) < 0 && errno == EPIPE && !was_pending)
		while (sigtimedwait(&pipe_set, NULL, &zero) < 0 && errno == EINTR)
			;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
}

static int wdd_cipher_session(struct wd_queue *q, unsigned id, const struct wd_cipher_setup *cs)
{
	struct wdd_queue *wq = q->drv;
	struct wdd_cipher_req req = { .queue = wq->id, .session = id };
	int ret;

	if (cs)
		req.setup = *cs;
	ret = xfer(q->dev->priv, WDD_CIPHER_SESSION, &req, sizeof(req), NULL, 0, NULL, 0, NULL, 0);
	explicit_bzero(&req, sizeof(req));
	return ret;
}

/* ---- domains ---- */

static int wdd_dom_create(struct wd_domain *d)
{
	struct wdd_domain_rep rep;
	int ret = xfer(d->dev->priv, WDD_DOMAIN_NEW, NULL, 0, NULL, 0, &rep, sizeof(rep), NULL, 0);

	if (!ret)
		d->remote_id = rep.domain;
	return ret;
}

static void wdd_dom_destroy(struct wd_domain *d)
{
	struct wdd_domain_req req = { .domain = d->remote_id };

	xfer(d->dev->priv, WDD_DOMAIN_FREE, &req, sizeof(req), NULL, 0, NULL, 0, NULL, 0);
}

static int wdd_share(struct wd_domain *d, void *ptr, size_t len, unsigned flags, uint64_t *iova)
{
	struct wdd_share_req req = { .domain = d->remote_id, .flags = flags, .len = len,
				     .addr = (uintptr_t)ptr };
	size_t ps = (size_t)sysconf(_SC_PAGESIZE);
	struct wdd_share_rep rep;
	uint64_t off;
	int fd, ret;

	if (flags & ~(WD_SHARE_IDENTITY | WD_SHARE_READONLY | WD_SHARE_FILE_OK))
		return -EINVAL;
	/* only memfd memory can be handed to another process */
	if (wd__mem_lookup(ptr, len, &fd, &off))
		return -EPERM;
	req.offset = off & ~(uint64_t)(ps - 1);
	req.flags &= ~WD_SHARE_FILE_OK;
	ret = xfer(d->dev->priv, WDD_SHARE, &req, sizeof(req), &fd, 1, &rep, sizeof(rep), NULL, 0);
	if (ret)
		return ret;
	/* the range as the daemon placed it, with our address: what the
	 * built-in engine reaches if the daemon fails (it is counted as
	 * pinned there, the daemon's count being the same span) */
	ret = wd__domain_mirror(d, rep.iova, ptr, len, flags & WD_SHARE_READONLY);
	if (ret) {
		struct wdd_unshare_req ureq = { .domain = d->remote_id, .iova = rep.iova,
						.flags = WD_UNSHARE_NOWAIT };
		struct wdd_unshare_rep urep;

		/* an IOVA that cannot be right: not used, given back */
		xfer(d->dev->priv, WDD_UNSHARE, &ureq, sizeof(ureq), NULL, 0, &urep, sizeof(urep),
		     NULL, 0);
		return ret;
	}
	*iova = rep.iova;
	return 0;
}

/* The daemon lets go of a range (the core then drops its entry of it).  A
 * daemon that is gone holds nothing any more: 0. */
static int wdd_unshare(struct wd_domain *d, uint64_t iova, unsigned flags, int timeout_ms)
{
	struct wdd_unshare_req req = { .domain = d->remote_id, .flags = flags, .iova = iova,
				       .timeout_ms = timeout_ms };
	struct wdd_unshare_rep rep;
	struct wdd_conn *c = d->dev->priv;
	int ret;

	struct timespec ts;
	int64_t now, deadline = -1;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	if (timeout_ms >= 0)
		deadline = now + timeout_ms;
	/* the daemon holds an UNSHARE a bounded time; keep asking until our
	 * own deadline ends */
	for (;;) {
		if (deadline >= 0)
			req.timeout_ms = (int32_t)(deadline > now ? deadline - now : 0);
		ret = xfer(d->dev->priv, WDD_UNSHARE, &req, sizeof(req), NULL, 0, &rep, sizeof(rep),
			   NULL, 0);
		clock_gettime(CLOCK_MONOTONIC, &ts);
		now = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
		if (ret != -ETIMEDOUT || (deadline >= 0 && now >= deadline))
			break;
	}
	if (ret) {
		pthread_mutex_lock(&c->lock);
		if (c->gone)
			ret = 0; /* the connection is over: it let go of all of ours */
		pthread_mutex_unlock(&c->lock);
	}
	return ret;
}

static int wdd_pin_limit(struct wd_domain *d, uint64_t bytes)
{
	struct wdd_domain_req req = { .domain = d->remote_id, .arg = bytes };
	int ret;

	/* the daemon enforces it on its side of the domain, under its quota */
	ret = xfer(d->dev->priv, WDD_PIN_LIMIT, &req, sizeof(req), NULL, 0, NULL, 0, NULL, 0);
	if (!ret) {
		pthread_rwlock_wrlock(&d->lock);
		d->pin_limit = bytes;
		pthread_rwlock_unlock(&d->lock);
	}
	return ret;
}

static int wdd_dirty_ctl(struct wd_domain *d, int start)
{
	struct wdd_dirty_req req = { .domain = d->remote_id };
	int ret = xfer(d->dev->priv, start ? WDD_DIRTY_START : WDD_DIRTY_STOP, &req, sizeof(req),
		       NULL, 0, NULL, 0, NULL, 0);

	if (!ret)
		__atomic_store_n(&d->dirty_on, (uint32_t)start, __ATOMIC_RELEASE);
	return ret;
}

static int64_t wdd_dirty_read(struct wd_domain *d, uint64_t iova, uint64_t len, uint64_t *bitmap)
{
	uint64_t ps = (uint64_t)sysconf(_SC_PAGESIZE), chunk = (uint64_t)WDD_DIRTY_CHUNK * 8 * ps;
	struct wdd_dirty_rep *rep = malloc(sizeof(*rep));
	int64_t total = 0;
	uint64_t done = 0;
	int ret = 0;

	if (!rep)
		return -ENOMEM;
	/* in bounded chunks: one message each, whatever the range */
	while (done < len && !ret) {
		struct wdd_dirty_req req = { .domain = d->remote_id, .iova = iova + done,
					     .len = len - done < chunk ? len - done : chunk };
		uint64_t words = (req.len / ps + 63) / 64, first = done / ps, w;

		ret = xfer(d->dev->priv, WDD_DIRTY_READ, &req, sizeof(req), NULL, 0, rep,
			   sizeof(*rep), NULL, 0);
		if (ret)
			break;
		/* our total is returned as a count: a negative one would read
		 * as an error, a larger one than the chunk's pages is a lie */
		if (rep->count < 0 || (uint64_t)rep->count > req.len / ps) {
			ret = -EPROTO;
			break;
		}
		/* chunks are a multiple of 64 pages: words line up */
		for (w = 0; w < words; w++)
			bitmap[first / 64 + w] = rep->bitmap[w];
		if (req.len / ps % 64)
			bitmap[first / 64 + words - 1] &= (1ull << (req.len / ps % 64)) - 1;
		total += rep->count;
		done += req.len;
	}
	free(rep);
	return ret ? ret : total;
}

static int wdd_queue_stats(struct wd_queue *q, struct wd_queue_stats *st)
{
	struct wdd_queue *wq = q->drv;
	struct wdd_queue_stats_req req = { .queue = wq->id };
	struct wdd_stats_wire rep = { 0 };
	int ret;

	ret = xfer(q->dev->priv, WDD_QUEUE_STATS, &req, sizeof(req), NULL, 0, &rep, sizeof(rep),
		   NULL, 0);
	if (ret)
		return ret;
	wdd_stats_from_wire(st, &rep);
	return 0;
}

int wd__wdd_stats(struct wd_ctx *ctx, struct wdd_stats_rep *out)
{
	struct wd_dev *dev = wd_dev_by_name(ctx, "wdd0");

	if (!dev || dev->ops != &wd_wdd_driver)
		return -ENODEV;
	memset(out, 0, sizeof(*out));
	return xfer(dev->priv, WDD_STATS, NULL, 0, NULL, 0, out, sizeof(*out), NULL, 0);
}

const struct wd_driver_ops wd_wdd_driver = {
	.name = "wdd",
	.flags = WD_DRV_F_SVA_CHECKED, /* the daemon reads our /proc/self/mem */
	.probe = wdd_probe,
	.remove = wdd_remove,
	.queue_open = wdd_queue_open,
	.queue_close = wdd_queue_close,
	.queue_start = wdd_queue_start,
	.queue_stop = wdd_queue_stop,
	.kick = wdd_kick,
	.cipher_session = wdd_cipher_session,
	.dom_create = wdd_dom_create,
	.dom_destroy = wdd_dom_destroy,
	.share = wdd_share,
	.unshare = wdd_unshare,
	.pin_limit = wdd_pin_limit,
	.dirty_ctl = wdd_dirty_ctl,
	.dirty_read = wdd_dirty_read,
	.queue_stats = wdd_queue_stats,
};
