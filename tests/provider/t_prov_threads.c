/* SPDX-License-Identifier: MIT */
/*
 * Threads: each thread runs its own contexts (every mode, random sizes,
 * through queues and the default provider at a 48-byte threshold), and
 * contexts are handed from thread to thread between calls (a context's
 * session stays on the queue it was opened on, which its new thread then
 * shares).  More contexts than a queue has sessions (64) make the pool
 * open several queues.  Every result is checked against the default
 * provider; the statistics add up.
 * argv[1]: the directory holding wd.so.
 */
#include <pthread.h>

#include "tp.h"

#define THREADS 6
#define ROUNDS 200
#define SHARED 80               /* contexts handed around: more than one queue holds */

static struct tp t;
static const char *const names[] = { "AES-128-CBC", "AES-256-CTR", "AES-128-XTS" };

struct pair {
	pthread_mutex_t lock;
	EVP_CIPHER_CTX *x, *d;  /* wd, default: same key and stream */
	unsigned long long bytes;
};

static struct pair shared[SHARED];
static unsigned long long total_bytes[THREADS];

static void pair_init(struct pair *p, unsigned i)
{
	const char *name = names[i % 3]; /* stream modes only: they go on across calls */
	EVP_CIPHER *c = tp_fetch(&t, name, 1), *d = tp_fetch(&t, name, 0);
	uint8_t key[64], iv[16];

	for (unsigned k = 0; k < sizeof(key); k++)
		key[k] = (uint8_t)(i * 7 + k * 13 + 1);
	memset(iv, (int)i, sizeof(iv));
	pthread_mutex_init(&p->lock, NULL);
	p->x = EVP_CIPHER_CTX_new();
	p->d = EVP_CIPHER_CTX_new();
	T_ASSERT(c && d && p->x && p->d);
	T_ASSERT(EVP_EncryptInit_ex2(p->x, c, key, iv, NULL));
	T_ASSERT(EVP_EncryptInit_ex2(p->d, d, key, iv, NULL));
	EVP_CIPHER_CTX_set_padding(p->x, 0);
	EVP_CIPHER_CTX_set_padding(p->d, 0);
	EVP_CIPHER_free(c);
	EVP_CIPHER_free(d);
}

/* One call on both contexts; sizes fit every stream mode (XTS: >= 16,
 * CBC: whole blocks). */
static void step(EVP_CIPHER_CTX *x, EVP_CIPHER_CTX *d, uint8_t *a, uint8_t *b, uint8_t *o,
		 size_t len)
{
	int n, m;

	T_ASSERT(EVP_EncryptUpdate(x, o, &n, a, (int)len));
	T_ASSERT(EVP_EncryptUpdate(d, b, &m, a, (int)len));
	T_EQ(n, m);
	if (memcmp(o, b, (size_t)n))
		T_FAIL("a thread's output differs from the default provider's");
}

static void *worker(void *arg)
{
	unsigned id = (unsigned)(uintptr_t)arg, r, i;
	uint8_t *a = malloc(65536), *b = malloc(65536 + 32), *o = malloc(65536 + 32);
	uint64_t seed = id * 0x9E3779B97F4A7C15ull + 1;
	struct pair own[4];

	T_ASSERT(a && b && o);
	memset(a, (int)id, 65536);
	for (i = 0; i < 4; i++)
		pair_init(&own[i], id * 4 + i);
	for (r = 0; r < ROUNDS; r++) {
		size_t len;

		seed = seed * 6364136223846793005ull + 1442695040888963407ull;
		len = 16 * (1 + (seed >> 33) % 1024);
		i = (unsigned)(seed >> 20) % 4;
		step(own[i].x, own[i].d, a, b, o, len);
		total_bytes[id] += len;
		/* a context of the shared set: whoever had it last */
		i = (unsigned)(seed >> 40) % SHARED;
		pthread_mutex_lock(&shared[i].lock);
		step(shared[i].x, shared[i].d, a, b, o, len);
		shared[i].bytes += len;
		pthread_mutex_unlock(&shared[i].lock);
	}
	for (i = 0; i < 4; i++) {
		EVP_CIPHER_CTX_free(own[i].x);
		EVP_CIPHER_CTX_free(own[i].d);
		pthread_mutex_destroy(&own[i].lock);
	}
	free(a);
	free(b);
	free(o);
	return NULL;
}

int main(int argc, char **argv)
{
	unsigned long long want = 0;
	pthread_t th[THREADS];
	char line[1024];
	unsigned i;

	if (argc < 2)
		T_FAIL("usage: t_prov_threads MODULE_DIR");
	tp_open(&t, argv[1], "threshold = 48\n");
	for (i = 0; i < SHARED; i++)
		pair_init(&shared[i], 1000 + i);
	for (i = 0; i < THREADS; i++)
		T_ASSERT(!pthread_create(&th[i], NULL, worker, (void *)(uintptr_t)i));
	for (i = 0; i < THREADS; i++)
		T_ASSERT(!pthread_join(th[i], NULL));
	for (i = 0; i < THREADS; i++)
		want += total_bytes[i];
	for (i = 0; i < SHARED; i++) {
		want += shared[i].bytes;
		EVP_CIPHER_CTX_free(shared[i].x);
		EVP_CIPHER_CTX_free(shared[i].d);
		pthread_mutex_destroy(&shared[i].lock);
	}
	tp_stats(&t, line, sizeof(line));
	printf("%s\n", line);
	T_EQ(tp_stat(line, "bytes.wd") + tp_stat(line, "bytes.sw"), want);
	T_ASSERT(tp_stat(line, "ops.wd") > 0);
	tp_close(&t);
	printf("t_prov_threads: %d threads, %d contexts handed around, all equal\n", THREADS, SHARED);
	return 0;
}
