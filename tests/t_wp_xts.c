/* Wycheproof AES-XTS (aes_xts_test.json, 123 cases, all valid) through every
 * engine with XTS: soft0 (helpers; explicit ring) and wdd0 (SVA, explicit).
 * The tweak is the file's IV (8 to 128 bits) zero-extended to 16 bytes.
 * The cases with two 192-bit keys (keySize 384) cannot run: neither IEEE
 * 1619 nor OpenSSL defines XTS with AES-192, and the engine takes 32- or
 * 64-byte keys only (its refusal is checked).  They are counted and
 * printed, never silently dropped. */
#include "t_wp_engines.h"

int main(int argc, char **argv)
{
	struct t_wp_file *f = t_wp_load(t_wp_path(argc, argv, "aes_xts_test.json"));
	struct t_wp_engine e[T_WP_NENG];
	unsigned ran = 0, xts192 = 0;
	struct t_wdd w = { 0 };
	struct wd_cipher_sess *s;
	uint8_t iv[16], out[T_WP_BUF];
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
		T_EQ(c.result, T_WP_VALID);
		if (c.key.len == 48) {
			/* two AES-192 keys: no such XTS */
			T_EQ(wd_cipher_sess_new(&s, e[0].q, WD_CIPHER_AES_XTS, c.key.p, 48), -EINVAL);
			xts192++;
			continue;
		}
		T_ASSERT(c.iv.len <= 16);
		memset(iv, 0, sizeof(iv));
		memcpy(iv, c.iv.p, c.iv.len);
		for (i = 0; i < T_WP_NENG; i++) {
			s = t_sess(e[i].q, WD_CIPHER_AES_XTS, c.key.p, c.key.len);
			T_EQ(t_wp_engine_run(&e[i], s, 1, iv, c.msg.p, out, c.msg.len), 0);
			if (memcmp(out, c.ct.p, c.ct.len))
				T_FAIL("%s: tcId %d (%s): ciphertext differs", e[i].name, c.tc_id,
				       c.comment);
			T_EQ(t_wp_engine_run(&e[i], s, 0, iv, c.ct.p, out, c.ct.len), 0);
			if (memcmp(out, c.msg.p, c.msg.len))
				T_FAIL("%s: tcId %d: plaintext differs", e[i].name, c.tc_id);
			wd_cipher_sess_free(s);
		}
		ran++;
	}
	T_EQ(n, t_wp_declared(f));
	printf("%d cases: %u run on each of", n, ran);
	for (i = 0; i < T_WP_NENG; i++)
		printf("%s %s", i ? ";" : "", e[i].name);
	printf(" (matched); %u NOT RUN: XTS with two 192-bit keys (keySize 384), which "
	       "IEEE 1619 and OpenSSL do not define\n", xts192);
	T_EQ(ran + xts192, (unsigned)n);
	T_EQ(xts192, 41);
	for (i = 0; i < T_WP_NENG; i++)
		t_wp_engine_close(&e[i]);
	wd_ctx_free(ctx);
	t_wdd_cleanup(&w);
	t_wp_free(f);
	return 0;
}
