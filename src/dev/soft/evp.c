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
 * context takes its own reference), so the table needs no lock.  It goes
 * at OpenSSL's own teardown (OPENSSL_atexit: before OPENSSL_cleanup frees
 * what the context relies on, which a library destructor would run after).
 */
#include <errno.h>
#include <pthread.h>
#include <stddef.h>

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
	int err;                        /* 0 once everything was fetched */
} evp = { .err = -EIO };

static pthread_once_t evp_once = PTHREAD_ONCE_INIT;

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
	if (evp.prov)
		OSSL_PROVIDER_unload(evp.prov);
	OSSL_LIB_CTX_free(evp.lib);
	evp.prov = NULL;
	evp.lib = NULL;
	evp.err = -EIO;
}

static EVP_CIPHER *fetch(const char *name)
{
	return name ? EVP_CIPHER_fetch(evp.lib, name, "provider=default") : NULL;
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
	if (!OPENSSL_atexit(evp_teardown))
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

static int key_index(uint32_t key_len)
{
	return key_len == 16 ? KEY128 : key_len == 24 ? KEY192 : key_len == 32 ? KEY256 : -1;
}

const EVP_CIPHER *soft_evp_cipher(uint32_t alg, uint32_t key_len)
{
	int k;

	if (soft_evp_init() || !alg || alg >= NALGS)
		return NULL;
	if (alg == WD_CIPHER_AES_XTS)
		k = key_len == 32 ? KEY128 : key_len == 64 ? KEY256 : -1;
	else
		k = key_index(key_len);
	return k < 0 ? NULL : evp.c[alg][k];
}

const EVP_CIPHER *soft_evp_ecb(uint32_t key_len)
{
	int k = key_index(key_len);

	return soft_evp_init() || k < 0 ? NULL : evp.ecb[k];
}
