/* SPDX-License-Identifier: MIT */
/* The corpus the compression benchmarks read: every regular file of a
 * directory but README.md, in name order, as one buffer. */
#ifndef WD_BENCH_CORPUS_H
#define WD_BENCH_CORPUS_H

#include <stddef.h>
#include <stdint.h>

/* Append the files of dir to *data (realloc'd; *len bytes so far) and count
 * them in *nfiles.  0, -ENODATA (no bytes at all), or another -errno. */
int bench_load_corpus(const char *dir, uint8_t **data, size_t *len, size_t *nfiles);

#endif
