/* Explicit mode: only shared ranges are reachable.  Out-of-domain, crossing
 * the end of a share, writing a read-only share, and revoked addresses are
 * all answered with -EFAULT; nothing outside the domain is touched.  Several
 * queues may join one domain; compression works on shared buffers. */
#include <wd/comp.h>
#include "t_mem_helpers.h"

int main(void)
{
	size_t ps = t_page(), n = 16 * ps;
	struct wd_ctx *ctx = t_ctx(2, 0);
	struct wd_domain *d;
	struct wd_queue *q1, *q2, *qz;
	unsigned char *a = wd_mem_alloc(n), *b = wd_mem_alloc(n), *ro = wd_mem_alloc(ps);
	unsigned char *outside = wd_mem_alloc(ps);
	uint64_t ia, ib, iro;
	struct wd_domain_info info = { .size = sizeof(info) };
	unsigned i;

	T_ASSERT(a && b && ro && outside);
	T_OK(wd_domain_new(&d, ctx, "soft0"));
	q1 = t_xqueue(ctx, "mover", d);
	q2 = t_xqueue(ctx, "mover", d);
	T_ASSERT(wd_queue_domain(q1) == d && wd_queue_domain(q2) == d);
	T_OK(wd_share(d, a, n, 0, &ia));
	T_OK(wd_share(d, b, n, 0, &ib));
	T_OK(wd_share(d, ro, ps, WD_SHARE_READONLY, &iro));
	T_EQ(wd_share(d, a + ps, ps, 0, &ia), -EEXIST);
	T_OK(wd_domain_info(d, &info));
	T_EQ(info.nmaps, 3);
	T_EQ(info.nqueues, 2);
	T_EQ(info.pinned, 2 * n + ps);

	for (i = 0; i < n; i++)
		a[i] = (unsigned char)i;
	/* both queues of the domain reach both ranges */
	T_EQ(t_dev_copy(q1, ib, ia, (uint32_t)n), 0);
	T_ASSERT(!memcmp(a, b, n));
	memset(b, 0, n);
	T_EQ(t_dev_copy(q2, ib + 100, ia + 50, 1000), 0);
	T_ASSERT(!memcmp(a + 50, b + 100, 1000));

	/* the process's own pointer to unshared memory is not an address here */
	memset(outside, 0x5a, ps);
	T_EQ(t_dev_copy(q1, (uint64_t)(uintptr_t)outside, ia, 64), -EFAULT);
	T_EQ(t_dev_copy(q1, ib, (uint64_t)(uintptr_t)outside, 64), -EFAULT);
	for (i = 0; i < ps; i++)
		T_EQ(outside[i], 0x5a);
	/* crossing the end of a share */
	T_EQ(t_dev_copy(q1, ib + n - 10, ia, 11), -EFAULT);
	T_EQ(t_dev_copy(q1, ib, ia + n - 10, 11), -EFAULT);
	T_EQ(t_dev_copy(q1, ib + n - 10, ia, 10), 0);
	/* wrap-around and zero */
	T_EQ(t_dev_copy(q1, ib, UINT64_MAX - 5, 64), -EFAULT);
	T_EQ(t_dev_copy(q1, 0, ia, 64), -EFAULT);
	/* read-only share: readable, not writable */
	T_EQ(t_dev_copy(q1, ib, iro, 64), 0);
	T_EQ(t_dev_copy(q1, iro, ia, 64), -EFAULT);
	/* revoked */
	T_OK(wd_unshare(d, ia, 0, -1));
	T_EQ(t_dev_copy(q1, ib, ia, 64), -EFAULT);
	T_EQ(t_dev_copy(q2, ib, ia, 64), -EFAULT);

	/* an SVA queue and an explicit one side by side in one context */
	{
		struct wd_queue *sva = t_queue(ctx, "mover", 8);
		struct wd_req r;

		T_ASSERT(wd_queue_domain(sva) == NULL);
		wd_prep_copy(&r, outside, b, 64);
		T_EQ(t_run(sva, &r).status, 0);
		wd_queue_free(sva);
	}

	/* compression in explicit mode, through its own implicit domain */
	qz = t_xqueue(ctx, "gzip", NULL);
	{
		struct wd_domain *dz = wd_queue_domain(qz);
		size_t cap = wd_comp_bound(n), clen = cap, dlen = n;
		unsigned char *src = wd_mem_alloc(n), *comp = wd_mem_alloc(cap), *back = wd_mem_alloc(n);
		uint64_t isrc, icomp, iback;
		struct wd_req r;
		struct wd_cpl c;

		T_ASSERT(dz && dz != d && src && comp && back);
		for (i = 0; i < n; i++)
			src[i] = (unsigned char)(i % 251 < 100 ? 'a' : i);
		T_OK(wd_share(dz, src, n, WD_SHARE_READONLY, &isrc));
		T_OK(wd_share(dz, comp, cap, 0, &icomp));
		T_OK(wd_share(dz, back, n, 0, &iback));
		wd_prep_compress(&r, NULL, (uint32_t)cap, NULL, (uint32_t)n, 1, WD_COMP_GZIP);
		r.src = isrc;
		r.dst = icomp;
		c = t_run(qz, &r);
		T_EQ(c.status, 0);
		clen = c.result;
		wd_prep_decompress(&r, NULL, (uint32_t)n, NULL, (uint32_t)clen, WD_COMP_GZIP);
		r.src = icomp;
		r.dst = iback;
		c = t_run(qz, &r);
		T_EQ(c.status, 0);
		T_EQ(c.result, n);
		T_ASSERT(!memcmp(src, back, n));
		/* the synchronous helpers take device addresses: shares placed at
		 * their own address (identity, the usual case) work as pointers,
		 * memory never shared with this domain does not */
		if (isrc == (uintptr_t)src && icomp == (uintptr_t)comp) {
			T_OK(wd_compress(qz, src, n, comp, &clen, 1, WD_COMP_GZIP));
			T_OK(wd_decompress(qz, comp, clen, back, &dlen, WD_COMP_GZIP));
			T_EQ(dlen, n);
		}
		clen = cap;
		T_EQ(wd_compress(qz, outside, ps, comp, &clen, 1, WD_COMP_GZIP), -EFAULT);
		wd_queue_free(qz); /* its domain goes with it, unsharing all */
		wd_mem_free(src, n);
		wd_mem_free(comp, cap);
		wd_mem_free(back, n);
	}

	T_EQ(wd_domain_free(d), -EBUSY); /* queues still use it */
	T_OK(wd_queue_stop(q1));
	T_OK(wd_queue_stop(q2));
	T_EQ(wd_domain_free(d), -EBUSY); /* stopped is not freed */
	wd_queue_free(q1);
	wd_queue_free(q2);
	T_OK(wd_domain_free(d));

	/* a queue's own domain: not the user's to free, and it lives on while
	 * another queue joined it */
	q1 = t_xqueue(ctx, "mover", NULL);
	T_EQ(wd_domain_free(wd_queue_domain(q1)), -EBUSY);
	q2 = t_xqueue(ctx, "mover", wd_queue_domain(q1));
	T_OK(wd_share(wd_queue_domain(q1), b, n, 0, &ib));
	wd_queue_free(q1);
	T_EQ(t_dev_copy(q2, ib, ib + 8, 64), 0);
	wd_queue_free(q2); /* the last user: the domain goes, unsharing b */
	wd_mem_free(a, n);
	wd_mem_free(b, n);
	wd_mem_free(ro, ps);
	wd_mem_free(outside, ps);
	wd_ctx_free(ctx);
	return 0;
}
