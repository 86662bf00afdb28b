/* SPDX-License-Identifier: MIT */
#include "ring.h"

#include <string.h>
#include <unistd.h>

static size_t round_up(size_t v, size_t a)
{
	return (v + a - 1) / a * a;
}

size_t wd_ring_size(uint32_t sq_entries, uint32_t cq_entries)
{
	size_t sz = sizeof(struct wd_ring_ctl);

	sz += (size_t)sq_entries * sizeof(wd_sqe);
	sz += (size_t)cq_entries * sizeof(wd_cqe);
	return round_up(sz, (size_t)sysconf(_SC_PAGESIZE));
}

void wd_ring_bind(struct wd_ring *r, void *mem, uint32_t sq_entries, uint32_t cq_entries)
{
	char *base = mem;

	r->ctl = mem;
	r->sqes = (wd_sqe *)(base + sizeof(struct wd_ring_ctl));
	r->cqes = (wd_cqe *)(base + sizeof(struct wd_ring_ctl) + (size_t)sq_entries * sizeof(wd_sqe));
	r->sq_entries = sq_entries;
	r->sq_mask = sq_entries - 1;
	r->cq_entries = cq_entries;
	r->cq_mask = cq_entries - 1;
	r->size = wd_ring_size(sq_entries, cq_entries);
}

void wd_ring_format(struct wd_ring *r, uint32_t start_idx)
{
	struct wd_ring_ctl *c = r->ctl;

	memset(c, 0, sizeof(*c));
	c->magic = WD_RING_MAGIC;
	c->version = WD_RING_VERSION;
	c->sq_entries = r->sq_entries;
	c->cq_entries = r->cq_entries;
	c->sq_tail = c->sq_head = start_idx;
	c->cq_tail = c->cq_head = start_idx;
}
