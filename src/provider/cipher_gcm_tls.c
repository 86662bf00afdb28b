/* SPDX-License-Identifier: MIT */
/*
 * AES-GCM parameters, and TLS 1.2 records.  libssl runs TLS 1.2 AES-GCM
 * through EVP_CTRL_GCM_SET_IV_FIXED (the 4-byte implicit part of the nonce;
 * the cipher then makes the 8-byte explicit part, a counter) and, per
 * record, EVP_CTRL_AEAD_TLS1_AAD (the 13-byte header) followed by one
 * in-place call over [explicit IV][text][tag]: the cipher writes or reads
 * the explicit IV and the tag itself.  A record is one message, so it goes
 * to a queue whole (one request) or to the default provider whole; the
 * nonce counter is kept here so both places continue one sequence.
 */
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include "gcm.h"

static int tls_err(struct wdp_cctx *c, const char *what)
{
	wdp_raise(c->prov, WDP_R_OPERATION, "AES-GCM TLS record: %s", what);
	return 0;
}

/* The stored IV becomes the message's; its invocation field (the last 8
 * bytes) += 1 for the next.  The message must run with the IV the caller
 * was handed, as the default provider's does. */
static void iv_gen_next(struct wdp_gcm *g)
{
	int i;

	memcpy(g->iv, g->iv_next, g->ivlen);
	g->iv_state = IV_SET;
	for (i = (int)g->ivlen - 1; i >= (int)g->ivlen - 8 && ++g->iv_next[i] == 0; i--)
		;
}

/* The stored IV's last n bytes set (decryption: the record's invocation
 * field), and the message's IV with it. */
static void iv_set_inv(struct wdp_gcm *g, const uint8_t *inv, size_t n)
{
	memcpy(g->iv_next + g->ivlen - n, inv, n);
	memcpy(g->iv, g->iv_next, g->ivlen);
	g->iv_state = IV_SET;
}

int wdp_gcm_tls_record(struct wdp_cctx *c, uint8_t *out, size_t *outl, const uint8_t *in,
		       size_t len)
{
	struct wdp_gcm *g = c->gcm;
	size_t tl;
	int ok;

	*outl = 0;
	if (out != in || len < GCM_TLS_EXPLICIT + GCM_TAG_MAX || !g->iv_gen)
		return tls_err(c, "needs the fixed IV, in place, 24 bytes at least");
	if (c->enc && ++g->tls_records == 0)
		return tls_err(c, "too many records for one key");
	if (c->enc) {
		iv_gen_next(g);
		memcpy(out, g->iv + g->ivlen - GCM_TLS_EXPLICIT, GCM_TLS_EXPLICIT);
	} else {
		iv_set_inv(g, in, GCM_TLS_EXPLICIT);
	}
	tl = len - GCM_TLS_EXPLICIT - GCM_TAG_MAX;
	/* the record is a message of its own; its header is the AAD */
	wdp_gcm_end(c);
	if (!wdp_gcm_aad_add(c, g->tls_aad, GCM_TLS_AAD))
		return 0;
	if (!c->enc) {
		memcpy(g->tag, in + GCM_TLS_EXPLICIT + tl, GCM_TAG_MAX);
		g->taglen = GCM_TAG_MAX;
	}
	ok = wdp_gcm_oneshot(c, out + GCM_TLS_EXPLICIT, in + GCM_TLS_EXPLICIT, tl);
	if (ok && c->enc)
		memcpy(out + GCM_TLS_EXPLICIT + tl, g->tag, GCM_TAG_MAX);
	if (!ok && !c->enc)
		OPENSSL_cleanse(out + GCM_TLS_EXPLICIT, tl);
	wdp_gcm_end(c);
	g->tls_aad_len = 0;
	g->iv_state = IV_DONE;
	if (ok)
		*outl = c->enc ? len : tl;
	return ok;
}

/* ---- parameters ---- */

static const OSSL_PARAM gcm_gettable[] = {
	OSSL_PARAM_size_t(OSSL_CIPHER_PARAM_KEYLEN, NULL),
	OSSL_PARAM_size_t(OSSL_CIPHER_PARAM_IVLEN, NULL),
	OSSL_PARAM_size_t(OSSL_CIPHER_PARAM_AEAD_TAGLEN, NULL),
	OSSL_PARAM_octet_string(OSSL_CIPHER_PARAM_IV, NULL, 0),
	OSSL_PARAM_octet_string(OSSL_CIPHER_PARAM_UPDATED_IV, NULL, 0),
	OSSL_PARAM_octet_string(OSSL_CIPHER_PARAM_AEAD_TAG, NULL, 0),
	OSSL_PARAM_size_t(OSSL_CIPHER_PARAM_AEAD_TLS1_AAD_PAD, NULL),
	OSSL_PARAM_octet_string(OSSL_CIPHER_PARAM_AEAD_TLS1_GET_IV_GEN, NULL, 0),
	OSSL_PARAM_END
};

