/* wd_aead_encrypt / wd_aead_decrypt: argument checks, the header built on
 * the stack or (large AAD) on the heap, every tag length, a failed tag
 * zeroing the output, the request run in the calling thread on soft0
 * (counted as inline) or through the ring (WD_QUEUE_F_RING_ONLY), -EBUSY
 * with requests in flight, -EOPNOTSUPP on an explicit queue (the helpers'
 * header is not in its domain), and two threads on queues of their own. */
#include <pthread.h>
#include <wd/mem.h>
#include "t_gcm.h"
#include "t_mem_helpers.h"

static uint8_t key[32] = { 0x42, 1, 2, 3 }, iv[16] = { 5, 6, 7 };

static void args(struct wd_queue *q, struct wd_cipher_sess *s)
{
	uint8_t in[64] = { 1 }, o[64], tag[16], aad[8] = { 3 };
	struct wd_cipher_sess *cbc = t_sess(q, WD_CIPHER_AES_CBC, key, 16);

	T_EQ(wd_aead_encrypt(NULL, iv, 12, aad, 8, in, o, 64, tag, 16), -EINVAL);
	T_EQ(wd_aead_encrypt(s, NULL, 12, aad, 8, in, o, 64, tag, 16), -EINVAL);
	T_EQ(wd_aead_encrypt(s, iv, 12, NULL, 8, in, o, 64, tag, 16), -EINVAL);
	T_EQ(wd_aead_encrypt(s, iv, 12, aad, 8, in, o, 64, NULL, 16), -EINVAL);
	T_EQ(wd_aead_decrypt(s, iv, 12, aad, 8, in, o, 64, NULL, 16), -EINVAL);
	T_EQ(wd_aead_encrypt(s, iv, 0, aad, 8, in, o, 64, tag, 16), -EINVAL);
	T_EQ(wd_aead_encrypt(s, iv, WD_AEAD_IV_MAX + 1, aad, 8, in, o, 64, tag, 16), -EINVAL);
	T_EQ(wd_aead_encrypt(s, iv, 12, aad, 8, in, o, 64, tag, 3), -EINVAL);
	T_EQ(wd_aead_encrypt(s, iv, 12, aad, 8, in, o, 64, tag, 17), -EINVAL);
	T_EQ(wd_aead_decrypt(s, iv, 12, aad, 8, in, o, 64, tag, 0), -EINVAL);
	T_EQ(wd_aead_encrypt(s, iv, 12, aad, 8, in, o, (size_t)WD_CIPHER_LEN_MAX + 1, tag, 16),
	     -EMSGSIZE);
	T_EQ(wd_aead_encrypt(s, iv, 12, aad, (size_t)WD_CIPHER_LEN_MAX + 1, in, o, 64, tag, 16),
	     -EMSGSIZE);
	T_EQ(wd_aead_encrypt(s, iv, 12, aad, ~(size_t)0, in, o, 64, tag, 16), -EMSGSIZE);
	/* a session of another mode */
	T_EQ(wd_aead_encrypt(cbc, iv, 12, aad, 8, in, o, 64, tag, 16), -EINVAL);
	T_EQ(wd_aead_decrypt(cbc, iv, 12, aad, 8, in, o, 64, tag, 16), -EINVAL);
	wd_cipher_sess_free(cbc);
	/* NULL aad with none, NULL text with none */
	T_OK(wd_aead_encrypt(s, iv, 12, NULL, 0, NULL, NULL, 0, tag, 16));
	T_OK(wd_aead_decrypt(s, iv, 12, NULL, 0, NULL, NULL, 0, tag, 16));
}

/* AAD of aad_len (above 512 bytes the header is on the heap), every tag
 * length, against EVP; then a wrong tag. */
static void against_evp(struct wd_cipher_sess *s, size_t aad_len, size_t len, uint64_t *seed)
{
	uint8_t *aad = malloc(aad_len + 1), *in = malloc(len + 1), *o = malloc(len + 1);
	uint8_t *want = malloc(len + 1), tag[16], rtag[16];
	size_t tl;

	T_ASSERT(aad && in && o && want);
	t_fill_random(aad, aad_len, seed);
	t_fill_random(in, len, seed);
	for (tl = 4; tl <= 16; tl++) {
		t_gcm_evp_run(key, 16, iv, 12, aad, aad_len, in, want, len, rtag, tl, 1);
		T_OK(wd_aead_encrypt(s, iv, 12, aad, aad_len, in, o, len, tag, tl));
		T_ASSERT(!memcmp(o, want, len) && !memcmp(tag, rtag, tl));
		T_OK(wd_aead_decrypt(s, iv, 12, aad, aad_len, o, o, len, tag, tl));
		T_ASSERT(!memcmp(o, in, len));
		tag[tl - 1] ^= 0x10;
		T_EQ(wd_aead_decrypt(s, iv, 12, aad, aad_len, want, o, len, tag, tl), -EBADMSG);
		T_ASSERT(t_all_zero(o, len));
		if (aad_len) {
			aad[0] ^= 1; /* AAD is authenticated too */
			T_EQ(wd_aead_decrypt(s, iv, 12, aad, aad_len, want, o, len, rtag, tl),
			     -EBADMSG);
			aad[0] ^= 1;
		}
	}
	free(aad);
	free(in);
	free(o);
	free(want);
}

