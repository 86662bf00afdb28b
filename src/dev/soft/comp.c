/* SPDX-License-Identifier: MIT */
/*
 * Deflate, zlib and gzip on the soft engine, done by ISA-L: streams, levels
 * 0-3, and one-shot decompression libdeflate did not finish (comp_ld.c has
 * the libdeflate paths: levels 4-12 and the first try of one-shot inflate).
 *
 * One-shot requests (session 0) use the engine thread's scratch state.
 * Stream requests name a session; the session's state (an ISA-L stream and
 * its level buffer, a fixed size whatever the data) lives here, on the
 * device side, and is created by a request with WD_COMP_P_START.
 */
#include <errno.h>
#include <stddef.h>
#include <isa-l/crc.h>
#include <stdlib.h>
#include <string.h>
#include <wd/comp.h>

#include "soft.h"

#define COUNT_BUF_SIZE (64u << 10)

enum { DIR_NONE, DIR_COMP, DIR_DECOMP };

struct soft_stream {
	uint8_t dir, framing, level;
	uint8_t ended, dead;
	uint8_t flushed;                /* compression: the flush all out, no input since */
	struct soft_wrap_hdr hdr;       /* zlib decompression: the header's first bytes */
	struct soft_gz_hdr gz;          /* gzip decompression: the member header */
	uint32_t crc;                   /* raw framing: CRC-32 of the input so far */
	uint8_t *level_buf;
	uint32_t level_buf_size;
	union {
		struct isal_zstream z;
		struct inflate_state inf;
	} u;
};

struct comp_param {
	unsigned level, framing, flush, start, exact_in, adler, copy;
	unsigned wbits;         /* WD_COMP_P_WBITS: 0 (32 KiB) or 8..15 */
};

static const uint32_t level_buf_sizes[4] = {
	ISAL_DEF_LVL0_DEFAULT, ISAL_DEF_LVL1_DEFAULT, ISAL_DEF_LVL2_DEFAULT, ISAL_DEF_LVL3_DEFAULT,
};

static int parse_param(const wd_sqe *e, struct comp_param *p)
{
	p->level = e->param & 0xf;
	p->framing = (e->param >> 4) & 0xf;
	p->flush = (e->param >> 8) & 0xf;
	p->start = !!(e->param & WD_COMP_P_START);
	p->exact_in = !!(e->param & WD_COMP_P_EXACT_IN);
	p->adler = !!(e->param & WD_COMP_P_ADLER);
	p->copy = !!(e->param & WD_COMP_P_COPY);
	p->wbits = (e->param >> 16) & 0xf;
	if (p->wbits == 15)
		p->wbits = 0;
	if (e->param >> 20 || (p->wbits && p->wbits < 8) || (p->copy && (!p->start || e->op != WD_OP_DECOMPRESS)) || (p->exact_in && (!e->session || e->op != WD_OP_DECOMPRESS)) ||
	    (p->adler && (e->session || e->op != WD_OP_COMPRESS || p->framing != WD_COMP_RAW)) ||
	    p->level > WD_COMP_LEVEL_MAX || p->framing > WD_COMP_GZIP ||
	    p->flush > WD_COMP_FINISH || e->session > WD_MAX_SESSIONS)
		return -EINVAL;
	if (p->start && !e->session)
		return -EINVAL;
	return 0;
}

static uint8_t *scratch_level_buf(struct soft_scratch *s, unsigned level)
{
	if (!level_buf_sizes[level])
		return NULL;
	if (!s->level_buf[level])
		s->level_buf[level] = malloc(level_buf_sizes[level]);
	return s->level_buf[level];
}

void soft_scratch_free(struct soft_scratch *s)
{
	unsigned i;

	free(s->z);
	free(s->inf);
	free(s->count_buf);
	for (i = 0; i < 4; i++)
		free(s->level_buf[i]);
	for (i = 0; i < 3; i++)
		free(s->bounce[i]);
	free(s->gather);
	soft_ld_scratch_free(s);
	soft_remote_free(s); /* its thread, if any, was stopped */
	memset(s, 0, sizeof(*s));
}

void soft_streams_free(struct soft_queue *sq)
{
	unsigned i;

	for (i = 0; i <= WD_MAX_SESSIONS; i++) {
		if (!sq->streams[i])
			continue;
		if (sq->quota)
			soft_quota_give(sq->quota, sizeof(*sq->streams[i]) +
						   sq->streams[i]->level_buf_size);
		free(sq->streams[i]->level_buf);
		free(sq->streams[i]);
		sq->streams[i] = NULL;
	}
}

