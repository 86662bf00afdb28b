/* The device fails under a busy queue (here: reset behind the driver's
 * back, as a crashed or unplugged function looks): every request is still
 * answered - done, -EIO or cancelled - nothing hangs, the queue reports the
 * device dead, and no new queue is opened on it. */
#include "t_vfio.h"

int main(void)
{
	static const uint8_t key[16] = { 1 };
	enum { N = 48, LEN = 64 * 1024 };
	struct wd_queue_opts o = { .size = sizeof(o), .device = "vfio0",
				   .flags = WD_QUEUE_F_EXPLICIT };
	struct wd_cipher_sess *s;
	struct wd_queue *q, *q2 = NULL;
	struct wd_req r[N];
	struct t_vfio t;
	uint64_t src, dst;
	int ok, eio, cancelled, ret = t_vfio_open(&t);

	if (ret)
		return ret;
	q = t_vfio_queue(&t, 64);
	t_vfio_buf(&t, LEN, &src);
	t_vfio_buf(&t, (size_t)LEN * N, &dst);
	T_OK(wd_cipher_sess_new(&s, q, WD_CIPHER_AES_CBC, key, 16));
	t_vfio_flood(q, s, src, dst, r, N, LEN);
	vpci_reset(&t.vd->t); /* the device forgets everything it held */
	t_vfio_account(q, N, &ok, &eio, &cancelled);
	fprintf(stderr, "device reset with %d in flight: %d done, %d -EIO, %d cancelled\n", N, ok,
		eio, cancelled);
	T_ASSERT(wd_send(q, r, 1) < 0);
	wd_cipher_sess_free(s);
	wd_queue_free(q);
	o.domain = t.dom;
	T_EQ(wd_queue_new(&q2, t.ctx, "cipher", &o), -EIO);
	t_vfio_close(&t);
	return 0;
}
