/* SPDX-License-Identifier: MIT */
/* wd stat: what the wdd daemon is serving; and what the wd commands' own
 * queues handed to the built-in engine. */
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <wd/wd.h>

#include "../src/daemon/proto.h"
#include "wd_cli.h"

/* The fallback counters of struct wd_queue_stats, and why each happens. */
static const struct {
	size_t off;
	const char *name, *why;
} fallbacks[] = {
	{ offsetof(struct wdd_stats_wire, sync_ring_busy), "sync-ring-busy",
	  "synchronous request sent through the ring: the engine held the queue" },
	{ offsetof(struct wdd_stats_wire, sync_ring_nomem), "sync-ring-nomem",
	  "synchronous request sent through the ring: no per-thread state" },
	{ offsetof(struct wdd_stats_wire, deflate_stored), "deflate-stored",
	  "libdeflate's output did not fit dst: stored blocks written" },
};

static uint64_t field(const struct wdd_stats_wire *st, size_t off)
{
	uint64_t v;

	memcpy(&v, (const char *)st + off, sizeof(v));
	return v;
}

int wd_cmd_stat(int argc, char **argv)
{
	struct wdd_stats_rep st;
	struct wd_ctx *ctx;
	int ret;

	if (argc > 1) {
		printf("usage: wd stat\n  counters of the wdd daemon (see wdd(8)): clients, queues,\n"
		       "  shared bytes, requests served and failed, and fallbacks by reason\n");
		return argv[1][0] == '-' && argv[1][1] == 'h' ? 0 : 2;
	}
	ret = wd_ctx_new(&ctx, NULL);
	if (ret)
		return wd_cli_fail("context", ret);
	ret = wd__wdd_stats(ctx, &st);
	wd_ctx_free(ctx);
	if (ret)
		return wd_cli_fail("no wdd daemon answers (WD_WDD_SOCKET?)", ret);
	/* our own connection is one of the clients */
	printf("clients   %u\nqueues    %u\npinned    %llu bytes\nrequests  %llu\nerrors    %llu\n",
	       st.clients, st.queues, (unsigned long long)st.pinned,
	       (unsigned long long)st.requests, (unsigned long long)st.errors);
	if (st.nq > WDD_STATS_MAX)
		st.nq = WDD_STATS_MAX;
	if (st.nq)
		printf("\n%6s %7s %7s %6s %-10s %12s %14s %8s %12s\n", "CLIENT", "UID", "PID", "QUEUE",
		       "ALG", "REQUESTS", "BYTES", "ERRORS", "AVG SERVICE");
	for (unsigned i = 0; i < st.nq; i++) {
		const struct wdd_queue_stats *q = &st.q[i];

		printf("%6u %7u %7u %6u %-10.16s %12llu %14llu %8llu %9.2f us\n", q->client, q->uid,
		       q->pid, q->queue, q->alg,
		       (unsigned long long)q->st.requests, (unsigned long long)q->st.bytes,
		       (unsigned long long)q->st.errors,
		       q->st.requests ? (double)q->st.busy_ns / (double)q->st.requests / 1e3 : 0.0);
	}
	/* nothing falls back silently: every queue that did, by reason */
	for (unsigned i = 0, hdr = 0; i < st.nq; i++)
		for (size_t k = 0; k < sizeof(fallbacks) / sizeof(fallbacks[0]); k++) {
			uint64_t v = field(&st.q[i].st, fallbacks[k].off);

			if (!v)
				continue;
			if (!hdr++)
				printf("\n%6s %6s %-22s %12s  %s\n", "CLIENT", "QUEUE", "FALLBACK",
				       "REQUESTS", "WHY");
			printf("%6u %6u %-22s %12llu  %s\n", st.q[i].client, st.q[i].queue,
			       fallbacks[k].name, (unsigned long long)v, fallbacks[k].why);
		}
	return 0;
}

/*
 * The daemon runs only the built-in engine: its queues have nothing to fall
 * back to.  A queue of this process does, when its device (a daemon, a
 * VFIO function) fails or refuses requests: say so, nothing is silent.
 */
void wd_cli_queue_report(struct wd_queue *q)
{
	struct wd_queue_stats st = { .size = sizeof(st) };
	struct wd_queue_info qi = { .size = sizeof(qi) };

	if (wd_queue_stats(q, &st) || wd_queue_info(q, &qi) || st.size < sizeof(st) ||
	    !(st.soft_after_failure + st.soft_after_refusal + st.lost_in_failure))
		return;
	fprintf(stderr, "wd: %s queue on %s: ", qi.alg, qi.device);
	if (st.device_failures)
		fprintf(stderr, "the device failed; %llu requests completed by the built-in "
			"engine instead, %llu could not be run again",
			(unsigned long long)st.soft_after_failure,
			(unsigned long long)st.lost_in_failure);
	if (st.device_failures && st.soft_after_refusal)
		fprintf(stderr, "; ");
	if (st.soft_after_refusal)
		fprintf(stderr, "%llu requests the device refused completed by the built-in engine",
			(unsigned long long)st.soft_after_refusal);
	fprintf(stderr, "\n");
}
