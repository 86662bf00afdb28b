/* A hostile device cannot make the fallback do anything worse than complete
 * requests correctly on the CPU.  A test device (SVA: requests carry our
 * own pointers) registered through the driver interface misbehaves:
 *   rewrite  rewrites every request in its ring (a copy of a secret onto a
 *            victim buffer, bigger, other tags) and dies: the built-in
 *            engine runs the requests as they were sent (its private
 *            copies), the victim is untouched;
 *   forge    completes some requests, then one nobody sent;
 *   dup      completes a request twice;
 *   index    posts an impossible completion index;
 *   refuse   refuses CRC32C (-EOPNOTSUPP) but lives: those run on the
 *            built-in engine, counted as refused, the copies stay its own;
 *   eio      fails every third request (-EIO) but lives: run again;
 *   taken    takes everything and dies: requests that write over their
 *            own input (overlapping copies) fail with -EIO rather than run
 *            twice, the others are run again;
 *   unstopped takes everything and dies saying it could not be stopped
 *            (WD_DEV_UNSTOPPED: it may still write what it holds): what it
 *            took fails with -EIO, lest it overwrite a result; the queue
 *            goes on.
 * Every request completes exactly once, right; what the built-in engine ran
 * says so and is counted. */
#include <pthread.h>
#include <sys/eventfd.h>
#include "core/internal.h"
#include "t_failover.h"

enum mode { M_REWRITE, M_FORGE, M_DUP, M_INDEX, M_REFUSE, M_EIO, M_TAKEN, M_UNSTOPPED,
	    M__COUNT };
static const char *const names[M__COUNT] = { "rewrite", "forge", "dup", "index", "refuse",
					     "eio", "taken", "unstopped" };

enum { N = 32, LEN = 8192, VICTIM = 1 << 20 };

static uint8_t secret[VICTIM], victim[VICTIM];

struct evq {
	pthread_t th;
	struct wd_ring ring;
	uint32_t head, cq_tail, stop, served;
	enum mode mode;
	int cq_fd;
};

static enum mode cur_mode;

static void post(struct evq *t, uint64_t tag, int status, uint64_t result)
{
	struct wd_ring *r = &t->ring;
	wd_cqe *c = &r->cqes[t->cq_tail++ & r->cq_mask];

	memset(c, 0, sizeof(*c));
	c->tag = tag;
	c->status = status;
	c->result = result;
	wd_store_sc(&r->ctl->cq_tail, t->cq_tail);
	if (wd_load_sc(&r->ctl->cq_flags) & WD_CQ_WAITING)
		eventfd_write(t->cq_fd, 1);
}

static void die(struct evq *t)
{
	__atomic_store_n(&t->ring.ctl->dev_error, -EIO, __ATOMIC_RELAXED);
	wd_store_release(&t->ring.ctl->dev_status,
			 WD_DEV_BROKEN | (t->mode == M_UNSTOPPED ? WD_DEV_UNSTOPPED : 0));
	eventfd_write(t->cq_fd, 1);
}

/* An honest device's work on a request as the ring has it. */
static void serve(struct evq *t, const wd_sqe *e, int status)
{
	uint64_t result = 0;

	if (!status && e->op == WD_OP_COPY) {
		memmove((void *)(uintptr_t)e->dst, (void *)(uintptr_t)e->src, e->len);
		result = e->len;
	} else if (!status && e->op == WD_OP_CRC32C) {
		result = t_crc32c((const uint8_t *)(uintptr_t)e->src, e->len);
	}
	post(t, e->tag, status, result);
	t->served++;
}

