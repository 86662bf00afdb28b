/* SPDX-License-Identifier: MIT */
/*
 * Queues: the user's side of the rings.  The fast path (send, recv) is plain
 * loads and stores on shared memory; a system call happens only to wake a
 * sleeping device or to sleep while waiting for completions.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "fallback.h"
#include "internal.h"
#include "../mem/domain.h"

#define WD_WAIT_SPIN_NS 5000    /* poll this long before sleeping in wd_wait */

static uint32_t round_pow2(uint32_t v)
{
	uint32_t p = 1;

	while (p < v)
		p <<= 1;
	return p;
}

static int pick_device(struct wd_ctx *ctx, const char *alg, const char *name,
		       struct wd_dev **out)
{
	struct wd_dev *dev;

	if (name) {
		dev = wd_dev_by_name(ctx, name);
		if (!dev)
			return -ENODEV;
		if (!wd_dev_has_alg(dev, alg))
			return -EOPNOTSUPP;
	} else {
		dev = wd_dev_find(ctx, alg);
		if (!dev)
			return -EOPNOTSUPP;
	}
	*out = dev;
	return 0;
}

static int reserve_slot(struct wd_dev *dev)
{
	int ret = 0;

	pthread_mutex_lock(&dev->ctx->lock);
	if (dev->nqueues >= dev->info.max_queues)
		ret = -EBUSY;
	else
		dev->nqueues++;
	pthread_mutex_unlock(&dev->ctx->lock);
	return ret;
}

static void release_slot(struct wd_dev *dev)
{
	pthread_mutex_lock(&dev->ctx->lock);
	dev->nqueues--;
	pthread_mutex_unlock(&dev->ctx->lock);
}

#define QUEUE_FLAGS (WD_QUEUE_F_EXPLICIT | WD_QUEUE_F_RING_ONLY | WD_QUEUE_F_NO_FALLBACK | \
		     WD_QUEUE_F_FALLBACK_KEEP_KEYS)

static int check_opts(const struct wd_queue_opts *opts)
{
	if (opts->size < sizeof(*opts) || (opts->flags & ~QUEUE_FLAGS) || opts->rsvd ||
	    (opts->domain && !(opts->flags & WD_QUEUE_F_EXPLICIT)))
		return -EINVAL;
	/* keys kept for a fallback that is turned off: a contradiction */
	if ((opts->flags & WD_QUEUE_F_NO_FALLBACK) && (opts->flags & WD_QUEUE_F_FALLBACK_KEEP_KEYS))
		return -EINVAL;
	return 0;
}

WD_EXPORT int wd_queue_new(struct wd_queue **out, struct wd_ctx *ctx, const char *alg,
			   const struct wd_queue_opts *opts)
{
	struct wd_queue_opts o = { 0 };
	struct wd_dev *dev;
	int ret;

	if (!out || !ctx || !alg)
		return -EINVAL;
	*out = NULL;
	if (opts) {
		ret = check_opts(opts);
		if (ret)
			return ret;
		memcpy(&o, opts, sizeof(o));
	}
	if (ctx->fork_gen != wd__fork_gen)
		return -ECHILD;
	if (!wd__alg_ops(alg)) /* names in the table fit WD_NAME_MAX */
		return -EOPNOTSUPP;
	if (o.domain && !o.device)
		o.device = o.domain->dev->info.name;
	ret = pick_device(ctx, alg, o.device, &dev);
	if (ret)
		return ret;
	if (o.domain && o.domain->dev != dev)
		return -EINVAL; /* a domain belongs to one device */
	if ((o.flags & WD_QUEUE_F_EXPLICIT) && !(dev->info.flags & WD_DEV_F_EXPLICIT))
		return -EOPNOTSUPP;
	if (!(o.flags & WD_QUEUE_F_EXPLICIT) && !(dev->info.flags & WD_DEV_F_SVA))
		return -EOPNOTSUPP;
	if (!o.depth)
		o.depth = WD_QUEUE_DEPTH_DEFAULT;
	if (o.depth > WD_RING_MAX_ENTRIES)
		return -EINVAL;
	o.depth = round_pow2(o.depth);
	if (o.depth > dev->info.max_depth)
		return -EINVAL;
	return wd__queue_create(ctx, dev, alg, &o, -1, -1, out);
}

