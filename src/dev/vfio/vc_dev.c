/* SPDX-License-Identifier: MIT */
/*
 * The "vfio" driver's devices: probe (which functions, which reserved
 * IOVA), opening one (features, configuration, virtqueues, DMA window),
 * the domain (one IOVA space mapped through VFIO), the monitor that gives
 * the device back when the kernel asks, release, and the ops table.
 */
#define _GNU_SOURCE /* secure_getenv */
#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include <linux/virtio_config.h>
#include <linux/virtio_pci.h>

#include "../../core/driver.h"
#include "../../core/internal.h"
#include "../../mem/domain.h"
#include "vcrypto.h"

#define VIRTIO_ID_CRYPTO_MODERN 0x1054
#define VIRTIO_VENDOR 0x1af4

/* ---- the domain: one IOVA space, mapped through VFIO ---- */

static int vc_dom_create(struct wd_domain *d)
{
	struct vc_dev *vd = d->dev->priv;
	int ret = 0;

	pthread_mutex_lock(&vd->lock);
	if (vd->domain)
		ret = -EBUSY; /* share the first domain: wd_queue_opts.domain */
	else
		vd->domain = d;
	pthread_mutex_unlock(&vd->lock);
	return ret;
}

static void vc_dom_destroy(struct wd_domain *d)
{
	struct vc_dev *vd = d->dev->priv;

	pthread_mutex_lock(&vd->lock);
	if (vd->domain == d)
		vd->domain = NULL;
	pthread_mutex_unlock(&vd->lock);
}

static int vc_dma_map(struct wd_domain *d, uint64_t iova, void *host, uint64_t len,
		      unsigned flags)
{
	struct vc_dev *vd = d->dev->priv;

	return vfio_dma_map(&vd->v, iova, host, len, !!(flags & WD_SHARE_READONLY));
}

static void vc_dma_unmap(struct wd_domain *d, uint64_t iova, uint64_t len)
{
	struct vc_dev *vd = d->dev->priv;

	vfio_dma_unmap(&vd->v, iova, len);
}

static int vc_dirty_hw_ctl(struct wd_domain *d, int start)
{
	struct vc_dev *vd = d->dev->priv;
	int ret = vfio_dirty_ctl(&vd->v, start);

	return ret == -EOPNOTSUPP ? 0 : ret; /* the library's own bits still work */
}

static int vc_dirty_hw_read(struct wd_domain *d, uint64_t iova, uint64_t len, uint64_t *bitmap)
{
	struct vc_dev *vd = d->dev->priv;
	uint64_t ps = (uint64_t)sysconf(_SC_PAGESIZE);

	if (!vd->v.dirty_ok) { /* no IOMMU view: everything may be dirty */
		memset(bitmap, 0xff, (len / ps + 63) / 64 * 8);
		return 0;
	}
	return vfio_dirty_get(&vd->v, iova, len, ps, bitmap);
}

/* ---- the device ---- */

_Static_assert(WD_MAX_RESV == sizeof(((struct wd_dev *)0)->resv) / sizeof(struct wd_iova_range),
	       "a device's reserved regions");
unsigned wd__vfio_resv_max = WD_MAX_RESV;
const struct vfio_pci *wd__vfio_fake_fn;

/* IOVA the device must not be given: outside the kernel's ranges, and the
 * window holding the driver's own DMA memory; into out[WD_MAX_RESV]. */
static int reserve(struct wd_iova_range *out, uint32_t *nout, const struct vfio_pci *v,
		   uint64_t dma_iova)
{
	struct wd_iova_range r[VFIO_MAX_RANGES + 2];
	uint64_t next = 0;
	unsigned i, n = 0;

	for (i = 0; i < v->nranges; i++) {
		if (v->ranges[i].start > next)
			r[n++] = (struct wd_iova_range){ next, v->ranges[i].start - 1 };
		next = v->ranges[i].last + 1;
	}
	if (next) /* 0 when the last range ends at the top */
		r[n++] = (struct wd_iova_range){ next, UINT64_MAX };
	r[n++] = (struct wd_iova_range){ dma_iova, dma_iova + VC_DMA_LEN - 1 };
	if (n > WD_MAX_RESV || n > wd__vfio_resv_max)
		return -E2BIG;
	/* sorted by start: insertion of the DMA window */
	for (i = n - 1; i > 0 && r[i].start < r[i - 1].start; i--) {
		struct wd_iova_range t = r[i];

		r[i] = r[i - 1];
		r[i - 1] = t;
	}
	memcpy(out, r, n * sizeof(r[0]));
	*nout = n;
	return 0;
}

/* The driver's DMA window: the top of the highest usable range, leaving
 * the low IOVAs (where identity maps of small addresses land) to users. */