static const OSSL_PARAM gcm_settable[] = {
	OSSL_PARAM_size_t(OSSL_CIPHER_PARAM_AEAD_IVLEN, NULL),
	OSSL_PARAM_octet_string(OSSL_CIPHER_PARAM_AEAD_TAG, NULL, 0),
	OSSL_PARAM_octet_string(OSSL_CIPHER_PARAM_AEAD_TLS1_AAD, NULL, 0),
	OSSL_PARAM_octet_string(OSSL_CIPHER_PARAM_AEAD_TLS1_IV_FIXED, NULL, 0),
	OSSL_PARAM_octet_string(OSSL_CIPHER_PARAM_AEAD_TLS1_SET_IV_INV, NULL, 0),
	OSSL_PARAM_END
};

const OSSL_PARAM *wdp_gcm_gettable(void *vctx, void *provctx)
{
	return gcm_gettable;
}

const OSSL_PARAM *wdp_gcm_settable(void *vctx, void *provctx)
{
	return gcm_settable;
}

static int bad(struct wdp_cctx *c, const char *key)
{
	wdp_raise(c->prov, WDP_R_BAD_PARAM, "AES-GCM: bad parameter \"%s\"", key);
	return 0;
}

/* The stored IV (with iv_gen, the next message's, as the default
 * provider answers).  None set yet: 0 and no error, as it does too. */
static int get_iv(struct wdp_cctx *c, OSSL_PARAM *p)
{
	struct wdp_gcm *g = c->gcm;
	uint8_t *iv = g->iv_gen ? g->iv_next : g->iv;

	if (g->iv_state == IV_UNSET)
		return 0;
	if (p->data && p->data_size < g->ivlen)
		return bad(c, p->key);
	if (!OSSL_PARAM_set_octet_ptr(p, iv, g->ivlen) &&
	    !OSSL_PARAM_set_octet_string(p, iv, g->ivlen))
		return bad(c, p->key);
	return 1;
}

/* EVP_CTRL_GCM_IV_GEN: the invocation field for the next record. */
static int get_iv_gen(struct wdp_cctx *c, OSSL_PARAM *p)
{
	struct wdp_gcm *g = c->gcm;
	size_t n = p->data_size;

	if (!g->iv_gen || !c->key_set || !p->data || p->data_type != OSSL_PARAM_OCTET_STRING)
		return bad(c, p->key);
	if (!n || n > g->ivlen)
		n = g->ivlen;
	iv_gen_next(g);
	memcpy(p->data, g->iv + g->ivlen - n, n);
	p->return_size = n;
	return 1;
}

/* The tag of the message just finished (encryption). */
static int get_tag(struct wdp_cctx *c, OSSL_PARAM *p)
{
	struct wdp_gcm *g = c->gcm;
	size_t n = p->data ? p->data_size : g->taglen;

	if (!c->enc || !g->taglen) {
		wdp_raise(c->prov, WDP_R_TAG, "AES-GCM: no tag made yet");
		return 0;
	}
	if (!n || n > GCM_TAG_MAX || !OSSL_PARAM_set_octet_string(p, g->tag, n))
		return bad(c, p->key);
	return 1;
}

int wdp_gcm_get_params(struct wdp_cctx *c, OSSL_PARAM params[])
{
	struct wdp_gcm *g = c->gcm;
	OSSL_PARAM *p;
	int ok = 1;

	for (p = params; p && p->key; p++) {
		switch (wdp_param_id(p->key)) {
		case WP_KEYLEN:
			ok = OSSL_PARAM_set_size_t(p, c->key_len);
			break;
		case WP_IVLEN:
			ok = OSSL_PARAM_set_size_t(p, g->ivlen);
			break;
		case WP_TAGLEN:
			ok = OSSL_PARAM_set_size_t(p, g->taglen ? g->taglen : GCM_TAG_MAX);
			break;
		case WP_IV:
		case WP_UPDATED_IV:
			if (!get_iv(c, p))
				return 0;
			break;
		case WP_TLS_AAD_PAD:
			ok = OSSL_PARAM_set_size_t(p, g->tls_pad);
			break;
		case WP_TAG:
			if (!get_tag(c, p))
				return 0;
			break;
		case WP_TLS_IV_GEN:
			if (!get_iv_gen(c, p))
				return 0;
			break;
		default:
			break;
		}
		if (!ok)
			return bad(c, p->key);
	}
	return 1;
}

