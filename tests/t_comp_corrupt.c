/* Truncated, bit-flipped and garbage compressed data: a clear error (or, for
 * gzip/zlib, the original data when a flip hit a field that carries no
 * data), never a crash, never a write past the output buffer.  Run under
 * ASan as part of the test command. */
#include "t_zlib.h"

static int ok_status(int st)
{
	return st == 0 || st == -EBADMSG || st == -ENODATA || st == -ENOSPC;
}

int main(void)
{
	uint64_t seed = t_seed();
	struct wd_ctx *ctx = t_ctx(1, 0);
	struct wd_queue *q = t_queue(ctx, "gzip", 4);
	const size_t n = 64 << 10;
	unsigned char *in = malloc(n), *comp = malloc(wd_comp_bound(n)), *bad = malloc(wd_comp_bound(n)),
		      *out = malloc(n + 1);
	size_t clen, dlen, cut;
	unsigned f, i;
	int st;

	T_ASSERT(in && comp && bad && out);
	t_fill_text(in, n, &seed);
	for (f = WD_COMP_RAW; f <= WD_COMP_GZIP; f++) {
		clen = wd_comp_bound(n);
		T_OK(wd_compress(q, in, n, comp, &clen, 2, f));

		/* every truncation point near the ends, a sample in between */
		for (cut = 0; cut < clen; cut += cut < 64 || cut > clen - 64 ? 1 : 97) {
			dlen = n;
			st = wd_decompress(q, comp, cut, out, &dlen, f);
			if (st != -ENODATA && st != -EBADMSG)
				T_FAIL("framing %u cut %zu/%zu: %d (%s)", f, cut, clen, st, wd_strerror(st));
		}

		/* single bit flips */
		for (i = 0; i < 3000; i++) {
			size_t pos = (size_t)(t_rand(&seed) % clen);

			memcpy(bad, comp, clen);
			bad[pos] ^= (unsigned char)(1u << (t_rand(&seed) % 8));
			dlen = n;
			st = wd_decompress(q, bad, clen, out, &dlen, f);
			if (!ok_status(st))
				T_FAIL("framing %u flip at %zu: %d", f, pos, st);
			if (st == 0 && f != WD_COMP_RAW)
				T_ASSERT(dlen == n && !memcmp(in, out, n));
		}

		/* garbage */
		for (i = 0; i < 300; i++) {
			size_t len = (size_t)(t_rand(&seed) % 4096);

			t_fill_random(bad, len, &seed);
			dlen = n;
			st = wd_decompress(q, bad, len, out, &dlen, f);
			T_ASSERT(ok_status(st));
		}

		/* streaming: a corrupt stream stays failed until reset */
		{
			struct wd_comp_stream *s;
			size_t used, made;

			memcpy(bad, comp, clen);
			memset(bad + clen / 2, 0xff, 64);
			T_OK(wd_comp_stream_new(&s, q, WD_DECOMPRESS, f, 0));
			st = wd_comp_stream_run(s, bad, clen, &used, out, n, &made, WD_COMP_FINISH);
			/* 0: the damage made more output than fits, so far no error;
			 * raw deflate has no checksum: garbage may even end "fine" */
			if (!(st == -EBADMSG || st == 0 || (f == WD_COMP_RAW && (st == 1 || ok_status(st)))))
				T_FAIL("framing %u corrupt stream: %d", f, st);
			if (st == -EBADMSG)
				T_EQ(wd_comp_stream_run(s, bad, clen, &used, out, n, &made,
							WD_COMP_FINISH), -EBADMSG);
			T_OK(wd_comp_stream_reset(s));
			T_EQ(wd_comp_stream_run(s, comp, clen, &used, out, n, &made, WD_COMP_FINISH), 1);
			T_EQ(made, n);
			/* truncated stream with no more input to come */
			T_OK(wd_comp_stream_reset(s));
			T_EQ(wd_comp_stream_run(s, comp, clen / 2, &used, out, n, &made, WD_COMP_FINISH),
			     -ENODATA);
			wd_comp_stream_free(s);
		}
	}

	/* Descriptor-level abuse of the compression ops. */
	{
		struct wd_req r;
		struct wd_cpl c;

		wd_prep_decompress(&r, out, (uint32_t)n, comp, (uint32_t)clen, WD_COMP_GZIP);
		r.session = 3; /* never started */
		T_EQ(t_run(q, &r).status, -EINVAL);
		wd_prep_decompress(&r, out, (uint32_t)n, comp, (uint32_t)clen, WD_COMP_GZIP);
		r.session = WD_MAX_SESSIONS + 1;
		T_EQ(t_run(q, &r).status, -EINVAL);
		wd_prep_decompress(&r, out, (uint32_t)n, comp, (uint32_t)clen, WD_COMP_GZIP);
		r.param |= 1u << 20;
		T_EQ(t_run(q, &r).status, -EINVAL);
		wd_prep_decompress(&r, NULL, (uint32_t)n, comp, (uint32_t)clen, WD_COMP_GZIP);
		T_EQ(t_run(q, &r).status, -EFAULT);
		wd_prep_compress_piece(&r, out, (uint32_t)n, in, 100, 1, WD_COMP_FULL_FLUSH, in,
				       WD_COMP_DICT_MAX + 1);
		T_EQ(t_run(q, &r).status, -EINVAL);
		wd_prep_compress(&r, out, (uint32_t)n, in, 100, 1, WD_COMP_RAW);
		r.param = WD_COMP_P_LEVEL(1); /* one-shot without an end */
		T_EQ(t_run(q, &r).status, -EINVAL);
		c = t_run(q, (wd_prep_nop(&r, 0), &r));
		T_EQ(c.status, 0);
	}
	free(in);
	free(comp);
	free(bad);
	free(out);
	wd_queue_free(q);
	wd_ctx_free(ctx);
	return 0;
}
