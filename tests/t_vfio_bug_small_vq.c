/* Regression: the VFIO driver took whatever virtqueue size the device
 * offered.  A request of 16 + 16 scatter-gather segments takes 34
 * descriptors (header, segments, status): on a 32-entry virtqueue it never
 * found room, waited forever and kept the thread spinning; below 3 entries
 * no request was taken at all (and sessions failed with -ENOSPC).  Such a
 * device is now passed over at probe (WD_DEBUG=1 says why); one of 64
 * entries, the smallest that holds the largest request, serves it (OpenSSL
 * checks the result). */
#include "t_vcfake.h"

enum { SEGS = VC_MAX_SEGS, SEG = 16, TABLES = 0, SRC = 65536, DST = 131072 };

static const uint8_t key[16] = { 7, 6, 5, 4 };

static void passed_over(uint16_t qsize)
{
	struct fk_opts o = { .nq = 1, .qsize = qsize };
	struct fk_stats st;
	struct t_vc r;

	T_EQ(t_vc_open(&r, &o), -ENODEV);
	t_vc_close(&r, &st);
	T_EQ(st.faults, 0);
	fprintf(stderr, "virtqueues of %3u entries: passed over\n", qsize);
}

/* One request of SEGS source and SEGS destination segments of SEG bytes. */
static void largest_request(uint16_t qsize)
{
	struct fk_opts o = { .nq = 1, .qsize = qsize };
	struct wd_range *t;
	struct wd_cipher_sess *s;
	struct wd_queue *q;
	struct fk_stats st;
	struct wd_req rq;
	struct wd_cpl c;
	uint8_t iv[16] = { 1 }, want[SEGS * SEG], got[SEGS * SEG];
	struct t_vc r;

	T_OK(t_vc_open(&r, &o));
	q = t_vc_queue(&r, 8, WD_QUEUE_F_NO_FALLBACK);
	T_OK(wd_cipher_sess_new(&s, q, WD_CIPHER_AES_CBC, key, 16));
	t = (struct wd_range *)(r.buf + TABLES);
	for (unsigned i = 0; i < SEGS; i++) {
		/* scattered: every other 16 bytes, so nothing merges */
		t[i] = (struct wd_range){ r.iova + SRC + i * 2 * SEG, SEG };
		t[SEGS + i] = (struct wd_range){ r.iova + DST + i * 2 * SEG, SEG };
		for (unsigned k = 0; k < SEG; k++)
			r.buf[SRC + i * 2 * SEG + k] = (uint8_t)(i * 31 + k);
	}
	wd_prep_encrypt(&rq, s, iv, r.iova + TABLES, r.iova + TABLES + SEGS * sizeof(*t), SEGS);
	rq.flags = WD_REQ_F_SRC_SG | WD_REQ_F_DST_SG;
	rq.dst_len = SEGS;
	rq.tag = 5;
	T_EQ(wd_send(q, &rq, 1), 1);
	T_EQ(wd_wait(q, &c, 1, 10000), 1);
	T_EQ(c.status, 0);
	T_EQ(c.result, SEGS * SEG);
	for (unsigned i = 0; i < SEGS; i++)
		memcpy(got + i * SEG, r.buf + SRC + i * 2 * SEG, SEG);
	t_vc_cbc(key, iv, got, SEGS * SEG, want);
	for (unsigned i = 0; i < SEGS; i++)
		T_ASSERT(!memcmp(r.buf + DST + i * 2 * SEG, want + i * SEG, SEG));
	wd_cipher_sess_free(s);
	wd_queue_free(q);
	t_vc_close(&r, &st);
	T_EQ(st.faults, 0);
	fprintf(stderr, "virtqueues of %3u entries: %u + %u segments done\n", qsize, SEGS, SEGS);
}

int main(void)
{
	passed_over(2);
	passed_over(32);
	largest_request(64);
	largest_request(128);
	return 0;
}
