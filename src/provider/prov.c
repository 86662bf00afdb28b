/* SPDX-License-Identifier: MIT */
/*
 * The provider's entry point (OSSL_provider_init, the module's one
 * exported symbol), its parameters (name, version, build information,
 * status, and WarpDrive's own: statistics, device, threshold, fallback,
 * algorithms), its error reasons, and the table of ciphers it offers.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/opensslv.h>
#include <openssl/params.h>
#include <wd/version.h>

#include "cipher.h"

#define PROP "provider=wd"

const struct wdp_alg wdp_algs[WDP_NALGS] = {
	[WDP_AES_128_CBC] = { "AES-128-CBC", WDP_CBC, WD_CIPHER_AES_CBC, 16, 16, 16, EVP_CIPH_CBC_MODE, 0, 0 },
	[WDP_AES_192_CBC] = { "AES-192-CBC", WDP_CBC, WD_CIPHER_AES_CBC, 24, 16, 16, EVP_CIPH_CBC_MODE, 0, 0 },
	[WDP_AES_256_CBC] = { "AES-256-CBC", WDP_CBC, WD_CIPHER_AES_CBC, 32, 16, 16, EVP_CIPH_CBC_MODE, 0, 0 },
	[WDP_AES_128_CTR] = { "AES-128-CTR", WDP_CTR, WD_CIPHER_AES_CTR, 16, 16, 1, EVP_CIPH_CTR_MODE, 0, 0 },
	[WDP_AES_192_CTR] = { "AES-192-CTR", WDP_CTR, WD_CIPHER_AES_CTR, 24, 16, 1, EVP_CIPH_CTR_MODE, 0, 0 },
	[WDP_AES_256_CTR] = { "AES-256-CTR", WDP_CTR, WD_CIPHER_AES_CTR, 32, 16, 1, EVP_CIPH_CTR_MODE, 0, 0 },
	[WDP_AES_128_XTS] = { "AES-128-XTS", WDP_XTS, WD_CIPHER_AES_XTS, 32, 16, 1, EVP_CIPH_XTS_MODE, 0, 1 },
	[WDP_AES_256_XTS] = { "AES-256-XTS", WDP_XTS, WD_CIPHER_AES_XTS, 64, 16, 1, EVP_CIPH_XTS_MODE, 0, 1 },
	[WDP_AES_128_GCM] = { "AES-128-GCM", WDP_GCM, WD_CIPHER_AES_GCM, 16, 12, 1, EVP_CIPH_GCM_MODE, 1, 1 },
	[WDP_AES_192_GCM] = { "AES-192-GCM", WDP_GCM, WD_CIPHER_AES_GCM, 24, 12, 1, EVP_CIPH_GCM_MODE, 1, 1 },
	[WDP_AES_256_GCM] = { "AES-256-GCM", WDP_GCM, WD_CIPHER_AES_GCM, 32, 12, 1, EVP_CIPH_GCM_MODE, 1, 1 },
};

const char *const wdp_mode_names[WDP_MODE__COUNT] = {
	[WDP_CBC] = "cbc", [WDP_CTR] = "ctr", [WDP_XTS] = "xts", [WDP_GCM] = "gcm",
};

/* ---- errors ---- */

static const OSSL_ITEM reasons[] = {
	{ WDP_R_NO_KEY, "no key set" },
	{ WDP_R_BAD_KEY_LENGTH, "invalid key length" },
	{ WDP_R_BAD_IV_LENGTH, "invalid iv length" },
	{ WDP_R_NO_IV, "no iv set" },
	{ WDP_R_OUTPUT_TOO_SMALL, "output buffer too small" },
	{ WDP_R_WRONG_FINAL_BLOCK_LENGTH, "wrong final block length" },
	{ WDP_R_BAD_DECRYPT, "bad decrypt" },
	{ WDP_R_DEVICE_FAILED, "WarpDrive device failed" },
	{ WDP_R_NO_QUEUE, "no WarpDrive queue" },
	{ WDP_R_BAD_PARAM, "invalid parameter" },
	{ WDP_R_BAD_LENGTH, "invalid data length" },
	{ WDP_R_TAG, "tag" },
	{ WDP_R_NOMEM, "out of memory" },
	{ WDP_R_DEFAULT_PROVIDER, "default provider unavailable" },
	{ WDP_R_OPERATION, "operation not allowed" },
	{ WDP_R_CONFIG, "bad WarpDrive provider configuration" },
	{ 0, NULL }
};

