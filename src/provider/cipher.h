/* SPDX-License-Identifier: MIT */
/*
 * A cipher context of the provider.  It keeps the EVP state itself (key,
 * IV, CBC chain, CTR counter and keystream position, partial block,
 * padding) and hands each piece of work - whole blocks, a CTR run, an XTS
 * data unit, a GCM message - to a WarpDrive queue or to a context of
 * OpenSSL's default provider for the same algorithm (c->sw), whichever
 * the routing rules pick.  The two never disagree on the stream: after a
 * queue run the default provider's context is resynchronised (sw_synced)
 * before it is used again.
 */
#ifndef WDP_CIPHER_H
#define WDP_CIPHER_H

#include "wdp.h"

struct wdp_gcm;

struct wdp_cctx {
	struct wdp_prov *prov;
	const struct wdp_alg *alg;
	const struct wdp_sw_impl *swi;
	void *sw;                       /* the default provider's context */
	struct wdp_counts n;            /* this context's statistics */
	struct wdp_cctx *live_prev, *live_next; /* the instance's live contexts */

	int enc;                        /* 1 encrypt, 0 decrypt */
	int sw_dir;                     /* direction sw was keyed for, -1: not keyed */
	unsigned key_set : 1, iv_set : 1, pad : 1, sw_synced : 1, tls : 1;
	unsigned iv_in_sw : 1;          /* c->iv stale: the chain is sw's (wdp_iv_here) */
	unsigned tls_version;           /* CBC TLS record mode: libssl's version */
	enum wdp_why no_wd;             /* != WDP_WHY__COUNT: every piece to sw, why */
	size_t threshold;               /* the instance's, for this mode */
	size_t small_lim;               /* threshold - 1 (0 for 0): inl - 1 < small_lim is
					 * 0 < inl < threshold in one comparison */
	OSSL_FUNC_cipher_cipher_fn *sw_cipher; /* swi->cipher, one load less per call */
	OSSL_FUNC_cipher_update_fn *sw_update; /* swi->update, the same */
	size_t key_len;
	uint8_t key[WD_CIPHER_KEY_MAX];
	uint8_t oiv[WDP_BLOCK];         /* the IV as set */
	uint8_t iv[WDP_BLOCK];          /* CBC chain, CTR next counter, XTS tweak */
	uint8_t buf[WDP_BLOCK];         /* CBC: a partial block */
	size_t bufsz;
	unsigned num;                   /* CTR: keystream bytes used of the current block */
	uint64_t sw_run;                /* CTR: bytes the default provider went through since
					 * iv and num were brought up to date (wdp_ctr_settle) */

	struct wdp_sess sess;
	struct wdp_pend pend;           /* a job's request in flight (async.c) */
	uint8_t *keep;                  /* in place on a remote device: the input, kept */
	size_t keep_len;
	struct wdp_gcm *gcm;
};

/* cipher.c: shared by the modes */
void *wdp_cctx_new(struct wdp_prov *p, enum wdp_alg_id id);
void wdp_cctx_free(void *vctx);
void *wdp_cctx_dup(void *vctx);
int wdp_cctx_init(struct wdp_cctx *c, const unsigned char *key, size_t keylen,
		  const unsigned char *iv, size_t ivlen, const OSSL_PARAM params[], int enc);
int wdp_sw_sync(struct wdp_cctx *c);
int wdp_sw_key(struct wdp_cctx *c);
void wdp_sess_drop(struct wdp_cctx *c, int broken);
int wdp_cctx_set_common(struct wdp_cctx *c, const OSSL_PARAM params[]);

static inline void wdp_set_threshold(struct wdp_cctx *c, size_t t)
{
	c->threshold = t;
	c->small_lim = t ? t - 1 : 0;
}
int wdp_cctx_get_common(struct wdp_cctx *c, OSSL_PARAM params[]);

/* CBC encryption's small calls leave the chain in the default provider's
 * context (the last output block is only known after the call, and
 * copying it costs a stack frame): it is brought back before c->iv is
 * read.  1, or 0 with an error raised. */
int wdp_iv_pull(struct wdp_cctx *c);

static inline int wdp_iv_here(struct wdp_cctx *c)
{
	return !c->iv_in_sw || wdp_iv_pull(c);
}

/*
 * Route one piece of n bytes.  Returns 1 to run it on a queue, 0 to run it
 * in the default provider (*why set).  Counts nothing.
 */
static inline int wdp_route(struct wdp_cctx *c, size_t n, enum wdp_why *why)
{
	if (n < c->threshold) {
		*why = WDP_WHY_THRESHOLD;
		return 0;
	}
	if (c->no_wd != WDP_WHY__COUNT) {
		*why = c->no_wd;
		return 0;
	}
	return 1;
}

