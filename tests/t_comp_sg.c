/* Scatter-gather compression through range lists, in SVA and explicit mode:
 * input and output scattered over many segments (empty, tiny, unaligned)
 * give a stream zlib decodes; decoding into scattered output gives the
 * input back; bad tables and unshared segments are refused; dirty tracking
 * sees the scattered writes. */
#include "t_mem_helpers.h"
#include "t_zlib.h"

#define NSEG 40

/* Cut buf[0..len) into up to NSEG pieces at random points, some empty. */
static void scatter(struct wd_rlist *l, unsigned char *buf, size_t len, uint64_t *seed)
{
	size_t pos = 0;

	while (pos < len && l->n < NSEG - 1) {
		size_t k = (size_t)(t_rand(seed) % (len / 8 + 2));

		if (pos + k > len)
			k = len - pos;
		/* leave a one-byte gap now and then so pieces do not merge */
		T_OK(wd_rlist_add(l, buf + pos, k));
		pos += k + (t_rand(seed) % 3 == 0 && pos + k + 1 < len ? 1 : 0);
	}
	T_OK(wd_rlist_add(l, buf + pos, len - pos));
}

/* Gather the rlist's first n bytes into out. */
static void gather(const struct wd_rlist *l, unsigned char *out, size_t n)
{
	struct wd_rlist_iter it;
	uint64_t len;
	void *p;

	wd_rlist_iter_init(&it, l);
	while (n && wd_rlist_cpu_next(&it, 0, &p, &len)) {
		if (len > n)
			len = n;
		memcpy(out, p, len);
		out += len;
		n -= len;
	}
}

