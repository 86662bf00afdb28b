/* SPDX-License-Identifier: MIT */
/*
 * The wrappers: with -Wl,--wrap=SYM the library's (and the daemon's)
 * references to SYM land here.  A call made by a thread of the armed role
 * is counted, and the Nth fails as the real call would when out of memory
 * or descriptors; every other call goes to the real function.  What the
 * calls make is recorded until it is given back, to count leaks in any
 * build.  Nothing here allocates: it runs inside malloc.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fi.h"

struct evp_cipher_ctx_st;
struct evp_cipher_st;
struct engine_st;
struct libdeflate_compressor;
struct libdeflate_decompressor;

/* ---- arming ---- */

static __thread int my_role;
static int armed_role;          /* atomics, all of them: the daemon's thread */
static long fail_nth;           /* arms and a scenario's thread reads */
static long ncalls;
static int injected;
static const char *inj_fn;      /* published by the release store of injected */
static void *inj_site;
static int inj_err;             /* the errno the failure stands for; 0: none */

void fi_set_role(int role)
{
	my_role = role;
}

void fi_arm(int role, long nth)
{
	__atomic_store_n(&ncalls, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&injected, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&fail_nth, nth, __ATOMIC_RELAXED);
	__atomic_store_n(&armed_role, role, __ATOMIC_RELEASE);
}

void fi_disarm(void)
{
	__atomic_store_n(&armed_role, FI_ROLE_NONE, __ATOMIC_RELEASE);
}

long fi_calls(void)
{
	return __atomic_load_n(&ncalls, __ATOMIC_ACQUIRE);
}

int fi_injected(void)
{
	return __atomic_load_n(&injected, __ATOMIC_ACQUIRE);
}

const char *fi_injected_fn(void)
{
	return fi_injected() ? inj_fn : NULL;
}

void *fi_injected_site(void)
{
	return fi_injected() ? inj_site : NULL;
}

int fi_injected_errno(void)
{
	return fi_injected() ? inj_err : 0;
}

/* Count this call; 1: fail it (as err: what a caller should report). */
static int should_fail_as(const char *fn, void *site, int err)
{
	long n;

	if (my_role == FI_ROLE_NONE || my_role != __atomic_load_n(&armed_role, __ATOMIC_ACQUIRE))
		return 0;
	n = __atomic_add_fetch(&ncalls, 1, __ATOMIC_ACQ_REL);
	if (n != __atomic_load_n(&fail_nth, __ATOMIC_RELAXED))
		return 0;
	inj_fn = fn;
	inj_site = site;
	inj_err = err;
	__atomic_store_n(&injected, 1, __ATOMIC_RELEASE);
	return 1;
}

#define should_fail(fn, site) should_fail_as(fn, site, ENOMEM)

/* ---- what is live ---- */

enum { K_HEAP = 1, K_MAP, K_EVP, K_LDC, K_LDD };

/*
 * Open addressing, linear probing, keyed by address.  The addresses are
 * stored scrambled: LeakSanitizer scans this table too, and a plain
 * pointer here would make every leaked block look reachable.
 */
#define TAB_BITS 17
#define TAB_SIZE (1u << TAB_BITS)
#define SCRAMBLE 0xa5a5f00dc0de5a5aull

struct slot {
	uint64_t key;           /* address ^ SCRAMBLE; 0: empty */
	uint64_t stamp;
	void *site;
	const char *fn;
};

static struct slot tab[TAB_SIZE];
static long live[K_LDD + 1];
static uint64_t stamp;
static pthread_mutex_t tab_lock = PTHREAD_MUTEX_INITIALIZER;

static size_t home(uint64_t key)
{
	return (size_t)((key * 0x9e3779b97f4a7c15ull) >> (64 - TAB_BITS));
}

static int kind_of(const char *fn)
{
	return !strcmp(fn, "mmap") ? K_MAP
		: !strcmp(fn, "EVP_CIPHER_CTX_new") || !strcmp(fn, "soft_pctx_new") ? K_EVP
		: !strcmp(fn, "libdeflate_alloc_compressor") ? K_LDC
		: !strcmp(fn, "libdeflate_alloc_decompressor") ? K_LDD : K_HEAP;
}