void wdp_raise_at(struct wdp_prov *p, const char *file, int line, const char *func, int reason,
		  const char *fmt, ...)
{
	va_list ap;

	if (!p->new_error || !p->vset_error)
		return;
	p->new_error(p->handle);
	if (p->set_error_debug)
		p->set_error_debug(p->handle, file, line, func);
	va_start(ap, fmt);
	p->vset_error(p->handle, (uint32_t)reason, fmt, ap);
	va_end(ap);
}

/* ---- the cipher functions, per algorithm and per mode ---- */

static int einit(void *vctx, const unsigned char *key, size_t keylen, const unsigned char *iv,
		 size_t ivlen, const OSSL_PARAM params[])
{
	return wdp_cctx_init(vctx, key, keylen, iv, ivlen, params, 1);
}

static int dinit(void *vctx, const unsigned char *key, size_t keylen, const unsigned char *iv,
		 size_t ivlen, const OSSL_PARAM params[])
{
	return wdp_cctx_init(vctx, key, keylen, iv, ivlen, params, 0);
}

static int get_ctx_params(void *vctx, OSSL_PARAM params[])
{
	struct wdp_cctx *c = vctx;

	return c->gcm ? wdp_gcm_get_params(c, params) : wdp_cctx_get_common(c, params);
}

static int set_ctx_params(void *vctx, const OSSL_PARAM params[])
{
	return wdp_cctx_set_common(vctx, params);
}

#define F(id, fn) { id, (void (*)(void))(fn) }
#define COMMON(nctx, gp)                                                                 \
	F(OSSL_FUNC_CIPHER_NEWCTX, nctx), F(OSSL_FUNC_CIPHER_FREECTX, wdp_cctx_free),     \
	F(OSSL_FUNC_CIPHER_DUPCTX, wdp_cctx_dup), F(OSSL_FUNC_CIPHER_ENCRYPT_INIT, einit), \
	F(OSSL_FUNC_CIPHER_DECRYPT_INIT, dinit), F(OSSL_FUNC_CIPHER_GET_PARAMS, gp),      \
	F(OSSL_FUNC_CIPHER_GETTABLE_PARAMS, wdp_alg_gettable),                            \
	F(OSSL_FUNC_CIPHER_GET_CTX_PARAMS, get_ctx_params),                               \
	F(OSSL_FUNC_CIPHER_SET_CTX_PARAMS, set_ctx_params)

/* A mode's own entries: wdp_<m>_update and _final, its one-shot cipher and
 * its context parameter tables. */
#define MODE(m, cipher, gettable, settable)                                               \
	F(OSSL_FUNC_CIPHER_UPDATE, wdp_##m##_update), F(OSSL_FUNC_CIPHER_FINAL, wdp_##m##_final), \
	F(OSSL_FUNC_CIPHER_CIPHER, cipher), F(OSSL_FUNC_CIPHER_GETTABLE_CTX_PARAMS, gettable), \
	F(OSSL_FUNC_CIPHER_SETTABLE_CTX_PARAMS, settable)
#define MODE_CBC MODE(cbc, wdp_cbc_cipher, wdp_ctx_gettable, wdp_ctx_settable)
#define MODE_CTR MODE(ctr, wdp_cipher_oneshot, wdp_ctx_gettable, wdp_ctx_settable)
#define MODE_XTS MODE(xts, wdp_cipher_oneshot, wdp_ctx_gettable, wdp_xts_settable)
#define MODE_GCM MODE(gcm, wdp_gcm_cipher, wdp_gcm_gettable, wdp_gcm_settable)

/* newctx and get_params know their algorithm only by being its own */
#define ALG(id, lc, mode)                                                                \
	static void *newctx_##lc(void *provctx)                                          \
	{                                                                                 \
		return wdp_cctx_new(provctx, id);                                         \
	}                                                                                 \
	static int get_params_##lc(OSSL_PARAM params[])                                  \
	{                                                                                 \
		return wdp_alg_get_params(&wdp_algs[id], params);                         \
	}                                                                                 \
	static const OSSL_DISPATCH disp_##lc[] = { COMMON(newctx_##lc, get_params_##lc), \
						   mode, { 0, NULL } };