static void run(struct wd_queue *q, struct wd_domain *d, uint64_t *seed)
{
	size_t ps = t_page(), n = 200000, cap = wd_comp_bound(n) + 64 * 1024;
	unsigned char *in = wd_mem_alloc(n + NSEG), *comp = wd_mem_alloc(cap + NSEG);
	unsigned char *flat = malloc(cap), *back = wd_mem_alloc(n + NSEG), *flat2 = malloc(n);
	struct wd_range *tab = wd_mem_alloc(4 * ps), st_in[NSEG], st_out[NSEG], st_back[NSEG];
	struct wd_rlist lin, lout, lback;
	uint64_t itab, x;
	size_t clen, dlen;
	int nin, nout, f;

	T_ASSERT(in && comp && flat && back && flat2 && tab);
	t_fill_text(in, n + NSEG, seed);
	if (d) {
		T_OK(wd_share(d, in, n + NSEG, WD_SHARE_READONLY, &x));
		T_OK(wd_share(d, comp, cap + NSEG, 0, &x));
		T_OK(wd_share(d, back, n + NSEG, 0, &x));
		T_OK(wd_share(d, tab, 4 * ps, 0, &itab));
	} else {
		itab = (uintptr_t)tab;
	}
	for (f = WD_COMP_RAW; f <= WD_COMP_GZIP; f++) {
		struct wd_req r;
		struct wd_cpl c;
		unsigned char *gap_in;

		wd_rlist_init(&lin, st_in, NSEG);
		wd_rlist_init(&lout, st_out, NSEG);
		scatter(&lin, in, n, seed);
		scatter(&lout, comp, cap, seed);
		/* the segment tables, translated through the domain (or not) */
		nin = wd_rlist_dma_map(d, &lin, tab, NSEG, 0);
		nout = wd_rlist_dma_map(d, &lout, tab + NSEG, NSEG, 0);
		T_ASSERT(nin > 0 && nout > 0);
		wd_prep_compress_sg(&r, itab + NSEG * sizeof(*tab), (uint32_t)nout, itab,
				    (uint32_t)nin, (unsigned)f, (enum wd_comp_framing)f);
		c = t_run(q, &r);
		T_EQ(c.status, 0);
		T_EQ(wd_cpl_consumed(&c), lin.bytes);
		clen = c.result;
		/* what the list holds, in order, is the input the device saw */
		gap_in = malloc(lin.bytes);
		gather(&lin, gap_in, lin.bytes);
		T_EQ(wd_cpl_checksum(&c), t_zcheck(f, gap_in, lin.bytes));
		gather(&lout, flat, clen);
		T_EQ(t_zinflate(f, flat, clen, flat2, n, &dlen), Z_STREAM_END);
		T_EQ(dlen, lin.bytes);
		T_ASSERT(!memcmp(flat2, gap_in, dlen));

		/* decode the scattered stream into scattered output */
		wd_rlist_init(&lback, st_back, NSEG);
		scatter(&lback, back, n + NSEG, seed); /* room for all despite gaps */
		nout = wd_rlist_dma_map(d, &lback, tab + 2 * NSEG, NSEG, 0);
		nin = wd_rlist_dma_map(d, &lout, tab + NSEG, NSEG, 0);
		{
			/* only the bytes the stream took: trim the input list */
			struct wd_range *t = tab + NSEG;
			uint64_t left = clen;
			int k;

			for (k = 0; k < nin && left; k++) {
				if (t[k].len > left)
					t[k].len = left;
				left -= t[k].len;
			}
			nin = k;
		}
		wd_prep_decompress_sg(&r, itab + 2 * NSEG * sizeof(*tab), (uint32_t)nout,
				      itab + NSEG * sizeof(*tab), (uint32_t)nin,
				      (enum wd_comp_framing)f);
		c = t_run(q, &r);
		T_EQ(c.status, 0);
		T_EQ(c.result, lin.bytes);
		T_EQ(wd_cpl_consumed(&c), clen);
		gather(&lback, flat2, c.result);
		T_ASSERT(!memcmp(flat2, gap_in, c.result));
		/* too little scattered output: -ENOSPC with the exact need */
		tab[2 * NSEG].len = 100;
		wd_prep_decompress_sg(&r, itab + 2 * NSEG * sizeof(*tab), 1,
				      itab + NSEG * sizeof(*tab), (uint32_t)nin,
				      (enum wd_comp_framing)f);
		c = t_run(q, &r);
		T_EQ(c.status, -ENOSPC);
		T_EQ(c.result, lin.bytes);
		free(gap_in);
	}
	/* malformed tables */
	{
		struct wd_req r;

		wd_prep_compress_sg(&r, itab + NSEG * sizeof(*tab), 0, itab, 1, 1, WD_COMP_RAW);
		T_EQ(t_run(q, &r).status, -EINVAL);
		wd_prep_compress_sg(&r, itab + NSEG * sizeof(*tab), 1, itab, 257, 1, WD_COMP_RAW);
		T_EQ(t_run(q, &r).status, -EINVAL);
		wd_prep_compress_sg(&r, itab + NSEG * sizeof(*tab), 1, itab, 1, 1, WD_COMP_RAW);
		r.session = 1;
		T_EQ(t_run(q, &r).status, -EINVAL);
		wd_prep_compress_sg(&r, itab + NSEG * sizeof(*tab), 1, 0, 1, 1, WD_COMP_RAW);
		T_EQ(t_run(q, &r).status, -EFAULT);
		if (d) {
			unsigned char *priv = wd_mem_alloc(ps);

			/* a segment pointing at memory the domain never got */
			tab[0].addr = (uintptr_t)priv;
			tab[0].len = 64;
			wd_prep_compress_sg(&r, itab + NSEG * sizeof(*tab), 1, itab, 1, 1, WD_COMP_RAW);
			T_EQ(t_run(q, &r).status, -EFAULT);
			wd_mem_free(priv, ps);
		}
	}
	wd_mem_free(in, n + NSEG);
	wd_mem_free(comp, cap + NSEG);
	wd_mem_free(back, n + NSEG);
	wd_mem_free(tab, 4 * ps);
	free(flat);
	free(flat2);
}

int main(void)
{
	uint64_t seed = t_seed();
	struct wd_ctx *ctx = t_ctx(1, 0);
	struct wd_queue *sva = t_queue(ctx, "deflate", 8);
	struct wd_queue *xq = t_xqueue(ctx, "deflate", NULL);

	T_OK(wd_domain_set_pin_limit(wd_queue_domain(xq), UINT64_MAX));
	run(sva, NULL, &seed);
	run(xq, wd_queue_domain(xq), &seed);
	wd_queue_free(sva);
	wd_queue_free(xq);
	wd_ctx_free(ctx);
	return 0;
}
