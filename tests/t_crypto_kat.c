/* Known answers: the NIST SP 800-38A CBC (F.2.1-F.2.6) and CTR (F.5.1-F.5.6)
 * vectors and IEEE 1619-2007 XTS vectors, encrypted and decrypted through
 * a queue - synchronously, in place, and all at once as one async batch. */
#include "t_crypto.h"

struct kat {
	const char *name;
	enum wd_cipher_alg alg;
	const char *key, *iv, *pt, *ct;
};

/* SP 800-38A: the same four plaintext blocks for every mode and key. */
#define SP_PT                                                                                  \
	"6bc1bee22e409f96e93d7e117393172a ae2d8a571e03ac9c9eb76fac45af8e51 "                    \
	"30c81c46a35ce411e5fbc1191a0a52ef f69f2445df4f9b17ad2b417be66c3710"
#define SP_K128 "2b7e151628aed2a6abf7158809cf4f3c"
#define SP_K192 "8e73b0f7da0e6452c810f32b809079e562f8ead2522c6b7b"
#define SP_K256 "603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4"
#define SP_CBC_IV "000102030405060708090a0b0c0d0e0f"
#define SP_CTR_IV "f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff"

/* IEEE 1619: 512-byte data units of 00..ff twice; 44.. for vectors 2-3. */
#define X_44 "44444444444444444444444444444444 44444444444444444444444444444444"
#define X_K4 "27182818284590452353602874713526 31415926535897932384626433832795"
#define X_K10                                                                                  \
	"2718281828459045235360287471352662497757247093699959574966967627"                      \
	"3141592653589793238462643383279502884197169399375105820974944592"
#define X_K15 "fffefdfcfbfaf9f8f7f6f5f4f3f2f1f0 bfbebdbcbbbab9b8b7b6b5b4b3b2b1b0"
/* the data unit sequence number, as the 16-byte little-endian tweak */
#define X_DUSN_15 "9a785634120000000000000000000000"

