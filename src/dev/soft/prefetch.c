/* SPDX-License-Identifier: MIT */
/*
 * Remote SVA (the daemon's clients): reading the next request's source while
 * the engine works on the current one.  The engine reaches a client's memory
 * only through the client's memory file (ops.c, bounce()), which the kernel
 * serves a page at a time (a page lookup in the client's address space and
 * two copies each): for a 64 KiB compression that is about a tenth of the
 * engine's time, spent while nothing else happens.  So each engine thread
 * that serves such queues has a helper thread that makes the same pread()
 * on the same file for the request next in the ring, into a buffer of its
 * own, while the engine runs the current request; the engine takes that
 * buffer when the request's source turns out to be exactly what was read.
 *
 * A read ahead of its turn must not change what a request sees:
 *   - it is a hint: the request is validated as always from its own single
 *     copy of the descriptor, and takes the buffer only for the very queue
 *     (its never reused id), address and length read; anything else reads
 *     as before;
 *   - the request before it may write where it reads: every write-back of
 *     the queue that overlaps the range drops the hint (after the helper is
 *     done with it), so the request reads afterwards, in ring order;
 *   - only through that queue's file, with the checks bounce() makes (the
 *     address in the user half, the length bounded): a failed or short read
 *     (memory unmapped, the client gone or another program) drops the hint,
 *     and the request's own read then meets the error;
 *   - the helper works only while the engine is inside that queue's pass
 *     (soft_prefetch_settle() at the end waits for it), so it never uses a
 *     file of a queue that is being detached or closed.
 */
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

#include "soft.h"

struct soft_prefetch {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;            /* busy changes, either way */
	int busy, stop;                 /* under lock */
	/* The job: written by the engine while the helper is not busy, read
	 * by the helper while it is; the result (ok, the buffer's bytes):
	 * written by the helper, read by the engine after it saw !busy. */
	int fd;
	uint64_t queue_id, addr, len;
	int ok;
	void *buf;
	size_t cap;
	int posted;                     /* the engine's: a job it has not taken or dropped */
};

static void *pf_main(void *arg)
{
	struct soft_prefetch *p = arg;
	ssize_t n;

	pthread_mutex_lock(&p->lock);
	for (;;) {
		while (!p->busy && !p->stop)
			pthread_cond_wait(&p->cond, &p->lock);
		if (p->stop)
			break;
		pthread_mutex_unlock(&p->lock);
		n = pread(p->fd, p->buf, p->len, (off_t)p->addr);
		pthread_mutex_lock(&p->lock);
		p->ok = n == (ssize_t)p->len;
		p->busy = 0;
		pthread_cond_broadcast(&p->cond);
	}
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

/* Wait until the helper is done with the job, and forget it. */
static void pf_wait(struct soft_prefetch *p)
{
	pthread_mutex_lock(&p->lock);
	while (p->busy)
		pthread_cond_wait(&p->cond, &p->lock);
	pthread_mutex_unlock(&p->lock);
	p->posted = 0;
}

static struct soft_prefetch *pf_get(struct soft_scratch *s)
{
	struct soft_prefetch *p = s->pf;

	if (p || s->pf_failed)
		return p;
	p = calloc(1, sizeof(*p));
	if (p) {
		pthread_mutex_init(&p->lock, NULL);
		pthread_cond_init(&p->cond, NULL);
		if (!pthread_create(&p->thread, NULL, pf_main, p))
			return s->pf = p;
		pthread_mutex_destroy(&p->lock);
		pthread_cond_destroy(&p->cond);
		free(p);
	}
	s->pf_failed = 1; /* no helper: requests read for themselves */
	return NULL;
}

void soft_prefetch_post(struct soft_queue *sq, struct soft_scratch *s, uint64_t addr,
			uint64_t len)
{
	struct soft_prefetch *p = pf_get(s);

	if (!p)
		return;
	if (p->posted)
		pf_wait(p); /* whatever it held goes */
	if (p->cap < len) {
		void *b = realloc(p->buf, len);

		if (!b)
			return;
		p->buf = b;
		p->cap = len;
	}
	p->fd = sq->remote_mem;
	p->queue_id = sq->id;
	p->addr = addr;
	p->len = len;
	pthread_mutex_lock(&p->lock);
	p->busy = 1;
	pthread_cond_broadcast(&p->cond);
	pthread_mutex_unlock(&p->lock);
	p->posted = 1;
}

int soft_prefetch_take(struct soft_queue *sq, struct soft_scratch *s, unsigned slot,
		       uint64_t addr, uint64_t len)
{
	struct soft_prefetch *p = s->pf;
	void *b;
	size_t cap;

	if (!p || !p->posted || p->queue_id != sq->id || p->addr != addr || p->len != len)
		return 0;
	pf_wait(p);
	if (!p->ok)
		return 0;
	/* the buffers trade places: the request's becomes the next read's */
	b = s->bounce[slot];
	cap = s->bounce_len[slot];
	s->bounce[slot] = p->buf;
	s->bounce_len[slot] = p->cap;
	p->buf = b;
	p->cap = cap;
	if (p->cap > SOFT_PREFETCH_MAX) {
		/* one large request's buffer is not kept twice */
		free(p->buf);
		p->buf = NULL;
		p->cap = 0;
	}
	return 1;
}

void soft_prefetch_forget(struct soft_queue *sq, struct soft_scratch *s, uint64_t addr,
			  uint64_t len)
{
	struct soft_prefetch *p = s->pf;

	if (!p || !p->posted || p->queue_id != sq->id || !len || addr >= p->addr + p->len ||
	    p->addr >= addr + len)
		return;
	pf_wait(p);
}

void soft_prefetch_settle(struct soft_scratch *s)
{
	struct soft_prefetch *p = s->pf;

	/* done reading; what it read stays for the queue's next pass */
	if (p && p->posted) {
		pthread_mutex_lock(&p->lock);
		while (p->busy)
			pthread_cond_wait(&p->cond, &p->lock);
		pthread_mutex_unlock(&p->lock);
	}
}

void soft_prefetch_stop(struct soft_scratch *s)
{
	struct soft_prefetch *p = s->pf;

	if (!p)
		return;
	pthread_mutex_lock(&p->lock);
	p->stop = 1;
	pthread_cond_broadcast(&p->cond);
	pthread_mutex_unlock(&p->lock);
	pthread_join(p->thread, NULL);
	pthread_mutex_destroy(&p->lock);
	pthread_cond_destroy(&p->cond);
	soft_prefetch_free(s);
}

void soft_prefetch_free(struct soft_scratch *s)
{
	if (!s->pf)
		return;
	free(s->pf->buf);
	free(s->pf);
	s->pf = NULL;
}
