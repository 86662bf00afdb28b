/* SPDX-License-Identifier: MIT */
/*
 * Compression through WarpDrive queues: deflate in raw, zlib and gzip
 * framing.  Open a queue for "deflate", "zlib" or "gzip" (any of them serves
 * every framing) and then either
 *   - submit one-shot requests asynchronously with wd_prep_compress() /
 *     wd_prep_decompress() and reap them with wd_recv()/wd_wait(): many may
 *     be in flight at once, each with its own tag;
 *   - or call the synchronous helpers wd_compress() / wd_decompress();
 *   - or stream data of any size through a struct wd_comp_stream.
 *
 * Levels are the engine's own, 0 (fastest) to WD_COMP_LEVEL_MAX (smallest
 * output).  On the software engine:
 *   0-3   ISA-L's levels 0-3: the fast ones, for every kind of request;
 *   4-12  libdeflate's levels 4-12 (same numbers): one-shot requests only
 *         (plain, pieces without a dictionary, scatter-gather, which is
 *         gathered into one buffer first).  A stream session, or a piece
 *         with a dictionary, at these levels is refused with -EOPNOTSUPP
 *         (nothing runs at another level than asked); streams go up to
 *         WD_COMP_STREAM_LEVEL_MAX.
 * wd_comp_level_from_zlib() maps zlib/gzip levels onto them: 0 -> 0,
 * 1-2 -> 1, 3-5 -> 2 (ISA-L: several times zlib's speed, a few percent
 * larger), 6 -> 5, 7 -> 6, 8-9 -> 7 (libdeflate: gzip's ratio at that level
 * or better, within 0.25% on the corpus, at 3x gzip's speed or more), and
 * -1, zlib's default, as 6.  6 -> 5 is the fastest level within 1% of
 * zlib -6's size: libdeflate 4 is 1.9% larger on the corpus file by file,
 * 1.2% in wd gzip's 1 MiB pieces (5: +0.23%, -0.36%).  Use wd_comp_stream_level_from_zlib() for
 * streams.
 *
 * Decompression, one-shot and streams, is ISA-L's on the software device,
 * with zlib's verdicts: what zlib refuses is refused (fuzz_inflate holds
 * the two to the same decisions and bytes).
 *
 * Completions of compression requests carry:
 *   result   bytes written to dst
 *   aux      low 32 bits: source bytes consumed (exactly: bytes after the end
 *            of a stream are not counted); high 32 bits: checksum of the
 *            uncompressed data (CRC-32 for gzip and raw, Adler-32 for zlib)
 *   flags    WD_CPL_F_MORE: dst filled up, submit again for the rest
 *            WD_CPL_F_END:  the stream is complete
 *   status   0; -ENOSPC: one-shot dst too small, result then holds the dst
 *            size that will succeed; -EBADMSG: corrupt compressed data;
 *            -ENODATA: compressed data ends before its stream does.
 */
#ifndef WD_COMP_H
#define WD_COMP_H

#include <stddef.h>
#include <string.h>
#include <wd/wd.h>

