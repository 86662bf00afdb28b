#define _GNU_SOURCE
/* Credentials: a daemon that allows only root refuses another user (the
 * client sees no wdd0 device); the allowed user gets through. */
#include <sys/socket.h>
#include "core/internal.h"
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
	/* A fork child speaking on the parent's connection (not through the
	 * library, which refuses in a child) is refused by the daemon: SVA
	 * requests would reach the parent's pid. */
	pid = fork();
	T_ASSERT(pid >= 0);
	if (pid == 0) {
		int fd = *(int *)wd_dev_by_name(ctx, "wdd0")->priv; /* struct wdd_conn.fd */
		struct {
			struct wdd_hdr h;
			struct wdd_queue_open_req q;
		} m = { { .magic = WDD_MAGIC, .type = WDD_QUEUE_OPEN, .len = sizeof(m.q), .seq = 99 },
			{ .alg = "copy" } };
		struct wdd_hdr rep;

		if (send(fd, &m, sizeof(m), 0) != sizeof(m))
			_exit(3);
		if (recv(fd, &rep, sizeof(rep), 0) < (ssize_t)sizeof(rep))
			_exit(4);
		_exit(rep.status == -EPERM ? 0 : 5);
	}
	T_EQ(waitpid(pid, &status, 0), pid);
	T_ASSERT(WIFEXITED(status));
	T_EQ(WEXITSTATUS(status), 0);
	{
		/* and the parent's connection is still good */
		struct wd_queue *q = t_wdd_queue(ctx, "nop", 0, NULL);
		struct wd_req r;

		wd_prep_nop(&r, 0);
		T_EQ(t_run(q, &r).status, 0);
		wd_queue_free(q);
	}
	wd_ctx_free(ctx);
	t_wdd_cleanup(&w);
	return 0;
}
