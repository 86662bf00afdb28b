/* SPDX-License-Identifier: MIT */
/* Compression helpers over a queue: synchronous one-shot calls and streams. */
#include <errno.h>
#include <stdlib.h>
#include <wd/comp.h>

#include "internal.h"

#define REQ_MAX (1u << 30)      /* bytes a stream puts in one request */

struct wd_comp_stream {
	struct wd_queue *q;
	uint16_t session;
	uint8_t dir, framing, level;
	uint8_t need_start, ended;
	uint32_t checksum;
	uint32_t flags;         /* WD_COMP_STREAM_F_* */
	uint8_t wbits;          /* window of the next start, 0: 32 KiB */
};

WD_EXPORT int wd_compress(struct wd_queue *q, const void *src, size_t len, void *dst,
			  size_t *dst_len, unsigned level, enum wd_comp_framing framing)
{
	struct wd_req r;
	struct wd_cpl c;
	uint32_t cap;
	int ret;

	if (!dst_len || level > WD_COMP_LEVEL_MAX || (unsigned)framing > WD_COMP_GZIP)
		return -EINVAL;
	if (len > UINT32_MAX)
		return -EMSGSIZE;
	cap = *dst_len > UINT32_MAX ? UINT32_MAX : (uint32_t)*dst_len;
	wd_prep_compress(&r, dst, cap, src, (uint32_t)len, level, framing);
	ret = wd__run_sync(q, &r, &c);
	if (ret)
		return ret;
	if (c.status == -ENOSPC || !c.status)
		*dst_len = c.result;
	return c.status;
}

WD_EXPORT int wd_decompress(struct wd_queue *q, const void *src, size_t len, void *dst,
			    size_t *dst_len, enum wd_comp_framing framing)
{
	const unsigned char *in = src;
	unsigned char *out = dst;
	size_t done = 0, cap;
	struct wd_req r;
	struct wd_cpl c;
	int ret;

	if (!dst_len || (unsigned)framing > WD_COMP_GZIP)
		return -EINVAL;
	if (len > UINT32_MAX)
		return -EMSGSIZE;
	cap = *dst_len;
	/* gzip: a file may hold several members, decoded one after another */
	do {
		size_t room = cap > done ? cap - done : 0;

		wd_prep_decompress(&r, out + done, room > UINT32_MAX ? UINT32_MAX : (uint32_t)room,
				   in, (uint32_t)len, framing);
		ret = wd__run_sync(q, &r, &c);
		if (ret)
			return ret;
		if (c.status == -ENOSPC) {
			/* out of room: from here on only measure what is needed */
			cap = done;
			c.status = 0;
		}
		if (c.status)
			return c.status;
		done += c.result;
		in += wd_cpl_consumed(&c);
		len -= wd_cpl_consumed(&c);
	} while (len && framing == WD_COMP_GZIP);
	if (done > cap) {
		*dst_len = done;
		return -ENOSPC;
	}
	if (len)
		return -EBADMSG; /* trailing bytes after the stream */
	*dst_len = done;
	return 0;
}

WD_EXPORT int wd_comp_stream_new(struct wd_comp_stream **out, struct wd_queue *q,
				 enum wd_comp_dir dir, enum wd_comp_framing framing,
				 unsigned level)
{
	struct wd_comp_stream *s;
	int id;

	if (!out || !q || (unsigned)dir > WD_DECOMPRESS || (unsigned)framing > WD_COMP_GZIP ||
	    level > WD_COMP_LEVEL_MAX)
		return -EINVAL;
	*out = NULL;
	if (dir == WD_COMPRESS && level > WD_COMP_STREAM_LEVEL_MAX)
		return -EOPNOTSUPP; /* libdeflate's levels: one-shot only */
	if (!(q->op_mask & (1u << WD_OP_COMPRESS)))
		return -EOPNOTSUPP;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	id = wd__session_take(q);
	if (id < 0) {
		free(s);
		return id;
	}
	s->q = q;
	s->session = (uint16_t)id;
	s->dir = (uint8_t)dir;
	s->framing = (uint8_t)framing;
	s->level = dir == WD_COMPRESS ? (uint8_t)level : 0;
	s->need_start = 1;
	*out = s;
	return 0;
}

WD_EXPORT void wd_comp_stream_free(struct wd_comp_stream *s)
{
	if (!s)
		return;
	wd__session_put(s->q, s->session);
	free(s);
}

