/* SPDX-License-Identifier: MIT */
/*
 * Requests run in the calling thread.  A synchronous helper (wd_compress,
 * wd_encrypt, a stream step...) waits for its answer anyway: on the
 * in-process engine it runs the request here instead of handing it to an
 * engine thread and sleeping until it comes back.  It goes through the
 * very soft_exec the engine threads use: the same checks, error codes and
 * results, counted in the queue's statistics like the engine's requests.
 *
 * What the engine thread keeps per thread (ISA-L state, level buffers,
 * segment tables, the XTS gather buffer) each calling thread gets its own
 * of, allocated on its first inline request and freed when the thread
 * exits (a pthread key's destructor).  What the engine keeps per queue
 * (streams, cipher contexts) is the queue's, shared with the engine
 * thread under the rule described beside soft_queue.owner.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "soft.h"

/* Requests from this many source bytes are timed one by one; of smaller
 * ones (where two clock reads would cost a noticeable part of the request)
 * one in INLINE_SAMPLE is timed and counted for INLINE_SAMPLE. */
#define INLINE_TIME_MIN 4096u
#define INLINE_SAMPLE 64u

static pthread_key_t scratch_key;
static pthread_once_t scratch_once = PTHREAD_ONCE_INIT;
static int scratch_key_ok;
static __thread struct soft_scratch *tls_scratch;

static void scratch_dtor(void *p)
{
	/* runs in the exiting thread: its pointer goes too, so a later
	 * destructor calling a helper allocates afresh (and frees it again) */
	tls_scratch = NULL;
	soft_scratch_free(p);
	free(p);
}

static void scratch_key_init(void)
{
	scratch_key_ok = !pthread_key_create(&scratch_key, scratch_dtor);
}

/* The library goes away (process exit, or dlclose of whatever loaded it):
 * no destructor may point into it afterwards.  Threads still alive keep
 * their scratch; this thread's is freed. */
__attribute__((destructor)) static void scratch_key_fini(void)
{
	struct soft_scratch *s = tls_scratch;

	if (!scratch_key_ok)
		return;
	pthread_key_delete(scratch_key);
	scratch_key_ok = 0;
	if (s) {
		tls_scratch = NULL;
		soft_scratch_free(s);
		free(s);
	}
}

static struct soft_scratch *thread_scratch(void)
{
	struct soft_scratch *s = tls_scratch;

	if (__builtin_expect(s != NULL, 1))
		return s;
	pthread_once(&scratch_once, scratch_key_init);
	if (!scratch_key_ok)
		return NULL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	if (pthread_setspecific(scratch_key, s)) {
		free(s);
		return NULL;
	}
	tls_scratch = s;
	return s;
}

static int64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int soft_exec_inline(struct soft_queue *sq, const wd_sqe *e, wd_cqe *c)
{
	struct soft_scratch *s = thread_scratch();
	uint32_t free_ = SOFT_OWNER_FREE;
	uint64_t weight = 1, busy = 0;
	int64_t t0 = 0;

	/* Either way the request takes the ring: counted (this thread is the
	 * queue's user, the one writer of inl). */
	if (__builtin_expect(!s, 0)) {
		soft_stats_fallback(&sq->inl, 1u << SOFT_FB_SYNC_RING_NOMEM);
		return 1;
	}
	/* the engine is sweeping the queue's cipher contexts: use the ring */
	if (!__atomic_compare_exchange_n(&sq->owner, &free_, SOFT_OWNER_INLINE, 0,
					 __ATOMIC_ACQUIRE, __ATOMIC_RELAXED)) {
		soft_stats_fallback(&sq->inl, 1u << SOFT_FB_SYNC_RING_BUSY);
		return 1;
	}
	if (!e->flags && e->len < INLINE_TIME_MIN)
		weight = s->small_reqs++ % INLINE_SAMPLE ? 0 : INLINE_SAMPLE;
	if (weight)
		t0 = mono_ns();
	memset(c, 0, sizeof(*c));
	c->tag = e->tag;
	c->status = soft_exec(sq, s, e, c);
	if (weight)
		busy = weight * (uint64_t)(mono_ns() - t0);
	soft_stats_add(&sq->inl, 1, c->status != 0, s->src_bytes, busy);
	if (s->fallbacks)
		soft_stats_fallback(&sq->inl, s->fallbacks);
	__atomic_store_n(&sq->owner, SOFT_OWNER_FREE, __ATOMIC_RELEASE);
	return 0;
}
