/* SPDX-License-Identifier: MIT */
/*
 * Failing hardware: complete the work anyway (as QAT's heartbeat fallback
 * hands a dead device's requests to software).  The data path of a queue
 * whose device can fail: a daemon, a VFIO device, anything but the
 * built-in engine itself.
 *
 * Every request in flight has a slot: the request as the user gave it
 * (its shadow, private memory) and where it is now.  The device's ring
 * gets a copy with the library's tag (slot and generation) in place of the
 * user's, so each completion names its slot exactly, in whatever order
 * the device completes and whatever tags the user reused; a completion
 * that names no request of the device's means a broken ring.
 *
 * When the device fails (it hangs up, declares its ring dead, or breaks
 * it), the library stops it, keeps what it completed, and has a queue of
 * the built-in engine (soft0, opened for this one) run the rest again,
 * from the shadows: a device that rewrote its ring can at worst have its
 * requests completed correctly on the CPU.  The queue then stays usable,
 * its requests going straight to that engine.  A request the device
 * refuses (-EOPNOTSUPP) or fails (-EIO) while it lives goes there too.
 * Those completions carry WD_CPL_F_SOFT; what cannot be run again (a
 * stream's state, a key only the device had, a request in place the device
 * may have started) fails, and is counted.
 *
 * Cost while the device is sound: per request one more 64-byte copy (the
 * shadow) and a slot from a free list; per completion a check of its tag.
 * The failover itself, stops and waiting are in fallback_fail.c.
 */
#include <errno.h>
#include <string.h>
#include <wd/comp.h>

#include "fallback_int.h"

/* ---- slots ---- */

static unsigned slot_get(struct wd_fb *fb)
{
	return fb->free[--fb->nfree]; /* callers checked the queue has room */
}

static void slot_put(struct wd_fb *fb, unsigned s)
{
	fb->slot[s].where = FB_FREE;
	fb->slot[s].answered = 0;
	fb->slot[s].gen++;
	fb->free[fb->nfree++] = (uint16_t)s;
}

static uint64_t slot_tag(const struct wd_fb *fb, unsigned s)
{
	return (uint64_t)fb->slot[s].gen << 32 | s;
}

/* The slot a completion's tag names, if it is in flight where expected. */
int fb_slot_of(const struct wd_fb *fb, uint64_t tag, unsigned where)
{
	uint32_t s = (uint32_t)tag;

	if (s >= fb->depth || fb->slot[s].where != where || fb->slot[s].gen != (uint32_t)(tag >> 32))
		return -1;
	return (int)s;
}

/* Complete slot s here (the device's answer kept, or the library's). */
void fb_done_put(struct wd_fb *fb, unsigned s, const wd_cqe *c)
{
	fb->done[s] = *c;
	fb->done[s].tag = fb->shadow[s].tag;
	fb->slot[s].where = FB_DONE;
	fb->doneq[fb->done_tail++ % fb->depth] = (uint16_t)s;
}

void fb_done_err(struct wd_fb *fb, unsigned s, int err)
{
	wd_cqe c = { .status = err };

	fb_done_put(fb, s, &c);
}

/* Where completions go: the caller's array, or its callback. */
struct sink {
	struct wd_cpl *out;
	wd_cpl_fn fn;
	void *arg;
	unsigned n, max;
};

static void deliver(struct wd_queue *q, struct sink *k, unsigned s, const wd_cqe *c)
{
	/* the slot is free before the callback runs: it may send again */
	slot_put(q->fb, s);
	q->inflight--;
	if (k->out) {
		k->out[k->n++] = *c;
	} else {
		struct wd_cpl copy = *c; /* never hand out memory of ours */

		k->n++;
		k->fn(k->arg, &copy);
	}
}

/* ---- what the built-in engine can run again ---- */

static int overlap(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	if (!alen || !blen)
		return 0;
	if (a + alen < a || b + blen < b)
		return 1; /* nonsense wraps: assume the worst */
	return a < b + blen && b < a + alen;
}

/* Does the request write over its own input, so that running it again
 * after the device started it would apply it twice?  Scatter-gather
 * ciphers may be in place through their tables: assumed so. */
