/* SPDX-License-Identifier: MIT */
/*
 * VFIO core: see vfio.h.  The kernel is the authority on what the device
 * may reach: we ask it for the usable IOVA ranges (the IOVA-range
 * capability, its answer to reserved regions such as the MSI doorbell) and
 * never map outside them.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/vfio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "vfio.h"

int vfio_pci_sysfs_ids(const char *addr, uint16_t *vendor, uint16_t *device)
{
	char path[128], buf[32];
	const char *names[2] = { "vendor", "device" };
	uint16_t *out[2] = { vendor, device };
	int i, fd;
	ssize_t n;

	for (i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/%s", addr, names[i]);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return -errno;
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (n <= 0)
			return -EIO;
		buf[n] = 0;
		*out[i] = (uint16_t)strtoul(buf, NULL, 16);
	}
	return 0;
}

static int group_path(const char *addr, char *out, size_t len)
{
	char link[PATH_MAX], path[128];
	const char *base;
	ssize_t n;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/iommu_group", addr);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0)
		return errno == ENOENT ? -ENODEV : -errno;
	link[n] = 0;
	base = strrchr(link, '/');
	base = base ? base + 1 : link;
	if (strlen(base) + sizeof("/dev/vfio/") > len)
		return -ENAMETOOLONG;
	strcpy(out, "/dev/vfio/");
	strcat(out, base);
	return 0;
}

static int add_range(struct vfio_pci *v, uint64_t start, uint64_t last)
{
	unsigned i = v->nranges;

	if (i == VFIO_MAX_RANGES || last < start)
		return -E2BIG;
	while (i && v->ranges[i - 1].start > start) {
		v->ranges[i] = v->ranges[i - 1];
		i--;
	}
	v->ranges[i].start = start;
	v->ranges[i].last = last;
	v->nranges++;
	return 0;
}

/*
 * Walk the IOMMU info capability chain: IOVA ranges and dirty tracking.
 * The kernel packs the capabilities at 4-byte offsets: copy each piece out
 * before reading it as a structure.
 */
static int parse_iommu_caps(struct vfio_pci *v, const struct vfio_iommu_type1_info *info)
{
	const char *base = (const char *)info;
	uint32_t off = info->cap_offset;
	int ret;

	while (off) {
		struct vfio_info_cap_header h;

		if (off < sizeof(*info) || off + sizeof(h) > info->argsz)
			return -EPROTO;
		memcpy(&h, base + off, sizeof(h));
		if (h.id == VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE) {
			struct vfio_iommu_type1_info_cap_iova_range r;
			struct vfio_iova_range one;
			uint32_t i;

			if (off + sizeof(r) > info->argsz)
				return -EPROTO;
			memcpy(&r, base + off, sizeof(r));
			if (off + sizeof(r) + (uint64_t)r.nr_iovas * sizeof(one) > info->argsz)
				return -EPROTO;
			for (i = 0; i < r.nr_iovas; i++) {
				memcpy(&one, base + off + sizeof(r) + i * sizeof(one), sizeof(one));
				ret = add_range(v, one.start, one.end);
				if (ret)
					return ret;
			}
		} else if (h.id == VFIO_IOMMU_TYPE1_INFO_CAP_MIGRATION) {
			struct vfio_iommu_type1_info_cap_migration m;

			if (off + sizeof(m) > info->argsz)
				return -EPROTO;
			memcpy(&m, base + off, sizeof(m));
			v->dirty_ok = 1;
			v->dirty_pgsizes = m.pgsize_bitmap;
			v->dirty_max_bitmap = m.max_dirty_bitmap_size;
		}
		if (h.next && h.next <= off)
			return -EPROTO; /* a loop */
		off = h.next;
	}
	return 0;
}

static int iommu_info(struct vfio_pci *v)
{
	struct vfio_iommu_type1_info *info, probe = { .argsz = sizeof(probe) };
	int ret;

	if (ioctl(v->container, VFIO_IOMMU_GET_INFO, &probe))
		return -errno;
	v->iova_pgsizes = probe.iova_pgsizes;
	if (probe.argsz <= sizeof(probe) || !(probe.flags & VFIO_IOMMU_INFO_CAPS)) {
		/* an old kernel: no ranges reported, assume 39 bits minus the
		 * x86 MSI window, the tightest common case */
		add_range(v, 0, 0xfedfffffull);
		return add_range(v, 0xfef00000ull, (1ull << 39) - 1);
	}
	info = calloc(1, probe.argsz);
	if (!info)
		return -ENOMEM;
	info->argsz = probe.argsz;
	ret = ioctl(v->container, VFIO_IOMMU_GET_INFO, info) ? -errno : parse_iommu_caps(v, info);
	free(info);
	if (!ret && !v->nranges)
		ret = -ENOSPC;
	return ret;
}

