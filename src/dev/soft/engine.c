/* SPDX-License-Identifier: MIT */
/*
 * Engine threads.  Each serves a list of queues round-robin, per round at
 * most SOFT_BUDGET requests or SOFT_BYTE_BUDGET source bytes of a queue
 * (at least one request), so a busy queue cannot starve the others: a small
 * request waits behind one large request of each other queue, not 32.
 * A pass also ends after SOFT_TIME_BUDGET_NS of engine time, so requests
 * that are cheap in bytes but long (no-op delays, inflating a small input
 * into a large one) cannot hold the thread either.
 * An idle thread spins for idle_us, then announces it sleeps (SQ_NEED_WAKEUP
 * on each of its queues) and blocks in epoll on its private eventfd and the
 * doorbells of its daemon queues, like io_uring's SQPOLL.
 *
 * In the daemon every queue has its own doorbell, a pipe whose write end
 * only that client holds: a client can wake the thread, never block it,
 * never read another client's wake-ups.  Nothing a client holds is shared
 * with the engine's own descriptors (rule: no blocking call on, and no
 * shared wake-up source through, a file description a client can touch).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "soft.h"

static int64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* cq_fd is O_NONBLOCK and its description is ours alone: an eventfd of
 * this process, or in the daemon the write end of a pipe whose read end
 * the client holds.  Full (EAGAIN): a wake-up is pending anyway. */
static void wake_user(struct soft_queue *sq)
{
	static const uint64_t one = 1;

	if (write(sq->cq_fd, &one, sizeof(one)) < 0)
		return;
}

int soft_quota_take(struct soft_quota *q, uint64_t n)
{
	uint64_t cur = __atomic_load_n(&q->used, __ATOMIC_RELAXED);

	do {
		if (n > q->limit || cur > q->limit - n)
			return -EDQUOT;
	} while (!__atomic_compare_exchange_n(&q->used, &cur, cur + n, 1, __ATOMIC_RELAXED,
					      __ATOMIC_RELAXED));
	return 0;
}

void soft_quota_give(struct soft_quota *q, uint64_t n)
{
	__atomic_fetch_sub(&q->used, n, __ATOMIC_RELAXED);
}

/* Declare the ring dead: the user sees -EIO, in-flight work it submitted is
 * cancelled by the library when it stops the queue. */
static void soft_break(struct soft_queue *sq, int err)
{
	struct wd_ring_ctl *ctl = sq->ring.ctl;

	sq->broken = 1;
	__atomic_store_n(&ctl->dev_error, err, __ATOMIC_RELAXED);
	wd_store_release(&ctl->dev_status, WD_DEV_BROKEN);
	wake_user(sq);
}

void soft_queue_stats(const struct soft_queue *sq, struct soft_stats *out)
{
	out->nreq = __atomic_load_n(&sq->eng.nreq, __ATOMIC_RELAXED) +
		    __atomic_load_n(&sq->inl.nreq, __ATOMIC_RELAXED);
	out->nerr = __atomic_load_n(&sq->eng.nerr, __ATOMIC_RELAXED) +
		    __atomic_load_n(&sq->inl.nerr, __ATOMIC_RELAXED);
	out->bytes = __atomic_load_n(&sq->eng.bytes, __ATOMIC_RELAXED) +
		     __atomic_load_n(&sq->inl.bytes, __ATOMIC_RELAXED);
	out->busy_ns = __atomic_load_n(&sq->eng.busy_ns, __ATOMIC_RELAXED) +
		       __atomic_load_n(&sq->inl.busy_ns, __ATOMIC_RELAXED);
	for (unsigned k = 0; k < SOFT_FB__COUNT; k++)
		out->fallback[k] = __atomic_load_n(&sq->eng.fallback[k], __ATOMIC_RELAXED) +
				   __atomic_load_n(&sq->inl.fallback[k], __ATOMIC_RELAXED);
}

