/*
 * A raw wdd protocol client for the hostile-client tests: it speaks the
 * wire format by hand (src/daemon/proto.h), so it can send what the library
 * never would - any type, any length, any descriptors, any seq - and it
 * drives queue rings directly.  Every receive has a deadline: a daemon that
 * stops answering is a failure, never a hung test.
 */
#ifndef T_WDD_RAW_H
#define T_WDD_RAW_H

#ifndef _GNU_SOURCE
#error "define _GNU_SOURCE before the first include (memfd_create, struct ucred)"
#endif

#include <fcntl.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include "t_wdd.h"
#include "ring/ring.h"

#define T_RAW_TMO_MS 10000

struct t_raw {
	int fd;
	uint64_t seq;
};

/* A queue opened by hand: its descriptors as the daemon handed them. */
struct t_rawq {
	uint32_t id, depth;
	int ring_fd, db_fd, cq_fd;      /* reply fds [0], [1], [2] */
	void *mem;                      /* the ring mapping, or NULL */
	size_t size;
	struct wd_ring ring;
	uint32_t sq_tail, cq_head;      /* our own copies */
};

/* The payload size the protocol gives each request type (0 for unknown). */
static inline uint32_t t_raw_size(int type)
{
	switch (type) {
	case WDD_HELLO: return sizeof(struct wdd_hello_req);
	case WDD_QUEUE_OPEN: return sizeof(struct wdd_queue_open_req);
	case WDD_QUEUE_CLOSE: return sizeof(struct wdd_queue_close_req);
	case WDD_DOMAIN_FREE:
	case WDD_PIN_LIMIT: return sizeof(struct wdd_domain_req);
	case WDD_SHARE: return sizeof(struct wdd_share_req);
	case WDD_UNSHARE: return sizeof(struct wdd_unshare_req);
	case WDD_DIRTY_START:
	case WDD_DIRTY_STOP:
	case WDD_DIRTY_READ: return sizeof(struct wdd_dirty_req);
	case WDD_CIPHER_SESSION: return sizeof(struct wdd_cipher_req);
	case WDD_QUEUE_STATS: return sizeof(struct wdd_queue_stats_req);
	default: return 0; /* DOMAIN_NEW, STATS, unknown types */
	}
}

/* Connect with SO_PASSCRED like the library; returns 0 or -errno. */
static inline int t_raw_connect(struct t_raw *r, const char *path)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int one = 1;

	r->seq = 0;
	r->fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (r->fd < 0)
		return -errno;
	setsockopt(r->fd, SOL_SOCKET, SO_PASSCRED, &one, sizeof(one));
	if (strlen(path) >= sizeof(a.sun_path))
		return -ENAMETOOLONG;
	memcpy(a.sun_path, path, strlen(path) + 1);
	if (connect(r->fd, (struct sockaddr *)&a, sizeof(a))) {
		int err = -errno;

		close(r->fd);
		r->fd = -1;
		return err;
	}
	return 0;
}

static inline void t_raw_close(struct t_raw *r)
{
	if (r->fd >= 0)
		close(r->fd);
	r->fd = -1;
}

/* Send one message exactly as given: h.nfds says nfds_claimed, while nfds
 * descriptors really ride with it.  Returns 0 or -errno. */
static inline int t_raw_send_ex(struct t_raw *r, uint16_t type, uint64_t seq, const void *p,
				uint32_t len, const int *fds, int nfds, int nfds_claimed)
{
	char cbuf[CMSG_SPACE(16 * sizeof(int))] = { 0 };
	struct wdd_hdr h = { .magic = WDD_MAGIC, .type = type, .len = len, .seq = seq,
			     .nfds = (uint16_t)nfds_claimed };
	struct iovec iov[2] = { { &h, sizeof(h) }, { (void *)p, len } };
	struct msghdr m = { .msg_iov = iov, .msg_iovlen = len ? 2 : 1 };

	if (nfds > 0)
		wdd_put_fds(&m, cbuf, fds, nfds);
	return sendmsg(r->fd, &m, MSG_NOSIGNAL) < 0 ? -errno : 0;
}

static inline int t_raw_send(struct t_raw *r, uint16_t type, const void *p, uint32_t len,
			     const int *fds, int nfds)
{
	return t_raw_send_ex(r, type, ++r->seq, p, len, fds, nfds, nfds);
}

/* Receive one reply (payload into rep, up to cap; descriptors into rfds, up
 * to 4, *nrfds of them).  Returns the payload bytes, -ETIMEDOUT after
 * tmo_ms, -ECONNRESET when the daemon hung up, or -EPROTO. */
