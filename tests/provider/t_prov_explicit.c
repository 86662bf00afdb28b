/* SPDX-License-Identifier: MIT */
/*
 * Explicit memory, as on a device that cannot reach process pointers (a
 * VFIO function): with "explicit = yes" every request goes through a
 * bounce buffer shared with the queue's domain.  Pieces larger than the
 * buffer (128 KiB) are cut into requests with the CBC chain and the CTR
 * counter carried across; an XTS data unit larger than it cannot be cut
 * and runs in the default provider (counted fallback:size).  Every result
 * is checked against the default provider, in place and not.
 * argv[1]: the directory holding wd.so.
 */
#include "tp.h"

#define BIG (300u << 10)

static uint8_t in[BIG + 32], out[BIG + 32], ref[BIG + 32];

static void one(struct tp *t, const char *name, size_t len, int inplace)
{
	EVP_CIPHER *c = tp_fetch(t, name, 1), *d = tp_fetch(t, name, 0);
	EVP_CIPHER_CTX *x = EVP_CIPHER_CTX_new(), *y = EVP_CIPHER_CTX_new();
	uint8_t key[64], iv[16];
	int n, m, enc;

	T_ASSERT(c && d && x && y);
	tp_fill(key, sizeof(key));
	tp_fill(iv, sizeof(iv));
	for (enc = 1; enc >= 0; enc--) {
		tp_fill(in, len);
		memcpy(out, in, len);
		T_ASSERT(EVP_CipherInit_ex2(x, c, key, iv, enc, NULL));
		T_ASSERT(EVP_CipherInit_ex2(y, d, key, iv, enc, NULL));
		EVP_CIPHER_CTX_set_padding(x, 0);
		EVP_CIPHER_CTX_set_padding(y, 0);
		if (!EVP_CipherUpdate(x, inplace ? out : out, &n, inplace ? out : in, (int)len)) {
			tp_errors(name);
			T_FAIL("%s %zu bytes: update failed", name, len);
		}
		T_ASSERT(EVP_CipherUpdate(y, ref, &m, in, (int)len));
		T_EQ(n, m);
		if (memcmp(out, ref, (size_t)m))
			T_FAIL("%s %zu bytes %s %s: differs", name, len, enc ? "enc" : "dec",
			       inplace ? "in place" : "apart");
	}
	EVP_CIPHER_CTX_free(x);
	EVP_CIPHER_CTX_free(y);
	EVP_CIPHER_free(c);
	EVP_CIPHER_free(d);
}

/* A GCM message of len bytes, tag included. */
static void gcm(struct tp *t, size_t len)
{
	EVP_CIPHER *c = tp_fetch(t, "AES-256-GCM", 1), *d = tp_fetch(t, "AES-256-GCM", 0);
	EVP_CIPHER_CTX *x = EVP_CIPHER_CTX_new(), *y = EVP_CIPHER_CTX_new();
	uint8_t key[32], iv[12], aad[100], tw[16], td[16];
	int n, m;

	tp_fill(key, sizeof(key));
	tp_fill(iv, sizeof(iv));
	tp_fill(aad, sizeof(aad));
	tp_fill(in, len);
	T_ASSERT(EVP_EncryptInit_ex2(x, c, key, iv, NULL) && EVP_EncryptInit_ex2(y, d, key, iv, NULL));
	T_ASSERT(EVP_EncryptUpdate(x, NULL, &n, aad, sizeof(aad)));
	T_ASSERT(EVP_EncryptUpdate(y, NULL, &m, aad, sizeof(aad)));
	T_ASSERT(EVP_EncryptUpdate(x, out, &n, in, (int)len));
	T_ASSERT(EVP_EncryptUpdate(y, ref, &m, in, (int)len));
	T_ASSERT(EVP_EncryptFinal_ex(x, out + n, &n) && EVP_EncryptFinal_ex(y, ref + m, &m));
	T_ASSERT(EVP_CIPHER_CTX_ctrl(x, EVP_CTRL_AEAD_GET_TAG, 16, tw));
	T_ASSERT(EVP_CIPHER_CTX_ctrl(y, EVP_CTRL_AEAD_GET_TAG, 16, td));
	if (memcmp(out, ref, len) || memcmp(tw, td, 16))
		T_FAIL("GCM %zu bytes differs", len);
	EVP_CIPHER_CTX_free(x);
	EVP_CIPHER_CTX_free(y);
	EVP_CIPHER_free(c);
	EVP_CIPHER_free(d);
}

int main(int argc, char **argv)
{
	static const size_t sizes[] = { 16, 4096, 128u << 10, (128u << 10) + 16, BIG };
	char line[1024];
	struct tp t;
	unsigned i, ip;

	if (argc < 2)
		T_FAIL("usage: t_prov_explicit MODULE_DIR");
	tp_seed("t_prov_explicit");
	tp_open(&t, argv[1], "threshold = 0\nexplicit = yes\n");
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		for (ip = 0; ip < 2; ip++) {
			one(&t, "AES-128-CBC", sizes[i], ip);
			one(&t, "AES-256-CTR", sizes[i] + (ip ? 5 : 0), ip);
			one(&t, "AES-128-XTS", sizes[i], ip);
		}
	gcm(&t, 1000);
	gcm(&t, BIG);
	tp_stats(&t, line, sizeof(line));
	printf("%s\n", line);
	T_ASSERT(tp_stat(line, "ops.wd") > 0);
	/* XTS units over 128 KiB: 2 sizes x in place or not x both directions */
	T_EQ(tp_stat(line, "why.fallback:size"), 8);
	tp_close(&t);
	printf("t_prov_explicit: bounce buffers, cut requests, oversized XTS units counted\n");
	return 0;
}
