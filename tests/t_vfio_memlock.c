/* Locked-memory accounting on VFIO, as an unprivileged process sees it:
 * RLIMIT_MEMLOCK lowered and CAP_IPC_LOCK dropped (root's capability makes
 * the kernel ignore the limit, for mlock and for the type1 IOMMU's pins
 * alike: checked first, then that the limit applies without it).  The kernel charges the driver's ring area and every share to
 * locked_vm (VmLck); the library must count the same, once: a share of
 * exactly the room wd_domain_info() shows succeeds and charges its size
 * (not twice: mlock and the IOMMU pin), and one page more is refused by
 * the library before the kernel.  The device works on the unlocked pages. */
#define _GNU_SOURCE
#include <linux/capability.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include "t_vfio.h"

#define LIMIT (8u << 20)

/* CAP_IPC_LOCK: is it effective; with drop, take it out of every set of
 * this process (no libcap here). */
static int ipc_lock_cap(int drop)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct c[2];
	unsigned w = CAP_IPC_LOCK / 32, bit = 1u << (CAP_IPC_LOCK % 32);

	T_EQ(syscall(SYS_capget, &h, c), 0);
	if (drop) {
		c[w].effective &= ~bit;
		c[w].permitted &= ~bit;
		c[w].inheritable &= ~bit;
		T_EQ(syscall(SYS_capset, &h, c), 0);
	}
	return !!(c[w].effective & bit);
}

/* Can one page more than the limit be locked?  The system call itself:
 * the sanitizers' mlock() pretends to succeed. */
static int over_limit_locks(void)
{
	size_t len = LIMIT + 4096;
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	int ok;

	T_ASSERT(p != MAP_FAILED);
	ok = !syscall(SYS_mlock, p, len);
	T_ASSERT(ok || errno == ENOMEM || errno == EPERM);
	munmap(p, len);
	return ok;
}

/* One request on the shared (not mlocked) pages: the device reaches them. */
static void device_works(struct t_vfio *t, uint64_t iova)
{
	static const uint8_t key[16] = { 1 }, iv[16];
	struct wd_queue *q = t_vfio_queue(t, 8);
	struct wd_cipher_sess *s = NULL;
	struct wd_req r;

	T_OK(wd_cipher_sess_new(&s, q, WD_CIPHER_AES_CBC, key, sizeof(key)));
	wd_prep_encrypt(&r, s, iv, iova, iova + 4096, 4096);
	r.tag = 7;
	T_EQ(t_run(q, &r).status, 0);
	wd_cipher_sess_free(s);
	wd_queue_free(q);
}

int main(void)
{
	struct rlimit rl = { LIMIT, LIMIT };
	struct wd_domain_info info = { .size = sizeof(info) };
	struct t_vfio t;
	uint64_t room, iova, extra;
	long base;
	uint8_t *buf, *more;
	int ret;

	if (!getenv("WD_VFIO_DEVICE")) {
		fprintf(stderr, "skip: no VFIO device (WD_VFIO_DEVICE unset; runs in tests/vm)\n");
		return T_SKIP;
	}
	base = t_vm_locked_kb();
	T_EQ(base, 0); /* nothing else locked: the limit is all ours */
	T_EQ(setrlimit(RLIMIT_MEMLOCK, &rl), 0);
	/* with CAP_IPC_LOCK (root) the kernel ignores the limit; without it
	 * the limit applies, as to an unprivileged user */
	if (ipc_lock_cap(0)) {
		T_ASSERT(over_limit_locks());
		fprintf(stderr, "with CAP_IPC_LOCK the kernel ignores RLIMIT_MEMLOCK: dropped\n");
	}
	T_EQ(ipc_lock_cap(1), 0);
	T_ASSERT(!over_limit_locks());

	ret = t_vfio_open(&t);
	if (ret)
		return ret;
	/* the ring area's MAP_DMA is charged from the start, and counted */
	T_EQ(t_vm_locked_kb(), (long)(t.vd->dma.len / 1024));
	T_OK(wd_domain_info(t.dom, &info));
	T_EQ(info.pin_limit, LIMIT);
	T_EQ(info.pinned, t.vd->dma.len);
	room = info.pin_limit - info.pinned;
	fprintf(stderr, "limit %u KiB, ring area %llu KiB, room %llu KiB\n", LIMIT / 1024,
		(unsigned long long)info.pinned / 1024, (unsigned long long)room / 1024);

	buf = mmap(NULL, room, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	more = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	T_ASSERT(buf != MAP_FAILED && more != MAP_FAILED);
	memset(buf, 0x61, room);
	T_OK(wd_share(t.dom, buf, room, 0, &iova)); /* all the room shown */
	T_EQ(t_vm_locked_kb(), (long)(LIMIT / 1024)); /* charged once */
	T_OK(wd_domain_info(t.dom, &info));
	T_EQ(info.pinned, info.pin_limit);
	T_EQ(wd_share(t.dom, more, 4096, 0, &extra), -ENOMEM);
	device_works(&t, iova);

	T_OK(wd_unshare(t.dom, iova, 0, -1));
	T_EQ(t_vm_locked_kb(), (long)(t.vd->dma.len / 1024));
	t_vfio_close(&t);
	T_EQ(t_vm_locked_kb(), 0);
	munmap(buf, room);
	munmap(more, 4096);
	return 0;
}
