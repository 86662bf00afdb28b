/* SPDX-License-Identifier: MIT */
/*
 * Parameters of the ciphers and their contexts: what EVP_CIPHER_get_*(),
 * EVP_CIPHER_CTX_get_*() and the OpenSSL commands ask for, answered as
 * OpenSSL's own AES ciphers answer them (same names, types and values), so
 * EVP derives the same flags and programs cannot tell the difference.
 */
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/params.h>
#include <openssl/prov_ssl.h>

#include "cipher.h"

/* ---- the algorithm ---- */

static const OSSL_PARAM alg_gettable[] = {
	OSSL_PARAM_uint(OSSL_CIPHER_PARAM_MODE, NULL),
	OSSL_PARAM_size_t(OSSL_CIPHER_PARAM_KEYLEN, NULL),
	OSSL_PARAM_size_t(OSSL_CIPHER_PARAM_IVLEN, NULL),
	OSSL_PARAM_size_t(OSSL_CIPHER_PARAM_BLOCK_SIZE, NULL),
	OSSL_PARAM_int(OSSL_CIPHER_PARAM_AEAD, NULL),
	OSSL_PARAM_int(OSSL_CIPHER_PARAM_CUSTOM_IV, NULL),
	OSSL_PARAM_int(OSSL_CIPHER_PARAM_CTS, NULL),
	OSSL_PARAM_int(OSSL_CIPHER_PARAM_TLS1_MULTIBLOCK, NULL),
	OSSL_PARAM_int(OSSL_CIPHER_PARAM_HAS_RAND_KEY, NULL),
	OSSL_PARAM_END
};

const OSSL_PARAM *wdp_alg_gettable(void *provctx)
{
	return alg_gettable;
}

int wdp_alg_get_params(const struct wdp_alg *a, OSSL_PARAM params[])
{
	OSSL_PARAM *p;

	if ((p = OSSL_PARAM_locate(params, OSSL_CIPHER_PARAM_MODE)) &&
	    !OSSL_PARAM_set_uint(p, a->evp_mode))
		return 0;
	if ((p = OSSL_PARAM_locate(params, OSSL_CIPHER_PARAM_KEYLEN)) &&
	    !OSSL_PARAM_set_size_t(p, a->key_len))
		return 0;
	if ((p = OSSL_PARAM_locate(params, OSSL_CIPHER_PARAM_IVLEN)) &&
	    !OSSL_PARAM_set_size_t(p, a->iv_len))
		return 0;
	if ((p = OSSL_PARAM_locate(params, OSSL_CIPHER_PARAM_BLOCK_SIZE)) &&
	    !OSSL_PARAM_set_size_t(p, a->block))
		return 0;
	if ((p = OSSL_PARAM_locate(params, OSSL_CIPHER_PARAM_AEAD)) &&
	    !OSSL_PARAM_set_int(p, (int)a->aead))
		return 0;
	if ((p = OSSL_PARAM_locate(params, OSSL_CIPHER_PARAM_CUSTOM_IV)) &&
	    !OSSL_PARAM_set_int(p, (int)a->custom_iv))
		return 0;
	if ((p = OSSL_PARAM_locate(params, OSSL_CIPHER_PARAM_CTS)) && !OSSL_PARAM_set_int(p, 0))
		return 0;
	if ((p = OSSL_PARAM_locate(params, OSSL_CIPHER_PARAM_TLS1_MULTIBLOCK)) &&
	    !OSSL_PARAM_set_int(p, 0))
		return 0;
	if ((p = OSSL_PARAM_locate(params, OSSL_CIPHER_PARAM_HAS_RAND_KEY)) &&
	    !OSSL_PARAM_set_int(p, 0))
		return 0;
	return 1;
}

/* ---- contexts of CBC, CTR and XTS ---- */

