/* SPDX-License-Identifier: MIT */
/*
 * AES-GCM, the EVP contract: IV length settable (1..128 bytes) before the
 * IV, AAD through Update with out == NULL before any text, text through
 * Update in pieces of any sizes, the tag read after EncryptFinal and set
 * before DecryptFinal (which fails when it does not match), a new IV for
 * every message.
 *
 * On a queue a message is a run of AEAD requests (wd/crypto.h): the first
 * carries WD_AEAD_P_INIT with the IV and the AAD in its header, each text
 * piece is a request, and Final sends WD_AEAD_P_FINAL with the tag slot.
 * A message goes where its first text piece (or its end, if it has no
 * text) is routed and stays there; it can fall back to the default
 * provider only before the device has seen any of it.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include "gcm.h"

int wdp_gcm_new(struct wdp_cctx *c)
{
	c->gcm = calloc(1, sizeof(*c->gcm));
	if (!c->gcm)
		return -ENOMEM;
	c->gcm->ivlen = GCM_IV_DEFAULT;
	return 0;
}

void wdp_gcm_free(struct wdp_cctx *c)
{
	struct wdp_gcm *g = c->gcm;

	if (g->aad) {
		OPENSSL_cleanse(g->aad, g->aad_cap);
		free(g->aad);
	}
	if (g->hdr) {
		OPENSSL_cleanse(g->hdr, g->hdr_cap);
		free(g->hdr);
	}
	OPENSSL_cleanse(g, sizeof(*g));
	free(g);
	c->gcm = NULL;
}

int wdp_gcm_dup(struct wdp_cctx *dst, const struct wdp_cctx *src)
{
	const struct wdp_gcm *s = src->gcm;
	struct wdp_gcm *g = malloc(sizeof(*g));

	if (!g)
		return -ENOMEM;
	*g = *s;
	g->aad = NULL;
	g->aad_cap = 0;
	g->hdr = NULL;
	g->hdr_cap = 0;
	if (s->aad_len) {
		g->aad = malloc(s->aad_len);
		if (!g->aad) {
			free(g);
			return -ENOMEM;
		}
		memcpy(g->aad, s->aad, s->aad_len);
		g->aad_cap = s->aad_len;
	}
	/* the device's half of a message cannot be copied: the copy's
	 * message fails at its next step; between messages it is whole */
	if (g->route == ROUTE_WD)
		g->route = ROUTE_BROKEN;
	dst->gcm = g;
	return 0;
}

/* A message ends (finished, failed, or replaced by a new IV). */
void wdp_gcm_end(struct wdp_cctx *c)
{
	struct wdp_gcm *g = c->gcm;

	g->route = ROUTE_NONE;
	if (g->aad_len)
		OPENSSL_cleanse(g->aad, g->aad_len);
	g->aad_len = 0;
}

int wdp_gcm_init(struct wdp_cctx *c, const unsigned char *iv, size_t ivlen, int key_changed)
{
	struct wdp_gcm *g = c->gcm;

	wdp_gcm_end(c);
	g->tls_aad_len = 0;
	if (key_changed)
		g->tls_records = 0;
	if (iv) {
		if (!ivlen || ivlen > GCM_IV_MAX) {
			wdp_raise(c->prov, WDP_R_BAD_IV_LENGTH, "GCM IV of %zu bytes (1..128)", ivlen);
			return 0;
		}
		g->ivlen = ivlen;
		memcpy(g->iv, iv, ivlen);
		g->iv_state = IV_SET;
		g->iv_gen = 0;
	}
	c->iv_set = g->iv_state == IV_SET;
	return 1;
}

/* Room for a request header of len bytes. */
int wdp_gcm_hdr(struct wdp_cctx *c, size_t len)
{
	struct wdp_gcm *g = c->gcm;
	uint8_t *h;

	if (len <= g->hdr_cap)
		return 1;
	h = malloc(len);
	if (!h) {
		wdp_raise(c->prov, WDP_R_NOMEM, "GCM: no memory for a %zu-byte header", len);
		return 0;
	}
	if (g->hdr) {
		OPENSSL_cleanse(g->hdr, g->hdr_cap);
		free(g->hdr);
	}
	g->hdr = h;
	g->hdr_cap = len;
	return 1;
}