static int in_place(const wd_sqe *e)
{
	switch (e->op) {
	case WD_OP_COPY:
		return overlap(e->src, e->len, e->dst, e->len);
	case WD_OP_ENCRYPT:
	case WD_OP_DECRYPT:
		return e->flags || overlap(e->src, e->len, e->dst, e->len);
	}
	/* the others read their source and write elsewhere (compression in
	 * place is no valid request on any engine) */
	return 0;
}

/* Does it need state only the device had?  A compression stream's
 * requests do, but a start (a copy: of a stream the built-in engine has);
 * a cipher request does unless the engine has its session's key; an AEAD
 * message spread over several requests does. */
static int needs_state(const struct wd_fb *fb, const wd_sqe *e)
{
	uint64_t bit = fb_bit(e->session);
	int start = (e->param & WD_COMP_P_START) && !(e->param & WD_COMP_P_COPY);

	if (!bit || (fb->on_soft & bit))
		return 0; /* none, or living there already (a bad id: refused there) */
	switch (e->op) {
	case WD_OP_COMPRESS:
	case WD_OP_DECOMPRESS:
		if (start || ((e->param & WD_COMP_P_COPY) && (fb->on_soft & fb_bit((unsigned)e->arg0))))
			return 0;
		return -ENOTRECOVERABLE;
	case WD_OP_ENCRYPT:
	case WD_OP_DECRYPT:
		if (e->param && (e->param & (WD_AEAD_P_INIT | WD_AEAD_P_FINAL)) !=
				(WD_AEAD_P_INIT | WD_AEAD_P_FINAL))
			return -ENOTRECOVERABLE;
		if ((fb->lost & bit) || !((fb->soft_set & bit) || (fb->keys && (fb->keys->have & bit))))
			return -ENOTRECOVERABLE;
		return 0;
	}
	return 0;
}

int fb_rerun_check(struct wd_queue *q, const wd_sqe *e, int taken)
{
	int ret = needs_state(q->fb, e);

	if (ret)
		return ret;
	return taken && in_place(e) ? -EIO : 0;
}

/* ---- to the built-in engine ---- */

/* e: slot s's request as the built-in engine gets it, its session there
 * first: 0, or why it cannot run there. */
static int soft_prep(struct wd_queue *q, unsigned s, unsigned why, wd_sqe *e)
{
	struct wd_fb *fb = q->fb;
	const wd_sqe *u = &fb->shadow[s];
	uint64_t bit = fb_bit(u->session);
	int ret = fb_soft_open(q);

	if (ret)
		return ret;
	if (bit && (u->op == WD_OP_ENCRYPT || u->op == WD_OP_DECRYPT) &&
	    (ret = fb_soft_session(q, u->session)))
		return ret;
	/* a stream started there lives there from now on */
	if (bit && (u->op == WD_OP_COMPRESS || u->op == WD_OP_DECOMPRESS) &&
	    (u->param & WD_COMP_P_START)) {
		fb->on_soft |= bit;
		fb->lost &= ~bit;
	}
	*e = *u;
	e->tag = slot_tag(fb, s);
	fb->slot[s].where = FB_SOFT;
	fb->slot[s].why = (uint8_t)why;
	return 0;
}

/* Hand n prepared requests to the built-in engine; those it does not take
 * (it cannot refuse: same depth, and it does not die) complete with -EIO. */
static void soft_submit(struct wd_queue *q, const wd_sqe *e, unsigned n)
{
	struct wd_fb *fb = q->fb;
	int ret = wd_send(fb->soft, e, n);
	unsigned i = ret > 0 ? (unsigned)ret : 0;

	for (; i < n; i++) {
		unsigned s = (uint32_t)e[i].tag;

		fb_done_err(fb, s, -EIO);
		fb->n_lost++;
	}
}

/* One request the device had (or refused) goes to the built-in engine:
 * 0, or it stays as it was (the engine cannot be had). */
int fb_to_soft(struct wd_queue *q, unsigned s, unsigned why)
{
	wd_sqe e;
	int ret = soft_prep(q, s, why, &e);

	if (!ret)
		soft_submit(q, &e, 1);
	return ret;
}

/* ---- send ---- */

#define SOFT_BATCH 16

/* The device failed: requests go to the built-in engine, but those that
 * need what the device took with it. */
