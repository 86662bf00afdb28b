/* SPDX-License-Identifier: MIT */
/*
 * Fault injection on the VFIO driver's control paths, against the
 * virtio-crypto function played in this process (tests/vc_fake.c): the
 * probe (the device's virtio set-up, its DMA area, the queues' memory and
 * interrupt eventfds, the release monitor), the domain, shares (DMA maps),
 * queues (their completion thread) and cipher sessions over the control
 * queue; the calling thread's calls fail.  The fake device is test equipment: made by a thread with
 * no role, it is never failed.  argv: scenario names (globs).
 */
#include <fcntl.h>
#include <stdlib.h>

#include "dev/vfio/vcrypto.h"
#include "fi_lib.h"
#include "vc_fake.h"

#define FAKE_FD 900             /* where the function's fd goes: see vfio_ctx */

/* AES-128-CBC, NIST SP 800-38A F.2.1, first block */
static const unsigned char cbc_key[16] = { 0x2b, 0x7e, 0x15, 0x16, 0x28, 0xae, 0xd2, 0xa6,
					   0xab, 0xf7, 0x15, 0x88, 0x09, 0xcf, 0x4f, 0x3c };
static const unsigned char cbc_iv[16] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15 };
static const unsigned char cbc_pt[16] = { 0x6b, 0xc1, 0xbe, 0xe2, 0x2e, 0x40, 0x9f, 0x96,
					  0xe9, 0x3d, 0x7e, 0x11, 0x73, 0x93, 0x17, 0x2a };
static const unsigned char cbc_ct[16] = { 0x76, 0x49, 0xab, 0xac, 0x81, 0x19, 0xb2, 0x46,
					  0xce, 0xe9, 0x8e, 0x9b, 0x12, 0xe9, 0x19, 0x7d };

static struct fk_dev *fake_new(void)
{
	struct fk_opts o = { .nq = 1 };
	struct fk_dev *f;

	fi_set_role(FI_ROLE_NONE); /* its thread and calls are not the driver's */
	f = fk_new(&o);
	fi_set_role(FI_ROLE_CLIENT);
	FI_ASSERT(f != NULL);
	return f;
}

/*
 * A context that finds the fake function.  The driver takes its fd over
 * and closes it when it gives up on the device - unless it gave up before
 * taking it (no memory for its own record), or the context failed before
 * the VFIO probe: then it is still ours.  Kept at a high number, which no
 * other descriptor takes meanwhile, it tells.  (A real function's fds are
 * opened by the driver itself: this is the test seam's only.)
 */
static int vfio_ctx(struct wd_ctx **ctx, struct fk_dev *f)
{
	struct wd_ctx_opts o = { .size = sizeof(o), .soft_threads = 1 };
	struct vfio_pci *v;
	int ret;

	fi_set_role(FI_ROLE_NONE);
	v = (struct vfio_pci *)fk_fn(f);
	FI_ASSERT(fcntl(v->device, F_DUPFD_CLOEXEC, FAKE_FD) == FAKE_FD);
	close(v->device);
	v->device = FAKE_FD;
	fi_set_role(FI_ROLE_CLIENT);
	wd__vfio_fake_fn = v;
	ret = wd_ctx_new(ctx, &o);
	wd__vfio_fake_fn = NULL;
	if ((ret || !wd_dev_by_name(*ctx, "vfio0")) && fcntl(FAKE_FD, F_GETFD) >= 0)
		close(FAKE_FD);
	return ret;
}

/* The device came up, or a failure made the driver pass it over (a
 * context without vfio0: degraded); then a new context must find it. */
static struct wd_ctx *vfio_ctx_checked(struct wd_ctx *ctx, struct fk_dev *f)
{
	if (wd_dev_by_name(ctx, "vfio0"))
		return ctx;
	if (!fi_injected())
		FI_FAIL("no vfio0 with nothing injected");
	fi_degraded("a context without vfio0");
	fi_ctx_free(ctx);
	fi_stop();
	FI_ASSERT(vfio_ctx(&ctx, f) == 0);
	FI_ASSERT(wd_dev_by_name(ctx, "vfio0") != NULL);
	return ctx;
}

/* Encrypt one block through the ring (the device's own path); the status. */
static int encrypt_block(struct wd_queue *q, struct wd_cipher_sess *s, uint64_t src,
			 uint64_t dst)
{
	struct wd_req r;

	wd_prep_encrypt(&r, s, cbc_iv, src, dst, 16);
	return fi_run_req(q, &r).status;
}

static void sc_vfio(const struct fi_scenario *sc)
{
	FI_BUF(buf, FI_PAGE);
	struct fk_dev *f = fake_new();
	struct wd_ctx *ctx = NULL;
	struct wd_domain *d = NULL;
	struct wd_cipher_sess *s = NULL;
	struct wd_queue *q;
	uint64_t iova;

	fi_start();
	FI_TRY(vfio_ctx(&ctx, f));
	ctx = vfio_ctx_checked(ctx, f);
	FI_TRY(wd_domain_new(&d, ctx, "vfio0"));
	q = fi_queue(ctx, "cipher", "vfio0", WD_QUEUE_F_EXPLICIT, d);
	FI_TRY(wd_share(d, buf, sizeof(buf), 0, &iova));
	FI_TRY(wd_cipher_sess_new(&s, q, WD_CIPHER_AES_CBC, cbc_key, sizeof(cbc_key)));
	memcpy(buf, cbc_pt, 16);
	FI_TRY(encrypt_block(q, s, iova, iova + 16));
	FI_ASSERT(!memcmp(buf + 16, cbc_ct, 16));
	wd_cipher_sess_free(s);
	FI_TRY(wd_unshare(d, iova, 0, 1000));
	wd_queue_free(q);
	FI_TRY(wd_domain_free(d));
	fi_stop();
	fi_ctx_free(ctx);
	fk_free(f);
}

static const struct fi_scenario scenarios[] = {
	/* the driver's own threads (a queue's, the release monitor) take
	 * nothing: no scenario for them */
	{ "vfio", FI_ROLE_CLIENT, sc_vfio, 0 },
};

int main(int argc, char **argv)
{
	setenv("WD_WDD_SOCKET", "/nonexistent/wdd.sock", 1);
	unsetenv("WD_VFIO_DEVICE");
	return fi_main(argc, argv, scenarios, sizeof(scenarios) / sizeof(scenarios[0]));
}
