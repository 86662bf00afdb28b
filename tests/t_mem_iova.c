/* The IOVA allocator: identity when it can, never inside a reserved region,
 * no two shares overlapping, page offsets kept, freed space reused. */
#include <stdlib.h>
#include "t_mem_helpers.h"

#define N 64

int main(void)
{
	uint64_t seed = t_seed();
	struct wd_iova_range resv[16];
	struct wd_ctx *ctx;
	struct wd_domain *d;
	void *buf[N];
	size_t len[N];
	uint64_t iova[N];
	int live[N] = { 0 }, nresv, i, j, k;
	size_t ps = t_page();

	/* Reserve the whole area where mmap puts memory, so identity fails and
	 * the allocator must place shares; and a window near the bottom. */
	setenv("WD_SOFT_RESV", "0x100000-0x2fffff,0x500000000000-0x7fffffffffff", 1);
	ctx = t_ctx(1, 0);
	T_OK(wd_domain_new(&d, ctx, NULL));
	T_OK(wd_domain_set_pin_limit(d, UINT64_MAX)); /* this test is about IOVA */
	nresv = wd_domain_reserved(d, resv, 16);
	T_EQ(nresv, 3);  /* MSI window + the two above */
	T_ASSERT(resv[0].start == 0x100000 && resv[0].last == 0x2fffff);
	T_ASSERT(resv[1].start == 0xfee00000ull && resv[1].last == 0xfeefffffull);

	for (k = 0; k < 2000; k++) {
		i = (int)(t_rand(&seed) % N);
		if (live[i]) {
			T_OK(wd_unshare(d, iova[i], 0, -1));
			wd_mem_free(buf[i], len[i]);
			live[i] = 0;
			continue;
		}
		len[i] = ps * (1 + t_rand(&seed) % 300);
		buf[i] = wd_mem_alloc(len[i]);
		T_ASSERT(buf[i]);
		{
			/* share from an offset inside the first page */
			size_t off = (size_t)(t_rand(&seed) % 64) * 8;

			T_OK(wd_share(d, (char *)buf[i] + off, len[i] - off, 0, &iova[i]));
			T_EQ(iova[i] % ps, off);  /* the page offset survives */
			iova[i] -= off;
		}
		live[i] = 1;
		/* never reserved, never the identity here, never overlapping */
		for (j = 0; j < nresv; j++)
			T_ASSERT(iova[i] + len[i] <= resv[j].start || iova[i] > resv[j].last);
		T_ASSERT(iova[i] != (uint64_t)(uintptr_t)buf[i]);
		T_ASSERT(iova[i] >= 0x10000);
		for (j = 0; j < N; j++)
			if (j != i && live[j])
				T_ASSERT(iova[i] + len[i] <= iova[j] || iova[j] + len[j] <= iova[i]);
	}
	/* First fit reuses freed space: after unsharing everything, the next
	 * share lands at the bottom of the space again. */
	for (i = 0; i < N; i++)
		if (live[i]) {
			T_OK(wd_unshare(d, iova[i], 0, -1));
			wd_mem_free(buf[i], len[i]);
		}
	buf[0] = wd_mem_alloc(ps);
	T_OK(wd_share(d, buf[0], ps, 0, &iova[0]));
	T_EQ(iova[0], 0x10000);
	/* An identity share that would land in a reserved window is refused. */
	buf[1] = wd_mem_alloc(ps);
	T_EQ(wd_share(d, buf[1], ps, WD_SHARE_IDENTITY, &iova[1]), -EADDRNOTAVAIL);
	T_OK(wd_unshare(d, iova[0], 0, -1));
	T_EQ(wd_unshare(d, iova[0], 0, -1), -ENOENT);
	wd_mem_free(buf[0], ps);
	wd_mem_free(buf[1], ps);
	T_OK(wd_domain_free(d));
	wd_ctx_free(ctx);

	/* Without the big window identity is what one gets. */
	unsetenv("WD_SOFT_RESV");
	ctx = t_ctx(1, 0);
	T_OK(wd_domain_new(&d, ctx, NULL));
	buf[0] = wd_mem_alloc(4 * ps);
	T_OK(wd_share(d, buf[0], 4 * ps, WD_SHARE_IDENTITY, &iova[0]));
	T_EQ(iova[0], (uint64_t)(uintptr_t)buf[0]);
	T_OK(wd_domain_free(d)); /* unshares what is left */
	wd_mem_free(buf[0], 4 * ps);
	wd_ctx_free(ctx);
	return 0;
}
