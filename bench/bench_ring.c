/* SPDX-License-Identifier: MIT */
/*
 * wd bench ring: what a no-op costs through a WarpDrive queue, measured in
 * the same run as the two designs it replaces or approaches:
 *   - a plain two-thread shared-memory ping-pong (the floor: one cache-line
 *     round trip each way, no protocol at all);
 *   - a blocking Unix-socket request/response to a worker thread (the
 *     conventional "send the work to a server" design, two syscalls a side).
 * Each measurement runs several times, interleaved, and the median is kept,
 * so a noisy neighbour hits all three alike.  Figures are reported, never
 * asserted.
 */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <wd/mover.h>
#include <wd/wd.h>

#include "../tools/wd_cli.h"
#include "bench_util.h"

#define REPS 5

/* ---- shared-memory ping-pong ---- */

struct pingpong {
	_Alignas(64) uint64_t ping;
	_Alignas(64) uint64_t pong;
	_Alignas(64) uint64_t iters;
};

static void *pong_main(void *arg)
{
	struct pingpong *pp = arg;
	uint64_t i;

	for (i = 1; i <= pp->iters; i++) {
		while (__atomic_load_n(&pp->ping, __ATOMIC_ACQUIRE) != i)
			bench_relax();
		__atomic_store_n(&pp->pong, i, __ATOMIC_RELEASE);
	}
	return NULL;
}

static double run_pingpong(uint64_t iters)
{
	struct pingpong pp = { .iters = iters };
	pthread_t th;
	double t0, t1;
	uint64_t i;

	if (pthread_create(&th, NULL, pong_main, &pp))
		return -1;
	t0 = bench_now();
	for (i = 1; i <= iters; i++) {
		__atomic_store_n(&pp.ping, i, __ATOMIC_RELEASE);
		while (__atomic_load_n(&pp.pong, __ATOMIC_ACQUIRE) != i)
			bench_relax();
	}
	t1 = bench_now();
	pthread_join(th, NULL);
	return (t1 - t0) / (double)iters * 1e9;
}

/* ---- Unix-socket request/response ---- */

struct sockpair {
	int fd;
	uint64_t iters;
};

static void *sock_server(void *arg)
{
	struct sockpair *sp = arg;
	struct wd_req req;
	struct wd_cpl cpl = { 0 };
	uint64_t i;

	for (i = 0; i < sp->iters; i++) {
		if (bench_read_full(sp->fd, &req, sizeof(req)) < 0)
			break;
		cpl.tag = req.tag;
		if (bench_write_full(sp->fd, &cpl, sizeof(cpl)) < 0)
			break;
	}
	return NULL;
}

static double run_socket(uint64_t iters)
{
	struct sockpair sp = { .iters = iters };
	struct wd_req req;
	struct wd_cpl cpl;
	pthread_t th;
	double t0, t1;
	uint64_t i;
	int fds[2];

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, fds))
		return -1;
	sp.fd = fds[1];
	if (pthread_create(&th, NULL, sock_server, &sp)) {
		close(fds[0]);
		close(fds[1]);
		return -1;
	}
	wd_prep_nop(&req, 0);
	t0 = bench_now();
	for (i = 0; i < iters; i++) {
		req.tag = i;
		if (bench_write_full(fds[0], &req, sizeof(req)) < 0 ||
		    bench_read_full(fds[0], &cpl, sizeof(cpl)) < 0 || cpl.tag != i)
			break;
	}
	t1 = bench_now();
	pthread_join(th, NULL);
	close(fds[0]);
	close(fds[1]);
	return i == iters ? (t1 - t0) / (double)iters * 1e9 : -1;
}

/* ---- WarpDrive queue ---- */

static double run_queue_rtt(struct wd_queue *q, uint64_t iters)
{
	struct wd_req req;
	struct wd_cpl cpl;
	double t0, t1;
	uint64_t i;
	int n;

	wd_prep_nop(&req, 0);
	t0 = bench_now();
	for (i = 0; i < iters; i++) {
		req.tag = i;
		if (wd_send(q, &req, 1) != 1)
			return -1;
		while ((n = wd_recv(q, &cpl, 1)) == 0)
			bench_relax();
		if (n < 0 || cpl.tag != i || cpl.status)
			return -1;
	}
	t1 = bench_now();
	return (t1 - t0) / (double)iters * 1e9;
}

