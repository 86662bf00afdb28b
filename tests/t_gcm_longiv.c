/* AES-GCM IVs longer than OpenSSL's GCM takes (128 bytes, up to the
 * contract's WD_AEAD_IV_MAX of 1024): the engine folds such an IV into the
 * 16-byte IV that gives the same first counter block (crypto_gcm.c).  The
 * fold itself against EVP for every length EVP takes (an IV and its fold
 * must give the same ciphertext and tag), and the engine against OpenSSL's
 * low-level GCM (which takes any length) for long IVs: one-shot and
 * streamed, every key size, a session re-keyed under the same id (its
 * GHASH key must follow), tags of every length. */
#include "dev/soft/crypto_int.h"
#include "t_gcm.h"

static uint64_t seed;
static unsigned nlong;

static void hkey(const uint8_t *key, size_t key_len, uint64_t h[2], uint64_t hinv[2])
{
	static const uint8_t zero[16];
	EVP_CIPHER_CTX *x = EVP_CIPHER_CTX_new();
	uint8_t b[16];
	int n, i;

	T_ASSERT(x && EVP_EncryptInit_ex(x, t_ecb(key_len), NULL, key, NULL));
	T_ASSERT(EVP_EncryptUpdate(x, b, &n, zero, 16) && n == 16);
	EVP_CIPHER_CTX_free(x);
	h[0] = h[1] = 0;
	for (i = 0; i < 16; i++)
		h[i / 8] = (h[i / 8] << 8) | b[i];
	soft_gcm_inverse(h, hinv);
}

/* For n = 1..128 the fold must be invisible to GCM (but 12: a 12-byte IV
 * is J0 itself, not GHASHed, and is never folded). */
static void fold_vs_evp(void)
{
	uint8_t key[32], iv[128], folded[16], aad[40], in[100], a[100], b[100], ta[16], tb[16];
	uint64_t h[2], hinv[2], one[2], prod[2];
	size_t n, kl;

	for (n = 1; n <= 128; n++) {
		if (n == 12)
			continue;
		kl = 16 + 8 * (n % 3);
		t_fill_random(key, kl, &seed);
		t_fill_random(iv, n, &seed);
		t_fill_random(aad, sizeof(aad), &seed);
		t_fill_random(in, sizeof(in), &seed);
		hkey(key, kl, h, hinv);
		soft_gcm_fold_iv(h, hinv, iv, n, folded);
		t_gcm_evp_run(key, kl, iv, n, aad, sizeof(aad), in, a, sizeof(in), ta, 16, 1);
		t_gcm_evp_run(key, kl, folded, 16, aad, sizeof(aad), in, b, sizeof(in), tb, 16, 1);
		if (memcmp(a, b, sizeof(a)) || memcmp(ta, tb, 16))
			T_FAIL("an IV of %zu bytes and its fold differ", n);
	}
	/* the inverse of zero is zero; of one, one */
	one[0] = 1ull << 63;
	one[1] = 0;
	soft_gcm_inverse(one, prod);
	T_ASSERT(prod[0] == one[0] && prod[1] == 0);
	h[0] = h[1] = 0;
	soft_gcm_inverse(h, prod);
	T_ASSERT(!prod[0] && !prod[1]);
}

static void one_long(struct wd_queue *q, struct wd_cipher_sess *s, const uint8_t *key,
		     size_t kl, size_t n)
{
	static uint8_t iv[WD_AEAD_IV_MAX], aad[64], in[3000], o[3000], want[3000], hdrs[4096];
	uint8_t tag[16], rtag[16];
	size_t len = (size_t)(t_rand(&seed) % sizeof(in)), tl = 4 + (size_t)(t_rand(&seed) % 13);
	size_t acuts[2], tcuts[3];
	struct t_gcm_msg m = { .iv = iv, .iv_len = n, .aad = aad, .aad_len = sizeof(aad),
			       .len = len, .tag_len = tl, .aad_cuts = acuts, .txt_cuts = tcuts,
			       .naad_cuts = 2, .ntxt_cuts = 3, .final_alone = 1 };

	nlong += n > 128;
	t_fill_random(iv, n, &seed);
	t_fill_random(aad, sizeof(aad), &seed);
	t_fill_random(in, len, &seed);
	T_EQ(t_gcm_ref(key, kl, iv, n, aad, sizeof(aad), in, want, len, rtag, tl, 1), 0);
	T_OK(wd_aead_encrypt(s, iv, n, aad, sizeof(aad), in, o, len, tag, tl));
	if (memcmp(o, want, len) || memcmp(tag, rtag, tl))
		T_FAIL("an IV of %zu bytes, key of %zu: differs from the reference", n, kl);
	T_OK(wd_aead_decrypt(s, iv, n, aad, sizeof(aad), o, o, len, tag, tl));
	T_ASSERT(!memcmp(o, in, len));
	tag[0] ^= 1;
	T_EQ(wd_aead_decrypt(s, iv, n, aad, sizeof(aad), want, o, len, tag, tl), -EBADMSG);
	/* streamed: the long IV in the INIT part, the rest in pieces */
	t_cuts(acuts, 2, sizeof(aad), &seed);
	t_cuts(tcuts, 3, len, &seed);
	m.enc = 1;
	m.in = in;
	m.out = o;
	m.tag = tag;
	T_EQ(t_gcm_parts(q, s, &m, hdrs, t_sva_addr, NULL), 0);
	T_ASSERT(!memcmp(o, want, len) && !memcmp(tag, rtag, tl));
}

int main(void)
{
	struct wd_ctx *ctx = t_ctx(1, 0);
	struct wd_queue *q = t_queue(ctx, "aes-gcm", 64);
	static const size_t lens[] = { 129, 130, 144, 255, 256, 257, 511, 1000, 1023, 1024 };
	struct wd_cipher_sess *s;
	uint8_t key[32];
	uint16_t id;
	size_t kl, i;
	int k;

	seed = t_seed();
	fold_vs_evp();
	for (k = 0; k < 3; k++) {
		kl = 16 + 8 * (size_t)k;
		t_fill_random(key, kl, &seed);
		s = t_sess(q, WD_CIPHER_AES_GCM, key, kl);
		for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++)
			one_long(q, s, key, kl, lens[i]);
		for (i = 0; i < 20; i++)
			one_long(q, s, key, kl, 129 + (size_t)(t_rand(&seed) % (WD_AEAD_IV_MAX - 128)));
		/* short and long alternating on one session */
		one_long(q, s, key, kl, 12);
		one_long(q, s, key, kl, 1024);
		one_long(q, s, key, kl, 1);
		id = wd_cipher_sess_id(s);
		wd_cipher_sess_free(s);
		/* the same id, another key: the GHASH key kept for long IVs goes */
		t_fill_random(key, kl, &seed);
		s = t_sess(q, WD_CIPHER_AES_GCM, key, kl);
		T_EQ(wd_cipher_sess_id(s), id);
		one_long(q, s, key, kl, 300);
		wd_cipher_sess_free(s);
	}
	printf("IVs of 1..128 bytes (but 12) fold invisibly; %u long-IV messages match "
	       "OpenSSL's low-level GCM\n", nlong);
	T_ASSERT(nlong >= 90);
	wd_queue_free(q);
	wd_ctx_free(ctx);
	return 0;
}
