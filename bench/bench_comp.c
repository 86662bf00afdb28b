/* SPDX-License-Identifier: MIT */
/* wd bench comp: being written. */
#include <stdio.h>

#include "../tools/wd_cli.h"

int wd_bench_comp(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "wd bench comp: not built yet\n");
	return 1;
}
