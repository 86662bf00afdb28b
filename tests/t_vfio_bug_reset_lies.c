/* Regression: the VFIO driver took a status register that reads back 0
 * after a reset as proof that the device had let go of its buffers, and
 * turned bus mastering off only when it did not.  A device that asks for a
 * reset (NEEDS_RESET), acknowledges it and goes on writing into what it
 * was given then wrote into buffers already handed back: the leases ended,
 * an unshare succeeded under it.  Bus mastering now goes off whenever the
 * device is stopped for good: once the requests have failed and the
 * buffers are unshared, nothing is written into them, and the device
 * reached no unmapped address while it could still write. */
#include <unistd.h>

#include "t_vcfake.h"

enum { N = 8, LEN = 4096, DST = N * LEN };

static const uint8_t key[16] = { 0x10, 0x20 };

int main(void)
{
	struct fk_opts o = { .bad = FK_NEEDS_RESET, .hold = N, .reset_lies = 1, .nq = 1 };
	uint8_t iv[16] = { 3 }, *snap = malloc(N * LEN);
	struct wd_cipher_sess *s;
	struct wd_queue *q;
	struct wd_cpl c[N];
	struct fk_stats st;
	struct wd_req rq;
	int got = 0, k, ret;
	struct t_vc r;
	double t0;

	T_ASSERT(snap);
	T_OK(t_vc_open(&r, &o));
	q = t_vc_queue(&r, N, WD_QUEUE_F_NO_FALLBACK);
	T_OK(wd_cipher_sess_new(&s, q, WD_CIPHER_AES_CBC, key, 16));
	for (unsigned i = 0; i < N; i++) {
		wd_prep_encrypt(&rq, s, iv, r.iova + (uint64_t)i * LEN,
				r.iova + DST + (uint64_t)i * LEN, LEN);
		rq.tag = i;
		T_EQ(wd_send(q, &rq, 1), 1);
	}
	/* it held them all, asked for a reset, acknowledged it: all fail */
	for (t0 = t_now(); got < N;) {
		T_ASSERT(t_now() - t0 < 30);
		k = wd_wait(q, c, N, 1000);
		if (k == -ETIMEDOUT)
			continue;
		T_ASSERT(k > 0);
		for (int i = 0; i < k; i++, got++)
			T_EQ(c[i].status, -EIO);
	}
	/* the leases ended with them: the unshare does not wait */
	ret = wd_unshare(r.dom, r.iova, WD_UNSHARE_NOWAIT, 0);
	T_OK(ret);
	r.unshared = 1;
	T_ASSERT(fk_stopped(r.f));
	memcpy(snap, r.buf + DST, N * LEN);
	usleep(50 * 1000); /* the device writes every half millisecond */
	fk_stats(r.f, &st);
	T_ASSERT(!memcmp(snap, r.buf + DST, N * LEN));
	T_ASSERT(st.resets_lied > 0);
	T_ASSERT(st.bm_off);
	T_EQ(st.unmap_live, 0);
	T_EQ(st.faults, 0);
	wd_cipher_sess_free(s);
	wd_queue_free(q);
	t_vc_close(&r, &st);
	fprintf(stderr, "reset acknowledged %u time(s), not done: bus mastering off, "
		"%u late writes before it, none after\n", st.resets_lied, st.late_writes);
	free(snap);
	return 0;
}