/* EVP_CTRL_AEAD_TLS1_AAD: the record header, its length made the text's. */
static size_t tls_aad(struct wdp_cctx *c, const uint8_t *aad, size_t n)
{
	struct wdp_gcm *g = c->gcm;
	size_t len;

	if (n != GCM_TLS_AAD)
		return 0;
	memcpy(g->tls_aad, aad, n);
	len = (size_t)aad[n - 2] << 8 | aad[n - 1];
	if (len < GCM_TLS_EXPLICIT + (c->enc ? 0 : GCM_TAG_MAX))
		return 0;
	len -= GCM_TLS_EXPLICIT + (c->enc ? 0 : GCM_TAG_MAX);
	g->tls_aad[n - 2] = (uint8_t)(len >> 8);
	g->tls_aad[n - 1] = (uint8_t)len;
	g->tls_aad_len = n;
	return GCM_TAG_MAX;
}

/* EVP_CTRL_GCM_SET_IV_FIXED: the implicit part; encryption draws the
 * invocation field at random, decryption reads it from each record.
 * Length -1 restores the whole IV (OpenSSH), as in the default provider. */
static int tls_fixed(struct wdp_cctx *c, const uint8_t *iv, size_t n)
{
	struct wdp_gcm *g = c->gcm;

	if (!iv)
		return 0;
	if (n == (size_t)-1) {
		memcpy(g->iv_next, iv, g->ivlen);
	} else {
		if (n < GCM_TLS_FIXED || n > g->ivlen || g->ivlen - n < GCM_TLS_EXPLICIT)
			return 0;
		memcpy(g->iv_next, iv, n);
		if (c->enc && RAND_bytes_ex(c->prov->sw.libctx, g->iv_next + n, g->ivlen - n,
					    0) <= 0)
			return 0;
	}
	memcpy(g->iv, g->iv_next, g->ivlen);
	g->iv_gen = 1;
	g->iv_state = IV_SET;
	return 1;
}

static int set_tag(struct wdp_cctx *c, const OSSL_PARAM *p)
{
	struct wdp_gcm *g = c->gcm;
	void *v = g->tag;
	size_t n;

	if (!OSSL_PARAM_get_octet_string(p, &v, GCM_TAG_MAX, &n))
		return bad(c, p->key);
	if (c->enc) {
		wdp_raise(c->prov, WDP_R_TAG, "AES-GCM: a tag is not set for encryption");
		return 0;
	}
	if (!n)
		return bad(c, p->key);
	g->taglen = n;
	return 1;
}

static int set_ivlen(struct wdp_cctx *c, const OSSL_PARAM *p)
{
	struct wdp_gcm *g = c->gcm;
	size_t sz;

	if (!OSSL_PARAM_get_size_t(p, &sz) || !sz || sz > GCM_IV_MAX)
		return bad(c, p->key);
	if (sz != g->ivlen) {
		if (g->iv_state != IV_UNSET)
			g->iv_state = IV_DONE; /* the IV set was for another length */
		g->ivlen = sz;
	}
	return 1;
}

static int set_iv_inv(struct wdp_cctx *c, const OSSL_PARAM *p)
{
	struct wdp_gcm *g = c->gcm;

	if (p->data_type != OSSL_PARAM_OCTET_STRING || !p->data || !g->iv_gen || c->enc ||
	    !c->key_set || p->data_size > g->ivlen)
		return bad(c, p->key);
	iv_set_inv(g, p->data, p->data_size);
	return 1;
}

int wdp_gcm_set_params(struct wdp_cctx *c, const OSSL_PARAM params[])
{
	struct wdp_gcm *g = c->gcm;
	const OSSL_PARAM *p;

	for (p = params; p->key; p++) {
		switch (wdp_param_id(p->key)) {
		case WP_TAG:
			if (!set_tag(c, p))
				return 0;
			break;
		case WP_IVLEN:
			if (!set_ivlen(c, p))
				return 0;
			break;
		case WP_TLS_AAD:
			if (p->data_type != OSSL_PARAM_OCTET_STRING ||
			    !(g->tls_pad = tls_aad(c, p->data, p->data_size)))
				return bad(c, p->key);
			break;
		case WP_TLS_IV_FIXED:
			if (p->data_type != OSSL_PARAM_OCTET_STRING ||
			    !tls_fixed(c, p->data, p->data_size))
				return bad(c, p->key);
			break;
		case WP_TLS_IV_INV:
			if (!set_iv_inv(c, p))
				return 0;
			break;
		default:
			break;
		}
	}
	return 1;
}
