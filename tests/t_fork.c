/* A fork child never gets the parent's queue: no ring mapping, and every
 * call on it answers -ECHILD instead of crashing. */
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>
#include "core/internal.h"
#include "t_helpers.h"

int main(void)
{
	struct wd_ctx *ctx = t_ctx(1, 0);
	struct wd_queue *q = t_queue(ctx, "mover", 8), *q2 = NULL;
	struct wd_req r;
	struct wd_cpl c;
	unsigned char vec;
	int status;
	pid_t pid;

	wd_prep_nop(&r, 0);
	T_EQ(t_run(q, &r).status, 0);
	/* one request in flight across the fork */
	wd_prep_nop(&r, 50 * 1000 * 1000);
	T_EQ(wd_send(q, &r, 1), 1);

	pid = fork();
	T_ASSERT(pid >= 0);
	if (pid == 0) {
		/* The ring is not mapped here at all (MADV_DONTFORK). */
		T_ASSERT(mincore(q->mem, 4096, &vec) == -1 && errno == ENOMEM);
		T_EQ(wd_send(q, &r, 1), -ECHILD);
		T_EQ(wd_recv(q, &c, 1), -ECHILD);
		T_EQ(wd_wait(q, &c, 1, 10), -ECHILD);
		T_EQ(wd_queue_stop(q), -ECHILD);
		T_EQ(wd_queue_new(&q2, ctx, "mover", NULL), -ECHILD);
		/* Cleaning up the inherited handles is safe. */
		wd_queue_free(q);
		wd_ctx_free(ctx);
		/* A fresh context works in the child. */
		ctx = t_ctx(1, 0);
		q = t_queue(ctx, "nop", 4);
		wd_prep_nop(&r, 0);
		T_EQ(t_run(q, &r).status, 0);
		wd_queue_free(q);
		wd_ctx_free(ctx);
		_exit(0);
	}
	T_EQ(waitpid(pid, &status, 0), pid);
	T_ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	/* The parent's queue is untouched by all that. */
	T_EQ(wd_wait(q, &c, 1, 5000), 1);
	T_EQ(c.status, 0);
	wd_prep_nop(&r, 0);
	T_EQ(t_run(q, &r).status, 0);
	wd_queue_free(q);
	wd_ctx_free(ctx);
	return 0;
}
