/* SPDX-License-Identifier: MIT */
/*
 * wdd: the software engine hosted for many processes.
 *
 * One thread runs the control path: it accepts clients on a Unix socket,
 * checks their credentials, and answers their messages (handlers.c).  The
 * engine threads run the data path on the rings the clients map.  Each
 * client has its own queues and domains; nothing a client sends can name
 * another client's, and nothing a client sends may stall this thread: no
 * call here blocks on a client (replies are sent MSG_DONTWAIT, a request
 * that has to wait is deferred and polled) nor on an engine thread (a queue
 * is closed, or a client torn down, once its thread has let go of it, which
 * the thread signals on ackfd), so one client cannot keep another from
 * being served.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "../core/internal.h"
#include "srv.h"

#define SRV_NOFILE_WANT 65536   /* descriptors asked for at start (root) */

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

static int client_poll_set(struct srv *s, struct srv_client *c, int op, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = c };

	return epoll_ctl(s->epfd, op, c->fd, &ev);
}

static void client_drop(struct srv *s, struct srv_client *c)
{
	epoll_ctl(s->epfd, EPOLL_CTL_DEL, c->fd, NULL);
	srv_client_free(s, c);
}

static const struct srv_user *user_find(const struct srv *s, uid_t uid)
{
	const struct srv_user *u;

	for (u = s->users; u && u->uid != uid; u = u->next)
		;
	return u;
}

static void accept_client(struct srv *s)
{
	const struct srv_user *u;
	struct srv_client *c;
	struct ucred cred;
	socklen_t len = sizeof(cred);
	int fd = accept4(s->lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK), one = 1;

	if (fd < 0) {
		if (errno == EMFILE || errno == ENFILE || errno == ENOMEM)
			usleep(10000); /* out of resources: do not spin on the listener */
		return;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) || !uid_allowed(s, cred.uid)) {
		refuse(fd, -EACCES);
		return;
	}
	u = user_find(s, cred.uid);
	if ((s->nclients >= s->cfg.max_clients &&
	     (cred.uid || s->nclients >= s->cfg.max_clients + SRV_ROOT_CLIENTS)) ||
	    (u && u->clients >= s->cfg.user_clients)) {
		refuse(fd, -EUSERS);
		return;
	}
	/* every message then carries its sender, checked in serve_one() */
	setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &one, sizeof(one));
	c = srv_client_new(s, fd, cred.uid, cred.pid);
	if (c && client_poll_set(s, c, EPOLL_CTL_ADD, EPOLLIN))
		srv_client_free(s, c);
}

/* ---- requests ---- */

static int send_reply(struct srv_client *c, struct wdd_hdr *h, int status, struct srv_reply *rep)
{
	int ret, i;

	h->status = status;
	if (status) {
		rep->len = 0;
		rep->nfds = 0;
	}
	ret = send_msg(c->fd, h, &rep->u, rep->len, rep->fds, rep->nfds);
	for (i = 0; i < rep->nfds; i++)
		close(rep->fds[i]); /* the client's ends: the daemon keeps its own */
	explicit_bzero(rep, sizeof(*rep)); /* key material never lingers */
	return ret;
}

/* One message from a client; returns <0 to drop the client. */
static int serve_one(struct srv *s, struct srv_client *c, struct srv_reply *rep)
{
	char req[512];
	struct wdd_hdr h;
	int fds[4], nfds, i, ret;
	pid_t sender;
	ssize_t n = recv_msg(c->fd, &h, req, sizeof(req), fds, &nfds, &sender);

	if (n == -EAGAIN)
		return 0;
	if (n < 0) {
		for (i = 0; i < nfds; i++)
			close(fds[i]);
		return -1; /* gone, or not speaking the protocol */
	}
	/* Only the process that connected may speak on its connection: SVA
	 * requests reach that pid's memory, so a fork child (or a program the
	 * connection was passed to) must not use it. */
	if (sender != c->pid)
		ret = -EPERM;
	else
		ret = srv_handle(s, c, &h, req, (size_t)n, fds, nfds, rep);
	for (i = 0; i < nfds; i++)
		close(fds[i]); /* the daemon keeps its own copies or mappings */
	explicit_bzero(req, sizeof(req));
	if (ret == 1) {
		/* deferred: read nothing more from this client until answered
		 * (hang-ups are still reported, and drop it) */
		return client_poll_set(s, c, EPOLL_CTL_MOD, 0) ? -1 : 0;
	}
	return send_reply(c, &h, ret, rep) ? -1 : 0;
}