void soft_queue_stats_public(const struct soft_queue *sq, struct wd_queue_stats *st)
{
	struct soft_stats t;

	soft_queue_stats(sq, &t);
	st->requests = t.nreq;
	st->errors = t.nerr;
	st->bytes = t.bytes;
	st->busy_ns = t.busy_ns;
	st->inline_requests = __atomic_load_n(&sq->inl.nreq, __ATOMIC_RELAXED);
	st->sync_ring_busy = t.fallback[SOFT_FB_SYNC_RING_BUSY];
	st->sync_ring_nomem = t.fallback[SOFT_FB_SYNC_RING_NOMEM];
	st->deflate_stored = t.fallback[SOFT_FB_DEFLATE_STORED];
}

static void post_cqe(struct soft_queue *sq, const wd_cqe *c, uint64_t *errs)
{
	struct wd_ring *r = &sq->ring;

	*errs += c->status != 0;
	memcpy(&r->cqes[sq->cq_tail & r->cq_mask], c, sizeof(*c));
	sq->cq_tail++;
	wd_store_release(&r->ctl->cq_tail, sq->cq_tail);
}

void soft_cq_put(struct soft_queue *sq, uint32_t idx, const wd_cqe *c)
{
	struct wd_ring *r = &sq->ring;

	memcpy(&r->cqes[idx & r->cq_mask], c, sizeof(*c));
	/* Dekker half: publish, then look whether the user sleeps. */
	wd_store_sc(&r->ctl->cq_tail, idx + 1);
	if (wd_load_sc(&r->ctl->cq_flags) & WD_CQ_WAITING)
		wake_user(sq);
}

/* A result written behind is done (its completion posted by the helper):
 * its request's error, if any, counts now. */
static void behind_done(struct soft_worker *w)
{
	struct soft_queue *hq;
	int status;

	if (soft_remote_write_done(&w->scratch, &hq, &status))
		soft_stats_add(&hq->eng, 0, status != 0, 0, 0);
}

/* Serve up to SOFT_BUDGET requests or SOFT_BYTE_BUDGET bytes of one queue,
 * fewer if the thread is asked to drop a queue meanwhile; returns how many. */
