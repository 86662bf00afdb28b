/* Helpers for the daemon tests: run a private wdd on a socket of our own. */
#ifndef T_WDD_H
#define T_WDD_H

#include <dirent.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <wd/comp.h>
#include <wd/mem.h>
#include "t_helpers.h"
#include "t_mem_helpers.h"
#include "daemon/proto.h"

struct t_wdd {
	pid_t pid;
	char dir[64];
	char sock[128];
};

/* Start argv[0]=wdd with extra options (NULL-terminated); wait for its socket. */
static inline void t_wdd_start(struct t_wdd *w, const char *bin, const char *const *extra)
{
	const char *argv[24];
	struct stat st;
	int n = 0, i;

	if (!w->dir[0]) {
		strcpy(w->dir, "/tmp/wdd-test-XXXXXX");
		T_ASSERT(mkdtemp(w->dir));
		chmod(w->dir, 0755);
		snprintf(w->sock, sizeof(w->sock), "%s/wdd.sock", w->dir);
	}
	argv[n++] = bin;
	argv[n++] = "-f";
	argv[n++] = "-s";
	argv[n++] = w->sock;
	argv[n++] = "-t";
	argv[n++] = "2";
	for (i = 0; extra && extra[i] && n < 22; i++)
		argv[n++] = extra[i];
	argv[n] = NULL;
	unlink(w->sock);
	w->pid = fork();
	T_ASSERT(w->pid >= 0);
	if (w->pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL); /* never outlive a failed test */
		execv(bin, (char *const *)argv);
		_exit(127);
	}
	for (i = 0; i < 500 && stat(w->sock, &st); i++)
		usleep(10000);
	T_ASSERT(i < 500);
	setenv("WD_WDD_SOCKET", w->sock, 1);
}

/* Returns the daemon's wait status (0: none was running). */
static inline int t_wdd_stop(struct t_wdd *w, int sig)
{
	int status = 0;

	if (w->pid > 0) {
		kill(w->pid, sig);
		waitpid(w->pid, &status, 0);
		w->pid = 0;
	}
	return status;
}

/* Stop the daemon as its service manager would: it must exit cleanly (under
 * the sanitizers that includes no leak and no race at exit). */
static inline void t_wdd_cleanup(struct t_wdd *w)
{
	T_EQ(t_wdd_stop(w, SIGTERM), 0);
	unlink(w->sock);
	rmdir(w->dir);
}

/* A context that must see the daemon, and a queue on it. */
static inline struct wd_ctx *t_wdd_ctx(void)
{
	struct wd_ctx *ctx = t_ctx(1, 0);

	T_ASSERT(wd_dev_by_name(ctx, "wdd0") != NULL);
	return ctx;
}

static inline struct wd_queue *t_wdd_queue(struct wd_ctx *ctx, const char *alg, unsigned flags,
					   struct wd_domain *dom)
{
	struct wd_queue_opts o = { .size = sizeof(o), .depth = 32, .device = "wdd0",
				   .flags = flags, .domain = dom };
	struct wd_queue *q = NULL;

	T_OK(wd_queue_new(&q, ctx, alg, &o));
	return q;
}

static inline int t_open_fds(pid_t pid)
{
	char path[64];
	int n = 0;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	d = opendir(path);
	if (!d)
		return -1;
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

#endif