static int isal_wrap_comp(unsigned framing)
{
	return framing == WD_COMP_GZIP ? IGZIP_GZIP : framing == WD_COMP_ZLIB ? IGZIP_ZLIB
									       : IGZIP_DEFLATE;
}

static int isal_wrap_decomp(unsigned framing)
{
	return framing == WD_COMP_GZIP ? ISAL_GZIP : framing == WD_COMP_ZLIB ? ISAL_ZLIB
									      : ISAL_DEFLATE;
}

/* The engine thread's deflate stream, set up for a request's level and
 * framing (stateless: one-shot pieces; else a whole stream).  NULL: no memory. */
static struct isal_zstream *scratch_deflate(struct soft_scratch *s, const struct comp_param *p,
					    int stateless)
{
	struct isal_zstream *z;

	if (!s->z)
		s->z = calloc(1, sizeof(*s->z));
	if (!s->z || (level_buf_sizes[p->level] && !scratch_level_buf(s, p->level)))
		return NULL;
	z = s->z;
	/* ISA-L's stateless init leaves parts of the state as they were (what a
	 * previous request, stateful or with a dictionary, left there, or
	 * garbage): clear everything but the big history buffer, which a fresh
	 * request never reads before writing */
	memset(z, 0, offsetof(struct isal_zstream, internal_state) +
		     offsetof(struct isal_zstate, buffer));
	if (stateless)
		isal_deflate_stateless_init(z);
	else
		isal_deflate_init(z);
	z->level = p->level;
	z->level_buf = s->level_buf[p->level];
	z->level_buf_size = level_buf_sizes[p->level];
	z->gzip_flag = (uint16_t)isal_wrap_comp(p->framing);
	z->hist_bits = (uint16_t)p->wbits;
	return z;
}

/* ISA-L's deflate keeps Adler-32 with its low half biased by one;
 * completions report the standard value. */
static uint32_t deflate_checksum(const struct isal_zstream *z, unsigned framing)
{
	uint32_t v = z->internal_state.crc;

	if (framing != WD_COMP_ZLIB)
		return v;
	return (v & 0xffff0000u) | (((v & 0xffffu) + 1) % 65521u);
}

/* The same bias in ISA-L's inflater until its output is all flushed; it
 * finalises the value then, before reading the trailer. */
static uint32_t inflate_checksum(const struct inflate_state *inf, unsigned framing)
{
	uint32_t v = inf->crc;

	if (framing != WD_COMP_ZLIB ||
	    (inf->block_state > ISAL_BLOCK_INPUT_DONE && inf->block_state != ISAL_ZLIB_DICT))
		return v;
	return (v & 0xffff0000u) | (((v & 0xffffu) + 1) % 65521u);
}

/* Completion fields shared by every compression outcome. */
static void report(wd_cqe *c, uint64_t produced, uint32_t consumed, uint32_t checksum)
{
	c->result = produced;
	c->aux = (uint64_t)checksum << 32 | consumed;
}

/* Input bytes the inflater really used: ISA-L reads ahead into a bit
 * buffer, and at the end of a raw or zlib stream those bytes belong to
 * whatever follows. */
static uint32_t inflate_consumed(const struct inflate_state *inf, uint32_t len)
{
	uint32_t unused = inf->avail_in;

	if (inf->block_state == ISAL_BLOCK_FINISH)
		unused += (uint32_t)inf->read_in_length / 8;
	return len - unused;
}

/* ---- one-shot ---- */

/* Shorter pieces at level 0 are better made without their dictionary. */
#define DICT_L0_MIN 4096u

/* Point z at the request's buffers, with the flush a piece asks for. */
static void piece_setup(struct isal_zstream *z, const wd_sqe *e, const struct soft_io *io,
			const struct comp_param *p)
{
	z->end_of_stream = p->flush == WD_COMP_FINISH;
	/* a sync flush of an independent piece means the bytes of a full one */
	z->flush = p->flush == WD_COMP_FINISH ? NO_FLUSH : FULL_FLUSH;
	z->next_in = io->src;
	z->avail_in = e->len;
	z->next_out = io->dst;
	z->avail_out = e->dst_len;
}

static int oneshot_run(struct isal_zstream *z, const wd_sqe *e, const struct soft_io *io,
		       const struct comp_param *p)
{
	piece_setup(z, e, io, p);
	return isal_deflate_stateless(z);
}

