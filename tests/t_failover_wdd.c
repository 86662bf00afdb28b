/* The daemon is SIGKILLed with requests in flight (some it finished, some
 * it had started, most it had not reached), on SVA and explicit queues of
 * every kind, cipher sessions with kept keys: 100% of the one-shot
 * requests complete, with the right output, whether the program waits in
 * the library, polls, or sleeps on the queue's event fd; the built-in
 * engine's completions say so (WD_CPL_F_SOFT) and their count is the
 * queue's statistics'.  The queues then go on, on the built-in engine. */
#include "t_failover.h"
#include "t_wdd.h"

enum { N = 48, LEN = 16 * 1024, NQ = 6 };

/* requests still running when we act: long no-ops, which -D allows */
static const char *const opts[] = { "-D", "1000", NULL };

/* cipher queues keep their keys: their sessions survive the daemon */
static struct wd_queue *open_q(struct wd_ctx *ctx, const char *alg, int explicit)
{
	unsigned flags = explicit ? WD_QUEUE_F_EXPLICIT : 0;

	if (!strcmp(alg, "cipher"))
		flags |= WD_QUEUE_F_FALLBACK_KEEP_KEYS;
	return t_wdd_queue(ctx, alg, flags, NULL);
}

int main(int argc, char **argv)
{
	static const char *const algs[3] = { "mover", "gzip", "cipher" };
	static const enum t_fo_wait how[3] = { T_FO_WAIT, T_FO_EVENT_FD, T_FO_POLL };
	uint64_t seed = t_seed();
	struct t_fo t[NQ];
	struct t_wdd w = { 0 };
	struct wd_queue_stats st;
	struct wd_ctx *ctx;
	struct wd_req nop;
	unsigned i, soft = 0;

	if (argc < 2)
		return T_SKIP;
	t_wdd_start(&w, argv[1], opts);
	ctx = t_wdd_ctx();
	for (i = 0; i < NQ; i++) {
		int explicit = i >= 3;
		struct wd_queue *q = open_q(ctx, algs[i % 3], explicit);

		t_fo_init(&t[i], q, (enum t_fo_kind)(i % 3), explicit ? wd_queue_domain(q) : NULL,
			  N, LEN, &seed);
		if (i % 3 == 2)
			t_fo_sessions(&t[i], WD_CIPHER_AES_CBC, WD_CIPHER_AES_XTS, &seed);
	}
	/* the daemon serves the first half itself */
	for (i = 0; i < NQ; i++) {
		t_fo_send(&t[i], 0, N / 2);
		t_fo_reap(&t[i], N / 2, T_FO_WAIT);
		T_EQ(t[i].soft, 0);
		/* the engine counts a pass after it posts its completions */
		for (int k = 0; k < 1000 && (st = t_fo_stats(&t[i])).requests < N / 2; k++)
			usleep(1000);
		T_EQ(st.device_failures, 0);
		T_ASSERT(st.requests >= N / 2);
	}
	/* the rest goes in behind a long no-op on four queues (the daemon
	 * will not have reached it), at once on the others (it may be
	 * anywhere in them) */
	wd_prep_nop(&nop, 100 * 1000 * 1000);
	nop.tag = T_FO_EXTRA;
	for (i = 0; i < NQ; i++) {
		if (i % 3 != 1)
			T_EQ(wd_send(t[i].q, &nop, 1), 1);
		t_fo_send(&t[i], N / 2, N);
	}
	usleep(20 * 1000);
	t_wdd_stop(&w, SIGKILL);

	for (i = 0; i < NQ; i++) {
		t_fo_reap_x(&t[i], N, i % 3 != 1, how[i % 3]);
		T_EQ(wd_inflight(t[i].q), 0);
		st = t_fo_stats(&t[i]);
		fprintf(stderr, "%-6s %-8s: %2u of %u after the kill run by the built-in engine\n",
			algs[i % 3], i >= 3 ? "explicit" : "SVA", t[i].soft, N / 2 + (i % 3 != 1));
		T_ASSERT(t[i].soft > 0);
		T_EQ(st.device_failures, 1);
		T_EQ(st.lost_in_failure, 0);
		soft += t[i].soft;
	}
	/* and they go on, on the built-in engine */
	for (i = 0; i < NQ; i++) {
		t_fo_round(&t[i]);
		t_fo_send(&t[i], 0, N / 2); /* the queue holds 32 */
		t_fo_reap(&t[i], N / 2, how[(i + 1) % 3]);
		t_fo_send(&t[i], N / 2, N);
		t_fo_reap(&t[i], N, how[(i + 2) % 3]);
		T_EQ(t[i].soft, N);
		st = t_fo_stats(&t[i]);
		T_EQ(st.soft_after_failure, t[i].soft_total + N);
		T_EQ(st.soft_after_refusal, 0);
		t_fo_free(&t[i]);
	}
	fprintf(stderr, "%u requests in flight when the daemon died completed by the built-in "
		"engine, all right\n", soft);
	wd_ctx_free(ctx);
	unlink(w.sock);
	rmdir(w.dir);
	return 0;
}
