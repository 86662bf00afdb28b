/* SPDX-License-Identifier: MIT */
/*
 * ASYNC_JOBs on the daemon's device (wdd0), whose queue descriptor is an
 * epoll descriptor of its own (the completion pipe and the connection)
 * inside the provider's: every mode in random pieces, as the default
 * provider, with requests in flight together; then the daemon killed
 * while every job is paused on a request: the jobs are woken (the
 * connection's hang-up), their pieces redone in the default provider
 * (in place too: the input was kept), right bytes, counted, and no hang.
 * argv: MODULE_DIR WDD_BINARY
 */
#include "tp_async.h"

static const char *const names[] = { "AES-128-CBC", "AES-256-CTR", "AES-256-XTS",
				     "AES-128-GCM" };

static unsigned long long stat_of(struct tp *t, const char *name)
{
	char line[1024];

	tp_stats(t, line, sizeof(line));
	printf("%s\n", line);
	fflush(stdout);
	return tp_stat(line, name);
}

static void mixed(const char *moddir, const char *wdd)
{
	struct tpj jobs[16];
	char sock[128];
	struct tp t;
	pid_t pid;
	int i, most;

	pid = tp_wdd_start(wdd, sock, sizeof(sock));
	tp_open(&t, moddir, "device = wdd0\nthreshold = 1k\n");
	tpj_tp = &t;
	for (i = 0; i < 16; i++) {
		const char *name = names[i % 4];
		size_t len = 16 + tp_rand() % (64u << 10);

		tpj_make(&t, &jobs[i], name, i % 4 == 3 ? 1 : (int)(tp_rand() & 1),
			 len - len % 16, i & 1);
	}
	most = tpj_drive(jobs, 16, 0);
	tpj_check(jobs, 16);
	printf("wdd0: at most %d jobs paused at once\n", most);
	T_ASSERT(stat_of(&t, "async") > 0);
	T_ASSERT(stat_of(&t, "async.max") >= 2);
	tpj_free(jobs, 16);
	tpj_forget_ciphers();
	tp_close(&t);
	tp_wdd_stop(pid, sock);
}

/* Every job paused on a 4 MiB request when the daemon dies. */
static void daemon_dies(const char *moddir, const char *wdd)
{
	struct tpj jobs[6];
	char sock[128];
	struct tp t;
	pid_t pid;
	int i;

	pid = tp_wdd_start(wdd, sock, sizeof(sock));
	tp_open(&t, moddir, "device = wdd0\nthreshold = 0\n");
	tpj_tp = &t;
	for (i = 0; i < 6; i++) {
		tpj_make(&t, &jobs[i], i & 2 ? "AES-128-CBC" : "AES-256-CTR", 1, 4u << 20, i & 1);
		jobs[i].npieces = 1;
		jobs[i].piece[0] = jobs[i].len;
	}
	for (i = 0; i < 6; i++)
		tpj_step(&jobs[i]);
	tp_wdd_stop(pid, sock);
	alarm(120); /* a hang is a failure */
	tpj_drive(jobs, 6, 0);
	alarm(0);
	tpj_check(jobs, 6);
	T_ASSERT(stat_of(&t, "why.fallback:eio") + stat_of(&t, "why.fallback:nodev") >= 1);
	tpj_free(jobs, 6);
	tpj_forget_ciphers();
	tp_close(&t);
}

int main(int argc, char **argv)
{
	if (argc < 3)
		T_FAIL("usage: t_prov_async_wdd MODULE_DIR WDD");
	if (!ASYNC_is_capable()) {
		printf("t_prov_async_wdd: SKIP: OpenSSL has no ASYNC_JOBs here\n");
		return T_SKIP;
	}
	tp_seed("t_prov_async_wdd");
	T_ASSERT(ASYNC_init_thread(TPJ_MAX, 0));
	mixed(argv[1], argv[2]);
	daemon_dies(argv[1], argv[2]);
	ASYNC_cleanup_thread();
	printf("t_prov_async_wdd: jobs on wdd0, and through the daemon's death\n");
	return 0;
}
