/* SPDX-License-Identifier: MIT */
/*
 * Queues freed after OpenSSL's own teardown: the wd provider frees its
 * queues from its teardown, which OpenSSL_cleanup runs after its atexit
 * handlers, the soft engine's table of ciphers among them.  The engine's
 * CBC, CTR and XTS contexts are the default provider's own; freeing them
 * then went through the cleared table (a call through NULL at exit of
 * `openssl enc` with the provider).  Here an atexit handler registered
 * before OpenSSL's (so run after OPENSSL_cleanup) frees keyed sessions of
 * every plain mode and their queue; the process must exit 0.
 */
#include <stdlib.h>

#include "t_crypto.h"

static struct wd_ctx *ctx;
static struct wd_queue *q;
static struct wd_cipher_sess *s[3];

static void free_late(void)
{
	unsigned i;

	for (i = 0; i < 3; i++)
		wd_cipher_sess_free(s[i]);
	wd_queue_free(q);
	wd_ctx_free(ctx);
	/* reached: nothing crashed; the exit status is main's */
}

int main(void)
{
	static const enum wd_cipher_alg algs[3] = { WD_CIPHER_AES_CBC, WD_CIPHER_AES_CTR,
						    WD_CIPHER_AES_XTS };
	uint8_t key[64], iv[16] = { 1 }, buf[64] = { 2 };
	unsigned i;

	T_ASSERT(!atexit(free_late)); /* before OpenSSL registers its cleanup */
	for (i = 0; i < sizeof(key); i++)
		key[i] = (uint8_t)(i * 7 + 1);
	T_OK(wd_ctx_new(&ctx, NULL));
	T_OK(wd_queue_new(&q, ctx, "cipher", NULL));
	for (i = 0; i < 3; i++) {
		T_OK(wd_cipher_sess_new(&s[i], q, algs[i], key, algs[i] == WD_CIPHER_AES_XTS ? 64 : 16));
		/* keys the engine's contexts */
		T_OK(wd_encrypt(s[i], iv, buf, buf, sizeof(buf)));
		T_OK(wd_decrypt(s[i], iv, buf, buf, sizeof(buf)));
	}
	printf("t_crypto_bug_free_after_cleanup: sessions keyed; freed after OPENSSL_cleanup\n");
	return 0;
}
