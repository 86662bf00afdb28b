/* SPDX-License-Identifier: MIT */
/*
 * A hostile virtio device on plain memory, and a shadow model of the driver
 * side of a split virtqueue (virtq.h), for t_virtq_hostile and the virtq
 * fuzz target.  The ring memory is sized exactly, so ASan sees any access
 * past it.  The model says what each virtq_get must return; the device
 * checks every chain it reads is the one submitted (whatever it scribbled on
 * the descriptors before); every request must be answered once: completed,
 * or failed by virtq_detach after the virtqueue broke.
 *
 * The includer defines rnd(n): a number below n (0 when n is 0), from a
 * seeded generator or from fuzz input.
 */
#ifndef VIRTQ_RIG_H
#define VIRTQ_RIG_H

#include <stdint.h>

#include "dev/vfio/virtq.h"
#include "t_helpers.h"

static uint32_t rnd(uint32_t n);

#define MAXB 4

struct rig {
	struct virtq q;
	uint16_t size;
	struct vring_desc *desc;
	struct vring_avail *avail;
	struct vring_used *used;
	/* the device */
	uint16_t seen, used_idx;
	int guessed;                    /* it answered heads it had not read */
	uint16_t held[2 * VIRTQ_MAX_SIZE]; /* heads read, not answered (twice: guesses) */
	unsigned nheld;
	/* the model of the driver */
	uint16_t pub, last;             /* published avail entries; used entries taken */
	uint8_t out[VIRTQ_MAX_SIZE];    /* 0 free, 1 added, 2 published */
	unsigned nout;
	uint64_t token[VIRTQ_MAX_SIZE];
	unsigned nbuf[VIRTQ_MAX_SIZE];
	struct virtq_buf buf[VIRTQ_MAX_SIZE][MAXB];
	uint32_t wlen[VIRTQ_MAX_SIZE];
	/* accounting */
	uint64_t next_token, submitted, completed, failed, violations;
};

static inline void rig_init(struct rig *r, uint16_t size)
{
	free(r->desc), free(r->avail), free(r->used);
	memset(r, 0, sizeof(*r));
	r->size = size;
	r->desc = calloc(1, VIRTQ_DESC_BYTES(size));
	r->avail = calloc(1, VIRTQ_AVAIL_BYTES(size));
	r->used = calloc(1, VIRTQ_USED_BYTES(size));
	T_ASSERT(r->desc && r->avail && r->used);
	T_EQ(virtq_init(&r->q, 0, size, r->desc, r->avail, r->used), 0);
}

static inline void rig_free(struct rig *r)
{
	free(r->desc), free(r->avail), free(r->used);
	r->desc = NULL, r->avail = NULL, r->used = NULL;
}

/* ---- the driver side, checked against the model ---- */

static inline int submit(struct rig *r, unsigned n, int want_err)
{
	struct virtq_buf b[MAXB];
	unsigned i;
	int head;

	for (i = 0; i < n; i++)
		b[i] = (struct virtq_buf){ (r->next_token << 8) | i, 1 + rnd(4096), (int)rnd(2) };
	head = virtq_add(&r->q, b, n);
	if (want_err || head < 0) {
		T_EQ(head, want_err ? want_err : -ENOSPC);
		return head;
	}
	T_ASSERT(head < r->size);
	T_EQ(r->out[head], 0); /* never a head in flight */
	r->out[head] = 1;
	r->nout++;
	r->token[head] = r->next_token++;
	r->nbuf[head] = n;
	memcpy(r->buf[head], b, sizeof(b[0]) * n);
	r->wlen[head] = 0;
	for (i = 0; i < n; i++)
		r->wlen[head] += b[i].write ? b[i].len : 0;
	r->submitted++;
	return head;
}

static inline void publish(struct rig *r)
{
	uint16_t i;
	int ret = virtq_publish(&r->q);

	if (virtq_broken(&r->q)) {
		T_EQ(ret, 0);
		return;
	}
	for (i = 0; i < r->size; i++)
		if (r->out[i] == 1) {
			r->out[i] = 2;
			r->pub++;
		}
	T_EQ(r->avail->idx, r->q.avail_idx);
}