static int pick_dma_iova(const struct vfio_pci *v, uint64_t *out)
{
	unsigned i = v->nranges;

	while (i--) {
		const struct wd_iova_range *r = &v->ranges[i];
		uint64_t top = (r->last + 1) & ~(uint64_t)(VC_DMA_LEN - 1);

		if (r->last == UINT64_MAX)
			top = 1ull << 47;
		if (top >= VC_DMA_LEN && top - VC_DMA_LEN >= r->start) {
			*out = top - VC_DMA_LEN;
			return 0;
		}
	}
	return -ENOSPC;
}

/*
 * Someone unbinds the device from vfio-pci: the kernel asks for it back and
 * waits until we close it.  Fail the queues (their requests complete with
 * -EIO), wait for their threads to leave the device, then give it back; the
 * container stays, so shares can still be undone.  A thread still on the
 * device after the deadline finds inert memory where the BARs were (see
 * vfio_pci_release_device), never an unmapped hole.
 */
static void release_device(struct vc_dev *vd)
{
	int64_t deadline = vc_mono_ms() + VC_DRAIN_TIMEOUT_MS;
	unsigned i, busy;

	__atomic_store_n(&vd->gone, 1, __ATOMIC_RELEASE);
	do {
		busy = 0;
		pthread_mutex_lock(&vd->lock);
		for (i = 0; i < vd->nq; i++) {
			struct vc_queue *cq = vd->queues[i];

			/* a registered queue's thread runs until it says it is off */
			if (cq && !__atomic_load_n(&cq->off_device, __ATOMIC_ACQUIRE)) {
				eventfd_write(cq->kick_fd, 1);
				busy++;
			}
		}
		pthread_mutex_unlock(&vd->lock);
		if (busy)
			usleep(100);
	} while (busy && vc_mono_ms() < deadline);
	if (busy && secure_getenv("WD_DEBUG"))
		fprintf(stderr, "wd: vfio %s: %u queue thread(s) still on the device; releasing\n",
			vd->v.addr, busy);
	pthread_mutex_lock(&vd->lock);
	vc_stop_device(vd); /* no DMA after we let go */
	vfio_pci_release_device(&vd->v);
	vd->released = 1;
	pthread_mutex_unlock(&vd->lock);
}

static void *monitor_main(void *arg)
{
	struct vc_dev *vd = arg;
	struct pollfd pfd[2] = { { .fd = vd->req_fd, .events = POLLIN },
				 { .fd = vd->stop_fd, .events = POLLIN } };

	while (poll(pfd, 2, -1) < 0 && errno == EINTR)
		;
	if (pfd[0].revents & POLLIN) {
		if (secure_getenv("WD_DEBUG"))
			fprintf(stderr, "wd: vfio %s: the kernel wants it back; releasing\n",
				vd->v.addr);
		release_device(vd);
	}
	return NULL;
}

/* Listen for the kernel's request to give the device back. */
static void start_monitor(struct vc_dev *vd)
{
	vd->req_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	vd->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (vd->req_fd < 0 || vd->stop_fd < 0 || vfio_req_notify(&vd->v, vd->req_fd))
		return; /* an old kernel: unbinding then waits for the process to end */
	vd->monitor_on = !pthread_create(&vd->monitor, NULL, monitor_main, vd);
}

static void vc_dev_free(struct vc_dev *vd, int in_child)
{
	unsigned i;

	if (!in_child && vd->monitor_on) {
		eventfd_write(vd->stop_fd, 1);
		pthread_join(vd->monitor, NULL);
	}
	if (!in_child) {
		if (vd->req_fd >= 0)
			close(vd->req_fd);
		if (vd->stop_fd >= 0)
			close(vd->stop_fd);
		if (vd->t.v && !vd->released)
			vc_stop_device(vd); /* stop all DMA before unmapping */
		dma_area_fini(&vd->dma, &vd->v);
		vfio_pci_close(&vd->v);
		for (i = 0; i < VC_MAX_QUEUES; i++)
			if (vd->irq_fds[i] >= 0)
				close(vd->irq_fds[i]);
		pthread_mutex_destroy(&vd->lock);
	}
	free(vd);
}

