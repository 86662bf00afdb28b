/* SPDX-License-Identifier: MIT */
/*
 * Nothing silent: every stream and one-shot call is counted on the path it
 * took, and every one handed to zlib with the reason.  The line is printed
 * at exit when WD_ZLIB_STATS is set (1: stderr, else a file appended to in
 * one write, so the processes of a pipeline or a server can share it) and
 * can be read in-process through wd_zlib_stats_format().
 */
#define _GNU_SOURCE /* secure_getenv */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "wz.h"

/* Things the layer did otherwise than asked, in the order they print. */
static const char *const event_names[] = {
	"dict_unused", "strategy_kept", "level_kept", "tune_kept", "fork_lost",
};
#define N_EVENTS (sizeof(event_names) / sizeof(event_names[0]))

struct wz_stats {
	uint64_t streams[2][2];         /* [kind][on_wd] */
	uint64_t bytes_in[2], bytes_out[2];     /* [on_wd] */
	uint64_t why[WZ_WHY__COUNT];
	uint64_t events[N_EVENTS];      /* by event_names */
};

static struct wz_stats st;

static const char *const why_names[WZ_WHY__COUNT] = {
	[WZ_WHY_DISABLED] = "disabled", [WZ_WHY_SMALL] = "small",
	[WZ_WHY_LEVEL] = "level", [WZ_WHY_STRATEGY] = "strategy",
	[WZ_WHY_WINDOW] = "window", [WZ_WHY_DICT] = "dict",
	[WZ_WHY_HEADER] = "header", [WZ_WHY_PRIME] = "prime",
	[WZ_WHY_FLUSH] = "flush", [WZ_WHY_NODEV] = "nodev",
	[WZ_WHY_BOUND] = "bound", [WZ_WHY_METHOD] = "method",
	[WZ_WHY_API] = "api", [WZ_WHY_ERROR] = "error", [WZ_WHY_SIZE] = "size",
};

static void add(uint64_t *c, uint64_t v)
{
	__atomic_fetch_add(c, v, __ATOMIC_RELAXED);
}

static uint64_t get(const uint64_t *c)
{
	return __atomic_load_n(c, __ATOMIC_RELAXED);
}

void wz_count_stream(enum wz_kind kind, int on_wd)
{
	add(&st.streams[kind][!!on_wd], 1);
}

void wz_count_zlib(enum wz_kind kind, enum wz_why why)
{
	add(&st.streams[kind][0], 1);
	add(&st.why[why], 1);
}

void wz_count_bytes(int on_wd, uint64_t in, uint64_t out)
{
	add(&st.bytes_in[!!on_wd], in);
	add(&st.bytes_out[!!on_wd], out);
}

void wz_count_event(const char *what)
{
	size_t i;

	for (i = 0; i < N_EVENTS; i++)
		if (!strcmp(what, event_names[i]))
			add(&st.events[i], 1);
}

/* " name=value" at buf + n, as far as len allows; the new n. */
static size_t put_count(char *buf, size_t len, size_t n, const char *prefix, const char *name,
			uint64_t v)
{
	int w = snprintf(n < len ? buf + n : NULL, n < len ? len - n : 0, " %s%s=%llu", prefix,
			 name, (unsigned long long)v);

	return n + (w < 0 ? 0 : (size_t)w);
}

WZ_EXPORT size_t wd_zlib_stats_format(char *buf, size_t len)
{
	size_t n;
	int i, w;

	w = snprintf(buf, len,
		     "wd-zlib: pid=%d deflate.wd=%llu deflate.zlib=%llu inflate.wd=%llu "
		     "inflate.zlib=%llu in.wd=%llu out.wd=%llu in.zlib=%llu out.zlib=%llu",
		     (int)getpid(), (unsigned long long)get(&st.streams[WZ_DEFLATE][1]),
		     (unsigned long long)get(&st.streams[WZ_DEFLATE][0]),
		     (unsigned long long)get(&st.streams[WZ_INFLATE][1]),
		     (unsigned long long)get(&st.streams[WZ_INFLATE][0]),
		     (unsigned long long)get(&st.bytes_in[1]),
		     (unsigned long long)get(&st.bytes_out[1]),
		     (unsigned long long)get(&st.bytes_in[0]),
		     (unsigned long long)get(&st.bytes_out[0]));
	n = w < 0 ? 0 : (size_t)w;
	for (i = 0; i < WZ_WHY__COUNT; i++)
		if (get(&st.why[i]))
			n = put_count(buf, len, n, "why.", why_names[i], get(&st.why[i]));
	for (i = 0; i < (int)N_EVENTS; i++)
		if (get(&st.events[i]))
			n = put_count(buf, len, n, "", event_names[i], get(&st.events[i]));
	return n;
}

/* In a fork child the parent's counts are the parent's: start from zero. */
void wz_stats_forked(void)
{
	memset(&st, 0, sizeof(st));
}

__attribute__((destructor)) static void stats_at_exit(void)
{
	/* a file the process creates or appends to: never one named by the
	 * user running a set-uid program */
	const char *where = secure_getenv("WD_ZLIB_STATS");
	char line[1024];
	size_t n;
	int fd;

	if (!where || !*where || !strcmp(where, "0"))
		return;
	if (!get(&st.streams[0][0]) && !get(&st.streams[0][1]) && !get(&st.streams[1][0]) &&
	    !get(&st.streams[1][1]))
		return; /* a process that never used zlib (a shell in a pipeline) */
	n = wd_zlib_stats_format(line, sizeof(line) - 1);
	if (n > sizeof(line) - 2)
		n = sizeof(line) - 2;
	line[n++] = '\n';
	if (!strcmp(where, "1")) {
		fd = 2;
	} else {
		fd = open(where, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
		if (fd < 0)
			return;
	}
	if (write(fd, line, n) < 0) {
		/* nowhere left to report it */
	}
	if (fd != 2)
		close(fd);
}
