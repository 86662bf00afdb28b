/* SPDX-License-Identifier: MIT */
/* zlib's inflate entry points: the layer's streams, or zlib's passed on. */
#include <string.h>

#include "wz_inflate.h"

static struct wz_inf *inf_of(z_streamp strm)
{
	struct wz_head *h = wz_head_of(strm);

	return h && h->kind == WZ_INFLATE && h->strm == strm ? (struct wz_inf *)h : NULL;
}

/* The layer's wrapper for windowBits, or -1 when zlib decodes: invalid
 * values, and windows under 32 KiB.  zlib bounds distances by its window
 * only across calls (within one call's output any distance back into that
 * output is taken), a rule the engine's strict window cannot follow. */
static int inf_wrap(int window_bits)
{
	int bits, wrap = wz_wrap(window_bits, &bits);

	return wrap >= 0 && bits == 15 ? wrap : -1;
}

/* The window asked for: 8..15, or 0 for "the zlib header's" */
static int inf_bits(int window_bits)
{
	if (window_bits < 0)
		return -window_bits;
	return window_bits & 15;
}

/* zlib's rule for inflate's windowBits (inflateReset2) */
static int bits_valid(int w)
{
	if (w < 0)
		return w >= -15 && w <= -8;
	if (w < 48)
		w &= 15;
	return !w || (w >= 8 && w <= 15);
}

WZ_EXPORT int inflateInit2_(z_streamp strm, int window_bits, const char *version,
			    int stream_size)
{
	struct wz_inf *s;
	int wrap = inf_wrap(window_bits), ret;

	if (!version || version[0] != ZLIB_VERSION[0] || stream_size != (int)sizeof(z_stream) ||
	    !strm || wrap < 0 || !wz_config()->enabled || wz_bypass) {
		ret = wz_real()->inflateInit2_(strm, window_bits, version, stream_size);
		if (ret == Z_OK && !wz_bypass)
			wz_count_zlib(WZ_INFLATE, !wz_config()->enabled ? WZ_WHY_DISABLED :
				      WZ_WHY_WINDOW);
		return ret;
	}
	strm->msg = NULL;
	s = wz_alloc(strm, sizeof(*s));
	if (!s)
		return Z_MEM_ERROR;
	memset(s, 0, sizeof(*s));
	s->h.magic = WZ_MAGIC;
	s->h.strm = strm;
	s->h.kind = WZ_INFLATE;
	s->window_bits = window_bits;
	s->bits = inf_bits(window_bits);
	s->wrap = wrap;
	strm->state = (struct internal_state *)s;
	return wz_inflate_reset(strm, s);
}

WZ_EXPORT int inflateInit_(z_streamp strm, const char *version, int stream_size)
{
	return inflateInit2_(strm, 15, version, stream_size);
}

WZ_EXPORT int inflate(z_streamp strm, int flush)
{
	struct wz_inf *s = inf_of(strm);
	uLong in0, out0;
	int ret;

	if (s)
		return wz_inflate_run(strm, s, flush);
	if (!strm)
		return Z_STREAM_ERROR;
	in0 = strm->total_in;
	out0 = strm->total_out;
	ret = wz_real()->inflate(strm, flush);
	wz_count_bytes(0, strm->total_in - in0, strm->total_out - out0);
	return ret;
}

WZ_EXPORT int inflateEnd(z_streamp strm)
{
	struct wz_inf *s = inf_of(strm);

	if (!s)
		return wz_real()->inflateEnd(strm);
	wz_inflate_free(strm, s);
	return Z_OK;
}

WZ_EXPORT int inflateReset(z_streamp strm)
{
	struct wz_inf *s = inf_of(strm);

	if (!s)
		return wz_real()->inflateReset(strm);
	return wz_inflate_reset(strm, s);
}

WZ_EXPORT int inflateResetKeep(z_streamp strm)
{
	struct wz_inf *s = inf_of(strm);

	if (!s)
		return wz_real()->inflateResetKeep(strm);
	return wz_inflate_reset(strm, s);
}

WZ_EXPORT int inflateReset2(z_streamp strm, int window_bits)
{
	struct wz_inf *s = inf_of(strm);
	int wrap;

	if (!s)
		return wz_real()->inflateReset2(strm, window_bits);
	if (!bits_valid(window_bits))
		return Z_STREAM_ERROR; /* as zlib: refused, the stream as it was */
	wrap = inf_wrap(window_bits);
	if (wrap < 0) {
		/* a window the engine does not keep: zlib decodes the next stream */
		wz_inflate_reset(strm, s);
		s->window_bits = window_bits;
		return wz_inflate_handoff(strm, s, WZ_WHY_WINDOW);
	}
	s->window_bits = window_bits;
	s->bits = inf_bits(window_bits);
	s->wrap = wrap;
	return wz_inflate_reset(strm, s);
}

