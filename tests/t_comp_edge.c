/* Empty and incompressible inputs round-trip; an output buffer that is too
 * small gives -ENOSPC with the size that works, writes nothing past the
 * buffer, and the retry with that size succeeds. */
#include "t_zlib.h"

#define GUARD 64

static void check_guard(const unsigned char *p)
{
	for (int i = 0; i < GUARD; i++)
		T_EQ(p[i], 0xEE);
}

int main(void)
{
	uint64_t seed = t_seed();
	struct wd_ctx *ctx = t_ctx(1, 0);
	struct wd_queue *q = t_queue(ctx, "zlib", 4);
	const size_t n = 1 << 20;
	unsigned char *in = malloc(n), *comp = malloc(wd_comp_bound(n) + GUARD),
		      *out = malloc(n + GUARD);
	size_t clen, dlen, small;
	unsigned f, level;

	T_ASSERT(in && comp && out);
	for (f = WD_COMP_RAW; f <= WD_COMP_GZIP; f++) {
		/* empty input: a valid empty stream, and back to nothing */
		clen = 64;
		T_OK(wd_compress(q, in, 0, comp, &clen, 1, f));
		T_ASSERT(clen > 0);
		T_EQ(t_zinflate(f, comp, clen, out, n, &dlen), Z_STREAM_END);
		T_EQ(dlen, 0);
		dlen = n;
		T_OK(wd_decompress(q, comp, clen, out, &dlen, f));
		T_EQ(dlen, 0);

		/* incompressible: fits in wd_comp_bound() at every level */
		t_fill_random(in, n, &seed);
		for (level = 0; level <= WD_COMP_LEVEL_MAX; level++) {
			clen = wd_comp_bound(n);
			memset(comp + clen, 0xEE, GUARD);
			T_OK(wd_compress(q, in, n, comp, &clen, level, f));
			T_ASSERT(clen <= wd_comp_bound(n));
			check_guard(comp + wd_comp_bound(n));
			dlen = n;
			T_OK(wd_decompress(q, comp, clen, out, &dlen, f));
			T_EQ(dlen, n);
			T_ASSERT(!memcmp(in, out, n));
		}

		/* compress into too little space: -ENOSPC names a size that works */
		t_fill_text(in, n, &seed);
		small = 1000;
		memset(comp + small, 0xEE, GUARD);
		T_EQ(wd_compress(q, in, n, comp, &small, 1, f), -ENOSPC);
		check_guard(comp + 1000);
		T_ASSERT(small >= 1000);
		T_OK(wd_compress(q, in, n, comp, &small, 1, f));
		clen = small;

		/* decompress into too little space: -ENOSPC says exactly how much */
		small = n / 3;
		memset(out + small, 0xEE, GUARD);
		T_EQ(wd_decompress(q, comp, clen, out, &small, f), -ENOSPC);
		check_guard(out + n / 3);
		T_EQ(small, n);
		T_OK(wd_decompress(q, comp, clen, out, &small, f));
		T_EQ(small, n);
		T_ASSERT(!memcmp(in, out, n));

		/* exactly enough space is enough */
		small = n;
		T_OK(wd_decompress(q, comp, clen, out, &small, f));
		/* one byte short is not */
		small = n - 1;
		T_EQ(wd_decompress(q, comp, clen, out, &small, f), -ENOSPC);
		T_EQ(small, n);
	}
	/* Exact accounting: bytes after the end of a raw or zlib stream are not
	 * consumed (ISA-L reads ahead), and raw decoding reports a CRC-32 too. */
	t_fill_text(in, n, &seed);
	for (f = WD_COMP_RAW; f <= WD_COMP_GZIP; f++) {
		struct wd_req r;
		struct wd_cpl c;

		clen = wd_comp_bound(n);
		T_OK(wd_compress(q, in, 5000, comp, &clen, 1, f));
		memset(comp + clen, 0x77, 16); /* trailing bytes */
		wd_prep_decompress(&r, out, (uint32_t)n, comp, (uint32_t)clen + 16, f);
		c = t_run(q, &r);
		T_EQ(c.status, 0);
		T_EQ(c.result, 5000);
		T_EQ(wd_cpl_consumed(&c), clen);
		T_EQ(wd_cpl_checksum(&c), t_zcheck(f, in, 5000));
		dlen = n;
		if (f != WD_COMP_GZIP)
			T_EQ(wd_decompress(q, comp, clen + 16, out, &dlen, f), -EBADMSG);
		/* one-shot zlib/gzip must finish their stream */
		wd_prep_compress(&r, comp, (uint32_t)wd_comp_bound(n), in, 100, 1, f);
		r.param = WD_COMP_P_LEVEL(1) | WD_COMP_P_FRAMING(f) | WD_COMP_P_FLUSH(WD_COMP_FULL_FLUSH);
		T_EQ(t_run(q, &r).status, f == WD_COMP_RAW ? 0 : -EINVAL);
	}
	/* -ENOSPC on multi-member gzip names the size of all members */
	{
		size_t m1 = wd_comp_bound(n), m2;

		T_OK(wd_compress(q, in, 3000, comp, &m1, 1, WD_COMP_GZIP));
		m2 = wd_comp_bound(n) - m1;
		T_OK(wd_compress(q, in + 3000, 7000, comp + m1, &m2, 2, WD_COMP_GZIP));
		small = 1000;
		T_EQ(wd_decompress(q, comp, m1 + m2, out, &small, WD_COMP_GZIP), -ENOSPC);
		T_EQ(small, 10000);
		small = 4000; /* the first member fits, the second does not */
		T_EQ(wd_decompress(q, comp, m1 + m2, out, &small, WD_COMP_GZIP), -ENOSPC);
		T_EQ(small, 10000);
		T_OK(wd_decompress(q, comp, m1 + m2, out, &small, WD_COMP_GZIP));
		T_EQ(small, 10000);
		T_ASSERT(!memcmp(in, out, 10000));
	}

	/* The synchronous helpers need an idle queue. */
	{
		struct wd_req r;

		wd_prep_nop(&r, 20 * 1000 * 1000);
		T_EQ(wd_send(q, &r, 1), 1);
		clen = wd_comp_bound(n);
		T_EQ(wd_compress(q, in, 100, comp, &clen, 1, WD_COMP_RAW), -EBUSY);
		struct wd_cpl c;
		T_EQ(wd_wait(q, &c, 1, 5000), 1);
	}
	/* Bad parameters. */
	clen = wd_comp_bound(n);
	T_EQ(wd_compress(q, in, 100, comp, &clen, WD_COMP_LEVEL_MAX + 1, WD_COMP_RAW), -EINVAL);
	T_EQ(wd_compress(q, in, 100, comp, &clen, 1, (enum wd_comp_framing)7), -EINVAL);
	T_EQ(wd_comp_level_from_zlib(1), 1);
	T_EQ(wd_comp_level_from_zlib(4), 2);
	T_EQ(wd_comp_level_from_zlib(5), 2);
	T_EQ(wd_comp_level_from_zlib(6), 5);
	T_EQ(wd_comp_level_from_zlib(7), 6);
	T_EQ(wd_comp_level_from_zlib(9), 7);
	T_EQ(wd_comp_level_from_zlib(-1), 5); /* Z_DEFAULT_COMPRESSION */
	T_EQ(wd_comp_level_from_zlib(0), 0);
	T_EQ(wd_comp_stream_level_from_zlib(6), 3);
	T_EQ(wd_comp_stream_level_from_zlib(9), 3);
	T_EQ(wd_comp_stream_level_from_zlib(2), 1);
	free(in);
	free(comp);
	free(out);
	wd_queue_free(q);
	wd_ctx_free(ctx);
	return 0;
}
