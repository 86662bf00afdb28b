/*
 * Hostile clients and memory, while two well-behaved clients keep working
 * (t_wdd_hostile.h):
 *
 * domfree   DOMAIN_FREE of a domain an explicit queue is on: -EBUSY while the
 *           queue exists (today 0, and closing the queue then uses freed
 *           memory), 0 after it is closed, -ENOENT the second time.
 * ringtrunc the ring memfd (QUEUE_OPEN reply fd [0]) truncated, grown, sealed
 *           and mapped oddly: after the fix it is sealed (ftruncate: EPERM);
 *           today truncating it under the engine makes the daemon fault.
 * sharefile SHARE of what is not a sealed memfd on tmpfs/hugetlbfs: a regular
 *           file on disk (-EINVAL; today accepted, and truncating it makes the
 *           daemon fault), a pipe, a socket, /proc/self/mem (-EINVAL), an
 *           unsealed memfd (-EPERM), wrapping or oversized offsets/lengths.
 * iova0     SHARE at address 0 (and others): the IOVA returned is never an
 *           address of the daemon's own mappings (/proc/<wdd>/maps).
 * races     explicit: UNSHARE racing copies that use the range; SVA: the
 *           buffer a compression reads unmapped while it runs.
 * sparse    SHARE of 512 MiB of a memfd never touched: the daemon neither
 *           faults it in nor locks it (it used to mlock the whole range:
 *           512 MiB of the daemon's memory, locked, for a client that has
 *           none in use, and seconds of the control thread); a copy within
 *           the share still works.
 */
#define _GNU_SOURCE
#include <sys/statfs.h>
#include <linux/magic.h>
#include "t_wdd_hostile.h"

#define PS 4096u

static void s_domfree(struct t_wdd *w)
{
	struct t_raw r;
	struct t_rawq q;
	uint32_t dom;

	t_stage("domfree: a domain freed under its queue", 30);
	t_raw_open(&r, w->sock);
	T_OK(t_raw_domain_new(&r, &dom));
	T_OK(t_raw_queue_open(&r, "mover", 8, dom, 0, &q));
	T_EQ(t_raw_domain_free(&r, dom), -EBUSY);
	T_EQ(t_raw_queue_close(&r, q.id), 0);
	T_EQ(t_raw_domain_free(&r, dom), 0);
	T_EQ(t_raw_domain_free(&r, dom), -ENOENT);
	t_rawq_drop(&q);
	t_raw_close(&r);
	t_wdd_alive(w, "domfree");
}

static void s_ringtrunc(struct t_wdd *w)
{
	struct t_raw r;
	struct t_rawq q;
	uint64_t one = 1;
	void *m;
	int ret, e;

	t_stage("ringtrunc: the ring memfd truncated under the engine", 30);
	t_raw_open(&r, w->sock);
	T_OK(t_raw_queue_open(&r, "nop", 64, 0, 0, &q));
	/* mapped at other sizes: only our own business */
	m = mmap(NULL, q.size * 4, PROT_READ, MAP_SHARED, q.ring_fd, 0);
	if (m != MAP_FAILED)
		munmap(m, q.size * 4);
	m = mmap(NULL, PS, PROT_READ | PROT_WRITE, MAP_SHARED, q.ring_fd, (off_t)PS);
	if (m != MAP_FAILED)
		munmap(m, PS);
	ret = fcntl(q.ring_fd, F_ADD_SEALS, F_SEAL_WRITE);
	e = errno;
	printf("ringtrunc: F_ADD_SEALS(F_SEAL_WRITE): %d (%s)\n", ret, ret ? strerror(e) : "ok");
	ret = ftruncate(q.ring_fd, (off_t)q.size * 2);
	e = errno;
	printf("ringtrunc: grow: %d (%s)\n", ret, ret ? strerror(e) : "ok");
	ret = ftruncate(q.ring_fd, 0);
	e = errno;
	printf("ringtrunc: truncate to 0: %d (%s)\n", ret, ret ? strerror(e) : "ok");
	/* and ring: the engine looks at the ring it may no longer have */
	if (write(q.db_fd, &one, sizeof(one)) < 0)
		(void)0;
	usleep(200000);
	t_wdd_alive(w, "ringtrunc");
	t_victims_check("ringtrunc");
	T_EQ(ret, -1);
	T_EQ(e, EPERM); /* sealed against shrinking (and growing) */
	T_EQ(t_raw_queue_close(&r, q.id), 0);
	t_rawq_drop(&q);
	t_raw_close(&r);
}