static const OSSL_PARAM ctx_gettable[] = {
	OSSL_PARAM_size_t(OSSL_CIPHER_PARAM_KEYLEN, NULL),
	OSSL_PARAM_size_t(OSSL_CIPHER_PARAM_IVLEN, NULL),
	OSSL_PARAM_uint(OSSL_CIPHER_PARAM_PADDING, NULL),
	OSSL_PARAM_uint(OSSL_CIPHER_PARAM_NUM, NULL),
	OSSL_PARAM_octet_string(OSSL_CIPHER_PARAM_IV, NULL, 0),
	OSSL_PARAM_octet_string(OSSL_CIPHER_PARAM_UPDATED_IV, NULL, 0),
	OSSL_PARAM_octet_ptr(OSSL_CIPHER_PARAM_TLS_MAC, NULL, 0),
	OSSL_PARAM_END
};

static const OSSL_PARAM ctx_settable[] = {
	OSSL_PARAM_uint(OSSL_CIPHER_PARAM_PADDING, NULL),
	OSSL_PARAM_uint(OSSL_CIPHER_PARAM_NUM, NULL),
	OSSL_PARAM_uint(OSSL_CIPHER_PARAM_USE_BITS, NULL),
	OSSL_PARAM_uint(OSSL_CIPHER_PARAM_TLS_VERSION, NULL),
	OSSL_PARAM_size_t(OSSL_CIPHER_PARAM_TLS_MAC_SIZE, NULL),
	OSSL_PARAM_END
};

static const OSSL_PARAM xts_settable[] = {
	OSSL_PARAM_size_t(OSSL_CIPHER_PARAM_KEYLEN, NULL),
	OSSL_PARAM_END
};

const OSSL_PARAM *wdp_ctx_gettable(void *vctx, void *provctx)
{
	return ctx_gettable;
}

const OSSL_PARAM *wdp_ctx_settable(void *vctx, void *provctx)
{
	return ctx_settable;
}

const OSSL_PARAM *wdp_xts_settable(void *vctx, void *provctx)
{
	return xts_settable;
}

/*
 * Parameter names to ids, one pass over what the caller gave.  EVP asks a
 * context for its IV length at every init and programs read the tag of
 * every message: looking each known name up in the caller's array
 * (OSSL_PARAM_locate per name) cost hundreds of instructions a call.
 */
enum wdp_param wdp_param_id(const char *k)
{
	switch (k[0]) {
	case 'i':
		return !strcmp(k, "ivlen") ? WP_IVLEN : !strcmp(k, "iv") ? WP_IV : WP_UNKNOWN;
	case 'k':
		return !strcmp(k, "keylen") ? WP_KEYLEN : WP_UNKNOWN;
	case 'n':
		return !strcmp(k, "num") ? WP_NUM : WP_UNKNOWN;
	case 'p':
		return !strcmp(k, "padding") ? WP_PADDING : WP_UNKNOWN;
	case 'u':
		return !strcmp(k, "updated-iv") ? WP_UPDATED_IV :
		       !strcmp(k, "use-bits") ? WP_USE_BITS : WP_UNKNOWN;
	case 't':
		if (!strcmp(k, "tag"))
			return WP_TAG;
		if (!strcmp(k, "taglen"))
			return WP_TAGLEN;
		if (!strncmp(k, "tls", 3)) {
			static const struct { const char *n; enum wdp_param id; } t[] = {
				{ "tls-version", WP_TLS_VERSION }, { "tls-mac", WP_TLS_MAC },
				{ "tls-mac-size", WP_TLS_MAC_SIZE }, { "tlsaad", WP_TLS_AAD },
				{ "tlsaadpad", WP_TLS_AAD_PAD }, { "tlsivfixed", WP_TLS_IV_FIXED },
				{ "tlsivgen", WP_TLS_IV_GEN }, { "tlsivinv", WP_TLS_IV_INV },
			};
			unsigned i;

			for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
				if (!strcmp(k, t[i].n))
					return t[i].id;
		}
		return WP_UNKNOWN;
	}
	return WP_UNKNOWN;
}

/* Octet parameters as OpenSSL's ciphers give them: a pointer when asked
 * for one, else a copy. */
int wdp_set_octets(OSSL_PARAM *p, const void *v, size_t len)
{
	return OSSL_PARAM_set_octet_ptr(p, v, len) || OSSL_PARAM_set_octet_string(p, v, len);
}

