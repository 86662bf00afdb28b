/* SPDX-License-Identifier: MIT */
/*
 * ASYNC_JOBs paused on requests in flight when the process forks.  In the
 * parent they finish as if nothing happened.  In the child, resumed, they
 * never touch the parent's queue: a job whose piece went out of place
 * redoes it on a queue of the child's own, with the right bytes; one done
 * in place on the in-process device cannot know how far the parent's
 * engine got in the memory the child copied, and fails its EVP call with
 * an error (and the statistics' errors) rather than return wrong bytes.
 * New jobs in the child run on its own queue.
 * argv[1]: the directory holding wd.so.
 */
#include <sys/wait.h>

#include "tp_async.h"

#define NJOBS 6
#define BIG (4u << 20)          /* milliseconds of work: still in flight at the fork */

static int lost;                /* in-place jobs paused at the fork */

static unsigned long long stat_of(struct tp *t, const char *name)
{
	char line[1024];

	tp_stats(t, line, sizeof(line));
	printf("%d: %s\n", (int)getpid(), line);
	fflush(stdout);
	return tp_stat(line, name);
}

static void child(struct tp *t, struct tpj *jobs)
{
	struct tpj fresh[4];
	int i;

	tpj_drive(jobs, NJOBS, 0);
	for (i = 0; i < NJOBS; i++) {
		if (!jobs[i].inplace || jobs[i].pauses == 0) {
			tpj_check(&jobs[i], 1);
			continue;
		}
		if (jobs[i].ret == 1)
			T_FAIL("child: in-place job %d across the fork did not fail", i);
	}
	if (!ERR_peek_error())
		T_FAIL("child: the in-place jobs failed with no error");
	ERR_print_errors_fp(stdout);
	T_EQ(stat_of(t, "errors"), lost);
	for (i = 0; i < 4; i++)
		tpj_make(t, &fresh[i], "AES-128-CTR", 1, 65536, i & 1);
	tpj_drive(fresh, 4, 0);
	tpj_check(fresh, 4);
	T_ASSERT(stat_of(t, "async") > 0);
	tpj_free(fresh, 4);
}

int main(int argc, char **argv)
{
	struct tpj jobs[NJOBS];
	struct tp t;
	int i, status, redone = 0;
	pid_t pid;

	if (argc < 2) {
		fprintf(stderr, "usage: t_prov_async_fork MODDIR\n");
		return 2;
	}
	if (!ASYNC_is_capable()) {
		printf("t_prov_async_fork: SKIP: OpenSSL has no ASYNC_JOBs here\n");
		return T_SKIP;
	}
	tp_seed("t_prov_async_fork");
	T_ASSERT(ASYNC_init_thread(TPJ_MAX, 0));
	tp_open(&t, argv[1], "threshold = 0\nasync = yes\n");
	tpj_tp = &t;
	for (i = 0; i < NJOBS; i++) {
		tpj_make(&t, &jobs[i], i % 3 ? "AES-128-CBC" : "AES-256-CTR", 1, BIG, i & 1);
		jobs[i].npieces = 1;
		jobs[i].piece[0] = BIG;
	}
	/* the device may finish the first before its job looks (it then
	 * goes on without pausing); the others wait behind it */
	for (i = 0; i < NJOBS; i++) {
		tpj_step(&jobs[i]);
		lost += jobs[i].inplace && jobs[i].state == TPJ_PAUSED;
		redone += !jobs[i].inplace && jobs[i].state == TPJ_PAUSED;
	}
	T_ASSERT(lost >= 1 && redone >= 1);
	fflush(stdout);
	pid = fork();
	T_ASSERT(pid >= 0);
	if (!pid) {
		child(&t, jobs);
		tpj_free(jobs, NJOBS);
		tpj_forget_ciphers();
		tp_close(&t);
		ASYNC_cleanup_thread();
		exit(0);
	}
	tpj_drive(jobs, NJOBS, 0);
	tpj_check(jobs, NJOBS);
	T_EQ(stat_of(&t, "errors"), 0);
	T_ASSERT(waitpid(pid, &status, 0) == pid);
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		T_FAIL("the child failed (status %#x)", status);
	tpj_free(jobs, NJOBS);
	tpj_forget_ciphers();
	tp_close(&t);
	ASYNC_cleanup_thread();
	printf("t_prov_async_fork: ok\n");
	return 0;
}
