/* Helpers for the AES-GCM tests: references, and a message run through a
 * queue in parts (wd_prep_aead), each part's header built apart. */
#ifndef T_GCM_H
#define T_GCM_H

#include <openssl/evp.h>
#include <openssl/modes.h>
#include <wd/crypto.h>
#include "t_crypto.h"

/* One block of AES for OpenSSL's low-level GCM (CRYPTO_gcm128_*): key is
 * an AES-ECB EVP context. */
static inline void t_gcm_block(const unsigned char in[16], unsigned char out[16],
			       const void *key)
{
	int n;

	T_ASSERT(EVP_EncryptUpdate((EVP_CIPHER_CTX *)key, out, &n, in, 16) && n == 16);
}

static inline const EVP_CIPHER *t_ecb(size_t key_len)
{
	return key_len == 16 ? EVP_aes_128_ecb() : key_len == 24 ? EVP_aes_192_ecb()
								 : EVP_aes_256_ecb();
}

/*
 * The reference: OpenSSL's low-level GCM (crypto/modes/gcm128.c), which
 * takes IVs of any length (EVP's GCM stops at 128 bytes).  Encrypt: out and
 * tag written, returns 0.  Decrypt: out written, returns 0 if tag matches
 * (tag_len bytes), else -EBADMSG.  iv_len 0 is refused (-EINVAL), as
 * SP 800-38D says.
 */
static inline int t_gcm_ref(const uint8_t *key, size_t key_len, const uint8_t *iv, size_t iv_len,
			    const uint8_t *aad, size_t aad_len, const uint8_t *in, uint8_t *out,
			    size_t len, uint8_t *tag, size_t tag_len, int enc)
{
	EVP_CIPHER_CTX *ecb = EVP_CIPHER_CTX_new();
	GCM128_CONTEXT *g;
	int ret = 0;

	if (!iv_len)
		return -EINVAL;
	T_ASSERT(ecb && EVP_EncryptInit_ex(ecb, t_ecb(key_len), NULL, key, NULL));
	EVP_CIPHER_CTX_set_padding(ecb, 0);
	g = CRYPTO_gcm128_new(ecb, t_gcm_block);
	T_ASSERT(g);
	CRYPTO_gcm128_setiv(g, iv, iv_len);
	T_ASSERT(!aad_len || !CRYPTO_gcm128_aad(g, aad, aad_len));
	if (enc) {
		T_ASSERT(!len || !CRYPTO_gcm128_encrypt(g, in, out, len));
		CRYPTO_gcm128_tag(g, tag, tag_len);
	} else {
		T_ASSERT(!len || !CRYPTO_gcm128_decrypt(g, in, out, len));
		ret = CRYPTO_gcm128_finish(g, tag, tag_len) ? -EBADMSG : 0;
	}
	CRYPTO_gcm128_release(g);
	EVP_CIPHER_CTX_free(ecb);
	return ret;
}

static inline const EVP_CIPHER *t_gcm_evp(size_t key_len)
{
	return key_len == 16 ? EVP_aes_128_gcm() : key_len == 24 ? EVP_aes_192_gcm()
								 : EVP_aes_256_gcm();
}

/* The same through EVP called directly (IVs of 1..128 bytes): what the
 * provider gives an application that never heard of WarpDrive. */
static inline int t_gcm_evp_run(const uint8_t *key, size_t key_len, const uint8_t *iv,
				size_t iv_len, const uint8_t *aad, size_t aad_len,
				const uint8_t *in, uint8_t *out, size_t len, uint8_t *tag,
				size_t tag_len, int enc)
{
	EVP_CIPHER_CTX *x = EVP_CIPHER_CTX_new();
	int n, ok;

	T_ASSERT(x && EVP_CipherInit_ex(x, t_gcm_evp(key_len), NULL, NULL, NULL, enc));
	T_ASSERT(EVP_CIPHER_CTX_ctrl(x, EVP_CTRL_GCM_SET_IVLEN, (int)iv_len, NULL) > 0);
	T_ASSERT(EVP_CipherInit_ex(x, NULL, NULL, key, iv, enc));
	T_ASSERT(!aad_len || EVP_CipherUpdate(x, NULL, &n, aad, (int)aad_len));
	T_ASSERT(!len || (EVP_CipherUpdate(x, out, &n, in, (int)len) && (size_t)n == len));
	if (!enc)
		T_ASSERT(EVP_CIPHER_CTX_ctrl(x, EVP_CTRL_GCM_SET_TAG, (int)tag_len, tag) > 0);
	ok = EVP_CipherFinal_ex(x, out + len, &n);
	if (enc) {
		T_ASSERT(ok);
		T_ASSERT(EVP_CIPHER_CTX_ctrl(x, EVP_CTRL_GCM_GET_TAG, (int)tag_len, tag) > 0);
	}
	EVP_CIPHER_CTX_free(x);
	return ok ? 0 : -EBADMSG;
}

static inline int t_all_zero(const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (p[i])
			return 0;
	return 1;
}

