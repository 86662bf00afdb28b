/* SPDX-License-Identifier: MIT */
/* wd devices: what accelerators this process can reach. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <wd/wd.h>

#include "wd_cli.h"

static void format_flags(uint32_t flags, char *buf, size_t len)
{
	snprintf(buf, len, "%s%s%s", flags & WD_DEV_F_SVA ? "sva," : "",
		 flags & WD_DEV_F_EXPLICIT ? "explicit," : "", flags & WD_DEV_F_SOFT ? "soft," : "");
	if (*buf)
		buf[strlen(buf) - 1] = 0;
}

int wd_cmd_devices(int argc, char **argv)
{
	struct wd_ctx *ctx;
	int opt, verbose = 0, n, i, ret;

	while ((opt = getopt(argc, argv, "vh")) != -1) {
		if (opt == 'v') {
			verbose = 1;
		} else {
			fprintf(opt == 'h' ? stdout : stderr,
				"usage: wd devices [-v]\n"
				"  list devices: name, driver, flags, engines, free/max queues,\n"
				"  max queue depth, algorithms; -v adds throughput/latency hints\n");
			return opt == 'h' ? 0 : 2;
		}
	}
	ret = wd_ctx_new(&ctx, NULL);
	if (ret)
		return wd_cli_fail("cannot open a context", ret);
	n = wd_dev_count(ctx);
	printf("%-8s %-6s %-14s %7s %11s %6s  %s\n", "DEVICE", "DRIVER", "FLAGS", "ENGINES",
	       "QUEUES", "DEPTH", "ALGORITHMS");
	for (i = 0; i < n; i++) {
		struct wd_dev *dev = wd_dev_get(ctx, (unsigned)i);
		struct wd_dev_info info = { .size = sizeof(info) };
		const char *alg;
		char queues[32], flags[64];
		unsigned a;

		if (wd_dev_info(dev, &info))
			continue;
		format_flags(info.flags, flags, sizeof(flags));
		snprintf(queues, sizeof(queues), "%u/%u", info.avail_queues, info.max_queues);
		printf("%-8s %-6s %-14s %7u %11s %6u  ", info.name, info.driver, flags, info.engines,
		       queues, info.max_depth);
		for (a = 0; (alg = wd_dev_alg(dev, a)); a++)
			printf("%s%s", a ? " " : "", alg);
		printf("\n");
		if (verbose)
			printf("         hints: %u MB/s per engine, %u ns no-op round trip\n",
			       info.throughput_mbps, info.latency_ns);
	}
	wd_ctx_free(ctx);
	return 0;
}