int wdp_cctx_get_common(struct wdp_cctx *c, OSSL_PARAM params[])
{
	OSSL_PARAM *p;
	int ok = 1;

	/* the default provider runs the records: it knows it all, once a
	 * record sealed on a queue has its chain (sync) */
	if (c->tls)
		return (c->sw_synced || wdp_sw_sync(c)) && c->swi->get_ctx_params(c->sw, params);
	if (c->alg->mode == WDP_CTR)
		wdp_ctr_settle(c);
	for (p = params; p && p->key && ok; p++) {
		switch (wdp_param_id(p->key)) {
		case WP_KEYLEN:
			ok = OSSL_PARAM_set_size_t(p, c->key_len);
			break;
		case WP_IVLEN:
			ok = OSSL_PARAM_set_size_t(p, WDP_BLOCK);
			break;
		case WP_PADDING:
			ok = OSSL_PARAM_set_uint(p, c->pad);
			break;
		case WP_NUM:
			ok = OSSL_PARAM_set_uint(p, c->num);
			break;
		case WP_IV:
			ok = wdp_set_octets(p, c->oiv, WDP_BLOCK);
			break;
		case WP_UPDATED_IV:
			ok = wdp_iv_here(c) && wdp_set_octets(p, c->iv, WDP_BLOCK);
			break;
		default:
			break; /* not ours to answer, as OpenSSL's ciphers do */
		}
	}
	if (!ok)
		wdp_raise(c->prov, WDP_R_BAD_PARAM, "cannot return parameter \"%s\"", (p - 1)->key);
	return ok;
}

/*
 * TLS records on CBC (libssl sets the version and MAC size).  Sealing a
 * record is padding and a plain CBC pass: this provider does it
 * (cbc_tls_seal).  Opening one ends in padding and MAC checks that must
 * run in constant time, which is the default provider's code: those
 * records go there (counted: unsupported:tls).
 */
static int enter_tls(struct wdp_cctx *c, const OSSL_PARAM params[])
{
	OSSL_PARAM pad[2];
	unsigned v = c->pad;

	if (c->alg->mode != WDP_CBC || !c->key_set) {
		wdp_raise(c->prov, WDP_R_BAD_PARAM, "TLS record mode needs a keyed CBC context");
		return 0;
	}
	pad[0] = OSSL_PARAM_construct_uint(OSSL_CIPHER_PARAM_PADDING, &v);
	pad[1] = OSSL_PARAM_construct_end();
	if ((!c->tls && !wdp_sw_sync(c)) || !c->swi->set_ctx_params(c->sw, pad) ||
	    !c->swi->set_ctx_params(c->sw, params))
		return 0;
	c->tls = 1;
	if (!c->enc)
		c->no_wd = WDP_WHY_TLS;
	return 1;
}

int wdp_cctx_set_common(struct wdp_cctx *c, const OSSL_PARAM params[])
{
	const OSSL_PARAM *p;
	int tls = 0, ok = 1;
	unsigned v;
	size_t sz;

	if (!params)
		return 1;
	if (c->alg->mode == WDP_GCM)
		return wdp_gcm_set_params(c, params);
	for (p = params; p->key && ok; p++) {
		switch (wdp_param_id(p->key)) {
		case WP_PADDING:
			ok = OSSL_PARAM_get_uint(p, &v);
			c->pad = v ? 1 : 0;
			break;
		case WP_NUM:
			ok = OSSL_PARAM_get_uint(p, &v) && wdp_ctr_set_num(c, v);
			break;
		case WP_KEYLEN:
			ok = OSSL_PARAM_get_size_t(p, &sz) && sz == c->key_len;
			break;
		case WP_TLS_VERSION:
			ok = OSSL_PARAM_get_uint(p, &c->tls_version);
			tls = 1;
			break;
		case WP_TLS_MAC_SIZE:
			tls = 1;
			break;
		default:
			break;
		}
	}
	if (!ok) {
		wdp_raise(c->prov, WDP_R_BAD_PARAM, "bad value for parameter \"%s\"", (p - 1)->key);
		return 0;
	}
	return tls ? enter_tls(c, params) : 1;
}