/* Misbehave once there are n requests to misbehave with; 1: done for good. */
static int act(struct evq *t, uint32_t avail)
{
	struct wd_ring *r = &t->ring;
	wd_sqe e;
	uint32_t i;

	switch (t->mode) {
	case M_REWRITE:
		if (avail < N)
			return 0;
		for (i = 0; i < avail; i++) {
			wd_sqe *s = &r->sqes[(t->head + i) & r->sq_mask];

			s->op = WD_OP_COPY;
			s->src = (uintptr_t)secret;
			s->dst = (uintptr_t)victim;
			s->len = VICTIM;
			s->tag = 0xbad0000 + i;
		}
		t->head += avail / 2; /* says it took half */
		wd_store_release(&r->ctl->sq_head, t->head);
		die(t);
		return 1;
	case M_INDEX:
		if (avail < N)
			return 0;
		/* (and wakes the user: a device that goes silent is never
		 * noticed by a program asleep on its fd, with or without this) */
		wd_store_release(&r->ctl->cq_tail, t->cq_tail + 1000);
		eventfd_write(t->cq_fd, 1);
		return 1;
	case M_TAKEN:
	case M_UNSTOPPED:
		if (avail < N)
			return 0;
		t->head += avail;
		wd_store_release(&r->ctl->sq_head, t->head);
		die(t);
		return 1;
	default:
		break;
	}
	memcpy(&e, &r->sqes[t->head++ & r->sq_mask], sizeof(e));
	wd_store_release(&r->ctl->sq_head, t->head);
	if (t->mode == M_FORGE && t->served == N / 2) {
		post(t, e.tag ^ 0x5a5a00000000ull, 0, 0);
		return 1;
	}
	if (t->mode == M_DUP && t->served == N / 2) {
		serve(t, &e, 0);
		post(t, e.tag, 0, 0);
		return 1;
	}
	serve(t, &e, t->mode == M_REFUSE && e.op == WD_OP_CRC32C ? -EOPNOTSUPP
		     : t->mode == M_EIO && t->served % 3 == 2 ? -EIO : 0);
	return 0;
}

static void *ev_main(void *arg)
{
	struct evq *t = arg;

	while (!__atomic_load_n(&t->stop, __ATOMIC_ACQUIRE)) {
		uint32_t avail = wd_load_acquire(&t->ring.ctl->sq_tail) - t->head;

		if (!avail || !act(t, avail)) {
			wd_cpu_relax();
			continue;
		}
		break; /* it did its worst: silence */
	}
	return NULL;
}

static int ev_open(struct wd_queue *q)
{
	struct evq *t = calloc(1, sizeof(*t));
	int ret = t ? wd__queue_ring_local(q) : -ENOMEM;

	if (ret) {
		free(t);
		return ret;
	}
	wd_ring_bind(&t->ring, q->mem, q->depth, q->depth);
	t->mode = cur_mode;
	t->cq_fd = q->cq_fd;
	q->drv = t;
	return 0;
}

static void ev_close(struct wd_queue *q, int in_child)
{
	wd__queue_ring_local_free(q, in_child);
	free(q->drv);
}

static int ev_start(struct wd_queue *q)
{
	struct evq *t = q->drv;

	t->head = t->ring.ctl->sq_head;
	t->cq_tail = t->ring.ctl->cq_tail;
	return -pthread_create(&t->th, NULL, ev_main, t);
}

static void ev_stop(struct wd_queue *q, uint32_t *sq_head, uint32_t *cq_tail)
{
	struct evq *t = q->drv;

	if (__atomic_exchange_n(&t->stop, 1, __ATOMIC_ACQ_REL))
		return;
	pthread_join(t->th, NULL);
	*sq_head = t->head;
	*cq_tail = t->cq_tail;
}

static void ev_kick(struct wd_queue *q)
{
}

static const struct wd_driver_ops ev_ops = {
	.name = "evil", .queue_open = ev_open, .queue_close = ev_close,
	.queue_start = ev_start, .queue_stop = ev_stop, .kick = ev_kick,
};
static const char *const ev_algs[] = { "mover", "nop", NULL };

static struct wd_queue *ev_queue(struct wd_ctx *ctx, enum mode m)
{
	struct wd_queue_opts o = { .size = sizeof(o), .depth = 64, .device = "evil0" };
	struct wd_queue *q = NULL;

	cur_mode = m;
	T_OK(wd_queue_new(&q, ctx, "mover", &o));
	return q;
}

/* Requests that write over their own input, taken by a device that dies:
 * -EIO, not run twice; the others run again. */
