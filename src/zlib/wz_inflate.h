/* SPDX-License-Identifier: MIT */
/* The layer's inflate stream state (inflate.c, inflate_api.c). */
#ifndef WZ_INFLATE_H
#define WZ_INFLATE_H

#include "wz.h"

struct wz_inf {
	struct wz_head h;
	int window_bits;                /* as given, to hand the stream to zlib */
	int bits;                       /* window asked for: 8..15, 0: the zlib header's */
	int win;                        /* the stream's window, once known */
	int wrap;                       /* WZ_WRAP_* */
	int framing;                    /* decided: enum wd_comp_framing */
	uint8_t started, ended, failed;
	uint8_t hdr[2], hdr_len;        /* header bytes taken while deciding */
	uint32_t check;
	struct wz_carry carry;          /* input the decoder handed back */
	struct wz_queue *wq;            /* where the session lives */
	struct wd_comp_stream *ws;
};

int wz_inflate_run(z_streamp strm, struct wz_inf *s, int flush);
/* Free the state (and strm->state). */
void wz_inflate_free(z_streamp strm, struct wz_inf *s);
int wz_inflate_reset(z_streamp strm, struct wz_inf *s);
/* Before any data: give the stream to zlib (returns zlib's init result);
 * after: Z_STREAM_ERROR. */
int wz_inflate_handoff(z_streamp strm, struct wz_inf *s, enum wz_why why);

/* inflateCopy of a stream that has begun: a copy of its engine session. */
int wz_inflate_copy(z_streamp dest, z_streamp source, struct wz_inf *s);

#endif