/* The completion eventfd becomes a duplicate of cq_fd (see internal.h). */
static int share_cq_fd(struct wd_queue *q, int cq_fd)
{
	int fd = fcntl(cq_fd, F_DUPFD_CLOEXEC, 0);

	if (fd < 0)
		return -errno;
	close(q->cq_fd);
	q->cq_fd = fd;
	return 0;
}

int wd__queue_create(struct wd_ctx *ctx, struct wd_dev *dev, const char *alg,
		     const struct wd_queue_opts *o, int cq_fd, int sva_mem,
		     struct wd_queue **out)
{
	struct wd_queue *q;
	int ret;

	ret = reserve_slot(dev);
	if (ret)
		return ret;
	q = calloc(1, sizeof(*q));
	if (!q) {
		ret = -ENOMEM;
		goto err_slot;
	}
	q->ctx = ctx;
	q->dev = dev;
	q->ops = dev->ops;
	q->op_mask = wd__alg_ops(alg);
	q->flags = o->flags;
	q->depth = o->depth;
	q->fork_gen = ctx->fork_gen;
	q->cq_fd = -1;
	q->wait_fd = -1;
	q->alive_fd = -1;
	q->sva_mem = sva_mem;
	q->state = WD_Q_INIT;
	strcpy(q->alg, alg);
	ret = wd__fb_new(q);
	if (ret)
		goto err_free;

	if (o->flags & WD_QUEUE_F_EXPLICIT) {
		q->domain = o->domain;
		if (!q->domain) {
			ret = wd__domain_create(ctx, dev, 1, &q->domain);
			if (ret)
				goto err_fb;
		}
		wd__domain_use(q->domain);
	}
	ret = q->ops->queue_open(q);
	if (ret)
		goto err_domain;
	if (cq_fd >= 0 && (ret = share_cq_fd(q, cq_fd)))
		goto err_close;
	if (!q->ring_ready)
		wd_ring_format(&q->ring, ctx->ring_start);
	q->sq_tail = q->ring.ctl->sq_tail;
	q->cq_head = q->ring.ctl->cq_head;
	if (q->domain) {
		/* a daemon fences its own rings (the fallback's queue is ours) */
		ret = wd__domain_attach(q->domain, q->ring.ctl, q->ops->unshare != NULL);
		if (ret)
			goto err_close;
	}
	ret = q->ops->queue_start(q);
	if (ret)
		goto err_detach;
	if (!(o->flags & WD_QUEUE_F_RING_ONLY) && ctx->soft_inline)
		q->exec_sync = q->ops->exec_sync;
	q->state = WD_Q_STARTED;
	*out = q;
	return 0;

err_detach:
	if (q->domain)
		wd__domain_detach(q->domain, q->ring.ctl);
err_close:
	q->ops->queue_close(q, 0);
err_domain:
	if (q->domain)
		wd__domain_unuse(q->domain);
err_fb:
	wd__fb_free(q, 0);
err_free:
	free(q);
err_slot:
	release_slot(dev);
	return ret;
}

/* Post a completion with status err for every request the device never
 * took (sq_head on) or never completed (a device that completes in order
 * and stopped at cq_tail). */
static void complete_rest(struct wd_queue *q, uint32_t sq_head, uint32_t cq_tail, int err)
{
	struct wd_ring *r = &q->ring;
	uint32_t pending = q->sq_tail - sq_head;
	uint32_t posted = cq_tail - q->cq_head;

	/* The device's report is checked against what we know we submitted. */
	if (pending > q->inflight || posted > q->inflight - pending) {
		pending = q->inflight;
		sq_head = q->sq_tail - pending;
		cq_tail = q->cq_head;
		posted = 0;
	}
	for (; sq_head != q->sq_tail; sq_head++, cq_tail++) {
		wd_cqe *c = &r->cqes[cq_tail & r->cq_mask];

		memset(c, 0, sizeof(*c));
		c->tag = r->sqes[sq_head & r->sq_mask].tag;
		c->status = err;
	}
	wd_store_release(&r->ctl->cq_tail, cq_tail);
}

static void cancel_unconsumed(struct wd_queue *q, uint32_t sq_head, uint32_t cq_tail)
{
	complete_rest(q, sq_head, cq_tail, -ECANCELED);
}