/*
 * A piece with a preset dictionary (the history before it: zlib layers,
 * pieces of one stream), through ISA-L's stream path.  That path has no
 * fall-back to stored blocks, so output that does not fit (incompressible
 * data near wd_comp_bound()) returns 1: the piece is then made by the
 * one-shot path without the dictionary - as valid, no larger than stored
 * blocks - counted with deflate_stored.  0: done; or a negative errno.
 */
static int compress_dict_piece(struct soft_scratch *s, const wd_sqe *e,
			       const struct soft_io *io, const struct comp_param *p,
			       struct isal_zstream **out)
{
	struct isal_zstream *z = scratch_deflate(s, p, 0);
	int done;

	if (!z)
		return -ENOMEM;
	*out = z;
	if (isal_deflate_set_dict(z, io->dict, (uint32_t)e->arg1) != COMP_OK)
		return -EINVAL;
	piece_setup(z, e, io, p);
	if (isal_deflate(z) != COMP_OK)
		return -EINVAL;
	/* ended, or flushed with all of it written (igzip_lib.h) */
	done = p->flush == WD_COMP_FINISH ? z->internal_state.state == ZSTATE_END :
	       !z->avail_in && z->internal_state.state == ZSTATE_NEW_HDR &&
	       z->internal_state.tmp_out_start == z->internal_state.tmp_out_end;
	if (done)
		return 0;
	s->fallbacks |= 1u << SOFT_FB_DEFLATE_STORED;
	return 1;
}

static int compress_oneshot(struct soft_scratch *s, const wd_sqe *e, const struct soft_io *io,
			    wd_cqe *c,
			    const struct comp_param *p)
{
	struct isal_zstream *z;
	uint32_t checksum;
	int ret;

	/* A one-shot request must end somewhere; only a raw piece may end
	 * without finishing its stream (zlib/gzip would lack their trailer). */
	if (p->flush == WD_COMP_NO_FLUSH ||
	    (p->flush != WD_COMP_FINISH && p->framing != WD_COMP_RAW))
		return -EINVAL;
	if (e->arg1 > WD_COMP_DICT_MAX || (e->arg1 && p->framing != WD_COMP_RAW) ||
	    (!e->arg1 && e->arg0))
		return -EINVAL;
	if (p->level >= SOFT_LD_LEVEL_MIN && p->wbits)
		return -EOPNOTSUPP; /* libdeflate has no window limit */
	if (p->level >= SOFT_LD_LEVEL_MIN)
		return soft_ld_compress(s, io->src, e->len, io->dst, e->dst_len, p->level, p->framing,
					p->flush == WD_COMP_FINISH,
					(e->arg1 ? SOFT_LD_F_DICT : 0) | (p->adler ? SOFT_LD_F_ADLER : 0),
					c);
	/* ISA-L's one-shot path ignores a preset dictionary: a piece with one
	 * goes through its stream path, which uses it - unless there is
	 * nothing to match, or level 0's stream path would write its whole
	 * code table (117 bytes) for a short piece (zlib's idiom of flushing
	 * again for room never ended on it) */
	ret = e->arg1 && e->len && (p->level || e->len >= DICT_L0_MIN) ?
	      compress_dict_piece(s, e, io, p, &z) : 1;
	if (ret < 0)
		return ret;
	if (ret == 1) {
		z = scratch_deflate(s, p, 1);
		if (!z)
			return -ENOMEM;
		ret = oneshot_run(z, e, io, p);
	}
	if (ret == STATELESS_OVERFLOW) {
		c->result = wd_comp_bound(e->len);
		return -ENOSPC;
	}
	if (ret != COMP_OK)
		return -EINVAL;
	if (p->framing == WD_COMP_RAW)
		checksum = p->adler ? isal_adler32(1, io->src, e->len) :
			   crc32_gzip_refl(0, io->src, e->len);
	else
		checksum = deflate_checksum(z, p->framing);
	report(c, e->dst_len - z->avail_out, e->len, checksum);
	c->flags = p->flush == WD_COMP_FINISH ? WD_CPL_F_END : 0;
	return 0;
}

/* The output did not fit: inflate the rest into a sink to learn the size
 * that will.  Returns the extra bytes, or a negative errno. */