/* Requests per second with batches of `batch`, keeping the queue busy. */
static double run_queue_tput(struct wd_queue *q, unsigned batch, uint64_t total)
{
	struct wd_req reqs[64];
	struct wd_cpl cpls[256];
	uint64_t sent = 0, done = 0;
	double t0, t1;
	unsigned i;
	int n;

	for (i = 0; i < batch; i++)
		wd_prep_nop(&reqs[i], 0);
	t0 = bench_now();
	while (done < total) {
		if (sent < total && (unsigned)wd_inflight(q) + batch <= 256) {
			n = wd_send(q, reqs, total - sent < batch ? (unsigned)(total - sent) : batch);
			if (n < 0 && n != -EBUSY)
				return -1;
			if (n > 0)
				sent += (unsigned)n;
		}
		n = wd_recv(q, cpls, 256);
		if (n < 0)
			return -1;
		done += (unsigned)n;
	}
	t1 = bench_now();
	return (double)total / (t1 - t0);
}

static void usage(FILE *f)
{
	fprintf(f, "usage: wd bench ring [-n ITERS] [-j FILE] [-q]\n"
		   "  -n ITERS  round trips per measurement (default 100000)\n"
		   "  -j FILE   also write the figures as JSON to FILE\n"
		   "  -q        JSON only, on stdout\n");
}

