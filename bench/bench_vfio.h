/* SPDX-License-Identifier: MIT */
/* wd_bench_vfio's parts: the raw queue and AF_ALG (bench_vfio.c), EVP
 * through the wd provider on vfio0 (bench_vfio_prov.c). */
#ifndef BENCH_VFIO_H
#define BENCH_VFIO_H

#include <stdint.h>

/* AES-128-CBC, the same key and IV for every path */
extern const uint8_t bv_key[16];
extern const uint8_t bv_iv[16];

struct result {
	double lat_us;          /* one request at a time */
	double mbps;            /* as many in flight as the path allows */
};

/*
 * EVP AES-128-CBC through wd.so on vfio0 (threshold 0) for each of n
 * sizes (up to max bytes), secs each: sync[z] one EVP_EncryptUpdate at a
 * time; async[z].mbps with jobs ASYNC_JOBs on one thread, each its own
 * context (0 where a piece exceeds what a job sends asynchronously).  The
 * first 4096 bytes must encrypt to ref.  Returns 0 (*have 0 when the
 * provider or vfio0 cannot be had), or -1 when the output is wrong.
 */
int bv_prov_all(const char *wd_so, const uint8_t *ref, const unsigned *sizes, unsigned n,
		double secs, unsigned jobs, struct result *sync, struct result *async, int *have);

#endif