static int send_soft(struct wd_queue *q, const struct wd_req *reqs, unsigned n)
{
	struct wd_fb *fb = q->fb;
	wd_sqe batch[SOFT_BATCH];
	unsigned i, k = 0;
	int ret;

	for (i = 0; i < n; i++) {
		unsigned s = slot_get(fb);

		fb->shadow[s] = reqs[i];
		fb->slot[s].where = FB_SOFT;
		ret = needs_state(fb, &reqs[i]);
		if (!ret)
			ret = soft_prep(q, s, FB_WHY_FAILURE, &batch[k]);
		if (ret) {
			fb_done_err(fb, s, ret == -ENOTRECOVERABLE ? ret : -EIO);
			fb->n_lost++;
			continue;
		}
		if (++k == SOFT_BATCH) {
			soft_submit(q, batch, k);
			k = 0;
		}
	}
	if (k)
		soft_submit(q, batch, k);
	q->inflight += n;
	if (fb->done_head != fb->done_tail)
		fb_kick_waiters(q);
	return (int)n;
}

/* The device lives: each request into its ring, under the library's tag;
 * those of a session that lives on the built-in engine go there. */
static int send_dev(struct wd_queue *q, const struct wd_req *reqs, unsigned n)
{
	struct wd_fb *fb = q->fb;
	struct wd_ring *r = &q->ring;
	uint32_t tail = q->sq_tail, i;

	for (i = 0; i < n; i++) {
		unsigned s = slot_get(fb);
		wd_sqe *e = &r->sqes[tail & r->sq_mask];

		memcpy(&fb->shadow[s], &reqs[i], sizeof(*e));
		if (wd_unlikely(fb->on_soft && (fb->on_soft & fb_bit(reqs[i].session)))) {
			if (fb_to_soft(q, s, FB_WHY_REFUSAL))
				fb_done_err(fb, s, -EIO); /* cannot be: it lives there */
			continue;
		}
		/* the ring's copy: the user's request under the library's tag */
		memcpy(e, &reqs[i], sizeof(*e));
		e->tag = slot_tag(fb, s);
		fb->slot[s].where = FB_DEV;
		fb->slot[s].ridx = tail;
		fb->ring_slot[tail & r->sq_mask] = (uint16_t)s;
		tail++;
	}
	q->inflight += n;
	if (tail == q->sq_tail)
		return (int)n;
	fb->dev_inflight += tail - q->sq_tail;
	q->sq_tail = tail;
	/* the doorbell, as in wd_send */
	wd_store_sc(&r->ctl->sq_tail, tail);
	if (wd_unlikely(wd_load_sc(&r->ctl->sq_flags) & WD_SQ_NEED_WAKEUP)) {
		q->kicks++;
		q->ops->kick(q);
	}
	return (int)n;
}

int wd__fb_send(struct wd_queue *q, const struct wd_req *reqs, unsigned n)
{
	struct wd_fb *fb = q->fb;
	uint32_t space;
	int ret;

	if (wd_unlikely(q->fork_gen != wd__fork_gen))
		return -ECHILD;
	if (wd_unlikely(q->state != WD_Q_STARTED))
		return q->state == WD_Q_ZOMBIE ? -EIO : -ESHUTDOWN;
	if (wd_unlikely(!fb->failed && (q->dead || wd_load_acquire(&q->ring.ctl->dev_status)))) {
		ret = wd__fb_failover(q);
		if (ret)
			return ret;
	}
	space = q->depth - q->inflight;
	if (!space)
		return -EBUSY;
	if (n > space)
		n = space;
	return fb->failed ? send_soft(q, reqs, n) : send_dev(q, reqs, n);
}

/* ---- reap ---- */

static void reap_done(struct wd_queue *q, struct sink *k)
{
	struct wd_fb *fb = q->fb;

	while (k->n < k->max && fb->done_head != fb->done_tail) {
		unsigned s = fb->doneq[fb->done_head++ % fb->depth];

		deliver(q, k, s, &fb->done[s]);
	}
}

/* A completion of the device that failed (-EIO) or refused (-EOPNOTSUPP)
 * a request: to the built-in engine if it can run it (1). */
