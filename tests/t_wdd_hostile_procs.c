/*
 * Hostile processes and users, while two well-behaved clients keep working
 * (t_wdd_hostile.h).  Children fork from this threaded process, so TSan
 * skips the program (Makefile, check-tsan).  Needs root (to be two users).
 *
 * nofile  the daemon raised RLIMIT_NOFILE at start (soft == hard in
 *         /proc/<wdd>/limits); a user opening SVA queues up to its quota (-Q)
 *         never gets -EMFILE, and a second user still gets its whole quota
 *         (uids 65534 and 65533; today each queue holds three descriptors in
 *         the daemon and the soft limit of 1024 runs out first).
 * stats   a non-root client sees only its own uid's rows in WDD_STATS; root
 *         sees everyone's.
 * kill    a client SIGKILLed with long requests in flight, and one that
 *         execs mid-request: the daemon tears them down and serves on.
 */
#define _GNU_SOURCE
#include <sys/resource.h>
#include "t_wdd_hostile.h"

#define QUOTA 400

/* Run fn as uid in a child; returns its exit status (0: passed). */
static int as_user(uid_t uid, int (*fn)(struct t_wdd *), struct t_wdd *w)
{
	pid_t pid;
	int st;

	pid = t_fork_quiet();
	T_ASSERT(pid >= 0);
	if (pid == 0) {
		alarm(0);
		if (setresgid(uid, uid, uid) || setresuid(uid, uid, uid))
			_exit(2);
		prctl(PR_SET_DUMPABLE, 1); /* our /proc/self/mem is ours again */
		_exit(fn(w));
	}
	T_EQ(waitpid(pid, &st, 0), pid);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static int open_quota(struct t_wdd *w)
{
	struct t_raw r;
	struct t_rawq q;
	int i, ret = 0;

	if (t_raw_connect(&r, w->sock) || t_raw_hello(&r))
		return 3;
	for (i = 0; i < QUOTA && !ret; i++) {
		ret = t_raw_queue_open(&r, "nop", 8, 0, 0, &q);
		t_rawq_drop(&q); /* the daemon keeps its side */
	}
	printf("nofile: uid %d opened %d SVA queues, last status %d (%s)\n", (int)getuid(),
	       ret ? i - 1 : i, ret, wd_strerror(ret));
	fflush(stdout);
	/* the quota itself still holds */
	if (!ret && t_raw_queue_open(&r, "nop", 8, 0, 0, &q) != -EDQUOT)
		return 4;
	return ret ? 1 : 0; /* connection stays open until exit: queues held */
}

static int hold_quota(struct t_wdd *w)
{
	int ret = open_quota(w);

	if (ret)
		return ret;
	pause(); /* until the parent is done with the second user */
	return 0;
}

static void s_nofile(struct t_wdd *w)
{
	char path[64], line[256];
	unsigned long long soft = 0, hard = 1;
	pid_t holder;
	FILE *f;
	int st;

	t_stage("nofile: two users open SVA queues up to their quota", 120);
	snprintf(path, sizeof(path), "/proc/%d/limits", (int)w->pid);
	f = fopen(path, "r");
	T_ASSERT(f);
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "Max open files", 14))
			T_EQ(sscanf(line + 14, "%llu %llu", &soft, &hard), 2);
	fclose(f);
	printf("nofile: daemon RLIMIT_NOFILE soft %llu hard %llu\n", soft, hard);
	/* the first user keeps its queues while the second opens its own */
	holder = t_fork_quiet();
	T_ASSERT(holder >= 0);
	if (holder == 0) {
		alarm(0);
		if (setresgid(65534, 65534, 65534) || setresuid(65534, 65534, 65534))
			_exit(2);
		prctl(PR_SET_DUMPABLE, 1);
		_exit(hold_quota(w));
	}
	for (st = 0; st < 1000 && t_open_fds(w->pid) < QUOTA; st++)
		usleep(20000);
	usleep(500000);
	if (waitpid(holder, &st, WNOHANG) == holder)
		T_FAIL("nofile: the first user could not open its quota (exit %d)",
		       WIFEXITED(st) ? WEXITSTATUS(st) : -1);
	st = as_user(65533, open_quota, w);
	kill(holder, SIGTERM);
	waitpid(holder, NULL, 0);
	T_EQ(st, 0);
	T_EQ(soft, hard);
	t_wdd_alive(w, "nofile");
}