static const struct kat kats[] = {
	{ "F.2.1/F.2.2 CBC-AES128", WD_CIPHER_AES_CBC, SP_K128, SP_CBC_IV, SP_PT,
	  "7649abac8119b246cee98e9b12e9197d 5086cb9b507219ee95db113a917678b2 "
	  "73bed6b8e3c1743b7116e69e22229516 3ff1caa1681fac09120eca307586e1a7" },
	{ "F.2.3/F.2.4 CBC-AES192", WD_CIPHER_AES_CBC, SP_K192, SP_CBC_IV, SP_PT,
	  "4f021db243bc633d7178183a9fa071e8 b4d9ada9ad7dedf4e5e738763f69145a "
	  "571b242012fb7ae07fa9baac3df102e0 08b0e27988598881d920a9e64f5615cd" },
	{ "F.2.5/F.2.6 CBC-AES256", WD_CIPHER_AES_CBC, SP_K256, SP_CBC_IV, SP_PT,
	  "f58c4c04d6e5f1ba779eabfb5f7bfbd6 9cfc4e967edb808d679f777bc6702c7d "
	  "39f23369a9d9bacfa530e26304231461 b2eb05e2c39be9fcda6c19078c6a9d1b" },
	{ "F.5.1/F.5.2 CTR-AES128", WD_CIPHER_AES_CTR, SP_K128, SP_CTR_IV, SP_PT,
	  "874d6191b620e3261bef6864990db6ce 9806f66b7970fdff8617187bb9fffdff "
	  "5ae4df3edbd5d35e5b4f09020db03eab 1e031dda2fbe03d1792170a0f3009cee" },
	{ "F.5.3/F.5.4 CTR-AES192", WD_CIPHER_AES_CTR, SP_K192, SP_CTR_IV, SP_PT,
	  "1abc932417521ca24f2b0459fe7e6e0b 090339ec0aa6faefd5ccc2c6f4ce8e94 "
	  "1e36b26bd1ebc670d1bd1d665620abf7 4f78a7f6d29809585a97daec58c6b050" },
	{ "F.5.5/F.5.6 CTR-AES256", WD_CIPHER_AES_CTR, SP_K256, SP_CTR_IV, SP_PT,
	  "601ec313775789a5b7a7f504bbf3d228 f443e3ca4d62b59aca84e990cacaf5c5 "
	  "2b0930daa23de94ce87017ba2d84988d dfc9c58db67aada613c2dd08457941a6" },
	/* Vector 1 has two equal all-zero keys, which the library refuses
	 * (t_crypto_errors); vectors 2 and 3 are the shortest others. */
	{ "XTS-AES-128 vector 2", WD_CIPHER_AES_XTS,
	  "11111111111111111111111111111111 22222222222222222222222222222222",
	  "33333333330000000000000000000000", X_44,
	  "c454185e6a16936e39334038acef838b fb186fff7480adc4289382ecd6d394f0" },
	{ "XTS-AES-128 vector 3", WD_CIPHER_AES_XTS,
	  "fffefdfcfbfaf9f8f7f6f5f4f3f2f1f0 22222222222222222222222222222222",
	  "33333333330000000000000000000000", X_44,
	  "af85336b597afc1a900b2eb21ec949d2 92df4c047e0b21532186a5971a227a89" },
	{ "XTS-AES-128 vector 4", WD_CIPHER_AES_XTS, X_K4, "00000000000000000000000000000000",
	  NULL,
	  "27a7479befa1d476489f308cd4cfa6e2a96e4bbe3208ff25287dd3819616e89c"
	  "c78cf7f5e543445f8333d8fa7f56000005279fa5d8b5e4ad40e736ddb4d35412"
	  "328063fd2aab53e5ea1e0a9f332500a5df9487d07a5c92cc512c8866c7e860ce"
	  "93fdf166a24912b422976146ae20ce846bb7dc9ba94a767aaef20c0d61ad0265"
	  "5ea92dc4c4e41a8952c651d33174be51a10c421110e6d81588ede82103a252d8"
	  "a750e8768defffed9122810aaeb99f9172af82b604dc4b8e51bcb08235a6f434"
	  "1332e4ca60482a4ba1a03b3e65008fc5da76b70bf1690db4eae29c5f1badd03c"
	  "5ccf2a55d705ddcd86d449511ceb7ec30bf12b1fa35b913f9f747a8afd1b130e"
	  "94bff94effd01a91735ca1726acd0b197c4e5b03393697e126826fb6bbde8ecc"
	  "1e08298516e2c9ed03ff3c1b7860f6de76d4cecd94c8119855ef5297ca67e9f3"
	  "e7ff72b1e99785ca0a7e7720c5b36dc6d72cac9574c8cbbc2f801e23e56fd344"
	  "b07f22154beba0f08ce8891e643ed995c94d9a69c9f1b5f499027a78572aeebd"
	  "74d20cc39881c213ee770b1010e4bea718846977ae119f7a023ab58cca0ad752"
	  "afe656bb3c17256a9f6e9bf19fdd5a38fc82bbe872c5539edb609ef4f79c203e"
	  "bb140f2e583cb2ad15b4aa5b655016a8449277dbd477ef2c8d6c017db738b18d"
	  "eb4a427d1923ce3ff262735779a418f20a282df920147beabe421ee5319d0568" },
	{ "XTS-AES-256 vector 10", WD_CIPHER_AES_XTS, X_K10, "ff000000000000000000000000000000",
	  NULL,
	  "1c3b3a102f770386e4836c99e370cf9bea00803f5e482357a4ae12d414a3e63b"
	  "5d31e276f8fe4a8d66b317f9ac683f44680a86ac35adfc3345befecb4bb188fd"
	  "5776926c49a3095eb108fd1098baec70aaa66999a72a82f27d848b21d4a741b0"
	  "c5cd4d5fff9dac89aeba122961d03a757123e9870f8acf1000020887891429ca"
	  "2a3e7a7d7df7b10355165c8b9a6d0a7de8b062c4500dc4cd120c0f7418dae3d0"
	  "b5781c34803fa75421c790dfe1de1834f280d7667b327f6c8cd7557e12ac3a0f"
	  "93ec05c52e0493ef31a12d3d9260f79a289d6a379bc70c50841473d1a8cc81ec"
	  "583e9645e07b8d9670655ba5bbcfecc6dc3966380ad8fecb17b6ba02469a020a"
	  "84e18e8f84252070c13e9f1f289be54fbc481457778f616015e1327a02b140f1"
	  "505eb309326d68378f8374595c849d84f4c333ec4423885143cb47bd71c5edae"
	  "9be69a2ffeceb1bec9de244fbe15992b11b77c040f12bd8f6a975a44a0f90c29"
	  "a9abc3d4d893927284c58754cce294529f8614dcd2aba991925fedc4ae74ffac"
	  "6e333b93eb4aff0479da9a410e4450e0dd7ae4c6e2910900575da401fc07059f"
	  "645e8b7e9bfdef33943054ff84011493c27b3429eaedb4ed5376441a77ed4385"
	  "1ad77f16f541dfd269d50d6a5f14fb0aab1cbb4c1550be97f7ab4066193c4caa"
	  "773dad38014bd2092fa755c824bb5e54c4f36ffda9fcea70b9c6e693e148c151" },
	/* ciphertext stealing: 17 to 20 bytes */
	{ "XTS-AES-128 vector 15", WD_CIPHER_AES_XTS, X_K15, X_DUSN_15,
	  "000102030405060708090a0b0c0d0e0f10", "6c1625db4671522d3d7599601de7ca09ed" },
	{ "XTS-AES-128 vector 16", WD_CIPHER_AES_XTS, X_K15, X_DUSN_15,
	  "000102030405060708090a0b0c0d0e0f1011", "d069444b7a7e0cab09e24447d24deb1fedbf" },
	{ "XTS-AES-128 vector 17", WD_CIPHER_AES_XTS, X_K15, X_DUSN_15,
	  "000102030405060708090a0b0c0d0e0f101112", "e5df1351c0544ba1350b3363cd8ef4beedbf9d" },
	{ "XTS-AES-128 vector 18", WD_CIPHER_AES_XTS, X_K15, X_DUSN_15,
	  "000102030405060708090a0b0c0d0e0f10111213", "9d84c813f719aa2c7be3f66171c7c5c2edbf9dac" },
};

