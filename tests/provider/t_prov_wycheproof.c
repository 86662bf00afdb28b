/* SPDX-License-Identifier: MIT */
/*
 * Wycheproof known answers through EVP with the wd provider: every case of
 * aes_cbc_pkcs5_test.json (the 144 bad paddings must fail at
 * DecryptFinal), aes_xts_test.json (the 192-bit-key pairs are not offered
 * by OpenSSL: counted), or aes_gcm_test.json (every invalid case rejected
 * at DecryptFinal; IVs over 128 bytes, which OpenSSL refuses, counted).
 * Each case runs in two provider instances (two library contexts): one
 * sending everything to a queue (threshold 0), one with the default
 * threshold, whole and in 1-byte Update calls; the default provider must
 * agree with every verdict.
 * The vectors are read with the project's reader (tests/t_wycheproof.h).
 * argv: MODULE_DIR DATA_DIR cbc|xts|gcm
 */
#include <wd/wd.h>

#include "tp.h"
#include "../t_wycheproof.h"

#define MAXB 4096

struct run {
	struct tp q, s;         /* queue instance, default-threshold instance */
	const char *mode;
	int valid, invalid, rejected, not_offered;
};

/* One EVP pass.  Returns 1 done, 0 the final step failed, -1 init failed. */
static int pass(EVP_CIPHER *c, int enc, const uint8_t *key, const uint8_t *iv, size_t ivlen,
		const uint8_t *aad, size_t aadlen, const uint8_t *in, size_t len, uint8_t *tag,
		size_t taglen, size_t chunk, uint8_t *out, size_t *outlen)
{
	EVP_CIPHER_CTX *x = EVP_CIPHER_CTX_new();
	OSSL_PARAM p[2] = { OSSL_PARAM_END, OSSL_PARAM_END };
	int n, ret = -1;
	size_t off, k, total = 0;

	T_ASSERT(x);
	if (EVP_CIPHER_get_mode(c) == EVP_CIPH_GCM_MODE)
		p[0] = OSSL_PARAM_construct_size_t(OSSL_CIPHER_PARAM_AEAD_IVLEN, &ivlen);
	if (!EVP_CipherInit_ex2(x, c, NULL, NULL, enc, p) ||
	    !EVP_CipherInit_ex2(x, NULL, key, iv, enc, NULL))
		goto out;
	ret = 0;
	if (aadlen && !EVP_CipherUpdate(x, NULL, &n, aad, (int)aadlen))
		goto out;
	for (off = 0; off < len; off += k) {
		k = len - off < chunk ? len - off : chunk;
		if (!EVP_CipherUpdate(x, out + total, &n, in + off, (int)k))
			goto out;
		total += (size_t)n;
	}
	if (!enc && taglen &&
	    !EVP_CIPHER_CTX_ctrl(x, EVP_CTRL_AEAD_SET_TAG, (int)taglen, tag))
		goto out;
	if (!EVP_CipherFinal_ex(x, out + total, &n))
		goto out;
	total += (size_t)n;
	if (enc && taglen && !EVP_CIPHER_CTX_ctrl(x, EVP_CTRL_AEAD_GET_TAG, (int)taglen, tag))
		goto out;
	*outlen = total;
	ret = 1;
out:
	EVP_CIPHER_CTX_free(x);
	if (ret != 1 && getenv("TP_VERBOSE"))
		tp_errors("pass");
	ERR_clear_error();
	return ret;
}

static const char *cipher_name(const char *mode, int key_bits, char *buf, size_t len)
{
	if (!strcmp(mode, "xts"))
		snprintf(buf, len, "AES-%d-XTS", key_bits / 2);
	else
		snprintf(buf, len, "AES-%d-%s", key_bits, !strcmp(mode, "cbc") ? "CBC" : "GCM");
	return buf;
}

/* One case in one place (fetched cipher c); fails the test on a wrong
 * answer, returns whether the case was rejected. */
static int one(EVP_CIPHER *c, const char *where, const struct t_wp_case *v, int gcm)
{
	uint8_t iv[300] = { 0 }, t2[16], out[MAXB + 32];
	size_t il = v->iv.len, outlen = 0, chunks[2] = { MAXB, 1 };
	int valid = v->result != T_WP_INVALID, r, i;

	T_ASSERT(il <= sizeof(iv) && v->msg.len <= MAXB && v->ct.len <= MAXB && v->tag.len <= 16);
	memcpy(iv, v->iv.p, il);
	if (!gcm)
		il = 16; /* XTS tweaks shorter than a block: zero-padded */
	/* XTS: one Update per data unit, as in OpenSSL */
	for (i = 0; i < (EVP_CIPHER_get_mode(c) == EVP_CIPH_XTS_MODE ? 1 : 2); i++) {
		if (valid) {
			r = pass(c, 1, v->key.p, iv, il, v->aad.p, v->aad.len, v->msg.p, v->msg.len, t2,
				 v->tag.len, chunks[i], out, &outlen);
			if (r != 1 || outlen != v->ct.len || memcmp(out, v->ct.p, v->ct.len) ||
			    (v->tag.len && memcmp(t2, v->tag.p, v->tag.len)))
				T_FAIL("%s tcId %d (%s): encryption %s", where, v->tc_id, v->comment,
				       r != 1 ? "failed" : "differs");
		}
		memcpy(t2, v->tag.p, v->tag.len);
		r = pass(c, 0, v->key.p, iv, il, v->aad.p, v->aad.len, v->ct.p, v->ct.len, t2,
			 v->tag.len, chunks[i], out, &outlen);
		if (valid && (r != 1 || outlen != v->msg.len || memcmp(out, v->msg.p, v->msg.len)))
			T_FAIL("%s tcId %d (%s): decryption %s", where, v->tc_id, v->comment,
			       r != 1 ? "failed" : "differs");
		if (!valid && r == 1)
			T_FAIL("%s tcId %d (%s): invalid case accepted", where, v->tc_id, v->comment);
		if (!valid && r < 0 && !(gcm && il == 0))
			T_FAIL("%s tcId %d: rejected at init, not at the final step", where, v->tc_id);
	}
	return !valid;
}

