/* SPDX-License-Identifier: MIT */
/*
 * A stream's state is the queue's, whoever runs its steps: compression and
 * decompression streams whose steps go, at random, inline, through the ring
 * because the engine holds the queue's state (the owner word: the fallback
 * a helper takes while the engine sweeps cipher contexts), or through the
 * ring because inline execution is off for the step, give zlib's answer.
 * Asynchronous one-shot requests on the same queue between the steps keep
 * their order and results.
 */
#include <zlib.h>

#include "t_sync.h"

enum { VIA_INLINE, VIA_BUSY_OWNER, VIA_RING, VIA__N };

static void set_via(struct wd_queue *q, int via, int (*fn)(struct wd_queue *, const wd_sqe *,
							     wd_cqe *))
{
	q->exec_sync = via == VIA_RING ? NULL : fn;
	__atomic_store_n(&t_sq(q)->owner, via == VIA_BUSY_OWNER ? SOFT_OWNER_ENGINE
								 : SOFT_OWNER_FREE, __ATOMIC_RELEASE);
}

/* A one-shot request through the ring between stream steps. */
static void async_oneshot(struct wd_queue *q, const uint8_t *src, size_t len, uint64_t tag)
{
	size_t cap = wd_comp_bound(len);
	uint8_t *out = malloc(cap), *back = malloc(len + 1);
	uLongf blen = len + 1;
	struct wd_req r;
	struct wd_cpl c;

	T_ASSERT(out && back);
	wd_prep_compress(&r, out, (uint32_t)cap, src, (uint32_t)len, 1, WD_COMP_ZLIB);
	r.tag = tag;
	c = t_run(q, &r);
	T_EQ(c.status, 0);
	T_EQ(uncompress(back, &blen, out, c.result), Z_OK);
	T_EQ(blen, len);
	T_ASSERT(!memcmp(back, src, len));
	free(out);
	free(back);
}

int main(void)
{
	uint64_t seed = t_seed(), counts[VIA__N] = { 0 };
	struct wd_ctx *ctx = t_ctx(1, 0);
	struct wd_queue *q = t_sync_queue(ctx, "gzip", 0);
	int (*fn)(struct wd_queue *, const wd_sqe *, wd_cqe *) = q->exec_sync;
	size_t len = 3u << 20, cap = wd_comp_bound(len), off = 0, clen = 0, dlen = 0, used, made;
	uint8_t *src = malloc(len), *comp = malloc(cap), *back = malloc(len);
	struct wd_comp_stream *cs = NULL, *ds = NULL;
	unsigned round;
	int ret = 0, via;

	T_ASSERT(src && comp && back);
	for (size_t i = 0; i < len; i++)
		src[i] = i % 7000 < 3000 ? (uint8_t)"stream "[i % 7] : (uint8_t)(t_rand(&seed) >> 60);
	for (round = 0; round < 3; round++) {
		T_OK(wd_comp_stream_new(&cs, q, WD_COMPRESS, (enum wd_comp_framing)round,
					round + 1));
		T_OK(wd_comp_stream_new(&ds, q, WD_DECOMPRESS, (enum wd_comp_framing)round, 0));
		off = clen = 0;
		do {
			size_t step = 1 + t_rand(&seed) % (200u << 10), out = 1 + t_rand(&seed) % 65536;
			int fin;

			if (step > len - off)
				step = len - off;
			fin = off + step == len;
			via = (int)(t_rand(&seed) % VIA__N);
			counts[via]++;
			set_via(q, via, fn);
			if (out > cap - clen)
				out = cap - clen;
			ret = wd_comp_stream_run(cs, src + off, step, &used, comp + clen, out, &made,
						 fin ? WD_COMP_FINISH : (t_rand(&seed) & 3) ? WD_COMP_NO_FLUSH
											 : WD_COMP_SYNC_FLUSH);
			T_OK(ret);
			off += used;
			clen += made;
			set_via(q, VIA_INLINE, fn);
			if (t_rand(&seed) % 8 == 0)
				async_oneshot(q, src + off / 2, 5000, round * 1000 + off);
		} while (ret != 1);
		T_EQ(off, len);
		/* zlib agrees */
		if (round == 1) {
			uLongf blen = len;

			T_EQ(uncompress(back, &blen, comp, clen), Z_OK);
			T_EQ(blen, len);
			T_ASSERT(!memcmp(back, src, len));
		}
		/* and so does our own decompression stream, mixed the same way */
		off = dlen = 0;
		do {
			size_t step = 1 + t_rand(&seed) % 30000, out = 1 + t_rand(&seed) % 300000;

			if (step > clen - off)
				step = clen - off;
			if (out > len - dlen)
				out = len - dlen;
			via = (int)(t_rand(&seed) % VIA__N);
			counts[via]++;
			set_via(q, via, fn);
			ret = wd_comp_stream_run(ds, comp + off, step, &used, back + dlen, out, &made,
						 WD_COMP_NO_FLUSH);
			set_via(q, VIA_INLINE, fn);
			T_OK(ret);
			off += used;
			dlen += made;
		} while (ret != 1);
		T_EQ(dlen, len);
		T_ASSERT(!memcmp(back, src, len));
		wd_comp_stream_free(cs);
		wd_comp_stream_free(ds);
	}
	fprintf(stderr, "steps: %llu inline, %llu ring (owner busy), %llu ring (inline off)\n",
		(unsigned long long)counts[0], (unsigned long long)counts[1],
		(unsigned long long)counts[2]);
	T_ASSERT(counts[0] && counts[1] && counts[2]);
	T_ASSERT(t_ld(&t_sq(q)->inl.nreq) && t_ld(&t_sq(q)->eng.nreq));
	wd_queue_free(q);
	wd_ctx_free(ctx);
	free(src);
	free(comp);
	free(back);
	return 0;
}
