/* SPDX-License-Identifier: MIT */
/* wdd: the WarpDrive daemon (see wdd(8)). */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <wd/wd.h>

#include "../src/daemon/proto.h"
#include "../src/daemon/server.h"

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

/* $XDG_RUNTIME_DIR/wdd.sock for a user, /run/wdd.sock for root. */
static const char *default_socket(char *buf, size_t len)
{
	const char *env = getenv("WD_WDD_SOCKET"), *xdg = getenv("XDG_RUNTIME_DIR");

	if (env && *env)
		return env;
	if (getuid() != 0 && xdg && *xdg) {
		snprintf(buf, len, "%s/%s", xdg, WDD_SOCKET_NAME);
		return buf;
	}
	return "/run/" WDD_SOCKET_NAME;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: wdd [-f] [-s PATH] [-t THREADS] [-m MODE] [-u USER]... [-q N] [-p MIB]\n"
		"           [-c N] [-Q N] [-P MIB] [-C N] [-n N] [-N N] [-S MIB] [-D MS]\n"
		"           [-R MIB] [-E]\n"
		"  -f, --foreground   stay in the foreground (the only mode: run it under\n"
		"                     systemd or with & for a background daemon)\n"
		"  -s, --socket PATH  listen here (default $WD_WDD_SOCKET, else\n"
		"                     $XDG_RUNTIME_DIR/wdd.sock for users, /run/wdd.sock for root)\n"
		"  -t, --threads N    engine threads (default: online CPUs)\n"
		"  -m, --mode MODE    socket permissions, octal (default 0660)\n"
		"  -u, --allow USER   only this user (name or uid) may connect; repeatable\n"
		"  -q, --queues N     queues per client (default 64)\n"
		"  -p, --pinned MIB   shared memory per client (default 1024)\n"
		"  -c, --clients N    clients at once (default 256)\n"
		"  -Q, --user-queues N   queues per user, all its clients together (default 256)\n"
		"  -P, --user-pinned MIB shared memory per user (default 4096)\n"
		"  -C, --user-clients N  clients per user at once (default 64)\n"
		"  -n, --shares N     shared ranges per client (default 256)\n"
		"  -N, --user-shares N   shared ranges per user (default 1024)\n"
		"  -S, --user-state MIB  engine memory for stream state per user (default 256)\n"
		"  -D, --nop-delay-max MS longest no-op delay a client may ask for (default 1)\n"
		"  -R, --max-request MIB  largest buffer of one request (default 64)\n"
		"  -E, --explicit-only    refuse SVA queues (see BUGS in wdd(8))\n"
		"A socket passed by systemd (LISTEN_FDS) is used instead of -s.\n");
}

static int parse_uid(const char *s, uid_t *uid)
{
	struct passwd *pw = getpwnam(s);
	char *end;
	unsigned long v;

	if (pw) {
		*uid = pw->pw_uid;
		return 0;
	}
	v = strtoul(s, &end, 10);
	if (*s && !*end) {
		*uid = (uid_t)v;
		return 0;
	}
	return -1;
}

