/* Addresses a request may not name: an IOVA nobody shared, one past the end
 * of a shared range, one unshared a moment ago, the driver's own window.
 * Each gets -EFAULT from the driver; the device never sees it, and the
 * queue keeps working. */
#include "t_vfio.h"

static int do_crypt(struct wd_queue *q, struct wd_cipher_sess *s, uint64_t src, uint64_t dst,
		 unsigned len)
{
	static const uint8_t iv[16];
	struct wd_req r;

	wd_prep_encrypt(&r, s, iv, src, dst, len);
	r.tag = 5;
	return t_run(q, &r).status;
}

int main(void)
{
	static const uint8_t key[16] = { 9 };
	struct wd_cipher_sess *s;
	struct wd_queue *q;
	struct t_vfio t;
	uint64_t a, b, gone;
	uint8_t *pa, *pb, *pg;
	int ret = t_vfio_open(&t);

	if (ret)
		return ret;
	q = t_vfio_queue(&t, 16);
	pa = t_vfio_buf(&t, 8192, &a);
	pb = t_vfio_buf(&t, 8192, &b);
	pg = t_vfio_buf(&t, 4096, &gone);
	T_OK(wd_cipher_sess_new(&s, q, WD_CIPHER_AES_CBC, key, 16));
	memset(pa, 0x5a, 8192);
	T_EQ(do_crypt(q, s, a, b, 8192), 0);

	T_EQ(do_crypt(q, s, 0x7fff0000ull, b, 64), -EFAULT);       /* never shared */
	T_EQ(do_crypt(q, s, a, 0x7fff0000ull, 64), -EFAULT);
	T_EQ(do_crypt(q, s, a + 8192 - 32, b + 4096, 64), -EFAULT); /* runs past the end */
	T_EQ(do_crypt(q, s, a, b + 8192 - 32, 64), -EFAULT);
	T_OK(wd_unshare(t.dom, gone, 0, 1000));
	T_EQ(do_crypt(q, s, gone, b, 64), -EFAULT);                /* unshared */
	T_EQ(do_crypt(q, s, t.vd->dma.iova, b, 64), -EFAULT);      /* the driver's rings */
	T_EQ(do_crypt(q, s, a, t.vd->dma.iova, 64), -EFAULT);
	T_EQ(do_crypt(q, s, ~0ull - 16, b, 64), -EFAULT);          /* wraps */
	/* lengths, before any address is looked at */
	T_EQ(do_crypt(q, s, a, b, 0), 0);                       /* empty: nothing to do */
	T_EQ(do_crypt(q, s, a, b, 17), -EINVAL);                /* CBC: whole blocks */
	T_EQ(do_crypt(q, s, a, b, WD_CIPHER_LEN_MAX + 16), -EMSGSIZE);
	memset(pb, 0, 64);
	T_EQ(do_crypt(q, s, a, b, 8192), 0);                       /* still works */
	T_ASSERT(pb[0] || pb[1] || pb[2]);
	(void)pg;
	fprintf(stderr, "bad addresses: -EFAULT each, queue still serves\n");
	wd_cipher_sess_free(s);
	wd_queue_free(q);
	t_vfio_close(&t);
	return 0;
}