/*
 * Run a piece on the queue: 1 done; 0 failed with an error raised (no
 * fallback allowed, or the data cannot be redone); -1 run it in the
 * default provider instead, for the reason left in *why.
 */
int wdp_run_queue(struct wdp_cctx *c, const struct wdp_op *op, enum wdp_why *why);

/* A piece that went to the default provider, or to a queue.  The
 * threshold is the reason of the pieces counted with no other reason
 * (wdp_stats_sum): small pieces cost two increments, not three. */
static inline void wdp_count_sw(struct wdp_cctx *c, size_t n, enum wdp_why why)
{
	wdp_bump(&c->n.ops[0], 1);
	wdp_bump(&c->n.bytes[0], n);
	if (why != WDP_WHY_THRESHOLD)
		wdp_bump(&c->n.why[why], 1);
}

static inline void wdp_count_wd(struct wdp_cctx *c, size_t n)
{
	wdp_bump(&c->n.ops[1], 1);
	wdp_bump(&c->n.bytes[1], n);
}

/* The default provider's raw transform on its synchronised context. */
static inline int wdp_sw_cipher(struct wdp_cctx *c, uint8_t *out, const uint8_t *in, size_t n)
{
	size_t outl;

	return c->sw_cipher(c->sw, out, &outl, n, in, n);
}

/* parameters (cipher_params.c, cipher_gcm_tls.c) */
enum wdp_param {
	WP_UNKNOWN, WP_KEYLEN, WP_IVLEN, WP_IV, WP_UPDATED_IV, WP_PADDING, WP_NUM, WP_USE_BITS,
	WP_TLS_VERSION, WP_TLS_MAC, WP_TLS_MAC_SIZE, WP_TAG, WP_TAGLEN, WP_TLS_AAD,
	WP_TLS_AAD_PAD, WP_TLS_IV_FIXED, WP_TLS_IV_GEN, WP_TLS_IV_INV,
};
enum wdp_param wdp_param_id(const char *key);
int wdp_set_octets(OSSL_PARAM *p, const void *v, size_t len);
const OSSL_PARAM *wdp_alg_gettable(void *provctx);
int wdp_alg_get_params(const struct wdp_alg *a, OSSL_PARAM params[]);
const OSSL_PARAM *wdp_ctx_gettable(void *vctx, void *provctx);
const OSSL_PARAM *wdp_ctx_settable(void *vctx, void *provctx);
const OSSL_PARAM *wdp_xts_settable(void *vctx, void *provctx);
const OSSL_PARAM *wdp_gcm_gettable(void *vctx, void *provctx);
const OSSL_PARAM *wdp_gcm_settable(void *vctx, void *provctx);

/* the modes */
int wdp_cbc_cipher(void *vctx, unsigned char *out, size_t *outl, size_t outsize,
		   const unsigned char *in, size_t inl);
int wdp_cbc_update(void *vctx, unsigned char *out, size_t *outl, size_t outsize,
		   const unsigned char *in, size_t inl);
int wdp_cbc_final(void *vctx, unsigned char *out, size_t *outl, size_t outsize);
int wdp_ctr_update(void *vctx, unsigned char *out, size_t *outl, size_t outsize,
		   const unsigned char *in, size_t inl);
int wdp_ctr_final(void *vctx, unsigned char *out, size_t *outl, size_t outsize);
int wdp_ctr_set_num(struct wdp_cctx *c, unsigned num);
void wdp_ctr_settle(struct wdp_cctx *c);
int wdp_xts_update(void *vctx, unsigned char *out, size_t *outl, size_t outsize,
		   const unsigned char *in, size_t inl);
int wdp_xts_final(void *vctx, unsigned char *out, size_t *outl, size_t outsize);
int wdp_cipher_oneshot(void *vctx, unsigned char *out, size_t *outl, size_t outsize,
		       const unsigned char *in, size_t inl);

/* GCM (cipher_gcm.c, cipher_gcm_tls.c) */
int wdp_gcm_new(struct wdp_cctx *c);
void wdp_gcm_free(struct wdp_cctx *c);
int wdp_gcm_dup(struct wdp_cctx *dst, const struct wdp_cctx *src);
int wdp_gcm_init(struct wdp_cctx *c, const unsigned char *iv, size_t ivlen, int key_changed);
int wdp_gcm_update(void *vctx, unsigned char *out, size_t *outl, size_t outsize,
		   const unsigned char *in, size_t inl);
int wdp_gcm_final(void *vctx, unsigned char *out, size_t *outl, size_t outsize);
int wdp_gcm_cipher(void *vctx, unsigned char *out, size_t *outl, size_t outsize,
		   const unsigned char *in, size_t inl);
int wdp_gcm_get_params(struct wdp_cctx *c, OSSL_PARAM params[]);
int wdp_gcm_set_params(struct wdp_cctx *c, const OSSL_PARAM params[]);

#endif
