/*
 * A fake wdd for the client's side of the protocol: it answers HELLO and
 * QUEUE_OPEN as the daemon does, or lies as the test asks (struct
 * t_fake_opts), in a process of its own, under another uid if asked, and
 * reports what it saw, one byte each, on a pipe:
 *   c  a connection accepted        h  HELLO
 *   o  QUEUE_OPEN                   m  ... carrying a descriptor (SVA: the
 *   x  the connection ended                client's /proc/self/mem)
 * Every other request is answered 0 with an empty payload but DIRTY_READ
 * (t_fake_opts.dirty_count).  t_fake_events() returns what it saw until
 * then.
 */
#ifndef T_WDD_FAKE_H
#define T_WDD_FAKE_H

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>
#include "t_helpers.h"
#include "daemon/proto.h"
#include "ring/ring.h"

/* The test's own message type: the fake reports 'S' and hangs up, so all
 * it saw of earlier connections is on the pipe by then. */
#define T_FAKE_SYNC 0x7e57

struct t_fake_opts {
	int32_t open_status;    /* QUEUE_OPEN's status */
	int64_t ring_len;       /* the ring memfd's size; 0: the ring's, -1: empty */
	int unsealed;           /* the ring memfd without F_SEAL_SHRINK */
	int ring_file;          /* the ring a file on disk, not a memfd */
	int truncate_ms;        /* shrink the ring to nothing that long after the reply */
	int blocking;           /* pipes without O_NONBLOCK, the doorbell full, the
				 * ring asking for a wake-up at every send */
	int wrong_fd;           /* 1: the doorbell an eventfd, 2: the completion
				 * fd one, 3: each pipe's other end */
	uint64_t throughput;    /* HELLO's info.throughput_mbps */
	const char *algs;       /* HELLO's list (NUL-separated) ... */
	size_t algs_len;        /* ... of that many bytes; none: "nop\0copy\0" */
	int64_t dirty_count;    /* DIRTY_READ's count */
};

struct t_fake {
	pid_t pid;
	int events;             /* what the fake saw (read end) */
	char sock[128];
	struct t_fake_opts o;
};

static inline void t_fake_ev(int report, char e)
{
	if (write(report, &e, 1) != 1)
		_exit(3);
}

/* The ring as wdd makes it: a memfd of ring_size, sealed, formatted. */
static inline int t_fake_ring(const struct t_fake_opts *o, uint32_t depth, uint64_t size)
{
	uint64_t len = o->ring_len > 0 ? (uint64_t)o->ring_len : o->ring_len < 0 ? 0 : size;
	int fd = o->ring_file ? open("/tmp", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600)
			      : memfd_create("fake-ring", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	struct wd_ring r;
	void *mem;

	if (fd < 0 || ftruncate(fd, (off_t)len))
		_exit(4);
	if (len >= size) {
		mem = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		if (mem == MAP_FAILED)
			_exit(4);
		wd_ring_bind(&r, mem, depth, depth);
		wd_ring_format(&r, 0);
		if (o->blocking)
			wd_store_sc(&r.ctl->sq_flags, WD_SQ_NEED_WAKEUP); /* kick every time */
	}
	if (!o->ring_file && !o->unsealed &&
	    fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL))
		_exit(4);
	return fd;
}

/* The wake-up pipes; blocking ones with the doorbell already full, so the
 * client's first kick would wait for a reader that never reads. */
static inline void t_fake_pipes(const struct t_fake_opts *o, int bell[2], int cq[2])
{
	static const char b[4096];

	if (pipe2(bell, O_CLOEXEC | (o->blocking ? 0 : O_NONBLOCK)) ||
	    pipe2(cq, O_CLOEXEC | (o->blocking ? 0 : O_NONBLOCK)))
		_exit(5);
	if (o->blocking) {
		fcntl(bell[1], F_SETFL, O_NONBLOCK); /* one file description with the client's */
		while (write(bell[1], b, sizeof(b)) > 0)
			;
		fcntl(bell[1], F_SETFL, 0);
	}
}

static inline uint32_t t_fake_open(const struct t_fake *f, const void *p, void *out, int *fds,
				   int *nfds)
{
	const struct wdd_queue_open_req *req = p;
	struct wdd_queue_open_rep *rep = out;
	uint32_t depth = req->depth ? req->depth : WD_QUEUE_DEPTH_DEFAULT;
	uint64_t size = wd_ring_size(depth, depth);
	int bell[2], cq[2];

	rep->queue = 7;
	rep->depth = depth;
	rep->ring_size = size;
	t_fake_pipes(&f->o, bell, cq);
	fds[0] = t_fake_ring(&f->o, depth, size);
	fds[1] = f->o.wrong_fd == 1 ? eventfd(0, 0) : f->o.wrong_fd == 3 ? bell[0] : bell[1];
	fds[2] = f->o.wrong_fd == 2 ? eventfd(0, 0) : f->o.wrong_fd == 3 ? cq[1] : cq[0];
	*nfds = 3;
	/* the fake keeps its own ends (and leaks them: it lives for one test) */
	if (f->o.truncate_ms && !fork()) {
		usleep((useconds_t)f->o.truncate_ms * 1000);
		if (ftruncate(fds[0], 0))
			_exit(6);
		_exit(0);
	}
	return sizeof(*rep);
}

static inline uint32_t t_fake_hello(const struct t_fake *f, void *out)
{
	struct wdd_hello_rep *rep = out;

	rep->version = WDD_VERSION;
	rep->max_queues = 64;
	rep->daemon_pid = (uint32_t)getpid();
	rep->info.flags = WD_DEV_F_SVA | WD_DEV_F_EXPLICIT;
	rep->info.max_depth = 4096;
	rep->info.max_queues = 64;
	rep->info.throughput_mbps = f->o.throughput;
	if (f->o.algs)
		memcpy(rep->algs, f->o.algs, f->o.algs_len);
	else
		memcpy(rep->algs, "nop\0copy\0", 10);
	return sizeof(*rep);
}

