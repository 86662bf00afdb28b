/* SPDX-License-Identifier: MIT */
/*
 * wd bench wdd: the daemon against the embedded engine and against the
 * conventional daemon design, in one run, on a private wdd it starts:
 *   - no-op round trip (polling): embedded queue vs wdd queue;
 *   - gzip level 1 throughput, 64 KiB and 1 MiB requests: embedded, wdd with
 *     explicitly shared memfd buffers (zero copy), wdd SVA (the daemon copies
 *     through the client's /proc/<pid>/mem), Unix-socket RPC to a server
 *     thread that receives the data, compresses it and sends it back, and
 *     ISA-L called directly on this thread: no design that compresses on one
 *     core can beat that, so direct/RPC bounds what any can gain over RPC;
 *   - scaling: 1, 2 and 4 client processes compressing through wdd at once.
 * Medians of interleaved runs; figures are reported, never asserted.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <isa-l/igzip_lib.h>
#include <libgen.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <wd/comp.h>
#include <wd/mem.h>
#include <wd/mover.h>
#include <wd/wd.h>

#include "../tools/wd_cli.h"
#include "bench_isal.h"
#include "bench_util.h"

#define REPS 5
#define TOTAL (32u << 20)
#define INFLIGHT 16

static pid_t start_daemon(const char *bin, char *sock, size_t len)
{
	char dir[] = "/tmp/wdd-bench-XXXXXX";
	struct stat st;
	pid_t pid;
	int i;

	if (!mkdtemp(dir))
		return -1;
	snprintf(sock, len, "%s/wdd.sock", dir);
	pid = fork();
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		execlp(bin, bin, "-f", "-s", sock, "-t", "2", "-p", "4096", (char *)NULL);
		_exit(127);
	}
	for (i = 0; pid > 0 && i < 500 && stat(sock, &st); i++)
		usleep(10000);
	setenv("WD_WDD_SOCKET", sock, 1);
	return pid;
}

static struct wd_queue *open_queue(struct wd_ctx *ctx, const char *dev, const char *alg,
				   unsigned flags)
{
	struct wd_queue_opts o = { .size = sizeof(o), .depth = 64, .device = dev, .flags = flags };
	struct wd_queue *q;

	return wd_queue_new(&q, ctx, alg, &o) ? NULL : q;
}

static double rtt_ns(struct wd_queue *q, int iters)
{
	struct wd_req r;
	struct wd_cpl c;
	double t0;
	int i, n;

	wd_prep_nop(&r, 0);
	t0 = bench_now();
	for (i = 0; i < iters; i++) {
		if (wd_send(q, &r, 1) != 1)
			return -1;
		while ((n = wd_recv(q, &c, 1)) == 0)
			bench_relax();
		if (n < 0 || c.status)
			return -1;
	}
	return (bench_now() - t0) / iters * 1e9;
}

/* ---- the conventional design: data through a socket to a server thread ---- */

struct rpc {
	int fd;
	size_t req, cap;
};

/* gzip level 1 with ISA-L, as the engine does it; returns the output size. */
static uint32_t isal_gzip1(const unsigned char *in, uint32_t len, unsigned char *out, size_t cap,
			   unsigned char *lvl)
{
	struct isal_zstream z;

	return bench_isal_gzip1(&z, lvl, in, len, out, (uint32_t)cap);
}

/* The same requests, compressed right here: nothing but the compression. */
static double direct_mbps(const unsigned char *in, size_t req, size_t cap)
{
	unsigned char *out = malloc(cap), *lvl = malloc(ISAL_DEF_LVL1_DEFAULT);
	size_t i, nreq = TOTAL / req;
	double t0 = bench_now(), t;

	for (i = 0; out && lvl && i < nreq; i++)
		if (!isal_gzip1(in + i * req, (uint32_t)req, out, cap, lvl))
			break;
	t = bench_now() - t0;
	free(out);
	free(lvl);
	return i == nreq ? (double)TOTAL / t / 1e6 : -1;
}

static void *rpc_server(void *arg)
{
	struct rpc *r = arg;
	unsigned char *in = malloc(r->req), *out = malloc(r->cap), *lvl = malloc(ISAL_DEF_LVL1_DEFAULT);
	uint32_t len;

	while (in && out && lvl && !bench_read_full(r->fd, &len, 4) && len &&
	       !bench_read_full(r->fd, in, len)) {
		len = isal_gzip1(in, len, out, r->cap, lvl);
		if (bench_write_full(r->fd, &len, 4) || bench_write_full(r->fd, out, len))
			break;
	}
	free(in);
	free(out);
	free(lvl);
	return NULL;
}

