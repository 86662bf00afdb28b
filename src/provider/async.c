/* SPDX-License-Identifier: MIT */
/*
 * Requests of OpenSSL ASYNC_JOBs: a cipher call made inside a job submits
 * its request (wd_send), exposes the queue's descriptor through the job's
 * ASYNC_WAIT_CTX and pauses the job (ASYNC_pause_job); the program's loop
 * (openssl speed -async_jobs, an async-mode server) polls the descriptor
 * and resumes the job, which takes its completion back and returns.  One
 * thread thus keeps many requests in flight, all on the queue its thread
 * opened.
 *
 * The jobs of a thread share that queue, so whichever of them resumes
 * first reaps every completion there: each is kept by its tag (a slot of
 * the queue's ring state) until its own job comes for it.  The descriptor
 * a job waits on must then stay readable while completions wait for their
 * owners, although the queue's own event fd was reset when it was armed
 * again: jobs wait on an epoll descriptor of the provider's watching both
 * the queue's event fd and an eventfd of the provider's (ev_fd), readable
 * exactly while kept completions wait.  Two rules hold whenever a queue's
 * lock is dropped (ring_settle): the queue is armed while the device has
 * requests (a completion then signals), and ev_fd is readable while
 * completions wait for their owners.  Any job may be resumed when it has
 * nothing yet (the descriptor is shared, or the program resumes jobs at
 * will): it looks, and pauses again.
 *
 * The descriptor stays in the wait context after the request (changing it
 * per request would make an epoll-driven program re-register it each
 * time); the wait context holds a reference to the queue, dropped by its
 * cleanup when the program frees it, or when a later request of the job
 * names another queue.  On an explicit-only device each slot has a bounce
 * area of its own (req.c).  A queue full of requests (WDP_QUEUE_DEPTH: fewer
 * than the sessions a queue holds, each context having one request at a
 * time) sends the piece to the default provider in the job's thread,
 * counted as fallback:busy: that thread has the time, and nothing would
 * wake a job that paused for room.  A job resumed in a fork child never
 * touches the parent's queue (-ECHILD: the caller redoes the piece).
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <openssl/async.h>

#include "wdp.h"

/* A job resumed this often without its completion (a program that resumes
 * jobs without polling, or ASYNC_block_pause() in force, which makes
 * pausing return at once) sleeps on the descriptor a little before
 * pausing again, rather than spin. */
#define WAKES_BEFORE_SLEEP 64
#define SLEEP_MS 1

void wdp_ring_init(struct wdp_ring_state *rs)
{
	memset(rs, 0, sizeof(*rs));
	rs->ev_fd = rs->wait_fd = -1;
}

void wdp_ring_fini(struct wdp_ring_state *rs)
{
	if (rs->wait_fd >= 0)
		close(rs->wait_fd);
	if (rs->ev_fd >= 0)
		close(rs->ev_fd);
	rs->ev_fd = rs->wait_fd = -1;
}

/* With the lock held: the descriptors a job waits on, made on first use. */
static int ring_fds(struct wdp_queue *wq)
{
	struct wdp_ring_state *rs = &wq->rs;
	struct epoll_event ev = { .events = EPOLLIN };
	int qfd = wd_queue_event_fd(wq->q);

	if (rs->wait_fd >= 0)
		return 0;
	rs->ev_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	rs->wait_fd = epoll_create1(EPOLL_CLOEXEC);
	if (qfd < 0 || rs->ev_fd < 0 || rs->wait_fd < 0 ||
	    epoll_ctl(rs->wait_fd, EPOLL_CTL_ADD, qfd, &ev) ||
	    epoll_ctl(rs->wait_fd, EPOLL_CTL_ADD, rs->ev_fd, &ev)) {
		wdp_ring_fini(rs);
		return -EIO;
	}
	return 0;
}

/* Every request the device has completes with err: it never will. */
static void ring_fail(struct wdp_ring_state *rs, int err)
{
	unsigned i;

	for (i = 0; i < WDP_QUEUE_DEPTH; i++)
		if (rs->slot[i].state == WDP_SLOT_SENT) {
			rs->slot[i].state = WDP_SLOT_DONE;
			rs->slot[i].status = err;
			rs->done++;
		}
	rs->sent = 0;
}

/* With the lock held: every completion there, into its slot. */
static void ring_reap(struct wdp_queue *wq)
{
	struct wdp_ring_state *rs = &wq->rs;
	struct wd_cpl c[16];
	int n, i;

	while (rs->sent && (n = wd_recv(wq->q, c, WDP_ARRAY_SIZE(c))) != 0) {
		if (n < 0) {
			ring_fail(rs, n); /* a dead ring: nothing more will come */
			return;
		}
		rs->armed = 0; /* reaping disarms */
		for (i = 0; i < n; i++) {
			struct wdp_slot *s = &rs->slot[c[i].tag % WDP_QUEUE_DEPTH];

			if (c[i].tag >= WDP_QUEUE_DEPTH || s->state != WDP_SLOT_SENT)
				continue; /* not ours: the library never does that */
			s->state = WDP_SLOT_DONE;
			s->status = c[i].status;
			rs->sent--;
			rs->done++;
		}
	}
}

