#define _GNU_SOURCE
/*
 * A set-uid program takes no setting from the environment of the user who
 * runs it: not the library's, not the zlib layer's, not the provider's.
 * This program copies itself twice, set-uid root and plain, and runs each
 * copy as nobody with the same environment (the kernel marks the set-uid
 * run AT_SECURE, where secure_getenv sees nothing):
 *   WD_WDD_SOCKET, XDG_RUNTIME_DIR  two fake daemons of root's
 *                                   (t_wdd_fake.h): each gets a HELLO
 *   WD_DEVICE                       the context's preferred device
 *   WD_ZLIB=0, WD_ZLIB_STATS=file   the layer disabled; its line in file
 *   WD_PROV_THRESHOLD=bogus         the provider refuses to load
 * The plain run must see them all, which keeps the test honest; the
 * set-uid run must see none.  The layer and the provider are loaded from
 * copies next to the program's, as nobody may not reach the build tree.
 * argv: libwd.so.0, libwd-zlib.so, wd.so.  Needs root; 77 also when the
 * set-uid bit has no effect here (a nosuid mount, no_new_privs).
 */
#include <dlfcn.h>
#include <grp.h>
#include <sys/auxv.h>
#include <sys/sendfile.h>
#include <openssl/crypto.h>
#include <openssl/provider.h>
#include "core/internal.h"
#include "t_wdd_fake.h"

#define NOBODY 65534
#define NOT_SECURE 3 /* the child's exit status: the set-uid bit did nothing */

static char dir[64];

/* ---- the child: one copy of the program, as nobody ---- */

/* Both ways of naming a socket, one context each: the fakes see who came. */
static void child_lib(int secure)
{
	struct wd_ctx *ctx = t_ctx(1, 0);

	if (secure)
		T_EQ(ctx->preferred[0], 0);
	else
		T_ASSERT(!strcmp(ctx->preferred, "bogus0"));
	wd_ctx_free(ctx);
	unsetenv("WD_WDD_SOCKET"); /* now XDG_RUNTIME_DIR's turn */
	wd_ctx_free(t_ctx(1, 0));
}

static void *must_dlopen(const char *name, int flags)
{
	char path[128];
	void *h;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	h = dlopen(path, flags);
	if (!h)
		T_FAIL("dlopen %s: %s", path, dlerror());
	return h;
}

/* One small compress2 through the layer: disabled, or too small. */
static void child_zlib(int secure)
{
	int (*compress2)(unsigned char *, unsigned long *, const unsigned char *, unsigned long,
			 int);
	size_t (*format)(char *, size_t);
	unsigned char src[64] = "hello", dst[128];
	unsigned long dlen = sizeof(dst);
	char line[1024];
	void *h = must_dlopen("libwd-zlib.so", RTLD_NOW | RTLD_LOCAL);

	*(void **)&compress2 = dlsym(h, "compress2");
	*(void **)&format = dlsym(h, "wd_zlib_stats_format");
	T_ASSERT(compress2 && format);
	T_EQ(compress2(dst, &dlen, src, sizeof(src), 6), 0);
	format(line, sizeof(line));
	T_EQ(strstr(line, "why.disabled=1") != NULL, !secure);
}

static void child_prov(int secure)
{
	OSSL_LIB_CTX *lc = OSSL_LIB_CTX_new();
	OSSL_PROVIDER *p;

	T_ASSERT(lc && OSSL_PROVIDER_set_default_search_path(lc, dir));
	p = OSSL_PROVIDER_load(lc, "wd");
	T_EQ(p != NULL, secure);
	if (p)
		OSSL_PROVIDER_unload(p);
	OSSL_LIB_CTX_free(lc);
}

static int child(int secure)
{
	if (secure && !getauxval(AT_SECURE))
		return NOT_SECURE;
	T_EQ(getauxval(AT_SECURE), secure);
	child_lib(secure);
	/* the layer and the provider need libwd.so.0: this copy of it */
	must_dlopen("libwd.so.0", RTLD_NOW | RTLD_GLOBAL);
	child_zlib(secure);
	child_prov(secure);
	return 0; /* exit: the layer's line is written then */
}

/* ---- the parent, root ---- */

static void copy(const char *from, const char *to, mode_t mode)
{
	int in = open(from, O_RDONLY | O_CLOEXEC), out;
	struct stat st;

	T_ASSERT(in >= 0 && !fstat(in, &st));
	out = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	T_ASSERT(out >= 0);
	T_EQ(sendfile(out, in, NULL, (size_t)st.st_size), st.st_size);
	/* chown first: it would clear a set-uid bit set before */
	T_ASSERT(!fchown(out, 0, 0) && !fchmod(out, mode));
	close(in);
	close(out);
}

