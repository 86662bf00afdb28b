/* SPDX-License-Identifier: MIT */
/*
 * wd bench provider: OpenSSL's EVP with the wd provider next to EVP with
 * OpenSSL's default provider, per mode and size, in one run: the figures a
 * program using OpenSSL sees.  Two provider settings: its defaults (small
 * operations go to the default provider: what users get), and threshold 0
 * (everything through a queue: what a queue costs, where the crossover
 * the default threshold comes from is read).  CBC, CTR and XTS run as
 * `openssl speed` does (one context, Update after Update; XTS one data
 * unit per call); GCM one message per operation (new IV, text, Final,
 * tag), as TLS records.  Runs are interleaved, the median of several kept.
 * Figures are reported, never asserted.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/provider.h>

#include "../tools/wd_cli.h"
#include "bench_util.h"

#define REPS_MAX 31
#define MAX_MSG (64u << 10)
#define NSIZES 7
#define NMODES 6
#define NPLACES 3               /* default provider, wd defaults, wd threshold 0 */

static const size_t sizes[NSIZES] = { 16, 64, 256, 1024, 4096, 16384, 65536 };

static const struct mode {
	const char *label, *id, *cipher;
	int enc, message;
} modes[NMODES] = {
	{ "AES-128-CBC enc", "aes_128_cbc_enc", "AES-128-CBC", 1, 0 },
	{ "AES-128-CBC dec", "aes_128_cbc_dec", "AES-128-CBC", 0, 0 },
	{ "AES-128-CTR", "aes_128_ctr", "AES-128-CTR", 1, 0 },
	{ "AES-256-XTS enc", "aes_256_xts_enc", "AES-256-XTS", 1, 0 },
	{ "AES-256-XTS dec", "aes_256_xts_dec", "AES-256-XTS", 0, 0 },
	{ "AES-128-GCM enc", "aes_128_gcm_enc", "AES-128-GCM", 1, 1 },
};

struct place {
	OSSL_LIB_CTX *lc;
	OSSL_PROVIDER *prov, *def;
	const char *propq;
};

static uint8_t *src, *dst;
static uint8_t key[64];
static double min_time = 0.05;
static int reps = 9;

/* A library context with the default provider and, unless wd_conf is
 * NULL, the wd provider from moddir with those settings. */
static int place_open(struct place *p, const char *moddir, const char *wd_conf)
{
	char path[64];
	FILE *f;
	int ok;

	memset(p, 0, sizeof(*p));
	p->lc = OSSL_LIB_CTX_new();
	if (!p->lc)
		return -ENOMEM;
	p->propq = wd_conf ? "provider=wd" : "provider=default";
	if (wd_conf) {
		snprintf(path, sizeof(path), "/tmp/wd-bench-prov-%d.cnf", (int)getpid());
		f = fopen(path, "w");
		if (!f)
			return -errno;
		fprintf(f, "openssl_conf = i\n[i]\nproviders = p\n[p]\nwd = w\n[w]\n"
			   "module = %s/wd.so\nactivate = 1\n%s\n", moddir, wd_conf);
		fclose(f);
		ok = OSSL_LIB_CTX_load_config(p->lc, path);
		unlink(path);
		p->prov = ok ? OSSL_PROVIDER_load(p->lc, "wd") : NULL;
		if (!p->prov)
			return -ENOENT;
	}
	p->def = OSSL_PROVIDER_load(p->lc, "default");
	return p->def ? 0 : -ENOENT;
}

static void place_close(struct place *p)
{
	if (p->prov)
		OSSL_PROVIDER_unload(p->prov);
	if (p->def)
		OSSL_PROVIDER_unload(p->def);
	OSSL_LIB_CTX_free(p->lc);
}

/* n operations of len bytes; -1 on a failure. */
static int ops(EVP_CIPHER_CTX *x, const struct mode *m, size_t len, size_t n)
{
	uint8_t iv[12] = { 0 }, tag[16];
	size_t i;
	int o;

	for (i = 0; i < n; i++) {
		size_t off = (i & 15) * 16; /* stay in the cache, avoid one line */

		if (m->message) {
			memcpy(iv, &i, sizeof(i) < 12 ? sizeof(i) : 12);
			if (!EVP_CipherInit_ex2(x, NULL, NULL, iv, m->enc, NULL) ||
			    !EVP_CipherUpdate(x, dst + off, &o, src + off, (int)len) ||
			    !EVP_CipherFinal_ex(x, dst + off + o, &o) ||
			    !EVP_CIPHER_CTX_ctrl(x, EVP_CTRL_AEAD_GET_TAG, 16, tag))
				return -1;
		} else if (!EVP_CipherUpdate(x, dst + off, &o, src + off, (int)len)) {
			return -1;
		}
	}
	return 0;
}

/* Count mode (-c): exactly n operations per call, in a function of its
 * own so that callgrind can count the instructions of each call apart
 * (bench/prov_insns.sh: --toggle-collect and --dump-after on it). */
