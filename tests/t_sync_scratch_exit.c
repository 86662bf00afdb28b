/* SPDX-License-Identifier: MIT */
/*
 * A thread that ran requests inline gets its own engine scratch (ISA-L
 * state, level buffers, the XTS gather buffer), and gives it back when it
 * exits: many short-lived threads, each compressing at the highest level
 * (the largest level buffer) and ciphering XTS over segments, leave the
 * heap as they found it (mallinfo2 in a plain build; LSan in the ASan
 * build reports any leak).
 */
#include <malloc.h>
#include <pthread.h>
#include <wd/comp.h>

#include "t_crypto.h"
#include "t_sync.h"

#define NTHREADS 64

struct arg {
	struct wd_queue *zq, *cq;
	struct wd_cipher_sess *s;
};

static void *one(void *p)
{
	struct arg *a = p;
	static uint8_t pat[] = "thread scratch ";
	size_t len = 100000, out = wd_comp_bound(len), i;
	uint8_t *src = malloc(len), *dst = malloc(out), iv[16] = { 3 };

	T_ASSERT(src && dst);
	for (i = 0; i < len; i++)
		src[i] = pat[i % (sizeof(pat) - 1)];
	T_OK(wd_compress(a->zq, src, len, dst, &out, WD_COMP_LEVEL_MAX, WD_COMP_GZIP));
	T_OK(wd_encrypt(a->s, iv, src, dst, 4096));
	free(src);
	free(dst);
	return NULL;
}

static size_t heap_used(void)
{
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
	return 0; /* the sanitizer's allocator; LSan does the checking */
#else
	return mallinfo2().uordblks;
#endif
}

int main(void)
{
	struct wd_ctx *ctx = t_ctx(1, 0);
	uint8_t key[64];
	struct arg a;
	pthread_t th;
	size_t before, after;
	int i;

	for (i = 0; i < 64; i++)
		key[i] = (uint8_t)(i * 7 + 1);
	a.zq = t_sync_queue(ctx, "gzip", 0);
	a.cq = t_sync_queue(ctx, "aes-xts", 0);
	a.s = t_sess(a.cq, WD_CIPHER_AES_XTS, key, 64);
	/* one thread first: whatever the library sets up once is in place */
	T_EQ(pthread_create(&th, NULL, one, &a), 0);
	pthread_join(th, NULL);
	before = heap_used();
	for (i = 0; i < NTHREADS; i++) {
		T_EQ(pthread_create(&th, NULL, one, &a), 0);
		pthread_join(th, NULL);
	}
	after = heap_used();
	fprintf(stderr, "heap in use: %zu before, %zu after %d threads\n", before, after, NTHREADS);
	/* a leaked scratch is > 100 KiB (the level-3 buffer alone) per thread */
	T_ASSERT(after < before + (256u << 10));
	T_EQ(t_ld(&t_sq(a.zq)->inl.nreq), NTHREADS + 1);
	T_EQ(t_ld(&t_sq(a.zq)->eng.nreq), 0);
	/* this thread's own scratch is freed at exit (the library's destructor) */
	T_OK(wd_encrypt(a.s, key, key, key, 32));
	wd_cipher_sess_free(a.s);
	wd_queue_free(a.cq);
	wd_queue_free(a.zq);
	wd_ctx_free(ctx);
	return 0;
}
