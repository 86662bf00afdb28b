/* SPDX-License-Identifier: MIT */
/* wd bench crypto's AEAD rows (bench_aead.c). */
#ifndef WD_BENCH_AEAD_H
#define WD_BENCH_AEAD_H

#include <stdint.h>
#include <stdio.h>
#include <wd/wd.h>

#define BENCH_AEAD_NMODES 2
#define BENCH_AEAD_NSIZES 4
#define BENCH_AEAD_REPS 5

struct bench_aead_in {
	const uint8_t *key;             /* 32 bytes */
	const uint8_t *src;             /* 64 KiB + 16 (the AAD after the text) */
	uint8_t *dst;                   /* 64 KiB */
	double min_time;
};

/* MB/s by mode and size: wd_aead_encrypt, EVP direct. */
struct bench_aead {
	double wd[BENCH_AEAD_NMODES][BENCH_AEAD_NSIZES];
	double evp[BENCH_AEAD_NMODES][BENCH_AEAD_NSIZES];
};

int bench_aead_run(struct wd_ctx *ctx, const struct bench_aead_in *in, struct bench_aead *out);
void bench_aead_print(const struct bench_aead *a);
/* The "aead_sync" member of the JSON object (no comma around it). */
void bench_aead_json(FILE *jf, const struct bench_aead *a);

#endif
