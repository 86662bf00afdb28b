/* SPDX-License-Identifier: MIT */
/*
 * A user-space virtio-pci (modern, virtio 1.x) transport over VFIO, and
 * split virtqueues in DMA memory the driver owns.
 */
#ifndef WD_VIRTIO_H
#define WD_VIRTIO_H

#include <linux/virtio_ring.h>
#include <stdint.h>

#include "vfio.h"

/* Memory the driver itself gives the device (rings, request headers):
 * one mapping, carved out with a bump allocator. */
struct dma_area {
	uint8_t *host;
	uint64_t iova;
	uint64_t len, used;
};

int dma_area_init(struct dma_area *a, const struct vfio_pci *v, uint64_t iova, uint64_t len);
void dma_area_fini(struct dma_area *a, const struct vfio_pci *v);
/* Zeroed, aligned memory from the area; NULL when it is exhausted. */
void *dma_alloc(struct dma_area *a, uint64_t len, uint64_t align, uint64_t *iova);

struct vpci_loc {
	uint8_t bar;
	uint32_t off, len;
	int found;
};

struct vpci {
	struct vfio_pci *v;
	struct vpci_loc common, notify, isr, dev;
	uint32_t notify_mult;
	uint64_t features;              /* negotiated */
};

struct virtq {
	uint16_t index, size;
	struct vring_desc *desc;
	struct vring_avail *avail;
	struct vring_used *used;
	uint16_t free_head, nfree;
	uint16_t avail_idx, last_used;
	uint64_t notify_at;             /* offset in the notify BAR */
};

/* Find the virtio capabilities; -ENODEV if it is not a modern virtio device. */
int vpci_init(struct vpci *t, struct vfio_pci *v);
/* Reset and negotiate: the device must offer VERSION_1; want are the
 * further features the driver can use.  Leaves status at FEATURES_OK. */
int vpci_start(struct vpci *t, uint64_t want);
void vpci_driver_ok(struct vpci *t);
/* Reset the device; nothing when vpci_init() found no common configuration. */
void vpci_reset(struct vpci *t);
/* The device status byte; 0xff when the device is gone (or has no common
 * configuration). */
uint8_t vpci_status(const struct vpci *t);
uint16_t vpci_num_queues(const struct vpci *t);
/* A consistent read of device-specific configuration. */
int vpci_dev_cfg(const struct vpci *t, uint32_t off, void *buf, uint32_t len);

/* Create queue index with up to size entries (a power of two), in area;
 * msix: vector, or VIRTIO_MSI_NO_VECTOR. */
int virtq_setup(struct vpci *t, struct virtq *q, struct dma_area *area, uint16_t index,
		uint16_t size, uint16_t msix);

/* One buffer of a chain: device address, length, device-writable. */
struct virtq_buf {
	uint64_t addr;
	uint32_t len;
	int write;
};

/* Put a chain on the available ring (not yet visible: see virtq_publish).
 * Returns the head id, or -ENOSPC when fewer than n descriptors are free. */
int virtq_add(struct virtq *q, const struct virtq_buf *b, unsigned n);
/* Make added chains visible and notify the device if it asks for it. */
void virtq_publish(struct vpci *t, struct virtq *q);
/* Ask the device for interrupts on completions, or not (a hint it may
 * ignore, so pollers must look at the used ring anyway). */
void virtq_interrupts(struct virtq *q, int on);
/* Has the device used a chain we have not taken yet? */
int virtq_has_used(const struct virtq *q);
/* Next used chain: its head id and bytes written, or -EAGAIN.  The chain's
 * descriptors are free again. */
int virtq_get(struct virtq *q, uint32_t *written);

#endif
