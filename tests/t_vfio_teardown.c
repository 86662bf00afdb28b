/* Tearing a queue down with requests in flight: the device finishes (or is
 * cut off from) what it holds, every submitted request is accounted for,
 * nothing leaks, and the next queue on the same virtqueue works. */
#include "t_vfio.h"

int main(void)
{
	static const uint8_t key[16] = { 7 };
	enum { N = 48, LEN = 64 * 1024 };
	struct wd_cipher_sess *s;
	struct wd_req r[N];
	struct wd_cpl c[N];
	struct t_vfio t;
	uint64_t src, dst;
	int i, round, got, ret = t_vfio_open(&t);

	if (ret)
		return ret;
	t_vfio_buf(&t, LEN, &src);
	t_vfio_buf(&t, (size_t)LEN * N, &dst);
	for (round = 0; round < 20; round++) {
		struct wd_queue *q = t_vfio_queue(&t, 64);

		T_OK(wd_cipher_sess_new(&s, q, WD_CIPHER_AES_CBC, key, 16));
		t_vfio_flood(q, s, src, dst, r, N, LEN);
		if (round & 1) {
			/* stop: what the device took completes, the rest is cancelled */
			T_OK(wd_queue_stop(q));
			for (got = 0; got < N;) {
				int n = wd_recv(q, c, N);

				T_ASSERT(n > 0);
				for (i = 0; i < n; i++)
					T_ASSERT(c[i].status == 0 || c[i].status == -ECANCELED);
				got += n;
			}
		}
		wd_cipher_sess_free(s);
		wd_queue_free(q); /* odd rounds reaped, even rounds dropped in flight */
	}
	/* the virtqueue is whole again: a full batch goes through */
	struct wd_queue *q = t_vfio_queue(&t, 64);

	T_OK(wd_cipher_sess_new(&s, q, WD_CIPHER_AES_CBC, key, 16));
	t_vfio_flood(q, s, src, dst, r, N, LEN);
	for (got = 0; got < N;) {
		int n = wd_wait(q, c, N, 5000);

		T_ASSERT(n > 0);
		for (i = 0; i < n; i++)
			T_EQ(c[i].status, 0);
		got += n;
	}
	/* all shares can go: nothing holds them */
	T_OK(wd_unshare(t.dom, src, WD_UNSHARE_NOWAIT, 0));
	T_OK(wd_unshare(t.dom, dst, WD_UNSHARE_NOWAIT, 0));
	fprintf(stderr, "20 teardowns with %d requests in flight: ok\n", N);
	wd_cipher_sess_free(s);
	wd_queue_free(q);
	t_vfio_close(&t);
	return 0;
}
