/* SPDX-License-Identifier: MIT */
/*
 * The process's queues.  One context, opened on first use; queues made as
 * threads need them and kept for reuse.  A thread goes back to the queue
 * it used last (its lock is then uncontended); streams keep the queue their
 * session lives on.  A fork child starts afresh: the parent's queues are
 * not its own (the library answers -ECHILD on them), so the pool forgets
 * them without touching their locks, which a parent thread may have held.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "wz.h"

#define POOL_MAX 256            /* queues per process; past it threads share */
#define QUEUE_DEPTH 4           /* synchronous work only */
/* After a context could not be made (out of descriptors or memory, the
 * daemon named by WD_DEVICE down), work goes to zlib, counted "nodev", and
 * the context is tried again at most this often: neither given up for the
 * process's life over a passing shortage, nor tried on every call. */
#define CTX_RETRY_NS 1000000000ll

static pthread_mutex_t pool_lock = PTHREAD_MUTEX_INITIALIZER;
static struct wz_queue *pool;
static unsigned pool_len;
static struct wd_ctx *ctx;
static int64_t ctx_failed_ns;   /* when it last failed; 0: it did not */
static uint64_t fork_gen;
static pthread_once_t fork_once = PTHREAD_ONCE_INIT;
static __thread struct wz_queue *tls_last;

static void fork_prepare(void)
{
	pthread_mutex_lock(&pool_lock);
}

static void fork_parent(void)
{
	pthread_mutex_unlock(&pool_lock);
}

/* The parent's queues and context, kept reachable in a fork child (they are
 * the parent's to free; dropping the pointers would read as a leak). */
static struct wz_queue *parents_queues;
static struct wd_ctx *parents_ctx[8];

static void fork_child(void)
{
	struct wz_queue *q = pool;
	unsigned i;

	if (q) {
		while (q->next)
			q = q->next;
		q->next = parents_queues;
		parents_queues = pool;
	}
	for (i = 0; ctx && i < 8; i++)
		if (!parents_ctx[i]) {
			parents_ctx[i] = ctx;
			break;
		}
	pool = NULL;
	pool_len = 0;
	ctx = NULL;
	ctx_failed_ns = 0;
	__atomic_add_fetch(&fork_gen, 1, __ATOMIC_RELEASE);
	tls_last = NULL;
	wz_stats_forked();
	pthread_mutex_unlock(&pool_lock);
}

static void fork_setup(void)
{
	pthread_atfork(fork_prepare, fork_parent, fork_child);
}

uint64_t wz_fork_gen(void)
{
	return __atomic_load_n(&fork_gen, __ATOMIC_ACQUIRE);
}

static int64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Called with pool_lock held. */
static struct wd_ctx *pool_ctx(void)
{
	struct wd_ctx_opts o = { .size = sizeof(o), .soft_threads = 1 };
	const char *dev = wz_config()->device;
	int64_t now;

	if (ctx)
		return ctx;
	now = mono_ns();
	if (ctx_failed_ns && now - ctx_failed_ns < CTX_RETRY_NS)
		return NULL;
	/* no daemon round trip at start unless a device was named */
	if (!dev)
		o.flags = WD_CTX_F_LOCAL_ONLY;
	if (wd_ctx_new(&ctx, &o)) {
		ctx = NULL;
		ctx_failed_ns = now ? now : 1;
	}
	return ctx;
}

/* Called with pool_lock held: a new queue, not yet locked. */
static struct wz_queue *pool_add(void)
{
	struct wd_queue_opts o = { .size = sizeof(o), .depth = QUEUE_DEPTH };
	struct wz_queue *wq;

	if (pool_len >= POOL_MAX || !pool_ctx())
		return NULL;
	wq = calloc(1, sizeof(*wq));
	if (!wq)
		return NULL;
	o.device = wz_config()->device;
	if (wd_queue_new(&wq->q, ctx, "deflate", &o)) {
		free(wq);
		return NULL;
	}
	pthread_mutex_init(&wq->lock, NULL);
	wq->gen = fork_gen;
	wq->next = pool;
	pool = wq;
	pool_len++;
	return wq;
}

