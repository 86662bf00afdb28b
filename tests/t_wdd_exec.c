/*
 * A client queues SVA requests and then runs another program (execve keeps
 * its pid) while keeping its connection open.  The requests it queued must
 * not reach the new program's memory, even at the very addresses they name:
 * the daemon serves them (the queue's counters say so) and they fail.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sys/mman.h>
#include "t_wdd.h"

#define SPOT_LEN (64u << 10)
#define NFILL 8

/* The same address in both images: wherever the kernel puts it first
 * (a fixed choice could fall into a sanitizer's reserved ranges). */
/* requests still running when we act: no-ops longer than the daemon's
 * default limit (1 ms), which -D raises */
static const char *const long_nops[] = { "-D", "1000", NULL };

static void *map_spot(void *at)
{
	void *p = mmap(at, SPOT_LEN, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | (at ? MAP_FIXED_NOREPLACE : 0), -1, 0);

	return p == MAP_FAILED || (at && p != at) ? NULL : p;
}

/* The old program's connection and queue stay open across execve. */
static void keep_fds_across_exec(void)
{
	int fd;

	for (fd = 3; fd < 1024; fd++) {
		int fl = fcntl(fd, F_GETFD);

		if (fl >= 0)
			fcntl(fd, F_SETFD, fl & ~FD_CLOEXEC);
	}
}

/* The new program: same pid, fresh memory at SPOT. */
static int after_exec(const char *where)
{
	struct wdd_stats_rep *st = malloc(sizeof(*st));
	unsigned char *spot = map_spot((void *)(uintptr_t)strtoull(where, NULL, 16));
	struct wd_ctx *ctx;
	uint32_t i, k;
	int done = 0;

	if (!st)
		return 2;
	if (!spot)
		return T_SKIP; /* the new image has something else there */
	ctx = t_wdd_ctx(); /* our own connection, to read the counters */
	for (k = 0; k < 500 && !done; k++) {
		T_OK(wd__wdd_stats(ctx, st));
		for (i = 0; i < st->nq; i++)
			/* served, and refused; a write-behind's failure is counted
			 * when the daemon's helper thread has made it */
			if (!strcmp(st->q[i].alg, "mover") && st->q[i].st.requests == NFILL + 1 &&
			    st->q[i].st.errors == NFILL)
				done = 1;
		if (!done)
			usleep(10000);
	}
	T_ASSERT(done);
	for (i = 0; i < SPOT_LEN; i++)
		if (spot[i]) {
			fprintf(stderr, "byte %u of the new program's memory written: %#x\n", i,
				spot[i]);
			return 1;
		}
	wd_ctx_free(ctx);
	free(st);
	return 0;
}

static void before_exec(const char *self, const char *wdd)
{
	struct wd_ctx *ctx = t_wdd_ctx();
	struct wd_queue *q = t_wdd_queue(ctx, "mover", 0, NULL);
	struct wd_req r[NFILL + 1];
	void *spot = map_spot(NULL);
	char where[32];
	int i;

	if (!spot)
		_exit(2);
	snprintf(where, sizeof(where), "%llx", (unsigned long long)(uintptr_t)spot);
	/* the engine is busy with the first for a while: the rest wait */
	wd_prep_nop(&r[0], 300 * 1000 * 1000);
	for (i = 1; i <= NFILL; i++)
		wd_prep_fill(&r[i], spot, 0xabababababababull, SPOT_LEN);
	T_EQ(wd_send(q, r, NFILL + 1), NFILL + 1);
	keep_fds_across_exec();
	execl(self, self, wdd, "--after-exec", where, (char *)NULL);
	_exit(3);
}

int main(int argc, char **argv)
{
	struct t_wdd w = { 0 };
	int status;
	pid_t pid;

	if (argc >= 4 && !strcmp(argv[2], "--after-exec"))
		return after_exec(argv[3]);
	if (argc < 2)
		return T_SKIP;
	t_wdd_start(&w, argv[1], long_nops);
	pid = fork();
	T_ASSERT(pid >= 0);
	if (pid == 0)
		before_exec("/proc/self/exe", argv[1]);
	T_EQ(waitpid(pid, &status, 0), pid);
	t_wdd_cleanup(&w);
	if (WIFEXITED(status) && WEXITSTATUS(status) == T_SKIP)
		return T_SKIP;
	T_ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	return 0;
}