/* One request; 0 when the client hung up, -1 when it was ours, to sync. */
static inline int t_fake_serve_one(const struct t_fake *f, int c, int report)
{
	static union {
		struct wdd_hello_rep hello;
		struct wdd_queue_open_rep open;
		struct wdd_dirty_rep dirty;
	} rep;
	char buf[1024], cbuf[CMSG_SPACE(4 * sizeof(int))], cb[CMSG_SPACE(3 * sizeof(int))];
	struct wdd_hdr *h = (void *)buf;
	struct iovec iov = { buf, sizeof(buf) }, io[2] = { { h, sizeof(*h) }, { &rep, 0 } };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
			    .msg_controllen = sizeof(cbuf) };
	struct msghdr o = { .msg_iov = io, .msg_iovlen = 2 };
	struct cmsghdr *cm;
	int fds[3], nfds = 0, in = 0;
	ssize_t n = recvmsg(c, &m, MSG_CMSG_CLOEXEC);

	if (n < (ssize_t)sizeof(*h))
		return 0;
	for (cm = CMSG_FIRSTHDR(&m); cm; cm = CMSG_NXTHDR(&m, cm))
		in += cm->cmsg_type == SCM_RIGHTS;
	memset(&rep, 0, sizeof(rep));
	h->status = 0;
	if (h->type == T_FAKE_SYNC) {
		t_fake_ev(report, 'S');
		return -1;
	} else if (h->type == WDD_HELLO) {
		t_fake_ev(report, 'h');
		io[1].iov_len = t_fake_hello(f, &rep);
	} else if (h->type == WDD_QUEUE_OPEN) {
		t_fake_ev(report, 'o');
		if (in)
			t_fake_ev(report, 'm');
		h->status = f->o.open_status;
		if (!h->status)
			io[1].iov_len = t_fake_open(f, buf + sizeof(*h), &rep, fds, &nfds);
	} else if (h->type == WDD_DIRTY_READ) {
		rep.dirty.count = f->o.dirty_count;
		io[1].iov_len = offsetof(struct wdd_dirty_rep, bitmap) + 8;
	}
	h->len = (uint32_t)io[1].iov_len;
	h->nfds = (uint16_t)nfds;
	if (nfds)
		wdd_put_fds(&o, cb, fds, nfds);
	return sendmsg(c, &o, MSG_NOSIGNAL) > 0;
}

/* The fake's process: under uid (a listener's credentials are taken at
 * listen()), one connection after the other. */
static inline void t_fake_main(const struct t_fake *f, uid_t uid, int report)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int l, c, r;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (uid != geteuid() && (setresgid(uid, uid, uid) || setresuid(uid, uid, uid)))
		_exit(2);
	strcpy(a.sun_path, f->sock);
	l = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	/* open to every user, as wdd -m 0666 */
	if (l < 0 || bind(l, (struct sockaddr *)&a, sizeof(a)) || chmod(f->sock, 0666) ||
	    listen(l, 8))
		_exit(2);
	t_fake_ev(report, 'R');
	for (;;) {
		c = accept4(l, NULL, NULL, SOCK_CLOEXEC);
		if (c < 0)
			_exit(2);
		t_fake_ev(report, 'c');
		while ((r = t_fake_serve_one(f, c, report)) > 0)
			;
		close(c);
		if (!r)
			t_fake_ev(report, 'x');
	}
}

/* Start a fake on sock (its directory writable by uid). */
static inline void t_fake_start(struct t_fake *f, const char *sock, uid_t uid)
{
	int p[2];
	char e = 0;

	snprintf(f->sock, sizeof(f->sock), "%s", sock);
	unlink(sock);
	T_ASSERT(!pipe2(p, O_CLOEXEC));
	f->pid = fork();
	T_ASSERT(f->pid >= 0);
	if (!f->pid) {
		close(p[0]);
		t_fake_main(f, uid, p[1]);
	}
	close(p[1]);
	f->events = p[0];
	T_EQ(read(f->events, &e, 1), 1);
	T_EQ(e, 'R');
}

/* What the fake saw so far, as a string of event bytes: a connection of
 * our own asks it to sync, which it does once it is done with the others
 * (all of whose clients must have closed them). */
static inline const char *t_fake_events(struct t_fake *f)
{
	static char seen[256];
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	struct wdd_hdr h = { .magic = WDD_MAGIC, .type = T_FAKE_SYNC };
	struct pollfd pfd = { .fd = f->events, .events = POLLIN };
	size_t n = 0;
	int s = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);

	strcpy(a.sun_path, f->sock);
	T_ASSERT(s >= 0 && !connect(s, (struct sockaddr *)&a, sizeof(a)));
	T_EQ(send(s, &h, sizeof(h), 0), sizeof(h));
	for (;;) {
		char e;

		T_ASSERT(poll(&pfd, 1, 10000) == 1);
		T_EQ(read(f->events, &e, 1), 1);
		if (e == 'S')
			break;
		if (n < sizeof(seen) - 1)
			seen[n++] = e;
	}
	close(s);
	/* the last connection was ours */
	T_ASSERT(n > 0 && seen[n - 1] == 'c');
	seen[n - 1] = 0;
	return seen;
}

static inline void t_fake_stop(struct t_fake *f)
{
	if (f->pid > 0) {
		kill(f->pid, SIGKILL);
		waitpid(f->pid, NULL, 0);
		f->pid = 0;
	}
	close(f->events);
	unlink(f->sock);
}

#endif