void wd__queue_fail_all(struct wd_queue *q, int err)
{
	uint32_t tail;

	/* the built-in engine takes over what the device had (or, when it
	 * cannot be had, the fallback fails it as below, on its own slots) */
	if (q->fb) {
		wd__fb_failover(q);
		return;
	}
	/* The device is gone: nothing it had taken will complete.  It worked
	 * in order, so what follows its last completion is what is missing. */
	tail = wd_load_acquire(&q->ring.ctl->cq_tail);

	if (tail - q->cq_head > q->inflight)
		tail = q->cq_head; /* its index is garbage: fail all in flight */
	complete_rest(q, tail, tail, err);
	q->dead = 1;
	if (q->state == WD_Q_STARTED)
		q->state = WD_Q_ZOMBIE;
}

/* For devices that can go away (a daemon): has it?  Then fail what is in
 * flight.  Costs a poll() syscall, so callers use it sparingly. */
static int device_gone(struct wd_queue *q)
{
	struct pollfd pfd = { .fd = q->alive_fd, .events = POLLRDHUP };

	if (q->alive_fd < 0 || q->dead)
		return q->dead;
	if (poll(&pfd, 1, 0) > 0 && (pfd.revents & (POLLRDHUP | POLLHUP | POLLERR))) {
		wd__queue_fail_all(q, -EIO);
		return 1;
	}
	return 0;
}

WD_EXPORT int wd_queue_stop(struct wd_queue *q)
{
	uint32_t sq_head, cq_tail;

	if (!q)
		return -EINVAL;
	if (q->fork_gen != wd__fork_gen)
		return -ECHILD;
	if (q->state != WD_Q_STARTED && q->state != WD_Q_ZOMBIE)
		return 0;
	if (q->fb)
		return wd__fb_stop(q);
	sq_head = q->sq_tail;
	cq_tail = q->cq_head + q->inflight;
	q->ops->queue_stop(q, &sq_head, &cq_tail);
	/* The device is off the ring: no lease fence needs to wait for it. */
	if (q->domain)
		wd__domain_detach(q->domain, q->ring.ctl);
	cancel_unconsumed(q, sq_head, cq_tail);
	q->state = WD_Q_STOPPED;
	return 0;
}

WD_EXPORT void wd_queue_free(struct wd_queue *q)
{
	if (!q)
		return;
	if (q->fork_gen == wd__fork_gen) {
		wd_queue_stop(q);
		wd__fb_free(q, 0); /* its queue holds the domain too */
		q->ops->queue_close(q, 0);
		if (q->domain)
			wd__domain_unuse(q->domain);
		release_slot(q->dev);
	} else {
		/* A fork child: the ring is not mapped here and the engine does
		 * not run here; just give back the child's heap copies. */
		wd__fb_free(q, 1);
		q->ops->queue_close(q, 1);
	}
	free(q);
}

WD_EXPORT int wd_queue_info(const struct wd_queue *q, struct wd_queue_info *info)
{
	struct wd_queue_info tmp = { 0 };
	size_t n;

	if (!q || !info || info->size < sizeof(tmp))
		return -EINVAL;
	n = sizeof(tmp);
	tmp.size = (uint32_t)n;
	tmp.depth = q->depth;
	tmp.inflight = q->inflight;
	strcpy(tmp.alg, q->alg);
	strcpy(tmp.device, q->dev->info.name);
	memcpy(info, &tmp, n);
	return 0;
}

WD_EXPORT int wd_queue_stats(const struct wd_queue *q, struct wd_queue_stats *st)
{
	struct wd_queue_stats tmp = { 0 };
	size_t n;
	int ret;

	if (!q || !st || st->size < 16)
		return -EINVAL;
	if (q->fork_gen != wd__fork_gen)
		return -ECHILD; /* the daemon's socket is the parent's */
	if (!q->ops->queue_stats && !q->fb)
		return -EOPNOTSUPP;
	n = st->size < sizeof(tmp) ? st->size : sizeof(tmp);
	tmp.size = (uint32_t)n;
	if (q->fb)
		ret = wd__fb_stats((struct wd_queue *)q, &tmp);
	else
		ret = q->ops->queue_stats((struct wd_queue *)q, &tmp);
	if (ret)
		return ret;
	memcpy(st, &tmp, n);
	return 0;
}

