/* The device fails under a busy queue (here: reset behind the driver's
 * back, as a crashed or unplugged function looks): every request is still
 * answered - done, -EIO or cancelled - nothing hangs, the queue reports the
 * device dead, and no new queue is opened on it. */
#include "t_vfio.h"

int main(void)
{
	static const uint8_t key[16] = { 1 }, iv[16];
	enum { N = 48, LEN = 64 * 1024 };
	struct wd_queue_opts o = { .size = sizeof(o), .device = "vfio0",
				   .flags = WD_QUEUE_F_EXPLICIT };
	struct wd_cipher_sess *s;
	struct wd_queue *q, *q2 = NULL;
	struct wd_req r[N];
	struct wd_cpl c[N];
	struct t_vfio t;
	uint64_t src, dst;
	int i, n, got = 0, ok = 0, eio = 0, cancelled = 0, ret = t_vfio_open(&t);
	double t0;

	if (ret)
		return ret;
	q = t_vfio_queue(&t, 64);
	t_vfio_buf(&t, LEN, &src);
	t_vfio_buf(&t, (size_t)LEN * N, &dst);
	T_OK(wd_cipher_sess_new(&s, q, WD_CIPHER_AES_CBC, key, 16));
	for (i = 0; i < N; i++) {
		wd_prep_encrypt(&r[i], s, iv, src, dst + (uint64_t)i * LEN, LEN);
		r[i].tag = (uint64_t)i;
	}
	T_EQ(wd_send(q, r, N), N);
	vpci_reset(&t.vd->t); /* the device forgets everything it held */
	t0 = t_now();
	while (got < N && t_now() - t0 < 20) {
		n = wd_wait(q, c, N, 1000);
		if (n == -EIO)
			break;
		T_ASSERT(n >= 0);
		for (i = 0; i < n; i++) {
			ok += c[i].status == 0;
			eio += c[i].status == -EIO;
			T_ASSERT(c[i].status == 0 || c[i].status == -EIO);
		}
		got += n;
	}
	T_ASSERT(t_now() - t0 < 20);
	T_OK(wd_queue_stop(q)); /* what the driver never took is cancelled */
	while ((n = wd_recv(q, c, N)) > 0) {
		for (i = 0; i < n; i++) {
			cancelled += c[i].status == -ECANCELED;
			eio += c[i].status == -EIO;
			T_ASSERT(c[i].status == -ECANCELED || c[i].status == -EIO);
		}
		got += n;
	}
	fprintf(stderr, "device reset with %d in flight: %d done, %d -EIO, %d cancelled\n", N, ok,
		eio, cancelled);
	T_EQ(got, N);
	T_ASSERT(wd_send(q, r, 1) < 0);
	wd_cipher_sess_free(s);
	wd_queue_free(q);
	o.domain = t.dom;
	T_EQ(wd_queue_new(&q2, t.ctx, "cipher", &o), -EIO);
	t_vfio_close(&t);
	return 0;
}
