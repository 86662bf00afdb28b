/* wd_comp_stream_copy(): a decompression stream copied half way goes on
 * exactly as the original (zlib's inflateCopy); both finish with the same
 * output.  Compression streams, streams that never ran, a full queue and
 * forged copy requests are refused. */
#include "t_zlib.h"

#define LEN (600u << 10)

static void finish(struct wd_comp_stream *s, const unsigned char *in, size_t len,
		   unsigned char *out, size_t done, const unsigned char *want)
{
	size_t used, made, ipos = 0;
	int ret = 0;

	while (ret != 1) {
		ret = wd_comp_stream_run(s, in + ipos, len - ipos, &used, out + done, LEN - done,
					 &made, WD_COMP_FINISH);
		T_ASSERT(ret >= 0);
		ipos += used;
		done += made;
	}
	T_EQ(done, (size_t)LEN);
	T_ASSERT(!memcmp(out, want, LEN));
}

int main(void)
{
	uint64_t seed = t_seed();
	struct wd_ctx *ctx = t_ctx(1, 0);
	struct wd_queue *q = t_queue(ctx, "gzip", 4);
	unsigned char *in = malloc(LEN), *z = malloc(2 * LEN), *o1 = malloc(LEN), *o2 = malloc(LEN);
	struct wd_comp_stream *s, *c, *e, *comp;
	enum wd_comp_framing f;
	size_t zlen, used, made, half;
	struct wd_req r;
	struct wd_cpl cpl;

	T_ASSERT(in && z && o1 && o2);
	t_fill_text(in, LEN, &seed);
	for (f = WD_COMP_RAW; f <= WD_COMP_GZIP; f++) {
		zlen = t_zdeflate(f, 6, in, LEN, z, 2 * LEN);
		T_OK(wd_comp_stream_new(&s, q, WD_DECOMPRESS, f, 0));
		/* never ran: nothing to copy */
		T_EQ(wd_comp_stream_copy(&c, s), -EINVAL);
		/* half the input, 100 KiB of output: the window matters */
		half = zlen / 2;
		T_ASSERT(wd_comp_stream_run(s, z, half, &used, o1, 100 << 10, &made,
					    WD_COMP_NO_FLUSH) >= 0);
		T_ASSERT(made > 0);
		memcpy(o2, o1, made);
		T_OK(wd_comp_stream_copy(&c, s));
		finish(s, z + used, zlen - used, o1, made, in);
		finish(c, z + used, zlen - used, o2, made, in);
		T_EQ(wd_comp_stream_checksum(c), wd_comp_stream_checksum(s));
		/* a copy of a finished stream is finished too */
		T_OK(wd_comp_stream_copy(&e, s));
		T_EQ(wd_comp_stream_run(e, z, 1, &used, o2, 1, &made, WD_COMP_FINISH), -EINVAL);
		wd_comp_stream_free(e);
		wd_comp_stream_free(c);
		wd_comp_stream_free(s);
	}
	/* compression streams are not copied */
	T_OK(wd_comp_stream_new(&comp, q, WD_COMPRESS, WD_COMP_GZIP, 1));
	T_EQ(wd_comp_stream_copy(&c, comp), -EOPNOTSUPP);
	wd_comp_stream_free(comp);

	/* forged copy requests: no source, itself, out of range, with input */
	T_OK(wd_comp_stream_new(&s, q, WD_DECOMPRESS, WD_COMP_ZLIB, 0));
	memset(&r, 0, sizeof(r));
	r.op = WD_OP_DECOMPRESS;
	r.session = 5;
	r.param = WD_COMP_P_FRAMING(WD_COMP_ZLIB) | WD_COMP_P_START | WD_COMP_P_COPY;
	r.arg0 = 9; /* no such session */
	T_OK(wd_run(q, &r, &cpl));
	T_EQ(cpl.status, -EINVAL);
	r.arg0 = 5; /* itself */
	T_OK(wd_run(q, &r, &cpl));
	T_EQ(cpl.status, -EINVAL);
	r.arg0 = WD_MAX_SESSIONS + 1;
	T_OK(wd_run(q, &r, &cpl));
	T_EQ(cpl.status, -EINVAL);
	r.param &= ~WD_COMP_P_START; /* copy without start */
	r.arg0 = 1;
	T_OK(wd_run(q, &r, &cpl));
	T_EQ(cpl.status, -EINVAL);
	wd_comp_stream_free(s);

	wd_queue_free(q);
	wd_ctx_free(ctx);
	free(in);
	free(z);
	free(o1);
	free(o2);
	return 0;
}
