/* SPDX-License-Identifier: MIT */
/*
 * wd_bench_vfio's provider rows: OpenSSL's EVP with the wd provider on
 * vfio0 (threshold 0: every piece a request through a bounce buffer), one
 * EVP_EncryptUpdate at a time, and from ASYNC_JOBs on one thread (each
 * job its own context, Update after Update; pieces up to 16 KiB go to the
 * device from a bounce area of their own ring slot, so jobs keep several
 * in flight), driven by poll() on the descriptors their wait contexts
 * name, as openssl speed -async_jobs does.  The provider runs first and
 * goes before the raw queue takes vfio0 (one container per VFIO group).
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/async.h>
#include <openssl/evp.h>
#include <openssl/provider.h>

#include "bench_util.h"
#include "bench_vfio.h"

#define MAX_JOBS 64
#define JOB_MAX_PIECE (16u << 10)       /* larger pieces are synchronous */

struct prov {
	OSSL_LIB_CTX *lc;
	OSSL_PROVIDER *wd, *def;
	EVP_CIPHER *c;
};

/* A library context with wd.so on vfio0, every piece to the queue. */
static int prov_open(struct prov *p, const char *wd_so)
{
	char conf[] = "/tmp/wd-bench-vfio.cnf";
	FILE *f = fopen(conf, "w");

	if (!f)
		return -errno;
	fprintf(f, "openssl_conf = i\n[i]\nproviders = p\n[p]\nwd = w\ndefault = d\n"
		   "[w]\nmodule = %s\nactivate = 1\ndevice = vfio0\nthreshold = 0\n"
		   "[d]\nactivate = 1\n", wd_so);
	fclose(f);
	p->lc = OSSL_LIB_CTX_new();
	if (!p->lc || !OSSL_LIB_CTX_load_config(p->lc, conf)) {
		unlink(conf);
		return -EINVAL;
	}
	unlink(conf);
	p->wd = OSSL_PROVIDER_load(p->lc, "wd");
	p->def = OSSL_PROVIDER_load(p->lc, "default");
	p->c = EVP_CIPHER_fetch(p->lc, "AES-128-CBC", "provider=wd");
	return p->wd && p->def && p->c ? 0 : -EINVAL;
}

/* The provider lets vfio0 go: its teardown frees its queues and context. */
static void prov_close(struct prov *p)
{
	EVP_CIPHER_free(p->c);
	if (p->wd)
		OSSL_PROVIDER_unload(p->wd);
	if (p->def)
		OSSL_PROVIDER_unload(p->def);
	OSSL_LIB_CTX_free(p->lc);
}

static EVP_CIPHER_CTX *ctx_new(struct prov *p)
{
	EVP_CIPHER_CTX *x = EVP_CIPHER_CTX_new();

	if (x && EVP_EncryptInit_ex2(x, p->c, bv_key, bv_iv, NULL)) {
		EVP_CIPHER_CTX_set_padding(x, 0);
		return x;
	}
	EVP_CIPHER_CTX_free(x);
	return NULL;
}

/* One call at a time for secs (at least one call). */
static int sync_measure(EVP_CIPHER_CTX *x, unsigned len, double secs, uint8_t *in, uint8_t *out,
			struct result *r)
{
	double t0 = bench_now(), t;
	unsigned long n = 0;
	int outl;

	do {
		if (!EVP_EncryptUpdate(x, out, &outl, in, (int)len) || (unsigned)outl != len)
			return -1;
		n++;
		t = bench_now() - t0;
	} while (t < secs);
	r->lat_us = t / (double)n * 1e6;
	r->mbps = (double)n * len / t / 1e6;
	return 0;
}

/* ---- jobs ---- */

struct pjob {
	EVP_CIPHER_CTX *x;
	ASYNC_JOB *job;
	ASYNC_WAIT_CTX *w;
	uint8_t *buf;
	unsigned len;
	double until;
	unsigned long n;
	int ret, done;
};

static int pjob_fn(void *arg)
{
	struct pjob *j = *(struct pjob **)arg;
	int outl;

	while (bench_now() < j->until) {
		if (!EVP_EncryptUpdate(j->x, j->buf, &outl, j->buf, (int)j->len))
			return 0;
		j->n++;
	}
	return 1;
}

