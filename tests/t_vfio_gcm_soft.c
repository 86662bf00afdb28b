/* AES-GCM with a virtio-crypto function present (played in this process by
 * vc_fake.c, as in t_vfio_fakedev): virtio-crypto backends in QEMU offer no
 * AEAD, so vfio0 does not list "aes-gcm"; a queue opened for "aes-gcm" goes
 * to soft0 and serves GCM there; vfio0 refuses a GCM session cleanly
 * (-EOPNOTSUPP from the library on a queue without the fallback, and from
 * its driver's session hook called directly); AEAD fields on a vfio0
 * request of another mode are refused.  With the fallback (the default) a
 * GCM session on a vfio0 queue lives on the built-in engine: a message in
 * shared memory comes back right, with WD_CPL_F_SOFT. */
#include <openssl/evp.h>
#include <sys/mman.h>
#include <wd/crypto.h>
#include <wd/mem.h>

#include "t_gcm.h"
#include "core/internal.h"
#include "dev/vfio/vcrypto.h"
#include "vc_fake.h"

static const uint8_t key[16] = { 0x2b, 0x7e, 0x15, 0x16, 0x28, 0xae, 0xd2, 0xa6 };

static void on_soft(struct wd_ctx *ctx)
{
	struct wd_queue_info qi = { .size = sizeof(qi) };
	struct wd_queue *q = t_queue(ctx, "aes-gcm", 8);
	struct wd_cipher_sess *s = t_sess(q, WD_CIPHER_AES_GCM, key, 16);
	uint8_t iv[12] = { 1 }, in[100] = { 2 }, o[100], want[100], tag[16], rtag[16];

	T_OK(wd_queue_info(q, &qi));
	if (strcmp(qi.device, "soft0"))
		T_FAIL("an aes-gcm queue went to %s", qi.device);
	T_OK(wd_aead_encrypt(s, iv, 12, "ad", 2, in, o, sizeof(in), tag, 16));
	t_gcm_evp_run(key, 16, iv, 12, (const uint8_t *)"ad", 2, in, want, sizeof(in), rtag, 16, 1);
	T_ASSERT(!memcmp(o, want, sizeof(o)) && !memcmp(tag, rtag, 16));
	wd_cipher_sess_free(s);
	wd_queue_free(q);
}

static void on_vfio(struct wd_ctx *ctx)
{
	struct wd_queue_opts o = { .size = sizeof(o), .depth = 8, .device = "vfio0",
				   .flags = WD_QUEUE_F_EXPLICIT };
	struct wd_cipher_setup cs = { .alg = WD_CIPHER_AES_GCM, .key_len = 16 };
	struct wd_queue *q = NULL;
	struct wd_cipher_sess *s;
	void *m = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uint64_t iova;
	struct wd_req r;
	int ret;

	ret = wd_queue_new(&q, ctx, "aes-gcm", &o);
	printf("an aes-gcm queue on vfio0: %d (%s)\n", ret, wd_strerror(ret));
	T_ASSERT(ret < 0 && !q);
	o.flags |= WD_QUEUE_F_NO_FALLBACK;
	T_OK(wd_queue_new(&q, ctx, "cipher", &o));
	T_EQ(wd_cipher_sess_new(&s, q, WD_CIPHER_AES_GCM, key, 16), -EOPNOTSUPP);
	/* the driver itself, should the library ever ask it */
	memcpy(cs.key, key, 16);
	T_EQ(q->ops->cipher_session(q, 5, &cs), -EOPNOTSUPP);
	cs.alg = 200;
	T_EQ(q->ops->cipher_session(q, 5, &cs), -EOPNOTSUPP);
	/* a CBC session takes no AEAD part */
	T_ASSERT(m != MAP_FAILED);
	T_OK(wd_share(wd_queue_domain(q), m, 8192, 0, &iova));
	s = t_sess(q, WD_CIPHER_AES_CBC, key, 16);
	wd_prep_aead(&r, WD_OP_ENCRYPT, s,
		     WD_AEAD_P_INIT | WD_AEAD_P_FINAL | WD_AEAD_P_IVLEN(12) | WD_AEAD_P_TAGLEN(16),
		     iova, 0, iova + 4096, iova + 4096, 64);
	r.tag = 1;
	T_EQ(t_run(q, &r).status, -EINVAL);
	T_EQ(wd_aead_encrypt(s, key, 12, NULL, 0, NULL, NULL, 0, (uint8_t *)m, 16), -EINVAL);
	wd_cipher_sess_free(s);
	T_OK(wd_unshare(wd_queue_domain(q), iova, 0, -1));
	wd_queue_free(q);
	munmap(m, 8192);
}