WD_EXPORT int wd_inflight(const struct wd_queue *q)
{
	return q ? (int)q->inflight : -EINVAL;
}

static int queue_dead(struct wd_queue *q);

WD_EXPORT int wd_queue_event_fd(const struct wd_queue *q)
{
	if (!q)
		return -EINVAL;
	return q->wait_fd >= 0 ? q->wait_fd : q->cq_fd;
}

/* Reset the completion fd: a count left from an earlier wake-up would make
 * the fd look ready to whoever sleeps on it next.  It is an eventfd, or
 * for the daemon's queues the read end of a pipe (8 bytes per wake-up):
 * one read takes an eventfd's count or many pipe wake-ups. */
static int drain_cq_fd(struct wd_queue *q)
{
	uint64_t buf[64];

	if (read(q->cq_fd, buf, sizeof(buf)) < 0 && errno != EAGAIN)
		return -errno;
	return 0; /* what a short read left makes the next sleep end early */
}

WD_EXPORT int wd_queue_arm(struct wd_queue *q)
{
	struct wd_ring_ctl *ctl;
	uint32_t ready;

	if (!q)
		return -EINVAL;
	if (q->fork_gen != wd__fork_gen)
		return -ECHILD;
	if (q->fb)
		return wd__fb_arm(q);
	ctl = q->ring.ctl;
	drain_cq_fd(q); /* failing, the next wake-up still comes */
	/* the user half of the sleep/wake handshake, as in wd_wait */
	wd_store_sc(&ctl->cq_flags, WD_CQ_WAITING);
	q->armed = 1;
	ready = wd_load_sc(&ctl->cq_tail) - q->cq_head;
	if (ready > q->inflight)
		return -EIO;
	if (!ready) {
		/* about to sleep: a device that went away would never wake us
		 * (its hang-up does wake a sleeper on wait_fd, who then comes
		 * back here); it has completed what it had with errors then */
		if (q->inflight && !q->dead && device_gone(q))
			return (int)(wd_load_acquire(&ctl->cq_tail) - q->cq_head);
		/* a dead queue with nothing left to reap: sleeping would never end */
		if (queue_dead(q))
			return -EIO;
	}
	return (int)ready;
}

/* The device's verdict comes first: a dead ring stays -EIO after a stop. */
static int queue_dead(struct wd_queue *q)
{
	if (wd_unlikely(q->state == WD_Q_ZOMBIE || q->dead ||
			wd_load_acquire(&q->ring.ctl->dev_status))) {
		if (q->fb) /* the built-in engine takes over, or has */
			return wd__fb_check(q);
		q->dead = 1;
		if (q->state == WD_Q_STARTED)
			q->state = WD_Q_ZOMBIE;
		return -EIO;
	}
	return 0;
}

int wd__queue_usable(struct wd_queue *q)
{
	if (wd_unlikely(q->fork_gen != wd__fork_gen))
		return -ECHILD;
	if (wd_unlikely(queue_dead(q)))
		return -EIO;
	if (wd_unlikely(q->state != WD_Q_STARTED))
		return -ESHUTDOWN;
	return 0;
}

WD_EXPORT int wd_send(struct wd_queue *q, const struct wd_req *reqs, unsigned n)
{
	struct wd_ring *r;
	uint32_t space, tail, i;
	int ret;

	if (wd_unlikely(!q || !reqs || !n))
		return -EINVAL;
	if (q->fb)
		return wd__fb_send(q, reqs, n);
	ret = wd__queue_usable(q);
	if (wd_unlikely(ret))
		return ret;
	space = q->depth - q->inflight;
	if (!space)
		return -EBUSY;
	if (n > space)
		n = space;
	r = &q->ring;
	tail = q->sq_tail;
	for (i = 0; i < n; i++)
		memcpy(&r->sqes[(tail + i) & r->sq_mask], &reqs[i], sizeof(wd_sqe));
	q->sq_tail = tail + n;
	q->inflight += n;
	/* The doorbell: one store (release + the Dekker half of the wake-up
	 * protocol), then a syscall only if the device said it sleeps. */
	wd_store_sc(&r->ctl->sq_tail, q->sq_tail);
	if (wd_unlikely(wd_load_sc(&r->ctl->sq_flags) & WD_SQ_NEED_WAKEUP)) {
		q->kicks++;
		q->ops->kick(q);
	}
	return (int)n;
}

