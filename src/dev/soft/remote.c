/* SPDX-License-Identifier: MIT */
/*
 * Remote SVA (the daemon's clients): copying the next request's source in
 * and a request's result out while the engine works on another.  The engine
 * reaches a client's memory only through the client's memory file (ops.c,
 * bounce() and write_back()), which the kernel serves a page at a time (a
 * page lookup in the client's address space and two copies each): for a
 * 64 KiB compression that is about a fifth of the engine's time, during
 * which nothing else happens.  So an engine thread that serves such queues
 * gets a helper thread that makes the same pread() and pwrite() calls on
 * the same file, from buffers of its own:
 *   - read ahead: the source of the request next in the ring, while the
 *     engine runs the current one; the engine takes that buffer when the
 *     request's source turns out to be exactly what was read;
 *   - write behind: a request's result, while the engine goes on; the
 *     helper then posts the request's completion itself, in the slot the
 *     engine kept for it, so a client waiting for it waits no longer than
 *     if the engine had written it.
 *
 * None of it may change what a client sees:
 *   - a read ahead is a hint: the request is validated as always from its
 *     own single copy of the descriptor, and takes the buffer only for the
 *     very queue (its never reused id), address and length read; anything
 *     else reads for itself;
 *   - ring order: a write drops an overlapping read ahead made before it
 *     (after the helper is done with it), so that request reads again,
 *     afterwards; the helper takes a waiting write before a waiting read,
 *     and reads are posted after every earlier write, so later reads see
 *     earlier writes; whatever the engine reads or writes itself waits
 *     first for an overlapping write still on its way (soft_remote_fence);
 *     completions stay in order: the engine posts none on the queue until
 *     the helper's is out (soft_remote_write_done);
 *   - the same file, with the checks bounce() makes before (the address in
 *     the user half, the length bounded): a failed or short read (memory
 *     unmapped, the client gone or running another program) drops the
 *     hint, and the request's own read then meets the error; a failed or
 *     short write fails its request with -EFAULT, as it would inline;
 *   - lifetime: a read ahead ends with its queue's pass
 *     (soft_remote_settle); a write may go on into the engine's next
 *     passes, but the engine waits for it before it takes any change of
 *     its queue list (a queue leaving), before that queue's own next work,
 *     and before it ends, so the helper never touches a queue (its file,
 *     ring or wake-up pipe) that is detached, let alone closed.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

#include "soft.h"

/* One direction's job.  Written by the engine while the helper is not busy
 * with it, read by the helper while it is; the result (ok, and for a read
 * the buffer's bytes) written by the helper, read by the engine after it
 * saw busy go back to 0. */
struct remote_job {
	int busy;                       /* under the lock */
	int posted;                     /* the engine's: not yet taken or dropped */
	int ok;
	int fd;
	uint64_t queue_id, addr, len;
	void *buf;
	size_t cap;
	/* a write: the completion the helper posts after it, at slot cq_idx */
	struct soft_queue *sq;
	wd_cqe cqe;
	uint32_t cq_idx;
};

struct soft_remote {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;            /* a busy flag changed, either way */
	int stop;                       /* under the lock */
	struct remote_job rd, wr;
};

static void *helper_main(void *arg)
{
	struct soft_remote *h = arg;
	struct remote_job *j;
	ssize_t n;

	pthread_mutex_lock(&h->lock);
	for (;;) {
		while (!h->wr.busy && !h->rd.busy && !h->stop)
			pthread_cond_wait(&h->cond, &h->lock);
		if (h->stop)
			break;
		/* a write first: a read posted meanwhile came after it */
		j = h->wr.busy ? &h->wr : &h->rd;
		pthread_mutex_unlock(&h->lock);
		if (j == &h->wr) {
			n = pwrite(j->fd, j->buf, j->len, (off_t)j->addr);
			j->ok = n == (ssize_t)j->len;
			if (!j->ok)
				j->cqe.status = -EFAULT; /* as written inline */
			/* the engine posts nothing on this queue meanwhile */
			soft_cq_put(j->sq, j->cq_idx, &j->cqe);
		} else {
			n = pread(j->fd, j->buf, j->len, (off_t)j->addr);
			j->ok = n == (ssize_t)j->len;
		}
		pthread_mutex_lock(&h->lock);
		j->busy = 0;
		pthread_cond_broadcast(&h->cond);
	}
	pthread_mutex_unlock(&h->lock);
	return NULL;
}

/* Wait until the helper is done with the job. */
static void job_wait(struct soft_remote *h, struct remote_job *j)
{
	pthread_mutex_lock(&h->lock);
	while (j->busy)
		pthread_cond_wait(&h->cond, &h->lock);
	pthread_mutex_unlock(&h->lock);
}

static void job_start(struct soft_remote *h, struct remote_job *j, struct soft_queue *sq,
		      uint64_t addr, uint64_t len)
{
	j->fd = sq->remote_mem;
	j->queue_id = sq->id;
	j->addr = addr;
	j->len = len;
	pthread_mutex_lock(&h->lock);
	j->busy = 1;
	pthread_cond_broadcast(&h->cond);
	pthread_mutex_unlock(&h->lock);
	j->posted = 1;
}

static int job_overlaps(const struct remote_job *j, const struct soft_queue *sq, uint64_t addr,
			uint64_t len)
{
	return j->posted && j->queue_id == sq->id && len && addr < j->addr + j->len &&
	       j->addr < addr + len;
}