/* With the fallback: the session the device refuses lives on the built-in
 * engine; one whole message [IV][AAD][tag] + text in shared memory. */
static void on_vfio_fallback(struct wd_ctx *ctx)
{
	struct wd_queue_opts o = { .size = sizeof(o), .depth = 8, .device = "vfio0",
				   .flags = WD_QUEUE_F_EXPLICIT };
	struct wd_queue_stats st = { .size = sizeof(st) };
	uint8_t *m = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uint8_t want[100], tag[16];
	struct wd_cipher_sess *s;
	struct wd_queue *q;
	struct wd_req r;
	struct wd_cpl c;
	uint64_t iova;

	T_ASSERT(m != MAP_FAILED);
	T_OK(wd_queue_new(&q, ctx, "cipher", &o));
	T_OK(wd_share(wd_queue_domain(q), m, 8192, 0, &iova));
	s = t_sess(q, WD_CIPHER_AES_GCM, key, 16);
	memset(m, 7, 12);                               /* IV */
	memcpy(m + 12, "ad", 2);                        /* AAD, then the tag slot */
	memset(m + 4096, 3, 100);                       /* text */
	wd_prep_aead(&r, WD_OP_ENCRYPT, s,
		     WD_AEAD_P_INIT | WD_AEAD_P_FINAL | WD_AEAD_P_IVLEN(12) | WD_AEAD_P_TAGLEN(16),
		     iova, 2, iova + 4096, iova + 6144, 100);
	r.tag = 9;
	c = t_run(q, &r);
	T_EQ(c.status, 0);
	T_EQ(c.result, 100);
	T_ASSERT(c.flags & WD_CPL_F_SOFT);
	t_gcm_evp_run(key, 16, m, 12, m + 12, 2, m + 4096, want, 100, tag, 16, 1);
	T_ASSERT(!memcmp(m + 6144, want, 100) && !memcmp(m + 14, tag, 16));
	T_OK(wd_queue_stats(q, &st));
	T_EQ(st.soft_after_refusal, 1);
	wd_cipher_sess_free(s);
	T_OK(wd_unshare(wd_queue_domain(q), iova, 0, -1));
	wd_queue_free(q);
	munmap(m, 8192);
}

int main(void)
{
	struct fk_opts o = { .nq = 1 };
	struct fk_dev *f = fk_new(&o);
	struct wd_ctx *ctx;
	struct wd_dev *dev;

	T_ASSERT(f);
	wd__vfio_fake_fn = fk_fn(f);
	ctx = t_ctx(1, 0);
	wd__vfio_fake_fn = NULL;
	dev = wd_dev_by_name(ctx, "vfio0");
	T_ASSERT(dev);
	T_ASSERT(wd_dev_has_alg(dev, "cipher") && wd_dev_has_alg(dev, "aes-cbc"));
	T_ASSERT(!wd_dev_has_alg(dev, "aes-gcm"));
	T_ASSERT(wd_dev_has_alg(wd_dev_by_name(ctx, "soft0"), "aes-gcm"));
	on_soft(ctx);
	on_vfio(ctx);
	on_vfio_fallback(ctx);
	wd_ctx_free(ctx);
	fk_free(f);
	return 0;
}
