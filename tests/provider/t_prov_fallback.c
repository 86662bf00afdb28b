/* SPDX-License-Identifier: MIT */
/*
 * Fallback, and failing clearly when it is off:
 *   - a named device that does not exist: with fallback the work runs in
 *     the default provider (right bytes, counted fallback:nodev, and fast:
 *     the queue is not asked for again at every call); without, the EVP
 *     call fails with WarpDrive's reason on OpenSSL's error stack, while
 *     work under the threshold (not a fallback) still runs;
 *   - a daemon (wdd0) killed in the middle of a run, in place: with
 *     fallback every call still gives the right bytes; without, calls fail
 *     with a clear error; never a hang.
 * argv: MODULE_DIR WDD_BINARY
 */
#include "tp.h"

#define LEN 16384

static const char *moddir;

/* One in-place CTR call of len bytes through x, checked against d. */
static int step(EVP_CIPHER_CTX *x, EVP_CIPHER_CTX *d, size_t len)
{
	static uint8_t a[LEN], b[LEN];
	int n, m;

	tp_fill(a, len);
	memcpy(b, a, len);
	if (!EVP_EncryptUpdate(x, a, &n, a, (int)len))
		return 0;
	T_ASSERT(EVP_EncryptUpdate(d, b, &m, b, (int)len));
	T_EQ(n, m);
	if (memcmp(a, b, len))
		T_FAIL("output differs from the default provider's");
	return 1;
}

static void pair(struct tp *t, EVP_CIPHER_CTX **x, EVP_CIPHER_CTX **d)
{
	uint8_t key[32] = { 7 }, iv[16] = { 8 };
	EVP_CIPHER *c = tp_fetch(t, "AES-256-CTR", 1), *r = tp_fetch(t, "AES-256-CTR", 0);

	*x = EVP_CIPHER_CTX_new();
	*d = EVP_CIPHER_CTX_new();
	T_ASSERT(c && r && *x && *d);
	T_ASSERT(EVP_EncryptInit_ex2(*x, c, key, iv, NULL));
	T_ASSERT(EVP_EncryptInit_ex2(*d, r, key, iv, NULL));
	EVP_CIPHER_free(c);
	EVP_CIPHER_free(r);
}

static void no_device(void)
{
	EVP_CIPHER_CTX *x, *d;
	char line[1024], err[512];
	struct tp t;
	double t0;
	int i;

	tp_open(&t, moddir, "device = nosuch0\nthreshold = 1024\n");
	pair(&t, &x, &d);
	t0 = t_now();
	for (i = 0; i < 2000; i++)
		T_ASSERT(step(x, d, 4096));
	T_ASSERT(t_now() - t0 < 5);
	tp_stats(&t, line, sizeof(line));
	printf("no device, fallback: %s\n", line);
	T_EQ(tp_stat(line, "ops.wd"), 0);
	T_EQ(tp_stat(line, "why.fallback:nodev"), 2000);
	EVP_CIPHER_CTX_free(x);
	EVP_CIPHER_CTX_free(d);
	tp_close(&t);

	tp_open(&t, moddir, "device = nosuch0\nthreshold = 1024\nfallback = no\n");
	pair(&t, &x, &d);
	T_ASSERT(step(x, d, 100)); /* under the threshold: not a fallback */
	ERR_clear_error();
	T_ASSERT(!step(x, d, 4096));
	ERR_error_string_n(ERR_peek_error(), err, sizeof(err));
	printf("no device, no fallback: %s\n", err);
	T_ASSERT(strstr(err, "WarpDrive device failed"));
	ERR_print_errors_fp(stdout);
	tp_stats(&t, line, sizeof(line));
	T_EQ(tp_stat(line, "errors"), 1);
	EVP_CIPHER_CTX_free(x);
	EVP_CIPHER_CTX_free(d);
	tp_close(&t);
}

/* Calls through wdd0 in place; the daemon is killed after `kill_at`. */
static void daemon_dies(const char *wdd, int fallback)
{
	EVP_CIPHER_CTX *x, *d;
	char sock[128], line[1024];
	int i, ok = 0, failed = 0;
	struct tp t;
	pid_t pid;

	pid = tp_wdd_start(wdd, sock, sizeof(sock));
	tp_open(&t, moddir, fallback ? "device = wdd0\nthreshold = 0\n"
				     : "device = wdd0\nthreshold = 0\nfallback = no\n");
	pair(&t, &x, &d);
	alarm(120); /* a hang is a failure */
	for (i = 0; i < 400; i++) {
		if (i == 100) {
			kill(pid, SIGKILL);
			waitpid(pid, NULL, 0);
		}
		if (step(x, d, LEN)) {
			ok++;
		} else {
			failed++;
			T_ASSERT(!fallback && i >= 100);
			T_ASSERT(ERR_peek_error());
			ERR_clear_error();
			/* the stream's position is unknown after a failure */
			EVP_CIPHER_CTX_free(x);
			EVP_CIPHER_CTX_free(d);
			pair(&t, &x, &d);
		}
	}
	alarm(0);
	tp_stats(&t, line, sizeof(line));
	printf("daemon killed, fallback %s: %d ok, %d failed: %s\n", fallback ? "on" : "off", ok,
	       failed, line);
	T_ASSERT(tp_stat(line, "ops.wd") >= 100);
	if (fallback) {
		T_EQ(failed, 0);
		T_ASSERT(tp_stat(line, "why.fallback:eio") + tp_stat(line, "why.fallback:nodev") >= 300);
	} else {
		T_EQ(ok, 100);
		T_EQ(tp_stat(line, "errors"), 300);
	}
	EVP_CIPHER_CTX_free(x);
	EVP_CIPHER_CTX_free(d);
	tp_close(&t);
	unlink(sock);
	*strrchr(sock, '/') = '\0';
	rmdir(sock); /* the daemon was killed above */
}

int main(int argc, char **argv)
{
	if (argc < 3)
		T_FAIL("usage: t_prov_fallback MODULE_DIR WDD");
	moddir = argv[1];
	tp_seed("t_prov_fallback");
	no_device();
	daemon_dies(argv[2], 1);
	daemon_dies(argv[2], 0);
	printf("t_prov_fallback: fallbacks counted, clear errors without, no hang\n");
	return 0;
}
