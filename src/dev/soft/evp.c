/* SPDX-License-Identifier: MIT */
/*
 * The soft engine's OpenSSL ciphers come from a library context of its own
 * with OpenSSL's default provider loaded, never from the application's.
 *
 * Why: a legacy EVP_aes_*() handle is looked up again by name, in the
 * process's default library context, each time a context is keyed with
 * it.  An application that loaded an accelerator provider there (such as
 * WarpDrive's own wd provider, `openssl ... -provider wd`) would hand the
 * engine that provider's AES, which sends the work back to a WarpDrive
 * queue, whose engine looks it up again: an endless loop.  A private
 * context sees no configuration file and no provider but the default one.
 * The handles are fetched once, kept for the life of the process (freeing
 * them at exit could race OpenSSL's own cleanup handlers), and keying no
 * longer pays a fetch by name.
 */
#include <pthread.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/provider.h>

#include "soft.h"

static const char *const names[SOFT_EVP__COUNT] = {
	[SOFT_EVP_AES_128_CBC] = "AES-128-CBC", [SOFT_EVP_AES_192_CBC] = "AES-192-CBC",
	[SOFT_EVP_AES_256_CBC] = "AES-256-CBC", [SOFT_EVP_AES_128_CTR] = "AES-128-CTR",
	[SOFT_EVP_AES_192_CTR] = "AES-192-CTR", [SOFT_EVP_AES_256_CTR] = "AES-256-CTR",
	[SOFT_EVP_AES_128_XTS] = "AES-128-XTS", [SOFT_EVP_AES_256_XTS] = "AES-256-XTS",
	[SOFT_EVP_AES_128_GCM] = "AES-128-GCM", [SOFT_EVP_AES_192_GCM] = "AES-192-GCM",
	[SOFT_EVP_AES_256_GCM] = "AES-256-GCM",
};

static pthread_once_t once = PTHREAD_ONCE_INIT;
static OSSL_LIB_CTX *libctx;
static EVP_CIPHER *ciphers[SOFT_EVP__COUNT];

static void load(void)
{
	unsigned i;

	libctx = OSSL_LIB_CTX_new();
	if (!libctx || !OSSL_PROVIDER_load(libctx, "default"))
		return; /* every lookup answers NULL: keying fails with -EIO */
	for (i = 0; i < SOFT_EVP__COUNT; i++)
		ciphers[i] = EVP_CIPHER_fetch(libctx, names[i], "provider=default");
}

const EVP_CIPHER *soft_evp(enum soft_evp_id id)
{
	pthread_once(&once, load);
	return (unsigned)id < SOFT_EVP__COUNT ? ciphers[id] : NULL;
}
