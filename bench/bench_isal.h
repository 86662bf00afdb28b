/* SPDX-License-Identifier: MIT */
/* The baseline the benchmarks set queues against: ISA-L called directly. */
#ifndef WD_BENCH_ISAL_H
#define WD_BENCH_ISAL_H

#include <stdint.h>
#include <isa-l/igzip_lib.h>

/* gzip at level 1, stateless, as the soft engine does it.  z and level_buf
 * (ISAL_DEF_LVL1_DEFAULT bytes) are the caller's, reused from call to
 * call.  Returns the output size, 0 on failure (gzip output never is). */
static inline uint32_t bench_isal_gzip1(struct isal_zstream *z, uint8_t *level_buf,
					const uint8_t *src, uint32_t len, uint8_t *dst,
					uint32_t cap)
{
	isal_deflate_stateless_init(z);
	z->level = 1;
	z->level_buf = level_buf;
	z->level_buf_size = ISAL_DEF_LVL1_DEFAULT;
	z->gzip_flag = IGZIP_GZIP;
	z->end_of_stream = 1;
	z->flush = NO_FLUSH;
	z->next_in = (uint8_t *)src;
	z->avail_in = len;
	z->next_out = dst;
	z->avail_out = cap;
	return isal_deflate_stateless(z) == COMP_OK ? z->total_out : 0;
}

#endif
