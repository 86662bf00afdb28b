/* A virtio-crypto function in this process (vc_fake.h): config space in a
 * memfd, BAR 0 registers, the IOMMU table, its life.  Everything the device
 * does (register accesses from the driver's threads, DMA from its own)
 * happens under one lock, so a reset or bus mastering going off is atomic
 * with respect to its DMA: after either, it writes nothing. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/virtio_config.h>
#include <linux/virtio_crypto.h>
#include <linux/virtio_pci.h>
#include <pthread.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "vc_fake_int.h"

#define CC(f) (COMMON_OFF + offsetof(struct virtio_pci_common_cfg, f))

int fk_bm_on(struct fk_dev *f)
{
	uint16_t cmd = 0;

	return pread(f->cfg_fd, &cmd, 2, 4) == 2 && (cmd & 0x4);
}

int fk_is_stopped(struct fk_dev *f)
{
	return f->st.resets > 0 || !fk_bm_on(f);
}

/* ---- registers ---- */

static void reset(struct fk_dev *f)
{
	if (f->gone || (f->o.no_reset_ack && f->st.triggered)) {
		f->st.resets_ignored++;
		return;
	}
	if (f->o.reset_lies && f->st.triggered) {
		f->status = 0; /* and nothing else */
		f->st.resets_lied++;
		return;
	}
	if (f->ever_ok)
		f->st.resets++;
	f->status = 0;
	for (unsigned i = 0; i < FK_MAXQ; i++) {
		struct fk_req *t = f->vq[i].taken;

		f->vq[i] = (struct fk_vq){ .size = f->o.qsize ? f->o.qsize : 128,
					   .msix = VIRTIO_MSI_NO_VECTOR, .taken = t };
	}
	memset(f->sess, 0, sizeof(f->sess));
}

static uint32_t common_read(struct fk_dev *f, uint64_t off)
{
	struct fk_vq *q = f->qsel < nqueues(f) ? &f->vq[f->qsel] : NULL;

	switch (off) {
	case CC(device_feature_select): return f->dfsel;
	case CC(device_feature): /* VERSION_1 and ACCESS_PLATFORM: bits 32, 33 */
		return f->dfsel == 1 ? 3 : 0;
	case CC(guest_feature_select): return f->gfsel;
	case CC(guest_feature): return f->gf[f->gfsel & 1];
	case CC(msix_config): return VIRTIO_MSI_NO_VECTOR;
	case CC(num_queues): return nqueues(f);
	case CC(device_status): return f->status;
	case CC(config_generation): return f->o.cfg_unstable ? f->gen++ : f->gen;
	case CC(queue_select): return f->qsel;
	case CC(queue_size): return q ? q->size : 0;
	case CC(queue_msix_vector): return q ? q->msix : VIRTIO_MSI_NO_VECTOR;
	case CC(queue_enable): return q ? q->enable : 0;
	case CC(queue_notify_off): return f->qsel;
	case CC(queue_desc_lo): return q ? (uint32_t)q->desc : 0;
	case CC(queue_desc_hi): return q ? (uint32_t)(q->desc >> 32) : 0;
	case CC(queue_avail_lo): return q ? (uint32_t)q->avail : 0;
	case CC(queue_avail_hi): return q ? (uint32_t)(q->avail >> 32) : 0;
	case CC(queue_used_lo): return q ? (uint32_t)q->used : 0;
	case CC(queue_used_hi): return q ? (uint32_t)(q->used >> 32) : 0;
	}
	return 0;
}

static void set_half(uint64_t *x, int hi, uint32_t v)
{
	*x = hi ? (*x & 0xffffffffull) | (uint64_t)v << 32 : (*x & ~0xffffffffull) | v;
}