/*
 * A message in parts on a queue: the AAD cut at aad_cuts, the text at
 * txt_cuts (offsets, ascending, ncuts each), FINAL alone when final_alone.
 * Part k carries AAD piece k (if any) then text piece k-naad... in order:
 * first every AAD piece (the first with INIT and the IV), then every text
 * piece, the last part with FINAL (or an empty FINAL part after them).
 * Headers live in hdrs (room for every part: iv_len + aad_len + 16 * parts
 * bytes), text in place when out == in.  addr() turns a pointer into the
 * device address (identity on SVA).  All parts are sent at once, then
 * reaped: returns the FINAL part's status; earlier parts must succeed.
 * tag: written (encrypt) or read (decrypt).
 */
struct t_gcm_msg {
	int enc;
	const uint8_t *iv, *aad, *in;
	uint8_t *out, *tag;
	size_t iv_len, aad_len, len, tag_len;
	const size_t *aad_cuts, *txt_cuts;
	unsigned naad_cuts, ntxt_cuts;
	int final_alone;
};

typedef uint64_t (*t_addr_fn)(const void *p, void *arg);

static inline uint64_t t_sva_addr(const void *p, void *arg)
{
	(void)arg;
	return (uint64_t)(uintptr_t)p;
}

static inline int t_gcm_parts(struct wd_queue *q, struct wd_cipher_sess *s,
			      const struct t_gcm_msg *m, uint8_t *hdrs, t_addr_fn addr, void *arg)
{
	struct wd_req r[80];
	struct wd_cpl c[80];
	size_t a0 = 0, t0 = 0, a1 = 0, t1 = 0, hoff = 0;
	unsigned n = 0, i, naad = m->naad_cuts + 1, ntxt = m->ntxt_cuts + 1, k, got = 0;
	int status = 0;

	T_ASSERT(naad + ntxt + 1 <= 80);
	for (k = 0; k < naad + ntxt; k++) {
		int is_aad = k < naad, last = k == naad + ntxt - 1 && !m->final_alone;
		uint32_t p = (k == 0 ? WD_AEAD_P_INIT | WD_AEAD_P_IVLEN(m->iv_len) : 0) |
			     (last ? WD_AEAD_P_FINAL | WD_AEAD_P_TAGLEN(m->tag_len) : 0);
		size_t aad = 0, txt = 0, h = hoff, iv = k == 0 ? m->iv_len : 0;
		uint8_t *hp = hdrs + hoff;

		if (is_aad) {
			a1 = k < m->naad_cuts ? m->aad_cuts[k] : m->aad_len;
			aad = a1 - a0;
			memcpy(hp + iv, m->aad + a0, aad);
			a0 = a1;
		} else {
			unsigned j = k - naad;

			t1 = j < m->ntxt_cuts ? m->txt_cuts[j] : m->len;
			txt = t1 - t0;
		}
		memcpy(hp, m->iv, iv);
		if (last && !m->enc)
			memcpy(hp + iv + aad, m->tag, m->tag_len);
		hoff += iv + aad + (last ? m->tag_len : 0);
		wd_prep_aead(&r[n], m->enc ? WD_OP_ENCRYPT : WD_OP_DECRYPT, s, p,
			     iv + aad || last ? addr(hdrs + h, arg) : 0, (uint32_t)aad,
			     txt ? addr(m->in + t0, arg) : 0, txt ? addr(m->out + t0, arg) : 0,
			     (uint32_t)txt);
		r[n].tag = n;
		n++;
		if (!is_aad)
			t0 = t1;
	}
	if (m->final_alone) {
		if (!m->enc)
			memcpy(hdrs + hoff, m->tag, m->tag_len);
		wd_prep_aead(&r[n], m->enc ? WD_OP_ENCRYPT : WD_OP_DECRYPT, s,
			     WD_AEAD_P_FINAL | WD_AEAD_P_TAGLEN(m->tag_len),
			     addr(hdrs + hoff, arg), 0, 0, 0, 0);
		r[n].tag = n;
		hoff += m->tag_len;
		n++;
	}
	T_EQ(wd_send(q, r, n), n);
	while (got < n) {
		int k2 = (int)T_OK(wd_wait(q, c, n, 10000));

		T_ASSERT(k2 > 0);
		for (i = 0; i < (unsigned)k2; i++) {
			T_EQ(c[i].tag, got + i); /* one queue serves in order */
			if (c[i].tag == n - 1)
				status = c[i].status;
			else if (c[i].status)
				T_FAIL("part %u of %u: status %d (%s)", (unsigned)c[i].tag, n,
				       c[i].status, wd_strerror(c[i].status));
		}
		got += (unsigned)k2;
	}
	if (!status && m->enc)
		memcpy(m->tag, hdrs + hoff - m->tag_len, m->tag_len);
	return status;
}

/* Random ascending cut points in [0, len], n of them (duplicates allowed:
 * empty pieces). */
static inline void t_cuts(size_t *cuts, unsigned n, size_t len, uint64_t *seed)
{
	unsigned i, j;

	for (i = 0; i < n; i++)
		cuts[i] = len ? (size_t)(t_rand(seed) % (len + 1)) : 0;
	for (i = 1; i < n; i++)
		for (j = i; j > 0 && cuts[j - 1] > cuts[j]; j--) {
			size_t t = cuts[j];

			cuts[j] = cuts[j - 1];
			cuts[j - 1] = t;
		}
}

#endif