/* Start the message in the default provider's context: key direction,
 * IV, then the AAD gathered so far. */
int wdp_gcm_sw_start(struct wdp_cctx *c, const uint8_t *aad, size_t aad_len)
{
	struct wdp_gcm *g = c->gcm;
	size_t outl;
	int ok;

	if (c->sw_dir != c->enc && !wdp_sw_key(c))
		return 0;
	if (c->enc)
		ok = c->swi->einit(c->sw, NULL, 0, g->iv, g->ivlen, NULL);
	else
		ok = c->swi->dinit(c->sw, NULL, 0, g->iv, g->ivlen, NULL);
	if (!ok || (aad_len && !c->swi->update(c->sw, NULL, &outl, aad_len, aad, aad_len)))
		return 0;
	g->route = ROUTE_SW;
	return 1;
}

/* Get (encryption, after Final) or set (decryption, before Final) the
 * default provider's tag. */
int wdp_gcm_sw_tag(struct wdp_cctx *c, int get, uint8_t *tag, size_t taglen)
{
	OSSL_PARAM p[2];

	p[0] = OSSL_PARAM_construct_octet_string(OSSL_CIPHER_PARAM_AEAD_TAG, tag, taglen);
	p[1] = OSSL_PARAM_construct_end();
	return get ? c->swi->get_ctx_params(c->sw, p) : c->swi->set_ctx_params(c->sw, p);
}

static int gcm_err(struct wdp_cctx *c, int reason, const char *what)
{
	wdp_raise(c->prov, reason, "AES-GCM: %s", what);
	return 0;
}

/* Encryption without an IV: a random one, as OpenSSL's GCM makes. */
static int need_iv(struct wdp_cctx *c)
{
	struct wdp_gcm *g = c->gcm;

	if (g->iv_state == IV_SET)
		return 1;
	if (g->iv_state == IV_DONE)
		return gcm_err(c, WDP_R_NO_IV, "the IV was used: set a new one");
	if (!c->enc || g->ivlen < GCM_IV_DEFAULT ||
	    RAND_bytes_ex(c->prov->sw.libctx, g->iv, g->ivlen, 0) <= 0)
		return gcm_err(c, WDP_R_NO_IV, "no IV set");
	g->iv_state = IV_SET;
	return 1;
}

/* One AEAD request of the message on the queue; the first carries the IV
 * and the AAD, the last the tag slot.  Returns wdp_run_queue's answer. */
static int wd_part(struct wdp_cctx *c, uint32_t param, uint8_t *out, const uint8_t *in,
		   size_t len, enum wdp_why *why)
{
	struct wdp_gcm *g = c->gcm;
	size_t tl = param & WD_AEAD_P_FINAL ? (c->enc ? GCM_TAG_MAX : g->taglen) : 0;
	size_t ivl = param & WD_AEAD_P_INIT ? g->ivlen : 0;
	size_t al = param & WD_AEAD_P_INIT ? g->aad_len : 0;
	struct wdp_op op = {
		.op = c->enc ? WD_OP_ENCRYPT : WD_OP_DECRYPT, .mode = WDP_GCM,
		.in = in, .out = out, .len = len, .aad_len = al, .hdr_len = ivl + al + tl,
		.param = param | WD_AEAD_P_IVLEN(ivl) | WD_AEAD_P_TAGLEN(tl),
	};
	int r;

	if (!wdp_gcm_hdr(c, op.hdr_len ? op.hdr_len : 1))
		return 0;
	op.hdr = g->hdr;
	memcpy(g->hdr, g->iv, ivl);
	if (al)
		memcpy(g->hdr + ivl, g->aad, al);
	if (tl && !c->enc)
		memcpy(g->hdr + ivl + al, g->tag, tl);
	r = wdp_run_queue(c, &op, why);
	if (r > 0 && tl && c->enc)
		memcpy(g->tag, g->hdr + ivl + al, tl);
	return r;
}