static int stats_rows(struct t_wdd *w)
{
	struct wdd_stats_rep *st = malloc(sizeof(*st));
	struct t_raw r;
	struct t_rawq q;
	uint32_t i, mine = 0, others = 0;

	if (!st || t_raw_connect(&r, w->sock) || t_raw_hello(&r) ||
	    t_raw_queue_open(&r, "nop", 8, 0, 0, &q))
		return 3;
	t_rawq_drop(&q);
	if (t_raw_xfer(&r, WDD_STATS, NULL, 0, NULL, 0, st, sizeof(*st), NULL, NULL))
		return 3;
	for (i = 0; i < st->nq; i++)
		st->q[i].uid == getuid() ? mine++ : others++;
	printf("stats: uid %d sees %u rows of its own and %u of others\n", (int)getuid(), mine,
	       others);
	fflush(stdout);
	t_raw_close(&r);
	free(st);
	return getuid() == 0 ? !(mine >= 2) : (mine != 1 || others != 0);
}

static void s_stats(struct t_wdd *w)
{
	t_stage("stats: who sees which rows", 60);
	T_EQ(as_user(65534, stats_rows, w), 0);
	T_EQ(stats_rows(w), 0); /* root: the victims' queues and its own */
}

static int mid_request(struct t_wdd *w, int how)
{
	struct wd_req req[32];
	struct t_raw r;
	struct t_rawq q;
	int i;

	if (t_raw_connect(&r, w->sock) || t_raw_hello(&r) ||
	    t_raw_queue_open(&r, "nop", 32, 0, 1, &q))
		return 3;
	for (i = 0; i < 32; i++)
		wd_prep_nop(&req[i], 1000000);
	t_rawq_submit(&q, req, 32);
	if (how)
		execl("/bin/true", "true", (char *)NULL);
	pause();
	return 0;
}

static int mid_kill(struct t_wdd *w)
{
	return mid_request(w, 0);
}

static int mid_exec(struct t_wdd *w)
{
	return mid_request(w, 1);
}

static void s_kill(struct t_wdd *w)
{
	int i, st;
	pid_t pid;

	t_stage("kill: clients killed or exec'd with requests in flight", 60);
	for (i = 0; i < 20; i++) {
		pid = t_fork_quiet();
		T_ASSERT(pid >= 0);
		if (pid == 0) {
			alarm(0);
			_exit(i % 2 ? mid_exec(w) : mid_kill(w));
		}
		usleep(1000 * (unsigned)(i % 5));
		if (i % 2 == 0)
			kill(pid, SIGKILL);
		T_EQ(waitpid(pid, &st, 0), pid);
	}
	t_victims_check("clients dying mid-request");
	t_wdd_alive(w, "kill");
}

int main(int argc, char **argv)
{
	static const char *const opts[] = { "-m", "0666", "-q", "1000", "-Q", "400", NULL };
	static const struct t_scenario sc[] = {
		{ "nofile", s_nofile },
		{ "stats", s_stats },
		{ "kill", s_kill },
		{ NULL, NULL },
	};
	struct rlimit rl;

	if (geteuid() != 0) {
		printf("not root: cannot be two users\n");
		return T_SKIP;
	}
	/* the usual soft limit, whatever this shell had: the daemon must raise
	 * it itself */
	T_OK(getrlimit(RLIMIT_NOFILE, &rl));
	if (rl.rlim_cur > 1024)
		rl.rlim_cur = 1024;
	T_OK(setrlimit(RLIMIT_NOFILE, &rl));
	return t_hostile_main(argc, argv, opts, sc);
}