static unsigned soft_service(struct soft_queue *sq, struct soft_worker *w, uint32_t seen_gen)
{
	struct wd_ring *r = &sq->ring;
	struct wd_ring_ctl *ctl = r->ctl;
	struct soft_scratch *s = &w->scratch;
	uint32_t avail, used, n, i, since_clock = 0;
	uint64_t bytes = 0, errs = 0;
	int64_t t0, now;
	int held = 0;                   /* the pass's last completion is the helper's to post */

	if (sq->broken) {
		if (soft_remote_behind(s) == sq)
			behind_done(w);
		return 0;
	}
	if (sq->cipher && soft_cipher_sweep_due(sq)) {
		uint32_t free_ = SOFT_OWNER_FREE;

		/* an inline request holds the contexts: sweep at a later pass */
		if (__atomic_compare_exchange_n(&sq->owner, &free_, SOFT_OWNER_ENGINE, 0,
						__ATOMIC_ACQUIRE, __ATOMIC_RELAXED)) {
			soft_cipher_sweep(sq);
			__atomic_store_n(&sq->owner, SOFT_OWNER_FREE, __ATOMIC_RELEASE);
		}
	}
	avail = wd_load_acquire(&ctl->sq_tail) - sq->sq_head;
	/* a result of this queue still being written behind, and nothing
	 * to do meanwhile: wait for it (its error counts) */
	if (!avail && soft_remote_behind(s) == sq)
		behind_done(w);
	if (!avail)
		return 0;
	/* cq_tail counts a completion the helper is still to post */
	used = sq->cq_tail - wd_load_acquire(&ctl->cq_head);
	if (avail > r->sq_entries || used > r->cq_entries) {
		soft_break(sq, -EPROTO);
		return 0;
	}
	n = r->cq_entries - used;       /* never overwrite an unreaped completion */
	if (n > avail)
		n = avail;
	if (n > SOFT_BUDGET)
		n = SOFT_BUDGET;
	now = t0 = mono_ns();
	for (i = 0; i < n; i++) {
		/* A queue is being detached: let it go now, not after the pass. */
		if (i && (__atomic_load_n(&w->gen, __ATOMIC_ACQUIRE) != seen_gen ||
			  bytes >= SOFT_BYTE_BUDGET || now - t0 >= SOFT_TIME_BUDGET_NS))
			break;
		wd_sqe e;
		wd_cqe c = { 0 };

		/* Copy once: everything below looks only at the copy. */
		memcpy(&e, &r->sqes[sq->sq_head & r->sq_mask], sizeof(e));
		sq->sq_head++;
		wd_store_release(&ctl->sq_head, sq->sq_head);
		/* a client's memory is read ahead from the next request on
		 * (remote.c): a copy of it, a hint only */
		s->has_next = sq->remote_mem >= 0 && i + 1 < avail;
		if (s->has_next)
			memcpy(&s->next, &r->sqes[sq->sq_head & r->sq_mask], sizeof(e));
		c.tag = e.tag;
		c.status = soft_exec(sq, s, &e, &c);
		bytes += s->src_bytes;
		if (s->fallbacks)
			soft_stats_fallback(&sq->eng, s->fallbacks);
		/* the previous result was written back meanwhile, and its
		 * completion posted: this one comes after it */
		behind_done(w);
		held = s->wb_len != 0;
		if (held) {
			/* the helper writes the result, then posts c */
			soft_remote_write_post(sq, s, 1, s->wb_addr, s->wb_len, &c, sq->cq_tail);
			sq->cq_tail++;
			s->wb_len = 0;
		} else {
			post_cqe(sq, &c, &errs);
		}
		/* The clock (a vDSO read, ~25 ns: a tenth of a 64-byte cipher
		 * request) after every request whose time its bytes do not
		 * bound (no-op delays, compression, inflating into a large
		 * output) or that was large, else after every 8th. */
		if (++since_clock >= 8 || s->src_bytes >= (16u << 10) ||
		    e.op == WD_OP_NOP || e.op == WD_OP_COMPRESS || e.op == WD_OP_DECOMPRESS) {
			now = mono_ns();
			since_clock = 0;
		}
	}
	/* no read ahead of this queue goes on past its pass */
	if (sq->remote_mem >= 0)
		soft_remote_settle(s);
	if (since_clock)
		now = mono_ns(); /* busy time counts the whole pass */
	/* Dekker half: publish, then look whether the user sleeps; or the
	 * helper does, after the last completion, which is its to post. */
	if (!held) {
		wd_store_sc(&ctl->cq_tail, sq->cq_tail);
		if (wd_load_sc(&ctl->cq_flags) & WD_CQ_WAITING)
			wake_user(sq);
	}
	/* relaxed atomics: the daemon's stats read them from another thread */
	soft_stats_add(&sq->eng, i, errs, bytes, (uint64_t)(now - t0));
	return i;
}

static void refresh_list(struct soft_worker *w)
{
	pthread_mutex_lock(&w->lock);
	memcpy(w->local, w->list, w->n * sizeof(*w->list));
	w->nlocal = w->n;
	/* release: what the thread did to a queue it let go of is seen by
	 * whoever reads this (soft_worker_detach_done) */
	__atomic_store_n(&w->ack_gen, w->gen, __ATOMIC_RELEASE);
	pthread_cond_broadcast(&w->cond);
	if (w->notify_fd >= 0) { /* one write acknowledges every ticket so far */
		eventfd_write(w->notify_fd, 1);
		w->notify_fd = -1;
	}
	pthread_mutex_unlock(&w->lock);
}

static int has_work(struct soft_worker *w)
{
	unsigned i;

	for (i = 0; i < w->nlocal; i++) {
		struct soft_queue *sq = w->local[i];

		if (!sq->broken && wd_load_sc(&sq->ring.ctl->sq_tail) != sq->sq_head)
			return 1;
	}
	return 0;
}

static void set_need_wakeup(struct soft_worker *w, uint32_t v)
{
	unsigned i;

	for (i = 0; i < w->nlocal; i++)
		wd_store_sc(&w->local[i]->ring.ctl->sq_flags, v);
}

/*
 * Empty a wake-up source that epoll reported.  data.ptr names a queue of
 * this thread: it stays alive until the thread acknowledges a list change
 * (soft_worker_detach_start removes its doorbell from the set before that),
 * and the events are handled before the thread looks at its list again.
 */
