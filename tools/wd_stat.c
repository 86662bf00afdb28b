/* SPDX-License-Identifier: MIT */
/* wd stat: what the wdd daemon is serving. */
#include <stdio.h>
#include <wd/wd.h>

#include "../src/daemon/proto.h"
#include "wd_cli.h"

int wd_cmd_stat(int argc, char **argv)
{
	struct wdd_stats_rep st;
	struct wd_ctx *ctx;
	int ret;

	if (argc > 1) {
		printf("usage: wd stat\n  counters of the wdd daemon (see wdd(8)): clients, queues,\n"
		       "  shared bytes, requests served and failed\n");
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
		       (unsigned long long)q->requests, (unsigned long long)q->bytes,
		       (unsigned long long)q->errors,
		       q->requests ? (double)q->busy_ns / (double)q->requests / 1e3 : 0.0);
	}
	return 0;
}