WD_EXPORT int wd_comp_stream_copy(struct wd_comp_stream **out, const struct wd_comp_stream *src)
{
	struct wd_comp_stream *s;
	struct wd_req r = { 0 };
	struct wd_cpl c;
	int ret;

	if (!out || !src)
		return -EINVAL;
	*out = NULL;
	if (src->dir != WD_DECOMPRESS)
		return -EOPNOTSUPP;
	if (src->need_start)
		return -EINVAL; /* nothing ran yet: a new stream is the same */
	ret = wd_comp_stream_new(&s, src->q, WD_DECOMPRESS, (enum wd_comp_framing)src->framing, 0);
	if (ret)
		return ret;
	r.op = WD_OP_DECOMPRESS;
	r.session = s->session;
	r.arg0 = src->session;
	r.param = WD_COMP_P_FRAMING(src->framing) | WD_COMP_P_START | WD_COMP_P_COPY;
	ret = wd__run_sync(s->q, &r, &c);
	if (!ret)
		ret = c.status;
	if (ret) {
		wd_comp_stream_free(s);
		return ret;
	}
	s->need_start = 0;
	s->ended = src->ended;
	s->checksum = src->checksum;
	s->flags = src->flags;
	s->wbits = src->wbits;
	*out = s;
	return 0;
}

WD_EXPORT int wd_comp_stream_set_window(struct wd_comp_stream *s, unsigned bits)
{
	if (!s || bits < 8 || bits > 15)
		return -EINVAL;
	s->wbits = bits == 15 ? 0 : (uint8_t)bits;
	return 0;
}

WD_EXPORT int wd_comp_stream_set_flags(struct wd_comp_stream *s, unsigned flags)
{
	if (!s || flags & ~WD_COMP_STREAM_F_EXACT_IN ||
	    (flags & WD_COMP_STREAM_F_EXACT_IN && s->dir != WD_DECOMPRESS))
		return -EINVAL;
	s->flags = flags;
	return 0;
}

WD_EXPORT int wd_comp_stream_reset(struct wd_comp_stream *s)
{
	if (!s)
		return -EINVAL;
	s->need_start = 1;
	s->ended = 0;
	s->checksum = 0;
	return 0;
}

WD_EXPORT uint32_t wd_comp_stream_checksum(const struct wd_comp_stream *s)
{
	return s ? s->checksum : 0;
}

WD_EXPORT int wd_comp_stream_run(struct wd_comp_stream *s, const void *in, size_t in_len,
				 size_t *consumed, void *out, size_t out_len, size_t *produced,
				 enum wd_comp_flush flush)
{
	struct wd_req r = { 0 };
	struct wd_cpl c;
	int ret;

	if (!s || !consumed || !produced || (unsigned)flush > WD_COMP_FINISH ||
	    (s->dir == WD_DECOMPRESS && flush != WD_COMP_NO_FLUSH && flush != WD_COMP_FINISH))
		return -EINVAL;
	*consumed = *produced = 0;
	if (s->ended)
		return -EINVAL; /* reset the stream to start another */
	/* Longer buffers go in several calls: the caller loops on progress. */
	if (in_len > REQ_MAX) {
		in_len = REQ_MAX;
		if (s->dir == WD_COMPRESS && flush == WD_COMP_FINISH)
			flush = WD_COMP_NO_FLUSH;
	}
	r.op = s->dir == WD_COMPRESS ? WD_OP_COMPRESS : WD_OP_DECOMPRESS;
	r.session = s->session;
	r.src = (uint64_t)(uintptr_t)in;
	r.len = (uint32_t)in_len;
	r.dst = (uint64_t)(uintptr_t)out;
	r.dst_len = out_len > REQ_MAX ? REQ_MAX : (uint32_t)out_len;
	r.param = WD_COMP_P_LEVEL(s->level) | WD_COMP_P_FRAMING(s->framing) |
		  WD_COMP_P_FLUSH(flush) | (s->need_start ? WD_COMP_P_START : 0) |
		  (s->flags & WD_COMP_STREAM_F_EXACT_IN ? WD_COMP_P_EXACT_IN : 0) |
		  (s->need_start ? WD_COMP_P_WBITS(s->wbits) : 0);
	ret = wd__run_sync(s->q, &r, &c);
	if (ret)
		return ret;
	/* The device has (re)started the stream, even if it failed - unless
	 * it got no memory for its state (-ENOMEM, or -EDQUOT past a daemon's
	 * quota): then nothing started and the same call may be made again. */
	if (c.status != -ENOMEM && c.status != -EDQUOT)
		s->need_start = 0;
	if (c.status && c.status != -ENODATA)
		return c.status;
	*consumed = wd_cpl_consumed(&c);
	*produced = c.result;
	s->checksum = wd_cpl_checksum(&c);
	if (c.status)
		return c.status;
	if (c.flags & WD_CPL_F_END) {
		s->ended = 1;
		return 1;
	}
	return 0;
}
