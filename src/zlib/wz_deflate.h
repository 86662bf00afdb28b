/* SPDX-License-Identifier: MIT */
/* The layer's deflate stream state (deflate.c, deflate_api.c). */
#ifndef WZ_DEFLATE_H
#define WZ_DEFLATE_H

#include "wz.h"

struct wz_def {
	struct wz_head h;
	/* as given to deflateInit2_, to hand the stream to zlib unchanged */
	int zlevel, window_bits, mem_level, strategy;
	int wrap;                       /* WZ_WRAP_RAW/ZLIB/GZIP */
	int wbits;                      /* window: 9..15 */
	unsigned level;                 /* engine level */
	uint8_t started, finished, header_done, has_dict;
	int last_flush, need_flush;
	uint32_t check, dict_id;
	uint32_t gather_check;          /* checksum of the gathered input */
	uint64_t isize, out_bytes;
	uint8_t *gather;                /* input for the next piece */
	uint32_t gather_len, gather_cap;
	uint8_t *hist;                  /* last 32 KiB of input: the next piece's dictionary */
	uint32_t hist_len;
	uint8_t *stage;                 /* output the caller had no room for */
	uint32_t stage_len, stage_off, stage_cap;
};

void wz_deflate_free(z_streamp strm, struct wz_def *d);
/* Add to the next piece's dictionary (deflateSetDictionary). */
int wz_deflate_set_hist(z_streamp strm, struct wz_def *d, const uint8_t *p, uint32_t n);

/* strm->adler from what was compressed and what is gathered */
void wz_deflate_adler(z_streamp strm, struct wz_def *d);

/* One deflate() call on a stream of the layer. */
int wz_deflate_run(z_streamp strm, struct wz_def *d, int flush);

#endif