static double rpc_mbps(const unsigned char *in, size_t req, size_t cap)
{
	struct rpc srv = { .req = req, .cap = cap };
	unsigned char *out = malloc(cap);
	uint32_t len, zero = 0;
	size_t i, nreq = TOTAL / req;
	pthread_t th;
	double t0, t;
	int fds[2];

	if (!out || socketpair(AF_UNIX, SOCK_STREAM, 0, fds))
		return -1;
	srv.fd = fds[1];
	pthread_create(&th, NULL, rpc_server, &srv);
	t0 = bench_now();
	for (i = 0; i < nreq; i++) {
		len = (uint32_t)req;
		if (bench_write_full(fds[0], &len, 4) || bench_write_full(fds[0], in + i * req, req) ||
		    bench_read_full(fds[0], &len, 4) || len > cap || bench_read_full(fds[0], out, len))
			break;
	}
	t = bench_now() - t0;
	bench_write_full(fds[0], &zero, 4);
	pthread_join(th, NULL);
	close(fds[0]);
	close(fds[1]);
	free(out);
	return i == nreq ? (double)TOTAL / t / 1e6 : -1;
}

/* ---- scaling ---- */

/* One client process: set up, say so on ready, wait for go, then work. */
static int client_run(const unsigned char *src, size_t req, size_t cap, int ready, int go)
{
	struct wd_ctx *ctx;
	struct wd_queue *q;
	unsigned char *in, *out;
	uint64_t iin, iout;
	int ret = 1;

	if (wd_ctx_new(&ctx, NULL))
		return 1;
	q = open_queue(ctx, "wdd0", "gzip", WD_QUEUE_F_EXPLICIT);
	in = wd_mem_alloc(TOTAL);
	out = wd_mem_alloc(INFLIGHT * cap);
	if (q && in && out) {
		memcpy(in, src, TOTAL);
		char c = 'r';

		if (!wd_share(wd_queue_domain(q), in, TOTAL, WD_SHARE_READONLY, &iin) &&
		    !wd_share(wd_queue_domain(q), out, INFLIGHT * cap, 0, &iout) &&
		    write(ready, &c, 1) == 1 && read(go, &c, 1) == 1)
			ret = bench_comp_mbps(q, iin, iout, TOTAL, req, cap, INFLIGHT) < 0;
	}
	wd_queue_free(q);
	wd_ctx_free(ctx);
	return ret;
}

/* Aggregate MB/s of n client processes started together. */
static double scale_mbps(int n, const unsigned char *src, size_t req, size_t cap)
{
	int go[2], ready[2], i, status, bad = 0;
	pid_t kids[8];
	double t0;
	char c = 'g';

	if (pipe(go) || pipe(ready))
		return -1;
	for (i = 0; i < n; i++) {
		kids[i] = fork();
		if (kids[i] == 0) {
			close(go[1]);
			close(ready[0]);
			_exit(client_run(src, req, cap, ready[1], go[0]));
		}
	}
	close(go[0]);
	close(ready[1]);
	/* time only the work: every client has connected and shared by now */
	for (i = 0; i < n; i++)
		if (read(ready[0], &c, 1) != 1)
			bad = 1;
	close(ready[0]);
	c = 'g';
	t0 = bench_now();
	for (i = 0; i < n; i++)
		if (write(go[1], &c, 1) != 1)
			bad = 1;
	close(go[1]);
	for (i = 0; i < n; i++) {
		waitpid(kids[i], &status, 0);
		bad |= !WIFEXITED(status) || WEXITSTATUS(status);
	}
	return bad ? -1 : (double)n * TOTAL / (bench_now() - t0) / 1e6;
}

static const char *wdd_binary(char *buf, size_t len, const char *opt)
{
	char self[PATH_MAX];
	ssize_t n;

	if (opt)
		return opt;
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n > 0) {
		self[n] = 0;
		snprintf(buf, len, "%s/wdd", dirname(self));
		if (!access(buf, X_OK))
			return buf;
	}
	return "wdd"; /* from PATH */
}

