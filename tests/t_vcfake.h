/* A context whose vfio0 is the virtio-crypto function played in this
 * process (vc_fake.h), a domain on it and one shared buffer: the rig of the
 * VFIO driver's regression tests, with OpenSSL as the reference. */
#ifndef T_VCFAKE_H
#define T_VCFAKE_H

#include <openssl/evp.h>
#include <sys/mman.h>
#include <wd/crypto.h>
#include <wd/mem.h>

#include "t_helpers.h"
#include "core/internal.h"
#include "dev/vfio/vcrypto.h"
#include "vc_fake.h"

#define T_VC_BUF (1u << 20)

struct t_vc {
	struct fk_dev *f;
	struct wd_ctx *ctx;
	struct wd_domain *dom;
	uint8_t *buf;           /* T_VC_BUF bytes, shared at iova */
	uint64_t iova;
	int unshared;           /* the test unshared buf itself */
};

/* A new fake function as o says (*f) and a context that probed it. */
static inline struct wd_ctx *t_vc_fake_ctx(const struct fk_opts *o, struct fk_dev **f)
{
	struct wd_ctx *ctx;

	*f = fk_new(o);
	T_ASSERT(*f);
	wd__vfio_fake_fn = fk_fn(*f);
	ctx = t_ctx(1, 0);
	wd__vfio_fake_fn = NULL;
	return ctx;
}

/* -ENODEV when the driver passed the function over. */
static inline int t_vc_open(struct t_vc *r, const struct fk_opts *o)
{
	memset(r, 0, sizeof(*r));
	r->ctx = t_vc_fake_ctx(o, &r->f);
	if (!wd_dev_by_name(r->ctx, "vfio0"))
		return -ENODEV;
	T_OK(wd_domain_new(&r->dom, r->ctx, "vfio0"));
	r->buf = mmap(NULL, T_VC_BUF, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	T_ASSERT(r->buf != MAP_FAILED);
	T_OK(wd_share(r->dom, r->buf, T_VC_BUF, 0, &r->iova));
	return 0;
}

/* A cipher queue on vfio0 with flags besides WD_QUEUE_F_EXPLICIT. */
static inline struct wd_queue *t_vc_queue(struct t_vc *r, unsigned depth, unsigned flags)
{
	struct wd_queue_opts qo = { .size = sizeof(qo), .depth = depth, .device = "vfio0",
				    .flags = WD_QUEUE_F_EXPLICIT | flags, .domain = r->dom };
	struct wd_queue *q = NULL;

	T_OK(wd_queue_new(&q, r->ctx, "cipher", &qo));
	return q;
}

/* Queues and sessions freed by the caller first. */
static inline void t_vc_close(struct t_vc *r, struct fk_stats *st)
{
	if (r->dom) {
		if (!r->unshared)
			T_OK(wd_unshare(r->dom, r->iova, 0, -1));
		T_OK(wd_domain_free(r->dom));
	}
	wd_ctx_free(r->ctx);
	fk_stats(r->f, st);
	fk_free(r->f);
	if (r->buf)
		munmap(r->buf, T_VC_BUF);
}

/* AES-128-CBC of len bytes, as OpenSSL computes it. */
static inline void t_vc_cbc(const uint8_t key[16], const uint8_t iv[16], const uint8_t *in,
			    int len, uint8_t *out)
{
	EVP_CIPHER_CTX *x = EVP_CIPHER_CTX_new();
	int a = 0, b = 0;

	T_ASSERT(x && EVP_EncryptInit_ex(x, EVP_aes_128_cbc(), NULL, key, iv));
	EVP_CIPHER_CTX_set_padding(x, 0);
	T_ASSERT(EVP_EncryptUpdate(x, out, &a, in, len) && EVP_EncryptFinal_ex(x, out + a, &b));
	T_EQ(a + b, len);
	EVP_CIPHER_CTX_free(x);
}

#endif