ALG(WDP_AES_128_CBC, aes128cbc, MODE_CBC)
ALG(WDP_AES_192_CBC, aes192cbc, MODE_CBC)
ALG(WDP_AES_256_CBC, aes256cbc, MODE_CBC)
ALG(WDP_AES_128_CTR, aes128ctr, MODE_CTR)
ALG(WDP_AES_192_CTR, aes192ctr, MODE_CTR)
ALG(WDP_AES_256_CTR, aes256ctr, MODE_CTR)
ALG(WDP_AES_128_XTS, aes128xts, MODE_XTS)
ALG(WDP_AES_256_XTS, aes256xts, MODE_XTS)
ALG(WDP_AES_128_GCM, aes128gcm, MODE_GCM)
ALG(WDP_AES_192_GCM, aes192gcm, MODE_GCM)
ALG(WDP_AES_256_GCM, aes256gcm, MODE_GCM)

static const OSSL_DISPATCH *const dispatch[WDP_NALGS] = {
	disp_aes128cbc, disp_aes192cbc, disp_aes256cbc, disp_aes128ctr, disp_aes192ctr,
	disp_aes256ctr, disp_aes128xts, disp_aes256xts, disp_aes128gcm, disp_aes192gcm,
	disp_aes256gcm,
};

/* ---- the provider ---- */

static const OSSL_PARAM prov_gettable[] = {
	OSSL_PARAM_utf8_ptr(OSSL_PROV_PARAM_NAME, NULL, 0),
	OSSL_PARAM_utf8_ptr(OSSL_PROV_PARAM_VERSION, NULL, 0),
	OSSL_PARAM_utf8_ptr(OSSL_PROV_PARAM_BUILDINFO, NULL, 0),
	OSSL_PARAM_int(OSSL_PROV_PARAM_STATUS, NULL),
	OSSL_PARAM_utf8_string("wd-stats", NULL, 0),
	OSSL_PARAM_utf8_string("wd-device", NULL, 0),
	OSSL_PARAM_utf8_string("wd-threshold", NULL, 0),
	OSSL_PARAM_int("wd-fallback", NULL),
	OSSL_PARAM_utf8_string("wd-algorithms", NULL, 0),
	OSSL_PARAM_END
};

static const OSSL_PARAM *gettable_params(void *provctx)
{
	return prov_gettable;
}

static int set_str(OSSL_PARAM *p, const char *s)
{
	return OSSL_PARAM_set_utf8_string(p, s) || OSSL_PARAM_set_utf8_ptr(p, s);
}

static int get_params(void *provctx, OSSL_PARAM params[])
{
	struct wdp_prov *p = provctx;
	char buf[1024];
	OSSL_PARAM *q;

	if ((q = OSSL_PARAM_locate(params, OSSL_PROV_PARAM_NAME)) &&
	    !set_str(q, "WarpDrive provider"))
		return 0;
	if ((q = OSSL_PARAM_locate(params, OSSL_PROV_PARAM_VERSION)) &&
	    !set_str(q, WD_VERSION_STRING))
		return 0;
	if ((q = OSSL_PARAM_locate(params, OSSL_PROV_PARAM_BUILDINFO)) &&
	    !set_str(q, p->buildinfo))
		return 0;
	if ((q = OSSL_PARAM_locate(params, OSSL_PROV_PARAM_STATUS)) && !OSSL_PARAM_set_int(q, 1))
		return 0;
	if ((q = OSSL_PARAM_locate(params, "wd-stats"))) {
		wdp_stats_format(p, buf, sizeof(buf));
		if (!set_str(q, buf))
			return 0;
	}
	if ((q = OSSL_PARAM_locate(params, "wd-device")) &&
	    !set_str(q, p->cfg.device[0] ? p->cfg.device : "auto"))
		return 0;
	if ((q = OSSL_PARAM_locate(params, "wd-threshold"))) {
		wdp_cfg_format_threshold(&p->cfg, buf, sizeof(buf));
		if (!set_str(q, buf))
			return 0;
	}
	if ((q = OSSL_PARAM_locate(params, "wd-fallback")) &&
	    !OSSL_PARAM_set_int(q, p->cfg.fallback))
		return 0;
	if ((q = OSSL_PARAM_locate(params, "wd-algorithms"))) {
		wdp_cfg_format_algs(&p->cfg, buf, sizeof(buf));
		if (!set_str(q, buf))
			return 0;
	}
	return 1;
}