static void track(const void *p, const char *fn, void *site)
{
	uint64_t key = (uint64_t)(uintptr_t)p ^ SCRAMBLE;
	size_t i, n;

	if (!p)
		return;
	pthread_mutex_lock(&tab_lock);
	for (i = home(key), n = 0; tab[i].key && tab[i].key != key && n < TAB_SIZE; n++)
		i = (i + 1) & (TAB_SIZE - 1);
	if (n == TAB_SIZE) {
		static const char msg[] = "fi: live table full\n";

		write(2, msg, sizeof(msg) - 1);
		abort();
	}
	if (!tab[i].key)
		live[kind_of(fn)]++;
	tab[i] = (struct slot){ key, ++stamp, site, fn };
	pthread_mutex_unlock(&tab_lock);
}

/* Remove slot i, moving later entries of its run back (no tombstones). */
static void tab_remove(size_t i)
{
	size_t j = i, k;

	for (;;) {
		j = (j + 1) & (TAB_SIZE - 1);
		if (!tab[j].key)
			break;
		k = home(tab[j].key);
		/* j's entry may move to i unless its home lies in (i, j] */
		if (i <= j ? (i < k && k <= j) : (i < k || k <= j))
			continue;
		tab[i] = tab[j];
		i = j;
	}
	tab[i].key = 0;
}

static void untrack(const void *p)
{
	uint64_t key = (uint64_t)(uintptr_t)p ^ SCRAMBLE;
	size_t i;

	if (!p)
		return;
	pthread_mutex_lock(&tab_lock);
	for (i = home(key); tab[i].key; i = (i + 1) & (TAB_SIZE - 1))
		if (tab[i].key == key) {
			live[kind_of(tab[i].fn)]--;
			tab_remove(i);
			break;
		}
	pthread_mutex_unlock(&tab_lock);
}

static long count_dir(const char *path)
{
	DIR *d = opendir(path);
	long n = 0;

	if (!d)
		return -1;
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

static long locked_kb(void)
{
	FILE *f = fopen("/proc/self/status", "re");
	char line[256];
	long kb = -1;

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "VmLck: %ld kB", &kb) == 1)
			break;
	if (f)
		fclose(f);
	return kb;
}

void fi_counts(struct fi_counts *c)
{
	pthread_mutex_lock(&tab_lock);
	c->heap = live[K_HEAP] + live[K_EVP] + live[K_LDC] + live[K_LDD];
	c->maps = live[K_MAP];
	pthread_mutex_unlock(&tab_lock);
	c->fds = count_dir("/proc/self/fd");
	c->threads = count_dir("/proc/self/task");
	c->locked_kb = locked_kb();
}

uint64_t fi_stamp(void)
{
	uint64_t s;

	pthread_mutex_lock(&tab_lock);
	s = stamp;
	pthread_mutex_unlock(&tab_lock);
	return s;
}

void fi_dump_live(uint64_t since)
{
	struct slot copy[64];
	unsigned n = 0, i;
	char name[512];
	size_t j;

	pthread_mutex_lock(&tab_lock);
	for (j = 0; j < TAB_SIZE && n < 64; j++)
		if (tab[j].key && tab[j].stamp > since)
			copy[n++] = tab[j];
	pthread_mutex_unlock(&tab_lock);
	for (i = 0; i < n; i++) {
		fi_site_name(copy[i].site, name, sizeof(name));
		fprintf(stderr, "  live: %s from %s\n", copy[i].fn, name);
	}
}