static int has_session(const struct wz_queue *wq, int want_session)
{
	return !want_session || wq->sessions < WD_MAX_SESSIONS;
}

static struct wz_queue *pool_take(int want_session)
{
	struct wz_queue *wq, *busy = NULL;

	pthread_once(&fork_once, fork_setup);
	wq = tls_last;
	if (wq && wq->gen == wz_fork_gen() && !pthread_mutex_trylock(&wq->lock)) {
		if (has_session(wq, want_session))
			return wq;
		pthread_mutex_unlock(&wq->lock);
	}
	pthread_mutex_lock(&pool_lock);
	for (wq = pool; wq; wq = wq->next) {
		if (!pthread_mutex_trylock(&wq->lock)) {
			if (has_session(wq, want_session))
				break;
			pthread_mutex_unlock(&wq->lock);
		} else if (!busy) {
			busy = wq;
		}
	}
	if (!wq) {
		wq = pool_add();
		if (wq)
			pthread_mutex_lock(&wq->lock);
		else if (busy && !want_session)
			wq = busy; /* at the cap: wait for a queue rather than fail */
		else
			busy = NULL;
		pthread_mutex_unlock(&pool_lock);
		if (wq == busy && wq)
			pthread_mutex_lock(&wq->lock);
	} else {
		pthread_mutex_unlock(&pool_lock);
	}
	if (wq)
		tls_last = wq;
	return wq;
}

struct wz_queue *wz_queue_get(void)
{
	return pool_take(0);
}

struct wz_queue *wz_queue_get_session(void)
{
	struct wz_queue *wq = pool_take(1);

	if (wq)
		wq->sessions++;
	return wq;
}

void wz_queue_put(struct wz_queue *wq)
{
	pthread_mutex_unlock(&wq->lock);
}

void wz_queue_drop_session(struct wz_queue *wq)
{
	if (wq->gen != wz_fork_gen())
		return; /* the parent's queue: not ours to touch */
	pthread_mutex_lock(&wq->lock);
	wq->sessions--;
	pthread_mutex_unlock(&wq->lock);
}

int wz_queue_lock(struct wz_queue *wq)
{
	if (wq->gen != wz_fork_gen())
		return -ECHILD;
	pthread_mutex_lock(&wq->lock);
	return 0;
}

int wz_run_one(struct wd_req *r, struct wd_cpl *c)
{
	struct wz_queue *wq = wz_queue_get();
	int ret;

	if (!wq)
		return -ENODEV;
	ret = wd_run(wq->q, r, c);
	wz_queue_put(wq);
	return ret ? ret : c->status;
}

int wz_session_open(struct wz_queue **wq_out, struct wd_comp_stream **ws_out, int framing,
		    unsigned window)
{
	struct wd_comp_stream *ws = NULL;
	struct wz_queue *wq = wz_queue_get_session();
	int ret;

	if (!wq)
		return -ENODEV;
	ret = wd_comp_stream_new(&ws, wq->q, WD_DECOMPRESS, (enum wd_comp_framing)framing, 0);
	if (!ret)
		ret = wd_comp_stream_set_flags(ws, WD_COMP_STREAM_F_EXACT_IN);
	if (!ret)
		ret = wd_comp_stream_set_window(ws, window);
	if (ret && ws)
		wd_comp_stream_free(ws);
	wz_queue_put(wq);
	if (ret) {
		wz_queue_drop_session(wq);
		return ret;
	}
	*wq_out = wq;
	*ws_out = ws;
	return 0;
}

void wz_session_close(struct wz_queue *wq, struct wd_comp_stream *ws)
{
	if (wz_queue_lock(wq)) {
		wz_count_event("fork_lost"); /* the parent's session: not ours */
		return;
	}
	wd_comp_stream_free(ws);
	wz_queue_put(wq);
	wz_queue_drop_session(wq);
}
