/* SPDX-License-Identifier: MIT */
/*
 * The IV controls of TLS-style protocols against OpenSSL's default
 * provider.  AES-GCM with EVP_CTRL_GCM_SET_IV_FIXED (a 4-byte fixed part,
 * libssl; or -1 and the whole IV, OpenSSH), EVP_CTRL_GCM_IV_GEN per message
 * and, receiving, EVP_CTRL_GCM_SET_IV_INV (or IV_GEN, OpenSSH): wd sends
 * and the default provider receives and the other way round, each
 * message's ciphertext and tag byte-identical to the default provider's
 * under the IV the sender handed out, and the stored IV read back as the
 * default provider answers.  A GCM IV read before any IV is set, and CBC
 * TLS record padding for SSL 3.0 to TLS 1.2.  Everything to a queue
 * (threshold 0), then the defaults.
 * argv[1]: the directory holding wd.so.
 */
#include <openssl/prov_ssl.h>

#include "tp.h"

#define MSGS 5

static const size_t lens[MSGS] = { 100, 0, 1, 1000, 17 };
static const uint8_t key[16] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 };
static const uint8_t fixed[4] = { 0xf0, 0xf1, 0xf2, 0xf3 };
/* the invocation field's low bytes about to carry: the counter is 64-bit */
static const uint8_t whole[12] = { 0xa0, 0xa1, 0xa2, 0xa3, 0, 0, 0, 0, 0, 0, 0xff, 0xfe };

struct side {
	EVP_CIPHER_CTX *x;
	int wd;
};

/* A context with the fixed IV set: 4 bytes after the key (libssl), or
 * the whole IV (-1) before it (OpenSSH). */
static void side_open(struct side *s, struct tp *t, int wd, int enc, int minus1)
{
	EVP_CIPHER *c = tp_fetch(t, "AES-128-GCM", wd);

	T_ASSERT(c && (s->x = EVP_CIPHER_CTX_new()));
	s->wd = wd;
	if (minus1) {
		T_ASSERT(EVP_CipherInit_ex2(s->x, c, NULL, NULL, enc, NULL));
		T_ASSERT(EVP_CIPHER_CTX_ctrl(s->x, EVP_CTRL_GCM_SET_IV_FIXED, -1, (void *)whole));
		T_ASSERT(EVP_CipherInit_ex2(s->x, NULL, key, NULL, -1, NULL));
	} else {
		T_ASSERT(EVP_CipherInit_ex2(s->x, c, key, NULL, enc, NULL));
		T_ASSERT(EVP_CIPHER_CTX_ctrl(s->x, EVP_CTRL_GCM_SET_IV_FIXED, 4, (void *)fixed));
	}
	EVP_CIPHER_free(c);
}

/* AAD, text, end; the tag read (enc) or checked (dec).  1: tag good. */
static int gcm_msg(EVP_CIPHER_CTX *x, int enc, const uint8_t *in, size_t len, uint8_t *out,
		   uint8_t *tag)
{
	static const char aad[] = "a record header";
	int l, l2;

	T_ASSERT(EVP_CipherUpdate(x, NULL, &l, (const uint8_t *)aad, sizeof(aad) - 1));
	T_ASSERT(EVP_CipherUpdate(x, out, &l, in, (int)len) && (size_t)l == len);
	if (!enc)
		T_ASSERT(EVP_CIPHER_CTX_ctrl(x, EVP_CTRL_GCM_SET_TAG, 16, tag));
	if (EVP_CipherFinal_ex(x, out + l, &l2) <= 0) {
		ERR_clear_error();
		return 0;
	}
	if (enc)
		T_ASSERT(EVP_CIPHER_CTX_ctrl(x, EVP_CTRL_GCM_GET_TAG, 16, tag));
	return 1;
}

/* The default provider's message under an IV given outright. */
static void ref_msg(struct tp *t, const uint8_t *iv, const uint8_t *in, size_t len, uint8_t *out,
		    uint8_t *tag)
{
	EVP_CIPHER *c = tp_fetch(t, "AES-128-GCM", 0);
	EVP_CIPHER_CTX *x = EVP_CIPHER_CTX_new();

	T_ASSERT(c && x && EVP_EncryptInit_ex2(x, c, key, iv, NULL));
	T_ASSERT(gcm_msg(x, 1, in, len, out, tag));
	EVP_CIPHER_CTX_free(x);
	EVP_CIPHER_free(c);
}

