/* SPDX-License-Identifier: MIT */
/*
 * Range lists: a buffer as a list of (address, length) ranges, with a CPU
 * iterator and a DMA translation through a domain (after the rlist/physr
 * proposal, an alternative to scatterlists).
 */
#include <errno.h>
#include <unistd.h>

#include "../core/internal.h"
#include "domain.h"

static uint64_t page_mask(void)
{
	static uint64_t m;

	if (!m)
		m = (uint64_t)sysconf(_SC_PAGESIZE) - 1;
	return m;
}

static int range_unaligned(const struct wd_range *r)
{
	return ((r->addr | r->len) & page_mask()) != 0;
}

WD_EXPORT void wd_rlist_init(struct wd_rlist *l, struct wd_range *storage, uint32_t cap)
{
	l->r = storage;
	l->n = 0;
	l->cap = storage ? cap : 0;
	l->bytes = 0;
	l->unaligned = 0;
	l->rsvd = 0;
}

WD_EXPORT int wd_rlist_add(struct wd_rlist *l, const void *p, uint64_t len)
{
	uint64_t addr = (uint64_t)(uintptr_t)p;
	struct wd_range *last;

	if (!l)
		return -EINVAL;
	if (!len)
		return 0;
	if (addr > UINT64_MAX - len || l->bytes > UINT64_MAX - len)
		return -EOVERFLOW;
	last = l->n ? &l->r[l->n - 1] : NULL;
	if (last && last->addr + last->len == addr) {
		l->unaligned -= (uint32_t)range_unaligned(last);
		last->len += len;
	} else {
		if (l->n == l->cap)
			return -ENOSPC;
		last = &l->r[l->n++];
		last->addr = addr;
		last->len = len;
	}
	l->unaligned += (uint32_t)range_unaligned(last);
	l->bytes += len;
	return 0;
}

WD_EXPORT void wd_rlist_iter_init(struct wd_rlist_iter *it, const struct wd_rlist *l)
{
	it->l = l;
	it->idx = 0;
	it->off = 0;
}

WD_EXPORT int wd_rlist_cpu_next(struct wd_rlist_iter *it, uint64_t max, void **p, uint64_t *len)
{
	while (it->idx < it->l->n) {
		const struct wd_range *r = &it->l->r[it->idx];
		uint64_t left = r->len - it->off;

		if (!left) {
			it->idx++;
			it->off = 0;
			continue;
		}
		*len = max && max < left ? max : left;
		*p = (void *)(uintptr_t)(r->addr + it->off);
		it->off += *len;
		return 1;
	}
	return 0;
}

struct seg_out {
	struct wd_range *segs;
	uint32_t n, max;
	uint64_t max_seg;
	const void *last_map;   /* the share the last segment lies in */
};

/* Append device range [a, a+len): coalesce with the previous segment when
 * contiguous, and cut at max_seg. */
static int emit(struct seg_out *o, const void *map, uint64_t a, uint64_t len)
{
	/* a segment never spans two shares: the device checks each against one */
	int same = map == o->last_map;

	o->last_map = map;
	while (len) {
		struct wd_range *prev = o->n ? &o->segs[o->n - 1] : NULL;
		uint64_t room, take;

		if (prev && same && prev->addr + prev->len == a &&
		    (!o->max_seg || prev->len < o->max_seg)) {
			room = o->max_seg ? o->max_seg - prev->len : len;
			take = len < room ? len : room;
			prev->len += take;
		} else {
			if (o->n == o->max)
				return -E2BIG;
			take = o->max_seg && len > o->max_seg ? o->max_seg : len;
			o->segs[o->n].addr = a;
			o->segs[o->n++].len = take;
		}
		a += take;
		len -= take;
	}
	return 0;
}

/* The shared range holding host address a (hmaps is sorted by host). */
static const struct wd_map *host_lookup(const struct wd_domain *d, uint64_t a)
{
	uint32_t lo = 0, hi = d->nmaps;

	while (lo < hi) {
		uint32_t mid = (lo + hi) / 2;
		const struct wd_map *m = d->hmaps[mid];

		if (m->host + m->len <= a)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < d->nmaps && d->hmaps[lo]->host <= a ? d->hmaps[lo] : NULL;
}

/* One range through the domain: it may span several shared ranges. */
static int xlate_range(const struct wd_domain *d, const struct wd_map **cache, uint64_t a,
		       uint64_t len, struct seg_out *o)
{
	while (len) {
		const struct wd_map *m = *cache;
		uint64_t take;
		int ret;

		/* consecutive ranges usually fall in the same shared range */
		if (!m || a < m->host || a >= m->host + m->len)
			m = *cache = host_lookup(d, a);
		if (!m)
			return -EFAULT;
		take = m->host + m->len - a < len ? m->host + m->len - a : len;
		ret = emit(o, m, m->iova + (a - m->host), take);
		if (ret)
			return ret;
		a += take;
		len -= take;
	}
	return 0;
}

WD_EXPORT int wd_rlist_dma_map(struct wd_domain *d, const struct wd_rlist *l,
			       struct wd_range *segs, uint32_t max_segs, uint64_t max_seg)
{
	struct seg_out o = { segs, 0, max_segs, max_seg, NULL };
	const struct wd_map *cache = NULL;
	uint32_t i;
	int ret = 0;

	if (!l || (max_segs && !segs))
		return -EINVAL;
	if (!d) { /* SVA: device addresses are the CPU's */
		for (i = 0; i < l->n && !ret; i++)
			ret = emit(&o, NULL, l->r[i].addr, l->r[i].len);
		return ret ? ret : (int)o.n;
	}
	/* One pass whatever the alignment: each range is looked up once (or not
	 * at all when it falls in the shared range of the one before). */
	pthread_rwlock_rdlock(&d->lock);
	for (i = 0; i < l->n && !ret; i++)
		ret = xlate_range(d, &cache, l->r[i].addr, l->r[i].len, &o);
	pthread_rwlock_unlock(&d->lock);
	return ret ? ret : (int)o.n;
}
