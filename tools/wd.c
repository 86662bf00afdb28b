/* SPDX-License-Identifier: MIT */
/* wd: the WarpDrive command-line tool. */
#include <dirent.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wd/wd.h>

#include "wd_cli.h"

static const struct {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *help;
} cmds[] = {
	{ "devices", wd_cmd_devices, "list devices, their queues and algorithms" },
	{ "demo", wd_cmd_demo, "move, fill, compare and checksum a buffer through a queue" },
	{ "gzip", wd_cmd_gzip, "gzip-compatible compression through queues (wd gzip -h)" },
	{ "gunzip", wd_cmd_gzip, "the same as 'wd gzip -d'" },
	{ "stat", wd_cmd_stat, "counters of the wdd daemon" },
	{ "run", wd_cmd_run, "run a program with its zlib calls on WarpDrive (wd run -h)" },
	{ "bench", wd_cmd_bench, "benchmarks: wd bench comp | ring | mem | wdd | crypto | sync | zlib | provider" },
};

static void usage(FILE *f)
{
	unsigned i;

	fprintf(f, "usage: wd [-h|--help] [-V|--version] [-D|--device NAME] COMMAND [ARGS]\n"
		   "  --device NAME  run queues on NAME (e.g. wdd0, the daemon; same as\n"
		   "                 WD_DEVICE=NAME)\n\ncommands:\n");
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		fprintf(f, "  %-10s %s\n", cmds[i].name, cmds[i].help);
	fprintf(f, "  %-10s %s\n", "version", "print the library version");
	fprintf(f, "\n'wd COMMAND --help' describes a command; man wd(1) has the details.\n");
}

int wd_cli_fail(const char *what, int err)
{
	fprintf(stderr, "wd: %s: %s\n", what, wd_strerror(err));
	return 1;
}

const char *wd_cli_corpus_dir(void)
{
	static const char *const dirs[] = WD_CLI_CORPUS_DIRS;
	unsigned i;
	DIR *d;

	for (i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		d = opendir(dirs[i]);
		if (d) {
			closedir(d);
			return dirs[i];
		}
	}
	return NULL;
}

/* Asked for by name, a device must be there: no silent fallback. */
static int device_exists(const char *name)
{
	struct wd_ctx *ctx;
	int found;

	if (wd_ctx_new(&ctx, NULL))
		return 0;
	found = wd_dev_by_name(ctx, name) != NULL;
	wd_ctx_free(ctx);
	return found;
}

int main(int argc, char **argv)
{
	const char *base = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];
	unsigned i;

	/* installed as wdzip / wdunzip, the tool is gzip / gunzip */
	if (!strcmp(base, "wdzip") || !strcmp(base, "wdunzip")) {
		argv[0] = (char *)base;
		return wd_cmd_gzip(argc, argv);
	}
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	/* --device NAME / -D NAME: the device every queue of this run goes to */
	while (argc >= 3 && (!strcmp(argv[1], "--device") || !strcmp(argv[1], "-D"))) {
		/* "wdd" is short for the daemon's device */
		setenv("WD_DEVICE", strcmp(argv[2], "wdd") ? argv[2] : "wdd0", 1);
		argv += 2;
		argc -= 2;
		if (!device_exists(getenv("WD_DEVICE"))) {
			fprintf(stderr, "wd: no device %s (is the daemon running? WD_WDD_SOCKET?)\n",
				getenv("WD_DEVICE"));
			return 1;
		}
	}
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "-V") || !strcmp(argv[1], "--version") ||
	    !strcmp(argv[1], "version")) {
		printf("wd %s (libwd %s)\n", WD_VERSION_STRING, wd_version());
		return 0;
	}
	/* every sub-command takes --help as well as -h */
	for (i = 2; i < (unsigned)argc; i++)
		if (!strcmp(argv[i], "--help"))
			argv[i] = (char *)"-h";
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (!strcmp(argv[1], cmds[i].name)) {
			optind = 1;
			return cmds[i].fn(argc - 1, argv + 1);
		}
	fprintf(stderr, "wd: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return 2;
}