static int64_t measure_rest(struct soft_scratch *s, struct inflate_state *inf)
{
	int64_t extra = 0;
	int ret;

	if (!s->count_buf)
		s->count_buf = malloc(COUNT_BUF_SIZE);
	if (!s->count_buf)
		return -ENOMEM;
	while (inf->block_state != ISAL_BLOCK_FINISH) {
		inf->next_out = s->count_buf;
		inf->avail_out = COUNT_BUF_SIZE;
		ret = isal_inflate(inf);
		if (ret < 0 || ret == ISAL_NEED_DICT)
			return -EBADMSG;
		extra += COUNT_BUF_SIZE - inf->avail_out;
		if (inf->block_state != ISAL_BLOCK_FINISH && !inf->avail_in &&
		    inf->avail_out == COUNT_BUF_SIZE)
			return -ENODATA;
	}
	return extra;
}

static int decompress_oneshot(struct soft_scratch *s, const wd_sqe *e, const struct soft_io *io,
			      wd_cqe *c,
			      const struct comp_param *p)
{
	struct inflate_state *inf;
	int64_t extra = 0;
	int ret;

	if (e->arg0 || e->arg1 || p->level || p->flush != WD_COMP_FINISH)
		return -EINVAL;
	if (!soft_wrap_hdr_ok(&(struct soft_wrap_hdr){ 0 }, p->framing, p->wbits, io->src, e->len))
		return -EBADMSG;
	/* ISA-L alone decodes: libdeflate (faster by 5-10% on the corpus)
	 * decodes on purpose some streams zlib refuses - static symbols
	 * 286/287, the unused codeword of a one-codeword code, an empty
	 * distance code - and fuzz_inflate found such a zlib stream whose
	 * Adler-32 matched the lenient output.  A decoder standing in for
	 * zlib must refuse what zlib refuses. */
	if (!s->inf)
		s->inf = malloc(sizeof(*s->inf));
	if (!s->inf)
		return -ENOMEM;
	inf = s->inf;
	isal_inflate_init(inf);
	inf->crc_flag = (uint32_t)isal_wrap_decomp(p->framing);
	inf->hist_bits = p->wbits;
	inf->next_in = io->src;
	inf->avail_in = e->len;
	inf->next_out = io->dst;
	inf->avail_out = e->dst_len;
	ret = isal_inflate(inf);
	if (ret < 0 || ret == ISAL_NEED_DICT)
		return -EBADMSG;
	if (inf->block_state != ISAL_BLOCK_FINISH) {
		if (inf->avail_out)
			return -ENODATA; /* input ran out first: truncated */
		extra = measure_rest(s, inf);
		if (extra < 0)
			return (int)extra;
		if (extra) {
			/* the size that fits, and how much input the stream spans */
			report(c, (uint64_t)e->dst_len + (uint64_t)extra, inflate_consumed(inf, e->len),
			       0);
			return -ENOSPC;
		}
	}
	report(c, inf->total_out, inflate_consumed(inf, e->len),
	       p->framing == WD_COMP_RAW ? crc32_gzip_refl(0, io->dst, inf->total_out) : inf->crc);
	c->flags = WD_CPL_F_END;
	return 0;
}

/* ---- scatter-gather (one-shot, whole streams) ---- */

/* CRC-32 of the first len bytes spread over the segments. */
static uint32_t seg_crc(const struct soft_seg_list *l, uint64_t len)
{
	uint32_t crc = 0, i;

	for (i = 0; i < l->n && len; i++) {
		uint64_t k = l->v[i].len < len ? l->v[i].len : len;

		crc = crc32_gzip_refl(crc, l->v[i].p, k);
		len -= k;
	}
	return crc;
}

