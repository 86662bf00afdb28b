/* Regression: closing a session of the VFIO driver left the queue's entry
 * naming its device sessions, and the device hands those ids out again,
 * here to another queue.  So a request on the freed wd id ran under the
 * other queue's key; making a session again on the freed id, or stopping
 * the queue, "closed" the stale entry once more and destroyed the other
 * queue's device sessions (its requests then ran under the new key, or
 * failed).  Two queues on the function played in process; every result is
 * checked against OpenSSL. */
#include "t_vcfake.h"

enum { LEN = 64, SRC = 0, DST = 4096 };

static const uint8_t iv[16] = { 9, 8, 7 };

/* Encrypt the source block with session on q: the completion's status;
 * the destination is OpenSSL's under key when it is 0 (key NULL: it must
 * not be). */
static int encrypt(struct t_vc *r, struct wd_queue *q, uint16_t session, const uint8_t *key)
{
	struct wd_req rq = { .op = WD_OP_ENCRYPT, .session = session, .len = LEN,
			     .src = r->iova + SRC, .dst = r->iova + DST, .tag = session };
	uint8_t want[LEN];
	struct wd_cpl c;

	memcpy(&rq.arg0, iv, 8);
	memcpy(&rq.arg1, iv + 8, 8);
	memset(r->buf + DST, 0xcc, LEN);
	c = t_run(q, &rq);
	if (c.status)
		return c.status;
	if (!key)
		T_FAIL("a request on closed session %u ran", session);
	T_EQ(c.result, LEN);
	t_vc_cbc(key, iv, r->buf + SRC, LEN, want);
	T_ASSERT(!memcmp(r->buf + DST, want, LEN));
	return 0;
}

/* A request naming a closed session fails and writes nothing. */
static void refused(struct t_vc *r, struct wd_queue *q, uint16_t session)
{
	uint8_t untouched[LEN];

	memset(untouched, 0xcc, LEN);
	T_EQ(encrypt(r, q, session, NULL), -EINVAL);
	T_ASSERT(!memcmp(r->buf + DST, untouched, LEN));
}

int main(void)
{
	static const uint8_t k1[16] = { 0x11 }, k2[16] = { 0x22 }, k3[16] = { 0x33 },
			     k4[16] = { 0x44 };
	struct fk_opts o = { .nq = 2 };
	struct wd_cipher_sess *sa, *sb, *sa2, *sc;
	struct wd_queue *qa, *qb;
	struct fk_stats st;
	struct t_vc r;
	uint16_t ida;

	T_OK(t_vc_open(&r, &o));
	memset(r.buf + SRC, 0x5a, LEN);
	qa = t_vc_queue(&r, 8, WD_QUEUE_F_NO_FALLBACK);
	qb = t_vc_queue(&r, 8, WD_QUEUE_F_NO_FALLBACK);

	/* A's session closed; B's new one gets the device ids it had */
	T_OK(wd_cipher_sess_new(&sa, qa, WD_CIPHER_AES_CBC, k1, 16));
	ida = wd_cipher_sess_id(sa);
	T_EQ(encrypt(&r, qa, ida, k1), 0);
	wd_cipher_sess_free(sa);
	T_OK(wd_cipher_sess_new(&sb, qb, WD_CIPHER_AES_CBC, k2, 16));
	T_EQ(encrypt(&r, qb, wd_cipher_sess_id(sb), k2), 0);
	refused(&r, qa, ida); /* never under B's key */

	/* a new session on A (the same wd id) leaves B's alone */
	T_OK(wd_cipher_sess_new(&sa2, qa, WD_CIPHER_AES_CBC, k3, 16));
	T_EQ(wd_cipher_sess_id(sa2), ida);
	T_EQ(encrypt(&r, qb, wd_cipher_sess_id(sb), k2), 0);
	T_EQ(encrypt(&r, qa, ida, k3), 0);
	wd_cipher_sess_free(sa2);
	refused(&r, qa, ida);
	T_EQ(encrypt(&r, qb, wd_cipher_sess_id(sb), k2), 0);

	/* B takes the freed ids again; stopping A closes none of them */
	wd_cipher_sess_free(sb);
	T_OK(wd_cipher_sess_new(&sc, qb, WD_CIPHER_AES_CBC, k4, 16));
	wd_queue_free(qa);
	T_EQ(encrypt(&r, qb, wd_cipher_sess_id(sc), k4), 0);

	wd_cipher_sess_free(sc);
	wd_queue_free(qb);
	t_vc_close(&r, &st);
	T_EQ(st.faults, 0);
	fprintf(stderr, "closed sessions refused, other queue's keys intact\n");
	return 0;
}