static const OSSL_ALGORITHM *query(void *provctx, int op, int *no_cache)
{
	struct wdp_prov *p = provctx;

	*no_cache = 0;
	return op == OSSL_OP_CIPHER ? p->algs : NULL;
}

static const OSSL_ITEM *get_reasons(void *provctx)
{
	return reasons;
}

static void teardown(void *provctx)
{
	struct wdp_prov *p = provctx;

	wdp_stats_print(p);
	wdp_registry_del(p);
	wdp_pool_destroy(&p->pool);
	wdp_sw_unload(&p->sw);
	wdp_stats_destroy(&p->stats);
	free(p);
}

static const OSSL_DISPATCH prov_functions[] = {
	F(OSSL_FUNC_PROVIDER_TEARDOWN, teardown),
	F(OSSL_FUNC_PROVIDER_GETTABLE_PARAMS, gettable_params),
	F(OSSL_FUNC_PROVIDER_GET_PARAMS, get_params),
	F(OSSL_FUNC_PROVIDER_QUERY_OPERATION, query),
	F(OSSL_FUNC_PROVIDER_GET_REASON_STRINGS, get_reasons),
	{ 0, NULL }
};

static OSSL_FUNC_core_get_params_fn *core_functions(struct wdp_prov *p, const OSSL_DISPATCH *in)
{
	OSSL_FUNC_core_get_params_fn *gp = NULL;

	for (; in->function_id; in++) {
		switch (in->function_id) {
		case OSSL_FUNC_CORE_GET_PARAMS:
			gp = OSSL_FUNC_core_get_params(in);
			break;
		case OSSL_FUNC_CORE_NEW_ERROR:
			p->new_error = OSSL_FUNC_core_new_error(in);
			break;
		case OSSL_FUNC_CORE_SET_ERROR_DEBUG:
			p->set_error_debug = OSSL_FUNC_core_set_error_debug(in);
			break;
		case OSSL_FUNC_CORE_VSET_ERROR:
			p->vset_error = OSSL_FUNC_core_vset_error(in);
			break;
		}
	}
	return gp;
}

/* The ciphers offered: the configured ones, under the default provider's
 * names and aliases (a name that meant another algorithm in the same
 * library context would make EVP refuse both). */
static void algs_build(struct wdp_prov *p)
{
	unsigned i, n = 0;

	for (i = 0; i < WDP_NALGS; i++) {
		if (!(p->cfg.algs & (1u << i)))
			continue;
		p->algs[n].algorithm_names = p->sw.impl[i].names;
		p->algs[n].property_definition = PROP;
		p->algs[n].implementation = dispatch[i];
		p->algs[n].algorithm_description = NULL;
		n++;
	}
	memset(&p->algs[n], 0, sizeof(p->algs[n]));
}

WDP_EXPORT int OSSL_provider_init(const OSSL_CORE_HANDLE *handle, const OSSL_DISPATCH *in,
				  const OSSL_DISPATCH **out, void **provctx)
{
	struct wdp_prov *p = calloc(1, sizeof(*p));
	OSSL_FUNC_core_get_params_fn *gp;
	char err[256];

	if (!p)
		return 0;
	p->handle = handle;
	gp = core_functions(p, in);
	if (wdp_cfg_load(&p->cfg, handle, gp, err, sizeof(err))) {
		wdp_raise(p, WDP_R_CONFIG, "%s", err);
		/* OpenSSL drops errors of the configuration it loads by itself:
		 * a provider that refuses to load says so where it is seen */
		fprintf(stderr, "wd provider: not loaded: %s\n", err);
		goto fail;
	}
	if (wdp_sw_load(&p->sw, err, sizeof(err))) {
		wdp_raise(p, WDP_R_DEFAULT_PROVIDER, "%s", err);
		goto fail;
	}
	/* the library actually loaded may be newer than the headers */
	snprintf(p->buildinfo, sizeof(p->buildinfo),
		 "WarpDrive provider " WD_VERSION_STRING ", libwd %s, built with %s", wd_version(),
		 OPENSSL_VERSION_TEXT);
	wdp_stats_init(&p->stats);
	wdp_pool_init(&p->pool);
	algs_build(p);
	wdp_registry_add(p);
	*out = prov_functions;
	*provctx = p;
	return 1;
fail:
	free(p);
	return 0;
}
