/* SPDX-License-Identifier: MIT */
/*
 * Fallback to the built-in engine: the device lets go (fallback.c has the
 * data path).  A failover stops the device, keeps the completions it
 * posted, and has the built-in engine run the rest from the library's own
 * copies; a stop cancels what the device never answered.  And waiting: a
 * sleeper wakes for the device's completions while it lives, for the
 * built-in engine's once it is there.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fallback_int.h"
#include "../mem/domain.h"

/* ---- the device lets go ---- */

/* Keep what the device completed; failing: what it failed or refused
 * stays in flight for the built-in engine.  Each entry is copied once and
 * must name a request of the device's; the rest is ignored. */
static void harvest(struct wd_queue *q, int failing)
{
	struct wd_fb *fb = q->fb;
	struct wd_ring *r = &q->ring;
	uint32_t avail = wd_load_acquire(&r->ctl->cq_tail) - q->cq_head, i;

	if (avail > fb->dev_inflight)
		avail = 0; /* its index is garbage: nothing it says counts */
	for (i = 0; i < avail; i++) {
		wd_cqe c;
		int s;

		memcpy(&c, &r->cqes[(q->cq_head + i) & r->cq_mask], sizeof(c));
		s = fb_slot_of(fb, c.tag, FB_DEV);
		if (s < 0 || fb->slot[s].answered)
			continue;
		if (failing && (c.status == -EIO || c.status == -EOPNOTSUPP)) {
			fb->slot[s].answered = 1;
			fb->slot[s].status = c.status;
			continue;
		}
		fb->dev_inflight--;
		fb_done_put(fb, (unsigned)s, &c);
	}
	q->cq_head += avail;
}

/* Which requests the device may have started: all it had but those at
 * positions from its SQ head on (a head it cannot have reached: all). */
static void mark_taken(struct wd_queue *q)
{
	struct wd_fb *fb = q->fb;
	uint32_t head = wd_load_acquire(&q->ring.ctl->sq_head), p, s;

	/* a refusal is an answer before the start; a failure after it */
	for (s = 0; s < fb->depth; s++)
		fb->slot[s].taken = fb->slot[s].where == FB_DEV &&
				    !(fb->slot[s].answered && fb->slot[s].status == -EOPNOTSUPP);
	if (q->sq_tail - head > fb->dev_inflight)
		return;
	for (p = head; p != q->sq_tail; p++) {
		s = fb->ring_slot[p & q->ring.sq_mask];
		if (fb->slot[s].where == FB_DEV && fb->slot[s].ridx == p && !fb->slot[s].answered)
			fb->slot[s].taken = 0;
	}
}

/* Stop the device: when this returns it touches the ring no more (its
 * lease on the domain ends with it) and the ring is read no more. */
static void detach_dev(struct wd_queue *q, int failing)
{
	struct wd_fb *fb = q->fb;
	uint32_t sq_head = q->sq_tail, cq_tail = q->cq_head + fb->dev_inflight;
	struct wd_queue_stats st = { .size = sizeof(st) };

	/* its last counters, while they can be had (a daemon forgets a queue
	 * it stopped; one that died took them with it) */
	if (q->ops->queue_stats && !q->ops->queue_stats(q, &st))
		fb->dev_last = st;
	q->ops->queue_stop(q, &sq_head, &cq_tail); /* its report is not needed */
	if (q->domain)
		wd__domain_detach(q->domain, q->ring.ctl);
	fb->detached = 1;
	harvest(q, failing);
	mark_taken(q);
}

static int order_cmp(const void *a, const void *b)
{
	const struct fb_order *x = a, *y = b;

	return x->key < y->key ? -1 : x->key > y->key;
}

/* The device's requests left over, in the order they were submitted. */
static uint32_t orphans(struct wd_queue *q)
{
	struct wd_fb *fb = q->fb;
	uint32_t s, n = 0;

	for (s = 0; s < fb->depth; s++)
		if (fb->slot[s].where == FB_DEV)
			fb->order[n++] = (struct fb_order){ (int32_t)(fb->slot[s].ridx - q->sq_tail), s };
	qsort(fb->order, n, sizeof(*fb->order), order_cmp);
	fb->dev_inflight = 0;
	return n;
}