static int rerun(struct wd_queue *q, unsigned s, int status)
{
	const wd_sqe *e = &q->fb->shadow[s];

	if (e->op >= 32 || !(q->op_mask & (1u << e->op)))
		return 0; /* the queue does not take it: the answer stands */
	if (fb_rerun_check(q, e, status == -EIO))
		return 0;
	if (fb_to_soft(q, s, status == -EOPNOTSUPP ? FB_WHY_REFUSAL : FB_WHY_FAILURE))
		return 0;
	q->fb->n_moved++;
	return 1;
}

/* The device's completions.  A tag that names none of its requests, or
 * more completions than it has requests, is a broken ring: the device is
 * failed over (what it posted before counts). */
static void reap_dev(struct wd_queue *q, struct sink *k)
{
	struct wd_fb *fb = q->fb;
	struct wd_ring *r = &q->ring;
	uint32_t avail = wd_load_acquire(&r->ctl->cq_tail) - q->cq_head;
	uint32_t end = q->cq_head + avail;
	int bad = avail > fb->dev_inflight;

	/* nothing yet: write nothing either (cq_head's line is one the device
	 * reads on every pass; a poller must not take it away from it) */
	if (!avail)
		return;
	/* up to end, or less if a callback reaped some of them itself (or
	 * failed the device over: its ring is then none of ours) */
	while (!bad && !fb->detached && (int32_t)(end - q->cq_head) > 0 && k->n < k->max) {
		wd_cqe c;
		int s;

		memcpy(&c, &r->cqes[q->cq_head & r->cq_mask], sizeof(c)); /* once */
		s = fb_slot_of(fb, c.tag, FB_DEV);
		if (wd_unlikely(s < 0)) {
			bad = 1;
			break;
		}
		/* a device that declared its ring dead before failing this one:
		 * the failover takes it with the rest */
		if (wd_unlikely(c.status == -EIO && wd_load_acquire(&r->ctl->dev_status))) {
			bad = 1;
			break;
		}
		/* consumed before the callback runs: it may reap again */
		q->cq_head++;
		fb->dev_inflight--;
		if (wd_unlikely((c.status == -EIO || c.status == -EOPNOTSUPP) &&
				rerun(q, (unsigned)s, c.status)))
			continue;
		c.tag = fb->shadow[s].tag;
		deliver(q, k, (unsigned)s, &c);
	}
	if (fb->detached)
		return; /* a callback failed the device over meanwhile */
	wd_store_release(&r->ctl->cq_head, q->cq_head);
	if (q->armed) {
		q->armed = 0;
		wd_store_release(&r->ctl->cq_flags, 0);
	}
	if (wd_unlikely(bad))
		wd__fb_failover(q);
}

/* The built-in engine's completions: its own queue, its own checks. */
static void reap_soft(struct wd_queue *q, struct sink *k)
{
	struct wd_fb *fb = q->fb;
	wd_cqe buf[SOFT_BATCH];
	int got, i;

	while (k->n < k->max) {
		unsigned want = k->max - k->n < SOFT_BATCH ? k->max - k->n : SOFT_BATCH;

		got = wd_recv(fb->soft, buf, want);
		for (i = 0; i < got; i++) {
			int s = fb_slot_of(fb, buf[i].tag, FB_SOFT);

			if (s < 0)
				continue; /* cannot be: nothing else feeds it */
			buf[i].tag = fb->shadow[s].tag;
			/* cancelled by a stop: nobody ran it */
			if (buf[i].status != -ECANCELED) {
				buf[i].flags |= WD_CPL_F_SOFT;
				if (fb->slot[s].why == FB_WHY_REFUSAL)
					fb->n_refusal++;
				else
					fb->n_failure++;
			}
			deliver(q, k, (unsigned)s, &buf[i]);
		}
		if (got < (int)want)
			break;
	}
}

int wd__fb_reap(struct wd_queue *q, struct wd_cpl *out, unsigned max, wd_cpl_fn fn, void *arg)
{
	struct wd_fb *fb = q->fb;
	struct sink k = { out, fn, arg, 0, max };

	reap_done(q, &k);
	if (!fb->detached && k.n < max) {
		reap_dev(q, &k);
		reap_done(q, &k); /* a failover on the way leaves completions */
	}
	if (fb->soft && k.n < max)
		reap_soft(q, &k);
	return (int)k.n;
}
