/*
 * Guest smoke test of the VFIO stack the VM rig sets up (tests/vm/run.sh):
 * the container, the type1v2 IOMMU and its IOVA ranges, a DMA map/unmap, the
 * dirty-page tracking, and the virtio-crypto device named by $WD_VFIO_DEVICE
 * (regions, config space, capabilities, IRQs, one read of its BAR through
 * mmap). Prints what it finds; exits 77 when $WD_VFIO_DEVICE is unset (not
 * in the VM), 1 on any failure.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
#include <linux/vfio.h>

static int failures;

/* Each evaluates cond once (it is often the ioctl under test). */
#define CHECK(cond, ...) check_(!!(cond), __LINE__, __VA_ARGS__)
#define MUST(cond, ...)                                                      \
	do {                                                                 \
		if (!CHECK(cond, __VA_ARGS__))                               \
			return 1;                                            \
	} while (0)

static int __attribute__((format(printf, 3, 4))) check_(int ok, int line, const char *fmt, ...)
{
	va_list ap;

	if (ok)
		return 1;
	printf("FAIL line %d: ", line);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	failures++;
	return 0;
}

static const char *region_name(unsigned i)
{
	static const char *names[] = { "BAR0", "BAR1", "BAR2", "BAR3", "BAR4", "BAR5",
				       "ROM", "CONFIG", "VGA" };

	return i < sizeof(names) / sizeof(names[0]) ? names[i] : "dev-specific";
}

static const char *irq_name(unsigned i)
{
	static const char *names[] = { "INTX", "MSI", "MSIX", "ERR", "REQ" };

	return i < sizeof(names) / sizeof(names[0]) ? names[i] : "?";
}

/* Every capability in an info struct's chain (offsets from the struct start). */
/* The kernel packs capabilities at 4-byte offsets: hand out an aligned copy
 * of each (up to the end of the info) so its 8-byte fields can be read. */
static struct vfio_info_cap_header *next_cap(void *info, uint32_t argsz, uint32_t off)
{
	static uint64_t copy[512];

	if (off == 0 || off + sizeof(struct vfio_info_cap_header) > argsz ||
	    argsz - off > sizeof(copy))
		return NULL;
	memcpy(copy, (char *)info + off, argsz - off);
	return (struct vfio_info_cap_header *)copy;
}

static void print_iommu_info(int container, uint64_t *first_start, uint64_t *first_end)
{
	struct vfio_iommu_type1_info *info;
	struct vfio_info_cap_header *h;
	uint32_t argsz = sizeof(*info);
	int r;

	info = calloc(1, argsz);
	info->argsz = argsz;
	r = ioctl(container, VFIO_IOMMU_GET_INFO, info);
	CHECK(r == 0, "VFIO_IOMMU_GET_INFO: %s", strerror(errno));
	if (r == 0 && info->argsz > argsz) {
		argsz = info->argsz;
		info = realloc(info, argsz);
		memset(info, 0, argsz);
		info->argsz = argsz;
		r = ioctl(container, VFIO_IOMMU_GET_INFO, info);
		CHECK(r == 0, "VFIO_IOMMU_GET_INFO (with caps): %s", strerror(errno));
	}
	if (r != 0) {
		free(info);
		return;
	}
	printf("iommu: flags 0x%x, iova_pgsizes 0x%" PRIx64 " (smallest %" PRIu64 " KiB)\n",
	       info->flags, (uint64_t)info->iova_pgsizes,
	       (uint64_t)(info->iova_pgsizes & -info->iova_pgsizes) >> 10);
	CHECK(info->flags & VFIO_IOMMU_INFO_PGSIZES, "no iova_pgsizes");
	*first_start = *first_end = 0;
	for (h = (info->flags & VFIO_IOMMU_INFO_CAPS) ? next_cap(info, argsz, info->cap_offset) : NULL;
	     h; h = next_cap(info, argsz, h->next)) {
		switch (h->id) {
		case VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE: {
			struct vfio_iommu_type1_info_cap_iova_range *c = (void *)h;
			uint32_t i;

			printf("iommu: cap IOVA_RANGE v%u: %u range(s)\n", h->version, c->nr_iovas);
			for (i = 0; i < c->nr_iovas; i++) {
				printf("iommu:   iova range %u: 0x%016" PRIx64 " - 0x%016" PRIx64 "\n", i,
				       (uint64_t)c->iova_ranges[i].start, (uint64_t)c->iova_ranges[i].end);
				if (i == 0) {
					*first_start = c->iova_ranges[i].start;
					*first_end = c->iova_ranges[i].end;
				}
			}
			break;
		}
		case VFIO_IOMMU_TYPE1_INFO_CAP_MIGRATION: {
			struct vfio_iommu_type1_info_cap_migration *c = (void *)h;

			printf("iommu: cap MIGRATION v%u: flags 0x%x, pgsize_bitmap 0x%" PRIx64
			       ", max_dirty_bitmap_size %" PRIu64 "\n",
			       h->version, c->flags, (uint64_t)c->pgsize_bitmap,
			       (uint64_t)c->max_dirty_bitmap_size);
			break;
		}
		case VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL: {
			struct vfio_iommu_type1_info_dma_avail *c = (void *)h;

			printf("iommu: cap DMA_AVAIL v%u: %u more mappings allowed\n", h->version, c->avail);
			break;
		}
		default:
			printf("iommu: cap id %u v%u\n", h->id, h->version);
		}
	}
	CHECK(*first_end > *first_start, "no IOVA range reported");
	free(info);
}

