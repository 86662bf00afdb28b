/* Regression: a device that takes data requests and never answers, its
 * status register sound all along, hung the VFIO driver's queue for good,
 * and its thread spun on a core (the virtqueue full, the SQ holding more:
 * it never slept).  Now each request has a deadline (the driver's
 * VC_REQ_TIMEOUT_MS, lowered here through wd__vfio_req_timeout_ms): past
 * it the device is stopped and declared failed.
 *   fallback     every request completes right (OpenSSL) on the built-in
 *                engine, counted as one device failure; while the device
 *                stalls, the driver thread sleeps (its CPU time, loosely);
 *   no fallback  every request taken fails with -EIO, the ring is dead
 *                (-EIO), the others are cancelled at stop.
 * Separate source and destination: the device may have written what it
 * was given, and only a request that did not run in place is run again. */
#include <pthread.h>
#include <time.h>
#include <unistd.h>

#include "t_vcfake.h"

enum { N = 64, LEN = 4096, DST = N * LEN, TIMEOUT_MS = 2000 };

static const uint8_t key[16] = { 0x2b, 0x7e, 0x15, 0x16 };

static void iv_of(unsigned i, uint8_t iv[16])
{
	memset(iv, 0, 16);
	iv[0] = (uint8_t)i;
	iv[15] = 0xa5;
}

/* N requests: 32 fill the virtqueue (4 descriptors each), the rest wait. */
static void send_all(struct t_vc *r, struct wd_queue *q, struct wd_cipher_sess *s)
{
	struct wd_req rq;
	uint8_t iv[16];

	for (unsigned i = 0; i < N; i++) {
		iv_of(i, iv);
		wd_prep_encrypt(&rq, s, iv, r->iova + (uint64_t)i * LEN,
				r->iova + DST + (uint64_t)i * LEN, LEN);
		rq.tag = i;
		T_EQ(wd_send(q, &rq, 1), 1);
	}
}

/* CPU seconds of a thread that still runs (before the deadline); < 0
 * when this machine was too slow to look in time. */
