/* The fake virtio-crypto function's insides, shared by its two files:
 * vc_fake.c (config space, registers, IOMMU, life) and vc_fake_dev.c (the
 * device thread: virtqueues, sessions, ciphers, misbehaviour). */
#ifndef VC_FAKE_INT_H
#define VC_FAKE_INT_H

#include <linux/virtio_crypto.h>
#include <pthread.h>
#include <stdint.h>

#include "dev/vfio/virtq.h"
#include "vc_fake.h"

#define BAR_LEN 0x4000
#define COMMON_OFF 0x0000
#define NOTIFY_OFF 0x1000
#define ISR_OFF 0x2000
#define DEV_OFF 0x3000
#define NOTIFY_MULT 4
#define FK_MAXQ 3               /* two data queues and the control queue */
#define FK_SEGS 40
#define FK_SESS 64
#define FK_CTL_DELAY_MS 3000    /* past the driver's 2 s */

struct fk_seg {
	uint64_t iova;
	uint32_t len;
};

struct fk_req {
	uint16_t head;
	unsigned nr, nw;
	uint32_t wlen;
	struct fk_seg r[FK_SEGS], w[FK_SEGS];
	int64_t due;            /* a late control answer */
};

struct fk_vq {
	uint16_t size, msix, enable;
	uint64_t desc, avail, used;
	uint16_t last_avail, used_idx;
	unsigned ntaken;
	struct fk_req *taken;   /* VIRTQ_MAX_SIZE */
};

struct fk_map {
	uint64_t iova, len;
	uint8_t *host;
	int ro;
};

struct fk_sess {
	uint32_t algo, op, keylen;
	uint8_t key[64];
	int used;
};

struct fk_dev {
	struct fk_opts o;
	pthread_mutex_t lock;
	pthread_cond_t kick;
	pthread_t thread;
	int quit, cfg_fd;
	struct vfio_fake ops;
	struct vfio_pci fn;
	/* registers */
	uint8_t status, gen;
	int gone, ever_ok;
	uint32_t dfsel, gfsel, gf[2];
	uint16_t qsel;
	struct virtio_crypto_config cfg;
	struct fk_vq vq[FK_MAXQ];
	struct fk_map maps[64];
	unsigned nmaps;
	struct fk_sess sess[FK_SESS];
	struct fk_stats st;
};

static inline unsigned nqueues(const struct fk_dev *f)
{
	return f->o.nq + 1;
}

/* vc_fake.c */
int fk_bm_on(struct fk_dev *f);
/* Reset (acknowledged) since DRIVER_OK, or bus mastering off. */
int fk_is_stopped(struct fk_dev *f);
/* vc_fake_dev.c: the device thread, under f->lock but while it waits */
void *fk_main(void *arg);
int fk_harmless(enum fk_bad b);

#endif