static __attribute__((noinline, noclone)) int counted_ops(EVP_CIPHER_CTX *x,
							 const struct mode *m, size_t len,
							 size_t n)
{
	return ops(x, m, len, n);
}

static int count_one(struct place *p, const struct mode *m, size_t len, size_t n)
{
	EVP_CIPHER *c = EVP_CIPHER_fetch(p->lc, m->cipher, p->propq);
	EVP_CIPHER_CTX *x = EVP_CIPHER_CTX_new();
	uint8_t iv[16] = { 1 };
	int ret = -1;

	if (c && x && EVP_CipherInit_ex2(x, c, key, iv, m->enc, NULL) &&
	    EVP_CIPHER_CTX_set_padding(x, 0) && !ops(x, m, len, 16)) /* warm */
		ret = counted_ops(x, m, len, n);
	EVP_CIPHER_CTX_free(x);
	EVP_CIPHER_free(c);
	return ret;
}

/* Each mode and size up to 1 KiB, default provider then wd: one counted
 * call each, in the order of the lines printed. */
static int count_all(struct place *pl, size_t n)
{
	int m, z, k;

	for (m = 0; m < NMODES; m++)
		for (z = 0; z < NSIZES && sizes[z] <= 1024; z++)
			for (k = 0; k < 2; k++) {
				printf("count %s %zu %s %zu\n", modes[m].id, sizes[z],
				       k ? "wd" : "default", n);
				fflush(stdout);
				if (count_one(&pl[k], &modes[m], sizes[z], n))
					return -EIO;
			}
	return 0;
}

/* MB/s of one run of about min_time seconds. */
static double run(struct place *p, const struct mode *m, size_t len, size_t *n)
{
	EVP_CIPHER *c = EVP_CIPHER_fetch(p->lc, m->cipher, p->propq);
	EVP_CIPHER_CTX *x = EVP_CIPHER_CTX_new();
	uint8_t iv[16] = { 1 };
	double t0, t = -1;

	if (!c || !x || !EVP_CipherInit_ex2(x, c, key, iv, m->enc, NULL))
		goto out;
	EVP_CIPHER_CTX_set_padding(x, 0);
	if (!*n) { /* calibrate: about a tenth of the time */
		size_t k = 16;

		t0 = bench_now();
		while (bench_now() - t0 < min_time / 10) {
			if (ops(x, m, len, k))
				goto out;
			*n += k;
		}
		*n = *n * 10 + 1;
	}
	t0 = bench_now();
	if (ops(x, m, len, *n))
		goto out;
	t = (double)(*n * len) / (bench_now() - t0) / 1e6;
out:
	EVP_CIPHER_CTX_free(x);
	EVP_CIPHER_free(c);
	return t;
}

static void stats_line(struct place *p, char *buf, size_t len)
{
	OSSL_PARAM q[2] = { OSSL_PARAM_utf8_string("wd-stats", buf, len), OSSL_PARAM_END };

	if (!p->prov || !OSSL_PROVIDER_get_params(p->prov, q))
		snprintf(buf, len, "-");
}

/* Where wd.so is: -m, $WD_PROV_MODULES, the build tree, the install. */
static const char *module_dir(const char *given)
{
	static const char *const dirs[] = { WD_PROVIDER_BUILD_DIR, WD_PROVIDER_INSTALL_DIR };
	static char path[4096];
	const char *env = getenv("WD_PROV_MODULES");
	unsigned i;

	if (given)
		return given;
	if (env && *env)
		return env;
	for (i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		snprintf(path, sizeof(path), "%s/wd.so", dirs[i]);
		if (!access(path, R_OK))
			return dirs[i];
	}
	return NULL;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: wd bench provider [-t SECONDS] [-r RUNS] [-m DIR] [-j FILE] [-q] [-c N]\n"
		   "  -t SECONDS  length of one measurement (default 0.05)\n"
		   "  -r RUNS     interleaved runs per figure, the median kept (default 9)\n"
		   "  -m DIR      directory holding wd.so (default: the build tree, then %s)\n"
		   "  -j FILE     also write the figures as JSON to FILE\n"
		   "  -q          JSON only, on stdout\n"
		   "  -c N         count mode: N operations per mode and size up to 1 KiB, no\n"
		   "              timing (for callgrind: bench/prov_insns.sh)\n",
		   WD_PROVIDER_INSTALL_DIR);
}