/* Start or resume; 1 when the job finished, -1 on an error. */
static int pjob_step(struct pjob *j)
{
	struct pjob *arg = j;
	int r = ASYNC_start_job(&j->job, j->w, &j->ret, pjob_fn, &arg, sizeof(arg));

	if (r == ASYNC_PAUSE)
		return 0;
	j->done = 1;
	return r == ASYNC_FINISH && j->ret == 1 ? 1 : -1;
}

/* Run the jobs to their end; -1 on an error. */
static int drive(struct pjob *j, unsigned n)
{
	struct pollfd p[MAX_JOBS];
	unsigned idx[MAX_JOBS], i, k, left = n;
	OSSL_ASYNC_FD fd;
	size_t nfd;
	int r;

	for (i = 0; i < n; i++)
		if ((r = pjob_step(&j[i])) != 0) {
			if (r < 0)
				return -1;
			left--;
		}
	while (left) {
		for (i = k = 0; i < n; i++) {
			if (j[i].done)
				continue;
			nfd = 1;
			if (!ASYNC_WAIT_CTX_get_all_fds(j[i].w, &fd, &nfd) || nfd != 1)
				return -1;
			p[k].fd = fd;
			p[k].events = POLLIN;
			idx[k++] = i;
		}
		if (poll(p, k, 10000) <= 0)
			return -1;
		for (i = 0; i < k; i++)
			if ((p[i].revents & POLLIN) && (r = pjob_step(&j[idx[i]])) != 0) {
				if (r < 0)
					return -1;
				left--;
			}
	}
	return 0;
}

static int async_measure(struct prov *p, unsigned jobs, unsigned len, double secs,
			 struct result *r)
{
	struct pjob j[MAX_JOBS];
	unsigned long total = 0;
	double t0;
	unsigned i;
	int ret = -1;

	memset(j, 0, sizeof(j));
	for (i = 0; i < jobs; i++) {
		j[i].x = ctx_new(p);
		j[i].w = ASYNC_WAIT_CTX_new();
		j[i].buf = calloc(1, len);
		j[i].len = len;
		if (!j[i].x || !j[i].w || !j[i].buf)
			goto out;
	}
	t0 = bench_now();
	for (i = 0; i < jobs; i++)
		j[i].until = t0 + secs;
	if (drive(j, jobs))
		goto out;
	for (i = 0; i < jobs; i++)
		total += j[i].n;
	r->mbps = (double)total * len / (bench_now() - t0) / 1e6;
	r->lat_us = 0;
	ret = 0;
out:
	for (i = 0; i < jobs; i++) {
		EVP_CIPHER_CTX_free(j[i].x);
		ASYNC_WAIT_CTX_free(j[i].w);
		free(j[i].buf);
	}
	return ret;
}

int bv_prov_all(const char *wd_so, const uint8_t *ref, const unsigned *sizes, unsigned n,
		double secs, unsigned jobs, struct result *sync, struct result *async, int *have)
{
	unsigned max = 0, z;
	struct prov p = { 0 };
	EVP_CIPHER_CTX *x = NULL;
	uint8_t *in = NULL, *out = NULL;
	int ret = 0;

	*have = 0;
	if (!wd_so)
		return 0;
	for (z = 0; z < n; z++)
		max = sizes[z] > max ? sizes[z] : max;
	if (jobs > MAX_JOBS)
		jobs = MAX_JOBS;
	in = calloc(1, max > 4096 ? max : 4096);
	out = calloc(1, max > 4096 ? max : 4096);
	if (!in || !out || prov_open(&p, wd_so) || !(x = ctx_new(&p))) {
		fprintf(stderr, "note: no EVP through %s on vfio0: no provider rows\n", wd_so);
		goto out;
	}
	memset(in, 0x61, 4096);
	if (sync_measure(x, 4096, 0, in, out, &sync[0]) || memcmp(ref, out, 4096)) {
		fprintf(stderr, "the provider and AF_ALG disagree on AES-128-CBC output\n");
		ret = -1;
		goto out;
	}
	for (z = 0; z < n && !ret; z++) {
		ret = sync_measure(x, sizes[z], secs, in, out, &sync[z]);
		async[z].mbps = async[z].lat_us = 0;
		if (!ret && sizes[z] <= JOB_MAX_PIECE && ASYNC_is_capable() &&
		    ASYNC_init_thread(jobs, jobs)) {
			ret = async_measure(&p, jobs, sizes[z], secs, &async[z]);
			ASYNC_cleanup_thread();
		}
	}
	*have = !ret;
out:
	EVP_CIPHER_CTX_free(x);
	prov_close(&p);
	free(in);
	free(out);
	return ret;
}
