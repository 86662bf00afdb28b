/* A virtio-crypto PCI function played in this process, for the VFIO driver
 * (src/dev/vfio) to drive through its real request path with no QEMU:
 * config space in a memfd, BAR 0 as register callbacks, DMA through an
 * IOVA -> host table the driver's maps fill (struct vfio_fake).  A thread
 * serves the control queue (sessions) and the data queues (AES-CBC/CTR with
 * OpenSSL EVP on the shared buffers), and misbehaves on command. */
#ifndef VC_FAKE_H
#define VC_FAKE_H

#include <stdint.h>

#include "dev/vfio/vfio.h"

enum fk_bad {
	FK_NONE,                /* a sound device */
	FK_DUP_USED,            /* completes a request, then names it again */
	FK_RANGE_USED,          /* a used id past the ring */
	FK_UNISSUED_USED,       /* a used id never made available */
	FK_IDX_JUMP,            /* used->idx far past what it was given */
	FK_LEN_PAST,            /* a used length past the writable bytes */
	FK_DESC_REWRITE,        /* scribbles on descriptors it consumed (harmless) */
	FK_NEEDS_RESET,         /* sets NEEDS_RESET and answers nothing more */
	FK_GONE,                /* reads all ones, ignores writes: surprise removal */
	FK_CFG_CHANGE,          /* its configuration changes under the driver (harmless) */
	FK_CTL_LATE,            /* answers control requests after the driver gave up */
	FK_STALL,               /* takes data requests, answers none, status stays sound */
	FK_SHORT_LEN,           /* answers one request (fully written, status OK) with a used
				 * length a byte short, then serves on */
	FK_NBAD
};

struct fk_opts {
	enum fk_bad bad;
	unsigned hold;          /* answer nothing until this many data requests are taken,
				 * then misbehave once (and for good, unless harmless) */
	int no_reset_ack;       /* once misbehaving, never read back 0 after a reset */
	int reset_lies;         /* once misbehaving, read back 0 after a reset but go on
				 * holding (and writing) what it was given */
	int cfg_unstable;       /* config_generation changes on every read */
	unsigned nq;            /* data queues offered (1..2) */
	uint16_t qsize;         /* the queues' largest size (0: 128) */
};

struct fk_stats {
	unsigned resets;        /* resets acknowledged after DRIVER_OK */
	unsigned resets_ignored;
	unsigned resets_lied;   /* acknowledged, not done */
	int bm_off;             /* bus mastering is off */
	unsigned faults;        /* DMA to an unmapped IOVA: the IOMMU would have faulted */
	unsigned late_writes;   /* writes into held buffers after misbehaving */
	unsigned unmap_live;    /* a held buffer unmapped while the device could write it */
	unsigned ctl_late;      /* control answers written after the driver's timeout */
	unsigned completed;     /* data requests answered */
	unsigned taken;         /* data requests held now */
	int triggered;          /* it has misbehaved */
};

struct fk_dev;

struct fk_dev *fk_new(const struct fk_opts *o);
/* Its function for wd__vfio_fake_fn: each call gives a fresh fd, which the
 * driver takes over. */
const struct vfio_pci *fk_fn(struct fk_dev *f);
/* Stop its thread and free it (after the context using it is freed). */
void fk_free(struct fk_dev *f);
void fk_stats(struct fk_dev *f, struct fk_stats *s);
/* Can it still write memory: not reset since DRIVER_OK, bus mastering on? */
int fk_stopped(struct fk_dev *f);

#endif
