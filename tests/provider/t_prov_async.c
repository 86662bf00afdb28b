/* SPDX-License-Identifier: MIT */
/*
 * The provider inside OpenSSL ASYNC_JOBs, many jobs on one thread driven
 * by poll() on the descriptors their wait contexts name (tp_async.h):
 *   - every byte (and GCM tag) as the default provider's, for CBC, CTR,
 *     XTS and GCM in pieces of random sizes, in place or not, with the
 *     process's memory or through bounce buffers (explicit);
 *   - requests in flight together (async.max, jobs paused at once);
 *   - below the threshold a job never pauses;
 *   - jobs resumed when their request is not done (spurious): they
 *     pause again;
 *   - a full queue: the pieces that find no room run in the default
 *     provider (fallback:busy), the others on the queue;
 *   - a synchronous call between the jobs, on the queue they fill;
 *   - a context freed while its job is paused mid-request, and wait
 *     contexts freed and made anew (their cleanup);
 *   - async = no: jobs run synchronously; async = auto (the default) on
 *     the in-process device: in the job's thread, counted async.inline
 *     (the other cases ask for async = yes).
 * argv[1]: the directory holding wd.so.
 */
#include "tp_async.h"

static const char *moddir;

static const char *const mixed_names[] = { "AES-128-CBC", "AES-256-CBC", "AES-128-CTR",
					   "AES-256-XTS", "AES-128-GCM" };

static unsigned long long stat_of(struct tp *t, const char *name)
{
	char line[1024];

	tp_stats(t, line, sizeof(line));
	return tp_stat(line, name);
}

static void show(struct tp *t, const char *what)
{
	char line[1024];

	tp_stats(t, line, sizeof(line));
	printf("%s: %s\n", what, line);
	fflush(stdout);
}

/* Jobs pause on soft0 only with async = yes (auto runs their pieces in
 * their thread there: async_auto). */
static void open_with(struct tp *t, const char *conf)
{
	char c[256];

	snprintf(c, sizeof(c), "%s%s", conf, strstr(conf, "async") ? "" : "async = yes\n");
	tp_open(t, moddir, c);
	tpj_tp = t;
}

static void close_tp(struct tp *t)
{
	tpj_forget_ciphers();
	tp_close(t);
}

/* Mixed modes and sizes around a 1 KiB threshold; optionally resumed at
 * random; with explicit, through bounce buffers (a piece up to 16 KiB in
 * its slot's area, a larger one synchronously, or, while jobs have
 * requests in flight, in the default provider: fallback:busy). */
static void mixed(int n, int spurious, int explicit_mem)
{
	struct tpj jobs[TPJ_MAX];
	struct tp t;
	int i, most;

	open_with(&t, explicit_mem ? "threshold = 1k\nexplicit = yes\n" : "threshold = 1k\n");
	for (i = 0; i < n; i++) {
		const char *name = mixed_names[tp_rand() % (sizeof(mixed_names) / sizeof(*mixed_names))];
		size_t len = 16 + tp_rand() % (64u << 10);

		len -= len % 16;
		tpj_make(&t, &jobs[i], name, !strstr(name, "GCM") ? (int)(tp_rand() & 1) : 1,
			 len, (int)(tp_rand() & 1));
	}
	most = tpj_drive(jobs, n, spurious);
	tpj_check(jobs, n);
	show(&t, explicit_mem ? "mixed, explicit" : spurious ? "mixed, spurious resumptions" : "mixed");
	printf("  %d jobs, at most %d paused at once\n", n, most);
	T_ASSERT(most >= 2);
	T_ASSERT(stat_of(&t, "async") > 0);
	T_ASSERT(stat_of(&t, "async.max") >= 2);
	tpj_free(jobs, n);
	close_tp(&t);
}

/* A job resumed at once after it paused on a request the device needs
 * milliseconds for (16 MiB of CBC encryption) finds nothing, and pauses
 * again (async.wakes), then finishes right. */
static void resumed_early(void)
{
	struct tpj j;
	struct tp t;

	open_with(&t, "threshold = 0\n");
	tpj_make(&t, &j, "AES-128-CBC", 1, 16u << 20, 0);
	j.npieces = 1;
	j.piece[0] = j.len;
	T_ASSERT(!tpj_step(&j));
	T_ASSERT(!tpj_step(&j));
	tpj_drive(&j, 1, 0);
	tpj_check(&j, 1);
	show(&t, "resumed early");
	T_ASSERT(j.pauses >= 2);
	T_ASSERT(stat_of(&t, "async.wakes") >= 1);
	tpj_free(&j, 1);
	close_tp(&t);
}

/* Under the threshold nothing pauses: every job finishes when started. */
static void below_threshold(void)
{
	struct tpj jobs[8];
	struct tp t;
	int i;

	open_with(&t, "threshold = 16k\n");
	for (i = 0; i < 8; i++) {
		tpj_make(&t, &jobs[i], "AES-128-CTR", 1, 8192, i & 1);
		T_ASSERT(tpj_step(&jobs[i]));
		T_EQ(jobs[i].pauses, 0);
	}
	tpj_check(jobs, 8);
	T_EQ(stat_of(&t, "async"), 0);
	T_EQ(stat_of(&t, "ops.wd"), 0);
	tpj_free(jobs, 8);
	close_tp(&t);
}