void fi_site_name(void *site, char *buf, size_t len)
{
	char cmd[600], fn[256] = "?", where[256] = "?";
	Dl_info di;
	FILE *p;

	snprintf(buf, len, "%p", site);
	if (!site || !dladdr(site, &di) || !di.dli_fname)
		return;
	/* the return address is after the call: look one byte back */
	snprintf(cmd, sizeof(cmd), "addr2line -f -e '%s' 0x%lx 2>/dev/null", di.dli_fname,
		 (unsigned long)((uintptr_t)site - 1 - (uintptr_t)di.dli_fbase));
	p = popen(cmd, "r");
	if (!p)
		return;
	if (fgets(fn, sizeof(fn), p) && fgets(where, sizeof(where), p)) {
		char *slash = strrchr(where, '/');

		fn[strcspn(fn, "\n")] = 0;
		where[strcspn(where, "\n")] = 0;
		snprintf(buf, len, "%s (%s)", fn, slash ? slash + 1 : where);
	}
	pclose(p);
}

/* ---- the wrappers ---- */

#define SITE __builtin_return_address(0)

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t n);
void *__real_aligned_alloc(size_t align, size_t n);
int __real_posix_memalign(void **out, size_t align, size_t n);
char *__real_strdup(const char *s);
void __real_free(void *p);
void *__real_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off);
int __real_munmap(void *addr, size_t len);
int __real_memfd_create(const char *name, unsigned flags);
int __real_eventfd(unsigned initval, int flags);
int __real_epoll_create1(int flags);
int __real_epoll_ctl(int ep, int op, int fd, struct epoll_event *ev);
int __real_socket(int domain, int type, int proto);
int __real_connect(int fd, const struct sockaddr *a, socklen_t len);
int __real_accept4(int fd, struct sockaddr *a, socklen_t *len, int flags);
int __real_pipe2(int p[2], int flags);
int __real_open(const char *path, int flags, ...);
FILE *__real_fopen(const char *path, const char *mode);
int __real_fcntl(int fd, int cmd, ...);
int __real_mlock(const void *addr, size_t len);
int __real_madvise(void *addr, size_t len, int advice);
int __real_pthread_create(pthread_t *t, const pthread_attr_t *a, void *(*fn)(void *), void *arg);
int __real_pthread_setspecific(pthread_key_t key, const void *v);
struct evp_cipher_ctx_st *__real_EVP_CIPHER_CTX_new(void);
void __real_EVP_CIPHER_CTX_free(struct evp_cipher_ctx_st *c);
int __real_EVP_CipherInit_ex(struct evp_cipher_ctx_st *c, const struct evp_cipher_st *type,
			     struct engine_st *e, const unsigned char *key, const unsigned char *iv,
			     int enc);
struct libdeflate_compressor *__real_libdeflate_alloc_compressor(int level);
void __real_libdeflate_free_compressor(struct libdeflate_compressor *c);
struct libdeflate_decompressor *__real_libdeflate_alloc_decompressor(void);
void __real_libdeflate_free_decompressor(struct libdeflate_decompressor *d);

/* Every wrapper is declared before its definition: -Wmissing-prototypes. */
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t size);
void *__wrap_realloc(void *p, size_t n);
void *__wrap_aligned_alloc(size_t align, size_t n);
int __wrap_posix_memalign(void **out, size_t align, size_t n);
char *__wrap_strdup(const char *s);
void __wrap_free(void *p);
void *__wrap_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off);
int __wrap_munmap(void *addr, size_t len);
int __wrap_memfd_create(const char *name, unsigned flags);
int __wrap_eventfd(unsigned initval, int flags);
int __wrap_epoll_create1(int flags);
int __wrap_epoll_ctl(int ep, int op, int fd, struct epoll_event *ev);
int __wrap_socket(int domain, int type, int proto);
int __wrap_connect(int fd, const struct sockaddr *a, socklen_t len);
int __wrap_accept4(int fd, struct sockaddr *a, socklen_t *len, int flags);
int __wrap_pipe2(int p[2], int flags);
int __wrap_open(const char *path, int flags, ...);
FILE *__wrap_fopen(const char *path, const char *mode);
int __wrap_fcntl(int fd, int cmd, ...);
int __wrap_mlock(const void *addr, size_t len);
int __wrap_madvise(void *addr, size_t len, int advice);
int __wrap_pthread_create(pthread_t *t, const pthread_attr_t *a, void *(*fn)(void *), void *arg);
int __wrap_pthread_setspecific(pthread_key_t key, const void *v);
struct evp_cipher_ctx_st *__wrap_EVP_CIPHER_CTX_new(void);
void __wrap_EVP_CIPHER_CTX_free(struct evp_cipher_ctx_st *c);
int __wrap_EVP_CipherInit_ex(struct evp_cipher_ctx_st *c, const struct evp_cipher_st *type,
			     struct engine_st *e, const unsigned char *key, const unsigned char *iv,
			     int enc);
