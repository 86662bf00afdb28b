/* SPDX-License-Identifier: MIT */
/*
 * zlib's deflate entry points.  A stream is the layer's or zlib's from its
 * init on; before its first byte a stream may still be handed to zlib
 * (deflateSetHeader, deflatePrime, a strategy), never after.
 */
#include <errno.h>
#include <string.h>

#include "wz_deflate.h"

static struct wz_def *def_of(z_streamp strm)
{
	struct wz_head *h = wz_head_of(strm);

	return h && h->kind == WZ_DEFLATE && h->strm == strm ? (struct wz_def *)h : NULL;
}

static int version_ok(const char *version, int stream_size)
{
	return version && version[0] == ZLIB_VERSION[0] && stream_size == (int)sizeof(z_stream);
}

/* Why zlib keeps a stream with these parameters, or -1: the layer takes it. */
static int why_zlib(int level, int method, int wrap, int bits, int strategy)
{
	if (!wz_config()->enabled)
		return WZ_WHY_DISABLED;
	if (method != Z_DEFLATED)
		return WZ_WHY_METHOD;
	if (wrap < 0)
		return WZ_WHY_WINDOW; /* not a window zlib takes: zlib says so */
	/* a window under 32 KiB binds ISA-L's levels; libdeflate has none */
	if (bits < 15 && level > 0 &&
	    wz_config()->level_map[level] > WD_COMP_STREAM_LEVEL_MAX)
		return WZ_WHY_WINDOW;
	if (strategy != Z_DEFAULT_STRATEGY)
		return WZ_WHY_STRATEGY;
	if (level == 0)
		return WZ_WHY_LEVEL; /* stored blocks, as asked: zlib's memcpy */
	return -1;
}

static int zlevel_norm(int level)
{
	return level == Z_DEFAULT_COMPRESSION ? 6 : level;
}

static void def_reset(z_streamp strm, struct wz_def *d)
{
	strm->total_in = strm->total_out = 0;
	strm->msg = NULL;
	strm->data_type = Z_UNKNOWN;
	d->started = d->finished = d->header_done = d->has_dict = 0;
	d->last_flush = -2;
	d->need_flush = 0;
	d->check = d->gather_check = d->wrap == WZ_WRAP_ZLIB ? 1 : 0;
	strm->adler = d->wrap == WZ_WRAP_GZIP ? 0 : 1;
	d->dict_id = 0;
	d->isize = d->out_bytes = 0;
	d->gather_len = d->hist_len = d->stage_len = d->stage_off = 0;
}

/* Hand a stream that has seen no data to zlib, with its parameters and
 * the dictionary it was given (the window, and the id of all of it). */
static int def_to_zlib(z_streamp strm, struct wz_def *d, enum wz_why why)
{
	int level = d->zlevel, bits = d->window_bits, mem = d->mem_level, strat = d->strategy;
	uint8_t *hist = d->hist;
	uint32_t hist_len = d->hist_len, dict_id = d->dict_id;
	int ret, zlib_dict = d->has_dict;

	d->hist = NULL;
	wz_deflate_free(strm, d);
	wz_free(strm, d);
	strm->state = NULL;
	ret = wz_real()->deflateInit2_(strm, level, Z_DEFLATED, bits, mem, strat, ZLIB_VERSION,
				       (int)sizeof(z_stream));
	if (ret == Z_OK && hist_len)
		ret = wz_real()->deflateSetDictionary(strm, hist, hist_len);
	if (ret == Z_OK && zlib_dict)
		strm->adler = dict_id; /* zlib's header states it */
	wz_free(strm, hist);
	if (ret == Z_OK)
		wz_count_zlib(WZ_DEFLATE, why);
	return ret;
}

WZ_EXPORT int deflateInit2_(z_streamp strm, int level, int method, int window_bits,
			    int mem_level, int strategy, const char *version, int stream_size)
{
	int wrap, why, bits;
	struct wz_def *d;

	if (!version_ok(version, stream_size) || !strm || wz_bypass)
		return wz_real()->deflateInit2_(strm, level, method, window_bits, mem_level,
						strategy, version, stream_size);
	/* zlib's windows: 9..15 (8 is taken as 9 for zlib framing), -9..-15,
	 * 25..31; anything else goes to zlib, which refuses it */
	wrap = window_bits >= 8 && window_bits <= 15 ? WZ_WRAP_ZLIB :
	       window_bits >= -15 && window_bits <= -9 ? WZ_WRAP_RAW :
	       window_bits >= 25 && window_bits <= 31 ? WZ_WRAP_GZIP : -1;
	bits = window_bits < 0 ? -window_bits : window_bits & 15;
	if (bits == 8)
		bits = 9;
	why = wrap < 0 || level < -1 || level > 9 ? WZ_WHY_WINDOW :
	      why_zlib(zlevel_norm(level), method, wrap, bits, strategy);
	if (level < -1 || level > 9 || mem_level < 1 || mem_level > 9 || strategy < 0 ||
	    strategy > Z_FIXED)
		why = WZ_WHY_LEVEL; /* zlib gives the error */
	if (why >= 0) {
		int ret = wz_real()->deflateInit2_(strm, level, method, window_bits, mem_level,
						   strategy, version, stream_size);

		if (ret == Z_OK)
			wz_count_zlib(WZ_DEFLATE, (enum wz_why)why);
		return ret;
	}
	strm->msg = NULL;
	d = wz_alloc(strm, sizeof(*d));
	if (!d)
		return Z_MEM_ERROR;
	memset(d, 0, sizeof(*d));
	d->h.magic = WZ_MAGIC;
	d->h.strm = strm;
	d->h.kind = WZ_DEFLATE;
	d->zlevel = zlevel_norm(level);
	d->level = (unsigned)wz_config()->level_map[d->zlevel];
	d->window_bits = window_bits;
	d->mem_level = mem_level;
	d->strategy = strategy;
	d->wrap = wrap;
	d->wbits = bits;
	strm->state = (struct internal_state *)d;
	def_reset(strm, d);
	return Z_OK;
}