/* Answer the deferred requests that are done. */
static void serve_pending(struct srv *s, struct srv_reply *rep)
{
	struct srv_client *c, *next;
	struct wdd_hdr h;
	int status;

	for (c = s->clients; c && s->npending; c = next) {
		next = c->next;
		if (!c->pending)
			continue;
		h = c->pend.h;
		memset(rep, 0, sizeof(*rep));
		if (!srv_pending_poll(s, c, &status, rep))
			continue;
		if (send_reply(c, &h, status, rep) || client_poll_set(s, c, EPOLL_CTL_MOD, EPOLLIN))
			client_drop(s, c);
	}
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

/*
 * Descriptors: every queue costs SRV_FDS_PER_QUEUE, every client one.  Ask
 * for as many as the hard limit allows (root: SRV_NOFILE_WANT), then size
 * the daemon-wide queue cap to what was granted, so a client within its
 * quota never meets -EMFILE because another used up the descriptors.
 */
static uint32_t queue_cap(const struct wdd_config *cfg)
{
	struct rlimit rl;
	uint64_t have, need_clients = (uint64_t)cfg->max_clients + SRV_ROOT_CLIENTS + SRV_FDS_RESERVE, cap;

	if (getrlimit(RLIMIT_NOFILE, &rl))
		return 0;
	if (geteuid() == 0 && rl.rlim_max < SRV_NOFILE_WANT) {
		struct rlimit more = { SRV_NOFILE_WANT, SRV_NOFILE_WANT };

		if (!setrlimit(RLIMIT_NOFILE, &more))
			rl = more;
	}
	rl.rlim_cur = rl.rlim_max;
	setrlimit(RLIMIT_NOFILE, &rl);
	getrlimit(RLIMIT_NOFILE, &rl);
	have = rl.rlim_cur;
	cap = have > need_clients ? (have - need_clients) / SRV_FDS_PER_QUEUE : 0;
	if (cap < SOFT_MAX_QUEUES)
		fprintf(stderr, "wdd: %llu descriptors allow %llu queues in all (engine: %u)\n",
			(unsigned long long)have, (unsigned long long)cap, SOFT_MAX_QUEUES);
	return cap < SOFT_MAX_QUEUES ? (uint32_t)cap : SOFT_MAX_QUEUES;
}

/* Shares are mappings of the daemon's: keep their total well below
 * vm.max_map_count, leaving room for rings, stream buffers and libraries. */
static uint32_t share_cap(void)
{
	unsigned long count = 65530;
	uint64_t reserve = 8192 + SOFT_MAX_QUEUES;
	FILE *f = fopen("/proc/sys/vm/max_map_count", "re");

	if (f) {
		if (fscanf(f, "%lu", &count) != 1)
			count = 65530;
		fclose(f);
	}
	return count > reserve ? (uint32_t)((count - reserve) / 2) : 0;
}

int srv_init(struct srv *s, const struct wdd_config *cfg)
{
	struct wd_ctx_opts co = { .size = sizeof(co), .soft_threads = cfg->threads,
				  .flags = WD_CTX_F_LOCAL_ONLY };
	int ret;

	memset(s, 0, sizeof(*s));
	s->cfg = *cfg;
	s->lfd = s->epfd = s->ackfd = -1;
	s->max_queues = queue_cap(cfg);
	s->max_shares = share_cap();
	ret = wd_ctx_new(&s->ctx, &co);
	if (ret)
		return ret;
	s->dev = wd_dev_by_name(s->ctx, "soft0");
	s->engine = s->dev->priv;
	return 0;
}

void srv_fini(struct srv *s)
{
	while (s->clients) {
		if (s->epfd >= 0)
			epoll_ctl(s->epfd, EPOLL_CTL_DEL, s->clients->fd, NULL);
		srv_client_free(s, s->clients);
	}
	/* the daemon is going: here it may wait for the engine threads */
	for (srv_dying_poll(s); s->dying; srv_dying_poll(s))
		usleep(1000);
	wd_ctx_free(s->ctx);
}

/* How long the loop may sleep: deferred UNSHAREs (fences, deadlines) are
 * looked at every millisecond, and detaches too when nothing notifies. */
static int poll_ms(const struct srv *s)
{
	if (s->npending > s->nclosing)
		return 1;
	if (s->ackfd < 0 && (s->npending || s->dying))
		return 1;
	return 500;
}

static int serve_loop(struct srv *s)
{
	struct epoll_event evs[32];
	struct srv_reply *rep = malloc(sizeof(*rep)); /* tens of KB: not on the stack */
	int n, i, ret = 0;

	if (!rep)
		return -ENOMEM;
	if (s->cfg.on_ready)
		s->cfg.on_ready(s->cfg.ready_arg);
	while (!*s->stop) {
		n = epoll_wait(s->epfd, evs, 32, poll_ms(s));
		if (n < 0 && errno != EINTR) {
			ret = -errno;
			break;
		}
		for (i = 0; i < n; i++) {
			struct srv_client *c = evs[i].data.ptr;
			eventfd_t v;

			if (!c)
				accept_client(s);
			else if (evs[i].data.ptr == &s->ackfd)
				eventfd_read(s->ackfd, &v); /* looked at below */
			else if (evs[i].events & (EPOLLHUP | EPOLLERR) && !(evs[i].events & EPOLLIN))
				client_drop(s, c);
			else if (serve_one(s, c, rep) < 0)
				client_drop(s, c);
		}
		if (s->npending)
			serve_pending(s, rep);
		if (s->dying)
			srv_dying_poll(s);
	}
	free(rep);
	return ret;
}

int wdd_serve(const struct wdd_config *cfg, volatile sig_atomic_t *stop)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = NULL };
	struct srv s;
	int ret;

	ret = srv_init(&s, cfg);
	if (ret)
		return ret;
	s.stop = stop;
	ret = listen_on(&s);
	if (!ret) {
		s.epfd = epoll_create1(EPOLL_CLOEXEC);
		if (s.epfd < 0 || epoll_ctl(s.epfd, EPOLL_CTL_ADD, s.lfd, &ev))
			ret = -errno;
	}
	if (!ret) {
		struct epoll_event ack = { .events = EPOLLIN, .data.ptr = &s.ackfd };

		s.ackfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (s.ackfd < 0 || epoll_ctl(s.epfd, EPOLL_CTL_ADD, s.ackfd, &ack))
			ret = -errno;
	}
	if (!ret)
		ret = serve_loop(&s);
	srv_fini(&s); /* the engine threads are gone: nothing writes ackfd */
	if (s.ackfd >= 0)
		close(s.ackfd);
	if (s.epfd >= 0)
		close(s.epfd);
	if (s.lfd >= 0 && cfg->listen_fd < 0) {
		close(s.lfd);
		unlink(cfg->socket_path);
	}
	return ret;
}