static void kick(struct wdp_ring_state *rs, int want)
{
	uint64_t v = 1;

	if (rs->ev_fd < 0)
		return; /* no job ever waited here: nothing kept for one */
	if (want && !rs->kicked)
		rs->kicked = write(rs->ev_fd, &v, sizeof(v)) == sizeof(v);
	else if (!want && rs->kicked)
		rs->kicked = !(read(rs->ev_fd, &v, sizeof(v)) == sizeof(v) || errno == EAGAIN);
}

/* With the lock held, before dropping it: the two rules (top of file). */
static void ring_settle(struct wdp_queue *wq)
{
	struct wdp_ring_state *rs = &wq->rs;
	int n;

	while (rs->sent && !rs->armed) {
		n = wd_queue_arm(wq->q);
		if (n < 0)
			ring_fail(rs, n);
		else if (!n)
			rs->armed = 1;
		else
			ring_reap(wq);
	}
	kick(rs, rs->done > 0);
}

/* With the lock held: a free slot, or -1 (the queue is full). */
static int slot_get(struct wdp_ring_state *rs)
{
	unsigned i, k;

	for (i = 0; i < WDP_QUEUE_DEPTH; i++) {
		k = (rs->next + i) % WDP_QUEUE_DEPTH;
		if (rs->slot[k].state == WDP_SLOT_FREE) {
			rs->next = k + 1;
			return (int)k;
		}
	}
	return -1;
}

/* With the lock held: send r in free slot k; 0 or a negative errno. */
static int slot_send(struct wdp_queue *wq, struct wd_req *r, int k)
{
	struct wdp_ring_state *rs = &wq->rs;
	int ret;

	r->tag = (uint64_t)k;
	ret = wd_send(wq->q, r, 1);
	if (ret < 0)
		return ret;
	rs->slot[k].state = WDP_SLOT_SENT;
	rs->sent++;
	return 0;
}

/* With the lock held: reap; is slot k's completion back? */
static int slot_back(struct wdp_queue *wq, unsigned k)
{
	ring_reap(wq);
	return wq->rs.slot[k].state == WDP_SLOT_DONE;
}

/* With the lock held: slot k, back, is free again; its status. */
static int slot_free(struct wdp_ring_state *rs, unsigned k)
{
	rs->slot[k].state = WDP_SLOT_FREE;
	rs->done--;
	return rs->slot[k].status;
}

/*
 * Sleep a little on the queue's own event fd (lock not held; the queue is
 * armed): a completion wakes it.  Not on wait_fd: completions kept for
 * jobs keep that one readable, and those jobs may be this thread's, which
 * cannot run meanwhile.  The timeout covers a completion another thread
 * reaped for the caller.
 */
void wdp_ring_nap(struct wdp_queue *wq)
{
	struct pollfd p = { .fd = wd_queue_event_fd(wq->q), .events = POLLIN };

	if (poll(&p, 1, SLEEP_MS) < 0) {
		/* EINTR: a signal; the caller looks again */
	}
}

/* ---- the wait context ---- */

void wdp_queue_put(struct wdp_queue *wq)
{
	if (__atomic_sub_fetch(&wq->refs, 1, __ATOMIC_ACQ_REL) == 0)
		free(wq); /* its resources went when the pool let it go */
}

static void wait_cleanup(ASYNC_WAIT_CTX *w, const void *key, OSSL_ASYNC_FD fd, void *custom)
{
	(void)w;
	(void)key;
	(void)fd; /* the queue's: closed with it */
	wdp_queue_put(custom);
}

/* The job's wait context names wq's descriptor under the instance's key
 * (one descriptor per instance: openssl speed wants no more than one). */
static int wait_fd_set(struct wdp_prov *prov, ASYNC_WAIT_CTX *w, struct wdp_queue *wq)
{
	OSSL_ASYNC_FD fd;
	void *custom;

	if (ASYNC_WAIT_CTX_get_fd(w, prov, &fd, &custom)) {
		if (custom == wq && fd == wq->rs.wait_fd)
			return 0;
		/* clearing does not call the cleanup: its reference goes here */
		ASYNC_WAIT_CTX_clear_fd(w, prov);
		wdp_queue_put(custom);
	}
	__atomic_add_fetch(&wq->refs, 1, __ATOMIC_RELAXED);
	if (!ASYNC_WAIT_CTX_set_wait_fd(w, prov, wq->rs.wait_fd, wq, wait_cleanup)) {
		wdp_queue_put(wq);
		return -ENOMEM;
	}
	return 0;
}

/* ---- a job's request ---- */

static void note_inflight(struct wdp_prov *prov, unsigned sent)
{
	unsigned *max = &prov->pool.async_max, cur = __atomic_load_n(max, __ATOMIC_RELAXED);

	while (sent > cur &&
	       !__atomic_compare_exchange_n(max, &cur, sent, 1, __ATOMIC_RELAXED, __ATOMIC_RELAXED))
		;
}