static int compress_sg(struct soft_scratch *s, const wd_sqe *e, const struct soft_io *io,
		       wd_cqe *c, const struct comp_param *p)
{
	struct soft_seg_list in, out;
	uint64_t produced = 0, total = io->src_segs ? io->src_total : e->len;
	uint32_t i = 0, o = 0;
	struct isal_zstream *z;

	if (p->flush != WD_COMP_FINISH)
		return -EINVAL; /* scatter-gather requests are whole streams */
	soft_seg_list(&in, io->src_segs, io->nsrc, io->src, e->len);
	soft_seg_list(&out, io->dst_segs, io->ndst, io->dst, e->dst_len);
	if (p->level >= SOFT_LD_LEVEL_MIN)
		return soft_ld_compress_sg(s, &in, total, &out,
					   io->dst_segs ? io->dst_total : e->dst_len, p->level,
					   p->framing, c);
	z = scratch_deflate(s, p, 0);
	if (!z)
		return -ENOMEM;
	z->next_in = in.v[0].p;
	z->avail_in = (uint32_t)in.v[0].len;
	z->end_of_stream = in.n == 1;
	z->next_out = out.v[0].p;
	z->avail_out = (uint32_t)out.v[0].len;
	while (z->internal_state.state != ZSTATE_END) {
		if (!z->avail_in && i + 1 < in.n) {
			i++;
			z->next_in = in.v[i].p;
			z->avail_in = (uint32_t)in.v[i].len;
			z->end_of_stream = i + 1 == in.n;
		} else if (!z->avail_out) {
			produced += out.v[o].len;
			if (++o == out.n) {
				c->result = wd_comp_bound(total);
				return -ENOSPC;
			}
			z->next_out = out.v[o].p;
			z->avail_out = (uint32_t)out.v[o].len;
		}
		if (isal_deflate(z) != COMP_OK)
			return -EINVAL;
	}
	produced += out.v[o].len - z->avail_out;
	report(c, produced, (uint32_t)total,
	       p->framing == WD_COMP_RAW ? seg_crc(&in, total) : deflate_checksum(z, p->framing));
	c->flags = WD_CPL_F_END;
	return 0;
}

static int decompress_sg(struct soft_scratch *s, const wd_sqe *e, const struct soft_io *io,
			 wd_cqe *c, const struct comp_param *p)
{
	struct soft_seg_list in, out;
	uint64_t produced = 0, used = 0, extra = 0;
	uint32_t i = 0, o = 0;
	struct inflate_state *inf;
	int ret, counting = 0;

	if (e->arg0 || e->arg1 || p->level || p->flush != WD_COMP_FINISH)
		return -EINVAL;
	soft_seg_list(&in, io->src_segs, io->nsrc, io->src, e->len);
	soft_seg_list(&out, io->dst_segs, io->ndst, io->dst, e->dst_len);
	if (!s->inf)
		s->inf = malloc(sizeof(*s->inf));
	if (!s->inf)
		return -ENOMEM;
	inf = s->inf;
	isal_inflate_init(inf);
	inf->crc_flag = (uint32_t)isal_wrap_decomp(p->framing);
	inf->next_in = in.v[0].p;
	inf->avail_in = (uint32_t)in.v[0].len;
	inf->next_out = out.v[0].p;
	inf->avail_out = (uint32_t)out.v[0].len;
	for (;;) {
		ret = isal_inflate(inf);
		if (ret < 0 || ret == ISAL_NEED_DICT)
			return -EBADMSG;
		if (inf->block_state == ISAL_BLOCK_FINISH)
			break;
		if (!inf->avail_out) {
			/* out of segments: go on into a sink to learn the size needed */
			if (counting) {
				extra += COUNT_BUF_SIZE;
			} else if (o + 1 < out.n) {
				produced += out.v[o++].len;
				inf->next_out = out.v[o].p;
				inf->avail_out = (uint32_t)out.v[o].len;
				continue;
			} else if (!s->count_buf && !(s->count_buf = malloc(COUNT_BUF_SIZE))) {
				return -ENOMEM;
			}
			counting = 1;
			inf->next_out = s->count_buf;
			inf->avail_out = COUNT_BUF_SIZE;
		} else if (!inf->avail_in) {
			used += in.v[i].len;
			if (++i == in.n)
				return -ENODATA;
			inf->next_in = in.v[i].p;
			inf->avail_in = (uint32_t)in.v[i].len;
		}
	}
	if (counting) {
		extra += COUNT_BUF_SIZE - inf->avail_out;
		produced += out.v[o].len;
		if (extra) {
			c->result = produced + extra;
			return -ENOSPC;
		}
	} else {
		produced += out.v[o].len - inf->avail_out;
	}
	used += inflate_consumed(inf, (uint32_t)in.v[i].len);
	report(c, produced, (uint32_t)used,
	       p->framing == WD_COMP_RAW ? seg_crc(&out, produced) : inf->crc);
	c->flags = WD_CPL_F_END;
	return 0;
}

/* ---- streams ---- */

