/* SPDX-License-Identifier: MIT */
/*
 * Split virtqueues (virtio 1.x, 2.6) on memory the caller provides, with no
 * transport: the driver side only.  The device may write anything into the
 * ring memory at any time, so the driver never reads back what it wrote
 * there (descriptors, available ring): the free list, chain shapes and the
 * set of heads in flight live in this struct, in driver-private memory.
 * What the device writes (used ring, used index) is read once and checked
 * before it changes any state; the first violation marks the virtqueue
 * broken for good.
 */
#ifndef WD_VIRTQ_H
#define WD_VIRTQ_H

#include <linux/virtio_ring.h>
#include <stdint.h>

#define VIRTQ_MAX_SIZE 256

/* Per descriptor: the free list link and what the driver wrote. */
struct virtq_desc_extra {
	uint16_t next;
	uint16_t flags;
};

/* Per head in flight: its chain and how much the device may write. */
struct virtq_head_state {
	uint16_t ndesc;                 /* 0: not in flight */
	uint16_t pos;                   /* its slot number in the available ring */
	uint32_t wlen;                  /* sum of the device-writable lengths */
};

struct virtq {
	uint16_t index, size;
	struct vring_desc *desc;        /* shared: written, never read */
	struct vring_avail *avail;      /* shared: written, never read */
	struct vring_used *used;        /* shared: read once per entry, checked */
	uint16_t free_head, nfree;
	uint16_t avail_idx;             /* next available slot */
	uint16_t pub_idx;               /* avail->idx as last published */
	uint16_t last_used;
	uint16_t inflight;              /* heads added, not yet used */
	int broken;                     /* the device broke the protocol: -EIO */
	uint64_t notify_at;             /* transport: offset in the notify BAR */
	struct virtq_desc_extra extra[VIRTQ_MAX_SIZE];
	struct virtq_head_state head[VIRTQ_MAX_SIZE];
};

/* Ring memory needed for size entries, and the alignment of each part. */
#define VIRTQ_DESC_BYTES(size) (16ull * (size))
#define VIRTQ_AVAIL_BYTES(size) (6 + 2ull * (size))
#define VIRTQ_USED_BYTES(size) (6 + 8ull * (size))

/* A fresh virtqueue of size entries (a power of two, <= VIRTQ_MAX_SIZE) on
 * zeroed ring memory the caller owns. */
int virtq_init(struct virtq *q, uint16_t index, uint16_t size, struct vring_desc *desc,
	       struct vring_avail *avail, struct vring_used *used);

/* One buffer of a chain: device address, length, device-writable. */
struct virtq_buf {
	uint64_t addr;
	uint32_t len;
	int write;
};

/* Put a chain on the available ring (not yet visible: see virtq_publish).
 * Returns the head id, -ENOSPC when fewer than n descriptors are free,
 * -EIO when the virtqueue is broken. */
int virtq_add(struct virtq *q, const struct virtq_buf *b, unsigned n);
/* The head the next virtq_add will return (when it succeeds). */
static inline uint16_t virtq_next_head(const struct virtq *q)
{
	return q->free_head;
}
/* Make added chains visible; 1 when the device asks to be notified (the
 * transport's business), 0 otherwise or when the virtqueue is broken. */
int virtq_publish(struct virtq *q);
/* Ask the device for interrupts on completions, or not (a hint it may
 * ignore, so pollers must look at the used ring anyway). */
void virtq_interrupts(struct virtq *q, int on);
/* Has the device used a chain we have not taken yet? */
int virtq_has_used(const struct virtq *q);
/* Next used chain: its head id and bytes written, or -EAGAIN.  The chain's
 * descriptors are free again.  -EIO when the device broke the protocol (a
 * head not in flight, a length past the writable buffers, a used index
 * beyond what was published): nothing was changed but the broken flag. */
int virtq_get(struct virtq *q, uint32_t *written);
/* Once the device is reset (it can write nothing any more): take back one
 * chain still in flight, its head id, or -ENOENT when none is left.  The
 * virtqueue is broken from then on: it needs virtq_init to be used again. */
int virtq_detach(struct virtq *q);

static inline int virtq_broken(const struct virtq *q)
{
	return q->broken;
}

#endif
