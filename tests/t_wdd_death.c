/* The daemon dies with requests in flight, on queues made without the
 * fallback to the built-in engine (WD_QUEUE_F_NO_FALLBACK; t_failover_wdd
 * has it): every pending request completes with an error within a bounded
 * time, whether the program waits in the library, spins on wd_recv(),
 * calls wd_poll() with no timeout now and then, or sleeps by hand on the
 * queue's event fd; nothing hangs; later submissions fail with -EIO; a new
 * context reaches a restarted daemon. */
#include <poll.h>
#include <pthread.h>
#include "t_wdd.h"

/* requests still running when we act: no-ops longer than the daemon's
 * default limit (1 ms), which -D raises */
static const char *const long_nops[] = { "-D", "1000", NULL };

static void count_cpl(void *arg, const struct wd_cpl *c)
{
	T_ASSERT(c->status == -EIO || c->status == 0);
	++*(int *)arg;
}

/* Sleep by hand on the event fd (wd_queue_arm protocol) until all 16 came;
 * asleep before the daemon dies, as an event loop would be. */
static void *wait_by_hand(void *arg)
{
	struct wd_queue *q = arg;
	struct wd_cpl c[16];
	double t0 = t_now();
	int got = 0, n, i;

	while (got < 16) {
		struct pollfd pfd = { .fd = wd_queue_event_fd(q), .events = POLLIN };

		n = wd_queue_arm(q);
		T_ASSERT(n >= 0);
		if (!n)
			T_ASSERT(poll(&pfd, 1, 5000) == 1); /* the hang-up wakes us */
		while ((n = wd_recv(q, c, 16)) > 0) {
			for (i = 0; i < n; i++)
				T_ASSERT(c[i].status == -EIO || c[i].status == 0);
			got += n;
		}
		T_ASSERT(t_now() - t0 < 5);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	struct t_wdd w = { 0 };
	struct wd_ctx *ctx;
	struct wd_queue *qw, *qp, *qe, *qz;
	struct wd_req r[16];
	struct wd_cpl c[16];
	int i, n, got;
	double t0;
	pthread_t hand;

	if (argc < 2)
		return T_SKIP;
	t_wdd_start(&w, argv[1], long_nops);
	ctx = t_wdd_ctx();
	qw = t_wdd_queue(ctx, "nop", WD_QUEUE_F_NO_FALLBACK, NULL);
	qp = t_wdd_queue(ctx, "nop", WD_QUEUE_F_NO_FALLBACK, NULL);
	qe = t_wdd_queue(ctx, "nop", WD_QUEUE_F_NO_FALLBACK, NULL);
	qz = t_wdd_queue(ctx, "nop", WD_QUEUE_F_NO_FALLBACK, NULL);
	for (i = 0; i < 16; i++) {
		wd_prep_nop(&r[i], 500 * 1000 * 1000); /* far longer than we will wait */
		r[i].tag = (uint64_t)i;
	}
	T_EQ(wd_send(qw, r, 16), 16);
	T_EQ(wd_send(qp, r, 16), 16);
	T_EQ(wd_send(qe, r, 16), 16);
	T_EQ(wd_send(qz, r, 16), 16);
	T_OK(pthread_create(&hand, NULL, wait_by_hand, qe));
	usleep(50000);
	t_wdd_stop(&w, SIGKILL);
	t0 = t_now();

	/* a waiter: woken by the hang-up, all 16 come back as errors */
	for (got = 0; got < 16;) {
		n = wd_wait(qw, c, 16, 5000);
		T_ASSERT(n > 0);
		for (i = 0; i < n; i++)
			T_ASSERT(c[i].status == -EIO || c[i].status == 0);
		got += n;
	}
	/* a poller: never sleeps, still learns it */
	for (got = 0; got < 16 && t_now() - t0 < 5;) {
		n = wd_recv(qp, c, 16);
		T_ASSERT(n >= 0);
		got += n;
	}
	T_EQ(got, 16);
	T_ASSERT(t_now() - t0 < 5); /* bounded: no hang */
	T_OK(pthread_join(hand, NULL));
	/* an event loop that only peeks now and then, without sleeping on us */
	for (got = 0; got < 16 && t_now() - t0 < 5;) {
		n = wd_poll(qz, 16, 0, count_cpl, &got);
		T_ASSERT(n >= 0 || n == -EIO);
		usleep(5000);
	}
	T_EQ(got, 16);
	T_EQ(wd_send(qw, r, 1), -EIO);
	T_EQ(wd_inflight(qw), 0);
	wd_queue_free(qw); /* cleaning up after a dead daemon is fine */
	wd_queue_free(qp);
	wd_queue_free(qe);
	wd_queue_free(qz);
	wd_ctx_free(ctx);

	/* a restarted daemon: a new context reconnects */
	t_wdd_start(&w, argv[1], long_nops);
	ctx = t_wdd_ctx();
	qw = t_wdd_queue(ctx, "nop", 0, NULL);
	wd_prep_nop(&r[0], 0);
	T_EQ(t_run(qw, &r[0]).status, 0);
	wd_queue_free(qw);
	wd_ctx_free(ctx);
	t_wdd_cleanup(&w);
	return 0;
}