/* Map a buffer, try the dirty-page tracking on it, unmap it. */
static void dma_checks(int container, uint64_t start, uint64_t end)
{
	const size_t len = 2u << 20;
	struct vfio_iommu_type1_dma_map map = { .argsz = sizeof(map) };
	struct vfio_iommu_type1_dma_unmap unmap = { .argsz = sizeof(unmap) };
	struct vfio_iommu_type1_dirty_bitmap dirty = { .argsz = sizeof(dirty) };
	uint64_t iova = (start + len - 1) & ~(uint64_t)(len - 1);
	void *buf;
	int r, dirty_ok;

	if (iova < 0x100000)
		iova = 0x100000; /* not 0: a zero IOVA hides bugs */
	if (iova + len - 1 > end) {
		printf("dma: first IOVA range too small for a %zu-byte map; skipped\n", len);
		return;
	}
	buf = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(buf != MAP_FAILED, "mmap: %s", strerror(errno));
	if (buf == MAP_FAILED)
		return;
	memset(buf, 0x5a, len);

	dirty.flags = VFIO_IOMMU_DIRTY_PAGES_FLAG_START;
	dirty_ok = ioctl(container, VFIO_IOMMU_DIRTY_PAGES, &dirty) == 0;
	printf("dma: VFIO_IOMMU_DIRTY_PAGES START: %s\n", dirty_ok ? "ok" : strerror(errno));

	map.vaddr = (uintptr_t)buf;
	map.iova = iova;
	map.size = len;
	map.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE;
	r = ioctl(container, VFIO_IOMMU_MAP_DMA, &map);
	CHECK(r == 0, "VFIO_IOMMU_MAP_DMA iova 0x%" PRIx64 ": %s", iova, strerror(errno));
	printf("dma: MAP_DMA %zu KiB at iova 0x%" PRIx64 ": %s\n", len >> 10, iova,
	       r == 0 ? "ok" : strerror(errno));
	if (r == 0) {
		/* The same IOVA twice must be refused. */
		r = ioctl(container, VFIO_IOMMU_MAP_DMA, &map);
		CHECK(r != 0 && errno == EEXIST, "overlapping MAP_DMA: r %d errno %d", r, errno);
	}
	if (dirty_ok) {
		uint64_t bitmap[(2u << 20) / 4096 / 64] = { 0 };
		/* The header, then a vfio_iommu_type1_dirty_bitmap_get as its data. */
		uint64_t g[(sizeof(struct vfio_iommu_type1_dirty_bitmap) +
			    sizeof(struct vfio_iommu_type1_dirty_bitmap_get) + 7) / 8] = { 0 };
		struct vfio_iommu_type1_dirty_bitmap *hdr = (void *)g;
		struct vfio_iommu_type1_dirty_bitmap_get *get = (void *)hdr->data;
		unsigned k, ndirty = 0;

		hdr->argsz = sizeof(g);
		hdr->flags = VFIO_IOMMU_DIRTY_PAGES_FLAG_GET_BITMAP;
		get->iova = iova;
		get->size = len;
		get->bitmap.pgsize = 4096;
		get->bitmap.size = sizeof(bitmap);
		get->bitmap.data = (void *)bitmap;
		r = ioctl(container, VFIO_IOMMU_DIRTY_PAGES, hdr);
		for (k = 0; k < sizeof(bitmap) / sizeof(bitmap[0]); k++)
			ndirty += (unsigned)__builtin_popcountll(bitmap[k]);
		if (r == 0)
			printf("dma: DIRTY_PAGES GET_BITMAP: ok, %u of %zu pages dirty\n", ndirty, len / 4096);
		else
			printf("dma: DIRTY_PAGES GET_BITMAP: %s\n", strerror(errno));
	}
	dirty.flags = VFIO_IOMMU_DIRTY_PAGES_FLAG_STOP;
	r = ioctl(container, VFIO_IOMMU_DIRTY_PAGES, &dirty);
	printf("dma: VFIO_IOMMU_DIRTY_PAGES STOP: %s\n", r == 0 ? "ok" : strerror(errno));

	unmap.iova = iova;
	unmap.size = len;
	r = ioctl(container, VFIO_IOMMU_UNMAP_DMA, &unmap);
	CHECK(r == 0 && unmap.size == len, "UNMAP_DMA: r %d size %" PRIu64 ": %s", r,
	      (uint64_t)unmap.size, strerror(errno));
	munmap(buf, len);
}

