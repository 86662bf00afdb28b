/* SPDX-License-Identifier: MIT */
/*
 * A GCM message's end on the daemon's device (wdd0) with fallback on: the
 * last part carries no text, so its input and output are both NULL, which
 * the provider took for "in place on a remote device" and kept a copy of
 * the input from: memcpy from NULL (UBSan; found by t_prov_async_wdd).
 * Messages with text in place, and with none at all, on wdd0: the bytes
 * and tags of the default provider.
 * argv: MODULE_DIR WDD_BINARY
 */
#include "tp.h"

static void message(struct tp *t, size_t len)
{
	EVP_CIPHER *c = tp_fetch(t, "AES-128-GCM", 1), *d = tp_fetch(t, "AES-128-GCM", 0);
	EVP_CIPHER_CTX *x = EVP_CIPHER_CTX_new(), *y = EVP_CIPHER_CTX_new();
	uint8_t key[16], iv[12], aad[20], a[4096], b[4096], ta[16], tb[16];
	int n, m;

	T_ASSERT(c && d && x && y && len <= sizeof(a));
	tp_fill(key, sizeof(key));
	tp_fill(iv, sizeof(iv));
	tp_fill(aad, sizeof(aad));
	tp_fill(a, len);
	memcpy(b, a, len);
	T_ASSERT(EVP_EncryptInit_ex2(x, c, key, iv, NULL) && EVP_EncryptInit_ex2(y, d, key, iv, NULL));
	T_ASSERT(EVP_EncryptUpdate(x, NULL, &n, aad, sizeof(aad)));
	T_ASSERT(EVP_EncryptUpdate(y, NULL, &m, aad, sizeof(aad)));
	if (len) {
		T_ASSERT(EVP_EncryptUpdate(x, a, &n, a, (int)len)); /* in place */
		T_ASSERT(EVP_EncryptUpdate(y, b, &m, b, (int)len));
	}
	if (!EVP_EncryptFinal_ex(x, a + len, &n)) {
		tp_errors("final");
		T_FAIL("GCM final of a %zu-byte message failed", len);
	}
	T_ASSERT(EVP_EncryptFinal_ex(y, b + len, &m));
	T_ASSERT(EVP_CIPHER_CTX_ctrl(x, EVP_CTRL_AEAD_GET_TAG, 16, ta));
	T_ASSERT(EVP_CIPHER_CTX_ctrl(y, EVP_CTRL_AEAD_GET_TAG, 16, tb));
	if (memcmp(a, b, len) || memcmp(ta, tb, 16))
		T_FAIL("GCM %zu bytes in place on wdd0 differs from the default provider", len);
	EVP_CIPHER_CTX_free(x);
	EVP_CIPHER_CTX_free(y);
	EVP_CIPHER_free(c);
	EVP_CIPHER_free(d);
}

int main(int argc, char **argv)
{
	char sock[128], line[1024];
	struct tp t;
	pid_t pid;

	if (argc < 3)
		T_FAIL("usage: t_prov_bug_keep_no_text MODULE_DIR WDD");
	tp_seed("t_prov_bug_keep_no_text");
	pid = tp_wdd_start(argv[2], sock, sizeof(sock));
	tp_open(&t, argv[1], "device = wdd0\nthreshold = 0\n");
	message(&t, 4096);
	message(&t, 100);
	message(&t, 0);
	tp_stats(&t, line, sizeof(line));
	printf("%s\n", line);
	T_ASSERT(tp_stat(line, "ops.wd") >= 3);
	tp_close(&t);
	tp_wdd_stop(pid, sock);
	printf("t_prov_bug_keep_no_text: GCM messages' ends in place on wdd0\n");
	return 0;
}
