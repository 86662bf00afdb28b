/* Streams of any size: compression fed in chunks from 1 byte to 4 MiB (with
 * output space as small as 1 byte) makes one valid stream that zlib decodes;
 * decompression of a zlib-made stream in the same chunk sizes gives the
 * input back; gzip multi-member data decodes member after member. */
#include "t_zlib.h"

static size_t min_sz(size_t a, size_t b)
{
	return a < b ? a : b;
}

/* Compress in[len] through a stream, in_chunk bytes in and out_chunk bytes
 * of output space per call.  Returns the compressed size. */
static size_t stream_compress(struct wd_queue *q, enum wd_comp_framing f, unsigned level,
			      const unsigned char *in, size_t len, size_t in_chunk,
			      unsigned char *out, size_t cap, size_t out_chunk)
{
	struct wd_comp_stream *s;
	size_t ipos = 0, opos = 0, used, made;
	int ret = 0;

	T_OK(wd_comp_stream_new(&s, q, WD_COMPRESS, f, level));
	while (ret != 1) {
		size_t n = min_sz(in_chunk, len - ipos);
		enum wd_comp_flush fl = ipos + n == len ? WD_COMP_FINISH : WD_COMP_NO_FLUSH;

		T_ASSERT(opos < cap);
		ret = wd_comp_stream_run(s, in + ipos, n, &used, out + opos,
					 min_sz(out_chunk, cap - opos), &made, fl);
		T_ASSERT(ret >= 0);
		ipos += used;
		opos += made;
	}
	T_EQ(ipos, len);
	T_EQ(wd_comp_stream_checksum(s), t_zcheck(f, in, len));
	/* an ended stream refuses more until reset */
	T_EQ(wd_comp_stream_run(s, in, 0, &used, out, 1, &made, WD_COMP_FINISH), -EINVAL);
	wd_comp_stream_free(s);
	return opos;
}

static size_t stream_decompress(struct wd_queue *q, enum wd_comp_framing f,
				const unsigned char *in, size_t len, size_t in_chunk,
				unsigned char *out, size_t cap, size_t out_chunk)
{
	struct wd_comp_stream *s;
	size_t ipos = 0, opos = 0, used, made;
	int ret = 0;

	T_OK(wd_comp_stream_new(&s, q, WD_DECOMPRESS, f, 0));
	while (ret != 1) {
		size_t n = min_sz(in_chunk, len - ipos);
		enum wd_comp_flush fl = ipos + n == len ? WD_COMP_FINISH : WD_COMP_NO_FLUSH;

		ret = wd_comp_stream_run(s, in + ipos, n, &used, out + opos,
					 min_sz(out_chunk, cap - opos), &made, fl);
		if (ret < 0)
			T_FAIL("decompress at %zu/%zu: %s", ipos, len, wd_strerror(ret));
		ipos += used;
		opos += made;
	}
	T_EQ(ipos, len);
	wd_comp_stream_free(s);
	return opos;
}

int main(void)
{
	uint64_t seed = t_seed();
	struct wd_ctx *ctx = t_ctx(1, 0);
	struct wd_queue *q = t_queue(ctx, "deflate", 4);
	const size_t big = 12u << 20, small = 20000;
	unsigned char *in = malloc(big), *comp = malloc(wd_comp_bound(big)), *out = malloc(big);
	const size_t chunks[] = { 1, 7, 4096, 65536, 4u << 20 };
	size_t clen, dlen, zlen;
	unsigned i, f, m;

	T_ASSERT(in && comp && out);
	t_fill_text(in, big, &seed);
	t_fill_random(in + big / 2, 1 << 20, &seed); /* an incompressible stretch */
	for (i = 0; i < sizeof(chunks) / sizeof(chunks[0]); i++) {
		size_t len = chunks[i] < 4096 ? small : big;

		for (f = WD_COMP_RAW; f <= WD_COMP_GZIP; f++) {
			unsigned level = (i + f) % (WD_COMP_STREAM_LEVEL_MAX + 1);

			/* output space: same chunking, but never below 1 byte */
			clen = stream_compress(q, f, level, in, len, chunks[i], comp,
					       wd_comp_bound(big), chunks[i]);
			T_EQ(t_zinflate(f, comp, clen, out, big, &dlen), Z_STREAM_END);
			T_EQ(dlen, len);
			T_ASSERT(!memcmp(in, out, len));

			zlen = t_zdeflate(f, 6, in, len, comp, wd_comp_bound(big));
			memset(out, 0, len);
			dlen = stream_decompress(q, f, comp, zlen, chunks[i], out, big, chunks[i]);
			T_EQ(dlen, len);
			T_ASSERT(!memcmp(in, out, len));
		}
		fprintf(stderr, "chunk %zu ok\n", chunks[i]);
	}

	/* gzip with three members: decode one, reset, go on with the rest. */
	zlen = 0;
	for (m = 0; m < 3; m++)
		zlen += t_zdeflate(WD_COMP_GZIP, 1 + (int)m, in + m * 1000, 1000, comp + zlen,
				   wd_comp_bound(big) - zlen);
	{
		struct wd_comp_stream *s;
		size_t ipos = 0, opos = 0, used, made;
		int ret;

		T_OK(wd_comp_stream_new(&s, q, WD_DECOMPRESS, WD_COMP_GZIP, 0));
		for (m = 0; m < 3; m++) {
			ret = 0;
			while (ret != 1) {
				ret = wd_comp_stream_run(s, comp + ipos, zlen - ipos, &used, out + opos,
							 big - opos, &made, WD_COMP_FINISH);
				T_ASSERT(ret >= 0);
				ipos += used;
				opos += made;
			}
			T_OK(wd_comp_stream_reset(s));
		}
		T_EQ(ipos, zlen);
		T_EQ(opos, 3000);
		T_ASSERT(!memcmp(in, out, 3000));
		wd_comp_stream_free(s);
		dlen = big;
		T_OK(wd_decompress(q, comp, zlen, out, &dlen, WD_COMP_GZIP));
		T_EQ(dlen, 3000);
	}

	/* Sessions are a bounded resource per queue. */
	{
		struct wd_comp_stream *ss[WD_MAX_SESSIONS + 1];

		for (m = 0; m < WD_MAX_SESSIONS; m++)
			T_OK(wd_comp_stream_new(&ss[m], q, WD_COMPRESS, WD_COMP_RAW, 1));
		T_EQ(wd_comp_stream_new(&ss[m], q, WD_COMPRESS, WD_COMP_RAW, 1), -EBUSY);
		for (m = 0; m < WD_MAX_SESSIONS; m++)
			wd_comp_stream_free(ss[m]);
	}
	free(in);
	free(comp);
	free(out);
	wd_queue_free(q);
	wd_ctx_free(ctx);
	return 0;
}