/* A fresh connection per attempt that may cost it (a refusal may hang up). */
static int try_share(struct t_wdd *w, int fd, uint64_t addr, uint64_t len, uint64_t off)
{
	struct t_raw r;
	uint32_t dom;
	int ret;

	t_raw_open(&r, w->sock);
	T_OK(t_raw_domain_new(&r, &dom));
	ret = t_raw_share(&r, dom, 0, addr, len, off, fd, NULL);
	t_raw_close(&r);
	return ret;
}

static void s_sharefile(struct t_wdd *w)
{
	struct statfs sfs;
	int fd, s[2], p[2], ret, mem;
	char path[] = "t-hostile-share-XXXXXX";

	t_stage("sharefile: shares of what is not a sealed memfd", 60);
	/* a regular file on disk (the working directory: the build tree) */
	fd = mkstemp(path);
	T_ASSERT(fd >= 0);
	unlink(path);
	T_OK(ftruncate(fd, 16 * PS));
	T_OK(fstatfs(fd, &sfs));
	if (sfs.f_type != TMPFS_MAGIC) {
		ret = try_share(w, fd, 0x10000000, 16 * PS, 0);
		if (!ret) { /* accepted: show what it costs */
			struct t_raw r;
			struct t_rawq q;
			uint32_t dom;
			uint64_t iova;
			struct wd_req req;
			struct wd_cpl c;

			t_raw_open(&r, w->sock);
			T_OK(t_raw_domain_new(&r, &dom));
			T_OK(t_raw_share(&r, dom, 0, 0x10000000, 16 * PS, 0, fd, &iova));
			T_OK(t_raw_queue_open(&r, "mover", 8, dom, 1, &q));
			T_OK(ftruncate(fd, 0));
			wd_prep_copy(&req, (void *)(uintptr_t)(iova + 8 * PS),
				     (void *)(uintptr_t)iova, 4 * PS);
			t_rawq_submit(&q, &req, 1);
			t_rawq_reap(&q, &c, 1, 2000);
			t_wdd_alive(w, "sharefile: a shared disk file truncated");
			t_rawq_drop(&q);
			t_raw_close(&r);
		}
		T_EQ(ret, -EINVAL);
	} else {
		printf("sharefile: the working directory is tmpfs: no disk file case\n");
	}
	close(fd);
	T_OK(pipe2(p, O_CLOEXEC));
	T_EQ(try_share(w, p[0], 0x10000000, PS, 0), -EINVAL);
	close(p[0]);
	close(p[1]);
	T_OK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, s));
	T_EQ(try_share(w, s[0], 0x10000000, PS, 0), -EINVAL);
	close(s[0]);
	close(s[1]);
	mem = open("/proc/self/mem", O_RDWR | O_CLOEXEC);
	T_ASSERT(mem >= 0);
	T_EQ(try_share(w, mem, (uintptr_t)&sfs & ~(PS - 1), PS, (uintptr_t)&sfs & ~(PS - 1)),
	     -EINVAL);
	close(mem);
	/* memfds: unsealed, then sealed and grown, then silly numbers */
	fd = t_memfd(4 * PS, 0);
	T_EQ(try_share(w, fd, 0x10000000, PS, 0), -EPERM);
	close(fd);
	fd = t_memfd(PS, F_SEAL_SHRINK);
	T_OK(ftruncate(fd, 4 * PS)); /* grown after the seal: the pages exist */
	ret = try_share(w, fd, 0x10000000, 4 * PS, 0);
	T_ASSERT(ret == 0 || ret == -EINVAL);
	T_EQ(try_share(w, fd, 0x10000000, 5 * PS, 0), -EINVAL);
	T_EQ(try_share(w, fd, 0x10000000, PS, 4 * PS), -EINVAL);
	T_EQ(try_share(w, fd, 0x10000000, PS, UINT64_MAX & ~(uint64_t)(PS - 1)), -EINVAL);
	T_EQ(try_share(w, fd, 0x10000000, PS, 1), -EINVAL);
	T_EQ(try_share(w, fd, 0x10000000, UINT64_MAX, 0), -EINVAL);
	T_EQ(try_share(w, fd, 0x10000000, 0, 0), -EINVAL);
	T_EQ(try_share(w, fd, UINT64_MAX - 10, 100, 0), -EINVAL);
	T_EQ(try_share(w, fd, UINT64_MAX - PS + 1, PS, 0), -EINVAL);
	T_EQ(try_share(w, fd, 0x10000000, (uint64_t)1 << 63, 0), -EINVAL);
	T_EQ(try_share(w, -1, 0x10000000, PS, 0), -EINVAL); /* no fd at all */
	close(fd);
	t_victims_check("sharefile");
	t_wdd_alive(w, "sharefile");
}