static inline ssize_t t_raw_recv(struct t_raw *r, struct wdd_hdr *h, void *rep, size_t cap,
				 int *rfds, int *nrfds, int tmo_ms)
{
	char cbuf[CMSG_SPACE(8 * sizeof(int)) + CMSG_SPACE(sizeof(struct ucred))], junk[64];
	struct iovec iov[2] = { { h, sizeof(*h) }, { rep ? rep : junk, rep ? cap : sizeof(junk) } };
	struct msghdr m = { .msg_iov = iov, .msg_iovlen = 2, .msg_control = cbuf,
			    .msg_controllen = sizeof(cbuf) };
	struct pollfd pfd = { .fd = r->fd, .events = POLLIN };
	int got = 0, tmp[8], *out = rfds ? rfds : tmp;
	struct cmsghdr *c;
	ssize_t n;

	if (nrfds)
		*nrfds = 0;
	if (poll(&pfd, 1, tmo_ms) == 0)
		return -ETIMEDOUT;
	n = recvmsg(r->fd, &m, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
	if (n < 0)
		return -errno;
	for (c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c))
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
			wdd_take_fds(c, out, &got, rfds ? 4 : 0);
	if (nrfds)
		*nrfds = got;
	if (n == 0)
		return -ECONNRESET;
	if ((size_t)n < sizeof(*h) || h->magic != WDD_MAGIC)
		return -EPROTO;
	return n - (ssize_t)sizeof(*h);
}

/* One request and its reply; the reply must echo type and seq.  Returns the
 * reply's status (or a transport -errno: -ETIMEDOUT, -ECONNRESET). */
static inline int t_raw_xfer(struct t_raw *r, uint16_t type, const void *p, uint32_t len,
			     const int *fds, int nfds, void *rep, size_t cap, int *rfds, int *nrfds)
{
	struct wdd_hdr h;
	ssize_t n;
	int ret = t_raw_send(r, type, p, len, fds, nfds);

	if (ret)
		return ret;
	n = t_raw_recv(r, &h, rep, cap, rfds, nrfds, T_RAW_TMO_MS);
	if (n < 0)
		return (int)n;
	if (h.type != type || h.seq != r->seq)
		T_FAIL("reply type %u seq %llu to type %u seq %llu", h.type,
		       (unsigned long long)h.seq, type, (unsigned long long)r->seq);
	return h.status;
}

static inline int t_raw_hello(struct t_raw *r)
{
	struct wdd_hello_req req = { .version = WDD_VERSION };
	struct wdd_hello_rep *rep = malloc(sizeof(*rep));
	int ret;

	T_ASSERT(rep);
	ret = t_raw_xfer(r, WDD_HELLO, &req, sizeof(req), NULL, 0, rep, sizeof(*rep), NULL, NULL);
	free(rep);
	return ret;
}

/* Connect and say hello, or fail the test. */
static inline void t_raw_open(struct t_raw *r, const char *path)
{
	T_OK(t_raw_connect(r, path));
	T_OK(t_raw_hello(r));
}

static inline int t_raw_domain_new(struct t_raw *r, uint32_t *id)
{
	struct wdd_domain_rep rep = { 0 };
	int ret = t_raw_xfer(r, WDD_DOMAIN_NEW, NULL, 0, NULL, 0, &rep, sizeof(rep), NULL, NULL);

	*id = rep.domain;
	return ret;
}

static inline int t_raw_domain_free(struct t_raw *r, uint32_t id)
{
	struct wdd_domain_req req = { .domain = id };

	return t_raw_xfer(r, WDD_DOMAIN_FREE, &req, sizeof(req), NULL, 0, NULL, 0, NULL, NULL);
}

/* Open a queue; SVA (domain 0) passes our /proc/self/mem.  Maps the ring
 * when map is set.  Returns the status. */
static inline int t_raw_queue_open(struct t_raw *r, const char *alg, uint32_t depth,
				   uint32_t domain, int map, struct t_rawq *q)
{
	struct wdd_queue_open_req req = { .depth = depth, .domain = domain,
					  .flags = domain ? WD_QUEUE_F_EXPLICIT : 0 };
	struct wdd_queue_open_rep rep = { 0 };
	int mem = -1, fds[4], n = 0, ret;

	memset(q, 0, sizeof(*q));
	q->ring_fd = q->db_fd = q->cq_fd = -1;
	snprintf(req.alg, sizeof(req.alg), "%s", alg);
	if (!domain) {
		mem = open("/proc/self/mem", O_RDWR | O_CLOEXEC);
		T_ASSERT(mem >= 0);
	}
	ret = t_raw_xfer(r, WDD_QUEUE_OPEN, &req, sizeof(req), &mem, mem >= 0, &rep, sizeof(rep),
			 fds, &n);
	if (mem >= 0)
		close(mem);
	if (ret) {
		while (n)
			close(fds[--n]);
		return ret;
	}
	T_EQ(n, 3);
	q->id = rep.queue;
	q->depth = rep.depth;
	q->size = rep.ring_size;
	q->ring_fd = fds[0];
	q->db_fd = fds[1];
	q->cq_fd = fds[2];
	if (map) {
		q->mem = mmap(NULL, q->size, PROT_READ | PROT_WRITE, MAP_SHARED, q->ring_fd, 0);
		T_ASSERT(q->mem != MAP_FAILED);
		wd_ring_bind(&q->ring, q->mem, q->depth, q->depth);
		q->sq_tail = wd_load_acquire(&q->ring.ctl->sq_tail);
		q->cq_head = wd_load_acquire(&q->ring.ctl->cq_head);
	}
	return 0;
}

