/* SPDX-License-Identifier: MIT */
/*
 * wd run [--stats] [--off] -- COMMAND [ARGS]: run a program with the zlib
 * layer (libwd-zlib) preloaded, so that its zlib calls go to WarpDrive
 * queues.  --stats sums, at the end, what every process of the command
 * reported (each appends one line to a private file).
 */
#include <errno.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "wd_cli.h"

#ifndef WD_ZLIB_BUILD_PATH
#define WD_ZLIB_BUILD_PATH ""
#endif
#ifndef WD_ZLIB_INSTALL_PATH
#define WD_ZLIB_INSTALL_PATH ""
#endif
#ifndef WD_LIBDIR_REL
#define WD_LIBDIR_REL "lib"
#endif

/* The layer: $WD_ZLIB_LIB, else beside this wd (installed tree: bin/ ->
 * lib/), else the build tree it was built in, else the install prefix. */
int wd_cli_find_layer(char *out, size_t len)
{
	const char *env = getenv("WD_ZLIB_LIB");
	char exe[PATH_MAX];
	ssize_t n;

	if (env && *env) {
		snprintf(out, len, "%s", env);
		return access(out, R_OK) ? -errno : 0;
	}
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		exe[n] = 0;
		snprintf(out, len, "%s/../%s/libwd-zlib.so.0", dirname(exe), WD_LIBDIR_REL);
		if (!access(out, R_OK))
			return 0;
	}
	snprintf(out, len, "%s", WD_ZLIB_BUILD_PATH);
	if (*out && !access(out, R_OK))
		return 0;
	snprintf(out, len, "%s", WD_ZLIB_INSTALL_PATH);
	return *out && !access(out, R_OK) ? 0 : -ENOENT;
}

static const char *const sum_keys[] = {
	"deflate.wd", "deflate.zlib", "inflate.wd", "inflate.zlib",
	"in.wd", "out.wd", "in.zlib", "out.zlib",
};
#define N_SUM (sizeof(sum_keys) / sizeof(sum_keys[0]))

struct why_sum {
	char name[32];
	unsigned long long n;
};

static void add_why(struct why_sum *w, unsigned *nw, const char *name, size_t nlen,
		    unsigned long long v)
{
	unsigned i;

	for (i = 0; i < *nw; i++)
		if (strlen(w[i].name) == nlen && !strncmp(w[i].name, name, nlen)) {
			w[i].n += v;
			return;
		}
	if (*nw < 32 && nlen < sizeof(w[0].name)) {
		memcpy(w[*nw].name, name, nlen);
		w[*nw].name[nlen] = 0;
		w[(*nw)++].n = v;
	}
}

static void print_summary(FILE *f)
{
	unsigned long long sum[N_SUM] = { 0 }, v;
	struct why_sum why[32];
	unsigned nw = 0, procs = 0, i;
	char line[2048], *tok, *save, *eq;

	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, "wd-zlib:", 8))
			continue;
		procs++;
		for (tok = strtok_r(line + 8, " \n", &save); tok; tok = strtok_r(NULL, " \n", &save)) {
			eq = strchr(tok, '=');
			if (!eq)
				continue;
			v = strtoull(eq + 1, NULL, 10);
			for (i = 0; i < N_SUM; i++)
				if ((size_t)(eq - tok) == strlen(sum_keys[i]) &&
				    !strncmp(tok, sum_keys[i], (size_t)(eq - tok)))
					sum[i] += v;
			if (!strncmp(tok, "why.", 4) || !strncmp(tok, "dict_unused", 11) ||
			    !strncmp(tok, "fork_lost", 9))
				add_why(why, &nw, tok, (size_t)(eq - tok), v);
		}
	}
	fprintf(stderr, "wd run: %u process%s used zlib\n", procs, procs == 1 ? "" : "es");
	fprintf(stderr, "  deflate  %llu on WarpDrive, %llu on zlib\n", sum[0], sum[1]);
	fprintf(stderr, "  inflate  %llu on WarpDrive, %llu on zlib\n", sum[2], sum[3]);
	fprintf(stderr, "  bytes    WarpDrive %llu in, %llu out; zlib %llu in, %llu out\n",
		sum[4], sum[5], sum[6], sum[7]);
	for (i = 0; i < nw; i++)
		fprintf(stderr, "  %-20s %llu\n", why[i].name, why[i].n);
}

static void usage(FILE *f)
{
	fprintf(f, "usage: wd run [--stats] [--off] [--] COMMAND [ARGS...]\n"
		   "  run COMMAND with its zlib calls on WarpDrive (libwd-zlib(7))\n"
		   "  --stats  at the end, print what went to WarpDrive and what to zlib, and why\n"
		   "  --off    preload the layer but send everything to zlib (WD_ZLIB=0)\n"
		   "  the device is soft0, or wd -D NAME run ... / WD_DEVICE=NAME\n");
}

static int run_child(char **argv, const char *stats_path)
{
	int status;
	pid_t pid = fork();

	if (pid < 0)
		return wd_cli_fail("fork", -errno);
	if (!pid) {
		execvp(argv[0], argv);
		fprintf(stderr, "wd run: %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return wd_cli_fail("waitpid", -errno);
	if (stats_path) {
		FILE *f = fopen(stats_path, "r");

		if (f) {
			print_summary(f);
			fclose(f);
		} else {
			fprintf(stderr, "wd run: no process of the command used zlib\n");
		}
	}
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}

int wd_cmd_run(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "stats", no_argument, NULL, 's' },
		{ "off", no_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char lib[PATH_MAX], preload[2 * PATH_MAX + 2], stats[] = "/tmp/wd-run-stats.XXXXXX";
	const char *old;
	int c, want_stats = 0, fd, ret;

	while ((c = getopt_long(argc, argv, "+soh", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			want_stats = 1;
			break;
		case 'o':
			setenv("WD_ZLIB", "0", 1);
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return 2;
	}
	if (wd_cli_find_layer(lib, sizeof(lib))) {
		fprintf(stderr, "wd run: libwd-zlib.so not found (set WD_ZLIB_LIB)\n");
		return 1;
	}
	old = getenv("LD_PRELOAD");
	snprintf(preload, sizeof(preload), "%s%s%s", lib, old && *old ? " " : "",
		 old ? old : "");
	setenv("LD_PRELOAD", preload, 1);
	if (!want_stats) {
		execvp(argv[optind], argv + optind);
		fprintf(stderr, "wd run: %s: %s\n", argv[optind], strerror(errno));
		return 127;
	}
	fd = mkstemp(stats);
	if (fd < 0)
		return wd_cli_fail("mkstemp", -errno);
	close(fd);
	setenv("WD_ZLIB_STATS", stats, 1);
	ret = run_child(argv + optind, stats);
	unlink(stats);
	return ret;
}