static int setup_queues(struct vc_dev *vd)
{
	uint16_t vec;
	unsigned i;
	int ret;

	vd->nq = vd->cfg.max_dataqueues < VC_MAX_QUEUES ? vd->cfg.max_dataqueues : VC_MAX_QUEUES;
	if (!vd->nq || vpci_num_queues(&vd->t) < vd->cfg.max_dataqueues + 1)
		return -ENODEV;
	for (i = 0; i < vd->nq; i++) {
		vd->irq_fds[i] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (vd->irq_fds[i] < 0)
			return -errno;
	}
	/* interrupts are a way to sleep while the device works, not a must */
	vd->msix = vd->v.msix_count >= vd->nq && !vfio_msix_set(&vd->v, vd->nq, vd->irq_fds);
	for (i = 0; i < vd->nq; i++) {
		vec = vd->msix ? (uint16_t)i : VIRTIO_MSI_NO_VECTOR;
		ret = virtq_setup(&vd->t, &vd->dq[i], &vd->dma, (uint16_t)i, VC_VQ_SIZE, vec);
		if (ret)
			return ret;
		vd->slots[i] = dma_alloc(&vd->dma, (uint64_t)vd->dq[i].size * sizeof(struct vc_slot),
					 128, &vd->slots_iova[i]);
		if (!vd->slots[i])
			return -ENOMEM;
	}
	ret = virtq_setup(&vd->t, &vd->ctlq, &vd->dma, (uint16_t)vd->cfg.max_dataqueues, 16,
			  VIRTIO_MSI_NO_VECTOR);
	if (ret)
		return ret;
	vd->ctl = dma_alloc(&vd->dma, 512, 64, &vd->ctl_iova);
	return vd->ctl ? 0 : -ENOMEM;
}

/* The device may offer small virtqueues (virtq_setup takes what it
 * offers): one that cannot hold the largest request would keep it waiting
 * for room forever.  Refused whole rather than serving some requests. */
static int check_room(const struct vc_dev *vd)
{
	unsigned i;

	for (i = 0; i < vd->nq; i++)
		if (vd->dq[i].size < VC_CHAIN_MAX)
			return -ENOSPC;
	return vd->ctlq.size < VC_CTL_CHAIN ? -ENOSPC : 0;
}

/* Why a device was passed over, for WD_DEBUG=1. */
static int step(const char *addr, const char *what, int ret)
{
	if (ret && secure_getenv("WD_DEBUG"))
		fprintf(stderr, "wd: vfio %s: %s: %s\n", addr, what, strerror(-ret));
	return ret;
}

static int vc_open(const char *addr, const struct vfio_pci *fake, struct vc_dev **out)
{
	struct vc_dev *vd = calloc(1, sizeof(*vd));
	uint64_t dma_iova;
	unsigned i;
	int ret = 0;

	if (!vd)
		return -ENOMEM;
	for (i = 0; i < VC_MAX_QUEUES; i++)
		vd->irq_fds[i] = -1;
	vd->req_fd = vd->stop_fd = -1;
	pthread_mutex_init(&vd->lock, NULL);
	if (fake)
		vd->v = *fake; /* a test's function: already "open" */
	else
		ret = step(addr, "open", vfio_pci_open(&vd->v, addr));
	if (ret) {
		pthread_mutex_destroy(&vd->lock);
		free(vd);
		return ret;
	}
	/* as vfio_pci_open enables a real one (a context before may have
	 * turned bus mastering off: vc_stop_device) */
	if (fake)
		ret = step(addr, "enable", vfio_pci_enable(&vd->v));
	if (!ret)
		ret = step(addr, "virtio capabilities", vpci_init(&vd->t, &vd->v));
	if (!ret)
		ret = step(addr, "features", vpci_start(&vd->t, 1ull << VIRTIO_F_ACCESS_PLATFORM));
	/* without it the device bypasses the IOMMU and takes our IOVAs for
	 * physical addresses: never drive such a device from user space */
	if (!ret && !(vd->t.features & (1ull << VIRTIO_F_ACCESS_PLATFORM)))
		ret = step(addr, "no VIRTIO_F_ACCESS_PLATFORM (iommu_platform=on)", -EPERM);
	if (!ret)
		ret = step(addr, "config", vpci_dev_cfg(&vd->t, 0, &vd->cfg, sizeof(vd->cfg)));
	if (!ret && !(vd->cfg.status & VIRTIO_CRYPTO_S_HW_READY))
		ret = step(addr, "not ready", -EAGAIN);
	if (!ret && !(vd->cfg.crypto_services & (1u << VIRTIO_CRYPTO_SERVICE_CIPHER)))
		ret = step(addr, "no cipher service", -EOPNOTSUPP);
	if (!ret)
		ret = step(addr, "IOVA for rings", pick_dma_iova(&vd->v, &dma_iova));
	if (!ret)
		ret = step(addr, "DMA map", dma_area_init(&vd->dma, &vd->v, dma_iova, VC_DMA_LEN));
	if (!ret)
		ret = step(addr, "queues", setup_queues(vd));
	if (!ret)
		ret = step(addr, "virtqueues too small for the largest request", check_room(vd));
	if (ret) {
		vc_dev_free(vd, 0);
		return ret;
	}
	vpci_driver_ok(&vd->t);
	start_monitor(vd);
	*out = vd;
	return 0;
}