static int device_regions(struct vfio_pci *v)
{
	struct vfio_device_info di = { .argsz = sizeof(di) };
	struct vfio_irq_info irq = { .argsz = sizeof(irq), .index = VFIO_PCI_MSIX_IRQ_INDEX };
	unsigned i;

	if (ioctl(v->device, VFIO_DEVICE_GET_INFO, &di))
		return -errno;
	if (!(di.flags & VFIO_DEVICE_FLAGS_PCI) || di.num_regions <= VFIO_PCI_CONFIG_REGION_INDEX)
		return -ENODEV;
	for (i = 0; i <= VFIO_PCI_CONFIG_REGION_INDEX; i++) {
		struct vfio_region_info ri = { .argsz = sizeof(ri), .index = i };

		if (ioctl(v->device, VFIO_DEVICE_GET_REGION_INFO, &ri)) {
			if (i == VFIO_PCI_CONFIG_REGION_INDEX)
				return -errno;
			continue; /* an unimplemented BAR (or ROM): absent */
		}
		if (i == VFIO_PCI_CONFIG_REGION_INDEX) {
			v->cfg_offset = ri.offset;
			v->cfg_size = ri.size;
			continue;
		}
		if (i >= VFIO_MAX_BARS)
			continue; /* the expansion ROM: not ours to use */
		v->bars[i].size = ri.size;
		v->bars[i].offset = ri.offset;
		v->bars[i].flags = ri.flags;
		if (ri.size && (ri.flags & VFIO_REGION_INFO_FLAG_MMAP)) {
			void *p = mmap(NULL, ri.size, PROT_READ | PROT_WRITE, MAP_SHARED, v->device,
				       (off_t)ri.offset);

			/* a BAR with the MSI-X table may refuse: fall back to pread */
			v->bars[i].map = p == MAP_FAILED ? NULL : p;
			/* a fork child must not keep the device (and its unbind) */
			if (v->bars[i].map)
				madvise(p, ri.size, MADV_DONTFORK);
		}
	}
	if (!ioctl(v->device, VFIO_DEVICE_GET_IRQ_INFO, &irq))
		v->msix_count = irq.count;
	return 0;
}

static int command_bits(const struct vfio_pci *v, uint16_t set, uint16_t clear)
{
	uint16_t cmd;
	int ret = vfio_cfg_read(v, 4, &cmd, 2);

	if (ret)
		return ret;
	cmd = (uint16_t)((cmd | set) & ~clear);
	return vfio_cfg_write(v, 4, &cmd, 2);
}

int vfio_pci_enable(const struct vfio_pci *v)
{
	return command_bits(v, 0x6, 0);
}

int vfio_pci_dma_off(const struct vfio_pci *v)
{
	return command_bits(v, 0, 0x4);
}

int vfio_pci_open(struct vfio_pci *v, const char *addr)
{
	struct vfio_group_status gs = { .argsz = sizeof(gs) };
	char gpath[64];
	int ret;

	memset(v, 0, sizeof(*v));
	v->container = v->group = v->device = -1;
	if (strlen(addr) >= sizeof(v->addr))
		return -EINVAL;
	strcpy(v->addr, addr);
	ret = group_path(addr, gpath, sizeof(gpath));
	if (ret)
		return ret;
	v->container = open("/dev/vfio/vfio", O_RDWR | O_CLOEXEC);
	if (v->container < 0)
		return -errno;
	if (ioctl(v->container, VFIO_GET_API_VERSION) != VFIO_API_VERSION ||
	    ioctl(v->container, VFIO_CHECK_EXTENSION, VFIO_TYPE1v2_IOMMU) <= 0) {
		ret = -EOPNOTSUPP;
		goto err;
	}
	v->group = open(gpath, O_RDWR | O_CLOEXEC);
	if (v->group < 0) {
		ret = -errno; /* EBUSY: another process (or context) holds it */
		goto err;
	}
	if (ioctl(v->group, VFIO_GROUP_GET_STATUS, &gs)) {
		ret = -errno;
		goto err;
	}
	if (!(gs.flags & VFIO_GROUP_FLAGS_VIABLE)) {
		ret = -EPERM; /* a device of the group is bound to a host driver */
		goto err;
	}
	if (ioctl(v->group, VFIO_GROUP_SET_CONTAINER, &v->container) ||
	    ioctl(v->container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU)) {
		ret = -errno;
		goto err;
	}
	ret = iommu_info(v);
	if (ret)
		goto err;
	v->device = ioctl(v->group, VFIO_GROUP_GET_DEVICE_FD, addr);
	if (v->device < 0) {
		ret = -errno;
		goto err;
	}
	ret = device_regions(v);
	if (!ret)
		ret = vfio_pci_enable(v);
	if (ret)
		goto err;
	return 0;
err:
	vfio_pci_close(v);
	return ret;
}