/* Is [a, a+len) inside any mapping of the daemon? */
static int in_daemon_maps(pid_t pid, uint64_t a, uint64_t len)
{
	char path[64], line[512];
	unsigned long long lo, hi;
	int hit = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	f = fopen(path, "r");
	T_ASSERT(f);
	while (!hit && fgets(line, sizeof(line), f))
		if (sscanf(line, "%llx-%llx", &lo, &hi) == 2 && a < hi && lo < a + len)
			hit = 1;
	fclose(f);
	return hit;
}

static void s_iova0(struct t_wdd *w)
{
	static const uint64_t addrs[] = { 0, PS, 0x7f0000000000ull, 0x10000000 };
	struct t_raw r;
	uint64_t iova;
	uint32_t dom;
	unsigned i;
	int fd = t_memfd(PS, F_SEAL_SHRINK);

	t_stage("iova0: IOVAs are never daemon addresses", 30);
	t_raw_open(&r, w->sock);
	T_OK(t_raw_domain_new(&r, &dom));
	for (i = 0; i < sizeof(addrs) / sizeof(addrs[0]); i++) {
		T_OK(t_raw_share(&r, dom, 0, addrs[i], PS, 0, fd, &iova));
		printf("iova0: address 0x%llx -> IOVA 0x%llx\n", (unsigned long long)addrs[i],
		       (unsigned long long)iova);
		if (in_daemon_maps(w->pid, iova, PS))
			T_FAIL("iova0: share at 0x%llx got IOVA 0x%llx, a daemon mapping",
			       (unsigned long long)addrs[i], (unsigned long long)iova);
	}
	close(fd);
	t_raw_close(&r);
	t_wdd_alive(w, "iova0");
}

static void s_sparse(struct t_wdd *w)
{
	const uint64_t len = 512ull << 20, addr = 0x10000000;
	long lck0 = t_proc_kb(w->pid, "VmLck"), shm0 = t_proc_kb(w->pid, "RssShmem");
	int fd = t_memfd(len, F_SEAL_SHRINK);
	static const char text[] = "only these pages are ever touched";
	struct t_raw r;
	struct t_rawq q;
	struct wd_req req;
	struct wd_cpl c;
	uint64_t iova;
	uint32_t dom;
	char back[sizeof(text)];
	long lck, shm;

	t_stage("sparse: a share of memory nobody touched", 60);
	T_EQ(pwrite(fd, text, sizeof(text), 0), (ssize_t)sizeof(text));
	t_raw_open(&r, w->sock);
	T_OK(t_raw_domain_new(&r, &dom));
	T_OK(t_raw_share(&r, dom, 0, addr, len, 0, fd, &iova));
	lck = t_proc_kb(w->pid, "VmLck") - lck0;
	shm = t_proc_kb(w->pid, "RssShmem") - shm0;
	printf("sparse: after a 512 MiB share the daemon holds %ld kB more locked, %ld kB more "
	       "shared memory resident\n", lck, shm);
	if (lck > 1024 || shm > 16384)
		T_FAIL("sparse: the daemon locked %ld kB / faulted in %ld kB for it", lck, shm);
	/* the first page to one far away: both touched by the engine only */
	T_OK(t_raw_queue_open(&r, "mover", 8, dom, 1, &q));
	wd_prep_copy(&req, (void *)(uintptr_t)(iova + len - PS), (void *)(uintptr_t)iova,
		     sizeof(text));
	t_rawq_submit(&q, &req, 1);
	T_EQ(t_rawq_reap(&q, &c, 1, 10000), 1);
	T_EQ(c.status, 0);
	T_EQ(pread(fd, back, sizeof(back), (off_t)(len - PS)), (ssize_t)sizeof(back));
	T_ASSERT(!memcmp(back, text, sizeof(text)));
	T_EQ(t_raw_queue_close(&r, q.id), 0);
	t_rawq_drop(&q);
	T_OK(t_raw_unshare(&r, dom, iova, 1000));
	close(fd);
	t_raw_close(&r);
	t_wdd_alive(w, "sparse");
}

