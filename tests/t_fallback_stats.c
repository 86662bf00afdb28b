/* SPDX-License-Identifier: MIT */
/*
 * Nothing falls back silently: each way the soft engine leaves the path it
 * meant to take is provoked here and must move its own counter in
 * wd_queue_stats(), and only that one, while the request still gets the
 * reference answer.
 *   inflate_retry_*        never on the software device (ISA-L alone
 *                          decodes one-shot requests): an output larger than
 *                          dst, corrupt or truncated input move nothing
 *   deflate_stored         incompressible data at a libdeflate level into
 *                          just the room its stored form takes: stored
 *                          blocks, libdeflate wanting more slack
 *   sync_ring_busy         the engine holds the queue's state: the helper's
 *                          request goes through the ring
 *   sync_ring_nomem        no per-thread scratch (its calloc made to fail):
 *                          the ring again; not under ASan, whose allocator
 *                          a test cannot stand in for
 * Each counts in the engine's or the inline side's counters, whichever ran
 * the request, and both add up in the public view.
 */
#include <unistd.h>

#include "t_sync.h"
#include "t_zlib.h"

/* T_ASAN: a sanitizer owns malloc (ASan, TSan): calloc is not replaced
 * (a replacement calling glibc's would hand out memory it does not know) */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define T_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define T_ASAN 1
#endif
#endif

/* ---- allocations made to fail ---- */

#ifndef T_ASAN
/* The thread scratch is the only calloc of its size: fail it once. */
static int scratch_fail;
void *__libc_calloc(size_t n, size_t size);

void *calloc(size_t n, size_t size)
{
	if (size == sizeof(struct soft_scratch) && n == 1 &&
	    __atomic_exchange_n(&scratch_fail, 0, __ATOMIC_RELAXED))
		return NULL;
	return __libc_calloc(n, size);
}
#endif

/* ---- counters ---- */

enum { NOSPACE, BADDATA, NOMEM, STORED, RING_BUSY, RING_NOMEM, NFB };

static void get(struct wd_queue *q, uint64_t *fb, struct wd_queue_stats *st)
{
	memset(st, 0, sizeof(*st));
	st->size = sizeof(*st);
	T_OK(wd_queue_stats(q, st));
	T_EQ(st->size, sizeof(*st));
	fb[NOSPACE] = st->inflate_retry_nospace;
	fb[BADDATA] = st->inflate_retry_baddata;
	fb[NOMEM] = st->inflate_retry_nomem;
	fb[STORED] = st->deflate_stored;
	fb[RING_BUSY] = st->sync_ring_busy;
	fb[RING_NOMEM] = st->sync_ring_nomem;
}

/* Since the last call: exactly one more of `which` (-1: none), no other. */
static void expect_one(struct wd_queue *q, int which, uint64_t *last, const char *what)
{
	struct wd_queue_stats st;
	uint64_t now[NFB];
	int k;

	get(q, now, &st);
	for (k = 0; k < NFB; k++)
		if (now[k] != last[k] + (k == which))
			T_FAIL("%s: fallback %d went %llu -> %llu", what, k,
			       (unsigned long long)last[k], (unsigned long long)now[k]);
	memcpy(last, now, sizeof(now));
	printf("%s: counted\n", what);
}

/* The engine counts a pass's requests just after posting them. */
static void wait_requests(struct wd_queue *q, uint64_t want)
{
	struct wd_queue_stats st;
	uint64_t fb[NFB];
	int tries = 0;

	do {
		if (tries)
			usleep(1000);
		get(q, fb, &st);
	} while (st.requests != want && ++tries < 2000);
	T_EQ(st.requests, want);
}

/* ---- the cases, each on queue q (inline, or ring-only) ---- */

static void inflate_cases(struct wd_queue *q, const uint8_t *src, size_t n, uint64_t *fb)
{
	size_t clen = wd_comp_bound(n), dlen;
	uint8_t *comp = malloc(clen), *out = malloc(n);

	T_ASSERT(comp && out);
	T_OK(wd_compress(q, src, n, comp, &clen, 1, WD_COMP_GZIP));
	expect_one(q, -1, fb, "compress, level 1");
	dlen = n;
	T_OK(wd_decompress(q, comp, clen, out, &dlen, WD_COMP_GZIP));
	T_ASSERT(dlen == n && !memcmp(out, src, n));
	expect_one(q, -1, fb, "inflate that fits");

	dlen = n / 2;
	T_EQ(wd_decompress(q, comp, clen, out, &dlen, WD_COMP_GZIP), -ENOSPC);
	T_EQ(dlen, n); /* ISA-L measured the rest */
	expect_one(q, -1, fb, "inflate into half the room");

	/* a wrong CRC in the trailer: the data decodes, and fits, whatever the
	 * seed (damage in the middle may as well make it longer) */
	comp[clen - 8] ^= 1;
	dlen = n;
	T_EQ(wd_decompress(q, comp, clen, out, &dlen, WD_COMP_GZIP), -EBADMSG);
	expect_one(q, -1, fb, "inflate of corrupt data");
	comp[clen - 8] ^= 1;
	dlen = n;
	T_EQ(wd_decompress(q, comp, clen / 2, out, &dlen, WD_COMP_GZIP), -ENODATA);
	expect_one(q, -1, fb, "inflate of truncated data");

	free(comp);
	free(out);
}

