/* Wycheproof AES-CBC-PKCS5 (aes_cbc_pkcs5_test.json, 216 cases) through
 * every engine with CBC: soft0 (helpers; explicit ring) and wdd0 (SVA,
 * explicit).  The engines do no padding (WarpDrive's CBC takes whole
 * blocks): the PKCS#5 padding here is THIS TEST's - added before encrypting
 * and checked after decrypting, as the OpenSSL provider will do for real.
 * Valid cases: the padded message encrypts to Wycheproof's ciphertext, which
 * decrypts back to it.  Invalid cases (a bad padding, an empty ciphertext):
 * the engine decrypts the blocks, and the test shows that the last block
 * fails the padding check - the case is refused, not by the engine. */
#include "t_wp_engines.h"

/* PKCS#5 padding of n bytes of msg into out: the padded length. */
static size_t pad(const uint8_t *msg, size_t n, uint8_t *out)
{
	size_t k = 16 - n % 16, i;

	memcpy(out, msg, n);
	for (i = 0; i < k; i++)
		out[n + i] = (uint8_t)k;
	return n + k;
}

/* The plaintext's length once its padding is checked, or -1. */
static long unpad(const uint8_t *p, size_t n)
{
	size_t k, i;

	if (!n || n % 16)
		return -1;
	k = p[n - 1];
	if (k < 1 || k > 16)
		return -1;
	for (i = 0; i < k; i++)
		if (p[n - 1 - i] != k)
			return -1;
	return (long)(n - k);
}

struct tally {
	unsigned valid, invalid;
};

static void one(struct t_wp_engine *e, const struct t_wp_case *c, struct tally *t)
{
	uint8_t in[T_WP_BUF], out[T_WP_BUF];
	struct wd_cipher_sess *s = t_sess(e->q, WD_CIPHER_AES_CBC, c->key.p, c->key.len);
	size_t n;
	long m;

	T_EQ(c->iv.len, 16);
	T_ASSERT(c->ct.len % 16 == 0); /* the file's ciphertexts are whole blocks */
	if (c->result == T_WP_VALID) {
		n = pad(c->msg.p, c->msg.len, in);
		T_EQ(n, c->ct.len);
		T_EQ(t_wp_engine_run(e, s, 1, c->iv.p, in, out, n), 0);
		if (memcmp(out, c->ct.p, n))
			T_FAIL("%s: tcId %d: ciphertext differs", e->name, c->tc_id);
	}
	T_EQ(t_wp_engine_run(e, s, 0, c->iv.p, c->ct.p, out, c->ct.len), 0);
	m = unpad(out, c->ct.len);
	if (c->result == T_WP_VALID) {
		if (m != (long)c->msg.len || memcmp(out, c->msg.p, c->msg.len))
			T_FAIL("%s: tcId %d: decryption or padding wrong", e->name, c->tc_id);
		t->valid++;
	} else {
		if (m >= 0)
			T_FAIL("%s: tcId %d (%s): an invalid case passed the padding check",
			       e->name, c->tc_id, c->comment);
		t->invalid++;
	}
	wd_cipher_sess_free(s);
}

int main(int argc, char **argv)
{
	struct t_wp_file *f = t_wp_load(t_wp_path(argc, argv, "aes_cbc_pkcs5_test.json"));
	struct t_wp_engine e[T_WP_NENG];
	struct tally t[T_WP_NENG] = { { 0 } };
	struct t_wdd w = { 0 };
	struct wd_ctx *ctx;
	struct t_wp_case c;
	int n = 0, i;

	if (argc < 3)
		T_FAIL("usage: %s WYCHEPROOF_DIR WDD", argv[0]);
	t_wdd_start(&w, argv[2], NULL);
	ctx = t_wdd_ctx();
	t_wp_engines(e, ctx);
	while (t_wp_next(f, &c)) {
		n++;
		for (i = 0; i < T_WP_NENG; i++)
			one(&e[i], &c, &t[i]);
	}
	T_EQ(n, t_wp_declared(f));
	for (i = 0; i < T_WP_NENG; i++) {
		printf("%s: %d cases: %u valid matched; %u invalid decrypted by the engine and "
		       "refused by this test's padding check\n", e[i].name, n, t[i].valid,
		       t[i].invalid);
		T_EQ(t[i].valid + t[i].invalid, n);
		T_EQ(t[i].invalid, 144);
		t_wp_engine_close(&e[i]);
	}
	wd_ctx_free(ctx);
	t_wdd_cleanup(&w);
	t_wp_free(f);
	return 0;
}