/* A whole decimal number in [min, max]; -1 otherwise. */
static int parse_count(const char *s, unsigned long long min, unsigned long long max,
		       unsigned long long *out)
{
	char *end;

	errno = 0;
	*out = strtoull(s, &end, 10);
	if (!*s || *end || errno || *s == '-' || *out < min || *out > max)
		return -1;
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "foreground", no_argument, NULL, 'f' },
		{ "socket", required_argument, NULL, 's' },
		{ "threads", required_argument, NULL, 't' },
		{ "mode", required_argument, NULL, 'm' },
		{ "allow", required_argument, NULL, 'u' },
		{ "queues", required_argument, NULL, 'q' },
		{ "pinned", required_argument, NULL, 'p' },
		{ "clients", required_argument, NULL, 'c' },
		{ "user-queues", required_argument, NULL, 'Q' },
		{ "user-pinned", required_argument, NULL, 'P' },
		{ "user-clients", required_argument, NULL, 'C' },
		{ "shares", required_argument, NULL, 'n' },
		{ "user-shares", required_argument, NULL, 'N' },
		{ "user-state", required_argument, NULL, 'S' },
		{ "nop-delay-max", required_argument, NULL, 'D' },
		{ "max-request", required_argument, NULL, 'R' },
		{ "explicit-only", no_argument, NULL, 'E' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct wdd_config cfg = {
		.listen_fd = -1, .max_clients = 256, .max_queues = 64,
		.max_pinned = 1024ull << 20, .socket_mode = 0660,
		.user_clients = 32, .user_queues = 128, .user_pinned = 4096ull << 20,
		.max_shares = 256, .user_shares = 1024, .user_state = 256ull << 20,
		.nop_delay_max_ns = 1000000, .max_request = 64ull << 20,
	};
	char path[PATH_MAX];
	const char *lfds = getenv("LISTEN_FDS"), *lpid = getenv("LISTEN_PID");
	struct sigaction sa = { .sa_handler = on_signal };
	unsigned long long v;
	int opt, ret;

	cfg.socket_path = default_socket(path, sizeof(path));
	while ((opt = getopt_long(argc, argv, "fs:t:m:u:q:p:c:Q:P:C:n:N:S:D:R:EhV", longopts, NULL)) != -1) {
		switch (opt) {
		case 'f':
			break;
		case 'E':
			cfg.explicit_only = 1;
			break;
		case 's':
			cfg.socket_path = optarg;
			break;
		case 't':
			if (parse_count(optarg, 0, 1024, &v))
				goto bad;
			cfg.threads = (unsigned)v;
			break;
		case 'm':
			cfg.socket_mode = (unsigned)strtoul(optarg, NULL, 8) & 0777;
			break;
		case 'u':
			if (cfg.nallow == 16 || parse_uid(optarg, &cfg.allow_uids[cfg.nallow])) {
				fprintf(stderr, "wdd: bad or too many --allow: %s\n", optarg);
				return 2;
			}
			cfg.nallow++;
			break;
		case 'q':
		case 'Q':
		case 'c':
		case 'C':
		case 'n':
		case 'N':
			if (parse_count(optarg, 1, UINT32_MAX, &v))
				goto bad;
			*(opt == 'q' ? &cfg.max_queues : opt == 'Q' ? &cfg.user_queues
				 : opt == 'c' ? &cfg.max_clients : opt == 'C' ? &cfg.user_clients
				 : opt == 'n' ? &cfg.max_shares : &cfg.user_shares) = (unsigned)v;
			break;
		case 'p':
		case 'P':
		case 'S':
			if (parse_count(optarg, 0, UINT64_MAX >> 20, &v))
				goto bad;
			*(opt == 'p' ? &cfg.max_pinned : opt == 'P' ? &cfg.user_pinned
				 : &cfg.user_state) = (uint64_t)v << 20;
			break;
		case 'R':
			/* the engine's own ceiling is 1 GiB */
			if (parse_count(optarg, 1, 1024, &v))
				goto bad;
			cfg.max_request = (uint64_t)v << 20;
			break;
		case 'D':
			/* the engine's own ceiling for no-ops is 1 s */
			if (parse_count(optarg, 0, 1000, &v))
				goto bad;
			cfg.nop_delay_max_ns = (uint64_t)v * 1000000;
			break;
		case 'V':
			printf("wdd %s\n", wd_version());
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
		continue;
bad:
		fprintf(stderr, "wdd: bad number for -%c: %s\n", opt, optarg);
		return 2;
	}
	/* systemd socket activation: the socket is fd 3 */
	if (lfds && lpid && atoi(lfds) >= 1 && (pid_t)atol(lpid) == getpid())
		cfg.listen_fd = 3;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	fprintf(stderr, "wdd %s: serving on %s\n", wd_version(),
		cfg.listen_fd >= 0 ? "the socket systemd passed" : cfg.socket_path);
	ret = wdd_serve(&cfg, &stop);
	if (ret) {
		fprintf(stderr, "wdd: %s\n", wd_strerror(ret));
		return 1;
	}
	return 0;
}
