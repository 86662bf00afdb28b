/* SPDX-License-Identifier: MIT */
/*
 * An instance's queues and the cipher sessions on them.
 *
 * A context keeps one session (its key on the device) from its first
 * operation that goes to a queue until its key changes or it is freed; a
 * queue holds up to WD_MAX_SESSIONS of them and runs one synchronous
 * request at a time (its lock; ASYNC_JOBs keep up to WDP_QUEUE_DEPTH in
 * flight, async.c).  A new session goes to a queue the calling thread opened, so
 * threads that keep their own contexts never wait for each other; a thread
 * opens a new queue when its own are full, and shares another thread's
 * only when the device has no queue left.  Queues are opened lazily (a
 * program that loads the provider and never ciphers much opens none), on
 * the configured device, with one engine thread for the whole context: the
 * synchronous requests this provider makes run in the calling thread on
 * the in-process device anyway (ASYNC_JOBs' go to that thread: async.c;
 * one queue's requests are served in order by one engine thread, so more
 * would not run them side by side).
 *
 * A queue that cannot be had is not asked for again for a second (a dead
 * daemon would otherwise cost a connection attempt per operation); a queue
 * whose device failed takes no new sessions and goes when its last one
 * closes (or, if a job's wait context still names its descriptor, when
 * the pool goes).
 *
 * Fork: the library answers -ECHILD for a parent's queue in the child.  A
 * fork handler, run in the child before anything else, moves the parent's
 * queues aside (never locked, never used: a parent thread may have held
 * their locks) and bumps the pool's epoch; contexts notice it on their
 * next operation and open a session on a queue of the child's own.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <wd/mem.h>

#include "wdp.h"

#define POOL_MAX 256            /* queues per instance */
#define RETRY_NS 1000000000LL   /* after a failure to get a queue */

int64_t wdp_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void wdp_pool_init(struct wdp_pool *p)
{
	memset(p, 0, sizeof(*p));
	pthread_mutex_init(&p->lock, NULL);
}

/* The pool lets a queue go: its resources now, the structure when the
 * last ASYNC_WAIT_CTX naming its descriptor lets it go too (async.c). */
static void queue_free(struct wdp_queue *wq)
{
	wdp_ring_fini(&wq->rs);
	wdp_req_bounce_free(wq);
	wd_queue_free(wq->q);
	wq->q = NULL;
	pthread_mutex_destroy(&wq->lock);
	wdp_queue_put(wq);
}

void wdp_pool_destroy(struct wdp_pool *p)
{
	struct wdp_queue *wq, *next;
	unsigned i;

	for (wq = p->queues; wq; wq = next) {
		next = wq->next;
		queue_free(wq);
	}
	/* a fork parent's: the library frees only its heap copies here; the
	 * locks may be held by the parent's threads, the bounce buffers are
	 * not mapped in this process */
	for (wq = p->parents; wq; wq = next) {
		next = wq->next;
		wdp_ring_fini(&wq->rs);
		wd_queue_free(wq->q);
		wdp_queue_put(wq);
	}
	if (p->ctx)
		wd_ctx_free(p->ctx);
	for (i = 0; i < p->nparent_ctx; i++)
		wd_ctx_free(p->parent_ctx[i]);
	free(p->parent_ctx);
	pthread_mutex_destroy(&p->lock);
}

/* In a fork child, every lock held by this (the only) thread. */
static void pool_forked(struct wdp_pool *p)
{
	struct wdp_queue *wq = p->queues;
	struct wd_ctx **pc;

	if (wq) {
		while (wq->next)
			wq = wq->next;
		wq->next = p->parents;
		p->parents = p->queues;
	}
	if (p->ctx) {
		pc = realloc(p->parent_ctx, (p->nparent_ctx + 1) * sizeof(*pc));
		if (pc) {
			p->parent_ctx = pc;
			pc[p->nparent_ctx++] = p->ctx;
		} /* else: left unreachable, never touched */
	}
	p->queues = NULL;
	p->nqueues = 0;
	p->ctx = NULL;
	p->retry_ns = 0;
	p->unsupported = 0;
	p->async_max = 0;
	__atomic_store_n(&p->epoch, p->epoch + 1, __ATOMIC_RELEASE);
}

/* ---- live instances, for the fork handler ---- */

static pthread_mutex_t reg_lock = PTHREAD_MUTEX_INITIALIZER;
static struct wdp_prov *reg;
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;

/* Lock order: reg_lock, then an instance's stats lock, then its pool lock. */
static void fork_prepare(void)
{
	struct wdp_prov *p;

	pthread_mutex_lock(&reg_lock);
	for (p = reg; p; p = p->next) {
		pthread_mutex_lock(&p->stats.lock);
		pthread_mutex_lock(&p->pool.lock);
	}
}

static void fork_parent(void)
{
	struct wdp_prov *p;

	for (p = reg; p; p = p->next) {
		pthread_mutex_unlock(&p->pool.lock);
		pthread_mutex_unlock(&p->stats.lock);
	}
	pthread_mutex_unlock(&reg_lock);
}

