/* SPDX-License-Identifier: MIT */
/*
 * A user-space virtio-pci (modern, virtio 1.x) transport over VFIO: the
 * split virtqueues themselves (virtq.h) know nothing of it.
 */
#ifndef WD_VIRTIO_H
#define WD_VIRTIO_H

#include <stdint.h>

#include "vfio.h"
#include "virtq.h"

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

/* Find the virtio capabilities; -ENODEV if it is not a modern virtio device. */
int vpci_init(struct vpci *t, struct vfio_pci *v);
/* Reset and negotiate: the device must offer VERSION_1; want are the
 * further features the driver can use.  Leaves status at FEATURES_OK. */
int vpci_start(struct vpci *t, uint64_t want);
void vpci_driver_ok(struct vpci *t);
/* Write 0 to the status and wait (bounded) until the device reads back 0,
 * as the spec asks: only then has it let go of every buffer.  0 when it
 * did, -ETIMEDOUT when it did not, -ENODEV when vpci_init() found no common
 * configuration to reset through. */
int vpci_reset(struct vpci *t);
/* The device status byte; 0xff when the device is gone (or has no common
 * configuration). */
uint8_t vpci_status(const struct vpci *t);
uint16_t vpci_num_queues(const struct vpci *t);
/* A consistent read of device-specific configuration. */
int vpci_dev_cfg(const struct vpci *t, uint32_t off, void *buf, uint32_t len);

/* Create queue index with up to size entries (a power of two), ring
 * memory from area; msix: vector, or VIRTIO_MSI_NO_VECTOR. */
int virtq_setup(struct vpci *t, struct virtq *q, struct dma_area *area, uint16_t index,
		uint16_t size, uint16_t msix);
/* Make added chains visible and notify the device if it asks for it. */
void vpci_publish(struct vpci *t, struct virtq *q);

#endif
