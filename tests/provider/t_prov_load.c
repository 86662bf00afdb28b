/* SPDX-License-Identifier: MIT */
/*
 * The provider loads, describes itself, offers its ciphers under OpenSSL's
 * names and aliases, and answers every question EVP and the OpenSSL
 * commands ask of a cipher exactly as the default provider does.
 * argv[1]: the directory holding wd.so.
 */
#include <wd/version.h>

#include "tp.h"

static const char *const names[] = {
	"AES-128-CBC", "AES-192-CBC", "AES-256-CBC", "AES-128-CTR", "AES-192-CTR",
	"AES-256-CTR", "AES-128-XTS", "AES-256-XTS", "AES-128-GCM", "AES-192-GCM",
	"AES-256-GCM",
};

static void prov_params(struct tp *t)
{
	char *name = NULL, *version = NULL, *build = NULL;
	char algs[512], th[256], dev[64];
	int status = 0, fallback = -1;
	OSSL_PARAM p[] = {
		OSSL_PARAM_utf8_ptr(OSSL_PROV_PARAM_NAME, &name, 0),
		OSSL_PARAM_utf8_ptr(OSSL_PROV_PARAM_VERSION, &version, 0),
		OSSL_PARAM_utf8_ptr(OSSL_PROV_PARAM_BUILDINFO, &build, 0),
		OSSL_PARAM_int(OSSL_PROV_PARAM_STATUS, &status),
		OSSL_PARAM_utf8_string("wd-algorithms", algs, sizeof(algs)),
		OSSL_PARAM_utf8_string("wd-threshold", th, sizeof(th)),
		OSSL_PARAM_utf8_string("wd-device", dev, sizeof(dev)),
		OSSL_PARAM_int("wd-fallback", &fallback),
		OSSL_PARAM_END
	};
	unsigned i;

	T_ASSERT(OSSL_PROVIDER_get_params(t->wd, p));
	T_ASSERT(name && !strcmp(name, "WarpDrive provider"));
	T_ASSERT(version && !strcmp(version, WD_VERSION_STRING));
	T_ASSERT(build && strstr(build, "libwd ") && strstr(build, "OpenSSL"));
	T_EQ(status, 1);
	T_EQ(fallback, 1);
	T_ASSERT(!strcmp(dev, "auto"));
	T_ASSERT(strstr(th, "cbc-enc=") && strstr(th, "cbc-dec=") && strstr(th, "gcm="));
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strstr(algs, names[i]))
			T_FAIL("%s not in wd-algorithms \"%s\"", names[i], algs);
	printf("provider: %s %s (%s), threshold %s\n", name, version, build, th);
}

/* The same parameter names, in any order. */
static void same_names(const char *what, const char *alg, const OSSL_PARAM *a, const OSSL_PARAM *b)
{
	const OSSL_PARAM *p;
	int na = 0, nb = 0;

	T_ASSERT(a && b);
	for (p = a; p->key; p++, na++)
		if (!OSSL_PARAM_locate_const(b, p->key))
			T_FAIL("%s %s: wd has %s, default not", alg, what, p->key);
	for (p = b; p->key; p++, nb++)
		if (!OSSL_PARAM_locate_const(a, p->key))
			T_FAIL("%s %s: default has %s, wd not", alg, what, p->key);
	T_EQ(na, nb);
}

static void same_cipher(struct tp *t, const char *name)
{
	EVP_CIPHER *w = tp_fetch(t, name, 1), *d = tp_fetch(t, name, 0);
	EVP_CIPHER_CTX *cw = EVP_CIPHER_CTX_new(), *cd = EVP_CIPHER_CTX_new();
	uint8_t key[64] = { 0 }, iv[16] = { 0 };

	if (!w)
		T_FAIL("%s: not offered by wd", name);
	T_ASSERT(d);
	T_ASSERT(!strcmp(OSSL_PROVIDER_get0_name(EVP_CIPHER_get0_provider(w)), "wd"));
	T_EQ(EVP_CIPHER_get_mode(w), EVP_CIPHER_get_mode(d));
	T_EQ(EVP_CIPHER_get_key_length(w), EVP_CIPHER_get_key_length(d));
	T_EQ(EVP_CIPHER_get_iv_length(w), EVP_CIPHER_get_iv_length(d));
	T_EQ(EVP_CIPHER_get_block_size(w), EVP_CIPHER_get_block_size(d));
	T_EQ(EVP_CIPHER_get_flags(w), EVP_CIPHER_get_flags(d));
	T_EQ(EVP_CIPHER_get_nid(w), EVP_CIPHER_get_nid(d));
	same_names("gettable", name, EVP_CIPHER_gettable_params(w), EVP_CIPHER_gettable_params(d));
	same_names("gettable ctx", name, EVP_CIPHER_gettable_ctx_params(w),
		   EVP_CIPHER_gettable_ctx_params(d));
	same_names("settable ctx", name, EVP_CIPHER_settable_ctx_params(w),
		   EVP_CIPHER_settable_ctx_params(d));
	key[20] = key[40] = 1; /* XTS halves must differ */
	if (!EVP_EncryptInit_ex2(cw, w, key, iv, NULL)) {
		tp_errors(name);
		T_FAIL("%s: init", name);
	}
	T_ASSERT(EVP_EncryptInit_ex2(cd, d, key, iv, NULL));
	T_EQ(EVP_CIPHER_CTX_get_key_length(cw), EVP_CIPHER_CTX_get_key_length(cd));
	T_EQ(EVP_CIPHER_CTX_get_iv_length(cw), EVP_CIPHER_CTX_get_iv_length(cd));
	T_EQ(EVP_CIPHER_CTX_get_block_size(cw), EVP_CIPHER_CTX_get_block_size(cd));
	T_EQ(EVP_CIPHER_CTX_get_mode(cw), EVP_CIPHER_CTX_get_mode(cd));
	EVP_CIPHER_CTX_free(cw);
	EVP_CIPHER_CTX_free(cd);
	EVP_CIPHER_free(w);
	EVP_CIPHER_free(d);
}

int main(int argc, char **argv)
{
	struct tp t;
	EVP_CIPHER *c;
	unsigned i;

	if (argc < 2)
		T_FAIL("usage: t_prov_load MODULE_DIR");
	tp_open(&t, argv[1], NULL);
	prov_params(&t);
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		same_cipher(&t, names[i]);
	/* aliases resolve to the same algorithms */
	c = EVP_CIPHER_fetch(t.lc, "AES128", "provider=wd");
	T_ASSERT(c && EVP_CIPHER_is_a(c, "AES-128-CBC"));
	EVP_CIPHER_free(c);
	c = EVP_CIPHER_fetch(t.lc, "id-aes256-GCM", "provider=wd");
	T_ASSERT(c && EVP_CIPHER_is_a(c, "AES-256-GCM"));
	EVP_CIPHER_free(c);
	/* not offered: no such cipher in OpenSSL either */
	T_ASSERT(!EVP_CIPHER_fetch(t.lc, "AES-192-XTS", "provider=wd"));
	T_ASSERT(!EVP_CIPHER_fetch(t.lc, "AES-128-ECB", "provider=wd"));
	ERR_clear_error();
	tp_close(&t);
	printf("t_prov_load: %zu ciphers offered, each as the default provider's\n",
	       sizeof(names) / sizeof(names[0]));
	return 0;
}
