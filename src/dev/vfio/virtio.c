/* SPDX-License-Identifier: MIT */
/*
 * Virtio-pci modern transport, from user space: capabilities, reset,
 * feature negotiation, and the transport side of split virtqueues (ring
 * memory, registers, notify).  The rings themselves are virtq.c.
 */
#include <errno.h>
#include <linux/virtio_config.h>
#include <linux/virtio_pci.h>
#include <stddef.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "virtio.h"

/* ---- DMA memory ---- */

int dma_area_init(struct dma_area *a, const struct vfio_pci *v, uint64_t iova, uint64_t len)
{
	int ret;

	a->host = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (a->host == MAP_FAILED) {
		a->host = NULL;
		return -ENOMEM;
	}
	/* a fork child must not share the pages the device writes */
	ret = madvise(a->host, len, MADV_DONTFORK) ? -errno : 0;
	if (!ret)
		ret = vfio_dma_map(v, iova, a->host, len, 0);
	if (ret) {
		munmap(a->host, len);
		a->host = NULL;
		return ret;
	}
	a->iova = iova;
	a->len = len;
	a->used = 0;
	return 0;
}

void dma_area_fini(struct dma_area *a, const struct vfio_pci *v)
{
	if (!a->host)
		return;
	vfio_dma_unmap(v, a->iova, a->len);
	munmap(a->host, a->len);
	a->host = NULL;
}

void *dma_alloc(struct dma_area *a, uint64_t len, uint64_t align, uint64_t *iova)
{
	uint64_t at = (a->used + align - 1) & ~(align - 1);

	if (at > a->len || len > a->len - at)
		return NULL;
	a->used = at + len;
	memset(a->host + at, 0, len);
	*iova = a->iova + at;
	return a->host + at;
}

/* ---- transport ---- */

#define COMMON(f) offsetof(struct virtio_pci_common_cfg, f)

static uint8_t c_read8(const struct vpci *t, size_t off)
{
	return vfio_bar_read8(t->v, t->common.bar, t->common.off + off);
}

static uint16_t c_read16(const struct vpci *t, size_t off)
{
	return vfio_bar_read16(t->v, t->common.bar, t->common.off + off);
}

static uint32_t c_read32(const struct vpci *t, size_t off)
{
	return vfio_bar_read32(t->v, t->common.bar, t->common.off + off);
}

static void c_write8(const struct vpci *t, size_t off, uint8_t x)
{
	vfio_bar_write8(t->v, t->common.bar, t->common.off + off, x);
}

static void c_write16(const struct vpci *t, size_t off, uint16_t x)
{
	vfio_bar_write16(t->v, t->common.bar, t->common.off + off, x);
}

static void c_write32(const struct vpci *t, size_t off, uint32_t x)
{
	vfio_bar_write32(t->v, t->common.bar, t->common.off + off, x);
}

static void c_write64(const struct vpci *t, size_t off, uint64_t x)
{
	c_write32(t, off, (uint32_t)x);
	c_write32(t, off + 4, (uint32_t)(x >> 32));
}

static int read_cap(struct vpci *t, uint8_t pos)
{
	struct virtio_pci_cap cap;
	struct vpci_loc *loc = NULL;
	int ret = vfio_cfg_read(t->v, pos, &cap, sizeof(cap));

	if (ret)
		return ret;
	switch (cap.cfg_type) {
	case VIRTIO_PCI_CAP_COMMON_CFG:
		loc = &t->common;
		break;
	case VIRTIO_PCI_CAP_NOTIFY_CFG:
		loc = &t->notify;
		ret = vfio_cfg_read(t->v, pos + sizeof(cap), &t->notify_mult, 4);
		break;
	case VIRTIO_PCI_CAP_ISR_CFG:
		loc = &t->isr;
		break;
	case VIRTIO_PCI_CAP_DEVICE_CFG:
		loc = &t->dev;
		break;
	}
	/* the first of each type is the preferred one (spec 4.1.4) */
	if (loc && !loc->found && cap.bar < VFIO_MAX_BARS && t->v->bars[cap.bar].size &&
	    cap.offset <= t->v->bars[cap.bar].size &&
	    cap.length <= t->v->bars[cap.bar].size - cap.offset) {
		loc->bar = cap.bar;
		loc->off = cap.offset;
		loc->len = cap.length;
		loc->found = 1;
	}
	return ret;
}

int vpci_init(struct vpci *t, struct vfio_pci *v)
{
	uint16_t status;
	uint8_t pos, hdr[2];
	int ret, guard = 0;

	memset(t, 0, sizeof(*t));
	t->v = v;
	ret = vfio_cfg_read(v, 6, &status, 2);
	if (ret)
		return ret;
	if (!(status & 0x10)) /* no capability list */
		return -ENODEV;
	ret = vfio_cfg_read(v, 0x34, &pos, 1);
	while (!ret && pos && guard++ < 48) {
		pos &= 0xfc;
		ret = vfio_cfg_read(v, pos, hdr, 2);
		if (!ret && hdr[0] == 0x09) /* vendor specific: a virtio cap */
			ret = read_cap(t, pos);
		pos = hdr[1];
	}
	if (ret)
		return ret;
	if (!t->common.found || !t->notify.found || !t->dev.found ||
	    t->common.len < sizeof(struct virtio_pci_common_cfg))
		return -ENODEV;
	return 0;
}

