/* SPDX-License-Identifier: MIT */
/*
 * What the synchronous helpers (wd_compress, wd_encrypt, streams, wd_run)
 * share: one request on an idle queue, run in the calling thread where the
 * device can, else through the ring; and the session ids that compression
 * streams and cipher sessions take from their queue.
 */
#include <errno.h>

#include "fallback.h"
#include "internal.h"

#define SYNC_TAG 0x5759434e53ull

/*
 * A caller that waits for the answer gains nothing from a hop to an engine
 * thread: where the device can run the request in this thread (exec_sync:
 * the in-process software engine), it does, after the checks wd_send makes
 * (the device then makes its own, as for a ring request).  The ring is not
 * touched, so requests submitted later keep their order and indices.  The
 * device may decline (1) while its threads hold the queue's state; then the
 * request goes through the ring like any other.
 */
int wd__run_sync(struct wd_queue *q, struct wd_req *r, struct wd_cpl *c)
{
	int ret;

	if (!q)
		return -EINVAL;
	if (q->inflight)
		return -EBUSY;
	r->tag = SYNC_TAG;
	if (q->fb && (ret = wd__fb_run_sync(q, r, c)) <= 0)
		return ret; /* the built-in engine ran it, or will not */
	if (q->exec_sync) {
		ret = wd__queue_usable(q);
		if (wd_unlikely(ret))
			return ret;
		ret = q->exec_sync(q, r, c);
		if (wd_likely(ret <= 0))
			return ret;
	}
	ret = wd_send(q, r, 1);
	if (ret < 0)
		return ret;
	do
		ret = wd_wait(q, c, 1, -1);
	while (ret == -EINTR);
	if (ret < 0)
		return ret;
	return c->tag == SYNC_TAG ? 0 : -EIO;
}

WD_EXPORT int wd_run(struct wd_queue *q, struct wd_req *r, struct wd_cpl *c)
{
	if (!r || !c)
		return -EINVAL;
	return wd__run_sync(q, r, c);
}

int wd__session_take(struct wd_queue *q)
{
	uint64_t busy;
	unsigned id;

	/* A request still in flight may name an id freed meanwhile; such ids
	 * wait until the queue has been idle, so that request can only meet a
	 * closed session (-EINVAL), never somebody else's key or stream. */
	if (!q->inflight)
		q->sessions_stale = 0;
	busy = q->sessions_used | q->sessions_stale;
	if (busy == ~0ull)
		return -EBUSY;
	id = (unsigned)__builtin_ctzll(~busy);
	q->sessions_used |= 1ull << id;
	if (q->fb)
		wd__fb_session(q, id + 1);
	return (int)id + 1;
}

void wd__session_put(struct wd_queue *q, unsigned id)
{
	uint64_t bit = 1ull << (id - 1);

	q->sessions_used &= ~bit;
	if (q->fb)
		wd__fb_session(q, id);
	if (q->inflight)
		q->sessions_stale |= bit;
}
