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
 * zlib must take the stream (a preset dictionary), 2 (a window under
 * 32 KiB), -1 need more bytes, -EBADMSG not a valid header. */
static int detect(struct wz_inf *s, int *framing)
{
	unsigned cmf, flg;

	s->win = s->bits ? s->bits : 15;
	if (s->wrap == WZ_WRAP_RAW) {
		*framing = WD_COMP_RAW;
		return 0;
	}
	if (s->wrap == WZ_WRAP_GZIP) {
		/* as zlib: the magic is checked as soon as it is there */
		if (s->hdr_len < 2)
			return -1;
		if (s->hdr[0] != 0x1f || s->hdr[1] != 0x8b)
			return -EBADMSG;
		*framing = WD_COMP_GZIP;
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
	/* as zlib: a header window larger than asked for is refused; with
	 * windowBits 0 a smaller header window is the window: zlib's rule for
	 * it (see inflate_api.c) is zlib's to apply */
	if (s->bits && (cmf >> 4) + 8 > (unsigned)s->bits)
		return -EBADMSG;
	if (!s->bits && (cmf >> 4) + 8 < 15)
		return 2;
	return flg & 0x20 ? 1 : 0;
}

/* Hand a stream that has produced nothing to zlib, replaying the header
 * bytes it took.  Returns zlib's init result. */
static int inf_to_zlib(z_streamp strm, struct wz_inf *s, enum wz_why why)
{
	uint8_t hdr[2];
	unsigned n = s->hdr_len;
	int bits = s->window_bits, ret;
	uLong total_in = strm->total_in, total_out = strm->total_out;

	memcpy(hdr, s->hdr, n);
	wz_inflate_free(strm, s);
	ret = wz_real()->inflateInit2_(strm, bits, ZLIB_VERSION, (int)sizeof(z_stream));
	if (ret != Z_OK)
		return ret;
	/* zlib's init zeroes the counts; the header bytes taken count */
	strm->total_in = total_in;
	strm->total_out = total_out;
	wz_count_zlib(WZ_INFLATE, why);
	if (n) {
		/* header bytes make no output: any buffer will do */
		z_const Bytef *in = strm->next_in;
		uInt avail = strm->avail_in, out_avail = strm->avail_out;
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
		/* as zlib, which counts a preset dictionary's header only after
		 * inflateSetDictionary: the bytes replayed here count then */
		strm->total_in = why == WZ_WHY_DICT ? total_in - n : total_in;
	}
	return Z_OK;
}

static void close_session(struct wz_inf *s)
{
	if (!s->ws)
		return;
	wz_session_close(s->wq, s->ws);
	s->ws = NULL;
}

static int open_session(struct wz_inf *s, int framing)
{
	int ret;

	if (s->ws && s->framing == framing && s->wq->gen == wz_fork_gen())
		return wd_comp_stream_set_window(s->ws, (unsigned)s->win); /* kept on reset */
	close_session(s);
	ret = wz_session_open(&s->wq, &s->ws, framing, (unsigned)s->win);
	if (!ret)
		s->framing = framing;
	return ret;
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
		if (take) {
			memcpy(cy->buf + cy->len, *in, take);
			cy->len += take;
			*in += take;
			*avail -= take;
		}
		ret = run(wq, ws, cy->buf, cy->len, &used, out, out_len, made);
		if (ret < 0)
			return ret;
		cy->len -= (uint32_t)used;
		memmove(cy->buf, cy->buf + used, cy->len);
		/* Bytes taken from this call's input and not used go back to it
		 * when the stream ended (they follow it) or the output is full
		 * (zlib may leave input then): only what the decoder needs to go
		 * on stays here across calls, never bytes after the stream. */
		if (ret == 1 || (*made == out_len && cy->len)) {
			back = cy->len < take ? cy->len : take;
			if (back) {
				*in -= back;
				*avail += back;
				cy->len -= back;
			}
			if (ret == 1)
				cy->len = 0;
		}
		return ret;
	}
	ret = run(wq, ws, *in, *avail, &used, out, out_len, made);
	if (ret < 0)
		return ret;
	if (used) {
		*in += used;
		*avail -= (uInt)used;
	}
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

	/* as zlib: adler follows the output of zlib and gzip streams */
	if (ret >= 0 && s->framing != WD_COMP_RAW)
		strm->adler = s->check = wd_comp_stream_checksum(s->ws);
	return ret;
}

