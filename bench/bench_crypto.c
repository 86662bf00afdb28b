/* SPDX-License-Identifier: MIT */
/*
 * wd bench crypto: AES encryption through one soft queue (one engine
 * thread, a few requests in flight, reaped by wd_wait) next to OpenSSL's
 * EVP called directly on this thread with the very calls the engine makes
 * per request (set the IV on a keyed context, update, final).  The gap is
 * what the queue costs; at small sizes it is the per-request overhead.
 * Modes AES-128-CBC, AES-128-CTR and AES-256-XTS, messages of 64 B, 4 KiB
 * and 64 KiB, each IV different.  Then AES-GCM through the synchronous
 * wd_aead_encrypt() against EVP (bench_aead.c).  Each measurement runs
 * several times, interleaved, and the median is kept.  Figures are
 * reported, never asserted.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <wd/crypto.h>
#include <wd/wd.h>

#include "../tools/wd_cli.h"
#include "bench_aead.h"
#include "bench_util.h"

#define REPS 5
#define INFLIGHT 16             /* requests in flight on the queue */
#define NMODES 3
#define NSIZES 3
#define MAX_MSG (64u << 10)

static const struct mode {
	const char *name, *id;
	enum wd_cipher_alg alg;
	size_t key_len;
} modes[NMODES] = {
	{ "AES-128-CBC", "aes_128_cbc", WD_CIPHER_AES_CBC, 16 },
	{ "AES-128-CTR", "aes_128_ctr", WD_CIPHER_AES_CTR, 16 },
	{ "AES-256-XTS", "aes_256_xts", WD_CIPHER_AES_XTS, 64 },
};

static const size_t sizes[NSIZES] = { 64, 4u << 10, 64u << 10 };
static const char *const size_names[NSIZES] = { "64 B", "4 KiB", "64 KiB" };

struct bench {
	struct wd_queue *q;
	uint8_t *src, *dst;     /* INFLIGHT message slots each */
	uint8_t key[64];
	double min_time;
};

static const EVP_CIPHER *evp(const struct mode *m)
{
	switch (m->alg) {
	case WD_CIPHER_AES_CBC:
		return EVP_aes_128_cbc();
	case WD_CIPHER_AES_CTR:
		return EVP_aes_128_ctr();
	default:
		return EVP_aes_256_xts();
	}
}

/* Messages per timed run: about min_time at a rough 1 GB/s, at least 1000. */
static size_t count_for(const struct bench *b, size_t len)
{
	size_t n = (size_t)(b->min_time * 1e9 / (double)(len + 256));

	return n < 1000 ? 1000 : n;
}

/* MB/s encrypting n messages of len bytes through the queue; -1 on failure. */
static double run_queue(struct bench *b, struct wd_cipher_sess *s, size_t len, size_t n)
{
	struct wd_req r[INFLIGHT];
	struct wd_cpl c[INFLIGHT];
	size_t sent = 0, done = 0;
	uint64_t iv[2] = { 0, 0 };
	double t0 = bench_now();
	unsigned k, i;
	int got;

	while (done < n) {
		/* top up to INFLIGHT in one doorbell */
		for (k = 0; sent + k < n && (unsigned)wd_inflight(b->q) + k < INFLIGHT; k++) {
			size_t slot = (sent + k) % INFLIGHT;

			iv[0] = sent + k;
			wd_prep_encrypt(&r[k], s, iv, (uintptr_t)(b->src + slot * MAX_MSG),
					(uintptr_t)(b->dst + slot * MAX_MSG), (uint32_t)len);
			r[k].tag = sent + k;
		}
		if (k && wd_send(b->q, r, k) != (int)k)
			return -1;
		sent += k;
		/* reap down to half full, so sends go in batches: one doorbell
		 * and one cache-line handover per batch, not per request */
		do {
			got = wd_wait(b->q, c, INFLIGHT, -1); /* spins a little, then sleeps */
			if (got < 0)
				return -1;
			for (i = 0; i < (unsigned)got; i++)
				if (c[i].status)
					return -1;
			done += (size_t)got;
		} while (wd_inflight(b->q) > INFLIGHT / 2);
	}
	return (double)(n * len) / (bench_now() - t0) / 1e6;
}

/* The same work with EVP on this thread: one keyed context, IV per message. */
static double run_direct(struct bench *b, EVP_CIPHER_CTX *x, size_t len, size_t n)
{
	uint64_t iv[2] = { 0, 0 };
	double t0 = bench_now();
	size_t i;
	int o;

	for (i = 0; i < n; i++) {
		size_t slot = i % INFLIGHT;

		iv[0] = i;
		if (!EVP_CipherInit_ex(x, NULL, NULL, NULL, (uint8_t *)iv, -1) ||
		    !EVP_CipherUpdate(x, b->dst + slot * MAX_MSG, &o, b->src + slot * MAX_MSG,
				      (int)len) ||
		    !EVP_CipherFinal_ex(x, b->dst + slot * MAX_MSG + o, &o))
			return -1;
	}
	return (double)(n * len) / (bench_now() - t0) / 1e6;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: wd bench crypto [-t SECONDS] [-j FILE] [-q]\n"
		   "  -t SECONDS  length of one measurement (default 0.2)\n"
		   "  -j FILE     also write the figures as JSON to FILE\n"
		   "  -q          JSON only, on stdout\n");
}