/* Where a new message goes: 1 queue, 0 default provider (*why). */
static int route_msg(struct wdp_cctx *c, size_t len, enum wdp_why *why)
{
	struct wdp_gcm *g = c->gcm;

	if (!c->enc && g->taglen && g->taglen < 4) {
		*why = WDP_WHY_TAG; /* the device checks tags of 4..16 bytes */
		return 0;
	}
	return wdp_route(c, len, why);
}

/* Text (or, with final, the end) of a message that has no route yet. */
static int start_msg(struct wdp_cctx *c, uint8_t *out, const uint8_t *in, size_t len,
		     int final)
{
	struct wdp_gcm *g = c->gcm;
	uint32_t param = WD_AEAD_P_INIT | (final ? WD_AEAD_P_FINAL : 0);
	enum wdp_why why;
	int r;

	if (route_msg(c, len, &why)) {
		r = wd_part(c, param, out, in, len, &why);
		if (!r) {
			wdp_gcm_end(c);
			return 0;
		}
		if (r > 0) {
			g->route = ROUTE_WD;
			wdp_count_wd(c, len);
			return 1;
		}
	}
	g->why = why;
	if (!wdp_gcm_sw_start(c, g->aad, g->aad_len))
		return 0;
	return -1; /* started in the default provider: the caller goes on there */
}

int wdp_gcm_aad_add(struct wdp_cctx *c, const uint8_t *in, size_t inl)
{
	struct wdp_gcm *g = c->gcm;
	size_t outl, cap;
	uint8_t *a;

	if (g->route == ROUTE_SW)
		return c->swi->update(c->sw, NULL, &outl, inl, in, inl);
	if (g->route != ROUTE_NONE)
		return gcm_err(c, WDP_R_OPERATION, "AAD after text");
	if (g->aad_len + inl > g->aad_cap) {
		cap = (g->aad_len + inl) * 2;
		a = malloc(cap);
		if (!a)
			return gcm_err(c, WDP_R_NOMEM, "no memory for AAD");
		if (g->aad) {
			memcpy(a, g->aad, g->aad_len);
			OPENSSL_cleanse(g->aad, g->aad_cap);
			free(g->aad);
		}
		g->aad = a;
		g->aad_cap = cap;
	}
	memcpy(g->aad + g->aad_len, in, inl);
	g->aad_len += inl;
	return 1;
}

static int text(struct wdp_cctx *c, uint8_t *out, const uint8_t *in, size_t inl)
{
	struct wdp_gcm *g = c->gcm;
	enum wdp_why why;
	size_t outl;
	int r;

	if (g->route == ROUTE_NONE) {
		r = start_msg(c, out, in, inl, 0);
		if (r >= 0)
			return r;
		wdp_count_sw(c, inl, g->why);
		return c->swi->update(c->sw, out, &outl, inl, in, inl);
	}
	if (g->route == ROUTE_SW) {
		wdp_count_sw(c, inl, inl < c->threshold ? WDP_WHY_THRESHOLD
									  : WDP_WHY_MSG);
		return c->swi->update(c->sw, out, &outl, inl, in, inl);
	}
	if (g->route == ROUTE_BROKEN)
		return gcm_err(c, WDP_R_OPERATION, "the message cannot go on (device failed, "
						   "or a copy of a context mid-message)");
	r = wd_part(c, 0, out, in, inl, &why);
	if (r > 0) {
		wdp_count_wd(c, inl);
		return 1;
	}
	g->route = ROUTE_BROKEN;
	return r ? gcm_err(c, WDP_R_DEVICE_FAILED, "the device failed mid-message") : 0;
}

int wdp_gcm_update(void *vctx, unsigned char *out, size_t *outl, size_t outsize,
		   const unsigned char *in, size_t inl)
{
	struct wdp_cctx *c = vctx;
	struct wdp_gcm *g = c->gcm;

	*outl = 0;
	if (!c->key_set)
		return gcm_err(c, WDP_R_NO_KEY, "no key set");
	if (g->tls_aad_len)
		return wdp_gcm_tls_record(c, out, outl, in, inl);
	if (!inl)
		return 1;
	if (!need_iv(c))
		return 0;
	if (!out)
		return wdp_gcm_aad_add(c, in, inl);
	if (outsize < inl)
		return gcm_err(c, WDP_R_OUTPUT_TOO_SMALL, "output buffer too small");
	if (!text(c, out, in, inl))
		return 0;
	*outl = inl;
	return 1;
}