/* A left-over request the built-in engine will not run. */
static void orphan_fail(struct wd_fb *fb, unsigned s, int err)
{
	const struct fb_slot *sl = &fb->slot[s];

	/* a refusal the engine cannot take over stands; the rest is lost */
	if (sl->answered && sl->status == -EOPNOTSUPP) {
		fb_done_err(fb, s, -EOPNOTSUPP);
		return;
	}
	fb_done_err(fb, s, err);
	fb->n_lost++;
}

/* The device failed: the built-in engine runs what it had, in order, but
 * what a device that could not be stopped may still write. */
static void take_over(struct wd_queue *q)
{
	struct wd_fb *fb = q->fb;
	int unstopped = !!(wd_load_acquire(&q->ring.ctl->dev_status) & WD_DEV_UNSTOPPED);
	uint32_t i, n = orphans(q);

	for (i = 0; i < n; i++) {
		unsigned s = fb->order[i].slot;
		const struct fb_slot *sl = &fb->slot[s];
		unsigned why = sl->answered && sl->status == -EOPNOTSUPP ? FB_WHY_REFUSAL
									  : FB_WHY_FAILURE;
		int ret = sl->taken && unstopped ? -EIO
						 : fb_rerun_check(q, &fb->shadow[s], sl->taken);

		if (!ret)
			ret = fb_to_soft(q, s, why);
		if (ret)
			orphan_fail(fb, s, ret == -ENOTRECOVERABLE ? ret : -EIO);
		else if (sl->answered)
			fb->n_moved++;
	}
}

/* The built-in engine cannot be had: the queue dies as it would without a
 * fallback, every request the device had failing with -EIO. */
static int die(struct wd_queue *q)
{
	struct wd_fb *fb = q->fb;
	uint32_t i, n = orphans(q);

	for (i = 0; i < n; i++)
		orphan_fail(fb, fb->order[i].slot, -EIO);
	q->dead = 1;
	if (q->state == WD_Q_STARTED)
		q->state = WD_Q_ZOMBIE;
	fb_kick_waiters(q);
	return -EIO;
}

int wd__fb_failover(struct wd_queue *q)
{
	struct wd_fb *fb = q->fb;
	int ret;

	if (fb->failed)
		return fb->soft ? 0 : -EIO;
	if (fb->detached)
		return 0; /* stopped: nothing goes anywhere any more */
	fb->n_failures++;
	fb->failed = 1;
	ret = fb_soft_open(q);
	detach_dev(q, 1);
	if (ret)
		return die(q);
	fb_restore_keys(q);
	/* streams and keys the built-in engine has not: gone with the device */
	fb->lost = q->sessions_used & ~fb->soft_set & ~fb->on_soft;
	take_over(q);
	fb_rewire_failed(q);
	q->dead = 0;
	fb_kick_waiters(q);
	return 0;
}

int wd__fb_check(struct wd_queue *q)
{
	struct wd_fb *fb = q->fb;

	if (fb->failed)
		return fb->soft ? 0 : -EIO;
	if (fb->detached)
		return 0;
	return wd__fb_failover(q);
}

int wd__fb_stop(struct wd_queue *q)
{
	struct wd_fb *fb = q->fb;

	if (!fb->detached) {
		uint32_t i, n;

		detach_dev(q, 0);
		/* what the device never answered: not run (-ECANCELED), or
		 * started by a device that is gone (-EIO) */
		n = orphans(q);
		for (i = 0; i < n; i++) {
			unsigned s = fb->order[i].slot;

			fb_done_err(fb, s, fb->slot[s].taken ? -EIO : -ECANCELED);
		}
	}
	if (fb->soft)
		wd_queue_stop(fb->soft);
	q->state = WD_Q_STOPPED;
	return 0;
}

/* ---- waiting ---- */