struct racer {
	struct t_raw *r;
	uint32_t dom;
	int fd, stop;
	unsigned shares;
};

static void *share_flipper(void *arg)
{
	struct racer *x = arg;
	uint64_t iova;
	int ret;

	while (!__atomic_load_n(&x->stop, __ATOMIC_ACQUIRE)) {
		if (t_raw_share(x->r, x->dom, WD_SHARE_IDENTITY, 0x20000000, 16 * PS, 0, x->fd,
				&iova))
			continue;
		x->shares++;
		/* the daemon waits a bounded time per call: ask until it is done */
		while ((ret = t_raw_unshare(x->r, x->dom, iova, -1)) == -ETIMEDOUT)
			;
		T_OK(ret);
	}
	return NULL;
}

static void s_races(struct t_wdd *w)
{
	struct racer x = { 0 };
	struct t_raw r;
	struct t_rawq q;
	struct wd_req req[8];
	struct wd_cpl c[64];
	unsigned ok = 0, bad = 0, i, sent = 0;
	pthread_t th;
	double end;
	int n;

	t_stage("races: unshare racing copies on the range", 60);
	t_raw_open(&r, w->sock);
	T_OK(t_raw_domain_new(&r, &x.dom));
	T_OK(t_raw_queue_open(&r, "mover", 64, x.dom, 1, &q));
	x.r = &r; /* the queue is opened: from now on only the flipper speaks */
	x.fd = t_memfd(16 * PS, F_SEAL_SHRINK);
	T_OK(-pthread_create(&th, NULL, share_flipper, &x));
	for (end = t_now() + 2; t_now() < end;) {
		for (i = 0; i < 8; i++)
			wd_prep_copy(&req[i], (void *)(uintptr_t)(0x20000000 + 8 * PS),
				     (void *)(uintptr_t)0x20000000, 8 * PS);
		sent += t_rawq_submit(&q, req, 8);
		n = t_rawq_reap(&q, c, 64, 5000);
		T_ASSERT(n > 0);
		for (i = 0; i < (unsigned)n; i++)
			c[i].status ? bad++ : ok++;
	}
	__atomic_store_n(&x.stop, 1, __ATOMIC_RELEASE);
	pthread_join(th, NULL);
	printf("races: %u shares flipped, %u copies done, %u refused (range gone)\n", x.shares,
	       ok, bad);
	close(x.fd);
	t_rawq_drop(&q);
	t_raw_close(&r);
	t_victims_check("unshare races");

	t_stage("races: an SVA buffer unmapped under a compression", 60);
	{
		struct wd_ctx *ctx = t_wdd_ctx();
		struct wd_queue *sq = t_wdd_queue(ctx, "gzip", 0, NULL);
		size_t len = 8 << 20;
		unsigned char *dst = malloc(wd_comp_bound(len));
		struct wd_cpl cc;

		for (i = 0; i < 10; i++) {
			unsigned char *src = mmap(NULL, len, PROT_READ | PROT_WRITE,
						  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

			T_ASSERT(src != MAP_FAILED);
			memset(src, 'a' + (int)i, len);
			wd_prep_compress(&req[0], dst, (uint32_t)wd_comp_bound(len), src,
					 (uint32_t)len, 1, WD_COMP_GZIP);
			T_EQ(wd_send(sq, req, 1), 1);
			usleep(i * 300);
			munmap(src, len);
			T_EQ(wd_wait(sq, &cc, 1, 10000), 1);
			printf("races: compression of an unmapped buffer (after %u us): %d\n",
			       i * 300, cc.status);
		}
		free(dst);
		wd_queue_free(sq);
		wd_ctx_free(ctx);
	}
	t_wdd_alive(w, "races");
	(void)sent;
}

int main(int argc, char **argv)
{
	static const struct t_scenario sc[] = {
		{ "domfree", s_domfree },
		{ "ringtrunc", s_ringtrunc },
		{ "sharefile", s_sharefile },
		{ "iova0", s_iova0 },
		{ "races", s_races },
		{ "sparse", s_sparse },
		{ NULL, NULL },
	};

	return t_hostile_main(argc, argv, NULL, sc);
}