/* Put inert anonymous memory where a BAR was mapped: the device mapping
 * (and with it the device file) goes, the addresses stay valid for a
 * thread that read the pointer before. */
static void bar_detach(struct vfio_bar *b)
{
	void *p = mmap(b->map, b->size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);

	if (p == MAP_FAILED) /* the kernel waits for the BAR: it must go */
		munmap(b->map, b->size);
	else
		madvise(p, b->size, MADV_DONTFORK);
}

/* Give the device fd's number an inert file: reads come back short (all
 * ones to bar_rw) and writes fail, instead of reaching whatever file a
 * later open() would get that number.  An empty sealed memfd, or else the
 * group, which has no read, write or device ioctls. */
static void fd_detach(struct vfio_pci *v)
{
	int fd = memfd_create("wd-vfio-gone", MFD_CLOEXEC | MFD_ALLOW_SEALING);

	if (fd >= 0 && !fcntl(fd, F_ADD_SEALS, F_SEAL_GROW | F_SEAL_SHRINK | F_SEAL_SEAL) &&
	    dup3(fd, v->device, O_CLOEXEC) >= 0) {
		close(fd);
		return;
	}
	if (fd >= 0)
		close(fd);
	if (dup3(v->group, v->device, O_CLOEXEC) < 0) {
		close(v->device); /* last resort: the kernel must get it back */
		v->device = -1;
	}
}

/*
 * The BAR mappings and the device fd are replaced, not removed: a queue
 * thread that is late getting off the device may still hold a BAR pointer
 * or use the fd, and must find harmless memory (reads 0: not DRIVER_OK,
 * the device is gone) and a harmless file there.  Nothing in v changes, so
 * such a thread reads no field being written.
 */
void vfio_pci_release_device(struct vfio_pci *v)
{
	unsigned i;

	if (v->device < 0)
		return;
	if (v->msix_on)
		vfio_msix_set(v, 0, NULL);
	for (i = 0; i < VFIO_MAX_BARS; i++)
		if (v->bars[i].map)
			bar_detach(&v->bars[i]);
	fd_detach(v);
}

int vfio_req_notify(struct vfio_pci *v, int efd)
{
	uint32_t buf[(sizeof(struct vfio_irq_set) + sizeof(int) + 3) / 4] = { 0 };
	struct vfio_irq_set *s = (void *)buf;

	s->argsz = sizeof(*s) + sizeof(int);
	s->index = VFIO_PCI_REQ_IRQ_INDEX;
	s->count = 1;
	s->flags = VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER;
	memcpy(s->data, &efd, sizeof(efd));
	return ioctl(v->device, VFIO_DEVICE_SET_IRQS, s) ? -errno : 0;
}

void vfio_pci_close(struct vfio_pci *v)
{
	unsigned i;

	if (v->device >= 0 && v->msix_on)
		vfio_msix_set(v, 0, NULL);
	for (i = 0; i < VFIO_MAX_BARS && !v->fake; i++) /* a fake owns its BARs */
		if (v->bars[i].map)
			munmap(v->bars[i].map, v->bars[i].size);
	if (v->device >= 0)
		close(v->device);
	if (v->group >= 0)
		close(v->group);
	if (v->container >= 0)
		close(v->container);
	memset(v, 0, sizeof(*v));
	v->container = v->group = v->device = -1;
}