static double thread_cpu(pthread_t t, double t0)
{
	struct timespec ts;
	clockid_t c;

	if (t_now() - t0 > TIMEOUT_MS / 1e3 * 0.9 || pthread_getcpuclockid(t, &c) ||
	    clock_gettime(c, &ts))
		return -1;
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* While the device holds requests and says nothing, before the deadline:
 * the thread is asleep most of the time.  Loose (half of one core), and
 * not judged when this machine was too slow to look in time. */
static void check_sleeps(struct wd_queue *q, double t0)
{
	struct vc_queue *cq = q->drv;
	double c0, c1, w0, w1;

	usleep(250 * 1000);
	w0 = t_now();
	c0 = thread_cpu(cq->thread, t0);
	usleep(1000 * 1000);
	w1 = t_now();
	c1 = c0 < 0 ? -1 : thread_cpu(cq->thread, t0);
	if (c1 < 0) {
		fprintf(stderr, "(too slow to measure the stall: CPU not judged)\n");
		return;
	}
	fprintf(stderr, "stalled: the driver thread used %.0f%% of a core\n",
		100 * (c1 - c0) / (w1 - w0));
	T_ASSERT(c1 - c0 < 0.5 * (w1 - w0));
}

static void fill(struct t_vc *r)
{
	for (unsigned i = 0; i < N * LEN; i++)
		r->buf[i] = (uint8_t)(i * 13 + i / 509);
}

/* The rig on a stalling function, a queue with flags and a session on it,
 * and every request sent; *t0 is when the sending began. */
static struct wd_queue *stall_start(struct t_vc *r, unsigned flags, struct wd_cipher_sess **s,
				    double *t0)
{
	struct fk_opts o = { .bad = FK_STALL, .nq = 1 };
	struct wd_queue *q;

	T_OK(t_vc_open(r, &o));
	fill(r);
	q = t_vc_queue(r, N, flags);
	T_OK(wd_cipher_sess_new(s, q, WD_CIPHER_AES_CBC, key, 16));
	*t0 = t_now();
	send_all(r, q, *s);
	return q;
}

static void fallback(void)
{
	struct wd_queue_stats st = { .size = sizeof(st) };
	struct wd_cipher_sess *s;
	struct wd_cpl c[N];
	struct fk_stats fst;
	struct wd_queue *q;
	uint8_t iv[16], want[LEN];
	int seen[N] = { 0 };
	unsigned got = 0;
	struct t_vc r;
	double t0;

	q = stall_start(&r, WD_QUEUE_F_FALLBACK_KEEP_KEYS, &s, &t0);
	check_sleeps(q, t0);
	while (got < N) {
		int k = wd_wait(q, c, N, 1000);

		T_ASSERT(t_now() - t0 < 30);
		if (k == -ETIMEDOUT)
			continue;
		T_ASSERT(k > 0);
		for (int i = 0; i < k; i++, got++) {
			T_ASSERT(c[i].tag < N);
			T_EQ(seen[c[i].tag]++, 0);
			T_EQ(c[i].status, 0);
			T_EQ(c[i].result, LEN);
			T_ASSERT(c[i].flags & WD_CPL_F_SOFT);
			iv_of((unsigned)c[i].tag, iv);
			t_vc_cbc(key, iv, r.buf + c[i].tag * LEN, LEN, want);
			T_ASSERT(!memcmp(r.buf + DST + c[i].tag * LEN, want, LEN));
		}
	}
	fprintf(stderr, "fallback: %d requests done by the built-in engine after %.1f s\n", N,
		t_now() - t0);
	T_OK(wd_queue_stats(q, &st));
	T_EQ(st.device_failures, 1);
	T_EQ(st.soft_after_failure, N);
	T_EQ(st.lost_in_failure, 0);
	T_ASSERT(fk_stopped(r.f));
	wd_cipher_sess_free(s);
	wd_queue_free(q);
	t_vc_close(&r, &fst);
	T_EQ(fst.faults, 0);
	T_EQ(fst.unmap_live, 0);
}

static void no_fallback(void)
{
	struct wd_cipher_sess *s;
	struct wd_cpl c[N];
	struct fk_stats fst;
	struct wd_queue *q;
	int seen[N] = { 0 }, eio = 0, k;
	unsigned got = 0;
	struct t_vc r;
	double t0;

	q = stall_start(&r, WD_QUEUE_F_NO_FALLBACK, &s, &t0);
	/* the requests the device held fail, then the ring says it is dead */
	while ((k = wd_wait(q, c, N, 1000)) != -EIO) {
		T_ASSERT(t_now() - t0 < 30);
		if (k == -ETIMEDOUT)
			continue;
		T_ASSERT(k > 0);
		for (int i = 0; i < k; i++, got++) {
			T_ASSERT(c[i].tag < N);
			T_EQ(seen[c[i].tag]++, 0);
			T_EQ(c[i].status, -EIO);
			eio++;
		}
	}
	T_ASSERT(eio > 0);
	T_EQ(wd_send(q, &(struct wd_req){ .op = WD_OP_NOP }, 1), -EIO);
	T_OK(wd_queue_stop(q));
	while ((k = wd_recv(q, c, N)) > 0)
		for (int i = 0; i < k; i++, got++) {
			T_EQ(seen[c[i].tag]++, 0);
			T_ASSERT(c[i].status == -ECANCELED || c[i].status == -EIO);
		}
	T_EQ(got, N);
	fprintf(stderr, "no fallback: %d failed with -EIO after %.1f s, %u cancelled\n", eio,
		t_now() - t0, N - eio);
	T_ASSERT(fk_stopped(r.f));
	wd_cipher_sess_free(s);
	wd_queue_free(q);
	t_vc_close(&r, &fst);
	T_EQ(fst.faults, 0);
	T_EQ(fst.unmap_live, 0);
}

int main(void)
{
	wd__vfio_req_timeout_ms = TIMEOUT_MS;
	fallback();
	no_fallback();
	return 0;
}