/* The IV message m must use: the invocation field counted up from the
 * sender's first (fixed mode) or from the whole IV's. */
static void expect_iv(uint8_t *iv, const uint8_t *first, int m)
{
	int i, k;

	memcpy(iv, first, 12);
	for (k = 0; k < m; k++)
		for (i = 11; i >= 4 && ++iv[i] == 0; i--)
			;
}

/* The stored IV as read back, the same from both providers' receivers. */
static void same_stored_iv(struct side *a, struct side *b)
{
	uint8_t ia[12], ib[12];

	T_ASSERT(EVP_CIPHER_CTX_get_updated_iv(a->x, ia, sizeof(ia)));
	T_ASSERT(EVP_CIPHER_CTX_get_updated_iv(b->x, ib, sizeof(ib)));
	if (memcmp(ia, ib, sizeof(ia)))
		T_FAIL("the stored IV after IV_GEN differs from the default provider's");
}

/* One direction, one fixed-IV style: MSGS messages sent and received. */
static void flow(struct tp *t, const char *where, int wd_sends, int minus1)
{
	static uint8_t pt[1000], ct[1000], ref[1000], back[1000];
	uint8_t first[12], iv[12], gen[8], rgen[8], tag[16], rtag[16];
	struct side snd, rcv, twin;
	size_t gl = minus1 ? 1 : 8;     /* OpenSSH asks for 1 byte, libssl for 8 */
	int m;

	side_open(&snd, t, wd_sends, 1, minus1);
	side_open(&rcv, t, !wd_sends, 0, minus1);
	side_open(&twin, t, wd_sends, 0, minus1); /* the sender's kind, receiving */
	for (m = 0; m < MSGS; m++) {
		tp_fill(pt, lens[m]);
		T_ASSERT(EVP_CIPHER_CTX_ctrl(snd.x, EVP_CTRL_GCM_IV_GEN, (int)gl, gen));
		if (!m) {
			memcpy(first, minus1 ? whole : fixed, 4);
			if (minus1)
				memcpy(first + 4, whole + 4, 8);
			else
				memcpy(first + 4, gen, 8);
		}
		expect_iv(iv, first, m);
		if (memcmp(gen, iv + 12 - gl, gl))
			T_FAIL("%s: message %d: IV_GEN handed out the wrong field", where, m);
		T_ASSERT(gcm_msg(snd.x, 1, pt, lens[m], ct, tag));
		ref_msg(t, iv, pt, lens[m], ref, rtag);
		if (memcmp(ct, ref, lens[m]) || memcmp(tag, rtag, 16))
			T_FAIL("%s: %s sent message %d (%zu bytes, %s) not under the IV it handed out",
			       where, wd_sends ? "wd" : "default", m, lens[m],
			       minus1 ? "whole IV" : "fixed IV");
		if (minus1) {
			T_ASSERT(EVP_CIPHER_CTX_ctrl(rcv.x, EVP_CTRL_GCM_IV_GEN, 1, rgen));
			T_ASSERT(EVP_CIPHER_CTX_ctrl(twin.x, EVP_CTRL_GCM_IV_GEN, 1, rgen + 1));
			T_ASSERT(rgen[0] == gen[0] && rgen[1] == gen[0]);
			same_stored_iv(&rcv, &twin);
		} else {
			T_ASSERT(EVP_CIPHER_CTX_ctrl(rcv.x, EVP_CTRL_GCM_SET_IV_INV, 8, gen));
		}
		if (!gcm_msg(rcv.x, 0, ct, lens[m], back, tag) || memcmp(back, pt, lens[m]))
			T_FAIL("%s: %s did not open %s's message %d (%s)", where,
			       wd_sends ? "default" : "wd", wd_sends ? "wd" : "default", m,
			       minus1 ? "whole IV, IV_GEN" : "fixed IV, SET_IV_INV");
		if (minus1)
			T_ASSERT(gcm_msg(twin.x, 0, ct, lens[m], back, tag));
	}
	T_ASSERT(!tp_errors(where));
	EVP_CIPHER_CTX_free(snd.x);
	EVP_CIPHER_CTX_free(rcv.x);
	EVP_CIPHER_CTX_free(twin.x);
}