/* NULL: out of memory (*err -ENOMEM) or past the owner's quota (-EDQUOT). */
static struct soft_stream *stream_start(struct soft_queue *sq, unsigned id, unsigned dir,
					const struct comp_param *p, int *err)
{
	struct soft_stream *st = sq->streams[id];
	uint32_t need = dir == DIR_COMP ? level_buf_sizes[p->level] : 0;

	/* State a client of the daemon makes us hold counts against its
	 * quota: about 430 KB per stream at the top level. */
	if (!st) {
		if (sq->quota && soft_quota_take(sq->quota, sizeof(*st))) {
			*err = -EDQUOT;
			return NULL;
		}
		st = calloc(1, sizeof(*st));
		if (!st) {
			if (sq->quota)
				soft_quota_give(sq->quota, sizeof(*st));
			return NULL;
		}
		sq->streams[id] = st;
	}
	if (need > st->level_buf_size) {
		uint8_t *b;

		if (sq->quota && soft_quota_take(sq->quota, need - st->level_buf_size)) {
			*err = -EDQUOT;
			return NULL;
		}
		b = realloc(st->level_buf, need);
		if (!b) {
			if (sq->quota)
				soft_quota_give(sq->quota, need - st->level_buf_size);
			return NULL;
		}
		st->level_buf = b;
		st->level_buf_size = need;
	}
	st->dir = (uint8_t)dir;
	st->framing = (uint8_t)p->framing;
	st->level = (uint8_t)p->level;
	st->ended = st->dead = st->flushed = 0;
	memset(&st->hdr, 0, sizeof(st->hdr));
	memset(&st->gz, 0, sizeof(st->gz));
	st->crc = 0;
	if (dir == DIR_COMP) {
		isal_deflate_init(&st->u.z);
		st->u.z.level = p->level;
		st->u.z.level_buf = need ? st->level_buf : NULL;
		st->u.z.level_buf_size = need;
		st->u.z.gzip_flag = (uint16_t)isal_wrap_comp(p->framing);
		st->u.z.hist_bits = (uint16_t)p->wbits;
	} else {
		isal_inflate_init(&st->u.inf);
		/* gzip headers are parsed here (soft_gz_hdr_feed), bodies by ISA-L */
		st->u.inf.crc_flag = p->framing == WD_COMP_GZIP ? ISAL_GZIP_NO_HDR_VER
				     : (uint32_t)isal_wrap_decomp(p->framing);
		st->u.inf.hist_bits = p->wbits;
	}
	return st;
}

/* The session's stream, (re)started if asked, checked against the request. */
static int stream_get(struct soft_queue *sq, const wd_sqe *e, unsigned dir,
		      const struct comp_param *p, struct soft_stream **out)
{
	struct soft_stream *st;

	if (e->arg0 || e->arg1)
		return -EINVAL; /* dictionaries are for one-shot pieces */
	if (p->start) {
		int err = -ENOMEM;

		st = stream_start(sq, e->session, dir, p, &err);
		if (!st)
			return err;
	} else {
		st = sq->streams[e->session];
		if (!st || st->dir != dir || st->framing != p->framing ||
		    (dir == DIR_COMP && st->level != p->level))
			return -EINVAL;
		if (st->dead)
			return -EBADMSG;
		if (st->ended)
			return -EINVAL;
	}
	*out = st;
	return 0;
}

/*
 * A flush already made, asked again with no new input (zlib's idiom: call
 * again while the output filled up).  ISA-L would write what it kept back
 * of the first and then a second empty block, and so on forever; as with
 * zlib, only what the flush left is written: the bytes ISA-L holds in its
 * small output buffer, which its next call would have written first.
 */
static int drain_flushed(struct soft_stream *st, const wd_sqe *e, const struct soft_io *io,
			 wd_cqe *c, const struct comp_param *p)
{
	struct isal_zstate *zs = &st->u.z.internal_state;
	uint32_t n = zs->tmp_out_end - zs->tmp_out_start;

	if (zs->tmp_out_end > sizeof(zs->tmp_out_buff) || zs->tmp_out_start > zs->tmp_out_end)
		n = 0; /* never: ISA-L's own bounds */
	if (n > e->dst_len)
		n = e->dst_len;
	memcpy(io->dst, zs->tmp_out_buff + zs->tmp_out_start, n);
	zs->tmp_out_start += n;
	st->u.z.total_out += n;
	/* all out: back from ISA-L's "temporary" state, as its own next call
	 * would go (older ISA-L returned early from that state) */
	if (zs->tmp_out_start == zs->tmp_out_end && zs->state >= ZSTATE_TMP_OFFSET)
		zs->state -= ZSTATE_TMP_OFFSET;
	report(c, n, 0, p->framing == WD_COMP_RAW ? st->crc : deflate_checksum(&st->u.z, p->framing));
	if (zs->tmp_out_start != zs->tmp_out_end)
		c->flags = WD_CPL_F_MORE;
	return 0;
}