/* What the next virtq_get must say, from what the device wrote. */
static inline int expect(const struct rig *r, uint32_t *len)
{
	uint16_t idx = r->used->idx;
	const struct vring_used_elem *e = &r->used->ring[r->last & (r->size - 1)];

	if (virtq_broken(&r->q))
		return -EIO;
	if (idx == r->last)
		return -EAGAIN;
	if ((uint16_t)(idx - r->last) > (uint16_t)(r->pub - r->last))
		return -EIO;
	*len = e->len;
	if (e->id >= r->size || r->out[e->id] != 2 || e->len > r->wlen[e->id])
		return -EIO;
	return (int)e->id;
}

static inline int get_all(struct rig *r)
{
	uint32_t len = 0, want_len = 0;
	int id, want;

	do {
		want = expect(r, &want_len);
		id = virtq_get(&r->q, &len);
		T_EQ(id, want);
		if (id >= 0) {
			T_EQ(len, want_len);
			r->out[id] = 0; /* completed once: a second answer is invalid */
			r->nout--;
			r->last++;
			r->completed++;
		}
	} while (id >= 0);
	T_EQ(r->q.inflight, r->nout);
	return id;
}

/* The device is reset: every request in flight is failed, once. */
static inline void fail_all(struct rig *r)
{
	int id;

	while ((id = virtq_detach(&r->q)) >= 0) {
		T_ASSERT(id < r->size && r->out[id]);
		r->out[id] = 0;
		r->nout--;
		r->failed++;
	}
	T_EQ(id, -ENOENT);
	T_EQ(r->nout, 0);
	T_EQ(r->q.inflight, 0);
}

/* Broken: nothing is accepted; after the reset every request in flight is
 * failed once, and a new ring starts (the counters carry over). */
static inline void recover(struct rig *r, uint16_t size)
{
	uint64_t tok, sub, done, failed, bad;
	uint32_t len;

	T_ASSERT(virtq_broken(&r->q));
	submit(r, 1, -EIO);
	T_EQ(virtq_get(&r->q, &len), -EIO);
	publish(r);
	fail_all(r);
	tok = r->next_token, sub = r->submitted, done = r->completed, failed = r->failed;
	bad = r->violations + 1;
	rig_init(r, size);
	r->next_token = tok, r->submitted = sub, r->completed = done, r->failed = failed;
	r->violations = bad;
}

/* ---- the device ---- */

/* Take what was published; each chain must be exactly the one submitted,
 * whatever the device wrote over the descriptors before. */
static inline void consume(struct rig *r, unsigned max)
{
	uint16_t idx = __atomic_load_n(&r->avail->idx, __ATOMIC_ACQUIRE), head, d;
	unsigned i, n;

	for (; r->seen != idx && max; max--, r->seen++) {
		head = r->avail->ring[r->seen & (r->size - 1)];
		if (head >= r->size || r->out[head] != 2 || r->nheld == 2 * VIRTQ_MAX_SIZE) {
			/* only when it answered before it read: a guess the driver took */
			T_ASSERT(r->guessed);
			continue;
		}
		n = r->nbuf[head];
		for (i = 0, d = head; i < n; i++, d = r->desc[d].next) {
			const struct vring_desc *x = &r->desc[d];

			T_ASSERT(d < r->size);
			T_EQ(x->addr, r->buf[head][i].addr);
			T_EQ(x->len, r->buf[head][i].len);
			T_EQ(x->flags, (r->buf[head][i].write ? VRING_DESC_F_WRITE : 0) |
					       (i + 1 < n ? VRING_DESC_F_NEXT : 0));
		}
		r->held[r->nheld++] = head;
	}
}

static inline void write_used(struct rig *r, uint32_t id, uint32_t len)
{
	struct vring_used_elem *e = &r->used->ring[r->used_idx & (r->size - 1)];

	e->id = id;
	e->len = len;
	r->used_idx++;
	__atomic_store_n(&r->used->idx, r->used_idx, __ATOMIC_RELEASE);
}

/* Finish held chains in any order, writing at most what may be written. */
static inline void complete(struct rig *r, unsigned max)
{
	uint16_t head;
	unsigned k;

	for (; r->nheld && max; max--) {
		k = rnd(r->nheld);
		head = r->held[k];
		r->held[k] = r->held[--r->nheld];
		write_used(r, head, rnd(r->wlen[head] + 1));
	}
}

