/* SPDX-License-Identifier: MIT */
/*
 * Settings, read once from the environment (libwd-zlib(7) lists them):
 *   WD_ZLIB=0            everything to zlib (counted as "disabled")
 *   WD_ZLIB_MIN=BYTES    one-shot work smaller than this stays on zlib
 *                        (default: compression 0, decompression 512)
 *   WD_ZLIB_LEVELS=L0,L1,...,L9   engine level for each zlib level
 *   WD_DEVICE=NAME       the device (default: the in-process soft engine)
 */
#define _GNU_SOURCE /* secure_getenv */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "wz.h"

/* Crossovers measured on the soft engine (wd bench zlib, small rows): a
 * compress2() of 64 bytes is already 1.1x faster through the layer (3.05 vs
 * 2.71 us; up to 17x where zlib's ~256 KiB of fresh state faults in each
 * call), 2.2x at 256, so compression never stays on zlib by default;
 * uncompress() is 0.95x at 256 bytes and 1.2x at 1 KiB: 512. */
#define MIN_COMPRESS_DEFAULT 0
#define MIN_UNCOMPRESS_DEFAULT 512

static struct wz_config cfg;
static pthread_once_t cfg_once = PTHREAD_ONCE_INIT;

static void parse_levels(const char *s)
{
	char *end;
	long v;
	int i;

	for (i = 0; i < 10 && s && *s; i++) {
		v = strtol(s, &end, 10);
		if (end == s || v < 0 || v > WD_COMP_LEVEL_MAX)
			return; /* a bad list leaves the rest at the defaults */
		cfg.level_map[i] = (int)v;
		s = *end == ',' ? end + 1 : end;
	}
}

static void cfg_load(void)
{
	const char *s;
	int i;

	cfg.enabled = !((s = secure_getenv("WD_ZLIB")) && !strcmp(s, "0"));
	cfg.min_compress = MIN_COMPRESS_DEFAULT;
	cfg.min_uncompress = MIN_UNCOMPRESS_DEFAULT;
	s = secure_getenv("WD_ZLIB_MIN");
	if (s && *s)
		cfg.min_compress = cfg.min_uncompress = strtoull(s, NULL, 10);
	s = secure_getenv("WD_DEVICE");
	cfg.device = s && *s ? s : NULL;
	for (i = 0; i < 10; i++)
		cfg.level_map[i] = (int)wd_comp_level_from_zlib(i);
	parse_levels(secure_getenv("WD_ZLIB_LEVELS"));
}

const struct wz_config *wz_config(void)
{
	pthread_once(&cfg_once, cfg_load);
	return &cfg;
}

int wz_wrap(int window_bits, int *bits_out)
{
	int wrap, bits;

	if (window_bits < 0) {
		if (window_bits < -15)
			return -1;
		wrap = WZ_WRAP_RAW;
		bits = -window_bits;
	} else if (window_bits >= 32 + 8 || window_bits == 32) {
		wrap = WZ_WRAP_AUTO;
		bits = window_bits == 32 ? 15 : window_bits - 32;
	} else if (window_bits > 15) {
		wrap = WZ_WRAP_GZIP;
		bits = window_bits - 16;
	} else {
		wrap = WZ_WRAP_ZLIB;
		bits = window_bits ? window_bits : 15;
	}
	if (!bits)
		bits = 15; /* inflate: the window the header states (at most 15) */
	if (bits < 8 || bits > 15)
		return -1;
	*bits_out = bits;
	return wrap;
}

void *wz_alloc(z_streamp strm, size_t size)
{
	/* whole cache lines: allocators that carve one block in sequence
	 * (nginx's gzip filter) then hand out aligned pointers */
	size = (size + 63) & ~(size_t)63;
	if (strm->zalloc)
		return strm->zalloc(strm->opaque, 1, (uInt)size);
	return malloc(size);
}

void wz_free(z_streamp strm, void *p)
{
	if (!p)
		return;
	if (strm->zfree)
		strm->zfree(strm->opaque, p);
	else
		free(p);
}