static void fork_child(void)
{
	struct wdp_prov *p;

	for (p = reg; p; p = p->next) {
		pool_forked(&p->pool);
		wdp_stats_forked(&p->stats);
		pthread_mutex_unlock(&p->pool.lock);
		pthread_mutex_unlock(&p->stats.lock);
	}
	pthread_mutex_unlock(&reg_lock);
}

static void atfork_setup(void)
{
	pthread_atfork(fork_prepare, fork_parent, fork_child);
}

void wdp_registry_add(struct wdp_prov *p)
{
	pthread_once(&atfork_once, atfork_setup);
	pthread_mutex_lock(&reg_lock);
	p->next = reg;
	reg = p;
	pthread_mutex_unlock(&reg_lock);
}

void wdp_registry_del(struct wdp_prov *p)
{
	struct wdp_prov **pp;

	pthread_mutex_lock(&reg_lock);
	for (pp = &reg; *pp; pp = &(*pp)->next)
		if (*pp == p) {
			*pp = p->next;
			break;
		}
	pthread_mutex_unlock(&reg_lock);
}

/* The module goes (exit, or an unload without teardown): instances that
 * were never torn down (a program that leaked a cipher context keeps its
 * provider) still owe their statistics line. */
__attribute__((destructor)) static void registry_fini(void)
{
	struct wdp_prov *p;

	pthread_mutex_lock(&reg_lock);
	for (p = reg; p; p = p->next)
		wdp_stats_print(p);
	pthread_mutex_unlock(&reg_lock);
}

/* ---- queues ---- */

/* The device work goes to, for messages: the one the first queue landed
 * on, else the one configured. */
void wdp_pool_device(struct wdp_prov *prov, char *buf, size_t len)
{
	struct wdp_pool *p = &prov->pool;

	pthread_mutex_lock(&p->lock);
	snprintf(buf, len, "%s", p->device[0] ? p->device : prov->cfg.device[0] ?
				prov->cfg.device : "(auto)");
	pthread_mutex_unlock(&p->lock);
}

/* With the pool's lock held. */
static struct wd_ctx *pool_ctx(struct wdp_prov *prov)
{
	struct wd_ctx_opts o = { .size = sizeof(o), .soft_threads = 1 };
	struct wdp_pool *p = &prov->pool;
	int ret;

	if (p->ctx)
		return p->ctx;
	/* no daemon round trip at load unless a device was named */
	if (!prov->cfg.device_named)
		o.flags = WD_CTX_F_LOCAL_ONLY;
	ret = wd_ctx_new(&p->ctx, &o);
	if (ret) {
		p->ctx = NULL;
		p->last_err = ret;
	}
	return p->ctx;
}

/* With the pool's lock held: a new queue, or NULL (p->last_err says why). */
static struct wdp_queue *queue_open(struct wdp_prov *prov)
{
	struct wd_queue_opts o = { .size = sizeof(o), .depth = WDP_QUEUE_DEPTH };
	struct wdp_pool *p = &prov->pool;
	struct wd_dev_info di = { .size = sizeof(di) };
	struct wd_queue_info qi = { .size = sizeof(qi) };
	struct wdp_queue *wq;
	struct wd_dev *dev;
	int ret;

	if (!pool_ctx(prov))
		return NULL;
	o.device = prov->cfg.device[0] ? prov->cfg.device : NULL;
	dev = o.device ? wd_dev_by_name(p->ctx, o.device) : wd_dev_find(p->ctx, "cipher");
	if (!dev || wd_dev_info(dev, &di)) {
		p->last_err = -ENODEV;
		return NULL;
	}
	if (prov->cfg.explicit_mem || !(di.flags & WD_DEV_F_SVA))
		o.flags |= WD_QUEUE_F_EXPLICIT;
	wq = calloc(1, sizeof(*wq));
	if (!wq) {
		p->last_err = -ENOMEM;
		return NULL;
	}
	ret = wd_queue_new(&wq->q, p->ctx, "cipher", &o);
	if (!ret && (o.flags & WD_QUEUE_F_EXPLICIT))
		ret = wdp_req_bounce_init(wq);
	if (ret) {
		if (wq->q)
			wd_queue_free(wq->q);
		free(wq);
		p->last_err = ret;
		return NULL;
	}
	pthread_mutex_init(&wq->lock, NULL);
	wdp_ring_init(&wq->rs);
	wq->refs = 1; /* the pool's */
	wq->home = pthread_self();
	wq->dev = dev;
	/* the in-process engine fails a request before writing anything */
	wq->in_process = !!(di.flags & WD_DEV_F_SOFT) && !wq->bounce;
	if (!p->device[0] && !wd_queue_info(wq->q, &qi))
		memcpy(p->device, qi.device, sizeof(p->device));
	wq->next = p->queues;
	p->queues = wq;
	p->nqueues++;
	return wq;
}