/* Run a copy as nobody; its exit status. */
static int run_as_nobody(const char *prog, const char *mode)
{
	char sock[160], xdg[160], stats[160], asan[512], ubsan[512];
	char *argv[] = { (char *)prog, "--child", (char *)mode, dir, NULL };
	char *envp[] = { sock, xdg, stats, "WD_DEVICE=bogus0", "WD_ZLIB=0",
			 "WD_PROV_THRESHOLD=bogus", "PATH=/usr/bin:/bin", asan, ubsan, NULL };
	int status;
	pid_t pid;

	snprintf(sock, sizeof(sock), "WD_WDD_SOCKET=%s/a.sock", dir);
	snprintf(xdg, sizeof(xdg), "XDG_RUNTIME_DIR=%s/xdg", dir);
	snprintf(stats, sizeof(stats), "WD_ZLIB_STATS=%s/w/zlib.stats", dir);
	/* the sanitizers' settings, so their runs behave as the parent's */
	snprintf(asan, sizeof(asan), "ASAN_OPTIONS=%s", getenv("ASAN_OPTIONS") ?: "");
	snprintf(ubsan, sizeof(ubsan), "UBSAN_OPTIONS=%s", getenv("UBSAN_OPTIONS") ?: "");
	pid = fork();
	T_ASSERT(pid >= 0);
	if (!pid) {
		if (setgroups(0, NULL) || setresgid(NOBODY, NOBODY, NOBODY) ||
		    setresuid(NOBODY, NOBODY, NOBODY))
			_exit(126);
		execve(prog, argv, envp);
		_exit(127);
	}
	T_EQ(waitpid(pid, &status, 0), pid);
	if (!WIFEXITED(status))
		T_FAIL("%s run: killed by %s", mode, strsignal(WTERMSIG(status)));
	return WEXITSTATUS(status);
}

static void check(const char *mode, struct t_fake *a, struct t_fake *b, int used)
{
	const char *seen_a = t_fake_events(a), *seen_b;
	char stats[160];

	/* used: a HELLO at least; else not even a connection */
	fprintf(stderr, "%s: WD_WDD_SOCKET's fake saw \"%s\", ", mode, seen_a);
	T_ASSERT(used ? strchr(seen_a, 'h') != NULL : !*seen_a);
	seen_b = t_fake_events(b);
	fprintf(stderr, "XDG_RUNTIME_DIR's \"%s\"\n", seen_b);
	T_ASSERT(used ? strchr(seen_b, 'h') != NULL : !*seen_b);
	snprintf(stats, sizeof(stats), "%s/w/zlib.stats", dir);
	T_EQ(access(stats, F_OK) == 0, used);
	unlink(stats);
}

/* dir/name */
static const char *in_dir(const char *name)
{
	static char p[8][160];
	static unsigned n;
	char *out = p[n++ % 8];

	snprintf(out, sizeof(p[0]), "%s/%s", dir, name);
	return out;
}

int main(int argc, char **argv)
{
	static const char *const files[] = { "setuid", "plain", "libwd.so.0", "libwd-zlib.so",
					     "wd.so" };
	struct t_fake a = { 0 }, b = { 0 };
	unsigned i;
	int st;

	if (argc == 4 && !strcmp(argv[1], "--child")) {
		snprintf(dir, sizeof(dir), "%s", argv[3]);
		return child(!strcmp(argv[2], "secure"));
	}
	if (argc < 4)
		return T_SKIP;
	if (geteuid() != 0) {
		fprintf(stderr, "needs root to make a set-uid program: skipping\n");
		return T_SKIP;
	}
	strcpy(dir, "/tmp/wd-suid-XXXXXX");
	T_ASSERT(mkdtemp(dir) && !chmod(dir, 0755));
	/* the plain run's stats file goes there */
	T_ASSERT(!mkdir(in_dir("w"), 0700) && !chmod(in_dir("w"), 01777));
	T_ASSERT(!mkdir(in_dir("xdg"), 0755));
	copy("/proc/self/exe", in_dir("setuid"), 04755);
	copy("/proc/self/exe", in_dir("plain"), 0755);
	copy(argv[1], in_dir("libwd.so.0"), 0644);
	copy(argv[2], in_dir("libwd-zlib.so"), 0644);
	copy(argv[3], in_dir("wd.so"), 0644);
	t_fake_start(&a, in_dir("a.sock"), 0);
	t_fake_start(&b, in_dir("xdg/wdd.sock"), 0);

	T_EQ(run_as_nobody(in_dir("plain"), "plain"), 0);
	check("plain", &a, &b, 1);
	st = run_as_nobody(in_dir("setuid"), "secure");
	if (st == NOT_SECURE) {
		fprintf(stderr, "the set-uid copy did not run set-uid (nosuid mount? "
				"no_new_privs?): skipping\n");
	} else {
		T_EQ(st, 0);
		check("set-uid", &a, &b, 0);
	}
	t_fake_stop(&a);
	t_fake_stop(&b);
	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		unlink(in_dir(files[i]));
	rmdir(in_dir("w"));
	rmdir(in_dir("xdg"));
	rmdir(dir);
	return st == NOT_SECURE ? T_SKIP : 0;
}
