/* SPDX-License-Identifier: MIT */
/*
 * compress/uncompress: one request each.  When the engine declines (the
 * output would not fit the caller's buffer, corrupt or truncated data) the
 * call is made again by zlib, so that what the caller sees (partial
 * output, *destLen, *sourceLen, the return code) is exactly zlib's; each
 * such retry is counted with its reason.
 */
#include <errno.h>

#include "wz.h"

__thread int wz_bypass;

static int real_compress2(Bytef *dst, uLongf *dst_len, const Bytef *src, uLong len, int level)
{
	int ret;

	wz_bypass = 1;
	ret = wz_real()->compress2(dst, dst_len, src, len, level);
	wz_bypass = 0;
	if (ret == Z_OK)
		wz_count_bytes(0, len, *dst_len);
	return ret;
}

static int real_uncompress2(Bytef *dst, uLongf *dst_len, const Bytef *src, uLong *len)
{
	int ret;

	wz_bypass = 1;
	ret = wz_real()->uncompress2(dst, dst_len, src, len);
	wz_bypass = 0;
	wz_count_bytes(0, *len, *dst_len);
	return ret;
}

static enum wz_why why_of(int err)
{
	return err == -ENOSPC ? WZ_WHY_BOUND : err == -ENODEV ? WZ_WHY_NODEV : WZ_WHY_ERROR;
}

WZ_EXPORT int compress2(Bytef *dst, uLongf *dst_len, const Bytef *src, uLong len, int level)
{
	const struct wz_config *cfg = wz_config();
	int zl = level == Z_DEFAULT_COMPRESSION ? 6 : level, ret;
	struct wd_req r;
	struct wd_cpl c;

	if (wz_bypass || !dst || !dst_len || (!src && len) || zl < 0 || zl > 9)
		return wz_real()->compress2(dst, dst_len, src, len, level);
	if (!cfg->enabled || zl == 0 || len < cfg->min_compress || len > UINT32_MAX ||
	    *dst_len > UINT32_MAX) {
		wz_count_zlib(WZ_DEFLATE, !cfg->enabled ? WZ_WHY_DISABLED :
			      zl == 0 ? WZ_WHY_LEVEL : len < cfg->min_compress ? WZ_WHY_SMALL :
			      WZ_WHY_SIZE);
		return real_compress2(dst, dst_len, src, len, level);
	}
	wd_prep_compress(&r, dst, (uint32_t)*dst_len, src, (uint32_t)len,
			 (unsigned)cfg->level_map[zl], WD_COMP_ZLIB);
	ret = wz_run_one(&r, &c);
	if (ret) {
		wz_count_zlib(WZ_DEFLATE, why_of(ret));
		return real_compress2(dst, dst_len, src, len, level);
	}
	wz_count_stream(WZ_DEFLATE, 1);
	wz_count_bytes(1, len, c.result);
	*dst_len = c.result;
	return Z_OK;
}

WZ_EXPORT int compress(Bytef *dst, uLongf *dst_len, const Bytef *src, uLong len)
{
	return compress2(dst, dst_len, src, len, Z_DEFAULT_COMPRESSION);
}

WZ_EXPORT uLong compressBound(uLong len)
{
	uLong zb = wz_real()->compressBound(len);
	uLong ours = (uLong)wd_comp_bound(len);

	return zb > ours ? zb : ours;
}

WZ_EXPORT int uncompress2(Bytef *dst, uLongf *dst_len, const Bytef *src, uLong *len)
{
	const struct wz_config *cfg = wz_config();
	struct wd_req r;
	struct wd_cpl c;
	int ret;

	if (wz_bypass || !dst_len || !len || !dst || (!src && *len))
		return wz_real()->uncompress2(dst, dst_len, src, len);
	if (!cfg->enabled || *len < cfg->min_compress || *len > UINT32_MAX || !*dst_len ||
	    *dst_len > UINT32_MAX) {
		/* over 4 GiB is beyond a request; no room at all, beyond the bound */
		wz_count_zlib(WZ_INFLATE, !cfg->enabled ? WZ_WHY_DISABLED :
			      *len < cfg->min_compress ? WZ_WHY_SMALL :
			      *len > UINT32_MAX || *dst_len > UINT32_MAX ? WZ_WHY_SIZE :
			      WZ_WHY_BOUND);
		return real_uncompress2(dst, dst_len, src, len);
	}
	wd_prep_decompress(&r, dst, (uint32_t)*dst_len, src, (uint32_t)*len, WD_COMP_ZLIB);
	ret = wz_run_one(&r, &c);
	if (ret) {
		wz_count_zlib(WZ_INFLATE, why_of(ret));
		return real_uncompress2(dst, dst_len, src, len);
	}
	wz_count_stream(WZ_INFLATE, 1);
	wz_count_bytes(1, wd_cpl_consumed(&c), c.result);
	*dst_len = c.result;
	*len = wd_cpl_consumed(&c);
	return Z_OK;
}

WZ_EXPORT int uncompress(Bytef *dst, uLongf *dst_len, const Bytef *src, uLong len)
{
	return uncompress2(dst, dst_len, src, &len);
}
