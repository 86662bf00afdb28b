/* Through the daemon: no-op round trips, data-mover ops and compression on
 * the client's own pointers (SVA through process_vm_*), explicit sharing of
 * memfd memory, dirty tracking, and the per-client quotas. */
#include "t_wdd.h"
#include "t_zlib.h"

int main(int argc, char **argv)
{
	static const char *const opts[] = { "-q", "3", "-p", "8", NULL };
	struct t_wdd w = { 0 };
	struct wd_ctx *ctx;
	struct wd_queue *q, *qx, *q3, *q4;
	struct wd_domain *d;
	struct wd_req r;
	struct wd_cpl c;
	size_t n = 256 << 10, clen, dlen, ps = (size_t)sysconf(_SC_PAGESIZE);
	unsigned char *src = malloc(n), *dst = malloc(wd_comp_bound(n)), *back = malloc(n);
	unsigned char *m1, *m2, *big;
	uint64_t i1, i2, seed = t_seed(), bitmap[64];
	int i;

	if (argc < 2)
		return T_SKIP;
	t_wdd_start(&w, argv[1], opts);
	ctx = t_wdd_ctx();
	q = t_wdd_queue(ctx, "mover", 0, NULL);
	for (i = 0; i < 1000; i++) {
		wd_prep_nop(&r, 0);
		r.tag = (uint64_t)i;
		T_EQ(t_run(q, &r).status, 0);
	}
	/* SVA: the daemon reaches our own memory */
	t_fill_text(src, n, &seed);
	wd_prep_copy(&r, back, src, (uint32_t)n);
	T_EQ(t_run(q, &r).status, 0);
	T_ASSERT(!memcmp(src, back, n));
	wd_prep_crc32c(&r, "123456789", 9, 0);
	T_EQ(t_run(q, &r).result, 0xE3069283u);
	wd_prep_compare(&r, src, back, (uint32_t)n);
	back[1000] ^= 1;
	c = t_run(q, &r);
	T_EQ(c.result, 1);
	T_EQ(c.aux, 1000);
	/* per-queue counters, as wd stat shows them */
	{
		struct wdd_stats_rep *st = malloc(sizeof(*st));

		/* the engine updates its counters at the end of each pass, just
		 * after it posts the completions: they may lag for a moment */
		for (i = 0; i < 1000; i++) {
			T_OK(wd__wdd_stats(ctx, st));
			if (st->nq == 1 && st->q[0].st.requests == 1003)
				break;
			usleep(1000);
		}
		T_EQ(st->nq, 1);
		T_EQ(st->q[0].st.requests, 1003); /* 1000 no-ops, copy, crc, compare */
		T_ASSERT(st->q[0].st.bytes >= 2 * n && st->q[0].st.errors == 0);
		T_ASSERT(!strcmp(st->q[0].alg, "mover"));
		free(st);
	}
	/* a pointer nowhere in our address space: an error, not a crash */
	wd_prep_copy(&r, back, (void *)(uintptr_t)0x10000, 64);
	T_EQ(t_run(q, &r).status, -EFAULT);
	wd_queue_free(q);

	/* compression on our pointers */
	q = t_wdd_queue(ctx, "gzip", 0, NULL);
	clen = wd_comp_bound(n);
	T_OK(wd_compress(q, src, n, dst, &clen, 1, WD_COMP_GZIP));
	T_EQ(t_zinflate(WD_COMP_GZIP, dst, clen, back, n, &dlen), Z_STREAM_END);
	T_ASSERT(dlen == n && !memcmp(src, back, n));
	dlen = n;
	T_OK(wd_decompress(q, dst, clen, back, &dlen, WD_COMP_GZIP));
	T_ASSERT(dlen == n && !memcmp(src, back, n));
	/* a fallback in the daemon's engine shows in wd_queue_stats() and in
	 * wd stat's rows: incompressible data at a libdeflate level into just
	 * the room its stored form takes is written as stored blocks (counted
	 * before the completion is posted) */
	{
		struct wd_queue_stats qs = { .size = sizeof(qs) };
		struct wdd_stats_rep *st = malloc(sizeof(*st));
		size_t m = 4096, room = 10 + m + 5 + 8;
		uint64_t noise_seed = 7;
		uint32_t k;

		dlen = n / 2;
		T_EQ(wd_decompress(q, dst, clen, back, &dlen, WD_COMP_GZIP), -ENOSPC);
		T_EQ(dlen, n); /* ISA-L measured the rest: no fallback */
		t_fill_random(back, m, &noise_seed);
		clen = room;
		T_OK(wd_compress(q, back, m, dst, &clen, 6, WD_COMP_GZIP));
		T_EQ(clen, room);
		T_OK(wd_queue_stats(q, &qs));
		T_EQ(qs.size, sizeof(qs));
		T_EQ(qs.deflate_stored, 1);
		T_EQ(qs.inflate_retry_nospace + qs.inflate_retry_baddata + qs.inflate_retry_nomem, 0);
		T_EQ(qs.inline_requests + qs.sync_ring_busy + qs.sync_ring_nomem, 0);
		T_OK(wd__wdd_stats(ctx, st));
		for (k = 0; k < st->nq && strcmp(st->q[k].alg, "gzip"); k++)
			;
		T_ASSERT(k < st->nq);
		T_EQ(st->q[k].st.deflate_stored, 1);
		free(st);
	}

	/* explicit: memfd memory from wd_mem_alloc, shared with the daemon */
	qx = t_wdd_queue(ctx, "gzip", WD_QUEUE_F_EXPLICIT, NULL);
	d = wd_queue_domain(qx);
	m1 = wd_mem_alloc(n);
	m2 = wd_mem_alloc(wd_comp_bound(n));
	memcpy(m1, src, n);
	T_OK(wd_share(d, m1, n, WD_SHARE_READONLY, &i1));
	T_OK(wd_share(d, m2, wd_comp_bound(n), 0, &i2));
	T_EQ(i1, (uintptr_t)m1); /* identity with our addresses */
	T_EQ(wd_share(d, src, n, 0, &i1), -EPERM); /* malloc memory cannot be passed */
	T_OK(wd_dirty_start(d));
	wd_prep_compress(&r, NULL, (uint32_t)wd_comp_bound(n), NULL, (uint32_t)n, 1, WD_COMP_GZIP);
	r.src = i1;
	r.dst = i2;
	c = t_run(qx, &r);
	T_EQ(c.status, 0);
	T_EQ(t_zinflate(WD_COMP_GZIP, m2, c.result, back, n, &dlen), Z_STREAM_END);
	T_ASSERT(dlen == n && !memcmp(src, back, n));
	T_ASSERT(wd_dirty_read_clear(d, i2 & ~(uint64_t)(ps - 1), 64 * ps, bitmap) > 0);
	T_EQ(bitmap[0] & 1, 1);
	/* an address that is not shared with this domain */
	r.src = (uintptr_t)src;
	T_EQ(t_run(qx, &r).status, -EFAULT);
	T_OK(wd_unshare(d, i1, 0, -1));
	r.src = i1;
	T_EQ(t_run(qx, &r).status, -EFAULT); /* revoked */

	/* pinned bytes as the daemon counts them, and the domain's own limit */
	{
		struct wd_domain_info di = { .size = sizeof(di) };
		size_t span2 = (wd_comp_bound(n) + ps - 1) & ~(ps - 1);
		unsigned char *two = wd_mem_alloc(2 * ps);

		T_OK(wd_domain_info(d, &di));
		T_EQ(di.pinned, span2); /* m1 went with its unshare; m2 is left */
		T_OK(wd_domain_set_pin_limit(d, span2 + ps));
		T_EQ(wd_share(d, two, 2 * ps, 0, &i1), -ENOMEM); /* past our own limit */
		T_OK(wd_share(d, two, ps, 0, &i1));
		T_OK(wd_domain_info(d, &di));
		T_EQ(di.pinned, span2 + ps);
		T_EQ(di.pin_limit, span2 + ps);
		T_OK(wd_unshare(d, i1, 0, -1));
		T_OK(wd_unshare(d, i2, 0, -1));
		T_OK(wd_domain_info(d, &di));
		T_EQ(di.pinned, 0);
		T_OK(wd_share(d, two, 2 * ps, 0, &i1)); /* room again */
		T_OK(wd_unshare(d, i1, 0, -1));
		T_OK(wd_domain_set_pin_limit(d, UINT64_MAX));
		T_OK(wd_share(d, m2, wd_comp_bound(n), 0, &i2));
		wd_mem_free(two, 2 * ps);
	}

	/* quotas: 3 queues, 8 MiB of shared memory per client */
	q3 = t_wdd_queue(ctx, "nop", 0, NULL); /* the third */
	{
		struct wd_queue_opts o = { .size = sizeof(o), .device = "wdd0" };

		T_EQ(wd_queue_new(&q4, ctx, "nop", &o), -EBUSY); /* the quota the daemon gave */
		wd_queue_free(q);
		T_OK(wd_queue_new(&q4, ctx, "nop", &o)); /* room again */
		wd_queue_free(q4);
	}
	big = wd_mem_alloc(16 << 20);
	T_EQ(wd_share(d, big, 16 << 20, 0, &i1), -EDQUOT);
	T_OK(wd_share(d, big, 4 << 20, 0, &i1));
	wd_queue_free(q3);
	wd_queue_free(qx);
	wd_mem_free(m1, n);
	wd_mem_free(m2, wd_comp_bound(n));
	wd_mem_free(big, 16 << 20);
	wd_ctx_free(ctx);
	t_wdd_cleanup(&w);
	free(src);
	free(dst);
	free(back);
	return 0;
}