int vfio_cfg_read(const struct vfio_pci *v, uint32_t off, void *buf, size_t len)
{
	if (off > v->cfg_size || len > v->cfg_size - off)
		return -EINVAL;
	if (pread(v->device, buf, len, (off_t)(v->cfg_offset + off)) != (ssize_t)len)
		return -EIO;
	return 0;
}

int vfio_cfg_write(const struct vfio_pci *v, uint32_t off, const void *buf, size_t len)
{
	if (off > v->cfg_size || len > v->cfg_size - off)
		return -EINVAL;
	if (pwrite(v->device, buf, len, (off_t)(v->cfg_offset + off)) != (ssize_t)len)
		return -EIO;
	return 0;
}

static void fake_rw(const struct vfio_pci *v, unsigned bar, uint64_t off, void *val, size_t len,
		    int write)
{
	uint32_t x = 0;

	if (write) {
		memcpy(&x, val, len); /* little-endian, like the registers */
		v->fake->bar_write(v->fake->priv, bar, off, (unsigned)len, x);
	} else {
		x = v->fake->bar_read(v->fake->priv, bar, off, (unsigned)len);
		memcpy(val, &x, len);
	}
}

/* Out-of-range or failed reads give all ones, as a vanished PCI device
 * does: callers treat that as the device being gone. */
static void bar_rw(const struct vfio_pci *v, unsigned bar, uint64_t off, void *val, size_t len,
		   int write)
{
	const struct vfio_bar *b = bar < VFIO_MAX_BARS ? &v->bars[bar] : NULL;

	if (!b || off > b->size || len > b->size - off) {
		if (!write)
			memset(val, 0xff, len);
		return;
	}
	if (v->fake) {
		fake_rw(v, bar, off, val, len, write);
		return;
	}
	if (b->map) {
		volatile void *p = (char *)b->map + off;

		/* one access of the register's width (devices care), atomic
		 * because threads may meet at a register (the status byte: a
		 * queue thread polls it while another resets the device) */
		if (write) {
			if (len == 1)
				__atomic_store_n((volatile uint8_t *)p, *(uint8_t *)val, __ATOMIC_RELAXED);
			else if (len == 2)
				__atomic_store_n((volatile uint16_t *)p, *(uint16_t *)val, __ATOMIC_RELAXED);
			else
				__atomic_store_n((volatile uint32_t *)p, *(uint32_t *)val, __ATOMIC_RELAXED);
		} else {
			if (len == 1)
				*(uint8_t *)val = __atomic_load_n((volatile uint8_t *)p, __ATOMIC_RELAXED);
			else if (len == 2)
				*(uint16_t *)val = __atomic_load_n((volatile uint16_t *)p, __ATOMIC_RELAXED);
			else
				*(uint32_t *)val = __atomic_load_n((volatile uint32_t *)p, __ATOMIC_RELAXED);
		}
		return;
	}
	if (write) {
		if (pwrite(v->device, val, len, (off_t)(b->offset + off)) != (ssize_t)len)
			return;
	} else if (pread(v->device, val, len, (off_t)(b->offset + off)) != (ssize_t)len) {
		memset(val, 0xff, len);
	}
}

uint8_t vfio_bar_read8(const struct vfio_pci *v, unsigned bar, uint64_t off)
{
	uint8_t x;

	bar_rw(v, bar, off, &x, 1, 0);
	return x;
}

uint16_t vfio_bar_read16(const struct vfio_pci *v, unsigned bar, uint64_t off)
{
	uint16_t x;

	bar_rw(v, bar, off, &x, 2, 0);
	return x;
}

uint32_t vfio_bar_read32(const struct vfio_pci *v, unsigned bar, uint64_t off)
{
	uint32_t x;

	bar_rw(v, bar, off, &x, 4, 0);
	return x;
}

void vfio_bar_write8(const struct vfio_pci *v, unsigned bar, uint64_t off, uint8_t val)
{
	bar_rw(v, bar, off, &val, 1, 1);
}

void vfio_bar_write16(const struct vfio_pci *v, unsigned bar, uint64_t off, uint16_t val)
{
	bar_rw(v, bar, off, &val, 2, 1);
}

void vfio_bar_write32(const struct vfio_pci *v, unsigned bar, uint64_t off, uint32_t val)
{
	bar_rw(v, bar, off, &val, 4, 1);
}

int vfio_iova_ok(const struct vfio_pci *v, uint64_t iova, uint64_t len)
{
	unsigned i;

	if (!len || iova + len - 1 < iova)
		return 0;
	for (i = 0; i < v->nranges; i++)
		if (iova >= v->ranges[i].start && iova + len - 1 <= v->ranges[i].last)
			return 1;
	return 0;
}