static int setup(struct bench *b, struct wd_ctx **ctx)
{
	struct wd_ctx_opts co = { .size = sizeof(co), .soft_threads = 1, .soft_idle_us = 2000 };
	struct wd_queue_opts qo = { .size = sizeof(qo), .depth = 64 };
	uint64_t seed = 0x5eed;
	size_t i;
	int ret;

	b->src = malloc(INFLIGHT * MAX_MSG + 16); /* + the AEAD rows' AAD */
	b->dst = malloc(INFLIGHT * MAX_MSG);
	if (!b->src || !b->dst)
		return -ENOMEM;
	for (i = 0; i < INFLIGHT * MAX_MSG + 16; i++) {
		seed = seed * 6364136223846793005ull + 1442695040888963407ull;
		b->src[i] = (uint8_t)(seed >> 56);
	}
	for (i = 0; i < sizeof(b->key); i++)
		b->key[i] = (uint8_t)(i * 37 + 11); /* XTS halves differ */
	ret = wd_ctx_new(ctx, &co);
	if (!ret)
		ret = wd_queue_new(&b->q, *ctx, "cipher", &qo);
	return ret;
}

int wd_bench_crypto(int argc, char **argv)
{
	struct bench b = { .min_time = 0.2 };
	double mq[NMODES][NSIZES], md[NMODES][NSIZES];
	struct bench_aead aead;
	const char *json = NULL;
	struct wd_ctx *ctx = NULL;
	int opt, quiet = 0, ret, m, z, r;
	FILE *jf = NULL;

	while ((opt = getopt(argc, argv, "t:j:qh")) != -1) {
		switch (opt) {
		case 't':
			b.min_time = strtod(optarg, NULL);
			if (b.min_time < 0.01)
				b.min_time = 0.01;
			break;
		case 'j':
			json = optarg;
			break;
		case 'q':
			quiet = 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	ret = setup(&b, &ctx);
	if (ret)
		return wd_cli_fail("cannot set up a cipher queue", ret);
	if (!quiet)
		fprintf(stderr, "measuring: %d interleaved runs of about %.2f s each...\n", REPS,
			b.min_time);
	for (m = 0; m < NMODES && !ret; m++) {
		struct wd_cipher_sess *s = NULL;
		EVP_CIPHER_CTX *x = EVP_CIPHER_CTX_new();

		ret = wd_cipher_sess_new(&s, b.q, modes[m].alg, b.key, modes[m].key_len);
		if (ret || !x || !EVP_EncryptInit_ex(x, evp(&modes[m]), NULL, b.key, NULL) ||
		    !EVP_CIPHER_CTX_set_padding(x, 0)) {
			ret = ret ? ret : -EIO;
			EVP_CIPHER_CTX_free(x);
			break;
		}
		for (z = 0; z < NSIZES && !ret; z++) {
			double q[REPS], d[REPS];
			size_t n = count_for(&b, sizes[z]);

			for (r = 0; r < REPS; r++) {
				q[r] = run_queue(&b, s, sizes[z], n);
				d[r] = run_direct(&b, x, sizes[z], n);
				if (q[r] < 0 || d[r] < 0)
					ret = -EIO;
			}
			mq[m][z] = bench_median(q, REPS);
			md[m][z] = bench_median(d, REPS);
		}
		wd_cipher_sess_free(s);
		EVP_CIPHER_CTX_free(x);
	}
	if (!ret) {
		struct bench_aead_in in = { b.key, b.src, b.dst, b.min_time };

		ret = bench_aead_run(ctx, &in, &aead);
	}
	wd_queue_free(b.q);
	wd_ctx_free(ctx);
	free(b.src);
	free(b.dst);
	if (ret)
		return wd_cli_fail("bench crypto: a measurement failed", ret);

	if (!quiet) {
		printf("\nwd bench crypto: encryption, 1 soft queue (1 engine thread, %d in flight)"
		       " vs OpenSSL EVP direct (1 thread), median of %d runs\n\n",
		       INFLIGHT, REPS);
		printf("%-12s %8s %14s %14s %10s\n", "mode", "message", "queue MB/s", "OpenSSL MB/s",
		       "ratio");
		for (m = 0; m < NMODES; m++)
			for (z = 0; z < NSIZES; z++)
				printf("%-12s %8s %14.1f %14.1f %9.2fx\n", modes[m].name, size_names[z],
				       mq[m][z], md[m][z], mq[m][z] / md[m][z]);
		printf("\n");
		bench_aead_print(&aead);
	}
	if (json)
		jf = fopen(json, "w");
	else if (quiet)
		jf = stdout;
	if (json && !jf) {
		fprintf(stderr, "wd: cannot write %s: %s\n", json, strerror(errno));
		return 1;
	}
	if (jf) {
		fprintf(jf, "{\n  \"bench\": \"crypto\",\n  \"runs\": %d,\n  \"inflight\": %d,\n"
			    "  \"results\": [",
			REPS, INFLIGHT);
		for (m = 0; m < NMODES; m++)
			for (z = 0; z < NSIZES; z++)
				fprintf(jf,
					"%s\n    {\"mode\": \"%s\", \"bytes\": %zu, \"queue_mbps\": %.1f, "
					"\"openssl_mbps\": %.1f, \"queue_vs_openssl\": %.3f}",
					m || z ? "," : "", modes[m].id, sizes[z], mq[m][z], md[m][z],
					mq[m][z] / md[m][z]);
		fprintf(jf, "\n  ],\n");
		bench_aead_json(jf, &aead);
		fprintf(jf, "\n}\n");
		if (jf != stdout)
			fclose(jf);
	}
	return 0;
}
