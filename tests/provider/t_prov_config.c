/* SPDX-License-Identifier: MIT */
/*
 * Configuration as programs get it: an openssl.cnf named by OPENSSL_CONF,
 * loaded into the default library context, with the provider's section
 * (device, threshold, fallback, algorithms, stats); the environment
 * (WD_PROV_*) wins over it; a value that makes no sense keeps the provider
 * from loading, with the reason on the error stack.  Each case runs in a
 * process of its own (the default context reads its configuration once).
 * argv[1]: the directory holding wd.so.
 */
#include <sys/wait.h>

#include "tp.h"

static char conf[128];

static void write_conf(const char *moddir, const char *extra)
{
	char abs[4096];
	FILE *f = fopen(conf, "w");

	T_ASSERT(f && realpath(moddir, abs));
	fprintf(f, "openssl_conf = init\n[init]\nproviders = provs\n"
		   "[provs]\nwd = wd_sect\ndefault = def_sect\n"
		   "[wd_sect]\nmodule = %s/wd.so\nactivate = 1\n%s\n"
		   "[def_sect]\nactivate = 1\n", abs, extra);
	T_ASSERT(!fclose(f));
}

static void get(const char *key, char *buf, size_t len)
{
	OSSL_PROVIDER *p = OSSL_PROVIDER_load(NULL, "wd");
	OSSL_PARAM q[2] = { OSSL_PARAM_utf8_string(key, buf, len), OSSL_PARAM_END };

	T_ASSERT(p && OSSL_PROVIDER_get_params(p, q));
	OSSL_PROVIDER_unload(p);
}

static int fetchable(const char *name)
{
	EVP_CIPHER *c = EVP_CIPHER_fetch(NULL, name, "provider=wd");

	ERR_clear_error();
	EVP_CIPHER_free(c);
	return c != NULL;
}

/* Runs fn in a child with OPENSSL_CONF set and env (NAME=VALUE or NULL). */
static void in_child(const char *what, void (*fn)(void), const char *env)
{
	int status;
	pid_t pid;

	fflush(stdout);
	pid = fork();
	T_ASSERT(pid >= 0);
	if (!pid) {
		setenv("OPENSSL_CONF", conf, 1);
		if (env)
			putenv((char *)env);
		fn();
		exit(0);
	}
	T_ASSERT(waitpid(pid, &status, 0) == pid);
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		T_FAIL("%s: child failed", what);
	printf("ok: %s\n", what);
}

static void from_file(void)
{
	char buf[256];

	T_ASSERT(OSSL_PROVIDER_available(NULL, "wd"));
	get("wd-threshold", buf, sizeof(buf));
	T_ASSERT(!strcmp(buf, "cbc=4096,ctr=4096,xts=4096,gcm=4096"));
	get("wd-device", buf, sizeof(buf));
	T_ASSERT(!strcmp(buf, "soft0"));
	get("wd-algorithms", buf, sizeof(buf));
	T_ASSERT(!strcmp(buf, "AES-128-CBC,AES-192-CBC,AES-256-CBC,AES-256-CTR"));
	T_ASSERT(fetchable("AES-128-CBC") && fetchable("AES-256-CTR"));
	T_ASSERT(!fetchable("AES-128-CTR") && !fetchable("AES-128-GCM") && !fetchable("AES-256-XTS"));
}

static void env_threshold(void)
{
	char buf[256];

	get("wd-threshold", buf, sizeof(buf));
	T_ASSERT(!strcmp(buf, "cbc=100,ctr=100,xts=100,gcm=100"));
}

static void env_list(void)
{
	char buf[256];

	get("wd-threshold", buf, sizeof(buf));
	printf("  %s\n", buf);
	T_ASSERT(!strcmp(buf, "cbc-enc=1024,cbc-dec=4096,ctr=2048,xts=4096,gcm=4096"));
}

static void env_algs(void)
{
	char buf[256];

	get("wd-algorithms", buf, sizeof(buf));
	T_ASSERT(!strcmp(buf, "AES-128-XTS,AES-256-XTS"));
	T_ASSERT(fetchable("AES-128-XTS") && !fetchable("AES-128-CBC"));
}

/* The provider refused to load, saying why: OpenSSL 3.0 drops the errors
 * of the providers its configuration loads, so the provider says it on
 * stderr too, which is checked here. */
static void refused(void)
{
	char path[160], text[1024] = "";
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "%s.err", conf);
	T_ASSERT(freopen(path, "w", stderr));
	T_ASSERT(!OSSL_PROVIDER_available(NULL, "wd"));
	fflush(stderr);
	f = fopen(path, "r");
	T_ASSERT(f);
	n = fread(text, 1, sizeof(text) - 1, f);
	text[n] = '\0';
	fclose(f);
	unlink(path);
	printf("  %s", text);
	T_ASSERT(strstr(text, "wd provider: not loaded: bad ") ||
		 strstr(text, "wd provider: not loaded: unknown"));
}

/* The work goes where configured and is counted (a named device). */
static void used(void)
{
	uint8_t key[16] = { 1 }, iv[16] = { 2 }, buf[8192];
	EVP_CIPHER *c = EVP_CIPHER_fetch(NULL, "AES-128-CBC", "provider=wd");
	EVP_CIPHER_CTX *x = EVP_CIPHER_CTX_new();
	char line[1024];
	int n;

	memset(buf, 1, sizeof(buf));
	T_ASSERT(c && x && EVP_EncryptInit_ex2(x, c, key, iv, NULL));
	T_ASSERT(EVP_EncryptUpdate(x, buf, &n, buf, 8192));
	T_ASSERT(EVP_EncryptUpdate(x, buf, &n, buf, 1024));
	get("wd-stats", line, sizeof(line));
	printf("%s\n", line);
	T_ASSERT(strstr(line, "device=soft0"));
	T_EQ(tp_stat(line, "ops.wd"), 1);
	T_EQ(tp_stat(line, "why.threshold"), 1);
	EVP_CIPHER_CTX_free(x);
	EVP_CIPHER_free(c);
}

int main(int argc, char **argv)
{
	if (argc < 2)
		T_FAIL("usage: t_prov_config MODULE_DIR");
	snprintf(conf, sizeof(conf), "/tmp/t_prov_config-%d.cnf", (int)getpid());
	write_conf(argv[1], "device = soft0\nthreshold = 4KiB\nfallback = no\n"
			    "algorithms = cbc, aes-256-ctr\n");
	in_child("openssl.cnf section read", from_file, NULL);
	in_child("work goes to the configured device", used, NULL);
	in_child("environment wins (threshold)", env_threshold, "WD_PROV_THRESHOLD=100");
	in_child("environment wins (algorithms)", env_algs, "WD_PROV_ALGS=xts");
	in_child("threshold per mode and direction", env_list,
		 "WD_PROV_THRESHOLD=cbc-enc=1k, ctr=2KiB");
	write_conf(argv[1], "threshold = lots\n");
	in_child("bad threshold refused", refused, NULL);
	write_conf(argv[1], "algorithms = aes-128-ecb\n");
	in_child("unknown algorithm refused", refused, NULL);
	write_conf(argv[1], "fallback = maybe\n");
	in_child("bad fallback refused", refused, NULL);
	unlink(conf);
	printf("t_prov_config: openssl.cnf, environment, refusals\n");
	return 0;
}
