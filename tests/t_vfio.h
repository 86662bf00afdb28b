/* Helpers for the VFIO tests: they need a virtio-crypto function bound to
 * vfio-pci (the QEMU rig, tests/vm) and skip anywhere else. */
#ifndef T_VFIO_H
#define T_VFIO_H

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>
#include <wd/crypto.h>
#include <wd/mem.h>
#include "t_helpers.h"
#include "core/internal.h"
#include "dev/vfio/vcrypto.h"

struct t_vfio {
	struct wd_ctx *ctx;
	struct wd_dev *dev;
	struct vc_dev *vd;
	struct wd_domain *dom;
};

/* 0, or T_SKIP when this machine has no such device. */
/* val into a sysfs file (bind, unbind, driver_override): 0 or -errno. */
static inline int t_vfio_sysfs_write(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, val, strlen(val));
	close(fd);
	return n < 0 ? -errno : 0;
}

/* The name of the driver a PCI function is bound to ("none"), in buf. */
static inline const char *t_vfio_driver_of(const char *addr, char *buf, size_t len)
{
	char path[128];
	ssize_t n;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver", addr);
	n = readlink(path, buf, len - 1);
	if (n < 0)
		return "none";
	buf[n] = 0;
	return strrchr(buf, '/') ? strrchr(buf, '/') + 1 : buf;
}

static inline int t_vfio_open(struct t_vfio *t)
{
	memset(t, 0, sizeof(*t));
	if (!getenv("WD_VFIO_DEVICE")) {
		fprintf(stderr, "skip: no VFIO device (WD_VFIO_DEVICE unset; runs in tests/vm)\n");
		return T_SKIP;
	}
	t->ctx = t_ctx(1, 0);
	t->dev = wd_dev_by_name(t->ctx, "vfio0");
	if (!t->dev) {
		fprintf(stderr, "skip: %s is not usable (WD_DEBUG=1 says why)\n",
			getenv("WD_VFIO_DEVICE"));
		wd_ctx_free(t->ctx);
		return T_SKIP;
	}
	t->vd = t->dev->priv;
	T_OK(wd_domain_new(&t->dom, t->ctx, "vfio0"));
	return 0;
}

/* A queue with flags (say WD_QUEUE_F_FALLBACK_KEEP_KEYS) on the device. */
static inline struct wd_queue *t_vfio_queue_flags(struct t_vfio *t, unsigned depth,
						  unsigned flags)
{
	struct wd_queue_opts o = { .size = sizeof(o), .depth = depth, .device = "vfio0",
				   .flags = WD_QUEUE_F_EXPLICIT | flags, .domain = t->dom };
	struct wd_queue *q = NULL;

	T_OK(wd_queue_new(&q, t->ctx, "cipher", &o));
	return q;
}

/* The driver's own behaviour: without the fallback to the built-in engine
 * (t_vfio_failover has it). */
static inline struct wd_queue *t_vfio_queue(struct t_vfio *t, unsigned depth)
{
	return t_vfio_queue_flags(t, depth, WD_QUEUE_F_NO_FALLBACK);
}

/* Page-aligned anonymous memory shared with the device. */
static inline void *t_vfio_buf(struct t_vfio *t, size_t len, uint64_t *iova)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	T_ASSERT(p != MAP_FAILED);
	T_OK(wd_share(t->dom, p, len, 0, iova));
	return p;
}

static inline int t_vfio_has(const struct t_vfio *t, const char *alg)
{
	const char *const *a;

	for (a = t->dev->algs; *a; a++)
		if (!strcmp(*a, alg))
			return 1;
	return 0;
}

/* n requests of len bytes each, encrypting src into n slots of dst, sent at
 * once: load for the failure tests. */
static inline void t_vfio_flood(struct wd_queue *q, struct wd_cipher_sess *s, uint64_t src,
				uint64_t dst, struct wd_req *r, int n, uint32_t len)
{
	static const uint8_t iv[16];
	int i;

	for (i = 0; i < n; i++) {
		wd_prep_encrypt(&r[i], s, iv, src, dst + (uint64_t)i * len, len);
		r[i].tag = (uint64_t)i;
	}
	T_EQ(wd_send(q, r, n), n);
}

/* After the device failed: every one of n requests is answered - done,
 * -EIO, or cancelled when the queue stops - within 20 s; counts by status. */
static inline void t_vfio_account(struct wd_queue *q, int n, int *ok, int *eio, int *cancelled)
{
	struct wd_cpl c[64];
	double t0 = t_now();
	int i, k, got = 0;

	*ok = *eio = *cancelled = 0;
	while (got < n && t_now() - t0 < 20) {
		k = wd_wait(q, c, 64, 1000);
		if (k == -EIO)
			break; /* the ring is dead: the rest comes with the stop */
		if (k == -ETIMEDOUT || k == -EINTR)
			continue; /* slow under the sanitizers in TCG: the 20 s bound decides */
		T_ASSERT(k >= 0);
		for (i = 0; i < k; i++) {
			T_ASSERT(c[i].status == 0 || c[i].status == -EIO);
			*ok += !c[i].status;
			*eio += c[i].status == -EIO;
		}
		got += k;
	}
	T_ASSERT(t_now() - t0 < 20);
	T_OK(wd_queue_stop(q)); /* what the driver never took is cancelled */
	while ((k = wd_recv(q, c, 64)) > 0) {
		for (i = 0; i < k; i++) {
			T_ASSERT(c[i].status == -ECANCELED || c[i].status == -EIO);
			*cancelled += c[i].status == -ECANCELED;
			*eio += c[i].status == -EIO;
		}
		got += k;
	}
	T_EQ(got, n);
}

static inline void t_vfio_close(struct t_vfio *t)
{
	T_OK(wd_domain_free(t->dom));
	wd_ctx_free(t->ctx);
}

#endif
