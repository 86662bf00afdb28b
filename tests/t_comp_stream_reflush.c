/* A compression stream flushed again with no new input - zlib's idiom
 * "call again while the output filled up" - adds nothing: the bytes the
 * first flush left come out, then 0 bytes, so the idiom ends.  It used to
 * write one more empty block per call, forever, whenever a flush's output
 * ended exactly at the end of the space given.  A stronger flush (full
 * after sync) still writes its own marker, as zlib's does.  Output space
 * of every size from 1 to 24 bytes, each framing and stream level; what
 * came out is the same bytes as with ample space, and zlib restores it. */
#include "t_zlib.h"

#define TEXT 3000
#define PIECES 5

static size_t min_sz(size_t a, size_t b)
{
	return a < b ? a : b;
}

/* One flushed piece: the call, then again while the output filled up. */
static size_t piece(struct wd_comp_stream *s, const unsigned char *in, size_t n,
		    unsigned char *out, size_t cap, size_t chunk, enum wd_comp_flush fl)
{
	size_t opos = 0, used, made;
	int calls = 0, ret;

	do {
		T_ASSERT(++calls < 10000); /* the idiom must end */
		T_ASSERT(opos < cap);
		ret = wd_comp_stream_run(s, in, n, &used, out + opos, min_sz(chunk, cap - opos),
					 &made, fl);
		T_ASSERT(ret >= 0);
		in += used;
		n -= used;
		opos += made;
	} while (ret == 0 && (n || made == chunk));
	T_EQ(n, (size_t)0);
	return opos;
}

/* The whole stream: PIECES pieces each sync- (or full-) flushed, an
 * empty flush of each kind between, then the finish. */
static size_t stream(struct wd_queue *q, enum wd_comp_framing f, unsigned level,
		     const unsigned char *in, unsigned char *out, size_t cap, size_t chunk)
{
	struct wd_comp_stream *s;
	size_t opos = 0, k, step = TEXT / PIECES, again;

	T_OK(wd_comp_stream_new(&s, q, WD_COMPRESS, f, level));
	for (k = 0; k < PIECES; k++) {
		opos += piece(s, in + k * step, step, out + opos, cap - opos, chunk,
			      k % 2 ? WD_COMP_FULL_FLUSH : WD_COMP_SYNC_FLUSH);
		/* the same flush again, nothing new: nothing to write */
		again = piece(s, in, 0, out + opos, cap - opos, chunk,
			      k % 2 ? WD_COMP_FULL_FLUSH : WD_COMP_SYNC_FLUSH);
		T_EQ(again, (size_t)0);
		/* a weaker one neither */
		if (k % 2)
			T_EQ(piece(s, in, 0, out + opos, cap - opos, chunk, WD_COMP_SYNC_FLUSH),
			     (size_t)0);
	}
	/* a full flush after a sync flush forgets history: its own marker */
	opos += piece(s, in, 0, out + opos, cap - opos, chunk, WD_COMP_SYNC_FLUSH);
	again = piece(s, in, 0, out + opos, cap - opos, chunk, WD_COMP_FULL_FLUSH);
	T_ASSERT(again >= 4);
	opos += again;
	opos += piece(s, in, 0, out + opos, cap - opos, chunk, WD_COMP_FINISH);
	wd_comp_stream_free(s);
	return opos;
}

int main(void)
{
	struct wd_ctx *ctx = t_ctx(1, 0);
	struct wd_queue *q = t_queue(ctx, "deflate", 4);
	static unsigned char in[TEXT], ref[TEXT * 2], out[TEXT * 2], back[TEXT];
	uint64_t seed = t_seed();
	size_t ref_len, len, back_len, chunk;
	unsigned level, f;

	t_fill_text(in, sizeof(in), &seed);
	for (f = WD_COMP_RAW; f <= WD_COMP_GZIP; f++)
		for (level = 0; level <= WD_COMP_STREAM_LEVEL_MAX; level++) {
			ref_len = stream(q, f, level, in, ref, sizeof(ref), sizeof(ref));
			T_EQ(t_zinflate(f, ref, ref_len, back, sizeof(back), &back_len),
			     Z_STREAM_END);
			T_EQ(back_len, sizeof(in));
			T_ASSERT(!memcmp(back, in, sizeof(in)));
			for (chunk = 1; chunk <= 24; chunk++) {
				len = stream(q, f, level, in, out, sizeof(out), chunk);
				if (len != ref_len || memcmp(out, ref, len))
					T_FAIL("framing %u level %u, %zu-byte output: %zu bytes, "
					       "%zu with ample space", f, level, chunk, len, ref_len);
			}
		}
	wd_queue_free(q);
	wd_ctx_free(ctx);
	printf("ok\n");
	return 0;
}
