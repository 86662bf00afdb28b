/* SPDX-License-Identifier: MIT */
/*
 * The soft engine's ciphers come from OpenSSL's default provider in a
 * library context of its own, never from the process's default context.
 *
 * Why: an OpenSSL provider that routes ciphers to WarpDrive may be loaded
 * into the default context (by openssl.cnf or by the application).  Were
 * the engine to fetch "AES-128-GCM" there, it could be handed that very
 * provider and call itself.  So the engine makes a private OSSL_LIB_CTX
 * (which reads no configuration file: OSSL_LIB_CTX_new loads none), loads
 * the built-in default provider into it explicitly, and fetches every
 * cipher with "provider=default".
 *
 * Once per process, on the first cipher queue (pthread_once: glibc lets a
 * fork child run an initialisation a parent thread was in the middle of;
 * a child inherits a finished table as plain memory, which OpenSSL allows
 * it to go on using).  Fetched ciphers are only read afterwards (a keyed
 * context takes its own reference), so the table needs no lock.
 *
 * It goes at OpenSSL's own teardown (OPENSSL_atexit: before OPENSSL_cleanup
 * frees what the context relies on, which a library destructor would run
 * after) if no cipher queue holds it then (soft_evp_get/put); else it stays
 * to the process's end: an engine thread may still be sweeping a closed
 * session's context while the process exits, a provider's teardown frees
 * its queues later in OPENSSL_cleanup, and freeing the table after
 * OpenSSL's own state is gone would be worse than keeping it.
 *
 * Every mode is also looked up as the default provider's own functions
 * (OSSL_PROVIDER_query_operation), which the engine calls without EVP on
 * the way (crypto.c, crypto_gcm.c): EVP_CipherInit_ex with only a new IV
 * costs about 1200 instructions in OpenSSL 3.0 (it sets the padding again
 * and asks for the IV length, each a parameter looked up by name), the
 * provider's own init with the IV about 60.
 */
#include <errno.h>
#include <pthread.h>
#include <stddef.h>

#include <string.h>

#include <openssl/core_dispatch.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/provider.h>
#include <wd/crypto.h>

#include "soft.h"

enum { KEY128, KEY192, KEY256, NKEYS };

static const char *const names[][NKEYS] = {
	[WD_CIPHER_AES_CBC] = { "AES-128-CBC", "AES-192-CBC", "AES-256-CBC" },
	[WD_CIPHER_AES_CTR] = { "AES-128-CTR", "AES-192-CTR", "AES-256-CTR" },
	/* XTS takes two keys: 32 bytes is AES-128-XTS, 64 bytes AES-256-XTS */
	[WD_CIPHER_AES_XTS] = { "AES-128-XTS", NULL, "AES-256-XTS" },
	[WD_CIPHER_AES_GCM] = { "AES-128-GCM", "AES-192-GCM", "AES-256-GCM" },
};
#define NALGS (sizeof(names) / sizeof(names[0]))
static const char *const ecb_names[NKEYS] = { "AES-128-ECB", "AES-192-ECB", "AES-256-ECB" };

static struct {
	OSSL_LIB_CTX *lib;
	OSSL_PROVIDER *prov;
	EVP_CIPHER *c[NALGS][NKEYS];
	EVP_CIPHER *ecb[NKEYS];
	const OSSL_ALGORITHM *ops;      /* the provider's ciphers, queried */
	struct soft_pcipher pc[NALGS][NKEYS]; /* plain modes: its functions */
	int err;                        /* 0 once everything was fetched */
} evp = { .err = -EIO };

static pthread_once_t evp_once = PTHREAD_ONCE_INIT;
/* 2 per cipher queue holding the table, plus 1 once OpenSSL's teardown
 * began: no mutex, which a fork child could inherit held */
static unsigned evp_hold;