static void drain_wakeup(struct soft_worker *w, struct soft_queue *sq)
{
	char buf[256];
	ssize_t n;

	if (!sq) {
		eventfd_t v;

		eventfd_read(w->efd, &v);
		return;
	}
	do
		n = read(sq->bell_fd, buf, sizeof(buf));
	while (n == (ssize_t)sizeof(buf));
	if (n == 0 && !sq->bell_eof) {
		/* the client closed its end: a level-triggered hang-up would
		 * wake us for ever; its ring is still served when we are awake */
		sq->bell_eof = 1;
		epoll_ctl(w->epfd, EPOLL_CTL_DEL, sq->bell_fd, NULL);
	}
}

/* Announce sleep, re-check (the other Dekker half), then block. */
static void idle_sleep(struct soft_worker *w, uint32_t seen_gen)
{
	struct epoll_event ev[32];
	int n, i;

	set_need_wakeup(w, WD_SQ_NEED_WAKEUP);
	if (!has_work(w) && __atomic_load_n(&w->gen, __ATOMIC_ACQUIRE) == seen_gen &&
	    !__atomic_load_n(&w->stop, __ATOMIC_ACQUIRE)) {
		n = epoll_wait(w->epfd, ev, 32, -1);
		for (i = 0; i < n; i++)
			drain_wakeup(w, ev[i].data.ptr);
	}
	set_need_wakeup(w, 0);
}

static void *worker_main(void *arg)
{
	struct soft_worker *w = arg;
	uint32_t seen_gen = ~0u;
	int64_t idle_ns = (int64_t)w->idle_us * 1000, last_work = 0;
	unsigned empty = 0, i, did;

	while (!__atomic_load_n(&w->stop, __ATOMIC_ACQUIRE)) {
		uint32_t gen = __atomic_load_n(&w->gen, __ATOMIC_ACQUIRE);

		if (gen != seen_gen) {
			/* a queue on its way out has its completions posted */
			behind_done(w);
			refresh_list(w);
			seen_gen = gen;
		}
		did = 0;
		for (i = 0; i < w->nlocal && __atomic_load_n(&w->gen, __ATOMIC_ACQUIRE) == seen_gen; i++)
			did += soft_service(w->local[i], w, seen_gen);
		if (did) {
			empty = 0;
			continue;
		}
		/* Start the idle clock on the first empty round and read it only
		 * every 64 rounds after that: spinning stays cheap. */
		if (empty++ == 0) {
			last_work = mono_ns();
		} else if (empty % 64 == 0 && mono_ns() - last_work >= idle_ns) {
			idle_sleep(w, seen_gen);
			empty = 0;
			continue;
		}
		wd_cpu_relax();
	}
	behind_done(w);
	return NULL;
}

int soft_worker_start(struct soft_worker *w, unsigned idle_us, unsigned max_queues)
{
	int ret;

	memset(w, 0, sizeof(*w));
	w->idle_us = idle_us;
	w->scratch.engine = 1;
	w->notify_fd = -1;
	w->list = calloc(max_queues, sizeof(*w->list));
	w->local = calloc(max_queues, sizeof(*w->local));
	w->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	w->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (!w->list || !w->local || w->efd < 0 || w->epfd < 0) {
		ret = w->efd < 0 || w->epfd < 0 ? -errno : -ENOMEM;
		goto err;
	}
	{
		struct epoll_event ev = { .events = EPOLLIN, .data.ptr = NULL };

		if (epoll_ctl(w->epfd, EPOLL_CTL_ADD, w->efd, &ev)) {
			ret = -errno;
			goto err;
		}
	}
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->cond, NULL);
	ret = pthread_create(&w->thread, NULL, worker_main, w);
	if (ret) {
		pthread_mutex_destroy(&w->lock);
		pthread_cond_destroy(&w->cond);
		ret = -ret;
		goto err;
	}
	return 0;
err:
	if (w->efd >= 0)
		close(w->efd);
	if (w->epfd >= 0)
		close(w->epfd);
	free(w->list);
	free(w->local);
	return ret;
}