static uint16_t cfg16(const uint8_t *c, unsigned off) { return (uint16_t)(c[off] | c[off + 1] << 8); }
static uint32_t cfg32(const uint8_t *c, unsigned off) { return cfg16(c, off) | (uint32_t)cfg16(c, off + 2) << 16; }

static const char *virtio_cfg_type(unsigned t)
{
	static const char *names[] = { "?", "COMMON", "NOTIFY", "ISR", "DEVICE", "PCI", "?", "?", "SHM", "VENDOR" };

	return t < sizeof(names) / sizeof(names[0]) ? names[t] : "?";
}

/* Config space: IDs, BARs, the capability list (virtio and MSI-X in detail). */
static int print_config(int dev, uint64_t cfg_off, uint64_t cfg_size, int *common_bar, uint32_t *common_off)
{
	static uint8_t c[4096];
	unsigned ptr, n = 0, i;
	size_t len = cfg_size < sizeof(c) ? (size_t)cfg_size : sizeof(c);

	MUST(pread(dev, c, len, (off_t)cfg_off) == (ssize_t)len, "config read: %s", strerror(errno));
	printf("config: vendor 0x%04x device 0x%04x revision %u class 0x%06x subsystem %04x:%04x\n",
	       cfg16(c, 0), cfg16(c, 2), c[8], cfg32(c, 8) >> 8, cfg16(c, 0x2c), cfg16(c, 0x2e));
	CHECK(cfg16(c, 0) == 0x1af4 && cfg16(c, 2) == 0x1054, "not virtio-crypto (1af4:1054)");
	for (i = 0; i < 6; i++) {
		uint32_t bar = cfg32(c, 0x10 + 4 * i);

		if (bar)
			printf("config: BAR%u raw 0x%08x (%s%s)\n", i, bar, bar & 1 ? "io" : "mem",
			       !(bar & 1) && (bar & 6) == 4 ? " 64-bit" : "");
	}
	if (!(cfg16(c, 6) & 0x10))
		return 0;
	for (ptr = c[0x34] & 0xfc; ptr && n < 48; ptr = c[ptr + 1] & 0xfc, n++) {
		if (c[ptr] == 0x09) { /* vendor: a virtio_pci_cap */
			printf("config: cap 0x%02x virtio %-6s bar %u offset 0x%x length 0x%x\n", ptr,
			       virtio_cfg_type(c[ptr + 3]), c[ptr + 4], cfg32(c, ptr + 8), cfg32(c, ptr + 12));
			if (c[ptr + 3] == 1) {
				*common_bar = c[ptr + 4];
				*common_off = cfg32(c, ptr + 8);
			}
		} else if (c[ptr] == 0x11) {
			uint16_t ctl = cfg16(c, ptr + 2);
			uint32_t t = cfg32(c, ptr + 4), p = cfg32(c, ptr + 8);

			printf("config: cap 0x%02x MSI-X %u vectors, table bar %u +0x%x, PBA bar %u +0x%x\n",
			       ptr, (ctl & 0x7ff) + 1, t & 7, t & ~7u, p & 7, p & ~7u);
		} else {
			printf("config: cap 0x%02x id 0x%02x%s\n", ptr, c[ptr], c[ptr] == 0x10 ? " (PCIe)" : "");
		}
	}
	/* PCIe extended capabilities (only behind a root port: 4 KiB config). */
	for (ptr = 0x100, n = 0; len > 0x100 && ptr >= 0x100 && ptr + 4 <= len && n < 48; n++) {
		uint32_t h = cfg32(c, ptr);

		if (!h || h == 0xffffffffu)
			break;
		printf("config: ext cap 0x%03x id 0x%04x v%u\n", ptr, h & 0xffff, (h >> 16) & 0xf);
		ptr = h >> 20;
	}
	return 0;
}