static void evp_teardown(void)
{
	unsigned a, k;

	for (a = 0; a < NALGS; a++)
		for (k = 0; k < NKEYS; k++) {
			EVP_CIPHER_free(evp.c[a][k]);
			evp.c[a][k] = NULL;
		}
	for (k = 0; k < NKEYS; k++) {
		EVP_CIPHER_free(evp.ecb[k]);
		evp.ecb[k] = NULL;
	}
	memset(evp.pc, 0, sizeof(evp.pc));
	if (evp.ops)
		OSSL_PROVIDER_unquery_operation(evp.prov, OSSL_OP_CIPHER, evp.ops);
	evp.ops = NULL;
	if (evp.prov)
		OSSL_PROVIDER_unload(evp.prov);
	OSSL_LIB_CTX_free(evp.lib);
	evp.prov = NULL;
	evp.lib = NULL;
	evp.err = -EIO;
}

/* OPENSSL_atexit: the table goes now, unless a queue holds it. */
static void evp_closing(void)
{
	if (__atomic_fetch_or(&evp_hold, 1, __ATOMIC_ACQ_REL) == 0)
		evp_teardown();
}

static EVP_CIPHER *fetch(const char *name)
{
	return name ? EVP_CIPHER_fetch(evp.lib, name, "provider=default") : NULL;
}

/* The first name of an algorithm list "AES-128-CBC:AES128:..." is name. */
static int first_name_is(const char *list, const char *name)
{
	size_t n = strlen(name);

	return !strncmp(list, name, n) && (list[n] == ':' || list[n] == '\0');
}

static void take(struct soft_pcipher *pc, const OSSL_DISPATCH *d)
{
	for (; d->function_id; d++) {
		switch (d->function_id) {
		case OSSL_FUNC_CIPHER_NEWCTX:
			pc->newctx = OSSL_FUNC_cipher_newctx(d);
			break;
		case OSSL_FUNC_CIPHER_FREECTX:
			pc->freectx = OSSL_FUNC_cipher_freectx(d);
			break;
		case OSSL_FUNC_CIPHER_ENCRYPT_INIT:
			pc->init[1] = OSSL_FUNC_cipher_encrypt_init(d);
			break;
		case OSSL_FUNC_CIPHER_DECRYPT_INIT:
			pc->init[0] = OSSL_FUNC_cipher_decrypt_init(d);
			break;
		case OSSL_FUNC_CIPHER_CIPHER:
			pc->cipher = OSSL_FUNC_cipher_cipher(d);
			break;
		case OSSL_FUNC_CIPHER_UPDATE:
			pc->update = OSSL_FUNC_cipher_update(d);
			break;
		case OSSL_FUNC_CIPHER_FINAL:
			pc->final = OSSL_FUNC_cipher_final(d);
			break;
		case OSSL_FUNC_CIPHER_GET_CTX_PARAMS:
			pc->get_params = OSSL_FUNC_cipher_get_ctx_params(d);
			break;
		case OSSL_FUNC_CIPHER_SET_CTX_PARAMS:
			pc->set_params = OSSL_FUNC_cipher_set_ctx_params(d);
			break;
		}
	}
}

/* Every mode's functions: 0, or -1 when one is missing. */
static int query_plain(void)
{
	const OSSL_ALGORITHM *a;
	struct soft_pcipher *pc;
	int no_cache = 0;
	unsigned m, k;

	evp.ops = OSSL_PROVIDER_query_operation(evp.prov, OSSL_OP_CIPHER, &no_cache);
	for (a = evp.ops; a && a->algorithm_names; a++)
		for (m = 1; m < NALGS; m++)
			for (k = 0; k < NKEYS; k++)
				if (names[m][k] && first_name_is(a->algorithm_names, names[m][k]))
					take(&evp.pc[m][k], a->implementation);
	for (m = 1; m < NALGS; m++)
		for (k = 0; k < NKEYS; k++) {
			pc = &evp.pc[m][k];
			if (!names[m][k])
				continue;
			pc->provctx = OSSL_PROVIDER_get0_provider_ctx(evp.prov);
			if (!pc->newctx || !pc->freectx || !pc->init[0] || !pc->init[1] ||
			    !pc->cipher || !pc->update || !pc->final || !pc->get_params ||
			    !pc->set_params)
				return -1;
		}
	return 0;
}

