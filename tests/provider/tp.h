/* SPDX-License-Identifier: MIT */
/*
 * Helpers for the provider tests: a library context with the wd provider
 * (configured through an openssl.cnf written by the test, so each context
 * has its own settings) beside OpenSSL's default provider, the reference
 * every result is checked against; the provider's statistics; a seeded
 * random generator whose seed is printed.
 */
#ifndef TP_H
#define TP_H

#include <inttypes.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/provider.h>

#include "../t_helpers.h"

struct tp {
	OSSL_LIB_CTX *lc;
	OSSL_PROVIDER *wd, *def;
	char conf[256];
};

/* Write an openssl.cnf loading wd from moddir with extra lines for its
 * section ("threshold = 0\n..."), and the default provider. */
static inline void tp_write_conf(const char *path, const char *moddir, const char *extra)
{
	FILE *f = fopen(path, "w");

	T_ASSERT(f);
	fprintf(f, "openssl_conf = tp_init\n[tp_init]\nproviders = tp_prov\n"
		   "[tp_prov]\nwd = tp_wd\ndefault = tp_def\n"
		   "[tp_wd]\nmodule = %s/wd.so\nactivate = 1\n%s\n"
		   "[tp_def]\nactivate = 1\n", moddir, extra ? extra : "");
	T_ASSERT(!fclose(f));
}

static inline void tp_open(struct tp *t, const char *moddir, const char *extra)
{
	static int n;
	char abs[4096];

	if (realpath(moddir, abs))
		moddir = abs;
	memset(t, 0, sizeof(*t));
	snprintf(t->conf, sizeof(t->conf), "/tmp/tp-%d-%d.cnf", (int)getpid(), n++);
	tp_write_conf(t->conf, moddir, extra);
	t->lc = OSSL_LIB_CTX_new();
	T_ASSERT(t->lc);
	if (!OSSL_LIB_CTX_load_config(t->lc, t->conf)) {
		ERR_print_errors_fp(stderr);
		T_FAIL("cannot load %s", t->conf);
	}
	t->wd = OSSL_PROVIDER_load(t->lc, "wd");
	t->def = OSSL_PROVIDER_load(t->lc, "default");
	if (!t->wd || !t->def) {
		ERR_print_errors_fp(stderr);
		T_FAIL("providers not loaded from %s", t->conf);
	}
	unlink(t->conf);
}

static inline void tp_close(struct tp *t)
{
	OSSL_PROVIDER_unload(t->wd);
	OSSL_PROVIDER_unload(t->def);
	OSSL_LIB_CTX_free(t->lc);
}

static inline EVP_CIPHER *tp_fetch(struct tp *t, const char *name, int wd)
{
	return EVP_CIPHER_fetch(t->lc, name, wd ? "provider=wd" : "provider=default");
}

/* The provider's statistics line. */
static inline void tp_stats(struct tp *t, char *buf, size_t len)
{
	OSSL_PARAM p[2];

	p[0] = OSSL_PARAM_construct_utf8_string("wd-stats", buf, len);
	p[1] = OSSL_PARAM_construct_end();
	T_ASSERT(OSSL_PROVIDER_get_params(t->wd, p));
}

/* A counter of a statistics line ("ops.wd"), 0 when absent. */
static inline unsigned long long tp_stat(const char *line, const char *name)
{
	char key[64];
	const char *p;

	snprintf(key, sizeof(key), " %s=", name);
	p = strstr(line, key);
	return p ? strtoull(p + strlen(key), NULL, 10) : 0;
}

/* ---- random, reproducible: TP_SEED=n repeats a run ---- */

static uint64_t tp_rng_state;

static inline void tp_seed(const char *test)
{
	const char *s = getenv("TP_SEED");

	tp_rng_state = s ? strtoull(s, NULL, 0) : (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
	if (!tp_rng_state)
		tp_rng_state = 1;
	printf("%s: TP_SEED=%" PRIu64 "\n", test, tp_rng_state);
	fflush(stdout);
}

static inline uint64_t tp_rand(void)
{
	uint64_t x = tp_rng_state;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	tp_rng_state = x;
	return x * 0x2545F4914F6CDD1Dull;
}

static inline void tp_fill(uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		p[i] = (uint8_t)(tp_rand() >> 56);
}

/* Hex into bytes; returns the count. */
static inline size_t tp_hex(const char *h, uint8_t *out)
{
	size_t n = 0;
	unsigned v;

	for (; h[0] && h[1]; h += 2) {
		T_ASSERT(sscanf(h, "%2x", &v) == 1);
		out[n++] = (uint8_t)v;
	}
	return n;
}

/* A wdd daemon (bin) on a socket of its own, in WD_WDD_SOCKET; sock gets
 * its path.  tp_wdd_stop kills it and removes the socket. */
static inline pid_t tp_wdd_start(const char *bin, char *sock, size_t len)
{
	char dir[] = "/tmp/tp_wdd-XXXXXX";
	struct stat st;
	pid_t pid;
	int i;

	T_ASSERT(mkdtemp(dir));
	snprintf(sock, len, "%s/wdd.sock", dir);
	pid = fork();
	T_ASSERT(pid >= 0);
	if (!pid) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		execl(bin, bin, "-f", "-s", sock, "-t", "2", (char *)NULL);
		_exit(127);
	}
	for (i = 0; i < 500 && stat(sock, &st); i++)
		usleep(10000);
	T_ASSERT(i < 500);
	setenv("WD_WDD_SOCKET", sock, 1);
	return pid;
}

static inline void tp_wdd_stop(pid_t pid, char *sock)
{
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	unlink(sock);
	*strrchr(sock, '/') = '\0';
	rmdir(sock);
}

/* The OpenSSL errors queued, on stderr; whether any was there. */
static inline int tp_errors(const char *what)
{
	unsigned long e = ERR_peek_error();

	if (!e)
		return 0;
	fprintf(stderr, "%s: OpenSSL errors:\n", what);
	ERR_print_errors_fp(stderr);
	return 1;
}

#endif