static void common_write(struct fk_dev *f, uint64_t off, uint32_t v)
{
	struct fk_vq *q = f->qsel < nqueues(f) ? &f->vq[f->qsel] : NULL;

	switch (off) {
	case CC(device_feature_select): f->dfsel = v; return;
	case CC(guest_feature_select): f->gfsel = v; return;
	case CC(guest_feature): f->gf[f->gfsel & 1] = v; return;
	case CC(device_status):
		if (!v)
			reset(f);
		else
			f->status = (uint8_t)v;
		if (v & VIRTIO_CONFIG_S_DRIVER_OK)
			f->ever_ok = 1;
		return;
	case CC(queue_select): f->qsel = (uint16_t)v; return;
	}
	if (!q)
		return;
	switch (off) {
	case CC(queue_size): q->size = (uint16_t)v; break;
	case CC(queue_msix_vector): q->msix = (uint16_t)v; break;
	case CC(queue_enable): q->enable = (uint16_t)v; break;
	case CC(queue_desc_lo): set_half(&q->desc, 0, v); break;
	case CC(queue_desc_hi): set_half(&q->desc, 1, v); break;
	case CC(queue_avail_lo): set_half(&q->avail, 0, v); break;
	case CC(queue_avail_hi): set_half(&q->avail, 1, v); break;
	case CC(queue_used_lo): set_half(&q->used, 0, v); break;
	case CC(queue_used_hi): set_half(&q->used, 1, v); break;
	}
}

static uint32_t bar_read(void *priv, unsigned bar, uint64_t off, unsigned len)
{
	struct fk_dev *f = priv;
	uint32_t x = 0;

	pthread_mutex_lock(&f->lock);
	if (f->gone || bar)
		x = 0xffffffff;
	else if (off < NOTIFY_OFF)
		x = common_read(f, off);
	else if (off >= DEV_OFF && off - DEV_OFF + len <= sizeof(f->cfg))
		memcpy(&x, (uint8_t *)&f->cfg + (off - DEV_OFF), len);
	pthread_mutex_unlock(&f->lock);
	return len == 4 ? x : x & ((1u << (8 * len)) - 1);
}

static void bar_write(void *priv, unsigned bar, uint64_t off, unsigned len, uint32_t val)
{
	struct fk_dev *f = priv;

	(void)len;
	pthread_mutex_lock(&f->lock);
	if (f->gone && !bar && off == CC(device_status) && !val)
		f->st.resets_ignored++; /* nobody is there to take it */
	if (!f->gone && !bar) {
		if (off < NOTIFY_OFF)
			common_write(f, off, val);
		else if (off < NOTIFY_OFF + NOTIFY_MULT * nqueues(f))
			pthread_cond_signal(&f->kick);
	}
	pthread_mutex_unlock(&f->lock);
}

/* ---- the IOMMU ---- */

static int dma_map(void *priv, uint64_t iova, const void *host, uint64_t len, int ro)
{
	struct fk_dev *f = priv;
	int ret = -ENOSPC;

	pthread_mutex_lock(&f->lock);
	if (f->nmaps < sizeof(f->maps) / sizeof(f->maps[0])) {
		f->maps[f->nmaps++] = (struct fk_map){ iova, len, (uint8_t *)host, ro };
		ret = 0;
	}
	pthread_mutex_unlock(&f->lock);
	return ret;
}

static int overlaps_held(struct fk_dev *f, uint64_t iova, uint64_t len)
{
	for (unsigned qi = 0; qi < nqueues(f); qi++)
		for (unsigned k = 0; k < f->vq[qi].ntaken; k++) {
			const struct fk_req *r = &f->vq[qi].taken[k];

			for (unsigned i = 0; i < r->nw; i++)
				if (r->w[i].iova < iova + len && iova < r->w[i].iova + r->w[i].len)
					return 1;
		}
	return 0;
}

static int dma_unmap(void *priv, uint64_t iova, uint64_t len)
{
	struct fk_dev *f = priv;
	int ret = -ENOENT;

	pthread_mutex_lock(&f->lock);
	if (!fk_is_stopped(f) && overlaps_held(f, iova, len))
		f->st.unmap_live++;
	for (unsigned i = 0; i < f->nmaps; i++)
		if (f->maps[i].iova == iova && f->maps[i].len == len) {
			f->maps[i] = f->maps[--f->nmaps];
			ret = 0;
			break;
		}
	pthread_mutex_unlock(&f->lock);
	return ret;
}

/* ---- the function ---- */

static void put_cap(uint8_t *cfg, uint8_t at, uint8_t next, uint8_t type, uint32_t off,
		    uint32_t len)
{
	struct virtio_pci_cap c = { .cap_vndr = 0x09, .cap_next = next, .cap_len = sizeof(c),
				    .cfg_type = type, .bar = 0, .offset = off, .length = len };

	memcpy(cfg + at, &c, sizeof(c));
}

struct fk_dev *fk_new(const struct fk_opts *o)
{
	struct fk_dev *f = calloc(1, sizeof(*f));
	uint8_t cfg[256] = { 0 };
	uint32_t mult = NOTIFY_MULT;