/* More jobs than a queue has room for (32), all started before any is
 * resumed: 32 go on the queue, the others' first piece runs in the
 * default provider in the job, without a pause, counted fallback:busy
 * (usually 8 first pieces and some later ones; fewer first pieces when
 * the engine finishes a request during the starts and frees its slot, as
 * once on a slow machine: 7). */
static void full_queue(void)
{
	struct tpj jobs[40];
	struct tp t;
	int i, most;

	open_with(&t, "threshold = 0\n");
	for (i = 0; i < 40; i++)
		tpj_make(&t, &jobs[i], "AES-128-CBC", 1, 16384, 1);
	most = tpj_drive(jobs, 40, 0);
	tpj_check(jobs, 40);
	show(&t, "full queue");
	T_EQ(stat_of(&t, "async.max"), 32);
	T_ASSERT(most >= 32);
	T_ASSERT(stat_of(&t, "why.fallback:busy") >= 1);
	tpj_free(jobs, 40);
	close_tp(&t);
}

/* A synchronous EVP call while jobs have requests on the same queue:
 * it cannot take the queue for itself (wd_run), so it goes through the
 * ring beside them. */
static void sync_between(void)
{
	struct tpj jobs[8], s;
	struct tp t;
	EVP_CIPHER *c;
	int i;

	open_with(&t, "threshold = 0\n");
	for (i = 0; i < 8; i++) {
		tpj_make(&t, &jobs[i], "AES-256-CTR", 1, 65536, 0);
		tpj_step(&jobs[i]);
	}
	tpj_make(&t, &s, "AES-128-CBC", 1, 32768, 0);
	c = tpj_cipher(&t, "AES-128-CBC", 1);
	s.ret = tpj_body(&s, c, s.x, s.out, s.tag);
	tpj_check(&s, 1);
	tpj_drive(jobs, 8, 0);
	tpj_check(jobs, 8);
	show(&t, "synchronous call between jobs");
	tpj_free(jobs, 8);
	tpj_free(&s, 1);
	close_tp(&t);
}

/* Kept reachable: a job paused for good once its context was freed. */
static ASYNC_JOB *abandoned;
static ASYNC_WAIT_CTX *abandoned_w;

/*
 * A job paused mid-request whose cipher context is freed (a program that
 * gives up on it): the free waits for the request, and the queue goes on
 * serving other jobs.  Then wait contexts are freed (their cleanup drops
 * the queue) and new ones made: the queue's descriptor is still good.
 */
static void freed_context(void)
{
	struct tpj one, jobs[8];
	struct tp t;
	int i;

	open_with(&t, "threshold = 0\n");
	tpj_make(&t, &one, "AES-128-GCM", 1, 65536, 0);
	T_ASSERT(!tpj_step(&one));
	EVP_CIPHER_CTX_free(one.x);
	one.x = NULL;
	abandoned = one.job;
	abandoned_w = one.w;
	one.w = NULL;
	for (i = 0; i < 8; i++)
		tpj_make(&t, &jobs[i], "AES-128-CBC", i & 1, 65536, 1);
	tpj_drive(jobs, 8, 0);
	tpj_check(jobs, 8);
	tpj_free(jobs, 8);
	for (i = 0; i < 8; i++)
		tpj_make(&t, &jobs[i], "AES-256-XTS", 1, 4096 * (unsigned)(i + 1), 0);
	tpj_drive(jobs, 8, 0);
	tpj_check(jobs, 8);
	show(&t, "freed context, new wait contexts");
	tpj_free(jobs, 8);
	tpj_free(&one, 1);
	close_tp(&t);
}

/* Jobs that never pause (each finishes in its first step), their pieces
 * on the queue all the same: async = no (synchronously, on every device),
 * and async = auto (the default) on the in-process device (in the job's
 * thread, counted async.inline). */
static void no_pause(const char *conf, unsigned long long inline_min)
{
	struct tpj jobs[4];
	struct tp t;
	int i;

	open_with(&t, conf);
	for (i = 0; i < 4; i++) {
		tpj_make(&t, &jobs[i], "AES-128-CBC", 1, 16384, 0);
		T_ASSERT(tpj_step(&jobs[i]));
	}
	tpj_check(jobs, 4);
	show(&t, conf);
	T_EQ(stat_of(&t, "async"), 0);
	T_ASSERT(stat_of(&t, "async.inline") >= inline_min);
	T_ASSERT(stat_of(&t, "ops.wd") >= 4);
	tpj_free(jobs, 4);
	close_tp(&t);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: t_prov_async MODDIR\n");
		return 2;
	}
	moddir = argv[1];
	if (!ASYNC_is_capable()) {
		printf("t_prov_async: SKIP: OpenSSL has no ASYNC_JOBs here\n");
		return T_SKIP;
	}
	tp_seed("t_prov_async");
	T_ASSERT(ASYNC_init_thread(TPJ_MAX, 0));
	below_threshold();
	mixed(24, 0, 0);
	mixed(16, 1, 0);
	mixed(24, 0, 1);
	resumed_early();
	full_queue();
	sync_between();
	freed_context();
	no_pause("threshold = 0\nasync = no\n", 0);
	no_pause("threshold = 0\nasync = auto\n", 4);
	ASYNC_cleanup_thread();
	printf("t_prov_async: ok\n");
	return 0;
}