/* Completions ready, or -EIO when the device's index cannot be right. */
static int cq_ready(struct wd_queue *q)
{
	uint32_t avail = wd_load_acquire(&q->ring.ctl->cq_tail) - q->cq_head;

	if (wd_unlikely(avail > q->inflight)) {
		/* More completions than requests: the device side is broken. */
		q->dead = 1;
		return -EIO;
	}
	return (int)avail;
}

/* n completions taken: the device may reuse their entries. */
static void cq_consumed(struct wd_queue *q, uint32_t n)
{
	q->cq_head += n;
	q->inflight -= n;
	wd_store_release(&q->ring.ctl->cq_head, q->cq_head);
	if (q->armed) {
		q->armed = 0;
		wd_store_release(&q->ring.ctl->cq_flags, 0);
	}
}

/* To a callback: each completion is taken before the callback runs, and
 * what is ready is looked at again after it, since the callback may reap
 * on this queue itself (and send) - else it would see the same entries
 * again, and this loop ones past the device's index. */
static int reap_each(struct wd_queue *q, unsigned max, wd_cpl_fn fn, void *arg)
{
	struct wd_ring *r = &q->ring;
	unsigned n = 0;
	int avail;

	while (n < max) {
		struct wd_cpl copy; /* never hand out ring memory */

		avail = cq_ready(q);
		if (avail <= 0)
			return n ? (int)n : avail;
		memcpy(&copy, &r->cqes[q->cq_head & r->cq_mask], sizeof(copy));
		cq_consumed(q, 1);
		n++;
		fn(arg, &copy);
	}
	return (int)n;
}

static int reap(struct wd_queue *q, struct wd_cpl *out, unsigned max, wd_cpl_fn fn, void *arg)
{
	struct wd_ring *r = &q->ring;
	int avail;
	uint32_t i, n;

	if (q->fb)
		return wd__fb_reap(q, out, max, fn, arg);
	if (!out)
		return reap_each(q, max, fn, arg);
	avail = cq_ready(q);
	if (avail <= 0)
		return avail;
	n = (uint32_t)avail < max ? (uint32_t)avail : max;
	for (i = 0; i < n; i++)
		memcpy(&out[i], &r->cqes[(q->cq_head + i) & r->cq_mask], sizeof(out[i]));
	cq_consumed(q, n);
	return (int)n;
}

static int check_reap(struct wd_queue *q)
{
	if (wd_unlikely(q->fork_gen != wd__fork_gen))
		return -ECHILD;
	return 0;
}

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

#define ALIVE_CHECK_NS 1000000  /* a vanished device is noticed within ~1 ms */

/*
 * Nothing to reap with requests in flight: now and then, look whether there
 * never will be, or a poller spins for ever.  Not on every empty poll:
 * dev_status sits on the cache line the device writes for every request,
 * and asking whether a device that can vanish (a daemon) is still there
 * costs a syscall, so that is done at most once a millisecond of polling.
 * Returns 1 when the device is gone (what it had is completed with errors),
 * -EIO when the device declared the ring dead, else 0.
 */
static int idle_check(struct wd_queue *q)
{
	if (++q->idle_polls & 15)
		return 0;
	if (q->alive_fd >= 0) {
		int64_t t = now_ns();

		if (t - q->alive_checked >= ALIVE_CHECK_NS) {
			q->alive_checked = t;
			if (device_gone(q))
				return 1;
		}
	}
	if (!(q->idle_polls & 63) && queue_dead(q))
		return -EIO;
	return 0;
}

static int reap_nowait(struct wd_queue *q, struct wd_cpl *out, unsigned max, wd_cpl_fn fn,
		       void *arg)
{
	int ret = reap(q, out, max, fn, arg);

	if (!ret && q->inflight) {
		ret = idle_check(q);
		if (ret > 0)
			return reap(q, out, max, fn, arg);
	}
	return ret;
}

WD_EXPORT int wd_recv(struct wd_queue *q, struct wd_cpl *out, unsigned max)
{
	int ret;

	if (wd_unlikely(!q || !out))
		return -EINVAL;
	ret = check_reap(q);
	if (ret)
		return ret;
	return reap_nowait(q, out, max, NULL, NULL);
}

