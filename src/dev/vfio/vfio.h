/* SPDX-License-Identifier: MIT */
/*
 * VFIO core for one PCI function: container, group and device file
 * descriptors, a type1v2 IOMMU, the IOVA ranges the kernel allows, DMA
 * maps, BARs, MSI-X on eventfds and IOMMU dirty tracking.  Nothing here
 * knows what the device is.
 */
#ifndef WD_VFIO_H
#define WD_VFIO_H

#include <stddef.h>
#include <stdint.h>
#include <wd/mem.h>

#define VFIO_MAX_RANGES 16
#define VFIO_MAX_BARS 6

struct vfio_bar {
	uint64_t size;
	uint64_t offset;        /* of the region in the device fd */
	uint32_t flags;         /* VFIO_REGION_INFO_FLAG_* */
	void *map;              /* mmap of the whole BAR, or NULL: pread/pwrite */
};

/*
 * Test seam: a function played in this process (tests/vc_fake.c), never
 * set for a real one.  Its BAR accesses and DMA maps go to these instead of
 * the device fd and the container; config space is still read and written
 * through v->device (the fake's memfd), so bus mastering goes off as on a
 * real function.  No MSI-X (msix_count 0): the driver polls.
 */
struct vfio_fake {
	uint32_t (*bar_read)(void *priv, unsigned bar, uint64_t off, unsigned len);
	void (*bar_write)(void *priv, unsigned bar, uint64_t off, unsigned len, uint32_t val);
	int (*dma_map)(void *priv, uint64_t iova, const void *host, uint64_t len, int readonly);
	int (*dma_unmap)(void *priv, uint64_t iova, uint64_t len);
	void *priv;
};

struct vfio_pci {
	int container, group, device;
	const struct vfio_fake *fake;   /* NULL but in tests: see above */
	char addr[32];                  /* e.g. 0000:00:03.0 */
	struct vfio_bar bars[VFIO_MAX_BARS];
	uint64_t cfg_offset, cfg_size;  /* config space region */
	struct wd_iova_range ranges[VFIO_MAX_RANGES]; /* usable IOVA, sorted */
	unsigned nranges;
	uint64_t iova_pgsizes;          /* page sizes the IOMMU maps */
	int dirty_ok;                   /* the IOMMU offers dirty tracking */
	uint64_t dirty_pgsizes;
	uint64_t dirty_max_bitmap;      /* bytes of bitmap per GET_BITMAP call */
	unsigned msix_count;            /* MSI-X vectors the device has */
	unsigned msix_on;               /* vectors enabled */
};

/* Open addr (DDDD:BB:DD.F, bound to vfio-pci) with a fresh container. */
int vfio_pci_open(struct vfio_pci *v, const char *addr);
void vfio_pci_close(struct vfio_pci *v);

/* Is addr's function bound to vfio-pci, and its vendor/device ids? */
int vfio_pci_sysfs_ids(const char *addr, uint16_t *vendor, uint16_t *device);

int vfio_cfg_read(const struct vfio_pci *v, uint32_t off, void *buf, size_t len);
int vfio_cfg_write(const struct vfio_pci *v, uint32_t off, const void *buf, size_t len);

/* BAR access: through the mapping when the region allows mmap, through
 * pread/pwrite on the device fd otherwise. */
uint8_t vfio_bar_read8(const struct vfio_pci *v, unsigned bar, uint64_t off);
uint16_t vfio_bar_read16(const struct vfio_pci *v, unsigned bar, uint64_t off);
uint32_t vfio_bar_read32(const struct vfio_pci *v, unsigned bar, uint64_t off);
void vfio_bar_write8(const struct vfio_pci *v, unsigned bar, uint64_t off, uint8_t val);
void vfio_bar_write16(const struct vfio_pci *v, unsigned bar, uint64_t off, uint16_t val);
void vfio_bar_write32(const struct vfio_pci *v, unsigned bar, uint64_t off, uint32_t val);

/* Is [iova, iova+len) inside one usable range? */
int vfio_iova_ok(const struct vfio_pci *v, uint64_t iova, uint64_t len);

int vfio_dma_map(const struct vfio_pci *v, uint64_t iova, const void *host, uint64_t len,
		 int readonly);
int vfio_dma_unmap(const struct vfio_pci *v, uint64_t iova, uint64_t len);

/* The kernel's request to give the device back (someone unbinds it from
 * vfio-pci) signals efd; -ENOTSUP when the kernel has no such interrupt. */
int vfio_req_notify(struct vfio_pci *v, int efd);
/* Let the device go but keep the container: DMA maps can still be undone.
 * The BARs' mappings become inert memory at the same addresses and the fd
 * an inert file with the same number (all ones to BAR and config reads),
 * so a thread still using them is harmless; the kernel's unbind completes.
 * vfio_pci_close() frees them. */
void vfio_pci_release_device(struct vfio_pci *v);

/* Memory space and bus mastering on: without them the device neither
 * answers its BARs nor does DMA (vfio_pci_open does it). */
int vfio_pci_enable(const struct vfio_pci *v);
/* Bus mastering off: the function can start no more DMA (whatever it says
 * about a reset).  It stays off until the function is opened again. */
int vfio_pci_dma_off(const struct vfio_pci *v);

/* MSI-X vectors 0..n-1 signal efds[i]; n == 0 disables them. */
int vfio_msix_set(struct vfio_pci *v, unsigned n, const int *efds);

int vfio_dirty_ctl(const struct vfio_pci *v, int start);
/* Pages of [iova, iova+len) (a mapped range) written since the last call:
 * one bit per page of pgsize into bitmap; the kernel clears them. */
int vfio_dirty_get(const struct vfio_pci *v, uint64_t iova, uint64_t len, uint64_t pgsize,
		   uint64_t *bitmap);

#endif
