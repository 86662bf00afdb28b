/* SPDX-License-Identifier: MIT */
/*
 * inflate on WarpDrive: a stream session on a queue of the pool (the
 * device keeps the decoder's state: bit position, window).  The framing
 * is known from windowBits, or for auto-detection and zlib streams from the
 * first two bytes: a zlib stream with a preset dictionary goes to zlib,
 * whose inflate answers Z_NEED_DICT and takes the dictionary.  Header bytes
 * taken before that decision are replayed to whichever decoder gets the
 * stream.
 */
#include <errno.h>
#include <string.h>

#include "wz_inflate.h"

static const char *err_msg(int err)
{
	switch (err) {
	case -EBADMSG:
		return "invalid compressed data";
	case -ECHILD:
		return "WarpDrive stream began before fork";
	case -ENOMEM:
		return "insufficient memory";
	default:
		return "WarpDrive device error";
	}
}

/* Decide the framing from the header bytes: 0 and *framing set, 1 when
 * zlib must take the stream (a preset dictionary), -1 need more bytes,
 * -EBADMSG not a valid header. */
static int detect(struct wz_inf *s, int *framing)
{
	unsigned cmf, flg;

	if (s->wrap == WZ_WRAP_RAW || s->wrap == WZ_WRAP_GZIP) {
		*framing = s->wrap == WZ_WRAP_RAW ? WD_COMP_RAW : WD_COMP_GZIP;
		return 0;
	}
	if (s->wrap == WZ_WRAP_AUTO && s->hdr_len >= 1 && s->hdr[0] == 0x1f) {
		*framing = WD_COMP_GZIP;
		return 0;
	}
	if (s->hdr_len < 2)
		return -1;
	cmf = s->hdr[0];
	flg = s->hdr[1];
	if ((cmf << 8 | flg) % 31 || (cmf & 0xf) != Z_DEFLATED || (cmf >> 4) > 7)
		return -EBADMSG;
	*framing = WD_COMP_ZLIB;
	return flg & 0x20 ? 1 : 0;
}

/* Hand a stream that has produced nothing to zlib, replaying the header
 * bytes it took.  Returns zlib's init result. */
static int inf_to_zlib(z_streamp strm, struct wz_inf *s, enum wz_why why)
{
	uint8_t hdr[2];
	unsigned n = s->hdr_len;
	int bits = s->window_bits, ret;

	memcpy(hdr, s->hdr, n);
	wz_inflate_free(strm, s);
	ret = wz_real()->inflateInit2_(strm, bits, ZLIB_VERSION, (int)sizeof(z_stream));
	if (ret != Z_OK)
		return ret;
	wz_count_zlib(WZ_INFLATE, why);
	if (n) {
		/* header bytes make no output: any buffer will do */
		z_const Bytef *in = strm->next_in;
		uInt avail = strm->avail_in, out_avail = strm->avail_out;
		uLong tin = strm->total_in;
		Bytef *out = strm->next_out, dummy;

		strm->next_in = hdr;
		strm->avail_in = n;
		strm->next_out = &dummy;
		strm->avail_out = 1;
		wz_real()->inflate(strm, Z_NO_FLUSH);
		strm->next_in = in;
		strm->avail_in = avail;
		strm->next_out = out;
		strm->avail_out = out_avail;
		strm->total_in = tin;
	}
	return Z_OK;
}

static void close_session(struct wz_inf *s)
{
	if (!s->ws)
		return;
	if (!wz_queue_lock(s->wq)) {
		wd_comp_stream_free(s->ws);
		wz_queue_put(s->wq);
		wz_queue_drop_session(s->wq);
	} else {
		wz_count_event("fork_lost"); /* the parent's session: not ours */
	}
	s->ws = NULL;
}

