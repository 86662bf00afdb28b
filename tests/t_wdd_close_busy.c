#define _GNU_SOURCE
/*
 * Closing a queue, or hanging up, while an engine thread is inside a long
 * request of it never holds the daemon's one control thread (found by a
 * review: a 60 MiB level-12 deflate followed by QUEUE_CLOSE kept every
 * other client's HELLO waiting 3.7 s).  A client submits a long request
 * (sized by timing a piece first: about LONG_S seconds, within the daemon's
 * request limit), then closes its queue (close) or its connection
 * (hangup, an explicit queue with a domain and a share); meanwhile another
 * client connects, says hello, opens a queue and runs a no-op.  What is
 * checked is the order, not a time: that client is done while the long
 * request's completion is still unposted and, for close, its reply unsent.
 * The closing queue stays counted (WDD_STATS) until it is freed; then
 * nothing is held, the long request's result is right, and the daemon's
 * descriptors are back.  At the end the daemon is stopped with such a close
 * and such a hang-up both in flight: it waits for them and exits 0 (no
 * leak under ASan).  Two engine threads: the other client's queue goes to
 * the idle one (a closing queue counts on its thread until let go).
 * argv[2], when given, runs only close or hangup (then shutdown).
 */
#include "t_wdd_raw.h"
#include "t_zlib.h"

#define PIECE (4u << 20)
#define LONG_S 2.5
#define MAX_REQ (64u << 20)     /* the daemon's default --max-request */
#define PAGE 4096u

static unsigned char *src, *dst;
static size_t len, cap;

/* Text from 13 letters: slow for libdeflate's top level. */
static void fill(unsigned char *p, size_t n)
{
	uint64_t s = 88172645463325252ull;
	size_t i;

	for (i = 0; i < n; i++) {
		s ^= s << 13;
		s ^= s >> 7;
		s ^= s << 17;
		p[i] = (unsigned char)"etaoin shrdlu"[s % 13];
	}
}

static void submit_deflate(struct t_rawq *q, uint64_t d, uint64_t s, size_t n, size_t dn)
{
	struct wd_req r;

	wd_prep_compress(&r, (void *)(uintptr_t)d, (uint32_t)dn, (const void *)(uintptr_t)s,
			 (uint32_t)n, 12, WD_COMP_RAW);
	r.tag = 7;
	T_EQ(t_rawq_submit(q, &r, 1), 1);
}

/* Until the engine took the request from the ring (it is running it). */
static void wait_taken(struct t_rawq *q)
{
	double end = t_now() + 30;

	while (wd_load_acquire(&q->ring.ctl->sq_head) == q->sq_tail - 1) {
		T_ASSERT(t_now() < end);
		usleep(200);
	}
}

/* Size the long request: a level-12 piece timed through the daemon. */
static void size_long(const char *sock)
{
	struct t_raw r;
	struct t_rawq q;
	struct wd_cpl c;
	double t0, rate;

	t_raw_open(&r, sock);
	T_OK(t_raw_queue_open(&r, "deflate", 4, 0, 1, &q));
	t0 = t_now();
	submit_deflate(&q, (uintptr_t)dst, (uintptr_t)src, PIECE, PIECE);
	T_EQ(t_rawq_reap(&q, &c, 1, 60000), 1);
	T_EQ(c.status, 0);
	rate = PIECE / (t_now() - t0);
	T_EQ(t_raw_queue_close(&r, q.id), 0);
	t_rawq_drop(&q);
	t_raw_close(&r);
	len = (size_t)(rate * LONG_S) & ~(size_t)(PAGE - 1);
	/* its output space (ample for this text) within the limit too */
	for (; wd_comp_bound(len) > MAX_REQ; len -= PAGE)
		;
	if (len < PIECE)
		len = PIECE;
	cap = wd_comp_bound(len);
	printf("level 12: %.1f MB/s; the long request: %zu MiB, about %.1f s%s\n", rate / 1e6,
	       len >> 20, len / rate, len / rate < 1 ? " (the limit caps it)" : "");
}

static void stats(struct t_raw *r, struct wdd_stats_rep *st)
{
	T_EQ(t_raw_xfer(r, WDD_STATS, NULL, 0, NULL, 0, st, sizeof(*st), NULL, NULL), 0);
}

/* Another client, from its connect to its no-op's completion; returns its
 * connection (queue closed) for a look at the daemon's statistics. */
