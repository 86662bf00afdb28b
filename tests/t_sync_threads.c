/* SPDX-License-Identifier: MIT */
/*
 * Synchronous helpers run inline next to asynchronous submissions and the
 * engine thread's own work, for TSan: several threads share a few queues
 * (one at a time per queue, handed over under a mutex, as the API asks of
 * a queue used from several threads), and on each turn either call a
 * helper (inline) or send a batch through the ring and reap it.  Cipher
 * sessions are opened and closed all along, so the engine sweeps closed
 * sessions' contexts of a queue while another thread runs that queue's
 * next request inline.  Every result is checked against OpenSSL or zlib.
 */
#include <pthread.h>
#include <zlib.h>

#include "t_crypto.h"
#include "t_sync.h"

#define NTHREADS 4
#define NQUEUES 2
#define ROUNDS 150
#define MSG 4096

struct shared {
	pthread_mutex_t lock[NQUEUES];
	struct wd_queue *cq[NQUEUES], *zq[NQUEUES];
	uint64_t seed;
};

static void cipher_turn(struct wd_queue *q, uint64_t *seed)
{
	uint8_t key[64], iv[16], src[MSG], ref[MSG], out[MSG * 4];
	enum wd_cipher_alg alg = (enum wd_cipher_alg)(1 + t_rand(seed) % 3);
	size_t klen = t_rand_key(alg, key, seed), len = t_rand_len(alg, MSG, seed);
	struct wd_cipher_sess *s = t_sess(q, alg, key, klen);
	struct wd_req r[4];
	struct wd_cpl c[4];
	int i, n = 0;

	t_fill_random(src, len, seed);
	t_fill_random(iv, sizeof(iv), seed);
	t_ref(alg, key, klen, iv, src, ref, len, 1);
	if (t_rand(seed) & 1) {
		T_OK(wd_encrypt(s, iv, src, out, len));
		T_ASSERT(!memcmp(out, ref, len));
	} else {
		for (i = 0; i < 4; i++) {
			wd_prep_encrypt(&r[i], s, iv, (uintptr_t)src, (uintptr_t)(out + i * MSG),
					(uint32_t)len);
			r[i].tag = (uint64_t)i;
		}
		T_EQ(wd_send(q, r, 4), 4);
		while (n < 4) {
			int got = T_OK(wd_wait(q, c, 4, 5000));

			for (i = 0; i < got; i++) {
				T_EQ(c[i].status, 0);
				T_EQ(c[i].tag, n + i); /* in order */
				T_ASSERT(!memcmp(out + c[i].tag * MSG, ref, len));
			}
			n += got;
		}
		/* and a helper right after the ring drained */
		T_OK(wd_decrypt(s, iv, ref, out, len));
		T_ASSERT(!memcmp(out, src, len));
	}
	wd_cipher_sess_free(s); /* the engine sweeps its contexts */
}

static void comp_turn(struct wd_queue *q, uint64_t *seed)
{
	uint8_t src[MSG], out[MSG * 2], back[MSG];
	size_t len = 1 + t_rand(seed) % MSG, olen = sizeof(out), blen;
	struct wd_req r;
	struct wd_cpl c;
	size_t i;

	for (i = 0; i < len; i++)
		src[i] = (uint8_t)"abcabd"[t_rand(seed) % 6];
	if (t_rand(seed) & 1) {
		T_OK(wd_compress(q, src, len, out, &olen, (unsigned)(t_rand(seed) % 4), WD_COMP_GZIP));
	} else {
		wd_prep_compress(&r, out, sizeof(out), src, (uint32_t)len, 1, WD_COMP_GZIP);
		r.tag = 7;
		c = t_run(q, &r);
		T_EQ(c.status, 0);
		olen = c.result;
	}
	blen = sizeof(back);
	T_OK(wd_decompress(q, out, olen, back, &blen, WD_COMP_GZIP));
	T_EQ(blen, len);
	T_ASSERT(!memcmp(back, src, len));
}

static void *worker(void *arg)
{
	struct shared *sh = arg;
	uint64_t seed = __atomic_fetch_add(&sh->seed, 0x9e3779b97f4a7c15ull, __ATOMIC_RELAXED);
	int round;

	for (round = 0; round < ROUNDS; round++) {
		unsigned k = (unsigned)(t_rand(&seed) % NQUEUES);

		pthread_mutex_lock(&sh->lock[k]);
		if (t_rand(&seed) % 3)
			cipher_turn(sh->cq[k], &seed);
		else
			comp_turn(sh->zq[k], &seed);
		pthread_mutex_unlock(&sh->lock[k]);
	}
	return NULL;
}

int main(void)
{
	struct shared sh = { .seed = t_seed() };
	struct wd_ctx *ctx = t_ctx(1, 50); /* one engine thread serves every queue */
	pthread_t th[NTHREADS];
	struct soft_stats st;
	int i;

	for (i = 0; i < NQUEUES; i++) {
		pthread_mutex_init(&sh.lock[i], NULL);
		sh.cq[i] = t_sync_queue(ctx, "cipher", 0);
		sh.zq[i] = t_sync_queue(ctx, "gzip", 0);
	}
	for (i = 0; i < NTHREADS; i++)
		T_EQ(pthread_create(&th[i], NULL, worker, &sh), 0);
	for (i = 0; i < NTHREADS; i++)
		pthread_join(th[i], NULL);
	for (i = 0; i < NQUEUES; i++) {
		soft_queue_stats(t_sq(sh.cq[i]), &st);
		T_EQ(st.nerr, 0);
		T_ASSERT(t_ld(&t_sq(sh.cq[i])->inl.nreq) > 0);
		T_ASSERT(t_ld(&t_sq(sh.cq[i])->eng.nreq) > 0);
		wd_queue_free(sh.cq[i]);
		wd_queue_free(sh.zq[i]);
		pthread_mutex_destroy(&sh.lock[i]);
	}
	wd_ctx_free(ctx);
	return 0;
}