	if (!f)
		return NULL;
	f->o = *o;
	if (!f->o.nq || f->o.nq > FK_MAXQ - 1)
		f->o.nq = 1;
	/* vendor 1af4, device 1054, command: memory and bus mastering on */
	cfg[0] = 0xf4, cfg[1] = 0x1a, cfg[2] = 0x54, cfg[3] = 0x10, cfg[4] = 0x6;
	cfg[6] = 0x10; /* a capability list */
	cfg[0x34] = 0x40;
	put_cap(cfg, 0x40, 0x50, VIRTIO_PCI_CAP_COMMON_CFG, COMMON_OFF,
		sizeof(struct virtio_pci_common_cfg));
	put_cap(cfg, 0x50, 0x68, VIRTIO_PCI_CAP_NOTIFY_CFG, NOTIFY_OFF, 0x1000);
	memcpy(cfg + 0x60, &mult, 4);
	put_cap(cfg, 0x68, 0x78, VIRTIO_PCI_CAP_ISR_CFG, ISR_OFF, 4);
	put_cap(cfg, 0x78, 0, VIRTIO_PCI_CAP_DEVICE_CFG, DEV_OFF, sizeof(f->cfg));
	f->cfg_fd = memfd_create("vc-fake-cfg", MFD_CLOEXEC);
	if (f->cfg_fd < 0 || pwrite(f->cfg_fd, cfg, sizeof(cfg), 0) != sizeof(cfg))
		abort();
	f->cfg.status = VIRTIO_CRYPTO_S_HW_READY;
	f->cfg.max_dataqueues = f->o.nq;
	f->cfg.crypto_services = 1u << VIRTIO_CRYPTO_SERVICE_CIPHER;
	f->cfg.cipher_algo_l = (1u << VIRTIO_CRYPTO_CIPHER_AES_CBC) |
			       (1u << VIRTIO_CRYPTO_CIPHER_AES_CTR);
	f->cfg.max_cipher_key_len = 32;
	f->cfg.max_size = 1u << 20;
	for (unsigned i = 0; i < FK_MAXQ; i++)
		if (!(f->vq[i].taken = calloc(VIRTQ_MAX_SIZE, sizeof(struct fk_req))))
			abort();
	reset(f);
	f->ops = (struct vfio_fake){ bar_read, bar_write, dma_map, dma_unmap, f };
	pthread_mutex_init(&f->lock, NULL);
	pthread_cond_init(&f->kick, NULL);
	if (pthread_create(&f->thread, NULL, fk_main, f))
		abort();
	return f;
}

const struct vfio_pci *fk_fn(struct fk_dev *f)
{
	struct vfio_pci *v = &f->fn;

	memset(v, 0, sizeof(*v));
	v->container = v->group = -1;
	v->device = fcntl(f->cfg_fd, F_DUPFD_CLOEXEC, 0);
	strcpy(v->addr, "fake:00.0");
	v->cfg_size = 256;
	v->bars[0].size = BAR_LEN;
	v->ranges[0] = (struct wd_iova_range){ 1ull << 20, (1ull << 39) - 1 };
	v->nranges = 1;
	v->iova_pgsizes = 4096;
	v->fake = &f->ops;
	return v;
}

void fk_free(struct fk_dev *f)
{
	pthread_mutex_lock(&f->lock);
	f->quit = 1;
	pthread_cond_signal(&f->kick);
	pthread_mutex_unlock(&f->lock);
	pthread_join(f->thread, NULL);
	close(f->cfg_fd);
	for (unsigned i = 0; i < FK_MAXQ; i++)
		free(f->vq[i].taken);
	pthread_cond_destroy(&f->kick);
	pthread_mutex_destroy(&f->lock);
	free(f);
}

void fk_stats(struct fk_dev *f, struct fk_stats *s)
{
	pthread_mutex_lock(&f->lock);
	*s = f->st;
	s->bm_off = !fk_bm_on(f);
	s->taken = 0;
	for (unsigned i = 0; i < f->o.nq; i++)
		s->taken += f->vq[i].ntaken;
	pthread_mutex_unlock(&f->lock);
}

int fk_stopped(struct fk_dev *f)
{
	int ret;

	pthread_mutex_lock(&f->lock);
	ret = fk_is_stopped(f);
	pthread_mutex_unlock(&f->lock);
	return ret;
}