/* Sleep until the device posts a completion or the deadline (-1: none). */
static int sleep_for_cq(struct wd_queue *q, int64_t deadline)
{
	struct wd_ring_ctl *ctl = q->ring.ctl;
	struct pollfd pfd[2] = { { .fd = q->cq_fd, .events = POLLIN },
				 { .fd = q->alive_fd, .events = POLLRDHUP } };
	int tmo = -1, rc, ret;

	if (q->fb)
		return wd__fb_sleep(q, deadline);
	wd_store_sc(&ctl->cq_flags, WD_CQ_WAITING);
	if (wd_load_sc(&ctl->cq_tail) != q->cq_head || wd_load_acquire(&ctl->dev_status)) {
		wd_store_release(&ctl->cq_flags, 0);
		return 0;
	}
	if (deadline >= 0) {
		int64_t left = deadline - now_ns();

		if (left <= 0) {
			wd_store_release(&ctl->cq_flags, 0);
			return -ETIMEDOUT;
		}
		tmo = (int)((left + 999999) / 1000000);
	}
	rc = poll(pfd, q->alive_fd >= 0 ? 2 : 1, tmo);
	wd_store_release(&ctl->cq_flags, 0);
	if (rc > 0 && (pfd[1].revents & (POLLRDHUP | POLLHUP | POLLERR)) && q->alive_fd >= 0) {
		wd__queue_fail_all(q, -EIO); /* the device went away */
		return 0;
	}
	if (rc > 0 && (ret = drain_cq_fd(q)))
		return ret;
	if (rc < 0)
		return -errno; /* -EINTR included: a signal ends the wait */
	return 0;
}

static int wait_common(struct wd_queue *q, struct wd_cpl *out, unsigned max, int timeout_ms,
		       wd_cpl_fn fn, void *arg)
{
	int64_t start = now_ns(), deadline = -1;
	int n;

	if (timeout_ms >= 0)
		deadline = start + (int64_t)timeout_ms * 1000000;
	for (;;) {
		n = reap(q, out, max, fn, arg);
		if (n)
			return n;
		if (!q->inflight)
			return -EAGAIN;
		if (queue_dead(q))
			return -EIO;
		if (timeout_ms == 0)
			return 0;
		if (now_ns() - start < WD_WAIT_SPIN_NS) {
			wd_cpu_relax();
			continue;
		}
		n = sleep_for_cq(q, deadline);
		if (n)
			return n;
	}
}

WD_EXPORT int wd_wait(struct wd_queue *q, struct wd_cpl *out, unsigned max, int timeout_ms)
{
	int ret;

	if (!q || !out || !max)
		return -EINVAL;
	ret = check_reap(q);
	if (ret)
		return ret;
	ret = wait_common(q, out, max, timeout_ms, NULL, NULL);
	return ret == 0 ? -ETIMEDOUT : ret;
}

WD_EXPORT int wd_poll(struct wd_queue *q, unsigned max, int timeout_ms, wd_cpl_fn fn, void *arg)
{
	int ret;

	if (!q || !fn || !max)
		return -EINVAL;
	ret = check_reap(q);
	if (ret)
		return ret;
	if (timeout_ms == 0 || !q->inflight)
		return reap_nowait(q, NULL, max, fn, arg);
	return wait_common(q, NULL, max, timeout_ms, fn, arg);
}

int wd__queue_ring_local(struct wd_queue *q)
{
	size_t size = wd_ring_size(q->depth, q->depth);
	void *mem;
	int ret;

	mem = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE,
		   -1, 0);
	if (mem == MAP_FAILED)
		return -errno;
	/* A queue is never inherited: the child gets no mapping at all. */
	if (madvise(mem, size, MADV_DONTFORK)) {
		ret = -errno;
		goto err_unmap;
	}
	q->cq_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (q->cq_fd < 0) {
		ret = -errno;
		goto err_unmap;
	}
	wd_ring_bind(&q->ring, mem, q->depth, q->depth);
	q->mem = mem;
	return 0;
err_unmap:
	munmap(mem, size);
	return ret;
}

void wd__queue_ring_local_free(struct wd_queue *q, int in_child)
{
	if (in_child)
		return; /* not mapped there, and the fd may mean something else */
	munmap(q->mem, q->ring.size);
	close(q->cq_fd);
}