/* One look at the device through its BAR mmap: the virtio common config. */
static void read_common_cfg(int dev, const struct vfio_region_info *bar, uint32_t off)
{
	long pg = sysconf(_SC_PAGESIZE);
	uint32_t base = off & ~(uint32_t)(pg - 1);
	volatile uint8_t *m;

	if (!(bar->flags & VFIO_REGION_INFO_FLAG_MMAP) || off + 0x38 > bar->size) {
		printf("bar: common config not mmappable\n");
		return;
	}
	m = mmap(NULL, (size_t)pg, PROT_READ | PROT_WRITE, MAP_SHARED, dev, (off_t)(bar->offset + base));
	CHECK(m != MAP_FAILED, "mmap BAR: %s", strerror(errno));
	if (m == MAP_FAILED)
		return;
	m += off - base;
	/* virtio_pci_common_cfg: num_queues at 0x12, device_status at 0x14. */
	printf("bar: mmap ok; virtio common cfg: num_queues %u, device_status 0x%02x\n",
	       *(volatile uint16_t *)(m + 0x12), m[0x14]);
	CHECK(*(volatile uint16_t *)(m + 0x12) >= 1, "virtio num_queues is 0");
	munmap((void *)((uintptr_t)m & ~(uintptr_t)(pg - 1)), (size_t)pg);
}

static void print_region_caps(struct vfio_region_info *ri)
{
	struct vfio_info_cap_header *h;

	if (!(ri->flags & VFIO_REGION_INFO_FLAG_CAPS))
		return;
	for (h = next_cap(ri, ri->argsz, ri->cap_offset); h; h = next_cap(ri, ri->argsz, h->next)) {
		if (h->id == VFIO_REGION_INFO_CAP_SPARSE_MMAP) {
			struct vfio_region_info_cap_sparse_mmap *s = (void *)h;
			uint32_t i;

			for (i = 0; i < s->nr_areas; i++)
				printf("region:     sparse mmap area 0x%" PRIx64 "+0x%" PRIx64 "\n",
				       (uint64_t)s->areas[i].offset, (uint64_t)s->areas[i].size);
		} else if (h->id == VFIO_REGION_INFO_CAP_MSIX_MAPPABLE) {
			printf("region:     cap MSIX_MAPPABLE (the MSI-X table may be mmapped)\n");
		} else if (h->id == VFIO_REGION_INFO_CAP_TYPE) {
			struct vfio_region_info_cap_type *t = (void *)h;

			printf("region:     cap TYPE %u/%u\n", t->type, t->subtype);
		} else {
			printf("region:     cap id %u\n", h->id);
		}
	}
}

