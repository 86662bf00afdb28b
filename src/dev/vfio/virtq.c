/* SPDX-License-Identifier: MIT */
/*
 * Split virtqueues, driver side.  Everything the driver needs to know about
 * a chain after handing it over (where it continues, how long it is, what
 * the device may write, whether it is in flight at all) is kept here; the
 * shared ring is only ever written by the driver, except for the used ring,
 * whose entries are copied once and checked against that private state.
 */
#include <errno.h>
#include <string.h>

#include "virtq.h"

int virtq_init(struct virtq *q, uint16_t index, uint16_t size, struct vring_desc *desc,
	       struct vring_avail *avail, struct vring_used *used)
{
	uint16_t i;

	if (!size || size > VIRTQ_MAX_SIZE || (size & (size - 1)))
		return -EINVAL;
	memset(q, 0, sizeof(*q));
	q->index = index;
	q->size = size;
	q->desc = desc;
	q->avail = avail;
	q->used = used;
	for (i = 0; i < size; i++)
		q->extra[i].next = (uint16_t)((i + 1) & (size - 1));
	q->nfree = size;
	return 0;
}

int virtq_add(struct virtq *q, const struct virtq_buf *b, unsigned n)
{
	uint16_t head = q->free_head, d = head, flags;
	uint32_t wlen = 0;
	unsigned i;

	if (q->broken)
		return q->broken;
	if (!n || n > q->nfree)
		return -ENOSPC;
	for (i = 0; i < n; i++) {
		flags = (uint16_t)((b[i].write ? VRING_DESC_F_WRITE : 0) |
				   (i + 1 < n ? VRING_DESC_F_NEXT : 0));
		q->extra[d].flags = flags;
		/* every field, every time: the device may have scribbled on it */
		q->desc[d].addr = b[i].addr;
		q->desc[d].len = b[i].len;
		q->desc[d].flags = flags;
		q->desc[d].next = i + 1 < n ? q->extra[d].next : 0;
		if (b[i].write)
			wlen += b[i].len;
		if (i + 1 < n)
			d = q->extra[d].next;
	}
	q->free_head = q->extra[d].next;
	q->nfree = (uint16_t)(q->nfree - n);
	q->head[head] = (struct virtq_head_state){ (uint16_t)n, q->avail_idx, wlen };
	q->inflight++;
	q->avail->ring[q->avail_idx & (q->size - 1)] = head;
	q->avail_idx++;
	return head;
}

int virtq_publish(struct virtq *q)
{
	if (q->broken)
		return 0; /* nothing more for a device that broke the rules */
	q->pub_idx = q->avail_idx;
	/* descriptors and ring entries before the index the device reads; and
	 * the index before the look at the device's flags (sequentially
	 * consistent pair: the device does the mirror image) */
	__atomic_store_n(&q->avail->idx, q->avail_idx, __ATOMIC_SEQ_CST);
	return !(__atomic_load_n(&q->used->flags, __ATOMIC_SEQ_CST) & VRING_USED_F_NO_NOTIFY);
}

void virtq_interrupts(struct virtq *q, int on)
{
	__atomic_store_n(&q->avail->flags, on ? 0 : VRING_AVAIL_F_NO_INTERRUPT, __ATOMIC_SEQ_CST);
}

int virtq_has_used(const struct virtq *q)
{
	return __atomic_load_n(&q->used->idx, __ATOMIC_SEQ_CST) != q->last_used;
}

static int violation(struct virtq *q)
{
	q->broken = -EIO;
	return -EIO;
}

/* Is head in flight and published (the device can know it)?  Unpublished
 * chains are the last avail_idx - pub_idx slots of the available ring. */
static int head_published(const struct virtq *q, uint32_t id)
{
	const struct virtq_head_state *h = &q->head[id];

	return h->ndesc && (uint16_t)(q->avail_idx - h->pos) > (uint16_t)(q->avail_idx - q->pub_idx);
}

int virtq_get(struct virtq *q, uint32_t *written)
{
	uint16_t idx, last, i;
	struct vring_used_elem *ue;
	uint32_t id, len;

	if (q->broken)
		return q->broken;
	idx = __atomic_load_n(&q->used->idx, __ATOMIC_ACQUIRE);
	if (idx == q->last_used)
		return -EAGAIN;
	/* the device cannot have used more chains than it was given */
	if ((uint16_t)(idx - q->last_used) > (uint16_t)(q->pub_idx - q->last_used))
		return violation(q);
	/* one copy of the entry: it may change under us */
	ue = &q->used->ring[q->last_used & (q->size - 1)];
	id = __atomic_load_n(&ue->id, __ATOMIC_RELAXED);
	len = __atomic_load_n(&ue->len, __ATOMIC_RELAXED);
	if (id >= q->size || !head_published(q, id) || len > q->head[id].wlen)
		return violation(q);
	/* valid: give the chain back, by its private links */
	last = (uint16_t)id;
	for (i = 1; i < q->head[id].ndesc; i++)
		last = q->extra[last].next;
	q->extra[last].next = q->free_head;
	q->free_head = (uint16_t)id;
	q->nfree = (uint16_t)(q->nfree + q->head[id].ndesc);
	q->head[id].ndesc = 0;
	q->inflight--;
	q->last_used++;
	*written = len;
	return (int)id;
}

int virtq_detach(struct virtq *q)
{
	uint16_t i;

	q->broken = -EIO;
	for (i = 0; i < q->size; i++)
		if (q->head[i].ndesc) {
			q->head[i].ndesc = 0;
			q->inflight--;
			return i;
		}
	return -ENOENT;
}