void soft_worker_kick(struct soft_worker *w)
{
	eventfd_write(w->efd, 1);
}

void soft_worker_stop(struct soft_worker *w)
{
	__atomic_store_n(&w->stop, 1, __ATOMIC_RELEASE);
	soft_worker_kick(w);
	pthread_join(w->thread, NULL);
	soft_remote_stop(&w->scratch);
	soft_scratch_free(&w->scratch);
	close(w->efd);
	close(w->epfd);
	pthread_mutex_destroy(&w->lock);
	pthread_cond_destroy(&w->cond);
	free(w->list);
	free(w->local);
}

int soft_worker_attach(struct soft_worker *w, struct soft_queue *sq)
{
	/* A doorbell the thread does not sleep on would never wake it: the
	 * queue's requests would wait for ever once it sleeps.  Adding one
	 * fails only short of kernel memory (or past max_user_watches). */
	if (sq->bell_fd >= 0) {
		struct epoll_event ev = { .events = EPOLLIN, .data.ptr = sq };

		if (epoll_ctl(w->epfd, EPOLL_CTL_ADD, sq->bell_fd, &ev))
			return -errno;
	}
	pthread_mutex_lock(&w->lock);
	w->list[w->n++] = sq;   /* the device caps queues at max_queues */
	__atomic_store_n(&w->gen, w->gen + 1, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&w->lock);
	soft_worker_kick(w);
	return 0;
}

uint32_t soft_worker_detach_start(struct soft_worker *w, struct soft_queue *sq, int notify_fd)
{
	uint32_t target;
	unsigned i;

	/* before the thread's acknowledgement: no event naming sq after it */
	if (sq->bell_fd >= 0)
		epoll_ctl(w->epfd, EPOLL_CTL_DEL, sq->bell_fd, NULL);
	pthread_mutex_lock(&w->lock);
	for (i = 0; i < w->n; i++)
		if (w->list[i] == sq) {
			w->list[i] = w->list[--w->n];
			break;
		}
	target = w->gen + 1;
	__atomic_store_n(&w->gen, target, __ATOMIC_RELEASE);
	if (notify_fd >= 0)
		w->notify_fd = notify_fd; /* under lock: the acknowledgement comes after */
	pthread_mutex_unlock(&w->lock);
	soft_worker_kick(w);
	return target;
}

int soft_worker_detach_done(struct soft_worker *w, uint32_t ticket)
{
	return (int32_t)(__atomic_load_n(&w->ack_gen, __ATOMIC_ACQUIRE) - ticket) >= 0;
}

/* Sleep until the thread acknowledged the ticket (refresh_list signals). */
static void worker_wait(struct soft_worker *w, uint32_t ticket)
{
	pthread_mutex_lock(&w->lock);
	while (!soft_worker_detach_done(w, ticket))
		pthread_cond_wait(&w->cond, &w->lock);
	pthread_mutex_unlock(&w->lock);
}

/* ---- the engine as a whole ---- */

int soft_dev_create(unsigned threads, unsigned idle_us, struct soft_dev **out)
{
	struct soft_dev *sd;
	long cpus;
	int ret;

	if (!threads) {
		cpus = sysconf(_SC_NPROCESSORS_ONLN);
		threads = cpus > 0 ? (unsigned)cpus : 1;
		if (threads > 64)
			threads = 64;
	}
	sd = calloc(1, sizeof(*sd) + threads * sizeof(sd->workers[0]));
	if (!sd)
		return -ENOMEM;
	sd->load = calloc(threads, sizeof(*sd->load));
	if (!sd->load) {
		free(sd);
		return -ENOMEM;
	}
	pthread_mutex_init(&sd->lock, NULL);
	while (sd->nworkers < threads) {
		ret = soft_worker_start(&sd->workers[sd->nworkers], idle_us, SOFT_MAX_QUEUES);
		if (ret) {
			soft_dev_destroy(sd, 0);
			return ret;
		}
		sd->nworkers++;
	}
	*out = sd;
	return 0;
}

