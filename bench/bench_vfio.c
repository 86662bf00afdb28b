/* SPDX-License-Identifier: MIT */
/*
 * wd_bench_vfio: AES-128-CBC on a virtio-crypto device, in one run: through
 * a WarpDrive queue on the user-space VFIO driver (no system call on the
 * submit path), through the kernel's own virtio-crypto driver reached with
 * AF_ALG (a system call or two per request), and, with -p wd.so, through
 * OpenSSL's EVP and the wd provider on the same user-space driver (one
 * EVP_EncryptUpdate at a time, and from -J ASYNC_JOBs on one thread:
 * bench_vfio_prov.c), for 64 B, 4 KiB, 16 KiB and 64 KiB.  Runs in the QEMU guest of
 * tests/vm with two virtio-crypto devices (WDVM_KDEV=1): under TCG the
 * absolute figures mean little, the ratios are the result.  Exit 77 when
 * the queue or AF_ALG is missing.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <linux/if_alg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>
#include <wd/crypto.h>
#include <wd/mem.h>

#include "bench_util.h"
#include "bench_vfio.h"

#ifndef SOL_ALG
#define SOL_ALG 279
#endif

#define INFLIGHT 16
#define MAXLEN (64 * 1024)

#define NSIZES 4
static const unsigned sizes[NSIZES] = { 64, 4096, 16384, 65536 };
static const char *const size_names[NSIZES] = { "64 B", "4 KiB", "16 KiB", "64 KiB" };
const uint8_t bv_key[16] = { 0x2b, 0x7e, 0x15, 0x16, 0x28, 0xae, 0xd2, 0xa6,
			     0xab, 0xf7, 0x15, 0x88, 0x09, 0xcf, 0x4f, 0x3c };
const uint8_t bv_iv[16];

/* ---- the kernel's driver through AF_ALG ---- */