static int final_sw(struct wdp_cctx *c)
{
	struct wdp_gcm *g = c->gcm;
	uint8_t dummy[GCM_TAG_MAX];
	size_t outl;

	if (!c->enc && !wdp_gcm_sw_tag(c, 0, g->tag, g->taglen))
		return 0;
	if (!c->swi->final(c->sw, dummy, &outl, sizeof(dummy))) {
		if (!c->enc)
			wdp_raise(c->prov, WDP_R_BAD_DECRYPT, "AES-GCM: tag mismatch");
		return 0;
	}
	if (c->enc) {
		if (!wdp_gcm_sw_tag(c, 1, g->tag, GCM_TAG_MAX))
			return 0;
		g->taglen = GCM_TAG_MAX;
	}
	return 1;
}

/* A whole message at once (a TLS record): the AAD already gathered, the
 * expected tag in g->tag (decryption); the tag made is left in g->tag
 * (encryption).  1, or 0 with an error raised. */
int wdp_gcm_oneshot(struct wdp_cctx *c, uint8_t *out, const uint8_t *in, size_t len)
{
	struct wdp_gcm *g = c->gcm;
	size_t outl;
	int r;

	r = start_msg(c, out, in, len, 1);
	if (r >= 0) {
		if (r > 0 && c->enc)
			g->taglen = GCM_TAG_MAX;
		return r;
	}
	wdp_count_sw(c, len, g->why);
	if (len && !c->swi->update(c->sw, out, &outl, len, in, len))
		return 0;
	return final_sw(c);
}

int wdp_gcm_final(void *vctx, unsigned char *out, size_t *outl, size_t outsize)
{
	struct wdp_cctx *c = vctx;
	struct wdp_gcm *g = c->gcm;
	enum wdp_why why;
	int r = 1;

	*outl = 0;
	if (!c->key_set)
		return gcm_err(c, WDP_R_NO_KEY, "no key set");
	if (g->tls_aad_len)
		return gcm_err(c, WDP_R_OPERATION, "TLS records are never finalised");
	if (!need_iv(c))
		return 0;
	if (!c->enc && !g->taglen)
		return gcm_err(c, WDP_R_TAG, "no tag set for decryption");
	if (g->route == ROUTE_NONE) {
		/* no text: the whole message is its end */
		r = start_msg(c, NULL, NULL, 0, 1);
		if (r < 0) {
			wdp_count_sw(c, 0, g->why);
			r = final_sw(c);
		} else if (r > 0 && c->enc) {
			g->taglen = GCM_TAG_MAX;
		}
	} else if (g->route == ROUTE_SW) {
		r = final_sw(c);
	} else if (g->route == ROUTE_BROKEN) {
		r = gcm_err(c, WDP_R_OPERATION, "the message cannot be finished here");
	} else if (!c->enc && g->taglen < 4) {
		r = gcm_err(c, WDP_R_TAG, "a tag under 4 bytes was set after the message began "
					  "on the device");
	} else {
		r = wd_part(c, WD_AEAD_P_FINAL, NULL, NULL, 0, &why);
		if (r < 0)
			r = gcm_err(c, WDP_R_DEVICE_FAILED, "the device failed the message's end");
		else if (r > 0 && c->enc)
			g->taglen = GCM_TAG_MAX;
	}
	wdp_gcm_end(c);
	g->iv_state = IV_DONE; /* never twice with one IV */
	return r > 0;
}

/* EVP_Cipher(): a TLS record, or Update / Final (in == NULL) in one. */
int wdp_gcm_cipher(void *vctx, unsigned char *out, size_t *outl, size_t outsize,
		   const unsigned char *in, size_t inl)
{
	if (!in)
		return wdp_gcm_final(vctx, out, outl, outsize);
	return wdp_gcm_update(vctx, out, outl, outsize, in, inl);
}