WZ_EXPORT int inflateSetDictionary(z_streamp strm, const Bytef *dict, uInt len)
{
	struct wz_inf *s = inf_of(strm);
	int ret;

	if (!s)
		return wz_real()->inflateSetDictionary(strm, dict, len);
	if (s->wrap != WZ_WRAP_RAW)
		return Z_STREAM_ERROR; /* zlib: only after Z_NEED_DICT, which zlib answered */
	ret = wz_inflate_handoff(strm, s, WZ_WHY_DICT);
	if (ret != Z_OK)
		return ret == Z_STREAM_ERROR ? ret : Z_MEM_ERROR;
	return wz_real()->inflateSetDictionary(strm, dict, len);
}

/* Entry points the engine cannot serve: before any data the stream is
 * handed to zlib; after, the call fails loudly. */
#define HANDOFF_OR(strm, s, fail)                                              \
	do {                                                                   \
		if (wz_inflate_handoff(strm, s, WZ_WHY_API) != Z_OK) {         \
			(strm)->msg = (char *)"WarpDrive stream: not after data"; \
			return fail;                                           \
		}                                                              \
	} while (0)

WZ_EXPORT int inflateGetHeader(z_streamp strm, gz_headerp head)
{
	struct wz_inf *s = inf_of(strm);

	if (s) {
		if (s->wrap != WZ_WRAP_GZIP && s->wrap != WZ_WRAP_AUTO)
			return Z_STREAM_ERROR;
		if (wz_inflate_handoff(strm, s, WZ_WHY_HEADER) != Z_OK)
			return Z_STREAM_ERROR;
	}
	return wz_real()->inflateGetHeader(strm, head);
}

WZ_EXPORT int inflatePrime(z_streamp strm, int bits, int value)
{
	struct wz_inf *s = inf_of(strm);

	if (s)
		HANDOFF_OR(strm, s, Z_STREAM_ERROR);
	return wz_real()->inflatePrime(strm, bits, value);
}

WZ_EXPORT int inflateSync(z_streamp strm)
{
	struct wz_inf *s = inf_of(strm);

	if (s)
		HANDOFF_OR(strm, s, Z_STREAM_ERROR);
	return wz_real()->inflateSync(strm);
}

WZ_EXPORT int inflateSyncPoint(z_streamp strm)
{
	struct wz_inf *s = inf_of(strm);

	if (s)
		return s->started ? Z_STREAM_ERROR : 0;
	return wz_real()->inflateSyncPoint(strm);
}

WZ_EXPORT long inflateMark(z_streamp strm)
{
	struct wz_inf *s = inf_of(strm);

	if (s)
		HANDOFF_OR(strm, s, -(1L << 16));
	return wz_real()->inflateMark(strm);
}

WZ_EXPORT int inflateUndermine(z_streamp strm, int subvert)
{
	struct wz_inf *s = inf_of(strm);

	if (s)
		HANDOFF_OR(strm, s, Z_STREAM_ERROR);
	return wz_real()->inflateUndermine(strm, subvert);
}

WZ_EXPORT int inflateValidate(z_streamp strm, int check)
{
	struct wz_inf *s = inf_of(strm);

	if (s) {
		if (check)
			return s->started ? Z_STREAM_ERROR : Z_OK; /* the engine always checks */
		HANDOFF_OR(strm, s, Z_STREAM_ERROR);
	}
	return wz_real()->inflateValidate(strm, check);
}

WZ_EXPORT unsigned long inflateCodesUsed(z_streamp strm)
{
	struct wz_inf *s = inf_of(strm);

	if (s)
		return (unsigned long)-1;
	return wz_real()->inflateCodesUsed(strm);
}

WZ_EXPORT int inflateGetDictionary(z_streamp strm, Bytef *dict, uInt *len)
{
	struct wz_inf *s = inf_of(strm);

	if (s) {
		if (s->started)
			return Z_STREAM_ERROR; /* the window is the device's */
		if (len)
			*len = 0;
		return Z_OK;
	}
	return wz_real()->inflateGetDictionary(strm, dict, len);
}

WZ_EXPORT int inflateCopy(z_streamp dest, z_streamp source)
{
	struct wz_inf *s = inf_of(source);

	if (s && s->started)
		return wz_inflate_copy(dest, source, s);
	if (s)
		HANDOFF_OR(source, s, Z_STREAM_ERROR);
	return wz_real()->inflateCopy(dest, source);
}
