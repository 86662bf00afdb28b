/* SPDX-License-Identifier: MIT */
/*
 * The provider on a real virtio-crypto function driven from user space
 * (vfio0), in the QEMU guest of tests/vm: WD_DEVICE=vfio0 names it, and
 * since it cannot reach process memory every request goes through the
 * queue's bounce buffer (explicit memory: shared with the device's IOMMU
 * domain, VFIO_IOMMU_MAP_DMA).  EVP AES-128-CBC and AES-256-CBC, through
 * Update calls of random sizes (partial blocks buffered), padding on and
 * off, in place and apart, pieces larger than the bounce buffer (cut into
 * requests, the chain carried across), both directions: every byte as the
 * default provider's.  The statistics show the work on vfio0's queues and
 * nothing fallen back; a mode vfio0 lacks (CTR) runs in the default
 * provider, counted unsupported:mode.  Then ASYNC_JOBs on one thread
 * (tp_async.h): pieces up to 16 KiB each in a bounce area of their own
 * ring slot, in flight together (async.max), larger ones synchronously,
 * all as the default provider.  Skips (77) where there is no
 * WD_VFIO_DEVICE (the host).
 * argv[1]: wd.so (the guest copies that file).
 */
#include <libgen.h>

#include "tp_async.h"

#define BIG (300u << 10)        /* over the 128 KiB bounce buffer */

static uint8_t in[BIG + 64], out[BIG + 64], ref[BIG + 64];

/* EVP through cipher c on x, len bytes in random Update pieces, Final. */
static size_t run(EVP_CIPHER *c, EVP_CIPHER_CTX *x, const uint8_t *key, const uint8_t *iv,
		  int enc, int pad, const uint8_t *src, uint8_t *dst, size_t len, int random)
{
	size_t off = 0, done = 0, k;
	int n;

	T_ASSERT(EVP_CipherInit_ex2(x, c, key, iv, enc, NULL));
	EVP_CIPHER_CTX_set_padding(x, pad);
	while (off < len) {
		k = random ? 1 + tp_rand() % (len - off) : len - off;
		/* in place: the output keeps pace with the input or lags it */
		if (!EVP_CipherUpdate(x, dst + done, &n, src + off, (int)k)) {
			tp_errors("update");
			T_FAIL("%s: update of %zu bytes failed", EVP_CIPHER_get0_name(c), k);
		}
		off += k;
		done += (size_t)n;
	}
	if (!EVP_CipherFinal_ex(x, dst + done, &n)) {
		tp_errors("final");
		T_FAIL("%s: final failed", EVP_CIPHER_get0_name(c));
	}
	return done + (size_t)n;
}

static void one(struct tp *t, const char *name, size_t len, int pad, int inplace)
{
	EVP_CIPHER *c = tp_fetch(t, name, 1), *d = tp_fetch(t, name, 0);
	EVP_CIPHER_CTX *x = EVP_CIPHER_CTX_new(), *y = EVP_CIPHER_CTX_new();
	uint8_t key[32], iv[16];
	size_t n, m, clen;
	int enc;

	T_ASSERT(c && d && x && y);
	if (!pad)
		len -= len % 16;
	tp_fill(key, sizeof(key));
	tp_fill(iv, sizeof(iv));
	tp_fill(in, len);
	/* encryption, then decryption of the reference's ciphertext */
	for (enc = 1, clen = len; enc >= 0; enc--) {
		if (!enc)
			memcpy(in, ref, clen); /* the ciphertext */
		memcpy(out, in, clen);
		/* random pieces apart only: in place, CBC's output lags its input */
		n = run(c, x, key, iv, enc, pad, inplace ? out : in, out, clen, !inplace);
		m = run(d, y, key, iv, enc, pad, in, ref, clen, 0);
		T_EQ(n, m);
		if (memcmp(out, ref, m))
			T_FAIL("%s %zu bytes %s, padding %s, %s: differs from the default provider",
			       name, len, enc ? "enc" : "dec", pad ? "on" : "off",
			       inplace ? "in place" : "apart");
		clen = m;
	}
	EVP_CIPHER_CTX_free(x);
	EVP_CIPHER_CTX_free(y);
	EVP_CIPHER_free(c);
	EVP_CIPHER_free(d);
}

/* Jobs of AES-CBC pieces, most up to a slot's 16 KiB, driven by poll. */
static void jobs(struct tp *t)
{
	struct tpj j[12];
	char line[1024];
	int i, most;

	tpj_tp = t;
	T_ASSERT(ASYNC_init_thread(TPJ_MAX, 0));
	for (i = 0; i < 12; i++)
		tpj_make(t, &j[i], i & 1 ? "AES-256-CBC" : "AES-128-CBC", i % 3 != 2,
			 i == 11 ? 40960 : 16384, i & 2);
	most = tpj_drive(j, 12, 0);
	tpj_check(j, 12);
	tp_stats(t, line, sizeof(line));
	printf("jobs: %s; at most %d paused at once\n", line, most);
	T_ASSERT(tp_stat(line, "async") > 0);
	T_ASSERT(tp_stat(line, "async.max") >= 2);
	tpj_free(j, 12);
	tpj_forget_ciphers();
	ASYNC_cleanup_thread();
}

int main(int argc, char **argv)
{
	static const size_t sizes[] = { 1, 16, 100, 4096, 65536, (128u << 10) + 16, BIG };
	char line[1024], moddir[4096];
	unsigned i, k;
	struct tp t;

	if (argc < 2)
		T_FAIL("usage: t_prov_vfio WD_SO");
	if (!getenv("WD_VFIO_DEVICE")) {
		printf("t_prov_vfio: SKIP: no WD_VFIO_DEVICE (runs in the guest of tests/vm)\n");
		return T_SKIP;
	}
	snprintf(moddir, sizeof(moddir), "%s", argv[1]);
	setenv("WD_DEVICE", "vfio0", 1); /* the library's own variable: the provider takes it */
	tp_seed("t_prov_vfio");
	tp_open(&t, dirname(moddir), "threshold = 0\n");
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		for (k = 0; k < 4; k++) {
			/* padding on (any length) and off (whole blocks), in place or not */
			if (sizes[i] >= 16 || (k & 1))
				one(&t, i & 1 ? "AES-256-CBC" : "AES-128-CBC", sizes[i], k & 1, k >> 1);
		}
	one(&t, "AES-128-CTR", 4096, 0, 0); /* vfio0 has no CTR */
	tp_stats(&t, line, sizeof(line));
	printf("%s\n", line);
	T_ASSERT(strstr(line, "device=vfio0"));
	T_ASSERT(tp_stat(line, "ops.wd") > 0);
	T_ASSERT(tp_stat(line, "bytes.wd") > 2 * BIG);
	T_ASSERT(!strstr(line, "fallback"));
	T_ASSERT(tp_stat(line, "why.unsupported:mode") > 0);
	if (ASYNC_is_capable())
		jobs(&t);
	tp_close(&t);
	printf("t_prov_vfio: EVP AES-CBC through wd on vfio0 (bounce buffer), as the default "
	       "provider\n");
	return 0;
}
