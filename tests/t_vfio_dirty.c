/* Dirty tracking on a VFIO domain: the IOMMU's dirty-page ioctl runs next to
 * the driver's own record of what the device was asked to write; exactly
 * the pages the device wrote are reported, once. */
#include "t_vfio.h"

int main(void)
{
	static const uint8_t key[16] = { 3 }, iv[16];
	size_t ps = (size_t)sysconf(_SC_PAGESIZE), pages = 64;
	uint64_t src, dst, bm[1];
	struct wd_cipher_sess *s;
	struct wd_queue *q;
	struct wd_req r;
	struct t_vfio t;
	unsigned i;
	int ret = t_vfio_open(&t);

	if (ret)
		return ret;
	fprintf(stderr, "IOMMU dirty tracking: %s\n",
		t.vd->v.dirty_ok ? "offered by the kernel" : "not offered (library bits only)");
	q = t_vfio_queue(&t, 16);
	t_vfio_buf(&t, ps * pages, &src);
	t_vfio_buf(&t, ps * pages, &dst);
	T_OK(wd_cipher_sess_new(&s, q, WD_CIPHER_AES_CBC, key, 16));
	T_OK(wd_dirty_start(t.dom));
	T_EQ(wd_dirty_read_clear(t.dom, dst, ps * pages, bm), 0);
	/* the device writes pages 3, 10-11 and 40 of dst */
	const unsigned first[] = { 3, 10, 40 }, count[] = { 1, 2, 1 };

	for (i = 0; i < 3; i++) {
		wd_prep_encrypt(&r, s, iv, src, dst + first[i] * ps, (uint32_t)(count[i] * ps));
		r.tag = i;
		T_EQ(t_run(q, &r).status, 0);
	}
	T_EQ(wd_dirty_read_clear(t.dom, dst, ps * pages, bm), 4);
	T_EQ(bm[0], (1ull << 3) | (3ull << 10) | (1ull << 40));
	T_EQ(wd_dirty_read_clear(t.dom, src, ps * pages, bm), 0); /* only read */
	T_EQ(wd_dirty_read_clear(t.dom, dst, ps * pages, bm), 0); /* cleared */
	/* a partial read leaves the rest for later */
	wd_prep_encrypt(&r, s, iv, src, dst, (uint32_t)(pages * ps));
	T_EQ(t_run(q, &r).status, 0);
	T_EQ(wd_dirty_read_clear(t.dom, dst, ps * 32, bm), 32);
	T_EQ(wd_dirty_read_clear(t.dom, dst + ps * 32, ps * 32, bm), 32);
	T_OK(wd_dirty_stop(t.dom));
	fprintf(stderr, "dirty pages: exactly the written ones, once\n");
	wd_cipher_sess_free(s);
	wd_queue_free(q);
	t_vfio_close(&t);
	return 0;
}