static double other_client(const char *sock, struct t_raw *r)
{
	struct t_rawq q;
	struct wd_req req;
	struct wd_cpl c;
	double t0 = t_now();

	T_OK(t_raw_connect(r, sock));
	T_EQ(t_raw_hello(r), 0);
	T_EQ(t_raw_queue_open(r, "nop", 4, 0, 1, &q), 0);
	wd_prep_nop(&req, 0);
	req.tag = 9;
	T_EQ(t_rawq_submit(&q, &req, 1), 1);
	/* long enough that, stalled, it still finishes (and fails below) */
	T_EQ(t_rawq_reap(&q, &c, 1, 120000), 1);
	T_EQ(c.status, 0);
	t0 = t_now() - t0;
	T_EQ(t_raw_queue_close(r, q.id), 0);
	t_rawq_drop(&q);
	return t0;
}

/* The long request's completion: posted, right, and zlib restores it. */
static void check_long(struct t_rawq *q, const unsigned char *out)
{
	struct wd_cpl c;
	unsigned char *back = malloc(len);
	size_t blen = 0;

	T_ASSERT(back);
	T_EQ(t_rawq_reap(q, &c, 1, 120000), 1);
	T_EQ(c.status, 0);
	T_EQ(c.tag, 7);
	T_EQ(t_zinflate(WD_COMP_RAW, out, c.result, back, len, &blen), Z_STREAM_END);
	T_EQ(blen, len);
	T_ASSERT(!memcmp(back, src, len));
	free(back);
}

/* Nothing held but the looking connection; the descriptors (fds, when
 * given: as many as when idle before) are back.  Returns the count. */
static int check_idle(struct t_wdd *w, int fds, const char *what)
{
	struct wdd_stats_rep *st = malloc(sizeof(*st));
	double end = t_now() + 60;
	struct t_raw r;
	int now;

	T_ASSERT(st);
	t_raw_open(&r, w->sock);
	for (;;) {
		stats(&r, st);
		now = t_open_fds(w->pid) - 1; /* without the looking connection */
		if (st->clients == 1 && st->queues == 0 && st->pinned == 0 &&
		    (fds < 0 || now == fds))
			break;
		if (t_now() > end)
			T_FAIL("%s: the daemon still holds %u clients, %u queues, %llu bytes, "
			       "%d descriptors (%d before)", what, st->clients, st->queues,
			       (unsigned long long)st->pinned, now, fds);
		usleep(10000);
	}
	t_raw_close(&r);
	free(st);
	return now;
}

/* The order: the other client was served while the engine thread was
 * still inside the long request.  Stalled behind it, its hello came after
 * the teardown, which comes after the long request's completion. */
static void check_order(struct t_rawq *q, double took, const char *what)
{
	uint32_t tail = wd_load_acquire(&q->ring.ctl->cq_tail);

	printf("%s: another client's connect, hello, queue and no-op: %.4f s, the long "
	       "request %s\n", what, took, tail ? "done before them" : "still running");
	if (tail)
		T_FAIL("%s: the control thread waited for the engine thread's long request", what);
}

static int idle_fds;

static void s_close(struct t_wdd *w)
{
	struct wdd_stats_rep *st = malloc(sizeof(*st));
	struct wdd_queue_close_req req;
	struct wdd_queue_close_rep rep;
	struct pollfd pfd;
	struct t_raw a, b;
	struct t_rawq q;
	struct wdd_hdr h;
	double took;
	int ready;

	T_ASSERT(st);
	t_raw_open(&a, w->sock);
	T_OK(t_raw_queue_open(&a, "deflate", 4, 0, 1, &q));
	submit_deflate(&q, (uintptr_t)dst, (uintptr_t)src, len, cap);
	wait_taken(&q);
	req = (struct wdd_queue_close_req){ .queue = q.id };
	T_OK(t_raw_send(&a, WDD_QUEUE_CLOSE, &req, sizeof(req), NULL, 0));
	usleep(20000); /* the daemon has the close */
	took = other_client(w->sock, &b);
	/* the closing queue is held, and counted, until it is freed */
	stats(&b, st);
	pfd = (struct pollfd){ .fd = a.fd, .events = POLLIN };
	ready = poll(&pfd, 1, 0);
	/* the long request still running: all of the above came before it */
	check_order(&q, took, "close");
	T_EQ(ready, 0); /* no reply yet */
	T_EQ(st->clients, 2);
	T_EQ(st->queues, 1);
	T_EQ(st->nq, 0); /* rows: open queues only */
	t_raw_close(&b);
	/* the reply says how far the engine got: the long request, done */
	T_EQ(t_raw_recv(&a, &h, &rep, sizeof(rep), NULL, NULL, 120000), sizeof(rep));
	T_EQ(h.type, WDD_QUEUE_CLOSE);
	T_EQ(h.seq, a.seq);
	T_EQ(h.status, 0);
	T_EQ(rep.sq_head, 1);
	T_EQ(rep.cq_tail, 1);
	check_long(&q, dst);
	t_rawq_drop(&q);
	t_raw_close(&a);
	check_idle(w, idle_fds, "close");
	free(st);
}