static int open_session(struct wz_inf *s, int framing)
{
	struct wz_queue *wq;
	int ret;

	if (s->ws && s->framing == framing && s->wq->gen == wz_fork_gen())
		return 0; /* reset streams keep their session */
	close_session(s);
	wq = wz_queue_get_session();
	if (!wq)
		return -ENODEV;
	ret = wd_comp_stream_new(&s->ws, wq->q, WD_DECOMPRESS, (enum wd_comp_framing)framing, 0);
	if (!ret)
		ret = wd_comp_stream_set_flags(s->ws, WD_COMP_STREAM_F_EXACT_IN);
	wz_queue_put(wq);
	if (ret) {
		wz_queue_drop_session(wq);
		s->ws = NULL;
		return ret;
	}
	s->wq = wq;
	s->framing = framing;
	return 0;
}

static int run(struct wz_queue *wq, struct wd_comp_stream *ws, const uint8_t *in, size_t len,
	       size_t *used, uint8_t *out, size_t out_len, size_t *made)
{
	int ret = wz_queue_lock(wq);

	*used = *made = 0;
	if (ret)
		return ret;
	ret = wd_comp_stream_run(ws, in, len, used, out, out_len, made, WD_COMP_NO_FLUSH);
	wz_queue_put(wq);
	return ret;
}

int wz_feed(struct wz_carry *cy, struct wz_queue *wq, struct wd_comp_stream *ws,
	    z_const Bytef **in, uInt *avail, uint8_t *out, size_t out_len, size_t *made)
{
	uint32_t take, back;
	size_t used;
	int ret;

	if (cy->len) {
		take = (uint32_t)sizeof(cy->buf) - cy->len;
		if (take > *avail)
			take = *avail;
		memcpy(cy->buf + cy->len, *in, take);
		cy->len += take;
		*in += take;
		*avail -= take;
		ret = run(wq, ws, cy->buf, cy->len, &used, out, out_len, made);
		if (ret < 0)
			return ret;
		cy->len -= (uint32_t)used;
		memmove(cy->buf, cy->buf + used, cy->len);
		if (ret == 1) {
			/* what follows the stream goes back where it came from */
			back = cy->len < take ? cy->len : take;
			*in -= back;
			*avail += back;
			cy->len = 0;
		}
		return ret;
	}
	ret = run(wq, ws, *in, *avail, &used, out, out_len, made);
	if (ret < 0)
		return ret;
	*in += used;
	*avail -= (uInt)used;
	/* room left for output, input left: the decoder's read-ahead */
	if (!ret && *made < out_len && *avail && *avail <= sizeof(cy->buf)) {
		memcpy(cy->buf, *in, *avail);
		cy->len = *avail;
		*in += *avail;
		*avail = 0;
	}
	return ret;
}

/* One step of the layer's stream; 1 at the end, 0, or -errno. */
static int step(z_streamp strm, struct wz_inf *s, size_t *made)
{
	int ret = wz_feed(&s->carry, s->wq, s->ws, &strm->next_in, &strm->avail_in,
			  strm->next_out, strm->avail_out, made);

	if (ret == 1)
		s->check = wd_comp_stream_checksum(s->ws);
	return ret;
}

/* The first call: decide where the stream goes.  Returns 0 to go on here,
 * 1 when zlib took it (the caller then calls zlib's inflate), or a zlib
 * return code (negative, or Z_OK with nothing to do yet). */