/* The first call: decide where the stream goes.  Returns 0 to go on here,
 * 1 when zlib took it (the caller then calls zlib's inflate), or a zlib
 * return code (negative, or Z_OK with nothing to do yet). */
static int start(z_streamp strm, struct wz_inf *s, int flush, int *zret)
{
	int framing, ret;

	/* Z_BLOCK stops after the header too: zlib takes the stream whole */
	if (flush == Z_BLOCK || flush == Z_TREES) {
		*zret = inf_to_zlib(strm, s, WZ_WHY_FLUSH);
		return *zret == Z_OK ? 1 : -1;
	}
	while (s->hdr_len < 2 && strm->avail_in && s->wrap != WZ_WRAP_RAW &&
	       !(s->wrap == WZ_WRAP_AUTO && s->hdr_len && s->hdr[0] == 0x1f)) {
		s->hdr[s->hdr_len++] = *strm->next_in++;
		strm->avail_in--;
		strm->total_in++;
	}
	ret = detect(s, &framing);
	if (ret == -1) {
		*zret = s->hdr_len && flush != Z_FINISH ? Z_OK : Z_BUF_ERROR;
		return -1;
	}
	if (ret == -EBADMSG) {
		s->failed = 1;
		strm->msg = (char *)(s->hdr_len == 2 && !((s->hdr[0] << 8 | s->hdr[1]) % 31) &&
				     (s->hdr[0] & 0xf) == Z_DEFLATED ? "invalid window size" :
				     "incorrect header check");
		*zret = Z_DATA_ERROR;
		return -1;
	}
	if (ret == 1 || ret == 2) {
		*zret = inf_to_zlib(strm, s, ret == 1 ? WZ_WHY_DICT : WZ_WHY_WINDOW);
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
		z_const Bytef *next0 = strm->next_in;

		ret = start(strm, s, flush, &zret);
		if (ret == 1) {
			/* zlib has the stream; header bytes taken in this call
			 * count as progress, as they would in zlib */
			zret = strm->avail_in || flush == Z_FINISH ?
			       wz_real()->inflate(strm, flush) : Z_BUF_ERROR;
			if (zret == Z_BUF_ERROR && strm->next_in != next0 && flush != Z_FINISH)
				zret = Z_OK;
			return zret;
		}
		if (ret < 0)
			return zret;
	} else if (flush == Z_BLOCK || flush == Z_TREES) {
		strm->msg = (char *)"WarpDrive stream: Z_BLOCK/Z_TREES after data";
		return Z_STREAM_ERROR;
	}
	do {
		uInt avail0 = strm->avail_in;

		ret = step(strm, s, &made);
		strm->total_in += avail0 - strm->avail_in;
		if (ret < 0) {
			s->failed = ret == -EBADMSG;
			strm->msg = (char *)err_msg(ret);
			return ret == -EBADMSG ? Z_DATA_ERROR : ret == -ENOMEM ? Z_MEM_ERROR :
			       Z_STREAM_ERROR;
		}
		strm->next_out += made;
		strm->avail_out -= (uInt)made;
		strm->total_out += made;
		progress = made || avail0 != strm->avail_in;
	} while (!ret && progress && strm->avail_in && strm->avail_out);
	wz_count_bytes(1, strm->total_in - in0, strm->total_out - out0);
	if (ret == 1) {
		s->ended = 1;
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

int wz_inflate_copy(z_streamp dest, z_streamp source, struct wz_inf *s)
{
	struct wz_inf *d;
	int ret = 0;

	if (!dest)
		return Z_STREAM_ERROR;
	d = wz_alloc(source, sizeof(*d));
	if (!d)
		return Z_MEM_ERROR;
	memcpy(d, s, sizeof(*d));
	d->ws = NULL;
	if (s->ws) {
		/* the copy's session lives on the same queue */
		ret = wz_queue_lock(s->wq);
		if (!ret) {
			ret = s->wq->sessions < WD_MAX_SESSIONS ?
			      wd_comp_stream_copy(&d->ws, s->ws) : -EBUSY;
			if (!ret)
				s->wq->sessions++;
			wz_queue_put(s->wq);
		}
	}
	if (ret) {
		wz_free(source, d);
		source->msg = (char *)err_msg(ret);
		return ret == -ENOMEM ? Z_MEM_ERROR : Z_STREAM_ERROR;
	}
	memcpy(dest, source, sizeof(*dest));
	d->h.strm = dest;
	dest->state = (struct internal_state *)d;
	return Z_OK;
}
