/* Helpers for the cipher tests: OpenSSL called directly is the reference. */
#ifndef T_CRYPTO_H
#define T_CRYPTO_H

#include <openssl/evp.h>
#include <wd/crypto.h>
#include "t_helpers.h"

/* Hex text (spaces ignored) into bytes; returns the byte count. */
static inline size_t t_hex(const char *h, uint8_t *out)
{
	size_t n = 0;
	unsigned v;

	while (*h) {
		if (*h == ' ') {
			h++;
			continue;
		}
		T_ASSERT(sscanf(h, "%2x", &v) == 1);
		out[n++] = (uint8_t)v;
		h += 2;
	}
	return n;
}

static inline const EVP_CIPHER *t_evp(enum wd_cipher_alg alg, size_t key_len)
{
	switch (alg) {
	case WD_CIPHER_AES_CBC:
		return key_len == 16 ? EVP_aes_128_cbc() : key_len == 24 ? EVP_aes_192_cbc()
									 : EVP_aes_256_cbc();
	case WD_CIPHER_AES_CTR:
		return key_len == 16 ? EVP_aes_128_ctr() : key_len == 24 ? EVP_aes_192_ctr()
									 : EVP_aes_256_ctr();
	default:
		return key_len == 32 ? EVP_aes_128_xts() : EVP_aes_256_xts();
	}
}

/* The reference: one EVP call over the whole buffer. */
static inline void t_ref(enum wd_cipher_alg alg, const uint8_t *key, size_t key_len,
			 const uint8_t *iv, const void *in, void *out, size_t len, int enc)
{
	EVP_CIPHER_CTX *x = EVP_CIPHER_CTX_new();
	int n = 0;

	T_ASSERT(x);
	T_ASSERT(EVP_CipherInit_ex(x, t_evp(alg, key_len), NULL, key, iv, enc));
	EVP_CIPHER_CTX_set_padding(x, 0);
	T_ASSERT(!len || EVP_CipherUpdate(x, out, &n, in, (int)len));
	T_EQ(n, len);
	EVP_CIPHER_CTX_free(x);
}

static inline struct wd_cipher_sess *t_sess(struct wd_queue *q, enum wd_cipher_alg alg,
					    const uint8_t *key, size_t key_len)
{
	struct wd_cipher_sess *s = NULL;

	T_OK(wd_cipher_sess_new(&s, q, alg, key, key_len));
	T_ASSERT(wd_cipher_sess_id(s) >= 1 && wd_cipher_sess_id(s) <= WD_MAX_SESSIONS);
	return s;
}

/* A random key of a length the mode takes (XTS halves differ). */
static inline size_t t_rand_key(enum wd_cipher_alg alg, uint8_t *key, uint64_t *seed)
{
	static const size_t block_keys[] = { 16, 24, 32 }, xts_keys[] = { 32, 64 };
	size_t len = alg == WD_CIPHER_AES_XTS ? xts_keys[t_rand(seed) % 2]
					       : block_keys[t_rand(seed) % 3];

	do
		t_fill_random(key, len, seed);
	while (alg == WD_CIPHER_AES_XTS && !memcmp(key, key + len / 2, len / 2));
	return len;
}

/* A random length the mode takes, up to max. */
static inline size_t t_rand_len(enum wd_cipher_alg alg, size_t max, uint64_t *seed)
{
	size_t len = (size_t)(t_rand(seed) % (max + 1));

	if (alg == WD_CIPHER_AES_CBC)
		len &= ~(size_t)15;
	if (alg == WD_CIPHER_AES_XTS && len < 16)
		len = 16;
	return len;
}

#endif