/* The algorithm name a device lists for each wd_cipher_alg. */
static const char *const mode_alg[] = {
	[WD_CIPHER_AES_CBC] = "aes-cbc", [WD_CIPHER_AES_CTR] = "aes-ctr",
	[WD_CIPHER_AES_XTS] = "aes-xts", [WD_CIPHER_AES_GCM] = "aes-gcm",
};

static int has_room(const struct wdp_queue *wq)
{
	return !wq->broken && wq->sessions < WD_MAX_SESSIONS;
}

/* With the pool's lock held: where a new session goes, or NULL. */
static struct wdp_queue *queue_pick(struct wdp_prov *prov)
{
	struct wdp_pool *p = &prov->pool;
	struct wdp_queue *wq, *other = NULL;
	pthread_t self = pthread_self();

	for (wq = p->queues; wq; wq = wq->next) {
		if (!has_room(wq))
			continue;
		if (pthread_equal(wq->home, self))
			return wq;
		if (!other || wq->sessions < other->sessions)
			other = wq;
	}
	/* a queue nobody has a session on (its thread is gone, or moved on):
	 * this thread's now, rather than one more queue per new thread */
	if (other && !other->sessions) {
		other->home = self;
		return other;
	}
	if (p->nqueues < POOL_MAX && (!p->retry_ns || wdp_now_ns() >= p->retry_ns)) {
		wq = queue_open(prov);
		if (wq) {
			p->retry_ns = 0;
			return wq;
		}
		p->retry_ns = wdp_now_ns() + RETRY_NS;
	}
	return other;
}

int wdp_sess_open(struct wdp_prov *prov, struct wdp_sess *ws, uint32_t alg, const void *key,
		  size_t key_len)
{
	struct wdp_pool *p = &prov->pool;
	struct wd_cipher_sess *s = NULL;
	struct wdp_queue *wq;
	uint64_t epoch;
	int ret;

	memset(ws, 0, sizeof(*ws));
	if (__atomic_load_n(&p->unsupported, __ATOMIC_RELAXED) & (1u << alg))
		return -EOPNOTSUPP;
	pthread_mutex_lock(&p->lock);
	epoch = p->epoch;
	wq = queue_pick(prov);
	if (!wq) {
		/* full queues: busy; none to be had (p->last_err says why): no device */
		ret = p->queues ? -EBUSY : -ENODEV;
		pthread_mutex_unlock(&p->lock);
		return ret;
	}
	if (alg >= WDP_ARRAY_SIZE(mode_alg) || !mode_alg[alg] || !wd_dev_has_alg(wq->dev, mode_alg[alg])) {
		/* asked of the device, not guessed from a refused session */
		__atomic_or_fetch(&p->unsupported, 1u << alg, __ATOMIC_RELAXED);
		pthread_mutex_unlock(&p->lock);
		return -EOPNOTSUPP;
	}
	wq->sessions++;
	pthread_mutex_unlock(&p->lock);

	pthread_mutex_lock(&wq->lock);
	ret = wd_cipher_sess_new(&s, wq->q, (enum wd_cipher_alg)alg, key, key_len);
	pthread_mutex_unlock(&wq->lock);
	if (ret) {
		pthread_mutex_lock(&p->lock);
		if (p->epoch == epoch) {
			wq->sessions--;
			if (ret == -EOPNOTSUPP)
				__atomic_or_fetch(&p->unsupported, 1u << alg, __ATOMIC_RELAXED);
			else if (ret != -EINVAL && ret != -EBUSY && ret != -ENOMEM)
				wq->broken = 1; /* the device failed: no new sessions there */
		}
		pthread_mutex_unlock(&p->lock);
		return ret;
	}
	ws->wq = wq;
	ws->s = s;
	ws->epoch = epoch;
	return 0;
}

void wdp_sess_close(struct wdp_prov *prov, struct wdp_sess *ws, int broken)
{
	struct wdp_pool *p = &prov->pool;
	struct wdp_queue *wq = ws->wq, **pp;
	int drop = 0;

	if (!ws->s)
		return;
	if (!wdp_sess_live(prov, ws)) {
		/* a fork parent's: the library frees its memory only */
		wd_cipher_sess_free(ws->s);
		memset(ws, 0, sizeof(*ws));
		return;
	}
	pthread_mutex_lock(&wq->lock);
	wd_cipher_sess_free(ws->s);
	pthread_mutex_unlock(&wq->lock);
	pthread_mutex_lock(&p->lock);
	if (ws->epoch == p->epoch) {
		wq->broken |= broken;
		wq->sessions--;
		/* a queue whose descriptor a job's wait context still names
		 * stays open (the program may poll it) until the pool goes */
		if (wq->broken && !wq->sessions &&
		    __atomic_load_n(&wq->refs, __ATOMIC_ACQUIRE) == 1) {
			for (pp = &p->queues; *pp; pp = &(*pp)->next)
				if (*pp == wq) {
					*pp = wq->next;
					p->nqueues--;
					drop = 1;
					break;
				}
		}
	}
	pthread_mutex_unlock(&p->lock);
	if (drop)
		queue_free(wq);
	memset(ws, 0, sizeof(*ws));
}