static int alg_open(const char *driver)
{
	struct sockaddr_alg sa = { .salg_family = AF_ALG, .salg_type = "skcipher" };
	int tfm, op;

	snprintf((char *)sa.salg_name, sizeof(sa.salg_name), "%s", driver);
	tfm = socket(AF_ALG, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (tfm < 0)
		return -errno;
	if (bind(tfm, (struct sockaddr *)&sa, sizeof(sa)) ||
	    setsockopt(tfm, SOL_ALG, ALG_SET_KEY, bv_key, sizeof(bv_key))) {
		int err = -errno;

		close(tfm);
		return err;
	}
	op = accept4(tfm, NULL, 0, SOCK_CLOEXEC);
	close(tfm);
	return op < 0 ? -errno : op;
}

/* One encryption: the data, the operation and the IV in one sendmsg, the
 * result with one read. */
static int alg_encrypt(int op, const uint8_t *in, uint8_t *out, unsigned len)
{
	char cbuf[CMSG_SPACE(sizeof(uint32_t)) + CMSG_SPACE(sizeof(struct af_alg_iv) + 16)] = { 0 };
	struct iovec iov = { .iov_base = (void *)in, .iov_len = len };
	struct msghdr msg = { .msg_control = cbuf, .msg_controllen = sizeof(cbuf),
			      .msg_iov = &iov, .msg_iovlen = 1 };
	struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
	struct af_alg_iv *aiv;

	c->cmsg_level = SOL_ALG;
	c->cmsg_type = ALG_SET_OP;
	c->cmsg_len = CMSG_LEN(sizeof(uint32_t));
	*(uint32_t *)CMSG_DATA(c) = ALG_OP_ENCRYPT;
	c = CMSG_NXTHDR(&msg, c);
	c->cmsg_level = SOL_ALG;
	c->cmsg_type = ALG_SET_IV;
	c->cmsg_len = CMSG_LEN(sizeof(*aiv) + 16);
	aiv = (void *)CMSG_DATA(c);
	aiv->ivlen = 16;
	memcpy(aiv->iv, bv_iv, 16);
	if (sendmsg(op, &msg, 0) != (ssize_t)len)
		return -errno;
	return bench_read_full(op, out, len) ? -EIO : 0;
}

static int alg_measure(int op, unsigned len, double secs, uint8_t *in, uint8_t *out,
		       struct result *r)
{
	double t0 = bench_now(), t;
	unsigned long n = 0;

	do {
		if (alg_encrypt(op, in, out, len))
			return -1;
		n++;
		t = bench_now() - t0;
	} while (t < secs);
	r->lat_us = t / (double)n * 1e6;
	r->mbps = (double)n * len / t / 1e6; /* synchronous: one at a time */
	return 0;
}

/* ---- the user-space driver through a queue ---- */

struct wdq {
	struct wd_ctx *ctx;
	struct wd_domain *dom;
	struct wd_queue *q;
	struct wd_cipher_sess *s;
	uint8_t *src, *dst;
	uint64_t src_iova, dst_iova;
};

static int wdq_open(struct wdq *w)
{
	struct wd_queue_opts o = { .size = sizeof(o), .depth = 64, .device = "vfio0",
				   .flags = WD_QUEUE_F_EXPLICIT };
	size_t len = (size_t)MAXLEN * INFLIGHT;
	int ret;

	ret = wd_ctx_new(&w->ctx, NULL);
	if (ret)
		return ret;
	if (!wd_dev_by_name(w->ctx, "vfio0"))
		return -ENODEV;
	ret = wd_domain_new(&w->dom, w->ctx, "vfio0");
	if (ret)
		return ret;
	o.domain = w->dom;
	ret = wd_queue_new(&w->q, w->ctx, "aes-cbc", &o);
	if (ret)
		return ret;
	ret = wd_cipher_sess_new(&w->s, w->q, WD_CIPHER_AES_CBC, bv_key, sizeof(bv_key));
	if (ret)
		return ret;
	w->src = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	w->dst = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (w->src == MAP_FAILED || w->dst == MAP_FAILED)
		return -ENOMEM;
	memset(w->src, 0x61, len);
	ret = wd_share(w->dom, w->src, len, WD_SHARE_READONLY, &w->src_iova);
	return ret ? ret : wd_share(w->dom, w->dst, len, 0, &w->dst_iova);
}

/* Keep up to depth requests of len bytes in flight for secs; returns
 * requests completed, or -1. */
static long wdq_run(struct wdq *w, unsigned len, unsigned depth, double secs, double *elapsed)
{
	struct wd_req r[INFLIGHT];
	struct wd_cpl c[INFLIGHT];
	double t0 = bench_now();
	long done = 0, sent = 0;
	unsigned i, inflight = 0;

	for (i = 0; i < depth; i++) {
		wd_prep_encrypt(&r[i], w->s, bv_iv, w->src_iova + (uint64_t)i * MAXLEN,
				w->dst_iova + (uint64_t)i * MAXLEN, len);
		r[i].tag = i;
	}
	for (;;) {
		int stop = bench_now() - t0 >= secs && sent, n;

		if (!stop && inflight < depth) {
			unsigned k = depth - inflight, first = (unsigned)(sent % depth);

			/* slots free up in order as they complete: refill them */
			if (first + k > depth)
				k = depth - first;
			n = wd_send(w->q, &r[first], k);
			if (n < 0 && n != -EBUSY)
				return -1;
			if (n > 0) {
				inflight += (unsigned)n;
				sent += n;
			}
		}
		if (!inflight)
			break;
		/* polling, the fast path: no system call while waiting */
		n = wd_recv(w->q, c, INFLIGHT);
		if (n < 0)
			return -1;
		if (!n) {
			if (bench_now() - t0 > secs + 5)
				return -1;
			bench_relax();
			continue;
		}
		for (i = 0; i < (unsigned)n; i++)
			if (c[i].status)
				return -1;
		inflight -= (unsigned)n;
		done += n;
	}
	*elapsed = bench_now() - t0;
	return done;
}

static int wdq_measure(struct wdq *w, unsigned len, double secs, struct result *r)
{
	double t;
	long n = wdq_run(w, len, 1, secs, &t);

	if (n <= 0)
		return -1;
	r->lat_us = t / (double)n * 1e6;
	n = wdq_run(w, len, INFLIGHT, secs, &t);
	if (n <= 0)
		return -1;
	r->mbps = (double)n * len / t / 1e6;
	return 0;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: wd_bench_vfio [-t SECONDS] [-j FILE|-] [-p WD_SO [-J JOBS]]\n"
		   "AES-128-CBC: WarpDrive queue on the user-space VFIO virtio-crypto driver\n"
		   "vs the kernel's virtio-crypto driver through AF_ALG (run in tests/vm);\n"
		   "-p: also EVP through the OpenSSL provider wd.so on vfio0, one call at a\n"
		   "time and from JOBS ASYNC_JOBs (16) on one thread.\n");
}

