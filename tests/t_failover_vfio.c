/* The VFIO driver's queues fall back to the built-in engine, against the
 * virtio-crypto function played in this process (vc_fake.c):
 *   refused  the function offers AES-CBC and -CTR only: an XTS session on
 *            vfio0 lives on the built-in engine, its requests complete
 *            with WD_CPL_F_SOFT, counted as refusals; CBC stays the device's;
 *   gone     the function vanishes (reads all ones) or asks for a reset
 *            while it holds every request: with kept keys, all of them
 *            complete right, and the queue goes on on the built-in engine;
 *   lost     the same without kept keys: the requests of sessions whose
 *            keys only the device had fail with -ENOTRECOVERABLE, those of
 *            the built-in engine's sessions complete; a new session works.
 * Shares are undone cleanly afterwards (the built-in engine's requests
 * hold them as the device's did). */
#include "core/internal.h"
#include "dev/vfio/vcrypto.h"
#include "t_failover.h"
#include "t_vcfake.h"

enum { N = 32, LEN = 4096 };

struct rig {
	struct fk_dev *f;
	struct wd_ctx *ctx;
	struct wd_domain *dom;
	struct t_fo t;
};

/* The played device writes under its lock, and stops writing once the
 * driver turns its bus mastering off (through its config file, which TSan
 * does not see): taking the lock orders its last write before our read. */
static void fk_sync(void *arg)
{
	struct fk_stats st;

	fk_stats(arg, &st);
}

static void rig_open(struct rig *r, const struct fk_opts *o, unsigned flags, uint64_t *seed)
{
	struct wd_queue_opts qo = { .size = sizeof(qo), .depth = 64, .device = "vfio0",
				    .flags = WD_QUEUE_F_EXPLICIT | flags };
	struct wd_queue *q = NULL;

	memset(r, 0, sizeof(*r));
	r->ctx = t_vc_fake_ctx(o, &r->f);
	T_ASSERT(wd_dev_by_name(r->ctx, "vfio0"));
	T_OK(wd_domain_new(&r->dom, r->ctx, "vfio0"));
	qo.domain = r->dom;
	T_OK(wd_queue_new(&q, r->ctx, "cipher", &qo));
	t_fo_init(&r->t, q, T_FO_CIPHER, r->dom, N, LEN, seed);
	t_fo_sessions(&r->t, WD_CIPHER_AES_CBC, WD_CIPHER_AES_XTS, seed);
	r->t.sync = fk_sync;
	r->t.sync_arg = r->f;
}

static void rig_close(struct rig *r)
{
	struct t_fo *t = &r->t;
	size_t len = (size_t)t->n * t->len;

	wd_cipher_sess_free(t->sess[0]);
	wd_cipher_sess_free(t->sess[1]);
	t->sess[0] = t->sess[1] = NULL;
	wd_queue_free(t->q);
	t->q = NULL;
	/* the leases of the built-in engine's requests ended with them */
	T_OK(wd_unshare(r->dom, t->src_dev, WD_UNSHARE_NOWAIT, 0));
	T_OK(wd_unshare(r->dom, t->dst_dev, WD_UNSHARE_NOWAIT, 0));
	T_OK(wd_domain_free(r->dom));
	wd_ctx_free(r->ctx);
	fk_free(r->f);
	wd_mem_free(t->src, len);
	wd_mem_free(t->dst, len);
	free(t->plain);
	free(t->src_len);
	free(t->seen);
}