#ifdef __cplusplus
extern "C" {
#endif

enum wd_comp_framing {
	WD_COMP_RAW = 0,        /* RFC 1951 deflate, no header */
	WD_COMP_ZLIB = 1,       /* RFC 1950 */
	WD_COMP_GZIP = 2,       /* RFC 1952, one member */
};

enum wd_comp_flush {
	WD_COMP_NO_FLUSH = 0,   /* streams only: more input follows */
	WD_COMP_SYNC_FLUSH = 1, /* end on a byte boundary, keep history */
	WD_COMP_FULL_FLUSH = 2, /* end on a byte boundary, forget history */
	WD_COMP_FINISH = 3,     /* end of the stream (final block, trailer) */
};

#define WD_COMP_LEVEL_MAX 12        /* one-shot requests */
#define WD_COMP_STREAM_LEVEL_MAX 3  /* stream sessions and pieces with a dictionary */
#define WD_COMP_DICT_MAX 32768u

/* wd_req.param of compression requests */
#define WD_COMP_P_LEVEL(x)   ((uint32_t)(x) & 0xfu)
#define WD_COMP_P_FRAMING(x) (((uint32_t)(x) & 0xfu) << 4)
#define WD_COMP_P_FLUSH(x)   (((uint32_t)(x) & 0xfu) << 8)
#define WD_COMP_P_START      (1u << 12)  /* stream: begin a new stream on the session */
#define WD_COMP_P_EXACT_IN   (1u << 13)  /* decompression stream: see WD_COMP_STREAM_F_EXACT_IN */
/* One-shot raw compression (a piece): the completion's checksum is the
 * Adler-32 of the input instead of its CRC-32, for a caller that writes a
 * zlib trailer itself (combine pieces with zlib's adler32_combine()). */
#define WD_COMP_P_ADLER      (1u << 14)
/* Decompression stream, with WD_COMP_P_START: the session becomes a copy of
 * session arg0 (no input; wd_comp_stream_copy() makes such requests). */
#define WD_COMP_P_COPY       (1u << 15)
/* The window, zlib's windowBits: log2 of the farthest distance, 8..15 (0 or
 * 15: 32 KiB).  Compression at ISA-L's levels (0-3) makes no farther
 * match (libdeflate's levels: -EOPNOTSUPP below 15); decompression refuses
 * a farther distance as corrupt data.  Plain buffers only (not SG). */
#define WD_COMP_P_WBITS(x)   (((uint32_t)(x) & 0xfu) << 16)

/* Engine level for a zlib/gzip level (-1: zlib's default, 6), one-shot. */
static inline unsigned wd_comp_level_from_zlib(int zlevel)
{
	if (zlevel < 0)
		zlevel = 6; /* Z_DEFAULT_COMPRESSION */
	if (zlevel == 0)
		return 0;
	if (zlevel <= 5)
		return zlevel <= 2 ? 1 : 2;
	return zlevel == 6 ? 5 : zlevel == 7 ? 6 : 7;
}

/* The same for stream sessions: 6-9 -> 3, ISA-L's best (as before libdeflate). */
static inline unsigned wd_comp_stream_level_from_zlib(int zlevel)
{
	unsigned level = wd_comp_level_from_zlib(zlevel);

	return level > WD_COMP_STREAM_LEVEL_MAX ? WD_COMP_STREAM_LEVEL_MAX : level;
}

/* Destination size that always suffices to compress len bytes in one shot. */
static inline size_t wd_comp_bound(size_t len)
{
	/* stored blocks: 5 bytes per 64 KiB, plus the largest header and trailer */
	return len + 5 * (len / 65535 + 1) + 64;
}

/* One-shot compression of a whole buffer into one complete stream. */
static inline void wd_prep_compress(struct wd_req *r, void *dst, uint32_t dst_len,
				    const void *src, uint32_t len, unsigned level,
				    enum wd_comp_framing framing)
{
	memset(r, 0, sizeof(*r));
	r->op = WD_OP_COMPRESS;
	r->src = (uint64_t)(uintptr_t)src;
	r->len = len;
	r->dst = (uint64_t)(uintptr_t)dst;
	r->dst_len = dst_len;
	r->param = WD_COMP_P_LEVEL(level) | WD_COMP_P_FRAMING(framing) |
		   WD_COMP_P_FLUSH(WD_COMP_FINISH);
}

/*
 * One-shot raw deflate of one piece of a larger stream, as parallel
 * compressors do: flush WD_COMP_FULL_FLUSH ends the piece on a byte boundary
 * so pieces concatenate into one stream (the last piece uses WD_COMP_FINISH);
 * dict (up to 32 KiB, usually the input just before the piece) lets matches
 * reach back across the boundary.  The completion's checksum is the CRC-32
 * of the piece, to combine with crc32_combine().  At libdeflate's levels
 * (above WD_COMP_STREAM_LEVEL_MAX) pieces take no dictionary (-EOPNOTSUPP):
 * make them larger instead (wd gzip uses 1 MiB).
 */
static inline void wd_prep_compress_piece(struct wd_req *r, void *dst, uint32_t dst_len,
					  const void *src, uint32_t len, unsigned level,
					  enum wd_comp_flush flush, const void *dict,
					  uint32_t dict_len)
{
	wd_prep_compress(r, dst, dst_len, src, len, level, WD_COMP_RAW);
	r->param = WD_COMP_P_LEVEL(level) | WD_COMP_P_FRAMING(WD_COMP_RAW) |
		   WD_COMP_P_FLUSH(flush);
	r->arg0 = dict_len ? (uint64_t)(uintptr_t)dict : 0;
	r->arg1 = dict_len;
}

/* One-shot decompression of one complete stream. */
static inline void wd_prep_decompress(struct wd_req *r, void *dst, uint32_t dst_len,
				      const void *src, uint32_t len, enum wd_comp_framing framing)
{
	memset(r, 0, sizeof(*r));
	r->op = WD_OP_DECOMPRESS;
	r->src = (uint64_t)(uintptr_t)src;
	r->len = len;
	r->dst = (uint64_t)(uintptr_t)dst;
	r->dst_len = dst_len;
	r->param = WD_COMP_P_FRAMING(framing) | WD_COMP_P_FLUSH(WD_COMP_FINISH);
}

/*
 * Scatter-gather forms: src_tab/dst_tab are device addresses of tables of
 * struct wd_range (wd/mem.h; wd_rlist_dma_map() fills one from a range
 * list), with nsrc/ndst entries (1 up to the device's max_segs; a plain
 * buffer is a table of one).  In explicit mode the tables, like the
 * buffers, must be in shared memory.  Whole streams only (finish), no
 * dictionary, no session.  Completions are as for the plain forms.
 */
static inline void wd_prep_sg(struct wd_req *r, uint8_t op, uint64_t dst_tab, uint32_t ndst,
			      uint64_t src_tab, uint32_t nsrc)
{
	memset(r, 0, sizeof(*r));
	r->op = op;
	r->src = src_tab;
	r->dst = dst_tab;
	r->len = nsrc;
	r->dst_len = ndst;
	r->flags = WD_REQ_F_SRC_SG | WD_REQ_F_DST_SG;
}

static inline void wd_prep_compress_sg(struct wd_req *r, uint64_t dst_tab, uint32_t ndst,
				       uint64_t src_tab, uint32_t nsrc, unsigned level,
				       enum wd_comp_framing framing)
{
	wd_prep_sg(r, WD_OP_COMPRESS, dst_tab, ndst, src_tab, nsrc);
	r->param = WD_COMP_P_LEVEL(level) | WD_COMP_P_FRAMING(framing) |
		   WD_COMP_P_FLUSH(WD_COMP_FINISH);
}

static inline void wd_prep_decompress_sg(struct wd_req *r, uint64_t dst_tab, uint32_t ndst,
					 uint64_t src_tab, uint32_t nsrc,
					 enum wd_comp_framing framing)
{
	wd_prep_sg(r, WD_OP_DECOMPRESS, dst_tab, ndst, src_tab, nsrc);
	r->param = WD_COMP_P_FRAMING(framing) | WD_COMP_P_FLUSH(WD_COMP_FINISH);
}

static inline uint32_t wd_cpl_consumed(const struct wd_cpl *c)
{
	return (uint32_t)c->aux;
}

static inline uint32_t wd_cpl_checksum(const struct wd_cpl *c)
{
	return (uint32_t)(c->aux >> 32);
}

/*
 * Synchronous one-shot helpers.  The queue must have nothing else in flight
 * (-EBUSY otherwise).  *dst_len is the capacity on entry and the bytes
 * written on return; on -ENOSPC it is the capacity that will succeed.
 * Sizes are limited to the device's largest request (-EMSGSIZE).
 */
int wd_compress(struct wd_queue *q, const void *src, size_t len, void *dst, size_t *dst_len,
		unsigned level, enum wd_comp_framing framing);
int wd_decompress(struct wd_queue *q, const void *src, size_t len, void *dst,
		  size_t *dst_len, enum wd_comp_framing framing);

/* ---- streams --------------------------------------------------------- */

struct wd_comp_stream;

enum wd_comp_dir {
	WD_COMPRESS = 0,
	WD_DECOMPRESS = 1,
};

/*
 * A stateful stream on queue q: the device keeps the stream's state (a fixed
 * amount of memory, whatever the data size) in one of the queue's sessions.
 * -EBUSY when the queue has no free session.  Like the synchronous helpers,
 * the stream's calls need the queue to have nothing else in flight.
 */
int wd_comp_stream_new(struct wd_comp_stream **out, struct wd_queue *q, enum wd_comp_dir dir,
		       enum wd_comp_framing framing, unsigned level);
void wd_comp_stream_free(struct wd_comp_stream *s);

/*
 * Feed in_len bytes and collect output, like zlib's deflate()/inflate().
 * *consumed and *produced report progress; call again with the rest of the
 * input or more output space while the return is 0 and either is left.
 * Compression: flush is WD_COMP_NO_FLUSH while more input follows,
 * WD_COMP_FINISH with the last piece.  Decompression: WD_COMP_FINISH says
 * this is the last input there is (so a stream that has not ended is
 * truncated, -ENODATA).  Returns 1 when the stream is complete, 0 when more
 * is expected, or a negative errno (-EBADMSG corrupt data;
 * -ENOTRECOVERABLE: the queue's device failed mid-stream and the stream's
 * state went with it - wd_comp_stream_reset() starts it afresh, on the
 * built-in engine).
 */
int wd_comp_stream_run(struct wd_comp_stream *s, const void *in, size_t in_len,
		       size_t *consumed, void *out, size_t out_len, size_t *produced,
		       enum wd_comp_flush flush);

/*
 * Stream options (wd_comp_stream_set_flags):
 * WD_COMP_STREAM_F_EXACT_IN  decompression: a call never keeps whole input
 *   bytes the decoder only read ahead; they are reported as not consumed
 *   (to be given again, before any new input), so that however the input
 *   was cut, no byte after the end of the stream was ever counted as
 *   consumed.  A call given fewer than 8 bytes may then consume nothing: a
 *   caller must append more input to what is left, as zlib layers do.
 *   Without it, after WD_COMP_NO_FLUSH calls the end of a raw or zlib
 *   stream may lie up to 8 bytes before the input reported consumed.
 */
#define WD_COMP_STREAM_F_EXACT_IN 1u

int wd_comp_stream_set_flags(struct wd_comp_stream *s, unsigned flags);

/* The window of the stream's next start (after new or reset): bits 8..15 as
 * WD_COMP_P_WBITS; -EINVAL otherwise. */
int wd_comp_stream_set_window(struct wd_comp_stream *s, unsigned bits);

/*
 * A second decompression stream on the same queue that goes on from where
 * src is (as zlib's inflateCopy()): it takes a session of its own, and the
 * two then go separate ways.  -EOPNOTSUPP for compression streams, -EBUSY
 * when the queue has no free session, -EINVAL when src failed or never ran.
 */
int wd_comp_stream_copy(struct wd_comp_stream **out, const struct wd_comp_stream *src);

/* Begin a new stream on the same session (e.g. the next gzip member). */
int wd_comp_stream_reset(struct wd_comp_stream *s);

/* Checksum of the uncompressed data so far, as in completions. */
uint32_t wd_comp_stream_checksum(const struct wd_comp_stream *s);

#ifdef __cplusplus
}
#endif
#endif