WZ_EXPORT int deflateInit_(z_streamp strm, int level, const char *version, int stream_size)
{
	return deflateInit2_(strm, level, Z_DEFLATED, 15, 8, Z_DEFAULT_STRATEGY, version,
			     stream_size);
}

WZ_EXPORT int deflate(z_streamp strm, int flush)
{
	struct wz_def *d = def_of(strm);
	uLong in0, out0;
	int ret;

	if (d)
		return wz_deflate_run(strm, d, flush);
	if (!strm)
		return Z_STREAM_ERROR;
	in0 = strm->total_in;
	out0 = strm->total_out;
	ret = wz_real()->deflate(strm, flush);
	wz_count_bytes(0, strm->total_in - in0, strm->total_out - out0);
	return ret;
}

WZ_EXPORT int deflateEnd(z_streamp strm)
{
	struct wz_def *d = def_of(strm);
	int busy;

	if (!d)
		return wz_real()->deflateEnd(strm);
	busy = d->started && !d->finished;
	wz_deflate_free(strm, d);
	d->h.magic = 0;
	wz_free(strm, d);
	strm->state = NULL;
	return busy ? Z_DATA_ERROR : Z_OK;
}

WZ_EXPORT int deflateResetKeep(z_streamp strm)
{
	struct wz_def *d = def_of(strm);

	if (!d)
		return wz_real()->deflateResetKeep(strm);
	def_reset(strm, d);
	return Z_OK;
}

WZ_EXPORT int deflateReset(z_streamp strm)
{
	struct wz_def *d = def_of(strm);

	if (!d)
		return wz_real()->deflateReset(strm);
	def_reset(strm, d);
	return Z_OK;
}

WZ_EXPORT int deflateParams(z_streamp strm, int level, int strategy)
{
	struct wz_def *d = def_of(strm);
	int zl = zlevel_norm(level), why;

	if (!d)
		return wz_real()->deflateParams(strm, level, strategy);
	if (level < -1 || level > 9 || strategy < 0 || strategy > Z_FIXED)
		return Z_STREAM_ERROR;
	/* before data, as deflateInit2_ would have decided */
	why = d->started ? -1 : why_zlib(zl, Z_DEFLATED, d->wrap, d->wbits, strategy);
	if (why >= 0) {
		d->zlevel = level;
		d->strategy = strategy;
		if (def_to_zlib(strm, d, (enum wz_why)why) != Z_OK)
			return Z_MEM_ERROR;
		return Z_OK;
	}
	if (strategy != d->strategy) {
		/* the engine has no strategies: the stream goes on as it was,
		 * valid, counted (zlib too applies them to later data only) */
		wz_count_event("strategy_kept");
		d->strategy = strategy;
	}
	/* Gathered input goes at the new level: the stream stays valid, and
	 * zlib too leaves the level of not yet compressed data unspecified. */
	d->zlevel = zl;
	d->level = (unsigned)wz_config()->level_map[zl];
	/* Level 0 (stored blocks) has no engine equivalent, and a small window
	 * binds the level to ISA-L's (libdeflate has none): the stream goes on
	 * compressing, valid, at another level than asked, counted. */
	if (zl == 0)
		wz_count_event("level_kept");
	if (d->wbits < 15 && d->level > WD_COMP_STREAM_LEVEL_MAX) {
		d->level = WD_COMP_STREAM_LEVEL_MAX;
		wz_count_event("level_kept");
	}
	return Z_OK;
}

WZ_EXPORT int deflateSetDictionary(z_streamp strm, const Bytef *dict, uInt len)
{
	struct wz_def *d = def_of(strm);

	if (!d)
		return wz_real()->deflateSetDictionary(strm, dict, len);
	if (!dict || d->wrap == WZ_WRAP_GZIP || (d->wrap == WZ_WRAP_ZLIB && d->started) ||
	    d->gather_len || d->stage_len || d->finished)
		return Z_STREAM_ERROR;
	if (!len)
		return Z_OK; /* as zlib: no FDICT, strm->adler as it was */
	if (wz_deflate_set_hist(strm, d, dict, len))
		return Z_MEM_ERROR;
	if (d->wrap == WZ_WRAP_ZLIB) {
		/* as zlib: the id is the Adler-32 of all dictionaries given */
		d->dict_id = (uint32_t)adler32(d->has_dict ? d->dict_id : 1, dict, len);
		d->has_dict = 1;
		strm->adler = d->dict_id;
	}
	if (d->level > WD_COMP_STREAM_LEVEL_MAX)
		wz_count_event("dict_unused");
	return Z_OK;
}