struct soft_pcipher;
void *__real_soft_pctx_new(const struct soft_pcipher *pf);
void __real_soft_pctx_free(const struct soft_pcipher *pf, void *ctx);
int __real_soft_pctx_key(const struct soft_pcipher *pf, void *ctx, int enc, const void *key,
			 size_t len);
void *__wrap_soft_pctx_new(const struct soft_pcipher *pf);
void __wrap_soft_pctx_free(const struct soft_pcipher *pf, void *ctx);
int __wrap_soft_pctx_key(const struct soft_pcipher *pf, void *ctx, int enc, const void *key,
			 size_t len);
struct libdeflate_compressor *__wrap_libdeflate_alloc_compressor(int level);
void __wrap_libdeflate_free_compressor(struct libdeflate_compressor *c);
struct libdeflate_decompressor *__wrap_libdeflate_alloc_decompressor(void);
void __wrap_libdeflate_free_decompressor(struct libdeflate_decompressor *d);

/* A failing call that sets errno and returns -1. */
#define FAIL_ERRNO(fn, site, err)                                              \
	do {                                                                   \
		if (should_fail_as(fn, site, err)) {                           \
			errno = (err);                                         \
			return -1;                                             \
		}                                                              \
	} while (0)

void *__wrap_malloc(size_t n)
{
	void *p;

	if (should_fail("malloc", SITE)) {
		errno = ENOMEM;
		return NULL;
	}
	p = __real_malloc(n);
	track(p, "malloc", SITE);
	return p;
}

void *__wrap_calloc(size_t n, size_t size)
{
	void *p;

	if (should_fail("calloc", SITE)) {
		errno = ENOMEM;
		return NULL;
	}
	p = __real_calloc(n, size);
	track(p, "calloc", SITE);
	return p;
}

void *__wrap_realloc(void *old, size_t n)
{
	void *p;

	if (should_fail("realloc", SITE)) {
		errno = ENOMEM;
		return NULL;
	}
	p = __real_realloc(old, n);
	if (p || !n) {
		untrack(old);
		track(p, "realloc", SITE);
	}
	return p;
}

void *__wrap_aligned_alloc(size_t align, size_t n)
{
	void *p;

	if (should_fail("aligned_alloc", SITE)) {
		errno = ENOMEM;
		return NULL;
	}
	p = __real_aligned_alloc(align, n);
	track(p, "aligned_alloc", SITE);
	return p;
}

int __wrap_posix_memalign(void **out, size_t align, size_t n)
{
	int ret;

	if (should_fail("posix_memalign", SITE))
		return ENOMEM;
	ret = __real_posix_memalign(out, align, n);
	if (!ret)
		track(*out, "posix_memalign", SITE);
	return ret;
}

char *__wrap_strdup(const char *s)
{
	char *p;

	if (should_fail("strdup", SITE)) {
		errno = ENOMEM;
		return NULL;
	}
	p = __real_strdup(s);
	track(p, "strdup", SITE);
	return p;
}

void __wrap_free(void *p)
{
	untrack(p);
	__real_free(p);
}

void *__wrap_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	void *p;

	if (should_fail("mmap", SITE)) {
		errno = ENOMEM;
		return MAP_FAILED;
	}
	p = __real_mmap(addr, len, prot, flags, fd, off);
	if (p != MAP_FAILED)
		track(p, "mmap", SITE);
	return p;
}

/* Never failed: the library only unmaps whole mappings it made. */
int __wrap_munmap(void *addr, size_t len)
{
	untrack(addr);
	return __real_munmap(addr, len);
}

int __wrap_memfd_create(const char *name, unsigned flags)
{
	FAIL_ERRNO("memfd_create", SITE, EMFILE);
	return __real_memfd_create(name, flags);
}

