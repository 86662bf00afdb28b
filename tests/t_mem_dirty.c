/* Dirty tracking: the device's writes set exactly the pages written, across
 * 64-page word boundaries and across shares; read-and-clear empties them;
 * huge sparse ranges read without trouble; stopping stops recording. */
#include "t_mem_helpers.h"

static int bit(const uint64_t *b, uint64_t i)
{
	return (int)(b[i / 64] >> (i % 64) & 1);
}

int main(void)
{
	uint64_t seed = t_seed();
	size_t ps = t_page(), npages = 300, n = npages * ps;
	struct wd_ctx *ctx;
	struct wd_domain *d;
	struct wd_queue *q;
	unsigned char *buf = wd_mem_alloc(n), *src = wd_mem_alloc(ps);
	uint64_t ibuf, isrc, bitmap[8], want[8];
	int round, k;
	int64_t cnt;

	setenv("WD_SOFT_RESV", "0x500000000000-0x7fffffffffff", 1); /* place shares low */
	ctx = t_ctx(1, 0);
	T_OK(wd_domain_new(&d, ctx, NULL));
	q = t_xqueue(ctx, "mover", d);
	T_OK(wd_share(d, buf, n, 0, &ibuf));
	T_OK(wd_share(d, src, ps, 0, &isrc));
	T_EQ(ibuf % ps, 0);
	T_EQ(wd_dirty_read_clear(d, ibuf, n, bitmap), 0); /* not tracking: nothing */
	T_OK(wd_dirty_start(d));
	for (round = 0; round < 30; round++) {
		memset(want, 0, sizeof(want));
		for (k = 0; k < 20; k++) {
			/* writes that start anywhere and may cross page and word edges */
			uint64_t off = t_rand(&seed) % (n - 2 * ps);
			uint32_t len = 1 + (uint32_t)(t_rand(&seed) % (2 * ps - 1));
			uint64_t p;

			T_EQ(t_dev_copy(q, ibuf + off, isrc, len > ps ? (uint32_t)ps : len), 0);
			len = len > ps ? (uint32_t)ps : len;
			for (p = off / ps; p <= (off + len - 1) / ps; p++)
				want[p / 64] |= 1ull << (p % 64);
		}
		/* reads of the source page do not dirty it */
		cnt = wd_dirty_read_clear(d, ibuf, n, bitmap);
		T_ASSERT(cnt > 0);
		for (k = 0; k < (int)npages; k++)
			if (bit(bitmap, (uint64_t)k) != bit(want, (uint64_t)k))
				T_FAIL("round %d page %d: dirty %d, expected %d", round, k,
				       bit(bitmap, (uint64_t)k), bit(want, (uint64_t)k));
		T_EQ(wd_dirty_read_clear(d, ibuf, n, bitmap), 0); /* cleared */
		T_EQ(wd_dirty_read_clear(d, isrc, ps, bitmap), 0); /* never written */
	}
	/* A window that starts inside a word and ends inside another */
	T_EQ(t_dev_copy(q, ibuf + 70 * ps, isrc, 8), 0);
	T_EQ(t_dev_copy(q, ibuf + 130 * ps, isrc, 8), 0);
	cnt = wd_dirty_read_clear(d, ibuf + 65 * ps, 70 * ps, bitmap);
	T_EQ(cnt, 2);
	T_EQ(bit(bitmap, 5), 1);
	T_EQ(bit(bitmap, 65), 1);

	/* A huge, sparse range: 64 GiB of IOVA around the two shares, a bitmap of
	 * 2 MiB, only the shares' pages can be dirty. */
	{
		uint64_t span = 64ull << 30, base = 0, *big;

		big = malloc(span / ps / 8);
		T_ASSERT(big);
		T_EQ(t_dev_copy(q, ibuf + 3 * ps, isrc, 1), 0);
		cnt = wd_dirty_read_clear(d, base, span, big);
		T_EQ(cnt, 1);
		T_EQ(bit(big, (ibuf + 3 * ps - base) / ps), 1);
		free(big);
	}
	/* unaligned arguments are refused */
	T_EQ(wd_dirty_read_clear(d, ibuf + 1, ps, bitmap), -EINVAL);
	/* stopped: writes are no longer recorded */
	T_OK(wd_dirty_stop(d));
	T_EQ(t_dev_copy(q, ibuf, isrc, 8), 0);
	T_OK(wd_dirty_start(d));
	T_EQ(wd_dirty_read_clear(d, ibuf, n, bitmap), 0);
	wd_queue_free(q);
	T_OK(wd_domain_free(d));
	wd_mem_free(buf, n);
	wd_mem_free(src, ps);
	wd_ctx_free(ctx);
	unsetenv("WD_SOFT_RESV");
	return 0;
}