/* Our side of a queue goes (the daemon's stays until QUEUE_CLOSE). */
static inline void t_rawq_drop(struct t_rawq *q)
{
	if (q->mem)
		munmap(q->mem, q->size);
	q->mem = NULL;
	if (q->ring_fd >= 0)
		close(q->ring_fd);
	if (q->db_fd >= 0)
		close(q->db_fd);
	if (q->cq_fd >= 0)
		close(q->cq_fd);
	q->ring_fd = q->db_fd = q->cq_fd = -1;
}

static inline int t_raw_queue_close(struct t_raw *r, uint32_t id)
{
	struct wdd_queue_close_req req = { .queue = id };
	struct wdd_queue_close_rep rep;

	return t_raw_xfer(r, WDD_QUEUE_CLOSE, &req, sizeof(req), NULL, 0, &rep, sizeof(rep), NULL,
			  NULL);
}

static inline int t_raw_share(struct t_raw *r, uint32_t dom, uint32_t flags, uint64_t addr,
			      uint64_t len, uint64_t offset, int fd, uint64_t *iova)
{
	struct wdd_share_req req = { .domain = dom, .flags = flags, .addr = addr, .len = len,
				     .offset = offset };
	struct wdd_share_rep rep = { 0 };
	int ret = t_raw_xfer(r, WDD_SHARE, &req, sizeof(req), &fd, fd >= 0, &rep, sizeof(rep),
			     NULL, NULL);

	if (iova)
		*iova = rep.iova;
	return ret;
}

static inline int t_raw_unshare(struct t_raw *r, uint32_t dom, uint64_t iova, int tmo_ms)
{
	struct wdd_unshare_req req = { .domain = dom, .iova = iova, .timeout_ms = tmo_ms };
	struct wdd_unshare_rep rep;

	return t_raw_xfer(r, WDD_UNSHARE, &req, sizeof(req), NULL, 0, &rep, sizeof(rep), NULL,
			  NULL);
}

/* A memfd of len bytes, sealed against shrinking as the daemon wants. */
static inline int t_memfd(size_t len, unsigned seals)
{
	int fd = memfd_create("t-hostile", MFD_CLOEXEC | MFD_ALLOW_SEALING);

	T_ASSERT(fd >= 0);
	T_OK(ftruncate(fd, (off_t)len));
	if (seals)
		T_OK(fcntl(fd, F_ADD_SEALS, seals));
	return fd;
}

/* ---- the ring, by hand ---- */

/* Write n SQEs (as many as fit), publish sq_tail, ring the doorbell when the
 * engine sleeps.  Returns how many went in. */
static inline unsigned t_rawq_submit(struct t_rawq *q, const struct wd_req *reqs, unsigned n)
{
	struct wd_ring_ctl *ctl = q->ring.ctl;
	unsigned i;

	for (i = 0; i < n && q->sq_tail - wd_load_acquire(&ctl->sq_head) < q->depth &&
		    q->sq_tail - q->cq_head < q->depth;
	     i++)
		memcpy(&q->ring.sqes[q->sq_tail++ & q->ring.sq_mask], &reqs[i], sizeof(reqs[i]));
	wd_store_sc(&ctl->sq_tail, q->sq_tail);
	if (wd_load_sc(&ctl->sq_flags) & WD_SQ_NEED_WAKEUP) {
		uint64_t one = 1;

		if (write(q->db_fd, &one, sizeof(one)) < 0)
			(void)0; /* a full doorbell still wakes */
	}
	return i;
}

/* Reap up to max completions, waiting up to tmo_ms for the first. */
static inline int t_rawq_reap(struct t_rawq *q, struct wd_cpl *out, unsigned max, int tmo_ms)
{
	struct wd_ring_ctl *ctl = q->ring.ctl;
	double end = t_now() + tmo_ms / 1000.0;
	uint32_t tail;
	unsigned n = 0;

	while ((tail = wd_load_acquire(&ctl->cq_tail)) == q->cq_head) {
		if (wd_load_acquire(&ctl->dev_status))
			return -EIO;
		if (t_now() > end)
			return -ETIMEDOUT;
		usleep(50);
	}
	while (q->cq_head != tail && n < max)
		memcpy(&out[n++], &q->ring.cqes[q->cq_head++ & q->ring.cq_mask], sizeof(*out));
	wd_store_release(&ctl->cq_head, q->cq_head);
	return (int)n;
}

#endif
