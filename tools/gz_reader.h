/* SPDX-License-Identifier: MIT */
/*
 * A reader thread ahead of wd gunzip's decoder: the next buffer is read
 * while the decoder works on the one before, so the copy out of the page
 * cache (or a pipe) overlaps decoding instead of taking turns with it (as
 * gz_writer does on the output side).
 */
#ifndef WD_GZ_READER_H
#define WD_GZ_READER_H

#include <stddef.h>
#include <sys/types.h>

struct gz_reader;

/* len bytes from fd, fewer only at its end; the count, or -errno. */
ssize_t gz_read_full(int fd, void *buf, size_t len);

/* Two buffers of cap bytes, each with headroom free bytes before it (room
 * for the decoder's unread bytes of the buffer before); 0 or -errno. */
int gz_reader_start(struct gz_reader **out, int fd, size_t cap, size_t headroom);
/*
 * Give back the buffer taken before (if any) and take the next one read:
 * *data and *len (len < cap: the file ends there, *eof set).  0, or the
 * read's -errno.  The bytes before *data, headroom of them, are the
 * caller's.
 */
int gz_reader_next(struct gz_reader *r, unsigned char **data, size_t *len, int *eof);
/* Stop reading (the thread may be blocked in a read: it ends with it) and free. */
void gz_reader_stop(struct gz_reader *r);

#endif