static void refused(uint64_t *seed)
{
	struct fk_opts o = { .nq = 1 };
	struct wd_queue_stats st;
	struct rig r;

	rig_open(&r, &o, 0, seed);
	t_fo_send(&r.t, 0, N);
	t_fo_reap(&r.t, N, T_FO_WAIT);
	T_EQ(r.t.soft, N / 2); /* the XTS half */
	/* the device's and the built-in engine's, once each (an engine counts
	 * a pass after it posts its completions) */
	for (int k = 0; k < 1000 && (st = t_fo_stats(&r.t)).requests < N; k++)
		usleep(1000);
	T_EQ(st.requests, N);
	T_EQ(st.errors, 0);
	T_EQ(st.soft_after_refusal, N / 2);
	T_EQ(st.soft_after_failure, 0);
	T_EQ(st.device_failures, 0);
	fprintf(stderr, "%-12s: %2u of %u on the built-in engine (XTS: the device has none)\n",
		"refused", r.t.soft, N);
	rig_close(&r);
}

static void gone(enum fk_bad bad, uint64_t *seed)
{
	struct fk_opts o = { .bad = bad, .hold = N / 2, .nq = 1 }; /* the CBC half */
	struct wd_queue_stats st;
	struct rig r;

	rig_open(&r, &o, WD_QUEUE_F_FALLBACK_KEEP_KEYS, seed);
	t_fo_send(&r.t, 0, N);
	t_fo_reap(&r.t, N, T_FO_EVENT_FD);
	T_EQ(r.t.soft, N); /* the device finished none: it held them all */
	fprintf(stderr, "%-12s: %2u of %u completed by the built-in engine, all right\n",
		bad == FK_GONE ? "gone" : "needs reset", r.t.soft, N);
	t_fo_round(&r.t);
	t_fo_send(&r.t, 0, N);
	t_fo_reap(&r.t, N, T_FO_POLL);
	T_EQ(r.t.soft, N);
	st = t_fo_stats(&r.t);
	T_EQ(st.device_failures, 1);
	T_EQ(st.lost_in_failure, 0);
	/* XTS was refused while the device lived; since, all is failure */
	T_EQ(st.soft_after_refusal, N / 2);
	T_EQ(st.soft_after_failure, N / 2 + N);
	rig_close(&r);
}

static void lost(uint64_t *seed)
{
	struct fk_opts o = { .bad = FK_GONE, .hold = N / 2, .nq = 1 };
	struct wd_cipher_sess *fresh;
	struct wd_queue_stats st;
	struct wd_cpl c[N];
	struct rig r;
	int n, i, got = 0, nlost = 0;

	rig_open(&r, &o, 0, seed);
	t_fo_send(&r.t, 0, N);
	while (got < N) {
		n = wd_wait(r.t.q, c, N, 5000);
		T_ASSERT(n > 0);
		for (i = 0; i < n; i++, got++) {
			if (c[i].tag % 2 == 0) { /* CBC: its key was the device's */
				T_EQ(c[i].status, -ENOTRECOVERABLE);
				T_EQ(r.t.seen[c[i].tag]++, 0);
				nlost++;
				continue;
			}
			t_fo_check(&r.t, &c[i]);
			T_ASSERT(c[i].flags & WD_CPL_F_SOFT);
		}
	}
	st = t_fo_stats(&r.t);
	T_EQ(st.lost_in_failure, nlost);
	T_EQ(nlost, N / 2);
	/* a new session has its key on the built-in engine */
	wd_cipher_sess_free(r.t.sess[0]);
	T_OK(wd_cipher_sess_new(&fresh, r.t.q, WD_CIPHER_AES_CBC, r.t.key[0], r.t.klen[0]));
	r.t.sess[0] = fresh;
	t_fo_round(&r.t);
	t_fo_send(&r.t, 0, N);
	t_fo_reap(&r.t, N, T_FO_WAIT);
	T_EQ(r.t.soft, N);
	fprintf(stderr, "%-12s: %d without a key failed (-ENOTRECOVERABLE), then all on the "
		"built-in engine\n", "lost", nlost);
	rig_close(&r);
}

int main(void)
{
	uint64_t seed = t_seed();

	refused(&seed);
	gone(FK_GONE, &seed);
	gone(FK_NEEDS_RESET, &seed);
	lost(&seed);
	return 0;
}