static void vc_algs(struct vc_dev *vd)
{
	static const struct {
		uint32_t algo;
		const char *name;
	} names[] = {
		{ VIRTIO_CRYPTO_CIPHER_AES_CBC, "aes-cbc" },
		{ VIRTIO_CRYPTO_CIPHER_AES_CTR, "aes-ctr" },
		{ VIRTIO_CRYPTO_CIPHER_AES_XTS, "aes-xts" },
	};
	unsigned i, n = 0;

	vd->algs[n++] = "cipher";
	vd->algs[n++] = "nop";
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (vd->cfg.cipher_algo_l & (1u << names[i].algo))
			vd->algs[n++] = names[i].name;
	vd->algs[n] = NULL;
}

/* One bad device is passed over (WD_DEBUG says why), not the context:
 * only a failure to register a good one is the context's. */
static int add_device(struct wd_ctx *ctx, const char *addr, unsigned *idx)
{
	struct wd_dev_info info = { .size = sizeof(info) };
	struct wd_iova_range resv[WD_MAX_RESV];
	struct vc_dev *vd;
	struct wd_dev *dev;
	uint16_t vendor, device;
	uint32_t nresv;
	int ret;

	if (!wd__vfio_fake_fn && (vfio_pci_sysfs_ids(addr, &vendor, &device) ||
				  vendor != VIRTIO_VENDOR || device != VIRTIO_ID_CRYPTO_MODERN))
		return 0;
	if (vc_open(addr, wd__vfio_fake_fn, &vd))
		return 0; /* busy or unusable: not a device of this context */
	if (step(addr, "reserved IOVA", reserve(resv, &nresv, &vd->v, vd->dma.iova))) {
		vc_dev_free(vd, 0);
		return 0;
	}
	vc_algs(vd);
	snprintf(info.name, sizeof(info.name), "vfio%u", (*idx)++);
	strcpy(info.driver, "vfio");
	info.flags = WD_DEV_F_EXPLICIT;
	info.max_queues = vd->nq;
	info.max_depth = WD_RING_MAX_ENTRIES;
	info.engines = vd->nq;
	info.throughput_mbps = 100;     /* hints; an emulated device */
	info.latency_ns = 20000;
	info.max_segs = VC_MAX_SEGS;
	info.max_seg_len = (uint32_t)(vd->cfg.max_size < UINT32_MAX ? vd->cfg.max_size : UINT32_MAX);
	ret = wd__dev_add(ctx, &wd_vfio_driver, &info, vd->algs, vd);
	if (ret) {
		vc_dev_free(vd, 0);
		return ret;
	}
	dev = ctx->devs[ctx->ndevs - 1];
	memcpy(dev->resv, resv, nresv * sizeof(resv[0]));
	dev->nresv = nresv;
	dev->pinned_self = vd->dma.len; /* the kernel charges the ring area's MAP_DMA */
	return 0;
}

/* Devices: $WD_VFIO_DEVICE (comma-separated PCI addresses), or every
 * virtio-crypto function bound to vfio-pci. */
static int vc_probe(struct wd_ctx *ctx)
{
	const char *env = secure_getenv("WD_VFIO_DEVICE");
	unsigned idx = 0;
	int ret = 0;

	if (wd__vfio_fake_fn)
		return add_device(ctx, wd__vfio_fake_fn->addr, &idx);
	if (env) {
		char buf[256], *save = NULL, *tok;

		snprintf(buf, sizeof(buf), "%s", env);
		for (tok = strtok_r(buf, ",", &save); tok && !ret; tok = strtok_r(NULL, ",", &save))
			ret = add_device(ctx, tok, &idx);
		return ret;
	}
	DIR *dir = opendir("/sys/bus/pci/drivers/vfio-pci");
	struct dirent *de;

	if (!dir)
		return 0;
	while (!ret && (de = readdir(dir)))
		if (strchr(de->d_name, ':') && strchr(de->d_name, '.'))
			ret = add_device(ctx, de->d_name, &idx);
	closedir(dir);
	return ret;
}

static void vc_remove(struct wd_dev *dev, int in_child)
{
	vc_dev_free(dev->priv, in_child);
}

const struct wd_driver_ops wd_vfio_driver = {
	.name = "vfio",
	.flags = WD_DRV_F_PINS, /* VFIO_IOMMU_MAP_DMA pins and charges the pages */
	.probe = vc_probe,
	.remove = vc_remove,
	.queue_open = vc_queue_open,
	.queue_close = vc_queue_close,
	.queue_start = vc_queue_start,
	.queue_stop = vc_queue_stop,
	.kick = vc_kick,
	.dom_create = vc_dom_create,
	.dom_destroy = vc_dom_destroy,
	.dma_map = vc_dma_map,
	.dma_unmap = vc_dma_unmap,
	.dirty_hw_ctl = vc_dirty_hw_ctl,
	.dirty_hw_read = vc_dirty_hw_read,
	.cipher_session = vc_cipher_session,
	.queue_stats = vc_queue_stats,
};