int __wrap_eventfd(unsigned initval, int flags)
{
	FAIL_ERRNO("eventfd", SITE, EMFILE);
	return __real_eventfd(initval, flags);
}

int __wrap_epoll_create1(int flags)
{
	FAIL_ERRNO("epoll_create1", SITE, EMFILE);
	return __real_epoll_create1(flags);
}

/* Adding a descriptor allocates (ENOMEM, or ENOSPC past max_user_watches);
 * changing or removing one does not. */
int __wrap_epoll_ctl(int ep, int op, int fd, struct epoll_event *ev)
{
	if (op == EPOLL_CTL_ADD)
		FAIL_ERRNO("epoll_ctl(ADD)", SITE, ENOMEM);
	return __real_epoll_ctl(ep, op, fd, ev);
}

int __wrap_socket(int domain, int type, int proto)
{
	FAIL_ERRNO("socket", SITE, EMFILE);
	return __real_socket(domain, type, proto);
}

/* A Unix socket's listener with a full backlog, as a non-blocking connect
 * meets it; a blocking one may meet the same when the daemon is slow. */
int __wrap_connect(int fd, const struct sockaddr *a, socklen_t len)
{
	FAIL_ERRNO("connect", SITE, EAGAIN);
	return __real_connect(fd, a, len);
}

int __wrap_accept4(int fd, struct sockaddr *a, socklen_t *len, int flags)
{
	FAIL_ERRNO("accept4", SITE, EMFILE);
	return __real_accept4(fd, a, len, flags);
}

int __wrap_pipe2(int p[2], int flags)
{
	FAIL_ERRNO("pipe2", SITE, EMFILE);
	return __real_pipe2(p, flags);
}

int __wrap_open(const char *path, int flags, ...)
{
	unsigned mode = 0;
	va_list ap;

	FAIL_ERRNO("open", SITE, EMFILE);
	if (flags & (O_CREAT | __O_TMPFILE)) {
		va_start(ap, flags);
		mode = va_arg(ap, unsigned);
		va_end(ap);
	}
	return __real_open(path, flags, mode);
}

FILE *__wrap_fopen(const char *path, const char *mode)
{
	if (should_fail_as("fopen", SITE, EMFILE)) {
		errno = EMFILE;
		return NULL;
	}
	return __real_fopen(path, mode);
}

/* Only the commands that make a descriptor fail; the argument is passed
 * on as glibc's own fcntl reads it, whatever the command. */
int __wrap_fcntl(int fd, int cmd, ...)
{
	va_list ap;
	void *arg;

	va_start(ap, cmd);
	arg = va_arg(ap, void *);
	va_end(ap);
	if (cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC)
		FAIL_ERRNO("fcntl(F_DUPFD)", SITE, EMFILE);
	return __real_fcntl(fd, cmd, arg);
}

int __wrap_mlock(const void *addr, size_t len)
{
	FAIL_ERRNO("mlock", SITE, ENOMEM);
	return __real_mlock(addr, len);
}

/* MADV_DONTFORK splits a mapping when it covers part of one, which fails
 * at vm.max_map_count; giving the advice back is not failed. */
int __wrap_madvise(void *addr, size_t len, int advice)
{
	if (advice == MADV_DONTFORK)
		FAIL_ERRNO("madvise(DONTFORK)", SITE, ENOMEM);
	return __real_madvise(addr, len, advice);
}

struct start {
	void *(*fn)(void *);
	void *arg;
	int role;
};

static void *start_thread(void *p)
{
	struct start st = *(struct start *)p;

	__real_free(p);
	my_role = st.role;
	return st.fn(st.arg);
}

/* The thread takes its role from its maker: a client's or daemon's
 * threads are its engine's (a thread the sweep makes has none). */