int main(void)
{
	const char *addr = getenv("WD_VFIO_DEVICE");
	char link[PATH_MAX], path[PATH_MAX + 32];
	struct vfio_group_status gs = { .argsz = sizeof(gs) };
	struct vfio_device_info di = { .argsz = sizeof(di) };
	struct vfio_region_info bars[VFIO_PCI_NUM_REGIONS];
	uint64_t r_start = 0, r_end = 0;
	int container, group, dev, api, common_bar = -1;
	uint32_t common_off = 0;
	ssize_t n;
	unsigned i;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!addr || !*addr) {
		printf("vm_vfio_smoke: WD_VFIO_DEVICE unset: not in the VM rig (tests/vm/run.sh); skipped\n");
		return 77;
	}
	printf("device %s\n", addr);

	container = open("/dev/vfio/vfio", O_RDWR | O_CLOEXEC);
	MUST(container >= 0, "open /dev/vfio/vfio: %s", strerror(errno));
	api = ioctl(container, VFIO_GET_API_VERSION);
	printf("container: API version %d\n", api);
	MUST(api == VFIO_API_VERSION, "API version %d, want %d", api, VFIO_API_VERSION);
	{
		static const struct { unsigned long ext; const char *name; } exts[] = {
			{ VFIO_TYPE1_IOMMU, "TYPE1" }, { VFIO_TYPE1v2_IOMMU, "TYPE1v2" },
			{ VFIO_TYPE1_NESTING_IOMMU, "TYPE1_NESTING" }, { VFIO_DMA_CC_IOMMU, "DMA_CC" },
			{ VFIO_EEH, "EEH" }, { VFIO_SPAPR_TCE_v2_IOMMU, "SPAPR_TCE_v2" },
			{ VFIO_NOIOMMU_IOMMU, "NOIOMMU" }, { VFIO_UNMAP_ALL, "UNMAP_ALL" },
			{ VFIO_UPDATE_VADDR, "UPDATE_VADDR" },
		};

		printf("container: extensions:");
		for (i = 0; i < sizeof(exts) / sizeof(exts[0]); i++)
			printf(" %s=%d", exts[i].name, ioctl(container, VFIO_CHECK_EXTENSION, exts[i].ext));
		printf("\n");
	}
	MUST(ioctl(container, VFIO_CHECK_EXTENSION, VFIO_TYPE1v2_IOMMU) == 1, "no TYPE1v2 IOMMU");

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/iommu_group", addr);
	n = readlink(path, link, sizeof(link) - 1);
	MUST(n > 0, "readlink %s: %s", path, strerror(errno));
	link[n] = 0;
	snprintf(path, sizeof(path), "/dev/vfio/%s", basename(link));
	group = open(path, O_RDWR | O_CLOEXEC);
	MUST(group >= 0, "open %s: %s", path, strerror(errno));
	MUST(ioctl(group, VFIO_GROUP_GET_STATUS, &gs) == 0, "GROUP_GET_STATUS: %s", strerror(errno));
	printf("group: %s flags 0x%x (%s)\n", path, gs.flags,
	       gs.flags & VFIO_GROUP_FLAGS_VIABLE ? "viable" : "NOT viable");
	MUST(gs.flags & VFIO_GROUP_FLAGS_VIABLE, "group not viable");
	MUST(ioctl(group, VFIO_GROUP_SET_CONTAINER, &container) == 0, "SET_CONTAINER: %s", strerror(errno));
	MUST(ioctl(container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU) == 0, "SET_IOMMU: %s", strerror(errno));
	printf("container: DMA_CC now %d (cache-coherent DMA)\n",
	       ioctl(container, VFIO_CHECK_EXTENSION, VFIO_DMA_CC_IOMMU));

	print_iommu_info(container, &r_start, &r_end);
	if (r_end > r_start)
		dma_checks(container, r_start, r_end);

	dev = ioctl(group, VFIO_GROUP_GET_DEVICE_FD, addr);
	MUST(dev >= 0, "GROUP_GET_DEVICE_FD %s: %s", addr, strerror(errno));
	MUST(ioctl(dev, VFIO_DEVICE_GET_INFO, &di) == 0, "DEVICE_GET_INFO: %s", strerror(errno));
	printf("device: flags 0x%x (%s%s), %u regions, %u irqs\n", di.flags,
	       di.flags & VFIO_DEVICE_FLAGS_PCI ? "pci" : "not pci",
	       di.flags & VFIO_DEVICE_FLAGS_RESET ? ", reset" : "", di.num_regions, di.num_irqs);
	CHECK(di.flags & VFIO_DEVICE_FLAGS_PCI, "not a PCI device");

	memset(bars, 0, sizeof(bars));
	for (i = 0; i < di.num_regions; i++) {
		struct { struct vfio_region_info ri; char caps[1024]; } q;

		memset(&q, 0, sizeof(q));
		q.ri.argsz = sizeof(q);
		q.ri.index = i;
		if (ioctl(dev, VFIO_DEVICE_GET_REGION_INFO, &q) != 0) {
			printf("region %u %-6s absent (%s)\n", i, region_name(i), strerror(errno));
			continue;
		}
		if (i < VFIO_PCI_NUM_REGIONS)
			bars[i] = q.ri;
		if (!q.ri.size)
			continue;
		printf("region %u %-6s size 0x%-8" PRIx64 " offset 0x%" PRIx64 " flags 0x%x%s%s%s\n", i,
		       region_name(i), (uint64_t)q.ri.size, (uint64_t)q.ri.offset, q.ri.flags,
		       q.ri.flags & VFIO_REGION_INFO_FLAG_READ ? " r" : "",
		       q.ri.flags & VFIO_REGION_INFO_FLAG_WRITE ? " w" : "",
		       q.ri.flags & VFIO_REGION_INFO_FLAG_MMAP ? " mmap" : "");
		print_region_caps(&q.ri);
	}
	MUST(bars[VFIO_PCI_CONFIG_REGION_INDEX].size >= 256, "no config region");
	if (print_config(dev, bars[VFIO_PCI_CONFIG_REGION_INDEX].offset, bars[VFIO_PCI_CONFIG_REGION_INDEX].size,
			 &common_bar, &common_off))
		return 1;

	for (i = 0; i < di.num_irqs; i++) {
		struct vfio_irq_info ii = { .argsz = sizeof(ii), .index = i };

		if (ioctl(dev, VFIO_DEVICE_GET_IRQ_INFO, &ii) != 0) {
			printf("irq %u %-4s absent (%s)\n", i, irq_name(i), strerror(errno));
			continue;
		}
		printf("irq %u %-4s count %u flags 0x%x%s%s\n", i, irq_name(i), ii.count, ii.flags,
		       ii.flags & VFIO_IRQ_INFO_EVENTFD ? " eventfd" : "",
		       ii.flags & VFIO_IRQ_INFO_AUTOMASKED ? " automasked" : "");
		if (i == VFIO_PCI_MSIX_IRQ_INDEX)
			CHECK(ii.count >= 1, "no MSI-X vectors");
	}

	if (common_bar >= 0 && common_bar < VFIO_PCI_ROM_REGION_INDEX)
		read_common_cfg(dev, &bars[common_bar], common_off);
	else
		CHECK(0, "no virtio common config capability");

	{
		struct vfio_device_feature f = { .argsz = sizeof(f),
			.flags = VFIO_DEVICE_FEATURE_PROBE | VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_MIGRATION };
		int r = ioctl(dev, VFIO_DEVICE_FEATURE, &f);

		printf("device: feature MIGRATION: %s\n", r == 0 ? "supported" : strerror(errno));
#ifdef VFIO_DEVICE_FEATURE_DMA_LOGGING_START
		f.flags = VFIO_DEVICE_FEATURE_PROBE | VFIO_DEVICE_FEATURE_SET | VFIO_DEVICE_FEATURE_DMA_LOGGING_START;
		r = ioctl(dev, VFIO_DEVICE_FEATURE, &f);
		printf("device: feature DMA_LOGGING (device dirty tracking): %s\n",
		       r == 0 ? "supported" : strerror(errno));
#endif
	}
	if (di.flags & VFIO_DEVICE_FLAGS_RESET) {
		int r = ioctl(dev, VFIO_DEVICE_RESET);

		printf("device: VFIO_DEVICE_RESET: %s\n", r == 0 ? "ok" : strerror(errno));
		CHECK(r == 0, "DEVICE_RESET: %s", strerror(errno));
	}

	close(dev);
	close(group);
	close(container);
	printf("vm_vfio_smoke: %s (%d failure(s))\n", failures ? "FAILED" : "ok", failures);
	return failures ? 1 : 0;
}
