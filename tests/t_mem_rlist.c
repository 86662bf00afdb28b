/* Range lists: merging on add, the CPU iterator (zero-length, unaligned,
 * piece sizes), and the DMA view (translation across shares, coalescing of
 * IOVA-contiguous pieces, max segment size and count, holes). */
#include "t_mem_helpers.h"

int main(void)
{
	size_t ps = t_page();
	struct wd_range store[8], segs[16];
	struct wd_rlist l;
	struct wd_rlist_iter it;
	struct wd_ctx *ctx = t_ctx(1, 0);
	struct wd_domain *d;
	unsigned char *buf = wd_mem_alloc(8 * ps), *other = wd_mem_alloc(ps);
	uint64_t iova, iother, len, total;
	void *p;
	int n;

	/* add: zero length ignored, touching ranges merge, capacity enforced */
	wd_rlist_init(&l, store, 3);
	T_OK(wd_rlist_add(&l, buf, 0));
	T_EQ(l.n, 0);
	T_OK(wd_rlist_add(&l, buf, 100));
	T_OK(wd_rlist_add(&l, buf + 100, 50));
	T_EQ(l.n, 1);
	T_EQ(l.r[0].len, 150);
	T_EQ(l.unaligned, 1);
	T_OK(wd_rlist_add(&l, buf + 150, ps - 150)); /* merged: now one aligned page */
	T_EQ(l.n, 1);
	T_EQ(l.unaligned, 0);
	T_OK(wd_rlist_add(&l, buf + 2 * ps, ps));
	T_OK(wd_rlist_add(&l, buf + 4 * ps, 10));
	T_EQ(wd_rlist_add(&l, buf + 6 * ps, 10), -ENOSPC);
	T_EQ(l.n, 3);
	T_EQ(l.bytes, 2 * ps + 10);
	T_EQ(l.unaligned, 1);

	/* CPU iterator in pieces of 1000 bytes covers every byte once, in order */
	wd_rlist_iter_init(&it, &l);
	total = 0;
	while (wd_rlist_cpu_next(&it, 1000, &p, &len)) {
		T_ASSERT(len >= 1 && len <= 1000);
		total += len;
	}
	T_EQ(total, l.bytes);
	T_EQ(wd_rlist_cpu_next(&it, 0, &p, &len), 0);
	/* whole ranges */
	wd_rlist_iter_init(&it, &l);
	T_EQ(wd_rlist_cpu_next(&it, 0, &p, &len), 1);
	T_ASSERT(p == buf && len == ps);
	/* an empty list */
	{
		struct wd_rlist e;

		wd_rlist_init(&e, NULL, 0);
		wd_rlist_iter_init(&it, &e);
		T_EQ(wd_rlist_cpu_next(&it, 0, &p, &len), 0);
		T_EQ(wd_rlist_add(&e, buf, 1), -ENOSPC);
		T_EQ(wd_rlist_dma_map(NULL, &e, segs, 16, 0), 0);
	}

	/* SVA view: addresses unchanged, split at max_seg */
	n = wd_rlist_dma_map(NULL, &l, segs, 16, 1000);
	T_ASSERT(n > 3);
	T_EQ(segs[0].addr, (uintptr_t)buf);
	T_EQ(segs[0].len, 1000);
	T_EQ(wd_rlist_dma_map(NULL, &l, segs, 2, 1000), -E2BIG);

	/* Explicit: two shares placed side by side in IOVA space although the
	 * memory is not adjacent: the DMA view keeps them apart anyway, as the
	 * device checks every segment against one share. */
	setenv("WD_SOFT_RESV", "0x500000000000-0x7fffffffffff", 1); /* force placement */
	wd_ctx_free(ctx);
	ctx = t_ctx(1, 0);
	T_OK(wd_domain_new(&d, ctx, NULL));
	T_OK(wd_share(d, buf, 2 * ps, 0, &iova));
	T_OK(wd_share(d, other, ps, 0, &iother));
	T_EQ(iother, iova + 2 * ps); /* first fit: right after */
	wd_rlist_init(&l, store, 8);
	T_OK(wd_rlist_add(&l, buf + ps, ps));     /* 2nd page of the first share */
	T_OK(wd_rlist_add(&l, other, ps));        /* the second share */
	n = wd_rlist_dma_map(d, &l, segs, 16, 0);
	T_EQ(n, 2);                               /* adjacent in IOVA, two shares */
	T_EQ(segs[0].addr, iova + ps);
	T_EQ(segs[0].len, ps);
	T_EQ(segs[1].addr, iother);
	T_EQ(segs[1].len, ps);
	T_EQ(wd_rlist_dma_map(d, &l, segs, 1, 0), -E2BIG);
	/* within one share, pieces that meet in IOVA space do coalesce */
	{
		struct wd_rlist m;
		struct wd_range ms[4] = { { (uintptr_t)buf, 100 }, { (uintptr_t)buf + 100, 50 } };

		m.r = ms;
		m.n = 2; /* built by hand: wd_rlist_add would have merged them */
		m.cap = 4;
		m.bytes = 150;
		m.unaligned = 2;
		T_EQ(wd_rlist_dma_map(d, &m, segs, 16, 0), 1);
		T_EQ(segs[0].len, 150);
		T_EQ(wd_rlist_dma_map(d, &m, segs, 16, 120), 2);  /* max_seg splits */
		T_EQ(segs[0].len, 120);
		T_EQ(segs[1].len, 30);
	}
	/* a range spanning the end of a share into unshared memory: -EFAULT */
	wd_rlist_init(&l, store, 8);
	T_OK(wd_rlist_add(&l, buf + ps, 2 * ps));
	T_EQ(wd_rlist_dma_map(d, &l, segs, 16, 0), -EFAULT);
	/* unaligned pieces translate with their offsets */
	wd_rlist_init(&l, store, 8);
	T_OK(wd_rlist_add(&l, buf + 10, 20));
	T_OK(wd_rlist_add(&l, buf + 100, 20));
	n = wd_rlist_dma_map(d, &l, segs, 16, 0);
	T_EQ(n, 2);
	T_EQ(segs[0].addr, iova + 10);
	T_EQ(segs[1].addr, iova + 100);
	T_OK(wd_domain_free(d));
	unsetenv("WD_SOFT_RESV");
	wd_mem_free(buf, 8 * ps);
	wd_mem_free(other, ps);
	wd_ctx_free(ctx);
	return 0;
}