static void report(FILE *jf, int quiet, double mb[NMODES][NSIZES][NPLACES], const char *lines)
{
	int m, z;

	if (!quiet) {
		printf("\nwd bench provider: EVP through the wd provider vs OpenSSL's default "
		       "provider, 1 thread, median of %d runs (MB/s)\n", reps);
		printf("wd: provider defaults; wd-queue: threshold 0, every operation through a "
		       "soft0 queue\n\n");
		printf("%-16s %8s %10s %10s %7s %10s %7s\n", "mode", "bytes", "default", "wd",
		       "ratio", "wd-queue", "ratio");
		for (m = 0; m < NMODES; m++)
			for (z = 0; z < NSIZES; z++)
				printf("%-16s %8zu %10.1f %10.1f %6.3fx %10.1f %6.3fx\n",
				       modes[m].label, sizes[z], mb[m][z][0], mb[m][z][1],
				       mb[m][z][1] / mb[m][z][0], mb[m][z][2],
				       mb[m][z][2] / mb[m][z][0]);
		printf("\n%s\n", lines);
	}
	if (!jf)
		return;
	fprintf(jf, "{\n  \"bench\": \"provider\",\n  \"runs\": %d,\n  \"results\": [", reps);
	for (m = 0; m < NMODES; m++)
		for (z = 0; z < NSIZES; z++)
			fprintf(jf, "%s\n    {\"mode\": \"%s\", \"bytes\": %zu, \"default_mbps\": %.1f, "
				    "\"wd_mbps\": %.1f, \"wd_vs_default\": %.3f, \"queue_mbps\": %.1f, "
				    "\"queue_vs_default\": %.3f}",
				m || z ? "," : "", modes[m].id, sizes[z], mb[m][z][0], mb[m][z][1],
				mb[m][z][1] / mb[m][z][0], mb[m][z][2], mb[m][z][2] / mb[m][z][0]);
	fprintf(jf, "\n  ]\n}\n");
}

int wd_bench_provider(int argc, char **argv)
{
	static double mb[NMODES][NSIZES][NPLACES];
	const char *json = NULL, *moddir = NULL;
	struct place pl[NPLACES];
	char lines[2048], line[1024];
	int opt, quiet = 0, ret = 0, m, z, r, k;
	long count = 0;
	FILE *jf = NULL;
	size_t i;

	while ((opt = getopt(argc, argv, "t:r:m:j:qc:h")) != -1) {
		switch (opt) {
		case 'c':
			count = atol(optarg);
			if (count < 1)
				count = 1;
			break;
		case 'r':
			reps = atoi(optarg);
			if (reps < 1 || reps > REPS_MAX)
				reps = reps < 1 ? 1 : REPS_MAX;
			break;
		case 't':
			min_time = strtod(optarg, NULL);
			if (min_time < 0.01)
				min_time = 0.01;
			break;
		case 'm':
			moddir = optarg;
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
	moddir = module_dir(moddir);
	if (!moddir)
		return wd_cli_fail("bench provider: wd.so not found (use -m DIR)", -ENOENT);
	src = malloc(MAX_MSG + 512);
	dst = malloc(MAX_MSG + 512);
	if (!src || !dst)
		return wd_cli_fail("bench provider", -ENOMEM);
	for (i = 0; i < MAX_MSG + 512; i++)
		src[i] = (uint8_t)(i * 131 + 7);
	for (i = 0; i < sizeof(key); i++)
		key[i] = (uint8_t)(i * 37 + 11); /* XTS halves differ */
	if (place_open(&pl[0], moddir, NULL) || place_open(&pl[1], moddir, "") ||
	    place_open(&pl[2], moddir, "threshold = 0\n"))
		return wd_cli_fail("bench provider: cannot load the providers", -ENOENT);
	if (count) {
		ret = count_all(pl, (size_t)count);
		for (k = 0; k < NPLACES; k++)
			place_close(&pl[k]);
		free(src);
		free(dst);
		return ret ? wd_cli_fail("bench provider: an operation failed", ret) : 0;
	}
	if (!quiet)
		fprintf(stderr, "measuring: %d interleaved runs of about %.2f s each, module %s...\n",
			reps, min_time, moddir);
	for (m = 0; m < NMODES && !ret; m++) {
		for (z = 0; z < NSIZES && !ret; z++) {
			double v[NPLACES][REPS_MAX];
			size_t n[NPLACES] = { 0 };

			for (r = 0; r < reps; r++)
				for (k = 0; k < NPLACES; k++)
					if ((v[k][r] = run(&pl[k], &modes[m], sizes[z], &n[k])) < 0)
						ret = -EIO;
			for (k = 0; k < NPLACES; k++)
				mb[m][z][k] = bench_median(v[k], reps);
		}
	}
	if (ret)
		return wd_cli_fail("bench provider: a measurement failed", ret);
	stats_line(&pl[1], line, sizeof(line));
	snprintf(lines, sizeof(lines), "wd:       %s\n", line);
	stats_line(&pl[2], line, sizeof(line));
	snprintf(lines + strlen(lines), sizeof(lines) - strlen(lines), "wd-queue: %s", line);
	for (k = 0; k < NPLACES; k++)
		place_close(&pl[k]);
	free(src);
	free(dst);
	if (json)
		jf = fopen(json, "w");
	else if (quiet)
		jf = stdout;
	if (json && !jf) {
		fprintf(stderr, "wd: cannot write %s: %s\n", json, strerror(errno));
		return 1;
	}
	report(jf, quiet, mb, lines);
	if (jf && jf != stdout)
		fclose(jf);
	return 0;
}
