/* SPDX-License-Identifier: MIT */
/*
 * Nothing silent: every piece of work is counted where it ran - a queue or
 * OpenSSL's default provider - and every piece the default provider ran
 * is counted with its reason.  The counts of a live context are its own
 * (the thread using it bumps them without a locked instruction, which
 * small operations could not afford); the instance keeps the list of live
 * contexts and the totals of freed ones, and sums both when asked:
 * through the provider parameter "wd-stats", and in one line at exit when
 * the stats setting (WD_PROV_STATS) is 1 (stderr) or a path (appended in
 * one write, so the processes of a pipeline or a server can share it).
 * Pieces ASYNC_JOBs submitted are counted among the queue's (ops.wd) and
 * their requests again under async (a GCM message makes several), with
 * the most a queue had in flight at once (async.max) and the resumptions
 * that found a request not done yet (async.wakes); pieces of jobs that ran
 * in the job's thread because the device is in-process (async = auto) are
 * async.inline.
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cipher.h"

static const char *const why_names[WDP_WHY__COUNT] = {
	[WDP_WHY_THRESHOLD] = "threshold",
	[WDP_WHY_NODEV] = "fallback:nodev",
	[WDP_WHY_BUSY] = "fallback:busy",
	[WDP_WHY_EOPNOTSUPP] = "fallback:eopnotsupp",
	[WDP_WHY_EIO] = "fallback:eio",
	[WDP_WHY_ERROR] = "fallback:error",
	[WDP_WHY_SIZE] = "fallback:size",
	[WDP_WHY_MODE] = "unsupported:mode",
	[WDP_WHY_TLS] = "unsupported:tls",
	[WDP_WHY_KEY] = "unsupported:key",
	[WDP_WHY_TAG] = "unsupported:tag",
	[WDP_WHY_MSG] = "message",
};

void wdp_stats_init(struct wdp_stats *st)
{
	memset(st, 0, sizeof(*st));
	pthread_mutex_init(&st->lock, NULL);
	st->pid = (int)getpid();
}

void wdp_stats_destroy(struct wdp_stats *st)
{
	pthread_mutex_destroy(&st->lock);
}

void wdp_stats_attach(struct wdp_stats *st, struct wdp_cctx *c)
{
	pthread_mutex_lock(&st->lock);
	c->live_prev = NULL;
	c->live_next = st->live;
	if (st->live)
		st->live->live_prev = c;
	st->live = c;
	pthread_mutex_unlock(&st->lock);
}

static void add_counts(struct wdp_counts *to, const struct wdp_counts *from)
{
	const uint64_t *f = (const uint64_t *)from;
	uint64_t *t = (uint64_t *)to;
	size_t i;

	_Static_assert(sizeof(*from) % sizeof(uint64_t) == 0, "counters only");
	for (i = 0; i < sizeof(*from) / sizeof(uint64_t); i++)
		t[i] += __atomic_load_n(&f[i], __ATOMIC_RELAXED);
}

/* A context goes: its counts join the totals. */
void wdp_stats_detach(struct wdp_stats *st, struct wdp_cctx *c)
{
	pthread_mutex_lock(&st->lock);
	if (c->live_prev)
		c->live_prev->live_next = c->live_next;
	else
		st->live = c->live_next;
	if (c->live_next)
		c->live_next->live_prev = c->live_prev;
	add_counts(&st->total, &c->n);
	pthread_mutex_unlock(&st->lock);
}

void wdp_stats_sum(struct wdp_stats *st, struct wdp_counts *out)
{
	struct wdp_cctx *c;

	uint64_t other = 0;
	int i;

	memset(out, 0, sizeof(*out));
	pthread_mutex_lock(&st->lock);
	add_counts(out, &st->total);
	for (c = st->live; c; c = c->live_next)
		add_counts(out, &c->n);
	pthread_mutex_unlock(&st->lock);
	/* pieces with no other reason went to the default provider for
	 * their size (wdp_count_sw does not count them one by one) */
	for (i = 0; i < WDP_WHY__COUNT; i++)
		if (i != WDP_WHY_THRESHOLD)
			other += out->why[i];
	out->why[WDP_WHY_THRESHOLD] = out->ops[0] >= other ? out->ops[0] - other : 0;
}

/* In a fork child (one thread, every lock held by it): the parent's
 * counts are the parent's. */
void wdp_stats_forked(struct wdp_stats *st)
{
	struct wdp_cctx *c;

	memset(&st->total, 0, sizeof(st->total));
	for (c = st->live; c; c = c->live_next)
		memset(&c->n, 0, sizeof(c->n));
	st->pid = (int)getpid();
	st->printed = 0;
}

static size_t put(char *buf, size_t len, size_t n, const char *fmt, const char *name,
		  unsigned long long v)
{
	int w = snprintf(n < len ? buf + n : NULL, n < len ? len - n : 0, fmt, name, v);

	return n + (w < 0 ? 0 : (size_t)w);
}

size_t wdp_stats_format(struct wdp_prov *p, char *buf, size_t len)
{
	struct wdp_counts s;
	char dev[WD_NAME_MAX + 8];
	size_t n;
	int i, w;

	wdp_stats_sum(&p->stats, &s);
	wdp_pool_device(p, dev, sizeof(dev));
	w = snprintf(buf, len, "wd-prov: pid=%d device=%s", (int)getpid(), dev);
	n = w < 0 ? 0 : (size_t)w;
	n = put(buf, len, n, " %s=%llu", "ops.wd", s.ops[1]);
	n = put(buf, len, n, " %s=%llu", "bytes.wd", s.bytes[1]);
	n = put(buf, len, n, " %s=%llu", "ops.sw", s.ops[0]);
	n = put(buf, len, n, " %s=%llu", "bytes.sw", s.bytes[0]);
	for (i = 0; i < WDP_WHY__COUNT; i++)
		if (s.why[i])
			n = put(buf, len, n, " why.%s=%llu", why_names[i], s.why[i]);
	if (s.errors)
		n = put(buf, len, n, " %s=%llu", "errors", s.errors);
	if (s.async) {
		n = put(buf, len, n, " %s=%llu", "async", s.async);
		n = put(buf, len, n, " %s=%llu", "async.max",
			__atomic_load_n(&p->pool.async_max, __ATOMIC_RELAXED));
		n = put(buf, len, n, " %s=%llu", "async.wakes", s.async_wakes);
	}
	if (s.async_inline)
		n = put(buf, len, n, " %s=%llu", "async.inline", s.async_inline);
	return n;
}

/* The line at exit (teardown, or the module's destructor for an instance
 * never torn down); once per instance and process. */
void wdp_stats_print(struct wdp_prov *p)
{
	const char *where = p->cfg.stats_to;
	struct wdp_counts s;
	char line[1024];
	size_t n;
	int fd;

	if (!where[0] || p->stats.printed || p->stats.pid != (int)getpid())
		return;
	p->stats.printed = 1;
	wdp_stats_sum(&p->stats, &s);
	if (!s.ops[0] && !s.ops[1] && !s.errors)
		return; /* loaded, never used (openssl list...) */
	n = wdp_stats_format(p, line, sizeof(line) - 1);
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
