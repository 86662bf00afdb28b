/* Pins: accounted against the domain's limit (over it: -ENOMEM with nothing
 * half-shared); really locked (VmLck); file-backed memory refused unless
 * asked for, anonymous and memfd accepted; holes refused; a fork child
 * cannot reach the shared pages; unsharing gives everything back. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include "t_mem_helpers.h"

/* ASan turns mlock into a no-op (its interceptor ignores it): there, the
 * locked-memory counter cannot be checked, everything else can. */
#if defined(__SANITIZE_ADDRESS__)
#define MLOCK_VISIBLE 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define MLOCK_VISIBLE 0
#endif
#endif
#ifndef MLOCK_VISIBLE
#define MLOCK_VISIBLE 1
#endif

#define T_LOCKED(kb) \
	do { \
		if (MLOCK_VISIBLE) \
			T_EQ(t_vm_locked_kb() - base_lck, (long)(kb)); \
	} while (0)

int main(void)
{
	size_t ps = t_page(), n = 64 * ps;
	struct wd_ctx *ctx = t_ctx(1, 0);
	struct wd_domain *d, *d2;
	struct wd_domain_info info = { .size = sizeof(info) };
	unsigned char *a = wd_mem_alloc(n), *b = wd_mem_alloc(n), *hole;
	uint64_t ia, ib, ix;
	long base_lck = t_vm_locked_kb();
	int status, fd;
	pid_t pid;

	T_OK(wd_domain_new(&d, ctx, NULL));
	T_OK(wd_domain_info(d, &info));
	T_ASSERT(info.pin_limit > 0); /* RLIMIT_MEMLOCK by default */
	T_OK(wd_domain_set_pin_limit(d, n + n / 2));
	T_OK(wd_share(d, a, n, 0, &ia));
	T_LOCKED(n / 1024);
	/* over the limit: refused, and nothing of b is pinned or mapped */
	T_EQ(wd_share(d, b, n, 0, &ib), -ENOMEM);
	T_OK(wd_domain_info(d, &info));
	T_EQ(info.nmaps, 1);
	T_EQ(info.pinned, n);
	T_LOCKED(n / 1024);
	T_OK(wd_share(d, b, n / 2, 0, &ib)); /* what fits, fits */

	/* Two domains pin the same page: it stays locked until both let go. */
	T_OK(wd_domain_new(&d2, ctx, NULL));
	T_OK(wd_domain_set_pin_limit(d2, UINT64_MAX));
	T_OK(wd_share(d2, a, ps, 0, &ix));
	T_OK(wd_unshare(d, ia, 0, -1));
	T_LOCKED((n / 2 + ps) / 1024);
	T_OK(wd_unshare(d2, ix, 0, -1));
	T_LOCKED(n / 2 / 1024);
	T_OK(wd_domain_free(d2));

	/* A fork child has no mapping of the shared pages at all. */
	T_OK(wd_share(d, a, ps, 0, &ia));
	pid = fork();
	T_ASSERT(pid >= 0);
	if (pid == 0) {
		unsigned char v;

		_exit(mincore(a, ps, &v) == -1 && errno == ENOMEM &&
		      mincore(b, ps, &v) == -1 && errno == ENOMEM ? 0 : 1);
	}
	T_EQ(waitpid(pid, &status, 0), pid);
	T_ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	T_OK(wd_unshare(d, ia, 0, -1));

	/* file-backed: refused for a long-term pin unless asked for */
	{
		char path[] = "/tmp/wd_pin_XXXXXX";
		void *fm;

		fd = mkstemp(path);
		T_ASSERT(fd >= 0 && ftruncate(fd, (off_t)ps) == 0);
		unlink(path);
		fm = mmap(NULL, ps, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		T_ASSERT(fm != MAP_FAILED);
		T_EQ(wd_share(d, fm, ps, 0, &ix), -EPERM);
		T_OK(wd_share(d, fm, ps, WD_SHARE_FILE_OK, &ix));
		T_OK(wd_unshare(d, ix, 0, -1));
		munmap(fm, ps);
		close(fd);
	}
	/* memfd and shared anonymous memory are fine */
	{
		void *mm, *sa;

		fd = memfd_create("wd-test", MFD_CLOEXEC);
		T_ASSERT(fd >= 0 && ftruncate(fd, (off_t)ps) == 0);
		mm = mmap(NULL, ps, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		sa = mmap(NULL, ps, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
		T_ASSERT(mm != MAP_FAILED && sa != MAP_FAILED);
		T_OK(wd_share(d, mm, ps, 0, &ix));
		T_OK(wd_unshare(d, ix, 0, -1));
		T_OK(wd_share(d, sa, ps, 0, &ix));
		T_OK(wd_unshare(d, ix, 0, -1));
		munmap(mm, ps);
		munmap(sa, ps);
		close(fd);
	}
	/* a range with a hole in it */
	hole = wd_mem_alloc(3 * ps);
	T_ASSERT(hole);
	munmap(hole + ps, ps);
	T_EQ(wd_share(d, hole, 3 * ps, 0, &ix), -EFAULT);
	T_OK(wd_domain_info(d, &info));
	T_EQ(info.nmaps, 1);
	/* bad arguments */
	T_EQ(wd_share(d, NULL, ps, 0, &ix), -EINVAL);
	T_EQ(wd_share(d, a, 0, 0, &ix), -EINVAL);
	T_EQ(wd_share(d, a, ps, 0x80, &ix), -EINVAL);
	T_EQ(wd_unshare(d, 0x1234000, 0, -1), -ENOENT);

	T_OK(wd_domain_free(d));
	T_LOCKED(0);
	wd_mem_free(a, n);
	wd_mem_free(b, n);
	munmap(hole, ps);
	munmap(hole + 2 * ps, ps);
	wd_ctx_free(ctx);
	return 0;
}