static inline int find(const struct rig *r, uint8_t state)
{
	uint16_t i, at = (uint16_t)rnd(r->size);

	for (i = 0; i < r->size; i++)
		if (r->out[(at + i) & (r->size - 1)] == state)
			return (at + i) & (r->size - 1);
	return -1;
}

static inline void scribble(struct rig *r)
{
	static const uint16_t nexts[] = { 0x9000, 0xffff, 1, 0 };
	uint16_t d = (uint16_t)rnd(r->size);

	consume(r, ~0u); /* what it scribbles on next, it has read already */
	if (find(r, 1) >= 0)
		return;  /* added, unpublished: the device would only fool itself */
	switch (rnd(5)) {
	case 0: r->desc[d].next = rnd(2) ? nexts[rnd(4)] : (uint16_t)rnd(65536); break;
	case 1: r->desc[d].flags = (uint16_t)rnd(65536); break;
	case 2: r->desc[d].addr = (uint64_t)rnd(UINT32_MAX) << rnd(32); break;
	case 3: r->desc[d].len = rnd(UINT32_MAX); break;
	default: r->avail->ring[d] = (uint16_t)rnd(65536); r->avail->flags = (uint16_t)rnd(4);
	}
}

/* One protocol violation, or something a device may do but never should. */
static inline void hostile(struct rig *r)
{
	uint16_t head = r->nheld ? r->held[rnd(r->nheld)] : 0;
	int h;

	r->guessed = 1;
	switch (rnd(10)) {
	case 0: write_used(r, rnd(r->size), rnd(8192)); break;           /* any head */
	case 1: write_used(r, r->size + rnd(70000), 0); break;           /* no such head */
	case 2: if ((h = find(r, 0)) >= 0) write_used(r, (uint32_t)h, 0); break; /* free */
	case 3: if ((h = find(r, 1)) >= 0) write_used(r, (uint32_t)h, 0); break; /* unpublished */
	case 4: if (r->nheld) write_used(r, head, r->wlen[head] + 1 + rnd(1u << 20)); break;
	case 5: if (r->nheld) write_used(r, head, 0), write_used(r, head, 0); break; /* twice */
	case 6: /* the used index jumps: more used than was given */
		r->used_idx = (uint16_t)(r->used_idx + 1 + rnd(2u * r->size));
		__atomic_store_n(&r->used->idx, r->used_idx, __ATOMIC_RELEASE);
		break;
	case 7: r->used->flags = (uint16_t)rnd(2); break;
	default: scribble(r);
	}
}

/* ---- checks ---- */

static inline void invariants(const struct rig *r)
{
	unsigned i, busy = 0;

	for (i = 0; i < r->size; i++)
		busy += r->out[i] ? r->nbuf[i] : 0;
	T_EQ(r->q.nfree, r->size - busy);
	T_EQ(r->q.inflight, r->nout);
	T_EQ(r->submitted, r->completed + r->failed + r->nout);
}

static inline unsigned room(const struct rig *r)
{
	unsigned n = 1 + rnd(MAXB);

	return n > r->size ? r->size : n;
}

/* One step of a device that mostly works: x below 98 is ordinary traffic,
 * above it a hostile act. */
static inline void rig_step(struct rig *r, uint32_t x)
{
	if (x < 30)
		submit(r, room(r), 0);
	else if (x < 45)
		publish(r);
	else if (x < 65)
		consume(r, 1 + rnd(8));
	else if (x < 85)
		complete(r, 1 + rnd(8));
	else if (x < 98 && get_all(r) == -EIO)
		recover(r, (uint16_t)(1u << rnd(9)));
	else if (x >= 98)
		hostile(r);
	invariants(r);
}

/* The end: the device answers everything it can; what it broke is failed.
 * Every request submitted is then answered, exactly once. */
static inline void rig_finish(struct rig *r)
{
	unsigned spin;

	for (spin = 0; r->nout && spin < 64; spin++) {
		publish(r);
		consume(r, ~0u);
		complete(r, ~0u);
		if (get_all(r) == -EIO)
			recover(r, 16);
	}
	if (r->nout) {
		/* it answered heads it had not read, so the driver reused their
		 * available slots before it read them: it lost those requests
		 * itself.  The driver's timeout resets it and fails them. */
		T_ASSERT(r->guessed);
		fail_all(r);
	}
	T_EQ(r->nout, 0);
	T_EQ(r->submitted, r->completed + r->failed);
}

#endif