int __wrap_pthread_create(pthread_t *t, const pthread_attr_t *a, void *(*fn)(void *), void *arg)
{
	static const int child_role[] = {
		[FI_ROLE_NONE] = FI_ROLE_NONE,
		[FI_ROLE_CLIENT] = FI_ROLE_ENGINE,
		[FI_ROLE_ENGINE] = FI_ROLE_ENGINE,
		[FI_ROLE_DAEMON] = FI_ROLE_DAEMON_ENGINE,
		[FI_ROLE_DAEMON_ENGINE] = FI_ROLE_DAEMON_ENGINE,
	};
	struct start *st;
	int ret;

	if (should_fail_as("pthread_create", SITE, EAGAIN))
		return EAGAIN;
	st = __real_malloc(sizeof(*st)); /* not the library's: not tracked */
	if (!st)
		return EAGAIN;
	*st = (struct start){ fn, arg, child_role[my_role] };
	ret = __real_pthread_create(t, a, start_thread, st);
	if (ret)
		__real_free(st);
	return ret;
}

int __wrap_pthread_setspecific(pthread_key_t key, const void *v)
{
	if (should_fail("pthread_setspecific", SITE))
		return ENOMEM;
	return __real_pthread_setspecific(key, v);
}

struct evp_cipher_ctx_st *__wrap_EVP_CIPHER_CTX_new(void)
{
	struct evp_cipher_ctx_st *c;

	if (should_fail("EVP_CIPHER_CTX_new", SITE))
		return NULL;
	c = __real_EVP_CIPHER_CTX_new();
	track(c, "EVP_CIPHER_CTX_new", SITE);
	return c;
}

void __wrap_EVP_CIPHER_CTX_free(struct evp_cipher_ctx_st *c)
{
	untrack(c);
	__real_EVP_CIPHER_CTX_free(c);
}

/* Keying allocates OpenSSL's provider context; setting only an IV does not. */
int __wrap_EVP_CipherInit_ex(struct evp_cipher_ctx_st *c, const struct evp_cipher_st *type,
			     struct engine_st *e, const unsigned char *key, const unsigned char *iv,
			     int enc)
{
	/* OpenSSL says only that it failed: no errno to expect */
	if ((type || key) && should_fail_as("EVP_CipherInit_ex", SITE, 0))
		return 0;
	return __real_EVP_CipherInit_ex(c, type, e, key, iv, enc);
}

/* The soft engine's CBC, CTR and XTS contexts: the default provider's own
 * (src/dev/soft/evp.c), made and keyed as EVP's are above. */
void *__wrap_soft_pctx_new(const struct soft_pcipher *pf)
{
	void *c;

	if (should_fail("soft_pctx_new", SITE))
		return NULL;
	c = __real_soft_pctx_new(pf);
	track(c, "soft_pctx_new", SITE);
	return c;
}

void __wrap_soft_pctx_free(const struct soft_pcipher *pf, void *ctx)
{
	untrack(ctx);
	__real_soft_pctx_free(pf, ctx);
}

int __wrap_soft_pctx_key(const struct soft_pcipher *pf, void *ctx, int enc, const void *key,
			 size_t len)
{
	if (should_fail_as("soft_pctx_key", SITE, 0))
		return 0;
	return __real_soft_pctx_key(pf, ctx, enc, key, len);
}

struct libdeflate_compressor *__wrap_libdeflate_alloc_compressor(int level)
{
	struct libdeflate_compressor *c;

	if (should_fail("libdeflate_alloc_compressor", SITE))
		return NULL;
	c = __real_libdeflate_alloc_compressor(level);
	track(c, "libdeflate_alloc_compressor", SITE);
	return c;
}

void __wrap_libdeflate_free_compressor(struct libdeflate_compressor *c)
{
	untrack(c);
	__real_libdeflate_free_compressor(c);
}

struct libdeflate_decompressor *__wrap_libdeflate_alloc_decompressor(void)
{
	struct libdeflate_decompressor *d;

	if (should_fail("libdeflate_alloc_decompressor", SITE))
		return NULL;
	d = __real_libdeflate_alloc_decompressor();
	track(d, "libdeflate_alloc_decompressor", SITE);
	return d;
}

void __wrap_libdeflate_free_decompressor(struct libdeflate_decompressor *d)
{
	untrack(d);
	__real_libdeflate_free_decompressor(d);
}