static int compress_stream(struct soft_queue *sq, const wd_sqe *e, const struct soft_io *io,
			   wd_cqe *c,
			   const struct comp_param *p)
{
	static const int isal_flush[] = { NO_FLUSH, SYNC_FLUSH, FULL_FLUSH, NO_FLUSH };
	struct soft_stream *st;
	struct isal_zstream *z;
	uint32_t consumed;
	int ret;

	if (p->level >= SOFT_LD_LEVEL_MIN)
		return -EOPNOTSUPP; /* libdeflate's levels are one-shot only */
	ret = stream_get(sq, e, DIR_COMP, p, &st);
	if (ret)
		return ret;
	if (!e->len && st->flushed && p->flush != WD_COMP_FINISH && p->flush <= st->flushed)
		return drain_flushed(st, e, io, c, p);
	z = &st->u.z;
	z->next_in = io->src;
	z->avail_in = e->len;
	z->next_out = io->dst;
	z->avail_out = e->dst_len;
	z->flush = isal_flush[p->flush];
	z->end_of_stream = p->flush == WD_COMP_FINISH;
	ret = isal_deflate(z);
	if (ret != COMP_OK) {
		st->dead = 1;
		return -EINVAL;
	}
	consumed = e->len - z->avail_in;
	/* back at a new block's header: all input is out, flush included
	 * (igzip_lib.h), if perhaps still in ISA-L's few bytes kept back */
	if (p->flush != WD_COMP_NO_FLUSH)
		st->flushed = z->internal_state.state == ZSTATE_NEW_HDR ||
			      z->internal_state.state == ZSTATE_TMP_NEW_HDR ? (uint8_t)p->flush : 0;
	else if (consumed)
		st->flushed = 0;
	if (p->framing == WD_COMP_RAW)
		st->crc = crc32_gzip_refl(st->crc, io->src, consumed);
	report(c, e->dst_len - z->avail_out, consumed,
	       p->framing == WD_COMP_RAW ? st->crc : deflate_checksum(z, p->framing));
	if (z->internal_state.state == ZSTATE_END) {
		st->ended = 1;
		c->flags = WD_CPL_F_END;
	} else if (!z->avail_out) {
		c->flags = WD_CPL_F_MORE;
	}
	return 0;
}

/* WD_COMP_P_EXACT_IN: whole bytes ISA-L read ahead into its bit buffer in
 * this call go back to the caller (counted as not consumed, fed again next
 * time).  Otherwise a stream that ends in a later call would have used
 * bytes the caller was told were consumed, and could not give back what
 * follows the stream (a gzip trailer after raw deflate: pigz reads it from
 * there).  Opt-in: a caller must then be ready to keep a few bytes. */
static void inflate_give_back(struct inflate_state *inf, uint32_t read_now)
{
	uint32_t n = (uint32_t)inf->read_in_length / 8;

	if (n > read_now)
		n = read_now;
	/* bits that came through ISA-L's own header buffer are not the tail
	 * of this call's input: leave them */
	if (!n || inf->tmp_in_size)
		return;
	inf->read_in_length -= (int32_t)(n * 8);
	inf->read_in = inf->read_in_length ? inf->read_in & ((1ull << inf->read_in_length) - 1) : 0;
	inf->next_in -= n;
	inf->avail_in += n;
}

/* WD_COMP_P_COPY: the session becomes a copy of session arg0 (zlib's
 * inflateCopy).  ISA-L's inflate state holds its window and buffers
 * inline, so a copy of the structure is a copy of the stream. */
static int copy_stream(struct soft_queue *sq, const wd_sqe *e, wd_cqe *c,
		       const struct comp_param *p)
{
	struct soft_stream *src, *st;
	int err = -ENOMEM;

	if (e->len || e->arg1 || !e->arg0 || e->arg0 > WD_MAX_SESSIONS || e->arg0 == e->session)
		return -EINVAL;
	src = sq->streams[e->arg0];
	if (!src || src->dir != DIR_DECOMP || src->framing != p->framing || src->dead)
		return -EINVAL;
	st = stream_start(sq, e->session, DIR_DECOMP, p, &err);
	if (!st)
		return err;
	st->ended = src->ended;
	st->hdr = src->hdr;
	st->gz = src->gz;
	st->crc = src->crc;
	st->u.inf = src->u.inf;
	report(c, 0, 0, p->framing == WD_COMP_RAW ? st->crc :
	       inflate_checksum(&st->u.inf, p->framing));
	return 0;
}