int wd_bench_wdd(int argc, char **argv)
{
	static const size_t reqs[] = { 64 << 10, 1 << 20 };
	const char *bin_opt = NULL, *jpath = NULL;
	char bin[PATH_MAX], sock[128];
	size_t cap = wd_comp_bound(1 << 20), i;
	unsigned char *src, *mem_in, *mem_out, *sva_out;
	struct wd_queue *qe, *qw, *qn, *qx, *qs, *qz, *qm;
	struct wd_ctx *ctx;
	uint64_t iin, iout, min, mout, seed = 11;
	double rt[3][REPS], mb[6][REPS], m[6], sx[REPS], re, rw, rn, sc[3], sva;
	FILE *jf = NULL;
	pid_t daemon;
	int opt, r, k, iters = 50000;

	while ((opt = getopt(argc, argv, "w:j:n:h")) != -1) {
		if (opt == 'w') {
			bin_opt = optarg;
		} else if (opt == 'j') {
			jpath = optarg;
		} else if (opt == 'n') {
			iters = atoi(optarg) > 100 ? atoi(optarg) : 100;
		} else {
			fprintf(opt == 'h' ? stdout : stderr,
				"usage: wd bench wdd [-w WDD] [-n ITERS] [-j FILE]\n"
				"  starts a private wdd (default: the one beside wd, else PATH)\n");
			return opt == 'h' ? 0 : 2;
		}
	}
	daemon = start_daemon(wdd_binary(bin, sizeof(bin), bin_opt), sock, sizeof(sock));
	if (daemon <= 0)
		return wd_cli_fail("cannot start wdd", -ECHILD);
	src = malloc(TOTAL);
	mem_in = wd_mem_alloc(TOTAL);
	mem_out = wd_mem_alloc(INFLIGHT * cap);
	sva_out = malloc(INFLIGHT * cap);
	if (!src || !mem_in || !mem_out || !sva_out)
		return wd_cli_fail("buffers", -ENOMEM);
	for (i = 0; i < TOTAL; i++) {
		seed = seed * 6364136223846793005ull + 1442695040888963407ull;
		src[i] = (seed >> 60) < 12 ? (unsigned char)"warp drive q"[seed >> 60]
					  : (unsigned char)(seed >> 33);
	}
	memcpy(mem_in, src, TOTAL);
	if (wd_ctx_new(&ctx, NULL) || !wd_dev_by_name(ctx, "wdd0"))
		return wd_cli_fail("no wdd0 device", -ENODEV);
	qe = open_queue(ctx, "soft0", "nop", 0);
	qw = open_queue(ctx, "wdd0", "nop", 0);
	/* the fallback's cost: its private copies and tag checks */
	qn = open_queue(ctx, "wdd0", "nop", WD_QUEUE_F_NO_FALLBACK);
	qz = open_queue(ctx, "soft0", "gzip", 0);
	qs = open_queue(ctx, "wdd0", "gzip", 0);
	qx = open_queue(ctx, "wdd0", "gzip", WD_QUEUE_F_EXPLICIT);
	/* the same memfd memory, embedded: tells the memory's cost from the daemon's */
	qm = open_queue(ctx, "soft0", "gzip", WD_QUEUE_F_EXPLICIT);
	if (qm) /* beyond RLIMIT_MEMLOCK, as the daemon's -p allows its side */
		wd_domain_set_pin_limit(wd_queue_domain(qm), 4096ull << 20);
	if (!qe || !qw || !qn || !qz || !qs || !qx || !qm ||
	    wd_share(wd_queue_domain(qx), mem_in, TOTAL, WD_SHARE_READONLY, &iin) ||
	    wd_share(wd_queue_domain(qx), mem_out, INFLIGHT * cap, 0, &iout) ||
	    wd_share(wd_queue_domain(qm), mem_in, TOTAL, WD_SHARE_READONLY, &min) ||
	    wd_share(wd_queue_domain(qm), mem_out, INFLIGHT * cap, 0, &mout))
		return wd_cli_fail("queues on soft0 and wdd0", -EIO);

	for (r = 0; r < REPS; r++) {
		rt[0][r] = rtt_ns(qe, iters);
		rt[1][r] = rtt_ns(qw, iters);
		rt[2][r] = rtt_ns(qn, iters);
	}
	re = bench_median(rt[0], REPS);
	rw = bench_median(rt[1], REPS);
	rn = bench_median(rt[2], REPS);
	printf("\nwd bench wdd: the daemon vs the embedded engine, median of %d runs\n\n", REPS);
	printf("no-op round trip (polling)\n");
	printf("  %-30s %9.3f us\n", "embedded (soft0)", re / 1e3);
	printf("  %-30s %9.3f us  %6.2fx embedded   target < 2 us: %s\n", "daemon (wdd0)",
	       rw / 1e3, rw / re, rw < 2000 ? "met" : "MISSED");
	printf("  %-30s %9.3f us  (the fallback's copies and checks: %+.0f ns)\n\n",
	       "daemon, WD_QUEUE_F_NO_FALLBACK", rn / 1e3, rw - rn);
	if (jpath)
		jf = fopen(jpath, "w");
	if (jf)
		fprintf(jf, "{\"bench\": \"wdd\", \"rtt_embedded_ns\": %.1f, \"rtt_wdd_ns\": %.1f, "
			"\"rtt_wdd_no_fallback_ns\": %.1f", re, rw, rn);

	printf("gzip level 1, %u MiB in one-shot requests, %d in flight\n", TOTAL >> 20, INFLIGHT);
	printf("  %8s %9s %9s %9s %9s %9s %9s %9s %9s %9s %9s\n", "request", "embedded", "wdd expl",
	       "wdd SVA", "sock RPC", "emb memfd", "direct", "expl/emb", "expl/RPC", "bound",
	       "SVA/expl");
	for (k = 0; k < 2; k++) {
		size_t req = reqs[k];

		for (r = 0; r < REPS; r++) {
			mb[0][r] = bench_comp_mbps(qz, (uintptr_t)src, (uintptr_t)sva_out, TOTAL, req, cap,
						   INFLIGHT);
			mb[1][r] = bench_comp_mbps(qx, iin, iout, TOTAL, req, cap, INFLIGHT);
			mb[2][r] = bench_comp_mbps(qs, (uintptr_t)src, (uintptr_t)sva_out, TOTAL, req, cap,
						   INFLIGHT);
			mb[3][r] = rpc_mbps(src, req, cap);
			mb[4][r] = bench_comp_mbps(qm, min, mout, TOTAL, req, cap, INFLIGHT);
			mb[5][r] = direct_mbps(src, req, cap);
			sx[r] = mb[2][r] / mb[1][r]; /* SVA and explicit, one after the other */
		}
		for (i = 0; i < 6; i++)
			m[i] = bench_median(mb[i], REPS);
		sva = bench_median(sx, REPS);
		printf("  %6zuKiB %9.1f %9.1f %9.1f %9.1f %9.1f %9.1f %8.2fx %8.2fx %8.2fx %8.2fx\n",
		       req >> 10, m[0], m[1], m[2], m[3], m[4], m[5], m[1] / m[0], m[1] / m[3],
		       m[5] / m[3], sva);
		if (jf)
			fprintf(jf, ", \"comp_%zuk\": {\"embedded\": %.1f, \"wdd_explicit\": %.1f, "
				"\"wdd_sva\": %.1f, \"socket_rpc\": %.1f, \"embedded_memfd\": %.1f, "
				"\"isal_direct\": %.1f, \"sva_over_explicit\": %.3f}",
				req >> 10, m[0], m[1], m[2], m[3], m[4], m[5], sva);
	}
	printf("  MB/s of input; bound = direct/RPC, the most any one-core design can gain\n"
	       "  over RPC; emb memfd = the embedded engine on wdd's shared memory;\n"
	       "  SVA/expl = median of the runs' ratios (each pair run back to back)\n"
	       "  targets: wdd >= 0.90x embedded, >= 3x socket RPC (64 KiB), SVA >= 0.90x expl\n\n");

	printf("scaling: client processes compressing 64 KiB requests through wdd at once\n");
	for (k = 0; k < 3; k++) {
		sc[k] = scale_mbps(1 << k, src, 64 << 10, cap);
		printf("  %d client%s %10.1f MB/s  %6.2fx one client\n", 1 << k, k ? "s" : " ", sc[k],
		       sc[k] / sc[0]);
	}
	printf("  (%ld CPUs here; the daemon runs 2 engine threads)\n\n",
	       sysconf(_SC_NPROCESSORS_ONLN));
	if (jf) {
		fprintf(jf, ", \"scaling_mbps\": [%.1f, %.1f, %.1f]}\n", sc[0], sc[1], sc[2]);
		fclose(jf);
	}
	wd_queue_free(qe);
	wd_queue_free(qw);
	wd_queue_free(qn);
	wd_queue_free(qz);
	wd_queue_free(qs);
	wd_queue_free(qx);
	wd_ctx_free(ctx);
	kill(daemon, SIGTERM);
	waitpid(daemon, NULL, 0);
	unlink(sock);
	*strrchr(sock, '/') = 0;
	rmdir(sock);
	wd_mem_free(mem_in, TOTAL);
	wd_mem_free(mem_out, INFLIGHT * cap);
	free(src);
	free(sva_out);
	return 0;
}