WZ_EXPORT int deflateGetDictionary(z_streamp strm, Bytef *dict, uInt *len)
{
	struct wz_def *d = def_of(strm);

	if (!d)
		return wz_real()->deflateGetDictionary(strm, dict, len);
	if (dict && d->hist_len)
		memcpy(dict, d->hist, d->hist_len);
	if (len)
		*len = d->hist_len;
	return Z_OK;
}

WZ_EXPORT int deflateSetHeader(z_streamp strm, gz_headerp head)
{
	struct wz_def *d = def_of(strm);

	if (!d)
		return wz_real()->deflateSetHeader(strm, head);
	if (d->wrap != WZ_WRAP_GZIP || d->started)
		return Z_STREAM_ERROR;
	if (def_to_zlib(strm, d, WZ_WHY_HEADER) != Z_OK)
		return Z_MEM_ERROR;
	return wz_real()->deflateSetHeader(strm, head);
}

WZ_EXPORT int deflatePrime(z_streamp strm, int bits, int value)
{
	struct wz_def *d = def_of(strm);

	if (!d)
		return wz_real()->deflatePrime(strm, bits, value);
	if (d->started) {
		strm->msg = (char *)"WarpDrive stream: deflatePrime after data";
		return Z_STREAM_ERROR;
	}
	if (def_to_zlib(strm, d, WZ_WHY_PRIME) != Z_OK)
		return Z_MEM_ERROR;
	return wz_real()->deflatePrime(strm, bits, value);
}

WZ_EXPORT int deflatePending(z_streamp strm, unsigned *pending, int *bits)
{
	struct wz_def *d = def_of(strm);

	if (!d)
		return wz_real()->deflatePending(strm, pending, bits);
	if (pending)
		*pending = d->stage_len - d->stage_off;
	if (bits)
		*bits = 0; /* pieces end byte-aligned */
	return Z_OK;
}

WZ_EXPORT int deflateTune(z_streamp strm, int good, int lazy, int nice, int chain)
{
	struct wz_def *d = def_of(strm);

	if (!d)
		return wz_real()->deflateTune(strm, good, lazy, nice, chain);
	/* zlib's match-finder knobs, which the engine has not: before data
	 * zlib takes the stream, as for a strategy; after, they are counted */
	if (d->started) {
		wz_count_event("tune_kept");
		return Z_OK;
	}
	if (def_to_zlib(strm, d, WZ_WHY_API) != Z_OK)
		return Z_MEM_ERROR;
	return wz_real()->deflateTune(strm, good, lazy, nice, chain);
}

WZ_EXPORT uLong deflateBound(z_streamp strm, uLong len)
{
	uLong zb = wz_real()->deflateBound(def_of(strm) ? NULL : strm, len);
	/* stored blocks, a 5-byte marker per 64 KiB piece, header + trailer */
	uLong ours = len + 10 * (len / 65535 + 2) + 32;

	return zb > ours ? zb : ours;
}

WZ_EXPORT int deflateCopy(z_streamp dest, z_streamp source)
{
	struct wz_def *s = def_of(source), *d;

	if (!s)
		return wz_real()->deflateCopy(dest, source);
	if (!dest)
		return Z_STREAM_ERROR;
	memcpy(dest, source, sizeof(*dest));
	d = wz_alloc(dest, sizeof(*d));
	if (!d)
		return Z_MEM_ERROR;
	memcpy(d, s, sizeof(*d));
	d->h.strm = dest;
	d->gather = d->hist = d->stage = NULL;
	d->gather_cap = d->stage_cap = 0;
	dest->state = (struct internal_state *)d;
	d->gather = s->gather ? wz_alloc(dest, s->gather_cap) : NULL;
	d->hist = s->hist ? wz_alloc(dest, 1u << s->wbits) : NULL;
	d->stage = s->stage ? wz_alloc(dest, s->stage_cap) : NULL;
	if ((s->gather && !d->gather) || (s->hist && !d->hist) || (s->stage && !d->stage)) {
		wz_deflate_free(dest, d);
		wz_free(dest, d);
		dest->state = NULL;
		return Z_MEM_ERROR;
	}
	d->gather_cap = s->gather_cap;
	d->stage_cap = s->stage_cap;
	if (s->gather)
		memcpy(d->gather, s->gather, s->gather_len);
	if (s->hist)
		memcpy(d->hist, s->hist, s->hist_len);
	if (s->stage)
		memcpy(d->stage, s->stage, s->stage_len);
	return Z_OK;
}
