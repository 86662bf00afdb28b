/* Regression: the VFIO driver reported a request done, with its full
 * length, whatever length the device put in the used ring.  A success now
 * needs the used length to be the data and the status byte; otherwise the
 * request fails with -EIO.  The function played in process answers one
 * request of N with a length one byte short (data and status written as
 * for a success), then serves on:
 *   no fallback  that request fails with -EIO, the others are OpenSSL's,
 *                and the queue goes on (one bad answer is not a dead ring);
 *   fallback     the built-in engine runs that one again (WD_CPL_F_SOFT):
 *                all N are right, no device failure. */
#include "t_vcfake.h"

enum { N = 8, LEN = 256, DST = N * LEN };

static const uint8_t key[16] = { 0x5e, 0xc2, 0xe7 };

static void iv_of(unsigned i, uint8_t iv[16])
{
	memset(iv, 0, 16);
	iv[3] = (uint8_t)i;
}

static void request(struct t_vc *r, struct wd_cipher_sess *s, unsigned i, struct wd_req *rq)
{
	uint8_t iv[16];

	iv_of(i, iv);
	wd_prep_encrypt(rq, s, iv, r->iova + (uint64_t)i * LEN, r->iova + DST + (uint64_t)i * LEN,
			LEN);
	rq->tag = i;
}

static void check(const struct t_vc *r, const struct wd_cpl *c)
{
	uint8_t iv[16], want[LEN];

	T_EQ(c->status, 0);
	T_EQ(c->result, LEN);
	iv_of((unsigned)c->tag, iv);
	t_vc_cbc(key, iv, r->buf + c->tag * LEN, LEN, want);
	T_ASSERT(!memcmp(r->buf + DST + c->tag * LEN, want, LEN));
}

/* All N sent at once (the function misbehaves once it holds them all):
 * exactly one fails with -EIO, or comes from the built-in engine. */
static void run(int fallback)
{
	struct fk_opts o = { .bad = FK_SHORT_LEN, .hold = N, .nq = 1 };
	struct wd_queue_stats st = { .size = sizeof(st) };
	struct wd_cipher_sess *s;
	struct wd_queue *q;
	struct wd_cpl c[N];
	struct fk_stats fst;
	struct wd_req rq;
	int seen[N] = { 0 }, eio = 0, soft = 0, got = 0, k;
	struct t_vc r;

	T_OK(t_vc_open(&r, &o));
	for (unsigned i = 0; i < N * LEN; i++)
		r.buf[i] = (uint8_t)(i * 11 + 3);
	q = t_vc_queue(&r, N, fallback ? WD_QUEUE_F_FALLBACK_KEEP_KEYS : WD_QUEUE_F_NO_FALLBACK);
	T_OK(wd_cipher_sess_new(&s, q, WD_CIPHER_AES_CBC, key, 16));
	for (unsigned i = 0; i < N; i++) {
		request(&r, s, i, &rq);
		T_EQ(wd_send(q, &rq, 1), 1);
	}
	while (got < N) {
		k = wd_wait(q, c, N, 10000);
		T_ASSERT(k > 0);
		for (int i = 0; i < k; i++, got++) {
			T_ASSERT(c[i].tag < N);
			T_EQ(seen[c[i].tag]++, 0);
			if (c[i].status == -EIO && !fallback) {
				T_EQ(c[i].result, 0);
				eio++;
				continue;
			}
			check(&r, &c[i]);
			soft += !!(c[i].flags & WD_CPL_F_SOFT);
		}
	}
	fk_stats(r.f, &fst);
	T_EQ(fst.triggered, 1);
	T_EQ(fallback ? soft : eio, 1);
	T_EQ(fallback ? eio : soft, 0);
	/* the device goes on: its ring is not dead, the next request is its own */
	T_EQ(__atomic_load_n(&q->ring.ctl->dev_status, __ATOMIC_ACQUIRE), 0);
	request(&r, s, 0, &rq);
	c[0] = t_run(q, &rq);
	check(&r, &c[0]);
	T_ASSERT(!(c[0].flags & WD_CPL_F_SOFT));
	T_OK(wd_queue_stats(q, &st));
	T_EQ(st.device_failures, 0);
	if (fallback)
		T_EQ(st.soft_after_failure, 1);
	fprintf(stderr, "%-12s: 1 of %d answered a byte short: %s\n",
		fallback ? "fallback" : "no fallback", N,
		fallback ? "run again by the built-in engine" : "-EIO");
	wd_cipher_sess_free(s);
	wd_queue_free(q);
	t_vc_close(&r, &fst);
	T_EQ(fst.faults, 0);
}

int main(void)
{
	run(0);
	run(1);
	return 0;
}
