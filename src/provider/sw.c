/* SPDX-License-Identifier: MIT */
/*
 * OpenSSL's default provider, loaded into a library context of the
 * instance's own (no configuration file, no other provider: what runs
 * there can never come back here), and called through its dispatch
 * functions rather than through EVP: the EVP layer would add a second
 * round of its own bookkeeping to every small operation, which is the
 * whole cost of the small operations this provider hands over.
 */
#include <stdio.h>
#include <string.h>

#include <openssl/core_dispatch.h>
#include <openssl/crypto.h>
#include <openssl/provider.h>

#include "wdp.h"

/* The first name of an algorithm list "AES-128-CBC:AES128:..." is ours. */
static int first_name_is(const char *names, const char *name)
{
	size_t n = strlen(name);

	return !strncmp(names, name, n) && (names[n] == ':' || names[n] == '\0');
}

static void take(struct wdp_sw_impl *m, const OSSL_DISPATCH *d)
{
	for (; d->function_id; d++) {
		switch (d->function_id) {
		case OSSL_FUNC_CIPHER_NEWCTX:
			m->newctx = OSSL_FUNC_cipher_newctx(d);
			break;
		case OSSL_FUNC_CIPHER_FREECTX:
			m->freectx = OSSL_FUNC_cipher_freectx(d);
			break;
		case OSSL_FUNC_CIPHER_DUPCTX:
			m->dupctx = OSSL_FUNC_cipher_dupctx(d);
			break;
		case OSSL_FUNC_CIPHER_ENCRYPT_INIT:
			m->einit = OSSL_FUNC_cipher_encrypt_init(d);
			break;
		case OSSL_FUNC_CIPHER_DECRYPT_INIT:
			m->dinit = OSSL_FUNC_cipher_decrypt_init(d);
			break;
		case OSSL_FUNC_CIPHER_UPDATE:
			m->update = OSSL_FUNC_cipher_update(d);
			break;
		case OSSL_FUNC_CIPHER_FINAL:
			m->final = OSSL_FUNC_cipher_final(d);
			break;
		case OSSL_FUNC_CIPHER_CIPHER:
			m->cipher = OSSL_FUNC_cipher_cipher(d);
			break;
		case OSSL_FUNC_CIPHER_GET_CTX_PARAMS:
			m->get_ctx_params = OSSL_FUNC_cipher_get_ctx_params(d);
			break;
		case OSSL_FUNC_CIPHER_SET_CTX_PARAMS:
			m->set_ctx_params = OSSL_FUNC_cipher_set_ctx_params(d);
			break;
		}
	}
}

static int complete(const struct wdp_sw_impl *m)
{
	return m->names && m->newctx && m->freectx && m->dupctx && m->einit && m->dinit &&
	       m->update && m->final && m->cipher && m->get_ctx_params && m->set_ctx_params;
}

int wdp_sw_load(struct wdp_sw *sw, char *err, size_t errlen)
{
	const OSSL_ALGORITHM *a;
	int no_cache = 0;
	unsigned i;

	memset(sw, 0, sizeof(*sw));
	sw->libctx = OSSL_LIB_CTX_new();
	if (!sw->libctx)
		goto fail;
	sw->prov = OSSL_PROVIDER_load(sw->libctx, "default");
	if (!sw->prov)
		goto fail;
	sw->provctx = OSSL_PROVIDER_get0_provider_ctx(sw->prov);
	a = OSSL_PROVIDER_query_operation(sw->prov, OSSL_OP_CIPHER, &no_cache);
	for (; a && a->algorithm_names; a++)
		for (i = 0; i < WDP_NALGS; i++)
			if (!sw->impl[i].names && first_name_is(a->algorithm_names, wdp_algs[i].name)) {
				sw->impl[i].names = a->algorithm_names;
				take(&sw->impl[i], a->implementation);
			}
	for (i = 0; i < WDP_NALGS; i++)
		if (!complete(&sw->impl[i])) {
			snprintf(err, errlen, "the default provider has no usable %s",
				 wdp_algs[i].name);
			wdp_sw_unload(sw);
			return -ENOENT;
		}
	return 0;
fail:
	snprintf(err, errlen, "cannot load OpenSSL's default provider in a library context");
	wdp_sw_unload(sw);
	return -ENOENT;
}

void wdp_sw_unload(struct wdp_sw *sw)
{
	if (sw->prov)
		OSSL_PROVIDER_unload(sw->prov);
	if (sw->libctx)
		OSSL_LIB_CTX_free(sw->libctx);
	memset(sw, 0, sizeof(*sw));
}
