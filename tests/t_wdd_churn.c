/* 1,000 clients killed with SIGKILL in the middle of their work - queues
 * open, memory shared and pinned, requests in flight: the daemon reclaims
 * everything each time, and ends with no client, queue, pin or extra fd. */
#include "t_wdd.h"

#define CYCLES 1000

/* requests still running when we act: no-ops longer than the daemon's
 * default limit (1 ms), which -D raises */
static const char *const long_nops[] = { "-D", "1000", NULL };

static void doomed(int sync_fd)
{
	struct wd_ctx *ctx = t_wdd_ctx();
	struct wd_queue *q = t_wdd_queue(ctx, "mover", 0, NULL);
	struct wd_queue *qx = t_wdd_queue(ctx, "mover", WD_QUEUE_F_EXPLICIT, NULL);
	unsigned char *m = wd_mem_alloc(1 << 16);
	struct wd_req r[8];
	uint64_t iova;
	int i;

	T_OK(wd_share(wd_queue_domain(qx), m, 1 << 16, 0, &iova));
	for (i = 0; i < 8; i++)
		wd_prep_nop(&r[i], 10 * 1000 * 1000); /* 80 ms queued: still running when we die */
	T_EQ(wd_send(q, r, 8), 8);
	T_EQ(wd_send(qx, r, 8), 8);
	if (write(sync_fd, "x", 1) != 1)
		_exit(1);
	pause();
	_exit(0);
}

static struct wdd_stats_rep stats(void)
{
	/* ask the daemon itself, as wd stat does */
	struct wd_ctx *ctx = t_wdd_ctx();
	struct wdd_stats_rep st;

	T_OK(wd__wdd_stats(ctx, &st));
	wd_ctx_free(ctx);
	return st;
}

int main(int argc, char **argv)
{
	struct t_wdd w = { 0 };
	int fds0, fds1, i, status;
	struct wdd_stats_rep st;

	if (argc < 2)
		return T_SKIP;
	t_wdd_start(&w, argv[1], long_nops);
	st = stats();
	fds0 = t_open_fds(w.pid);
	T_ASSERT(fds0 > 0);
	for (i = 0; i < CYCLES; i++) {
		int p[2];
		pid_t pid;
		char ch;

		T_ASSERT(!pipe(p));
		pid = fork();
		T_ASSERT(pid >= 0);
		if (pid == 0) {
			close(p[0]);
			doomed(p[1]);
		}
		close(p[1]);
		T_EQ(read(p[0], &ch, 1), 1); /* it is mid-work now */
		close(p[0]);
		kill(pid, SIGKILL);
		T_EQ(waitpid(pid, &status, 0), pid);
	}
	/* the daemon notices hang-ups asynchronously: give it a moment */
	for (i = 0; i < 200; i++) {
		st = stats();
		if (st.clients == 1 && !st.queues && !st.pinned)
			break;
		usleep(10000);
	}
	fprintf(stderr, "%d kills: daemon has %u clients, %u queues, %llu bytes pinned, %d fds "
		"(%d before)\n", CYCLES, st.clients, st.queues, (unsigned long long)st.pinned,
		t_open_fds(w.pid), fds0);
	T_EQ(st.clients, 1); /* the one asking */
	T_EQ(st.queues, 0);
	T_EQ(st.pinned, 0);
	fds1 = t_open_fds(w.pid);
	T_ASSERT(fds1 <= fds0 + 1); /* the stats client's own socket at most */
	t_wdd_cleanup(&w);
	return 0;
}