/* The IV read before any is set: what the default provider answers. */
static void iv_before_set(struct tp *t, const char *where, int enc)
{
	uint8_t a[12], b[12];
	int r[2][2], wd;

	for (wd = 0; wd < 2; wd++) {
		EVP_CIPHER *c = tp_fetch(t, "AES-128-GCM", wd);
		EVP_CIPHER_CTX *x = EVP_CIPHER_CTX_new();

		T_ASSERT(c && x && EVP_CipherInit_ex2(x, c, key, NULL, enc, NULL));
		r[wd][0] = EVP_CIPHER_CTX_get_original_iv(x, a, sizeof(a));
		r[wd][1] = EVP_CIPHER_CTX_get_updated_iv(x, b, sizeof(b));
		if (tp_errors(where))
			T_FAIL("%s: %s raised an error reading an unset IV", where,
			       wd ? "wd" : "default");
		EVP_CIPHER_CTX_free(x);
		EVP_CIPHER_free(c);
	}
	if (r[0][0] != r[1][0] || r[0][1] != r[1][1])
		T_FAIL("%s: %s, IV read before set: default %d/%d, wd %d/%d", where,
		       enc ? "enc" : "dec", r[0][0], r[0][1], r[1][0], r[1][1]);
}

/* One CBC TLS record sealed in place (MAC size 20); its length. */
static int cbc_seal(struct tp *t, int wd, unsigned version, uint8_t *buf, int len)
{
	static const uint8_t iv[16] = { 7 };
	EVP_CIPHER *c = tp_fetch(t, "AES-128-CBC", wd);
	EVP_CIPHER_CTX *x = EVP_CIPHER_CTX_new();
	size_t mac = 20;
	OSSL_PARAM p[3];
	int l;

	p[0] = OSSL_PARAM_construct_uint(OSSL_CIPHER_PARAM_TLS_VERSION, &version);
	p[1] = OSSL_PARAM_construct_size_t(OSSL_CIPHER_PARAM_TLS_MAC_SIZE, &mac);
	p[2] = OSSL_PARAM_construct_end();
	T_ASSERT(c && x && EVP_EncryptInit_ex2(x, c, key, iv, p));
	T_ASSERT(EVP_CipherUpdate(x, buf, &l, buf, len));
	EVP_CIPHER_CTX_free(x);
	EVP_CIPHER_free(c);
	return l;
}

/* The padding of SSL 3.0 (zeros, then the length) and TLS (the length). */
static void cbc_padding(struct tp *t, const char *where)
{
	static const unsigned versions[] = { SSL3_VERSION, TLS1_VERSION, TLS1_1_VERSION,
					     TLS1_2_VERSION };
	uint8_t a[96], b[96];
	unsigned v;
	int len, la, lb;

	for (v = 0; v < sizeof(versions) / sizeof(versions[0]); v++) {
		for (len = 36; len <= 68; len++) {
			tp_fill(a, (size_t)len);
			memcpy(b, a, (size_t)len);
			la = cbc_seal(t, 1, versions[v], a, len);
			lb = cbc_seal(t, 0, versions[v], b, len);
			if (la != lb || memcmp(a, b, (size_t)la))
				T_FAIL("%s: version %#x, %d-byte record sealed unlike the "
				       "default provider", where, versions[v], len);
		}
	}
}

static void run(const char *moddir, const char *conf, const char *where)
{
	char line[1024];
	struct tp t;
	int d, minus1;

	tp_open(&t, moddir, conf);
	for (minus1 = 0; minus1 < 2; minus1++)
		for (d = 0; d < 2; d++)
			flow(&t, where, d, minus1);
	iv_before_set(&t, where, 1);
	iv_before_set(&t, where, 0);
	cbc_padding(&t, where);
	tp_stats(&t, line, sizeof(line));
	printf("%s: %s\n", where, line);
	if (!conf)
		T_ASSERT(tp_stat(line, "ops.sw") > 0);
	else
		T_ASSERT(tp_stat(line, "ops.wd") > 0);
	tp_close(&t);
}

int main(int argc, char **argv)
{
	if (argc < 2)
		T_FAIL("usage: t_prov_tls_iv MODULE_DIR");
	tp_seed("t_prov_tls_iv");
	run(argv[1], "threshold = 0\n", "queue");
	run(argv[1], NULL, "default-threshold");
	printf("t_prov_tls_iv: GCM fixed IV, IV_GEN, SET_IV_INV; unset IV; CBC TLS padding: "
	       "as the default provider\n");
	return 0;
}