/* Without a common configuration (vpci_init failed) its location is
 * zeros: a status read or a reset would hit BAR 0 at a random register. */
uint8_t vpci_status(const struct vpci *t)
{
	if (!t->common.found)
		return 0xff;
	return c_read8(t, COMMON(device_status));
}

int vpci_reset(struct vpci *t)
{
	int i;

	if (!t->common.found)
		return -ENODEV;
	c_write8(t, COMMON(device_status), 0);
	/* the device acknowledges the reset by reading back 0 (spec 4.1.4.3.2);
	 * until then it may still be writing what it was given */
	for (i = 0; i < 1000; i++) {
		if (!vpci_status(t))
			return 0;
		usleep(1000);
	}
	return -ETIMEDOUT;
}

int vpci_start(struct vpci *t, uint64_t want)
{
	uint64_t offered;

	if (vpci_reset(t))
		return -EIO;
	c_write8(t, COMMON(device_status), VIRTIO_CONFIG_S_ACKNOWLEDGE);
	c_write8(t, COMMON(device_status), VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
	c_write32(t, COMMON(device_feature_select), 0);
	offered = c_read32(t, COMMON(device_feature));
	c_write32(t, COMMON(device_feature_select), 1);
	offered |= (uint64_t)c_read32(t, COMMON(device_feature)) << 32;
	if (!(offered & (1ull << VIRTIO_F_VERSION_1)))
		return -EOPNOTSUPP;
	t->features = offered & (want | (1ull << VIRTIO_F_VERSION_1));
	c_write32(t, COMMON(guest_feature_select), 0);
	c_write32(t, COMMON(guest_feature), (uint32_t)t->features);
	c_write32(t, COMMON(guest_feature_select), 1);
	c_write32(t, COMMON(guest_feature), (uint32_t)(t->features >> 32));
	c_write8(t, COMMON(device_status), VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
						  VIRTIO_CONFIG_S_FEATURES_OK);
	if (!(vpci_status(t) & VIRTIO_CONFIG_S_FEATURES_OK))
		return -EOPNOTSUPP; /* it refused our subset */
	return 0;
}

void vpci_driver_ok(struct vpci *t)
{
	c_write8(t, COMMON(device_status), VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
						  VIRTIO_CONFIG_S_FEATURES_OK |
						  VIRTIO_CONFIG_S_DRIVER_OK);
}

uint16_t vpci_num_queues(const struct vpci *t)
{
	return c_read16(t, COMMON(num_queues));
}

int vpci_dev_cfg(const struct vpci *t, uint32_t off, void *buf, uint32_t len)
{
	uint8_t gen, *out = buf;
	uint32_t i;
	int tries = 0;

	if (off > t->dev.len || len > t->dev.len - off)
		return -EINVAL;
	do {
		if (tries++ > 100)
			return -EIO;
		gen = c_read8(t, COMMON(config_generation));
		for (i = 0; i < len; i++)
			out[i] = vfio_bar_read8(t->v, t->dev.bar, t->dev.off + off + i);
	} while (gen != c_read8(t, COMMON(config_generation)));
	return 0;
}

/* ---- virtqueues on the transport ---- */

int virtq_setup(struct vpci *t, struct virtq *q, struct dma_area *area, uint16_t index,
		uint16_t size, uint16_t msix)
{
	uint64_t desc = 0, avail = 0, used = 0;
	void *d, *a, *u;
	uint16_t max;
	int ret;

	c_write16(t, COMMON(queue_select), index);
	max = c_read16(t, COMMON(queue_size));
	if (!max || max == 0xffff)
		return -ENODEV;
	while (size > max)
		size >>= 1;
	d = dma_alloc(area, VIRTQ_DESC_BYTES(size), 16, &desc);
	a = dma_alloc(area, VIRTQ_AVAIL_BYTES(size), 2, &avail);
	u = dma_alloc(area, VIRTQ_USED_BYTES(size), 4, &used);
	if (!d || !a || !u)
		return -ENOMEM;
	ret = virtq_init(q, index, size, d, a, u);
	if (ret)
		return ret;
	c_write16(t, COMMON(queue_size), size);
	c_write16(t, COMMON(queue_msix_vector), msix);
	if (msix != VIRTIO_MSI_NO_VECTOR && c_read16(t, COMMON(queue_msix_vector)) != msix)
		return -EIO; /* the device could not take the vector */
	c_write64(t, COMMON(queue_desc_lo), desc);
	c_write64(t, COMMON(queue_avail_lo), avail);
	c_write64(t, COMMON(queue_used_lo), used);
	q->notify_at = t->notify.off + (uint64_t)c_read16(t, COMMON(queue_notify_off)) * t->notify_mult;
	if (q->notify_at + 2 > (uint64_t)t->notify.off + t->notify.len)
		return -EIO;
	c_write16(t, COMMON(queue_enable), 1);
	return 0;
}

void vpci_publish(struct vpci *t, struct virtq *q)
{
	if (virtq_publish(q))
		vfio_bar_write16(t->v, t->notify.bar, q->notify_at, q->index);
}