static void taken(struct wd_ctx *ctx)
{
	struct wd_queue *q = ev_queue(ctx, M_TAKEN);
	struct wd_queue_stats st = { .size = sizeof(st) };
	static uint8_t buf[N][2 * LEN], want[N][2 * LEN];
	struct wd_req r;
	struct wd_cpl c[N];
	int i, got = 0, n, eio = 0;

	for (i = 0; i < N; i++) {
		memset(buf[i], i, sizeof(buf[i]));
		for (n = 0; n < LEN; n++)
			buf[i][n] = (uint8_t)(n * 7 + i);
		memcpy(want[i], buf[i], sizeof(want[i]));
		/* odd: overlapping (in place), even: apart */
		wd_prep_copy(&r, buf[i] + (i % 2 ? LEN / 2 : LEN), buf[i], LEN);
		memmove(want[i] + (i % 2 ? LEN / 2 : LEN), want[i], LEN);
		r.tag = (uint64_t)i;
		T_EQ(wd_send(q, &r, 1), 1);
	}
	while (got < N) {
		n = wd_wait(q, c, N, 5000);
		T_ASSERT(n > 0);
		for (i = 0; i < n; i++, got++) {
			int k = (int)c[i].tag;

			if (k % 2) {
				T_EQ(c[i].status, -EIO);
				eio++;
			} else {
				T_EQ(c[i].status, 0);
				T_ASSERT(c[i].flags & WD_CPL_F_SOFT);
				T_ASSERT(!memcmp(buf[k], want[k], sizeof(want[k])));
			}
		}
	}
	T_OK(wd_queue_stats(q, &st));
	T_EQ(st.lost_in_failure, N / 2);
	T_EQ(st.soft_after_failure, N / 2);
	fprintf(stderr, "%-8s: %d in place failed (-EIO), %d run again\n", names[M_TAKEN], eio,
		N - eio);
	wd_queue_free(q);
}

/* Everything taken by a device that could not be stopped: -EIO, counted;
 * the queue goes on, on the built-in engine. */
static void unstopped(struct wd_ctx *ctx, uint64_t *seed)
{
	struct wd_queue_stats st;
	struct wd_cpl c[N];
	struct t_fo t;
	int i, n, got = 0;

	t_fo_init(&t, ev_queue(ctx, M_UNSTOPPED), T_FO_MOVER, NULL, N, LEN, seed);
	t_fo_send(&t, 0, N);
	while (got < N) {
		n = wd_wait(t.q, c, N, 5000);
		T_ASSERT(n > 0);
		for (i = 0; i < n; i++, got++)
			T_EQ(c[i].status, -EIO);
	}
	st = t_fo_stats(&t);
	T_EQ(st.lost_in_failure, N);
	T_EQ(st.device_failures, 1);
	t_fo_round(&t);
	t_fo_send(&t, 0, N);
	t_fo_reap(&t, N, T_FO_WAIT);
	T_EQ(t.soft, N);
	fprintf(stderr, "%-8s: %d it held failed (-EIO), then all on the built-in engine\n",
		names[M_UNSTOPPED], N);
	t_fo_free(&t);
}

static void run(struct wd_ctx *ctx, enum mode m, uint64_t *seed)
{
	struct wd_queue_stats st;
	struct t_fo t;
	int alive = m == M_REFUSE || m == M_EIO;

	t_fo_init(&t, ev_queue(ctx, m), T_FO_MOVER, NULL, N, LEN, seed);
	memset(victim, 0, sizeof(victim));
	t_fo_send(&t, 0, N);
	t_fo_reap(&t, N, m % 2 ? T_FO_EVENT_FD : T_FO_WAIT);
	T_ASSERT(!victim[0] && !memcmp(victim, victim + 1, VICTIM - 1)); /* untouched */
	st = t_fo_stats(&t);
	T_EQ(st.device_failures, !alive);
	T_EQ(st.lost_in_failure, 0);
	if (m == M_REFUSE) {
		T_EQ(st.soft_after_refusal, N / 2);
		T_EQ(st.soft_after_failure, 0);
	}
	if (m == M_EIO)
		T_ASSERT(st.soft_after_failure > 0 && !st.soft_after_refusal);
	if (m == M_REWRITE)
		T_EQ(t.soft, N);
	fprintf(stderr, "%-8s: %2u of %u by the built-in engine (refused %llu), all right\n",
		names[m], t.soft, N, (unsigned long long)st.soft_after_refusal);
	/* the queue goes on: on the built-in engine if the device failed */
	t_fo_round(&t);
	t_fo_send(&t, 0, N);
	t_fo_reap(&t, N, T_FO_POLL);
	if (!alive)
		T_EQ(t.soft, N);
	t_fo_free(&t);
}

int main(void)
{
	struct wd_ctx *ctx = t_ctx(1, 0);
	struct wd_dev_info info = { .size = sizeof(info), .flags = WD_DEV_F_SVA, .max_queues = 8,
				    .max_depth = 64 };
	uint64_t seed = t_seed();
	int m;

	t_fill_random(secret, sizeof(secret), &seed);
	strcpy(info.name, "evil0");
	T_OK(wd__dev_add(ctx, &ev_ops, &info, ev_algs, NULL));
	for (m = 0; m < M_TAKEN; m++)
		run(ctx, (enum mode)m, &seed);
	taken(ctx);
	unstopped(ctx, &seed);
	wd_ctx_free(ctx);
	return 0;
}