static void print_table(const struct result *q, const struct result *k, const struct result *pr,
			const struct result *pa, int have_prov, unsigned jobs, const char *kdrv)
{
	unsigned z;

	printf("\nwd_bench_vfio: AES-128-CBC encryption on virtio-crypto (QEMU TCG: ratios only)\n");
	printf("%-8s %12s %12s %8s %12s %12s %8s", "message", "queue lat us", "AF_ALG lat", "speedup",
	       "queue MB/s", "AF_ALG MB/s", "ratio");
	if (have_prov)
		printf(" %12s %12s %10s %12s %10s", "EVP-wd lat", "EVP-wd MB/s", "vs AF_ALG",
		       "jobs MB/s", "vs AF_ALG");
	printf("\n");
	for (z = 0; z < NSIZES; z++) {
		printf("%-8s %12.1f %12.1f %7.2fx %12.2f %12.2f %7.2fx", size_names[z], q[z].lat_us,
		       k[z].lat_us, k[z].lat_us / q[z].lat_us, q[z].mbps, k[z].mbps,
		       q[z].mbps / k[z].mbps);
		if (have_prov)
			printf(" %12.1f %12.2f %9.2fx", pr[z].lat_us, pr[z].mbps,
			       pr[z].mbps / k[z].mbps);
		if (have_prov && pa[z].mbps)
			printf(" %12.2f %9.2fx", pa[z].mbps, pa[z].mbps / k[z].mbps);
		else if (have_prov)
			printf(" %12s %10s", "-", "-");
		printf("\n");
	}
	printf("queue: user-space VFIO driver, 1 in flight (latency) and %d (MB/s); AF_ALG: %s, "
	       "synchronous", INFLIGHT, kdrv);
	if (have_prov)
		printf(";\nEVP-wd: EVP_EncryptUpdate through the wd provider on vfio0 (threshold 0, "
		       "bounce buffers), synchronous; jobs: from %u ASYNC_JOBs on one thread "
		       "(pieces up to 16 KiB)", jobs);
	printf("\n\n");
}