static uint64_t inline_count(struct wd_queue *q)
{
	struct wd_queue_stats st = { .size = sizeof(st) };

	T_OK(wd_queue_stats(q, &st));
	return st.inline_requests;
}

static void busy(struct wd_queue *q, struct wd_cipher_sess *s)
{
	uint8_t tag[16], o[16];
	struct wd_req r;
	struct wd_cpl c;

	wd_prep_nop(&r, 100000000); /* 100 ms */
	r.tag = 1;
	T_EQ(wd_send(q, &r, 1), 1);
	T_EQ(wd_aead_encrypt(s, iv, 12, NULL, 0, o, o, 16, tag, 16), -EBUSY);
	T_EQ(wd_wait(q, &c, 1, 5000), 1);
	T_OK(wd_aead_encrypt(s, iv, 12, NULL, 0, o, o, 16, tag, 16));
}

static void explicit(struct wd_ctx *ctx)
{
	struct wd_queue *q = t_xqueue(ctx, "aes-gcm", NULL);
	struct wd_cipher_sess *s = t_sess(q, WD_CIPHER_AES_GCM, key, 16);
	uint8_t tag[16];

	T_EQ(wd_aead_encrypt(s, iv, 12, NULL, 0, NULL, NULL, 0, tag, 16), -EOPNOTSUPP);
	T_EQ(wd_aead_decrypt(s, iv, 12, NULL, 0, NULL, NULL, 0, tag, 16), -EOPNOTSUPP);
	wd_cipher_sess_free(s);
	wd_queue_free(q);
}

static void *worker(void *arg)
{
	struct wd_ctx *ctx = arg;
	struct wd_queue *q = t_queue(ctx, "aes-gcm", 8);
	struct wd_cipher_sess *s = t_sess(q, WD_CIPHER_AES_GCM, key, 32);
	uint8_t in[1000], o[1000], want[1000], tag[16], rtag[16];
	uint64_t seed = (uint64_t)(uintptr_t)&seed;
	int i;

	for (i = 0; i < 200; i++) {
		t_fill_random(in, sizeof(in), &seed);
		t_gcm_evp_run(key, 32, iv, 16, in, 10, in, want, sizeof(in), rtag, 16, 1);
		T_OK(wd_aead_encrypt(s, iv, 16, in, 10, in, o, sizeof(in), tag, 16));
		T_ASSERT(!memcmp(o, want, sizeof(o)) && !memcmp(tag, rtag, 16));
	}
	wd_cipher_sess_free(s);
	wd_queue_free(q);
	return NULL;
}

int main(void)
{
	struct wd_ctx *ctx = t_ctx(1, 0);
	struct wd_queue_opts ro = { .size = sizeof(ro), .depth = 8, .flags = WD_QUEUE_F_RING_ONLY };
	struct wd_queue *q = t_queue(ctx, "aes-gcm", 8), *rq = NULL;
	struct wd_cipher_sess *s = t_sess(q, WD_CIPHER_AES_GCM, key, 16), *rs;
	uint64_t seed = t_seed(), before;
	pthread_t th[2];
	int i;

	args(q, s);
	before = inline_count(q);
	against_evp(s, 0, 100, &seed);
	against_evp(s, 300, 4096, &seed);         /* header on the stack */
	against_evp(s, 100000, 3, &seed);         /* on the heap */
	against_evp(s, 511, 0, &seed);
	T_ASSERT(inline_count(q) - before >= 4 * 13 * 3); /* run in this thread */
	busy(q, s);
	T_OK(wd_queue_new(&rq, ctx, "aes-gcm", &ro));
	rs = t_sess(rq, WD_CIPHER_AES_GCM, key, 16);
	against_evp(rs, 700, 5000, &seed);
	T_EQ(inline_count(rq), 0); /* through the ring */
	wd_cipher_sess_free(rs);
	wd_queue_free(rq);
	explicit(ctx);
	for (i = 0; i < 2; i++)
		T_OK(-pthread_create(&th[i], NULL, worker, ctx));
	for (i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	wd_cipher_sess_free(s);
	wd_queue_free(q);
	wd_ctx_free(ctx);
	return 0;
}