static void s_hangup(struct t_wdd *w)
{
	struct wdd_stats_rep *st = malloc(sizeof(*st));
	size_t span = (len + cap + PAGE - 1) & ~(size_t)(PAGE - 1);
	int mfd = t_memfd(span, F_SEAL_SHRINK);
	unsigned char *m = mmap(NULL, span, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);
	struct t_raw a, b;
	struct t_rawq q;
	uint64_t iova;
	uint32_t dom;
	double took;

	T_ASSERT(st && m != MAP_FAILED);
	memcpy(m, src, len);
	t_raw_open(&a, w->sock);
	T_OK(t_raw_domain_new(&a, &dom));
	T_OK(t_raw_share(&a, dom, 0, (uintptr_t)m, span, 0, mfd, &iova));
	T_OK(t_raw_queue_open(&a, "deflate", 4, dom, 1, &q));
	submit_deflate(&q, iova + len, iova, len, cap);
	wait_taken(&q);
	t_raw_close(&a); /* gone, queue, domain and share still held */
	usleep(20000);  /* the daemon saw the hang-up */
	took = other_client(w->sock, &b);
	stats(&b, st);
	check_order(&q, took, "hangup");
	T_EQ(st->clients, 2); /* the one gone, still counted */
	T_EQ(st->queues, 1);
	T_EQ(st->pinned, span);
	t_raw_close(&b);
	/* the daemon's mapping of the share outlived the client: the result */
	check_long(&q, m + len);
	t_rawq_drop(&q);
	munmap(m, span);
	close(mfd);
	check_idle(w, idle_fds, "hangup");
	free(st);
}

/* SIGTERM with a close deferred and a client dying: it waits for both. */
static void s_shutdown(struct t_wdd *w)
{
	struct wdd_queue_close_req req;
	struct t_raw a, b;
	struct t_rawq qa, qb;
	double t0;

	t_raw_open(&a, w->sock);
	t_raw_open(&b, w->sock);
	T_OK(t_raw_queue_open(&a, "deflate", 4, 0, 1, &qa));
	T_OK(t_raw_queue_open(&b, "deflate", 4, 0, 1, &qb));
	submit_deflate(&qa, (uintptr_t)dst, (uintptr_t)src, len, cap);
	wait_taken(&qa);
	submit_deflate(&qb, (uintptr_t)dst, (uintptr_t)src, len, cap);
	wait_taken(&qb);
	req = (struct wdd_queue_close_req){ .queue = qa.id };
	T_OK(t_raw_send(&a, WDD_QUEUE_CLOSE, &req, sizeof(req), NULL, 0));
	t_raw_close(&b);
	usleep(20000);
	t0 = t_now();
	t_wdd_cleanup(w); /* exit status 0 */
	printf("shutdown: the daemon exited 0 after %.2f s, with the long requests %s\n",
	       t_now() - t0, wd_load_acquire(&qa.ring.ctl->cq_tail) &&
	       wd_load_acquire(&qb.ring.ctl->cq_tail) ? "done" : "not done");
	t_rawq_drop(&qa);
	t_rawq_drop(&qb);
	t_raw_close(&a);
}

int main(int argc, char **argv)
{
	struct t_wdd w = { 0 };

	if (argc < 2)
		return T_SKIP;
	setvbuf(stdout, NULL, _IONBF, 0);
	alarm(240); /* a hung daemon fails the test */
	src = malloc(MAX_REQ);
	dst = malloc(MAX_REQ);
	T_ASSERT(src && dst);
	fill(src, MAX_REQ);
	t_wdd_start(&w, argv[1], NULL);
	size_long(w.sock);
	idle_fds = check_idle(&w, -1, "start");
	if (argc < 3 || !strcmp(argv[2], "close"))
		s_close(&w);
	if (argc < 3 || !strcmp(argv[2], "hangup"))
		s_hangup(&w);
	s_shutdown(&w);
	free(src);
	free(dst);
	return 0;
}