static int start(z_streamp strm, struct wz_inf *s, int flush, int *zret)
{
	int framing, ret;

	while (s->hdr_len < 2 && strm->avail_in && s->wrap != WZ_WRAP_RAW &&
	       s->wrap != WZ_WRAP_GZIP && !(s->hdr_len && s->hdr[0] == 0x1f)) {
		s->hdr[s->hdr_len++] = *strm->next_in++;
		strm->avail_in--;
		strm->total_in++;
	}
	ret = detect(s, &framing);
	if (ret == -1) {
		*zret = s->hdr_len ? Z_OK : Z_BUF_ERROR;
		return -1;
	}
	if (ret == -EBADMSG) {
		s->failed = 1;
		strm->msg = (char *)"incorrect header check";
		*zret = Z_DATA_ERROR;
		return -1;
	}
	if (ret == 1 || flush == Z_BLOCK || flush == Z_TREES) {
		*zret = inf_to_zlib(strm, s, ret == 1 ? WZ_WHY_DICT : WZ_WHY_FLUSH);
		return *zret == Z_OK ? 1 : -1;
	}
	ret = open_session(s, framing);
	if (ret) {
		*zret = inf_to_zlib(strm, s, WZ_WHY_NODEV);
		return *zret == Z_OK ? 1 : -1;
	}
	s->started = 1;
	wz_count_stream(WZ_INFLATE, 1);
	/* the header bytes taken while deciding go first */
	memcpy(s->carry.buf, s->hdr, s->hdr_len);
	s->carry.len = s->hdr_len;
	return 0;
}

int wz_inflate_run(z_streamp strm, struct wz_inf *s, int flush)
{
	size_t made;
	uLong in0, out0;
	int ret, zret, progress;

	if (!strm->next_out || (!strm->next_in && strm->avail_in) || flush < 0 || flush > Z_TREES)
		return Z_STREAM_ERROR;
	if (s->failed)
		return Z_DATA_ERROR;
	if (s->ended)
		return Z_STREAM_END;
	in0 = strm->total_in;
	out0 = strm->total_out;
	if (!s->started) {
		ret = start(strm, s, flush, &zret);
		if (ret == 1)
			return wz_real()->inflate(strm, flush);
		if (ret < 0)
			return zret;
	} else if (flush == Z_BLOCK || flush == Z_TREES) {
		strm->msg = (char *)"WarpDrive stream: Z_BLOCK/Z_TREES after data";
		return Z_STREAM_ERROR;
	}
	do {
		uInt avail0 = strm->avail_in;

		ret = step(strm, s, &made);
		if (ret < 0) {
			s->failed = ret == -EBADMSG;
			strm->msg = (char *)err_msg(ret);
			return ret == -EBADMSG ? Z_DATA_ERROR : ret == -ENOMEM ? Z_MEM_ERROR :
			       Z_STREAM_ERROR;
		}
		strm->total_in += avail0 - strm->avail_in;
		strm->next_out += made;
		strm->avail_out -= (uInt)made;
		strm->total_out += made;
		progress = made || avail0 != strm->avail_in;
	} while (!ret && progress && strm->avail_in && strm->avail_out);
	wz_count_bytes(1, strm->total_in - in0, strm->total_out - out0);
	if (ret == 1) {
		s->ended = 1;
		strm->adler = s->check;
		strm->data_type = 64 + 128;
		return Z_STREAM_END;
	}
	strm->data_type = 0;
	/* as zlib: no progress, or Z_FINISH short of the end, is a buffer error */
	if ((strm->total_in == in0 && strm->total_out == out0) || flush == Z_FINISH)
		return Z_BUF_ERROR;
	return Z_OK;
}

void wz_inflate_free(z_streamp strm, struct wz_inf *s)
{
	close_session(s);
	s->h.magic = 0;
	wz_free(strm, s);
	strm->state = NULL;
}

/* A new stream on the same state; the framing is decided again. */
int wz_inflate_reset(z_streamp strm, struct wz_inf *s)
{
	strm->total_in = strm->total_out = 0;
	strm->msg = NULL;
	strm->adler = s->wrap == WZ_WRAP_GZIP ? 0 : 1;
	strm->data_type = 0;
	s->started = s->ended = s->failed = 0;
	s->hdr_len = 0;
	s->check = 0;
	s->carry.len = 0;
	if (s->ws)
		wd_comp_stream_reset(s->ws); /* kept for the next stream */
	return Z_OK;
}

int wz_inflate_handoff(z_streamp strm, struct wz_inf *s, enum wz_why why)
{
	if (s->started)
		return Z_STREAM_ERROR;
	return inf_to_zlib(strm, s, why);
}
