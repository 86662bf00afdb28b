/* IOVA space of a VFIO device: the domain's reserved regions are exactly
 * what lies outside the ranges the kernel reports (plus the driver's own
 * window); every share lands inside a usable range; a share at an address
 * in a reserved window is refused, by us and by the kernel itself. */
#include <linux/vfio.h>
#include <sys/ioctl.h>
#include "t_vfio.h"

int main(void)
{
	struct wd_iova_range resv[32];
	struct t_vfio t;
	uint64_t iova[32], size = 0;
	size_t ps = (size_t)sysconf(_SC_PAGESIZE);
	void *bufs[32], *msi;
	int n, i, ret = t_vfio_open(&t);

	if (ret)
		return ret;
	for (i = 0; i < (int)t.vd->v.nranges; i++)
		fprintf(stderr, "kernel IOVA range %d: 0x%llx-0x%llx\n", i,
			(unsigned long long)t.vd->v.ranges[i].start,
			(unsigned long long)t.vd->v.ranges[i].last);
	T_ASSERT(t.vd->v.nranges > 0);
	n = wd_domain_reserved(t.dom, resv, 32);
	T_ASSERT(n > 0);
	for (i = 0; i < n; i++) {
		fprintf(stderr, "reserved %d: 0x%llx-0x%llx\n", i, (unsigned long long)resv[i].start,
			(unsigned long long)resv[i].last);
		/* no reserved byte is usable, except the driver's own window */
		if (resv[i].start != t.vd->dma.iova)
			T_ASSERT(!vfio_iova_ok(&t.vd->v, resv[i].start, 1) &&
				 !vfio_iova_ok(&t.vd->v, resv[i].last, 1));
	}
	/* the x86 MSI window is one of them */
	T_ASSERT(!vfio_iova_ok(&t.vd->v, 0xfee00000ull, 1));

	/* many shares of growing size: each inside a usable range */
	for (i = 0; i < 32; i++) {
		size_t len = ps * (size_t)(1 + i);

		bufs[i] = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		T_ASSERT(bufs[i] != MAP_FAILED);
		T_OK(wd_share(t.dom, bufs[i], len, 0, &iova[i]));
		T_ASSERT(vfio_iova_ok(&t.vd->v, iova[i], len));
		T_ASSERT(!(iova[i] < t.vd->dma.iova + VC_DMA_LEN && t.vd->dma.iova < iova[i] + len));
		size += len;
	}
	fprintf(stderr, "32 shares, %llu KiB, all inside the kernel's ranges\n",
		(unsigned long long)(size >> 10));
	for (i = 0; i < 32; i += 2)
		T_OK(wd_unshare(t.dom, iova[i], 0, 1000));

	/* memory at the MSI doorbell's address: no identity share there */
	msi = mmap((void *)0xfee00000ul, ps, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	if (msi == (void *)0xfee00000ul) {
		uint64_t got;
		struct vfio_iommu_type1_dma_map m = {
			.argsz = sizeof(m),
			.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE,
			.vaddr = (uintptr_t)msi, .iova = 0xfee00000ull, .size = ps,
		};

		T_EQ(wd_share(t.dom, msi, ps, WD_SHARE_IDENTITY, &got), -EADDRNOTAVAIL);
		T_OK(wd_share(t.dom, msi, ps, 0, &got)); /* elsewhere is fine */
		T_ASSERT(got != 0xfee00000ull && vfio_iova_ok(&t.vd->v, got, ps));
		/* and the kernel refuses the window too, asked directly */
		T_ASSERT(ioctl(t.vd->v.container, VFIO_IOMMU_MAP_DMA, &m) != 0);
		fprintf(stderr, "MSI window: refused by wd_share (-EADDRNOTAVAIL) and by the kernel "
			"(%s)\n", strerror(errno));
		T_OK(wd_unshare(t.dom, got, 0, 1000));
	} else {
		fprintf(stderr, "could not place memory at 0xfee00000: identity check skipped\n");
	}
	T_EQ(vfio_dma_map(&t.vd->v, 0xfee00000ull, bufs[0], ps, 0), -EADDRNOTAVAIL);
	t_vfio_close(&t);
	return 0;
}
