/* SPDX-License-Identifier: MIT */
/*
 * Nothing silent: the statistics count every piece where it ran, with the
 * bytes and the reason, exactly; the threshold splits work as configured
 * (below it the default provider, from it on a queue); a context freed
 * keeps its counts in the totals; the line is printed at exit to a file
 * (stats = path, appended) or to stderr (WD_PROV_STATS=1), and only by a
 * process that used the provider.
 * argv[1]: the directory holding wd.so.
 */
#include <fcntl.h>
#include <sys/wait.h>

#include "tp.h"

static const char *moddir;

static void enc(struct tp *t, const char *name, size_t len, int chunk)
{
	static uint8_t buf[65536 + 32];
	uint8_t key[64] = { 1 }, iv[16] = { 2 };
	EVP_CIPHER *c = tp_fetch(t, name, 1);
	EVP_CIPHER_CTX *x = EVP_CIPHER_CTX_new();
	size_t off;
	int n;

	T_ASSERT(c && x && EVP_EncryptInit_ex2(x, c, key, iv, NULL));
	EVP_CIPHER_CTX_set_padding(x, 0);
	for (off = 0; off < len; off += (size_t)chunk)
		T_ASSERT(EVP_EncryptUpdate(x, buf, &n, buf, chunk));
	T_ASSERT(EVP_EncryptFinal_ex(x, buf, &n));
	EVP_CIPHER_CTX_free(x);
	EVP_CIPHER_free(c);
}

static void expect(struct tp *t, unsigned long long ops_wd, unsigned long long bytes_wd,
		   unsigned long long ops_sw, unsigned long long bytes_sw,
		   unsigned long long threshold)
{
	char line[1024];

	tp_stats(t, line, sizeof(line));
	printf("%s\n", line);
	T_EQ(tp_stat(line, "ops.wd"), ops_wd);
	T_EQ(tp_stat(line, "bytes.wd"), bytes_wd);
	T_EQ(tp_stat(line, "ops.sw"), ops_sw);
	T_EQ(tp_stat(line, "bytes.sw"), bytes_sw);
	T_EQ(tp_stat(line, "why.threshold"), threshold);
	T_ASSERT(strstr(line, "device=soft0") || !ops_wd);
}

static void counts(void)
{
	struct tp t;
	char th[256];
	OSSL_PARAM p[] = { OSSL_PARAM_utf8_string("wd-threshold", th, sizeof(th)), OSSL_PARAM_END };

	tp_open(&t, moddir, "threshold = 1k\n");
	T_ASSERT(OSSL_PROVIDER_get_params(t.wd, p));
	T_ASSERT(!strcmp(th, "cbc=1024,ctr=1024,xts=1024,gcm=1024"));
	expect(&t, 0, 0, 0, 0, 0);
	enc(&t, "AES-128-CBC", 512, 512);       /* below: one piece to sw */
	expect(&t, 0, 0, 1, 512, 1);
	enc(&t, "AES-128-CBC", 4096, 4096);     /* one piece to a queue */
	expect(&t, 1, 4096, 1, 512, 1);
	enc(&t, "AES-256-CTR", 3000, 1000);     /* three pieces under 1 KiB */
	expect(&t, 1, 4096, 4, 3512, 4);
	enc(&t, "AES-128-CTR", 1025, 1025);     /* 1024 to a queue, the last byte to sw */
	expect(&t, 2, 5120, 5, 3513, 5);
	enc(&t, "AES-256-XTS", 2048, 1024);     /* two data units at the threshold */
	expect(&t, 4, 7168, 5, 3513, 5);
	tp_close(&t);
}

/* The exit line: to a file, appended, by processes that used wd only. */
static void at_exit_file(void)
{
	char conf[256], path[128], line[1024];
	struct tp t;
	FILE *f;
	int n = 0;

	snprintf(path, sizeof(path), "/tmp/t_prov_stats-%d", (int)getpid());
	unlink(path);
	snprintf(conf, sizeof(conf), "threshold = 0\nstats = %s\n", path);
	tp_open(&t, moddir, conf);
	enc(&t, "AES-192-CBC", 64, 64);
	tp_close(&t);
	tp_open(&t, moddir, conf); /* loaded, never used: no line */
	tp_close(&t);
	f = fopen(path, "r");
	T_ASSERT(f);
	while (fgets(line, sizeof(line), f)) {
		printf("file: %s", line);
		T_ASSERT(!strncmp(line, "wd-prov: pid=", 13));
		T_EQ(tp_stat(line, "ops.wd"), 1);
		n++;
	}
	fclose(f);
	unlink(path);
	T_EQ(n, 1);
}

/* WD_PROV_STATS=1 (the environment wins over the file): stderr. */
static void at_exit_stderr(void)
{
	char buf[2048] = "";
	int fds[2], status;
	ssize_t n, got = 0;
	pid_t pid;

	T_ASSERT(!pipe(fds));
	pid = fork();
	T_ASSERT(pid >= 0);
	if (pid == 0) {
		struct tp t;

		dup2(fds[1], 2);
		close(fds[0]);
		setenv("WD_PROV_STATS", "1", 1);
		tp_open(&t, moddir, "stats = /nonexistent/dir/file\nthreshold = 0\n");
		enc(&t, "AES-128-CTR", 100, 100);
		tp_close(&t);
		_exit(0);
	}
	close(fds[1]);
	while ((n = read(fds[0], buf + got, sizeof(buf) - 1 - (size_t)got)) > 0)
		got += n;
	close(fds[0]);
	T_ASSERT(waitpid(pid, &status, 0) == pid && WIFEXITED(status) && !WEXITSTATUS(status));
	buf[got] = '\0';
	printf("stderr: %s", buf);
	T_ASSERT(strstr(buf, "wd-prov: pid=") && tp_stat(buf, "ops.wd") == 1);
}

int main(int argc, char **argv)
{
	if (argc < 2)
		T_FAIL("usage: t_prov_stats MODULE_DIR");
	moddir = argv[1];
	counts();
	at_exit_file();
	at_exit_stderr();
	printf("t_prov_stats: exact counts, reasons, exit lines\n");
	return 0;
}
