/* SPDX-License-Identifier: MIT */
/* AES-GCM state of a context (cipher_gcm.c, cipher_gcm_tls.c). */
#ifndef WDP_GCM_H
#define WDP_GCM_H

#include "cipher.h"

#define GCM_IV_MAX 128          /* as OpenSSL's GCM: 1..128 bytes */
#define GCM_IV_DEFAULT 12
#define GCM_TAG_MAX 16
#define GCM_TLS_AAD 13          /* EVP_AEAD_TLS1_AAD_LEN */
#define GCM_TLS_FIXED 4         /* EVP_GCM_TLS_FIXED_IV_LEN */
#define GCM_TLS_EXPLICIT 8      /* EVP_GCM_TLS_EXPLICIT_IV_LEN */

enum gcm_iv_state { IV_UNSET, IV_SET, IV_DONE };
enum gcm_route { ROUTE_NONE, ROUTE_SW, ROUTE_WD, ROUTE_BROKEN };

/*
 * A message runs where its first text (or its end) is routed and stays
 * there: its GHASH state lives on the device or in the default provider's
 * context.  AAD given before that is kept here until the route is known.
 */
struct wdp_gcm {
	size_t ivlen;
	uint8_t iv[GCM_IV_MAX];         /* the message's IV */
	enum gcm_iv_state iv_state;
	int iv_gen;                     /* TLS: the fixed part is set, invocations count */
	uint8_t iv_next[GCM_IV_MAX];    /* iv_gen: the stored IV, the next message's */
	size_t taglen;                  /* 0: not set */
	uint8_t tag[GCM_TAG_MAX];
	enum gcm_route route;
	enum wdp_why why;               /* the message's reason when on sw */
	uint8_t *aad;
	size_t aad_len, aad_cap;
	uint8_t *hdr;                   /* a request's header: [IV][AAD][tag slot] */
	size_t hdr_cap;
	/* TLS 1.2 records (libssl: EVP_CTRL_AEAD_TLS1_AAD, EVP_CTRL_GCM_SET_IV_FIXED) */
	uint8_t tls_aad[GCM_TLS_AAD];
	size_t tls_aad_len;             /* 0: not a TLS record */
	size_t tls_pad;                 /* what a record grows by: the tag */
	uint64_t tls_records;
};

/* cipher_gcm.c, shared with the TLS records */
int wdp_gcm_hdr(struct wdp_cctx *c, size_t len);
int wdp_gcm_sw_start(struct wdp_cctx *c, const uint8_t *aad, size_t aad_len);
int wdp_gcm_sw_tag(struct wdp_cctx *c, int get, uint8_t *tag, size_t taglen);
void wdp_gcm_end(struct wdp_cctx *c);
int wdp_gcm_aad_add(struct wdp_cctx *c, const uint8_t *in, size_t inl);
int wdp_gcm_oneshot(struct wdp_cctx *c, uint8_t *out, const uint8_t *in, size_t len);

/* cipher_gcm_tls.c */
int wdp_gcm_tls_record(struct wdp_cctx *c, uint8_t *out, size_t *outl, const uint8_t *in,
		       size_t len);

#endif