static int wd_bench_ring(int argc, char **argv)
{
	struct wd_ctx_opts co = { .size = sizeof(co), .soft_threads = 1, .soft_idle_us = 2000 };
	struct wd_queue_opts qo = { .size = sizeof(qo), .depth = 256 };
	uint64_t iters = 100000;
	double pp[REPS], so[REPS], qr[REPS], tp[3][REPS];
	const unsigned batches[3] = { 1, 8, 32 };
	const char *json = NULL;
	struct wd_ctx *ctx;
	struct wd_queue *q;
	int opt, quiet = 0, ret, r, b;

	while ((opt = getopt(argc, argv, "n:j:qh")) != -1) {
		switch (opt) {
		case 'n':
			iters = strtoull(optarg, NULL, 10);
			if (iters < 100)
				iters = 100;
			break;
		case 'j':
			json = optarg;
			break;
		case 'q':
			quiet = 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	ret = wd_ctx_new(&ctx, &co);
	if (!ret)
		ret = wd_queue_new(&q, ctx, "nop", &qo);
	if (ret)
		return wd_cli_fail("cannot set up a queue", ret);

	if (!quiet)
		fprintf(stderr, "measuring: %d interleaved runs of %llu round trips each...\n",
			REPS, (unsigned long long)iters);
	for (r = 0; r < REPS; r++) {
		pp[r] = run_pingpong(iters);
		so[r] = run_socket(iters / 10);
		qr[r] = run_queue_rtt(q, iters);
		for (b = 0; b < 3; b++)
			tp[b][r] = run_queue_tput(q, batches[b], iters * 10);
		if (pp[r] < 0 || so[r] < 0 || qr[r] < 0 || tp[0][r] < 0 || tp[1][r] < 0 ||
		    tp[2][r] < 0) {
			fprintf(stderr, "wd: bench ring: a measurement failed\n");
			wd_queue_free(q);
			wd_ctx_free(ctx);
			return 1;
		}
	}
	wd_queue_free(q);
	wd_ctx_free(ctx);

	double m_pp = bench_median(pp, REPS), m_so = bench_median(so, REPS);
	double m_qr = bench_median(qr, REPS), m_tp[3];

	for (b = 0; b < 3; b++)
		m_tp[b] = bench_median(tp[b], REPS);

	if (!quiet) {
		printf("\nwd bench ring: no-op requests, 1 engine thread, median of %d runs\n\n", REPS);
		printf("%-34s %12s %22s %16s\n", "measurement", "value", "ratio", "target");
		printf("%-34s %9.3f us %22s %16s\n", "shm ping-pong round trip (floor)", m_pp / 1e3,
		       "1.00x", "");
		printf("%-34s %9.3f us %15.2fx ping %16s\n", "unix socket round trip", m_so / 1e3,
		       m_so / m_pp, "");
		printf("%-34s %9.3f us %15.2fx ping %16s %s\n", "queue round trip (polling)",
		       m_qr / 1e3, m_qr / m_pp, "<= 1.50x ping", m_qr / m_pp <= 1.5 ? "met" : "MISSED");
		printf("%-34s %12s %13.1fx faster %16s %s\n", "  queue vs socket", "", m_so / m_qr,
		       ">= 20x", m_so / m_qr >= 20 ? "met" : "MISSED");
		for (b = 0; b < 3; b++)
			printf("queue throughput, batch %-10u %8.2f Mreq/s %14.2fx batch 1 %9s %s\n",
			       batches[b], m_tp[b] / 1e6, m_tp[b] / m_tp[0], b == 2 ? ">= 5 Mreq/s" : "",
			       b < 2 ? "" : (m_tp[b] >= 5e6 ? "met" : "MISSED"));
		printf("\n");
	}
	FILE *jf = NULL;

	if (json)
		jf = fopen(json, "w");
	else if (quiet)
		jf = stdout;
	if (json && !jf) {
		fprintf(stderr, "wd: cannot write %s: %s\n", json, strerror(errno));
		return 1;
	}
	if (jf) {
		fprintf(jf,
			"{\n  \"bench\": \"ring\",\n  \"runs\": %d,\n  \"iterations\": %llu,\n"
			"  \"pingpong_rtt_ns\": %.1f,\n  \"socket_rtt_ns\": %.1f,\n"
			"  \"queue_rtt_ns\": %.1f,\n  \"queue_vs_pingpong\": %.3f,\n"
			"  \"socket_vs_queue\": %.2f,\n  \"throughput_rps\": {\"batch1\": %.0f, "
			"\"batch8\": %.0f, \"batch32\": %.0f},\n"
			"  \"targets\": {\"queue_vs_pingpong_max\": 1.5, \"socket_vs_queue_min\": 20, "
			"\"batch32_rps_min\": 5000000}\n}\n",
			REPS, (unsigned long long)iters, m_pp, m_so, m_qr, m_qr / m_pp, m_so / m_qr,
			m_tp[0], m_tp[1], m_tp[2]);
		if (jf != stdout)
			fclose(jf);
	}
	return 0;
}

int wd_cmd_bench(int argc, char **argv)
{
	int help = argc >= 2 && !strcmp(argv[1], "-h");

	if (argc >= 2 && !strcmp(argv[1], "ring")) {
		optind = 1;
		return wd_bench_ring(argc - 1, argv + 1);
	}
	if (argc >= 2 && !strcmp(argv[1], "comp")) {
		optind = 1;
		return wd_bench_comp(argc - 1, argv + 1);
	}
	if (argc >= 2 && !strcmp(argv[1], "wdd")) {
		optind = 1;
		return wd_bench_wdd(argc - 1, argv + 1);
	}
	if (argc >= 2 && !strcmp(argv[1], "provider")) {
		optind = 1;
		return wd_bench_provider(argc - 1, argv + 1);
	}
	if (argc >= 2 && !strcmp(argv[1], "mem")) {
		optind = 1;
		return wd_bench_mem(argc - 1, argv + 1);
	}
	if (argc >= 2 && !strcmp(argv[1], "crypto")) {
		optind = 1;
		return wd_bench_crypto(argc - 1, argv + 1);
	}
	if (argc >= 2 && !strcmp(argv[1], "zlib")) {
		optind = 1;
		return wd_bench_zlib(argc - 1, argv + 1);
	}
	if (argc >= 2 && !strcmp(argv[1], "sync")) {
		optind = 1;
		return wd_bench_sync(argc - 1, argv + 1);
	}
	fprintf(help ? stdout : stderr,
		"usage: wd bench ring [-n ITERS] [-j FILE] [-q]\n"
		"       wd bench comp [options]   (wd bench comp -h)\n"
		"       wd bench mem [-j FILE]\n"
		"       wd bench wdd [-w WDD] [-n ITERS] [-j FILE]\n"
		"       wd bench crypto [-t SECONDS] [-j FILE] [-q]\n"
		"       wd bench sync [-t SECONDS] [-s SEED] [-j FILE] [-q]\n"
		"       wd bench provider [-t SECONDS] [-r RUNS] [-m DIR] [-j FILE] [-q] [-c N]\n");
	return help ? 0 : 2;
}