static int write_json(const char *json, const struct result *q, const struct result *k,
		      const struct result *pr, const struct result *pa, int have_prov)
{
	FILE *jf = strcmp(json, "-") ? fopen(json, "w") : stdout;
	unsigned z;

	/* "-j -": one line on stdout, for a guest whose files do not outlive it */
	if (!jf) {
		fprintf(stderr, "cannot write %s: %s\n", json, strerror(errno));
		return -1;
	}
	fprintf(jf, "%s{\"bench\": \"vfio\", \"alg\": \"aes-128-cbc\", \"inflight\": %d, "
		    "\"results\": [", jf == stdout ? "WDBENCH-JSON " : "", INFLIGHT);
	for (z = 0; z < NSIZES; z++) {
		fprintf(jf,
			"{\"bytes\": %u, \"queue_lat_us\": %.2f, \"afalg_lat_us\": %.2f, "
			"\"latency_speedup\": %.3f, \"queue_mbps\": %.3f, "
			"\"afalg_mbps\": %.3f, \"throughput_ratio\": %.3f",
			sizes[z], q[z].lat_us, k[z].lat_us, k[z].lat_us / q[z].lat_us, q[z].mbps,
			k[z].mbps, q[z].mbps / k[z].mbps);
		if (have_prov)
			fprintf(jf, ", \"evp_wd_lat_us\": %.2f, \"evp_wd_mbps\": %.3f, "
				    "\"evp_wd_vs_afalg\": %.3f, \"evp_wd_jobs_mbps\": %.3f, "
				    "\"evp_wd_jobs_vs_afalg\": %.3f", pr[z].lat_us, pr[z].mbps,
				pr[z].mbps / k[z].mbps, pa[z].mbps, pa[z].mbps / k[z].mbps);
		fprintf(jf, "}%s", z < NSIZES - 1 ? ", " : "");
	}
	fprintf(jf, "]}\n");
	if (jf != stdout)
		fclose(jf);
	return 0;
}

int main(int argc, char **argv)
{
	struct result q[NSIZES], k[NSIZES], pr[NSIZES], pa[NSIZES];
	const char *json = NULL, *wd_so = NULL, *kdrv = "virtio_crypto_aes_cbc";
	double secs = 1.0;
	struct wdq w = { 0 };
	uint8_t *in, *out;
	int op, opt, ret, have_prov;
	unsigned z, jobs = 16;

	while ((opt = getopt(argc, argv, "t:j:p:J:h")) != -1) {
		if (opt == 't')
			secs = atof(optarg);
		else if (opt == 'j')
			json = optarg;
		else if (opt == 'p')
			wd_so = optarg;
		else if (opt == 'J')
			jobs = (unsigned)atoi(optarg);
		else {
			usage(opt == 'h' ? stdout : stderr);
			return opt == 'h' ? 0 : 2;
		}
	}
	op = alg_open(kdrv);
	if (op < 0) {
		fprintf(stderr, "skip: AF_ALG %s: %s (needs the kernel's virtio_crypto driver on a "
			"second device: WDVM_KDEV=1)\n", kdrv, strerror(-op));
		return 77;
	}
	in = malloc(MAXLEN);
	out = malloc(MAXLEN);
	if (!in || !out)
		return 1;
	memset(in, 0x61, MAXLEN);
	/* the provider first: it lets vfio0 go before the queue below takes it */
	if (alg_encrypt(op, in, out, 4096) ||
	    bv_prov_all(wd_so, out, sizes, NSIZES, secs, jobs, pr, pa, &have_prov))
		return 1;
	ret = wdq_open(&w);
	if (ret) {
		fprintf(stderr, "skip: no WarpDrive queue on vfio0: %s\n", wd_strerror(ret));
		return 77;
	}
	/* both paths must agree before their speed means anything */
	if (alg_encrypt(op, in, out, 4096) || wdq_run(&w, 4096, 1, 0, &(double){ 0 }) != 1 ||
	    memcmp(out, w.dst, 4096)) {
		fprintf(stderr, "the two paths disagree on AES-128-CBC output\n");
		return 1;
	}
	for (z = 0; z < NSIZES; z++) {
		if (wdq_measure(&w, sizes[z], secs, &q[z]) ||
		    alg_measure(op, sizes[z], secs, in, out, &k[z])) {
			fprintf(stderr, "measurement at %s failed\n", size_names[z]);
			return 1;
		}
	}
	print_table(q, k, pr, pa, have_prov, jobs, kdrv);
	if (json && write_json(json, q, k, pr, pa, have_prov))
		return 1;
	close(op);
	wd_cipher_sess_free(w.s);
	wd_queue_free(w.q);
	wd_domain_free(w.dom);
	wd_ctx_free(w.ctx);
	free(in);
	free(out);
	return 0;
}