int vfio_dma_map(const struct vfio_pci *v, uint64_t iova, const void *host, uint64_t len,
		 int readonly)
{
	struct vfio_iommu_type1_dma_map m = {
		.argsz = sizeof(m),
		.flags = VFIO_DMA_MAP_FLAG_READ | (readonly ? 0 : VFIO_DMA_MAP_FLAG_WRITE),
		.vaddr = (uintptr_t)host,
		.iova = iova,
		.size = len,
	};

	if (!vfio_iova_ok(v, iova, len))
		return -EADDRNOTAVAIL; /* the kernel would refuse it too */
	if (v->fake)
		return v->fake->dma_map(v->fake->priv, iova, host, len, readonly);
	return ioctl(v->container, VFIO_IOMMU_MAP_DMA, &m) ? -errno : 0;
}

int vfio_dma_unmap(const struct vfio_pci *v, uint64_t iova, uint64_t len)
{
	struct vfio_iommu_type1_dma_unmap u = { .argsz = sizeof(u), .iova = iova, .size = len };

	if (v->fake)
		return v->fake->dma_unmap(v->fake->priv, iova, len);
	if (ioctl(v->container, VFIO_IOMMU_UNMAP_DMA, &u))
		return -errno;
	return u.size == len ? 0 : -EIO;
}

int vfio_msix_set(struct vfio_pci *v, unsigned n, const int *efds)
{
	size_t sz = sizeof(struct vfio_irq_set) + n * sizeof(int);
	struct vfio_irq_set *s;
	int ret = 0;

	if (n > v->msix_count)
		return -EINVAL;
	s = calloc(1, sz);
	if (!s)
		return -ENOMEM;
	s->argsz = (uint32_t)sz;
	s->index = VFIO_PCI_MSIX_IRQ_INDEX;
	s->start = 0;
	s->count = n;
	s->flags = VFIO_IRQ_SET_ACTION_TRIGGER |
		   (n ? VFIO_IRQ_SET_DATA_EVENTFD : VFIO_IRQ_SET_DATA_NONE);
	if (n)
		memcpy(s->data, efds, n * sizeof(int));
	if (ioctl(v->device, VFIO_DEVICE_SET_IRQS, s))
		ret = -errno;
	else
		v->msix_on = n;
	free(s);
	return ret;
}

int vfio_dirty_ctl(const struct vfio_pci *v, int start)
{
	struct vfio_iommu_type1_dirty_bitmap d = {
		.argsz = sizeof(d),
		.flags = start ? VFIO_IOMMU_DIRTY_PAGES_FLAG_START : VFIO_IOMMU_DIRTY_PAGES_FLAG_STOP,
	};

	if (!v->dirty_ok)
		return -EOPNOTSUPP;
	return ioctl(v->container, VFIO_IOMMU_DIRTY_PAGES, &d) ? -errno : 0;
}

int vfio_dirty_get(const struct vfio_pci *v, uint64_t iova, uint64_t len, uint64_t pgsize,
		   uint64_t *bitmap)
{
	/* the header's flexible data[] holds the get request: build it by hand */
	uint64_t buf[(sizeof(struct vfio_iommu_type1_dirty_bitmap) +
		      sizeof(struct vfio_iommu_type1_dirty_bitmap_get) + 7) / 8] = { 0 };
	struct vfio_iommu_type1_dirty_bitmap *h = (void *)buf;
	struct vfio_iommu_type1_dirty_bitmap_get g = { .iova = iova, .size = len };
	uint64_t pages = len / pgsize;

	if (!v->dirty_ok)
		return -EOPNOTSUPP;
	g.bitmap.pgsize = pgsize;
	g.bitmap.size = (pages + 63) / 64 * 8;
	g.bitmap.data = (__u64 *)bitmap;
	if (g.bitmap.size > v->dirty_max_bitmap)
		return -E2BIG;
	h->argsz = sizeof(*h) + sizeof(g);
	h->flags = VFIO_IOMMU_DIRTY_PAGES_FLAG_GET_BITMAP;
	memcpy(h->data, &g, sizeof(g));
	return ioctl(v->container, VFIO_IOMMU_DIRTY_PAGES, h) ? -errno : 0;
}
