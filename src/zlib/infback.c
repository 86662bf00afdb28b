/* SPDX-License-Identifier: MIT */
/*
 * inflateBack: raw deflate with the caller's window and callbacks (pigz
 * decompresses this way).  The engine writes into the caller's window,
 * which is handed to out() after each step; one session serves every
 * stream decoded with the state.
 */
#include <errno.h>
#include <string.h>

#include "wz.h"

#define WZ_KIND_BACK 2

struct wz_back {
	struct wz_head h;
	uint8_t *window;
	uint32_t wsize;
	struct wz_queue *wq;
	struct wd_comp_stream *ws;
	struct wz_carry carry;
};

static struct wz_back *back_of(z_streamp strm)
{
	struct wz_head *h = wz_head_of(strm);

	return h && h->kind == WZ_KIND_BACK && h->strm == strm ? (struct wz_back *)h : NULL;
}

WZ_EXPORT int inflateBackInit_(z_streamp strm, int window_bits, unsigned char *window,
			       const char *version, int stream_size)
{
	struct wz_back *b;
	struct wz_queue *wq;
	int ret;

	if (!version || version[0] != ZLIB_VERSION[0] || stream_size != (int)sizeof(z_stream) ||
	    !strm || !window || window_bits != 15 || !wz_config()->enabled || wz_bypass) {
		ret = wz_real()->inflateBackInit_(strm, window_bits, window, version, stream_size);
		if (ret == Z_OK && !wz_bypass)
			wz_count_zlib(WZ_INFLATE, !wz_config()->enabled ? WZ_WHY_DISABLED :
				      WZ_WHY_WINDOW);
		return ret;
	}
	b = wz_alloc(strm, sizeof(*b));
	if (!b)
		return Z_MEM_ERROR;
	memset(b, 0, sizeof(*b));
	if (wz_session_open(&wq, &b->ws, WD_COMP_RAW, 15)) {
		wz_free(strm, b);
		ret = wz_real()->inflateBackInit_(strm, window_bits, window, version, stream_size);
		if (ret == Z_OK)
			wz_count_zlib(WZ_INFLATE, WZ_WHY_NODEV);
		return ret;
	}
	b->h.magic = WZ_MAGIC;
	b->h.strm = strm;
	b->h.kind = WZ_KIND_BACK;
	b->window = window;
	b->wsize = 1u << window_bits;
	b->wq = wq;
	strm->msg = NULL;
	strm->state = (struct internal_state *)b;
	return Z_OK;
}

/* One engine step; 1 at the end of the stream, 0, or -errno. */
static int back_step(struct wz_back *b, z_streamp strm, size_t *made)
{
	uInt avail0 = strm->avail_in;
	int ret = wz_feed(&b->carry, b->wq, b->ws, &strm->next_in, &strm->avail_in, b->window,
			  b->wsize, made);

	if (ret < 0)
		return ret;
	strm->total_in += avail0 - strm->avail_in;
	wz_count_bytes(1, avail0 - strm->avail_in, *made);
	return ret;
}

WZ_EXPORT int inflateBack(z_streamp strm, in_func in, void *in_desc, out_func out,
			  void *out_desc)
{
	struct wz_back *b = back_of(strm);
	size_t made;
	int ret;

	if (!b)
		return wz_real()->inflateBack(strm, in, in_desc, out, out_desc);
	if (!in || !out)
		return Z_STREAM_ERROR;
	wd_comp_stream_reset(b->ws);
	b->carry.len = 0;
	wz_count_stream(WZ_INFLATE, 1);
	strm->msg = NULL;
	if (!strm->next_in)
		strm->avail_in = 0;
	for (;;) {
		if (!strm->avail_in) {
			unsigned char *next = NULL;

			strm->avail_in = in(in_desc, &next);
			strm->next_in = next;
			if (!strm->avail_in) {
				strm->next_in = Z_NULL; /* in() gave nothing: zlib's sign */
				return Z_BUF_ERROR;
			}
		}
		ret = back_step(b, strm, &made);
		if (ret < 0) {
			strm->msg = (char *)(ret == -EBADMSG ? "invalid compressed data" :
					     ret == -ECHILD ? "WarpDrive stream began before fork" :
					     "WarpDrive device error");
			return ret == -EBADMSG ? Z_DATA_ERROR : Z_STREAM_ERROR;
		}
		if (made && out(out_desc, b->window, (unsigned)made))
			return Z_BUF_ERROR;
		if (ret == 1)
			return Z_STREAM_END;
	}
}

WZ_EXPORT int inflateBackEnd(z_streamp strm)
{
	struct wz_back *b = back_of(strm);

	if (!b)
		return wz_real()->inflateBackEnd(strm);
	wz_session_close(b->wq, b->ws);
	b->h.magic = 0;
	wz_free(strm, b);
	strm->state = NULL;
	return Z_OK;
}
