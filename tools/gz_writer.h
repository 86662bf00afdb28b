/* SPDX-License-Identifier: MIT */
/*
 * A writer thread behind wd gunzip's decoder: the decoder fills one buffer
 * while the one before is written out, so decoding and the copy into the
 * page cache (or a pipe) overlap instead of taking turns.
 */
#ifndef WD_GZ_WRITER_H
#define WD_GZ_WRITER_H

#include <stddef.h>

struct gz_writer;

/* Two buffers of cap bytes, written to fd in order; 0 or -errno. */
int gz_writer_start(struct gz_writer **out, int fd, size_t cap);
/* The buffer to fill now (cap bytes). */
unsigned char *gz_writer_buf(struct gz_writer *w);
/* Hand over len bytes of the buffer filled; 0, or the error of an earlier
 * write (-errno). */
int gz_writer_put(struct gz_writer *w, size_t len);
/* Wait for everything handed over to be written, and free; 0 or the first
 * write error. */
int gz_writer_finish(struct gz_writer *w);

#endif
