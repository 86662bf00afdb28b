/* SPDX-License-Identifier: MIT */
/*
 * A virtio-crypto device driven from user space through VFIO: "vfio<N>".
 * The driver's internal header, shared by its files:
 *   vc_dev.c      probe, open, domain (VFIO DMA maps), monitor, release, ops
 *   vc_ctl.c      the control virtqueue; stopping an untrusted device
 *   vc_session.c  cipher sessions on the control virtqueue
 *   vcrypto.c     wd queues: one data virtqueue and one thread each
 */
#ifndef WD_VCRYPTO_H
#define WD_VCRYPTO_H

#include <linux/virtio_crypto.h>
#include <pthread.h>
#include <stdint.h>
#include <time.h>
#include <wd/crypto.h>

#include "../../ring/ring.h"
#include "virtio.h"

#define VC_DMA_LEN (4u << 20)           /* the driver's own DMA memory */
#define VC_VQ_SIZE 128                  /* virtqueue entries per data queue */
#define VC_MAX_SEGS 16                  /* scatter-gather segments per buffer */
/* descriptors of the largest request (header and IV, source and
 * destination segments, status) and of a control request: a device whose
 * virtqueues cannot hold one is passed over */
#define VC_CHAIN_MAX (2 * VC_MAX_SEGS + 2)
#define VC_CTL_CHAIN 3
#define VC_MAX_QUEUES 16
#define VC_CTL_TIMEOUT_MS 2000          /* a control request the device ignores */
#define VC_DRAIN_TIMEOUT_MS 2000        /* requests in flight at queue stop */
#define VC_REQ_TIMEOUT_MS 20000         /* a data request the device does not answer */

struct wd_domain;
struct wd_map;
struct vc_dev;

/* Header, IV and status of one request: what the device reads and writes
 * besides the data, in driver DMA memory, one per virtqueue entry. */
struct vc_slot {
	struct virtio_crypto_op_data_req hdr;
	uint8_t iv[WD_CIPHER_IV_LEN];
	uint8_t status;
} __attribute__((aligned(128)));

struct vc_hold {
	struct wd_map *map;
	uint64_t iova, len;
	int is_dst;
};

/* A request on the device: what its completion needs. */
struct vc_pending {
	uint64_t tag;
	uint32_t len;
	uint16_t session;               /* counted in vc_queue.sess_busy */
	int64_t due;                    /* vc_mono_ms() by which the device must answer */
	unsigned nheld;
	struct vc_hold held[2 * VC_MAX_SEGS + 2];
};

struct vc_sess {
	uint32_t algo;                  /* VIRTIO_CRYPTO_CIPHER_*; 0: unset */
	uint32_t mode;                  /* enum wd_cipher_alg */
	uint64_t id[2];                 /* the device's sessions: encrypt, decrypt */
};

/* One wd queue on one data virtqueue, served by its own thread. */
struct vc_queue {
	struct vc_dev *vd;
	struct wd_ring ring;            /* the device side's private view */
	uint32_t sq_head, cq_tail;
	uint32_t op_mask;
	struct wd_domain *dom;
	int cq_fd, kick_fd, irq_fd;
	unsigned qidx;                  /* data virtqueue */
	struct virtq *vq;               /* vd->dq[qidx], the thread's alone while it runs */
	struct vc_slot *slots;
	uint64_t slots_iova;
	struct vc_pending *pend;        /* by descriptor head */
	uint32_t dev_inflight;
	unsigned req_timeout_ms;
	int64_t next_due;               /* no deadline in flight is earlier */
	int sq_blocked;                 /* the SQ has requests, the virtqueue or CQ no room */
	pthread_mutex_t sess_lock;
	struct vc_sess sess[WD_MAX_SESSIONS + 1];
	/* requests of each session on the device: raised by the thread under
	 * sess_lock as it reads the session, lowered (atomic) once answered */
	uint32_t sess_busy[WD_MAX_SESSIONS + 1];
	pthread_t thread;
	int running, stop, broken;
	/* answered requests, failed ones, their bytes: written by the thread,
	 * read anywhere (relaxed atomics) */
	uint64_t nreq, nerr, bytes;
	int off_device;                 /* the thread will not touch the device again */
};

struct vc_dev {
	struct vfio_pci v;
	struct vpci t;
	struct dma_area dma;
	struct virtio_crypto_config cfg;
	uint32_t nq;                    /* data queues we use */
	pthread_mutex_t lock;           /* control queue, queue slots, domain */
	struct virtq ctlq;
	uint8_t *ctl;                   /* control request buffers */
	uint64_t ctl_iova;
	struct vc_queue *queues[VC_MAX_QUEUES];
	struct virtq dq[VC_MAX_QUEUES]; /* set up once, reused by queues while the device is sound */
	struct vc_slot *slots[VC_MAX_QUEUES];
	uint64_t slots_iova[VC_MAX_QUEUES];
	int irq_fds[VC_MAX_QUEUES];
	int msix;                       /* interrupts on eventfds */
	struct wd_domain *domain;       /* the one IOVA space the device has */
	int gone;                       /* the device stopped answering, broke the rules or is taken away */
	int stopped;                    /* under lock: 1 reset (it writes nothing any more), -1 it could not be */
	int released;                   /* its fd and BARs are given back to the kernel */
	int req_fd, stop_fd;            /* the kernel asks for it back; we stop watching */
	pthread_t monitor;
	int monitor_on;
	const char *algs[8];
};

static inline int64_t vc_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* vc_ctl.c */
/* Mark the device gone and make sure it writes nothing more (reset, or bus
 * mastering off): 0, or -EIO when neither worked.  Caller holds vd->lock. */
int vc_stop_device(struct vc_dev *vd);
int vc_stop_device_unlocked(struct vc_dev *vd);
/* Run one control request and wait for it; caller holds vd->lock. */
int vc_ctl_run(struct vc_dev *vd, const struct virtq_buf *b, unsigned n);
/* A virtio-crypto status as a negative errno (0: OK). */
int vc_status_errno(uint32_t st);

/* vc_session.c */
struct wd_queue;
struct wd_cipher_setup;
/* Close session id of a queue whose thread has stopped; caller holds vd->lock. */
void vc_sess_close(struct vc_dev *vd, struct vc_queue *cq, unsigned id);
int vc_cipher_session(struct wd_queue *q, unsigned id, const struct wd_cipher_setup *cs);

/* vcrypto.c: the wd queue ops */
int vc_queue_open(struct wd_queue *q);
void vc_queue_close(struct wd_queue *q, int in_child);
int vc_queue_start(struct wd_queue *q);
void vc_queue_stop(struct wd_queue *q, uint32_t *sq_head, uint32_t *cq_tail);
void vc_kick(struct wd_queue *q);
int vc_queue_stats(struct wd_queue *q, struct wd_queue_stats *st);

/* Test hook: reserved IOVA regions a device may have before it is passed
 * over (WD_MAX_RESV; a test lowers it to see one bad device skipped). */
extern unsigned wd__vfio_resv_max;
/* Test hook: how long a data request may wait for the device's answer
 * before the device is stopped and declared failed (VC_REQ_TIMEOUT_MS; a
 * test lowers it), read when a queue starts. */
extern unsigned wd__vfio_req_timeout_ms;
/* Test hook: when set, probe offers this function (a fake, v->fake set:
 * tests/vc_fake.c) instead of looking for real ones; the device takes over
 * its fd and leaves its BARs to it. */
extern const struct vfio_pci *wd__vfio_fake_fn;

#endif