#define NKATS (sizeof(kats) / sizeof(kats[0]))
#define MAXLEN 512

struct vec {
	uint8_t key[64], iv[16], pt[MAXLEN], ct[MAXLEN];
	size_t key_len, len;
	uint8_t out[2][MAXLEN];     /* async: encrypt, decrypt */
};

static void load(const struct kat *k, struct vec *v)
{
	size_t i;

	v->key_len = t_hex(k->key, v->key);
	T_EQ(t_hex(k->iv, v->iv), 16);
	v->len = t_hex(k->ct, v->ct);
	if (k->pt) {
		T_EQ(t_hex(k->pt, v->pt), v->len);
	} else {
		for (i = 0; i < v->len; i++)
			v->pt[i] = (uint8_t)i; /* 00..ff, twice */
	}
}

static void check(const char *name, const char *what, const uint8_t *got, const uint8_t *want,
		  size_t len)
{
	if (memcmp(got, want, len))
		T_FAIL("%s: %s differs", name, what);
}

/* Synchronous, out of place and in place. */
static void run_sync(struct wd_cipher_sess *s, const struct kat *k, struct vec *v)
{
	uint8_t buf[MAXLEN];

	T_OK(wd_encrypt(s, v->iv, v->pt, buf, v->len));
	check(k->name, "encrypt", buf, v->ct, v->len);
	T_OK(wd_decrypt(s, v->iv, v->ct, buf, v->len));
	check(k->name, "decrypt", buf, v->pt, v->len);
	memcpy(buf, v->pt, v->len);
	T_OK(wd_encrypt(s, v->iv, buf, buf, v->len));
	check(k->name, "encrypt in place", buf, v->ct, v->len);
	T_OK(wd_decrypt(s, v->iv, buf, buf, v->len));
	check(k->name, "decrypt in place", buf, v->pt, v->len);
}

int main(void)
{
	static struct vec v[NKATS];
	struct wd_cipher_sess *s[NKATS];
	struct wd_req r[2 * NKATS];
	struct wd_cpl c[2 * NKATS];
	struct wd_ctx *ctx = t_ctx(1, 0);
	struct wd_queue *q = t_queue(ctx, "cipher", 64);
	unsigned i, got = 0;
	int n;

	for (i = 0; i < NKATS; i++) {
		load(&kats[i], &v[i]);
		s[i] = t_sess(q, kats[i].alg, v[i].key, v[i].key_len);
		run_sync(s[i], &kats[i], &v[i]);
	}
	/* every vector both ways in one batch: one doorbell, sessions mixed */
	for (i = 0; i < NKATS; i++) {
		wd_prep_encrypt(&r[2 * i], s[i], v[i].iv, (uintptr_t)v[i].pt,
				(uintptr_t)v[i].out[0], (uint32_t)v[i].len);
		wd_prep_decrypt(&r[2 * i + 1], s[i], v[i].iv, (uintptr_t)v[i].ct,
				(uintptr_t)v[i].out[1], (uint32_t)v[i].len);
		r[2 * i].tag = 2 * i;
		r[2 * i + 1].tag = 2 * i + 1;
	}
	T_EQ(wd_send(q, r, 2 * NKATS), 2 * NKATS);
	while (got < 2 * NKATS) {
		n = (int)T_OK(wd_wait(q, c, 2 * NKATS, 5000));
		for (i = 0; i < (unsigned)n; i++) {
			unsigned t = (unsigned)c[i].tag;

			T_ASSERT(t < 2 * NKATS);
			T_EQ(c[i].status, 0);
			T_EQ(c[i].result, v[t / 2].len);
		}
		got += (unsigned)n;
	}
	for (i = 0; i < NKATS; i++) {
		check(kats[i].name, "async encrypt", v[i].out[0], v[i].ct, v[i].len);
		check(kats[i].name, "async decrypt", v[i].out[1], v[i].pt, v[i].len);
		wd_cipher_sess_free(s[i]);
	}
	wd_queue_free(q);

	/* a queue opened for one mode works the same */
	q = t_queue(ctx, "aes-xts", 8);
	load(&kats[NKATS - 1], &v[0]);
	s[0] = t_sess(q, WD_CIPHER_AES_XTS, v[0].key, v[0].key_len);
	run_sync(s[0], &kats[NKATS - 1], &v[0]);
	wd_cipher_sess_free(s[0]);
	wd_queue_free(q);
	wd_ctx_free(ctx);
	return 0;
}
