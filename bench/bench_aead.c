/* SPDX-License-Identifier: MIT */
/*
 * wd bench crypto, the AEAD rows: AES-128-GCM and AES-256-GCM messages
 * through the synchronous wd_aead_encrypt() on a soft queue (run in the
 * calling thread: see wd_encrypt(3)) next to OpenSSL's EVP called directly
 * with the calls an application makes per message (set the IV on a keyed
 * context, AAD, update, final, get the tag).  16 bytes of AAD, a 12-byte
 * IV different for each message, 16-byte tags; messages of 64 B to 64 KiB.
 * Each measurement runs several times, interleaved, and the median is
 * kept.  Figures are reported, never asserted.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>
#include <wd/crypto.h>

#include "bench_aead.h"
#include "bench_util.h"

#define AAD_LEN 16

static const struct {
	const char *name, *id;
	size_t key_len;
} modes[BENCH_AEAD_NMODES] = {
	{ "AES-128-GCM", "aes_128_gcm", 16 },
	{ "AES-256-GCM", "aes_256_gcm", 32 },
};

static const size_t sizes[BENCH_AEAD_NSIZES] = { 64, 1u << 10, 16u << 10, 64u << 10 };
static const char *const size_names[BENCH_AEAD_NSIZES] = { "64 B", "1 KiB", "16 KiB", "64 KiB" };

static size_t count_for(double min_time, size_t len)
{
	size_t n = (size_t)(min_time * 1e9 / (double)(len + 512));

	return n < 1000 ? 1000 : n;
}

static double run_wd(struct wd_cipher_sess *s, const uint8_t *src, uint8_t *dst, size_t len,
		     size_t n)
{
	uint8_t iv[12] = { 0 }, tag[16];
	double t0 = bench_now();
	size_t i;

	for (i = 0; i < n; i++) {
		memcpy(iv, &i, sizeof(i));
		if (wd_aead_encrypt(s, iv, sizeof(iv), src + len, AAD_LEN, src, dst, len, tag,
				    sizeof(tag)))
			return -1;
	}
	return (double)(n * len) / (bench_now() - t0) / 1e6;
}

static double run_evp(EVP_CIPHER_CTX *x, const uint8_t *src, uint8_t *dst, size_t len, size_t n)
{
	uint8_t iv[12] = { 0 }, tag[16];
	double t0 = bench_now();
	size_t i;
	int o;

	for (i = 0; i < n; i++) {
		memcpy(iv, &i, sizeof(i));
		if (!EVP_EncryptInit_ex(x, NULL, NULL, NULL, iv) ||
		    !EVP_EncryptUpdate(x, NULL, &o, src + len, AAD_LEN) ||
		    !EVP_EncryptUpdate(x, dst, &o, src, (int)len) ||
		    !EVP_EncryptFinal_ex(x, dst + o, &o) ||
		    EVP_CIPHER_CTX_ctrl(x, EVP_CTRL_GCM_GET_TAG, sizeof(tag), tag) <= 0)
			return -1;
	}
	return (double)(n * len) / (bench_now() - t0) / 1e6;
}

static int one_mode(struct wd_queue *q, const struct bench_aead_in *in, int m,
		    struct bench_aead *out)
{
	const EVP_CIPHER *c = modes[m].key_len == 16 ? EVP_aes_128_gcm() : EVP_aes_256_gcm();
	EVP_CIPHER_CTX *x = EVP_CIPHER_CTX_new();
	struct wd_cipher_sess *s = NULL;
	double w[BENCH_AEAD_REPS], d[BENCH_AEAD_REPS];
	int ret, z, r;

	ret = wd_cipher_sess_new(&s, q, WD_CIPHER_AES_GCM, in->key, modes[m].key_len);
	if (!ret && (!x || !EVP_EncryptInit_ex(x, c, NULL, in->key, NULL)))
		ret = -EIO;
	for (z = 0; z < BENCH_AEAD_NSIZES && !ret; z++) {
		size_t n = count_for(in->min_time, sizes[z]);

		for (r = 0; r < BENCH_AEAD_REPS; r++) {
			w[r] = run_wd(s, in->src, in->dst, sizes[z], n);
			d[r] = run_evp(x, in->src, in->dst, sizes[z], n);
			if (w[r] < 0 || d[r] < 0)
				ret = -EIO;
		}
		out->wd[m][z] = bench_median(w, BENCH_AEAD_REPS);
		out->evp[m][z] = bench_median(d, BENCH_AEAD_REPS);
	}
	wd_cipher_sess_free(s);
	EVP_CIPHER_CTX_free(x);
	return ret;
}

int bench_aead_run(struct wd_ctx *ctx, const struct bench_aead_in *in, struct bench_aead *out)
{
	struct wd_queue_opts qo = { .size = sizeof(qo), .depth = 8, .device = "soft0" };
	struct wd_queue *q = NULL;
	int ret, m;

	ret = wd_queue_new(&q, ctx, "aes-gcm", &qo);
	for (m = 0; m < BENCH_AEAD_NMODES && !ret; m++)
		ret = one_mode(q, in, m, out);
	wd_queue_free(q);
	return ret;
}

void bench_aead_print(const struct bench_aead *a)
{
	int m, z;

	printf("AEAD, synchronous: wd_aead_encrypt on soft0 (run in the calling thread) vs "
	       "OpenSSL EVP direct, %d-byte AAD, median of %d runs\n\n", AAD_LEN,
	       BENCH_AEAD_REPS);
	printf("%-12s %8s %14s %14s %10s\n", "mode", "message", "wd MB/s", "OpenSSL MB/s",
	       "ratio");
	for (m = 0; m < BENCH_AEAD_NMODES; m++)
		for (z = 0; z < BENCH_AEAD_NSIZES; z++)
			printf("%-12s %8s %14.1f %14.1f %9.2fx\n", modes[m].name, size_names[z],
			       a->wd[m][z], a->evp[m][z], a->wd[m][z] / a->evp[m][z]);
	printf("\n");
}

void bench_aead_json(FILE *jf, const struct bench_aead *a)
{
	int m, z;

	fprintf(jf, "  \"aead_sync\": [");
	for (m = 0; m < BENCH_AEAD_NMODES; m++)
		for (z = 0; z < BENCH_AEAD_NSIZES; z++)
			fprintf(jf,
				"%s\n    {\"mode\": \"%s\", \"bytes\": %zu, \"aad_bytes\": %d, "
				"\"wd_mbps\": %.1f, \"openssl_mbps\": %.1f, \"wd_vs_openssl\": %.3f}",
				m || z ? "," : "", modes[m].id, sizes[z], AAD_LEN, a->wd[m][z],
				a->evp[m][z], a->wd[m][z] / a->evp[m][z]);
	fprintf(jf, "\n  ]");
}
