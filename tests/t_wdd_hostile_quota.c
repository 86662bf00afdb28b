/*
 * Hostile clients against the daemon's memory and mappings, while two
 * well-behaved clients keep working (t_wdd_hostile.h):
 *
 * sharecount one 4 KiB page of one memfd shared again and again: each share
 *            is a mapping in the daemon, so they are bounded per connection
 *            (and per user): the loop ends with -EDQUOT well before
 *            vm.max_map_count (today: -ENOMEM from mmap at the kernel's
 *            limit, after which nobody can open a queue), and another client
 *            can still open queues and share.
 * streams    (a daemon of its own with -S 8 -P 8) compression stream state
 *            counts against the user's quota (-S, --user-state): level-3 stream starts fail with
 *            -ENOMEM or -EDQUOT after about P / 430 KB streams, and the
 *            daemon's RSS stays bounded (today: no limit at all).
 */
#define _GNU_SOURCE
#include <isa-l/igzip_lib.h>
#include "t_wdd_hostile.h"

#define PS 4096u

static long max_map_count(void)
{
	FILE *f = fopen("/proc/sys/vm/max_map_count", "r");
	long v = 65530;

	if (f) {
		if (fscanf(f, "%ld", &v) != 1)
			v = 65530;
		fclose(f);
	}
	return v;
}

/* Share the page until refused; returns how many went in, *err the refusal. */
static long share_flood(struct t_raw *r, int fd, long cap, int *err)
{
	uint32_t dom;
	long i;

	T_OK(t_raw_domain_new(r, &dom));
	for (i = 0; i < cap; i++) {
		*err = t_raw_share(r, dom, 0, 0x40000000ull + (uint64_t)i * PS, PS, 0, fd, NULL);
		if (*err)
			break;
	}
	return i;
}

/* Another client of the same user: a queue and a share still work. */
static void other_client(void)
{
	struct wd_ctx *ctx = t_wdd_ctx();
	struct wd_domain *d;
	struct wd_queue *q;
	void *m = wd_mem_alloc(PS);
	uint64_t iova;

	T_ASSERT(m);
	T_OK(wd_domain_new(&d, ctx, "wdd0"));
	q = t_wdd_queue(ctx, "mover", WD_QUEUE_F_EXPLICIT, d);
	T_OK(wd_share(d, m, PS, 0, &iova));
	T_OK(wd_unshare(d, iova, 0, -1));
	wd_queue_free(q);
	T_OK(wd_domain_free(d));
	wd_ctx_free(ctx);
	wd_mem_free(m, PS);
}

static void s_sharecount(struct t_wdd *w)
{
	long limit = max_map_count(), n1, n2;
	struct t_raw a, b;
	int fd = t_memfd(PS, F_SEAL_SHRINK), e1, e2;
	double t0 = t_now();

	t_stage("sharecount: one page shared again and again", 180);
	t_raw_open(&a, w->sock);
	n1 = share_flood(&a, fd, limit + 1000, &e1);
	printf("sharecount: connection 1: %ld shares, then %d (%s) in %.1f s; max_map_count %ld\n",
	       n1, e1, wd_strerror(e1), t_now() - t0, limit);
	other_client();
	t_raw_open(&b, w->sock);
	n2 = share_flood(&b, fd, limit + 1000, &e2);
	printf("sharecount: connection 2 (same user): %ld shares, then %d (%s)\n", n2, e2,
	       wd_strerror(e2));
	t_victims_check("share floods");
	T_EQ(e1, -EDQUOT);
	T_EQ(e2, -EDQUOT);
	T_ASSERT(n1 + n2 < limit / 2);
	t_raw_close(&a);
	t_raw_close(&b);
	close(fd);
	other_client();
	t_wdd_alive(w, "sharecount");
}

#define NSQ 8

static void s_streams(struct t_wdd *w, uint64_t quota)
{
	/* a level-3 stream: isa-l's deflate state and its level buffer */
	uint64_t per = sizeof(struct isal_zstream) + ISAL_DEF_LVL3_DEFAULT;
	struct wd_comp_stream *s[NSQ * WD_MAX_SESSIONS];
	struct wd_queue *q[NSQ];
	struct wd_ctx *ctx = t_wdd_ctx();
	unsigned char in[4096], out[8192];
	long rss0 = t_proc_kb(w->pid, "VmRSS"), rss1;
	size_t used, made;
	int n = 0, k, ret = 0, started;

	t_stage("streams: stream state against the memory quota", 120);
	memset(in, 'x', sizeof(in));
	for (k = 0; k < NSQ; k++)
		q[k] = t_wdd_queue(ctx, "deflate", 0, NULL);
	for (n = 0; n < NSQ * WD_MAX_SESSIONS; n++) {
		ret = wd_comp_stream_new(&s[n], q[n % NSQ], WD_COMPRESS, WD_COMP_RAW, 3);
		if (ret)
			break;
		/* the daemon makes the state on the stream's first request */
		ret = wd_comp_stream_run(s[n], in, sizeof(in), &used, out, sizeof(out), &made,
					 WD_COMP_NO_FLUSH);
		if (ret < 0) {
			wd_comp_stream_free(s[n]);
			break;
		}
	}
	rss1 = t_proc_kb(w->pid, "VmRSS");
	printf("streams: %d level-3 streams started, then %d (%s); expected about %.1f "
	       "(quota %llu MiB / %llu KB); daemon RSS %ld -> %ld KB\n", n, ret, wd_strerror(ret),
	       (double)quota / (double)per, (unsigned long long)(quota >> 20),
	       (unsigned long long)(per >> 10), rss0, rss1);
	t_victims_check("stream flood");
	started = n;
	while (n > 0)
		wd_comp_stream_free(s[--n]);
	for (k = 0; k < NSQ; k++)
		wd_queue_free(q[k]);
	wd_ctx_free(ctx);
	T_ASSERT(ret == -ENOMEM || ret == -EDQUOT);
	/* about quota / per: a quarter of it at least (other state counts too),
	 * never more than half as much again */
	T_ASSERT((uint64_t)started * per * 2 <= quota * 3 && (uint64_t)started * per * 4 >= quota);
	T_ASSERT((uint64_t)(rss1 - rss0) * 1024 < quota + (32u << 20));
	t_wdd_alive(w, "streams");
}

int main(int argc, char **argv)
{
	/* the stream state quota is -S (--user-state); -P too, as the issue had it */
	static const char *const small[] = { "-P", "8", "-S", "8", NULL };
	struct t_wdd w = { 0 }, w2 = { 0 };

	if (argc < 2)
		return T_SKIP;
	if (t_want(argc, argv, "sharecount")) {
		t_stage("daemon and victims start", 60);
		t_wdd_start(&w, argv[1], NULL);
		t_victims_start();
		s_sharecount(&w);
		t_stage("victims stop, daemon exits", 60);
		t_victims_stop();
		t_wdd_alive(&w, "the end");
		t_wdd_cleanup(&w);
	}
	if (t_want(argc, argv, "streams")) {
		t_stage("daemon -S 8 -P 8 and victims start", 60);
		t_wdd_start(&w2, argv[1], small);
		t_victims_start();
		s_streams(&w2, 8ull << 20);
		t_stage("victims stop, daemon exits", 60);
		t_victims_stop();
		t_wdd_alive(&w2, "the end");
		t_wdd_cleanup(&w2);
	}
	return 0;
}