static void stored_case(struct wd_queue *q, size_t n, uint64_t *seed, uint64_t *fb)
{
	/* exactly the stored form's size: header, 5 bytes a block, trailer */
	size_t room = 10 + n + 5 * ((n + 65534) / 65535) + 8, clen = room, dlen = n;
	uint8_t *noise = malloc(n), *comp = malloc(room), *out = malloc(n);

	T_ASSERT(noise && comp && out);
	t_fill_random(noise, n, seed);
	T_OK(wd_compress(q, noise, n, comp, &clen, 6, WD_COMP_GZIP));
	T_EQ(clen, room);
	expect_one(q, STORED, fb, "incompressible data at level 6, no slack");
	T_EQ(t_zinflate(WD_COMP_GZIP, comp, clen, out, n, &dlen), Z_STREAM_END);
	T_ASSERT(dlen == n && !memcmp(out, noise, n));
	free(noise);
	free(comp);
	free(out);
}

struct nomem_arg {
	struct wd_queue *q;
	const uint8_t *src;
	size_t n;
};

/* A fresh thread has no scratch yet: its first inline request makes one. */
static void *nomem_thread(void *p)
{
	struct nomem_arg *a = p;
	size_t clen = wd_comp_bound(a->n);
	uint8_t *comp = malloc(clen);

	T_ASSERT(comp);
#ifndef T_ASAN
	__atomic_store_n(&scratch_fail, 1, __ATOMIC_RELAXED);
#endif
	T_OK(wd_compress(a->q, a->src, a->n, comp, &clen, 1, WD_COMP_GZIP));
	free(comp);
	return NULL;
}

static void ring_cases(struct wd_queue *q, const uint8_t *src, size_t n, uint64_t *fb)
{
	struct soft_queue *sq = t_sq(q);
	struct wd_queue_stats st;
	uint64_t inl, reqs, now[NFB];
	size_t clen = wd_comp_bound(n);
	uint8_t *comp = malloc(clen);

	T_ASSERT(comp);
	get(q, now, &st);
	inl = st.inline_requests;
	reqs = st.requests;
	/* as when the engine sweeps the queue's cipher contexts */
	T_EQ(__atomic_exchange_n(&sq->owner, SOFT_OWNER_ENGINE, __ATOMIC_ACQUIRE), SOFT_OWNER_FREE);
	T_OK(wd_compress(q, src, n, comp, &clen, 1, WD_COMP_GZIP));
	__atomic_store_n(&sq->owner, SOFT_OWNER_FREE, __ATOMIC_RELEASE);
	wait_requests(q, reqs + 1);
	get(q, now, &st);
	T_EQ(st.inline_requests, inl); /* the engine ran it */
	expect_one(q, RING_BUSY, fb, "synchronous request while the engine holds the queue");

#ifdef T_ASAN
	printf("sync_ring_nomem: not provoked under ASan\n");
	(void)nomem_thread;
#else
	{
		struct nomem_arg a = { q, src, n };
		pthread_t t;

		T_EQ(pthread_create(&t, NULL, nomem_thread, &a), 0);
		T_EQ(pthread_join(t, NULL), 0);
		T_EQ(__atomic_load_n(&scratch_fail, __ATOMIC_RELAXED), 0);
		wait_requests(q, reqs + 2);
		get(q, now, &st);
		T_EQ(st.inline_requests, inl);
		expect_one(q, RING_NOMEM, fb, "synchronous request without a thread scratch");
	}
#endif
	free(comp);
}

int main(void)
{
	struct wd_ctx *ctx = t_ctx(1, 0);
	struct wd_queue *qi = t_sync_queue(ctx, "gzip", 0), *qr = t_sync_queue(ctx, "gzip", 1);
	size_t n = 200u << 10;
	uint64_t seed = t_seed(), fi[NFB] = { 0 }, fr[NFB] = { 0 };
	uint8_t *src = malloc(n);
	struct wd_queue_stats st = { .size = 8 };

	T_ASSERT(src);
	t_fill_text(src, n, &seed);
	T_EQ(wd_queue_stats(qi, &st), -EINVAL);
	T_EQ(wd_queue_stats(NULL, &st), -EINVAL);
	/* an older, shorter struct: filled that far, no further */
	{
		struct wd_queue_stats old;

		memset(&old, 0xee, sizeof(old));
		old.size = 24;
		T_OK(wd_queue_stats(qi, &old));
		T_EQ(old.size, 24);
		T_EQ(old.bytes, 0xeeeeeeeeeeeeeeeeull);
	}

	inflate_cases(qi, src, n, fi);
	inflate_cases(qr, src, n, fr);
	/* small enough that no Huffman block beats the stored form */
	stored_case(qi, 4096, &seed, fi);
	stored_case(qr, 4096, &seed, fr);
	ring_cases(qi, src, n, fi);

	/* each side counted its own: the inline queue inline, the other in
	 * its engine thread; the public view adds them up */
	T_EQ(t_ld(&t_sq(qi)->inl.fallback[SOFT_FB_DEFLATE_STORED]), 1);
	T_EQ(t_ld(&t_sq(qi)->eng.fallback[SOFT_FB_DEFLATE_STORED]), 0);
	T_EQ(t_ld(&t_sq(qr)->eng.fallback[SOFT_FB_DEFLATE_STORED]), 1);
	T_EQ(t_ld(&t_sq(qr)->inl.fallback[SOFT_FB_DEFLATE_STORED]), 0);
	T_EQ(t_ld(&t_sq(qi)->inl.fallback[SOFT_FB_SYNC_RING_BUSY]), 1);
	get(qi, fi, &st);
	T_ASSERT(st.inline_requests > 0 && st.inline_requests < st.requests);
	get(qr, fr, &st);
	T_EQ(st.inline_requests, 0);

	wd_queue_free(qi);
	wd_queue_free(qr);
	wd_ctx_free(ctx);
	free(src);
	printf("ok\n");
	return 0;
}
