/* The daemon dies while its engine sleeps: the next submission rings the
 * doorbell, a pipe with no reader left.  The library must not raise
 * SIGPIPE in the program (which kills one that does not ignore it, as
 * this test does not): the call returns, the request fails with an error,
 * and the program goes on.  Found by the provider's fallback test under
 * TSan (t_prov_fallback), whose slower daemon was asleep when killed. */
#include <signal.h>
#include "t_wdd.h"

int main(int argc, char **argv)
{
	struct t_wdd w = { 0 };
	struct wd_ctx *ctx;
	struct wd_queue *q;
	struct wd_req r;
	struct wd_cpl c;
	int i, ret, sent = 0;

	if (argc < 2)
		return T_SKIP;
	sigset_t pipe_set;

	/* SIGPIPE as a program gets it by default: deadly, whatever the
	 * environment running the test blocked or ignored */
	sigemptyset(&pipe_set);
	sigaddset(&pipe_set, SIGPIPE);
	T_ASSERT(!sigprocmask(SIG_UNBLOCK, &pipe_set, NULL));
	T_ASSERT(signal(SIGPIPE, SIG_DFL) != SIG_ERR);
	t_wdd_start(&w, argv[1], NULL);
	ctx = t_wdd_ctx();
	/* no fallback: every submission goes to the dead daemon's doorbell */
	q = t_wdd_queue(ctx, "nop", WD_QUEUE_F_NO_FALLBACK, NULL);
	usleep(100000); /* past the engine's idle spin: it sleeps, submissions ring */
	t_wdd_stop(&w, SIGKILL);
	for (i = 0; i < 8; i++) {
		wd_prep_nop(&r, 0);
		r.tag = (uint64_t)i;
		ret = wd_send(q, &r, 1);
		if (ret != 1) {
			T_ASSERT(ret < 0); /* refused: the queue knows the daemon is gone */
			continue;
		}
		sent++;
		/* completed with an error, or the wait itself says the device is gone */
		ret = wd_wait(q, &c, 1, 5000);
		T_ASSERT(ret < 0 || (ret == 1 && c.status < 0));
	}
	printf("t_wdd_bug_kick_sigpipe: alive after %d submissions to a dead daemon\n", sent);
	wd_queue_free(q);
	wd_ctx_free(ctx);
	unlink(w.sock);
	rmdir(w.dir);
	return 0;
}
