/* SPDX-License-Identifier: MIT */
/*
 * Split virtqueues against a hostile device, in process: this program plays
 * the device on plain memory (sized exactly, so ASan sees any access past
 * the rings) and writes whatever it likes into the used ring, the used index
 * and the descriptors.  A shadow model of what the driver submitted says
 * what each virtq_get must return; the checks:
 *  - every head the driver hands out is free, every chain the device sees is
 *    the one submitted (the device scribbling on descriptors changes nothing);
 *  - every used entry is answered as the model says: a valid one completes
 *    its request once, the first invalid one breaks the virtqueue;
 *  - once broken, no submission is accepted, nothing is published, and after
 *    the reset every request still in flight is failed exactly once.
 * Directed cases first (the reported bugs), then seeded random rounds.
 */
#include "virtq_rig.h"

static uint64_t rng;

static uint32_t rnd(uint32_t n)
{
	uint64_t x = t_rand(&rng);

	return n ? (uint32_t)((x >> 32) % n) : 0;
}

/* Bug 1: the device sets every descriptor's next (and NEXT flag) to 0x9000
 * while it holds chains; completions and later submissions must not follow
 * them (they did, and wrote 36864 entries past the pending array). */
static void t_desc_next(void)
{
	struct rig r = { 0 };
	uint16_t i;
	int k;

	rig_init(&r, 128);
	for (k = 0; k < 40; k++)
		submit(&r, 3, 0);
	publish(&r);
	consume(&r, ~0u);
	for (i = 0; i < 128; i++) {
		r.desc[i].next = 0x9000;
		r.desc[i].flags = VRING_DESC_F_NEXT;
	}
	complete(&r, ~0u);
	T_EQ(get_all(&r), -EAGAIN);
	T_EQ(r.q.nfree, 128);
	for (k = 0; k < 1000; k++) {
		T_ASSERT(submit(&r, room(&r), 0) >= 0);
		publish(&r);
		consume(&r, ~0u);
		complete(&r, ~0u);
		T_EQ(get_all(&r), -EAGAIN);
		invariants(&r);
	}
	rig_free(&r);
}

/* A ring with chains in flight, some held by the device, one unpublished. */
static void busy_ring(struct rig *r, uint16_t size)
{
	rig_init(r, size);
	submit(r, 2, 0);
	submit(r, 1, 0);
	submit(r, 3, 0);
	publish(r);
	consume(r, 2);
	submit(r, 1, 0);
}

/* Each violation: -EIO before anything changes, then broken for good, and
 * every request in flight failed once after the reset. */
static void t_violations(void)
{
	struct rig r = { 0 };
	uint16_t nfree, fh;
	unsigned kind;

	/* a used id on a fresh ring: nothing was given, nothing may come back */
	rig_init(&r, 8);
	write_used(&r, 0, 0);
	T_EQ(get_all(&r), -EIO);
	T_EQ(r.q.nfree, 8);
	T_EQ(r.q.free_head, 0);
	recover(&r, 8);
	for (kind = 0; kind < 7; kind++) {
		busy_ring(&r, 16);
		nfree = r.q.nfree;
		fh = r.q.free_head;
		switch (kind) {
		case 0: write_used(&r, 16, 0); break;                 /* out of range */
		case 1: write_used(&r, 0xffffffffu, 0); break;
		case 2: write_used(&r, (uint32_t)find(&r, 0), 0); break;  /* a free head */
		case 3: write_used(&r, (uint32_t)find(&r, 1), 0); break;  /* unpublished */
		case 4: write_used(&r, r.held[0], r.wlen[r.held[0]] + 1); break;
		case 5: r.used_idx = 4; r.used->idx = 4; break;       /* 3 were published */
		case 6: /* bug 2: the same id twice; the first completes */
			write_used(&r, r.held[0], 0);
			write_used(&r, r.held[0], 0);
			T_EQ(virtq_get(&r.q, &(uint32_t){ 0 }), r.held[0]);
			r.out[r.held[0]] = 0, r.nout--, r.last++, r.completed++;
			nfree = r.q.nfree;
			fh = r.q.free_head;
			break;
		}
		T_EQ(get_all(&r), -EIO);
		T_EQ(r.q.nfree, nfree); /* nothing changed... */
		T_EQ(r.q.free_head, fh);
		T_ASSERT(r.q.nfree <= r.size);
		recover(&r, 16); /* ...but nothing is accepted, all is failed */
	}
	rig_free(&r);
	T_EQ(r.submitted, r.completed + r.failed);
}

/* Seeded rounds: a working device with a rare hostile act. */
static void t_random(unsigned ops)
{
	struct rig r = { 0 };
	unsigned op;

	rig_init(&r, 16);
	for (op = 0; op < ops; op++)
		rig_step(&r, rnd(100));
	rig_finish(&r);
	fprintf(stderr, "%u ops: %llu submitted, %llu completed, %llu failed at %llu violations\n",
		ops, (unsigned long long)r.submitted, (unsigned long long)r.completed,
		(unsigned long long)r.failed, (unsigned long long)r.violations);
	T_ASSERT(r.violations > 0 && r.completed > 0);
	rig_free(&r);
}

int main(void)
{
	rng = t_seed();
	t_desc_next();
	t_violations();
	t_random(100000);
	return 0;
}
