#define _GNU_SOURCE
/* Credentials: a daemon that allows only root refuses another user (the
 * client sees no wdd0 device); the allowed user gets through. */
#include "t_wdd.h"

int main(int argc, char **argv)
{
	static const char *const opts[] = { "-m", "0666", "-u", "0", NULL };
	struct t_wdd w = { 0 };
	struct wd_ctx *ctx;
	int status;
	pid_t pid;

	if (argc < 2)
		return T_SKIP;
	if (geteuid() != 0) {
		fprintf(stderr, "needs root to act as a second user: skipping\n");
		return T_SKIP;
	}
	t_wdd_start(&w, argv[1], opts);
	pid = fork();
	T_ASSERT(pid >= 0);
	if (pid == 0) {
		struct wd_queue_opts o = { .size = sizeof(o), .device = "wdd0" };
		struct wd_queue *q;

		/* become "nobody" */
		if (setresgid(65534, 65534, 65534) || setresuid(65534, 65534, 65534))
			_exit(3);
		ctx = t_ctx(1, 0);
		if (wd_dev_by_name(ctx, "wdd0"))
			_exit(1); /* let in: wrong */
		_exit(wd_queue_new(&q, ctx, "nop", &o) == -ENODEV ? 0 : 2);
	}
	T_EQ(waitpid(pid, &status, 0), pid);
	T_ASSERT(WIFEXITED(status));
	T_EQ(WEXITSTATUS(status), 0);
	ctx = t_wdd_ctx(); /* root is allowed */
	wd_ctx_free(ctx);
	t_wdd_cleanup(&w);
	return 0;
}