/* The stream's header bytes in this request, judged before ISA-L sees any
 * (comp_hdr.c says why).  Returns 1 with *skip = gzip header bytes taken
 * when the body may go on, else the request's status with c filled. */
static int stream_header(struct soft_stream *st, const wd_sqe *e, const struct soft_io *io,
			 wd_cqe *c, const struct comp_param *p, uint32_t *skip)
{
	int ret;

	*skip = 0;
	if (p->framing != WD_COMP_GZIP) {
		if (soft_wrap_hdr_ok(&st->hdr, p->framing, p->wbits, io->src, e->len))
			return 1;
		st->dead = 1;
		return -EBADMSG;
	}
	ret = soft_gz_hdr_feed(&st->gz, io->src, e->len, skip);
	if (ret == 1)
		return 1;
	report(c, 0, *skip, 0);
	if (ret == 0 && p->flush != WD_COMP_FINISH)
		return 0; /* all of it was header: more to come */
	st->dead = 1;
	return ret ? ret : -ENODATA;
}

static int decompress_stream(struct soft_queue *sq, const wd_sqe *e, const struct soft_io *io,
			     wd_cqe *c,
			     const struct comp_param *p)
{
	struct inflate_state *inf;
	struct soft_stream *st;
	uint32_t skip;
	int ret;

	if (p->copy)
		return copy_stream(sq, e, c, p);
	if (p->level || p->flush == WD_COMP_SYNC_FLUSH || p->flush == WD_COMP_FULL_FLUSH)
		return -EINVAL; /* decompression knows only "more" and "that was all" */
	ret = stream_get(sq, e, DIR_DECOMP, p, &st);
	if (ret)
		return ret;
	inf = &st->u.inf;
	ret = stream_header(st, e, io, c, p, &skip);
	if (ret <= 0)
		return ret;
	/* io->src may be NULL with nothing to read: no arithmetic on it then */
	inf->next_in = skip ? (uint8_t *)io->src + skip : (uint8_t *)io->src;
	inf->avail_in = e->len - skip;
	inf->next_out = io->dst;
	inf->avail_out = e->dst_len;
	ret = isal_inflate(inf);
	if (p->exact_in && p->flush != WD_COMP_FINISH && ret >= 0 && ret != ISAL_NEED_DICT &&
	    inf->block_state != ISAL_BLOCK_FINISH)
		inflate_give_back(inf, e->len - skip - inf->avail_in);
	if (p->framing == WD_COMP_RAW)
		st->crc = crc32_gzip_refl(st->crc, io->dst, e->dst_len - inf->avail_out);
	report(c, e->dst_len - inf->avail_out, skip + inflate_consumed(inf, e->len - skip),
	       p->framing == WD_COMP_RAW ? st->crc : inflate_checksum(inf, p->framing));
	if (ret < 0 || ret == ISAL_NEED_DICT) {
		st->dead = 1;
		return -EBADMSG;
	}
	if (inf->block_state == ISAL_BLOCK_FINISH) {
		st->ended = 1;
		c->flags = WD_CPL_F_END;
	} else if (!inf->avail_out) {
		c->flags = WD_CPL_F_MORE;
	} else if (p->flush == WD_COMP_FINISH && !inf->avail_in) {
		st->dead = 1;
		return -ENODATA; /* the caller has no more input: truncated */
	}
	return 0;
}

int soft_compress(struct soft_queue *sq, struct soft_scratch *s, const wd_sqe *e,
		  const struct soft_io *io, wd_cqe *c)
{
	struct comp_param p;
	int ret = parse_param(e, &p);

	if (ret)
		return ret;
	if (io->src_segs || io->dst_segs)
		return p.wbits ? -EINVAL : compress_sg(s, e, io, c, &p);
	return e->session ? compress_stream(sq, e, io, c, &p) : compress_oneshot(s, e, io, c, &p);
}

int soft_decompress(struct soft_queue *sq, struct soft_scratch *s, const wd_sqe *e,
		    const struct soft_io *io, wd_cqe *c)
{
	struct comp_param p;
	int ret = parse_param(e, &p);

	if (ret)
		return ret;
	if (io->src_segs || io->dst_segs)
		return p.wbits ? -EINVAL : decompress_sg(s, e, io, c, &p);
	return e->session ? decompress_stream(sq, e, io, c, &p)
			  : decompress_oneshot(s, e, io, c, &p);
}