static int forked(const struct wdp_prov *prov, const struct wdp_pend *pend)
{
	return pend->epoch != __atomic_load_n(&prov->pool.epoch, __ATOMIC_ACQUIRE);
}

/* Pause until the pending request's completion is back; its status. */
static int job_wait(struct wdp_prov *prov, struct wdp_pend *pend, struct wdp_counts *n)
{
	struct wdp_queue *wq = pend->wq;
	unsigned wakes = 0;
	int status, done, paused;

	for (;;) {
		pthread_mutex_lock(&wq->lock);
		done = slot_back(wq, pend->slot);
		if (done) {
			/* a bounce area's results go out before the slot is free */
			wdp_req_slot_done(wq, pend->op, pend->slot, wq->rs.slot[pend->slot].status);
			status = slot_free(&wq->rs, pend->slot);
		}
		ring_settle(wq);
		pthread_mutex_unlock(&wq->lock);
		if (done)
			break;
		if (wakes++) /* the first pause is the one expected */
			wdp_bump(&n->async_wakes, 1);
		if (wakes > WAKES_BEFORE_SLEEP)
			wdp_ring_nap(wq);
		paused = ASYNC_pause_job();
		if (forked(prov, pend)) {
			pend->wq = NULL; /* the parent's queue: never ours to touch */
			return -ECHILD;
		}
		if (!paused)
			wdp_ring_nap(wq); /* could not switch: wait here instead of spinning */
	}
	pend->wq = NULL;
	wdp_bump(&n->async, 1);
	return status;
}

/* With the lock held: op's request sent in a free slot; its index, or a
 * negative errno (-EBUSY: none free). */
static int op_send(struct wdp_queue *wq, const struct wdp_sess *ws, const struct wdp_op *op)
{
	int k = slot_get(&wq->rs), ret;
	struct wd_req r;

	if (k < 0)
		return -EBUSY;
	ret = wdp_req_slot_prep(wq, ws, op, (unsigned)k, &r);
	if (!ret)
		ret = slot_send(wq, &r, k);
	return ret ? ret : k;
}

int wdp_async_run(struct wdp_prov *prov, struct wdp_sess *ws, const struct wdp_op *op,
		  struct wdp_pend *pend, struct wdp_counts *n, int *status)
{
	struct wdp_queue *wq = ws->wq;
	ASYNC_WAIT_CTX *w;
	ASYNC_JOB *job;
	int k;

	if (prov->cfg.async == WDP_ASYNC_NO || !(job = ASYNC_get_current_job()))
		return -EAGAIN;
	if (prov->cfg.async == WDP_ASYNC_AUTO && wq->in_process) {
		wdp_bump(&n->async_inline, 1); /* runs in this thread (wdp.h) */
		return -EAGAIN;
	}
	if (!(w = ASYNC_get_wait_ctx(job)) || !wdp_req_slot_fits(wq, op))
		return -EAGAIN;
	pthread_mutex_lock(&wq->lock);
	/* what the job needs but cannot have (descriptors, the slots' bounce
	 * areas): the piece runs synchronously, as outside a job */
	if (ring_fds(wq) || wdp_req_slots_init(wq) || wait_fd_set(prov, w, wq)) {
		pthread_mutex_unlock(&wq->lock);
		return -EAGAIN;
	}
	ring_reap(wq);
	k = op_send(wq, ws, op);
	if (k >= 0) /* in flight for the provider: sent, or back and not yet taken */
		note_inflight(prov, wq->rs.sent + wq->rs.done);
	ring_settle(wq);
	pthread_mutex_unlock(&wq->lock);
	if (k < 0) {
		*status = k;
		return 0;
	}
	pend->wq = wq;
	pend->slot = (unsigned)k;
	pend->epoch = ws->epoch;
	pend->op = op;
	*status = job_wait(prov, pend, n);
	return 0;
}

int wdp_ring_run_locked(struct wdp_queue *wq, struct wd_req *r)
{
	int k = slot_get(&wq->rs), ret;

	if (k < 0)
		return -EBUSY;
	ret = slot_send(wq, r, k);
	if (ret)
		return ret;
	while (!slot_back(wq, (unsigned)k)) {
		ring_settle(wq);
		pthread_mutex_unlock(&wq->lock);
		wdp_ring_nap(wq);
		pthread_mutex_lock(&wq->lock);
	}
	ret = slot_free(&wq->rs, (unsigned)k);
	ring_settle(wq);
	return ret;
}

void wdp_pend_drain(struct wdp_prov *prov, struct wdp_pend *pend)
{
	struct wdp_queue *wq = pend->wq;

	if (!wq)
		return;
	pend->wq = NULL;
	if (forked(prov, pend))
		return;
	pthread_mutex_lock(&wq->lock);
	while (!slot_back(wq, pend->slot)) {
		ring_settle(wq);
		pthread_mutex_unlock(&wq->lock);
		wdp_ring_nap(wq);
		pthread_mutex_lock(&wq->lock);
	}
	slot_free(&wq->rs, pend->slot); /* its results have nowhere to go */
	ring_settle(wq);
	pthread_mutex_unlock(&wq->lock);
}