void soft_dev_destroy(struct soft_dev *sd, int in_child)
{
	unsigned i;

	for (i = 0; i < sd->nworkers; i++) {
		if (in_child) {
			/* the thread does not exist here: only memory to free */
			soft_scratch_free(&sd->workers[i].scratch);
			free(sd->workers[i].list);
			free(sd->workers[i].local);
		} else {
			soft_worker_stop(&sd->workers[i]);
		}
	}
	if (!in_child)
		pthread_mutex_destroy(&sd->lock);
	free(sd->load);
	free(sd);
}

static uint64_t next_queue_id;

struct soft_queue *soft_queue_create(void *ring, uint32_t depth, uint32_t op_mask,
				     struct wd_domain *dom, int cq_fd, int remote_mem)
{
	/* aligned for the owner word's cache line */
	struct soft_queue *sq = aligned_alloc(_Alignof(struct soft_queue), sizeof(*sq));

	if (!sq)
		return NULL;
	memset(sq, 0, sizeof(*sq));
	wd_ring_bind(&sq->ring, ring, depth, depth);
	/* read once, while nobody else can write the ring yet */
	sq->sq_head = sq->ring.ctl->sq_head;
	sq->cq_tail = sq->ring.ctl->cq_tail;
	sq->op_mask = op_mask;
	sq->dom = dom;
	sq->cq_fd = cq_fd;
	sq->bell_fd = -1;
	sq->max_delay_ns = SOFT_NOP_MAX_DELAY_NS;
	sq->max_len = SOFT_MAX_LEN;
	sq->remote_mem = remote_mem;
	sq->id = __atomic_add_fetch(&next_queue_id, 1, __ATOMIC_RELAXED);
	if ((op_mask & (1u << WD_OP_ENCRYPT)) && soft_cipher_init(sq)) {
		free(sq);
		return NULL;
	}
	return sq;
}

int soft_queue_attach(struct soft_dev *sd, struct soft_queue *sq)
{
	unsigned i, best = 0;
	int ret;

	pthread_mutex_lock(&sd->lock);
	for (i = 1; i < sd->nworkers; i++)
		if (sd->load[i] < sd->load[best])
			best = i;
	sd->load[best]++;
	pthread_mutex_unlock(&sd->lock);
	sq->worker = &sd->workers[best];
	ret = soft_worker_attach(sq->worker, sq);
	if (ret) {
		sq->worker = NULL;
		pthread_mutex_lock(&sd->lock);
		sd->load[best]--;
		pthread_mutex_unlock(&sd->lock);
	}
	return ret;
}

uint32_t soft_queue_detach_start(struct soft_dev *sd, struct soft_queue *sq, int notify_fd)
{
	(void)sd;
	return sq->worker ? soft_worker_detach_start(sq->worker, sq, notify_fd) : 0;
}

int soft_queue_detach_done(struct soft_dev *sd, struct soft_queue *sq, uint32_t ticket,
			   uint32_t *sq_head, uint32_t *cq_tail)
{
	if (sq->worker) {
		if (!soft_worker_detach_done(sq->worker, ticket))
			return 0;
		/* the thread served it until now: its load counted till here */
		pthread_mutex_lock(&sd->lock);
		sd->load[sq->worker - sd->workers]--;
		pthread_mutex_unlock(&sd->lock);
		sq->worker = NULL;
	}
	*sq_head = sq->sq_head;
	*cq_tail = sq->cq_tail;
	return 1;
}

void soft_queue_detach(struct soft_dev *sd, struct soft_queue *sq, uint32_t *sq_head,
		       uint32_t *cq_tail)
{
	uint32_t ticket;

	if (!sq->worker)
		return;
	ticket = soft_worker_detach_start(sq->worker, sq, -1);
	worker_wait(sq->worker, ticket);
	soft_queue_detach_done(sd, sq, ticket, sq_head, cq_tail);
}

void soft_queue_destroy(struct soft_queue *sq)
{
	if (!sq)
		return;
	soft_streams_free(sq);
	soft_cipher_free(sq);
	free(sq);
}

void soft_queue_kick(struct soft_queue *sq)
{
	if (sq->worker)
		soft_worker_kick(sq->worker);
}