/* A buffer that went through a large request is not kept a second time. */
static void job_trim(struct remote_job *j)
{
	if (j->cap > SOFT_REMOTE_AHEAD_MAX) {
		free(j->buf);
		j->buf = NULL;
		j->cap = 0;
	}
}

/* Trade the job's buffer for the scratch's bounce buffer of slot. */
static void job_swap(struct remote_job *j, struct soft_scratch *s, unsigned slot)
{
	void *b = s->bounce[slot];
	size_t cap = s->bounce_len[slot];

	s->bounce[slot] = j->buf;
	s->bounce_len[slot] = j->cap;
	j->buf = b;
	j->cap = cap;
}

int soft_remote_helper(struct soft_scratch *s)
{
	struct soft_remote *h = s->remote;

	if (h || s->remote_failed)
		return h != NULL;
	h = calloc(1, sizeof(*h));
	if (h) {
		pthread_mutex_init(&h->lock, NULL);
		pthread_cond_init(&h->cond, NULL);
		if (!pthread_create(&h->thread, NULL, helper_main, h)) {
			s->remote = h;
			return 1;
		}
		pthread_mutex_destroy(&h->lock);
		pthread_cond_destroy(&h->cond);
		free(h);
	}
	s->remote_failed = 1; /* no helper: requests copy for themselves */
	return 0;
}

void soft_remote_read_post(struct soft_queue *sq, struct soft_scratch *s, uint64_t addr,
			   uint64_t len)
{
	struct soft_remote *h;
	struct remote_job *j;

	if (!soft_remote_helper(s))
		return;
	h = s->remote;
	j = &h->rd;
	if (j->posted) {
		job_wait(h, j); /* whatever it held goes */
		j->posted = 0;
	}
	if (j->cap < len) {
		void *b = realloc(j->buf, len);

		if (!b)
			return;
		j->buf = b;
		j->cap = len;
	}
	job_start(h, j, sq, addr, len);
}

int soft_remote_read_take(struct soft_queue *sq, struct soft_scratch *s, unsigned slot,
			  uint64_t addr, uint64_t len)
{
	struct soft_remote *h = s->remote;
	struct remote_job *j;

	if (!h)
		return 0;
	j = &h->rd;
	if (!j->posted || j->queue_id != sq->id || j->addr != addr || j->len != len)
		return 0;
	job_wait(h, j);
	j->posted = 0;
	if (!j->ok)
		return 0;
	job_swap(j, s, slot); /* the request's buffer becomes the next read's */
	job_trim(j);
	return 1;
}

void soft_remote_fence(struct soft_queue *sq, struct soft_scratch *s, uint64_t addr,
		       uint64_t len, int write)
{
	struct soft_remote *h = s->remote;

	if (!h)
		return;
	if (job_overlaps(&h->wr, sq, addr, len))
		job_wait(h, &h->wr);
	/* a read ahead made before this write cannot have seen it */
	if (write && job_overlaps(&h->rd, sq, addr, len)) {
		job_wait(h, &h->rd);
		h->rd.posted = 0;
	}
}

int soft_remote_write_later(struct soft_scratch *s, uint64_t len)
{
	return s->engine && len >= SOFT_REMOTE_AHEAD_MIN && len <= SOFT_REMOTE_AHEAD_MAX &&
	       soft_remote_helper(s);
}

void soft_remote_write_post(struct soft_queue *sq, struct soft_scratch *s, unsigned slot,
			    uint64_t addr, uint64_t len, const wd_cqe *c, uint32_t cq_idx)
{
	struct soft_remote *h = s->remote;

	soft_remote_fence(sq, s, addr, len, 1);
	job_wait(h, &h->wr); /* its result was taken by soft_remote_write_done() */
	job_swap(&h->wr, s, slot);
	h->wr.sq = sq;
	h->wr.cqe = *c;
	h->wr.cq_idx = cq_idx;
	job_start(h, &h->wr, sq, addr, len);
}

struct soft_queue *soft_remote_behind(const struct soft_scratch *s)
{
	return s->remote && s->remote->wr.posted ? s->remote->wr.sq : NULL;
}

int soft_remote_write_done(struct soft_scratch *s, struct soft_queue **sq, int *status)
{
	struct soft_remote *h = s->remote;

	if (!h || !h->wr.posted)
		return 0;
	job_wait(h, &h->wr);
	h->wr.posted = 0;
	job_trim(&h->wr);
	*sq = h->wr.sq;
	*status = h->wr.cqe.status;
	return 1;
}

void soft_remote_settle(struct soft_scratch *s)
{
	struct soft_remote *h = s->remote;

	/* a read ahead done stays for the queue's next pass */
	if (h && h->rd.posted)
		job_wait(h, &h->rd);
}

void soft_remote_stop(struct soft_scratch *s)
{
	struct soft_remote *h = s->remote;

	if (!h)
		return;
	pthread_mutex_lock(&h->lock);
	h->stop = 1;
	pthread_cond_broadcast(&h->cond);
	pthread_mutex_unlock(&h->lock);
	pthread_join(h->thread, NULL);
	pthread_mutex_destroy(&h->lock);
	pthread_cond_destroy(&h->cond);
	soft_remote_free(s);
}

void soft_remote_free(struct soft_scratch *s)
{
	if (!s->remote)
		return;
	free(s->remote->rd.buf);
	free(s->remote->wr.buf);
	free(s->remote);
	s->remote = NULL;
}