static void evp_setup(void)
{
	unsigned a, k;

	/* OpenSSL's own teardown is registered here (or already was): it runs
	 * ours first */
	if (!OPENSSL_init_crypto(0, NULL))
		return;
	evp.lib = OSSL_LIB_CTX_new();
	evp.prov = evp.lib ? OSSL_PROVIDER_load(evp.lib, "default") : NULL;
	if (!evp.prov)
		goto fail;
	for (a = 1; a < NALGS; a++)
		for (k = 0; k < NKEYS; k++)
			if (names[a][k] && !(evp.c[a][k] = fetch(names[a][k])))
				goto fail;
	for (k = 0; k < NKEYS; k++)
		if (!(evp.ecb[k] = fetch(ecb_names[k])))
			goto fail;
	if (query_plain())
		goto fail;
	if (!OPENSSL_atexit(evp_closing))
		goto fail;
	evp.err = 0;
	return;
fail:
	evp_teardown();
}

int soft_evp_init(void)
{
	pthread_once(&evp_once, evp_setup);
	return evp.err;
}

int soft_evp_get(void)
{
	unsigned h;

	if (soft_evp_init())
		return -EIO;
	h = __atomic_load_n(&evp_hold, __ATOMIC_RELAXED);
	do
		if (h & 1)
			return -ESHUTDOWN; /* OpenSSL is being torn down */
	while (!__atomic_compare_exchange_n(&evp_hold, &h, h + 2, 1, __ATOMIC_ACQUIRE,
					    __ATOMIC_RELAXED));
	return 0;
}

void soft_evp_put(void)
{
	/* no teardown here: a queue that outlives the start of OpenSSL's
	 * (a provider's teardown inside it, an atexit handler or destructor
	 * after it) may find what the table rests on gone, so the table stays,
	 * reachable, to the process's end */
	__atomic_sub_fetch(&evp_hold, 2, __ATOMIC_RELEASE);
}

static int key_index(uint32_t key_len)
{
	return key_len == 16 ? KEY128 : key_len == 24 ? KEY192 : key_len == 32 ? KEY256 : -1;
}

static int alg_key_index(uint32_t alg, uint32_t key_len)
{
	if (soft_evp_init() || !alg || alg >= NALGS)
		return -1;
	if (alg == WD_CIPHER_AES_XTS)
		return key_len == 32 ? KEY128 : key_len == 64 ? KEY256 : -1;
	return key_index(key_len);
}

const EVP_CIPHER *soft_evp_cipher(uint32_t alg, uint32_t key_len)
{
	int k = alg_key_index(alg, key_len);

	return k < 0 ? NULL : evp.c[alg][k];
}

struct evp_cipher_st *soft_evp_plain(uint32_t alg, uint32_t key_len, struct soft_pcipher *pf)
{
	int k = alg_key_index(alg, key_len);

	if (k < 0 || !evp.pc[alg][k].cipher || !EVP_CIPHER_up_ref(evp.c[alg][k]))
		return NULL;
	*pf = evp.pc[alg][k];
	return evp.c[alg][k];
}

const EVP_CIPHER *soft_evp_ecb(uint32_t key_len)
{
	int k = key_index(key_len);

	return soft_evp_init() || k < 0 ? NULL : evp.ecb[k];
}

/* Outside crypto.c so that the fault-injection tests reach them with
 * --wrap (tests/failinj). */
void *soft_pctx_new(const struct soft_pcipher *pf)
{
	return pf->newctx(pf->provctx);
}

void soft_pctx_free(const struct soft_pcipher *pf, void *ctx)
{
	pf->freectx(ctx);
}

int soft_pctx_key(const struct soft_pcipher *pf, void *ctx, int enc, const void *key, size_t len)
{
	return pf->init[!!enc](ctx, key, len, NULL, 0, NULL);
}