static void each(struct run *run, const struct t_wp_case *v)
{
	int gcm = !strcmp(run->mode, "gcm");
	EVP_CIPHER *q, *s, *d;
	char name[32];

	cipher_name(run->mode, v->key_bits, name, sizeof(name));
	d = tp_fetch(&run->q, name, 0);
	q = tp_fetch(&run->q, name, 1);
	s = tp_fetch(&run->s, name, 1);
	ERR_clear_error();
	if (!d) {
		/* XTS with two 192-bit keys: neither OpenSSL nor IEEE 1619 has it */
		T_ASSERT(!q && !s && !strcmp(run->mode, "xts") && v->key_bits == 384);
		run->not_offered++;
		return;
	}
	T_ASSERT(q && s);
	if (gcm && v->iv.len > 128) {
		/* OpenSSL's GCM takes IVs of 1..128 bytes: every place refuses */
		uint8_t out[MAXB + 32], tag[16];
		size_t n;

		T_EQ(pass(d, 1, v->key.p, v->iv.p, v->iv.len, NULL, 0, out, 0, tag, 16, 1, out, &n),
		     -1);
		T_EQ(pass(q, 1, v->key.p, v->iv.p, v->iv.len, NULL, 0, out, 0, tag, 16, 1, out, &n),
		     -1);
		run->not_offered++;
	} else {
		one(d, "default", v, gcm);
		one(q, "wd(queue)", v, gcm);
		run->rejected += one(s, "wd(default threshold)", v, gcm);
	}
	if (v->result != T_WP_INVALID)
		run->valid++;
	else
		run->invalid++;
	EVP_CIPHER_free(d);
	EVP_CIPHER_free(q);
	EVP_CIPHER_free(s);
}

/* Whether the device would take the mode (else the provider falls back). */
static int device_has(const char *mode)
{
	struct wd_ctx_opts o = { .size = sizeof(o), .soft_threads = 1, .flags = WD_CTX_F_LOCAL_ONLY };
	struct wd_ctx *ctx;
	char alg[16];
	int has;

	snprintf(alg, sizeof(alg), "aes-%s", mode);
	T_OK(wd_ctx_new(&ctx, &o));
	has = wd_dev_find(ctx, alg) != NULL;
	wd_ctx_free(ctx);
	return has;
}

int main(int argc, char **argv)
{
	struct run run = { 0 };
	char path[4096], line[1024];
	struct t_wp_file *f;
	struct t_wp_case v;
	int n = 0;

	if (argc < 4)
		T_FAIL("usage: t_prov_wycheproof MODULE_DIR DATA_DIR cbc|xts|gcm");
	run.mode = argv[3];
	snprintf(path, sizeof(path), "%s/aes_%s_test.json", argv[2],
		 !strcmp(run.mode, "cbc") ? "cbc_pkcs5" : run.mode);
	tp_open(&run.q, argv[1], "threshold = 0\n");
	tp_open(&run.s, argv[1], NULL);
	f = t_wp_load(path); /* fails the test when it cannot */
	while (t_wp_next(f, &v)) {
		each(&run, &v);
		n++;
	}
	T_EQ(n, t_wp_declared(f));
	t_wp_free(f);
	tp_stats(&run.q, line, sizeof(line));
	printf("queue instance: %s\n", line);
	if (device_has(run.mode)) {
		T_ASSERT(tp_stat(line, "ops.wd") > 0);
	} else {
		/* the engines do not have the mode yet: every message fell back */
		T_EQ(tp_stat(line, "ops.wd"), 0);
		T_ASSERT(tp_stat(line, "why.unsupported:mode") > 0);
		printf("note: no device offers aes-%s: the queue instance fell back\n", run.mode);
	}
	tp_stats(&run.s, line, sizeof(line));
	printf("default-threshold instance: %s\n", line);
	printf("t_prov_wycheproof %s: %d cases: %d valid, %d invalid (%d rejected), %d not "
	       "offered by OpenSSL\n", run.mode, n, run.valid, run.invalid, run.rejected,
	       run.not_offered);
	if (!strcmp(run.mode, "cbc"))
		T_EQ(run.rejected, 144);
	T_EQ(run.rejected, run.invalid);
	tp_close(&run.q);
	tp_close(&run.s);
	return 0;
}