static int64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Completions ready anywhere (the device's counted as it reports them). */
static uint32_t ready(struct wd_queue *q)
{
	struct wd_fb *fb = q->fb;
	uint32_t n = fb->done_tail - fb->done_head;

	if (!fb->detached)
		n += wd_load_sc(&q->ring.ctl->cq_tail) - q->cq_head;
	if (fb->soft)
		n += wd_load_sc(&fb->soft->ring.ctl->cq_tail) - fb->soft->cq_head;
	return n;
}

/* Is the device's ring dead or its completion index impossible? */
static int dev_broken(struct wd_queue *q)
{
	return !q->fb->detached &&
	       (q->dead || wd_load_acquire(&q->ring.ctl->dev_status) ||
		wd_load_acquire(&q->ring.ctl->cq_tail) - q->cq_head > q->fb->dev_inflight);
}

static void set_waiting(struct wd_queue *q, uint32_t v)
{
	struct wd_fb *fb = q->fb;

	if (!fb->detached)
		wd_store_sc(&q->ring.ctl->cq_flags, v);
	if (fb->soft)
		wd_store_sc(&fb->soft->ring.ctl->cq_flags, v);
}

static void drain(int fd)
{
	uint64_t buf[64];

	if (fd >= 0 && read(fd, buf, sizeof(buf)) < 0)
		return; /* nothing there (EAGAIN): the next wake-up comes anyway */
}

/* The fds a waiter sleeps on: the device's completions and its hang-up
 * while it is there; the built-in engine's (when it has a counter of its
 * own).  Returns how many; *alive: index of the hang-up, or -1. */
static int wait_fds(struct wd_queue *q, struct pollfd *pfd, int *alive)
{
	struct wd_fb *fb = q->fb;
	int n = 0;

	*alive = -1;
	if ((!fb->detached || (fb->soft && fb->soft_fd < 0)) && q->cq_fd >= 0)
		pfd[n++] = (struct pollfd){ .fd = q->cq_fd, .events = POLLIN };
	if (!fb->detached && q->alive_fd >= 0) {
		*alive = n;
		pfd[n++] = (struct pollfd){ .fd = q->alive_fd, .events = POLLRDHUP };
	}
	if (fb->soft && fb->soft_fd >= 0)
		pfd[n++] = (struct pollfd){ .fd = fb->soft_fd, .events = POLLIN };
	return n;
}

int wd__fb_sleep(struct wd_queue *q, int64_t deadline)
{
	struct pollfd pfd[3];
	int n, alive, tmo = -1, rc, i;

	set_waiting(q, WD_CQ_WAITING);
	if (ready(q) || dev_broken(q)) {
		set_waiting(q, 0);
		return 0;
	}
	if (deadline >= 0) {
		int64_t left = deadline - mono_ns();

		if (left <= 0) {
			set_waiting(q, 0);
			return -ETIMEDOUT;
		}
		tmo = (int)((left + 999999) / 1000000);
	}
	n = wait_fds(q, pfd, &alive);
	rc = poll(pfd, (nfds_t)n, tmo);
	set_waiting(q, 0);
	if (rc < 0)
		return -errno; /* -EINTR included: a signal ends the wait */
	if (alive >= 0 && (pfd[alive].revents & (POLLRDHUP | POLLHUP | POLLERR))) {
		wd__queue_fail_all(q, -EIO); /* the device went away */
		return 0;
	}
	for (i = 0; i < n; i++)
		if (i != alive && pfd[i].revents)
			drain(pfd[i].fd);
	return 0;
}

/* Has a device that can vanish (a daemon) hung up? */
static int hung_up(struct wd_queue *q)
{
	struct pollfd pfd = { .fd = q->alive_fd, .events = POLLRDHUP };

	return q->alive_fd >= 0 && poll(&pfd, 1, 0) > 0 &&
	       (pfd.revents & (POLLRDHUP | POLLHUP | POLLERR));
}

int wd__fb_arm(struct wd_queue *q)
{
	struct wd_fb *fb = q->fb;
	struct pollfd pfd[3];
	int n, alive, i;
	uint32_t r;

	n = wait_fds(q, pfd, &alive);
	for (i = 0; i < n; i++)
		if (i != alive)
			drain(pfd[i].fd); /* failing, the next wake-up still comes */
	set_waiting(q, WD_CQ_WAITING);
	q->armed = 1;
	if (fb->soft)
		fb->soft->armed = 1; /* its reaping disarms it */
	if (dev_broken(q) || (q->inflight && !ready(q) && !fb->detached && hung_up(q))) {
		if (wd__fb_failover(q) && fb->done_head == fb->done_tail)
			return -EIO;
		set_waiting(q, WD_CQ_WAITING); /* on the built-in engine now */
	}
	r = ready(q);
	return r > q->inflight ? -EIO : (int)r;
}
