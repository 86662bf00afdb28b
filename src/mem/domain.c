/* SPDX-License-Identifier: MIT */
/*
 * Domains: explicit sharing of memory with a device.
 *
 * A shared range is pinned (pin.c: mlock unless the device pins it itself,
 * and kept out of fork children), accounted against the domain's pin limit
 * and placed in the domain's IOVA space, at its own address when that is
 * free and not reserved.  Engines translate request addresses through wd__domain_get(),
 * which holds the range (a lease) until wd__domain_put(); wd_unshare() waits
 * out those holders and the requests submitted before it was called.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "../core/internal.h"
#include "domain.h"
#include "pin.h"

static uint64_t page_size(void)
{
	static uint64_t ps; /* cached; threads may fill it in at once */
	uint64_t v = __atomic_load_n(&ps, __ATOMIC_RELAXED);

	if (!v) {
		v = (uint64_t)sysconf(_SC_PAGESIZE);
		__atomic_store_n(&ps, v, __ATOMIC_RELAXED);
	}
	return v;
}

static uint64_t default_pin_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_MEMLOCK, &rl) || rl.rlim_cur == RLIM_INFINITY)
		return UINT64_MAX;
	return rl.rlim_cur;
}

/* ---- life cycle ---- */

static struct wd_domain *domain_alloc(struct wd_ctx *ctx, struct wd_dev *dev)
{
	struct wd_domain *d = calloc(1, sizeof(*d));

	if (!d)
		return NULL;
	d->ctx = ctx;
	d->dev = dev;
	d->pin_limit = default_pin_limit();
	d->pinned = dev->pinned_self;
	pthread_rwlock_init(&d->lock, NULL);
	pthread_mutex_init(&d->qlock, NULL);
	pthread_mutex_lock(&ctx->lock);
	d->next = ctx->domains;
	ctx->domains = d;
	pthread_mutex_unlock(&ctx->lock);
	return d;
}

int wd__domain_create(struct wd_ctx *ctx, struct wd_dev *dev, int implicit,
		      struct wd_domain **out)
{
	int ret;

	if (!(dev->info.flags & WD_DEV_F_EXPLICIT))
		return -EOPNOTSUPP;
	*out = domain_alloc(ctx, dev);
	if (!*out)
		return -ENOMEM;
	(*out)->implicit = implicit;
	if (dev->ops->dom_create) {
		ret = dev->ops->dom_create(*out);
		if (ret) {
			(*out)->dev = NULL; /* never made on the device */
			wd__domain_destroy(*out);
			*out = NULL;
			return ret;
		}
	}
	return 0;
}

WD_EXPORT int wd_domain_new(struct wd_domain **out, struct wd_ctx *ctx, const char *device)
{
	struct wd_dev *dev = NULL;
	unsigned i;

	if (!out || !ctx)
		return -EINVAL;
	*out = NULL;
	if (ctx->fork_gen != wd__fork_gen)
		return -ECHILD;
	if (device) {
		dev = wd_dev_by_name(ctx, device);
		if (!dev)
			return -ENODEV;
	} else {
		for (i = 0; i < ctx->ndevs && !dev; i++)
			if (ctx->devs[i]->info.flags & WD_DEV_F_EXPLICIT)
				dev = ctx->devs[i];
		if (!dev)
			return -EOPNOTSUPP;
	}
	return wd__domain_create(ctx, dev, 0, out);
}

/* Drop every map and free the domain; nobody may use it any more. */
void wd__domain_destroy(struct wd_domain *d)
{
	struct wd_domain **pp;
	uint32_t i;

	if (d->dev && d->dev->ops->dom_destroy)
		d->dev->ops->dom_destroy(d);
	pthread_mutex_lock(&d->ctx->lock);
	for (pp = &d->ctx->domains; *pp; pp = &(*pp)->next)
		if (*pp == d) {
			*pp = d->next;
			break;
		}
	pthread_mutex_unlock(&d->ctx->lock);
	for (i = 0; i < d->nmaps; i++) {
		if (d->dev && d->dev->ops->dma_unmap)
			d->dev->ops->dma_unmap(d, d->maps[i]->iova, d->maps[i]->len);
		wd__unpin(d->maps[i]);
		free(d->maps[i]->dirty);
		free(d->maps[i]->hw_dirty);
		free(d->maps[i]);
	}
	free(d->maps);
	free(d->hmaps);
	free(d->rings);
	pthread_rwlock_destroy(&d->lock);
	pthread_mutex_destroy(&d->qlock);
	free(d);
}

WD_EXPORT int wd_domain_free(struct wd_domain *d)
{
	uint32_t n;

	if (!d)
		return 0;
	pthread_mutex_lock(&d->qlock);
	n = d->users;
	pthread_mutex_unlock(&d->qlock);
	if (n || d->implicit)
		return -EBUSY; /* queues use it, or it belongs to one */
	wd__domain_destroy(d);
	return 0;
}

void wd__domain_use(struct wd_domain *d)
{
	pthread_mutex_lock(&d->qlock);
	d->users++;
	pthread_mutex_unlock(&d->qlock);
}

void wd__domain_unuse(struct wd_domain *d)
{
	uint32_t left;

	pthread_mutex_lock(&d->qlock);
	left = --d->users;
	pthread_mutex_unlock(&d->qlock);
	if (!left && d->implicit)
		wd__domain_destroy(d);
}

WD_EXPORT struct wd_domain *wd_queue_domain(const struct wd_queue *q)
{
	return q ? q->domain : NULL;
}

int wd__domain_attach(struct wd_domain *d, struct wd_ring_ctl *ring, int dev_fenced)
{
	int ret = 0;

	pthread_mutex_lock(&d->qlock);
	if (d->nqueues == d->qcap) {
		uint32_t cap = d->qcap ? d->qcap * 2 : 4;
		struct wd_dom_ring *nr = realloc(d->rings, cap * sizeof(*nr));

		if (!nr)
			ret = -ENOMEM;
		else {
			d->rings = nr;
			d->qcap = cap;
		}
	}
	if (!ret)
		d->rings[d->nqueues++] = (struct wd_dom_ring){ ring, dev_fenced };
	pthread_mutex_unlock(&d->qlock);
	return ret;
}

void wd__domain_detach(struct wd_domain *d, struct wd_ring_ctl *ring)
{
	uint32_t i;

	pthread_mutex_lock(&d->qlock);
	for (i = 0; i < d->nqueues; i++)
		if (d->rings[i].ctl == ring) {
			d->rings[i] = d->rings[--d->nqueues];
			break;
		}
	pthread_mutex_unlock(&d->qlock);
}

WD_EXPORT int wd_domain_reserved(const struct wd_domain *d, struct wd_iova_range *out,
				 unsigned max)
{
	unsigned i;

	if (!d || (max && !out))
		return -EINVAL;
	for (i = 0; i < d->dev->nresv && i < max; i++)
		out[i] = d->dev->resv[i];
	return (int)d->dev->nresv;
}

WD_EXPORT int wd_domain_info(const struct wd_domain *d, struct wd_domain_info *info)
{
	struct wd_domain *md = (struct wd_domain *)d;

	if (!d || !info || info->size < sizeof(*info))
		return -EINVAL;
	memset(info, 0, sizeof(*info));
	info->size = sizeof(*info);
	pthread_rwlock_rdlock(&md->lock);
	info->nmaps = d->nmaps;
	info->pinned = d->pinned;
	info->pin_limit = d->pin_limit;
	pthread_rwlock_unlock(&md->lock);
	pthread_mutex_lock(&md->qlock);
	info->nqueues = d->nqueues;
	pthread_mutex_unlock(&md->qlock);
	info->nreserved = d->dev->nresv;
	info->dirty_tracking = __atomic_load_n(&d->dirty_on, __ATOMIC_ACQUIRE);
	return 0;
}

WD_EXPORT int wd_domain_set_pin_limit(struct wd_domain *d, uint64_t bytes)
{
	if (!d)
		return -EINVAL;
	if (d->dev->ops->pin_limit)
		return d->dev->ops->pin_limit(d, bytes);
	pthread_rwlock_wrlock(&d->lock);
	d->pin_limit = bytes;
	pthread_rwlock_unlock(&d->lock);
	return 0;
}

/* ---- the map table ---- */

/* Index of the first map whose end is above iova (maps are sorted). */
static uint32_t map_lower_bound(const struct wd_domain *d, uint64_t iova)
{
	uint32_t lo = 0, hi = d->nmaps;

	while (lo < hi) {
		uint32_t mid = (lo + hi) / 2;

		if (d->maps[mid]->iova + d->maps[mid]->len <= iova)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static int overlaps(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	return a < b + blen && b < a + alen;
}

/* Is [iova, iova+len) free of maps and reserved regions, inside the space? */
static int iova_free(const struct wd_domain *d, uint64_t iova, uint64_t len)
{
	uint32_t i = map_lower_bound(d, iova);

	if (iova < WD_IOVA_MIN || iova > WD_IOVA_END || WD_IOVA_END - iova < len)
		return 0;
	if (i < d->nmaps && overlaps(iova, len, d->maps[i]->iova, d->maps[i]->len))
		return 0;
	for (i = 0; i < d->dev->nresv; i++) {
		const struct wd_iova_range *r = &d->dev->resv[i];

		/* inclusive ends: a region may reach the top of the space */
		if (iova <= r->last && r->start <= iova + len - 1)
			return 0;
	}
	return 1;
}

/* Lowest free, page-aligned IOVA window of len bytes (first fit): the
 * candidates are the space's start and the end of every map and region. */
static int iova_alloc(const struct wd_domain *d, uint64_t len, uint64_t *out)
{
	uint64_t best = UINT64_MAX, c, ps = page_size();
	uint32_t i;

	if (iova_free(d, WD_IOVA_MIN, len))
		best = WD_IOVA_MIN;
	for (i = 0; i < d->nmaps; i++) {
		c = d->maps[i]->iova + d->maps[i]->len;
		if (c < best && iova_free(d, c, len))
			best = c;
	}
	for (i = 0; i < d->dev->nresv; i++) {
		c = (d->dev->resv[i].last + ps) & ~(ps - 1);
		if (c && c < best && iova_free(d, c, len))
			best = c;
	}
	if (best == UINT64_MAX)
		return -ENOSPC;
	*out = best;
	return 0;
}

static uint32_t host_lower_bound(const struct wd_domain *d, uintptr_t host)
{
	uint32_t lo = 0, hi = d->nmaps;

	while (lo < hi) {
		uint32_t mid = (lo + hi) / 2;

		if (d->hmaps[mid]->host < host)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static void array_insert(struct wd_map **v, uint32_t n, uint32_t i, struct wd_map *m)
{
	memmove(&v[i + 1], &v[i], (n - i) * sizeof(*v));
	v[i] = m;
}

static void array_remove(struct wd_map **v, uint32_t n, uint32_t i)
{
	memmove(&v[i], &v[i + 1], (n - i - 1) * sizeof(*v));
}

static int map_insert(struct wd_domain *d, struct wd_map *m)
{
	if (d->nmaps == d->cap) {
		uint32_t cap = d->cap ? d->cap * 2 : 16;
		struct wd_map **nm = realloc(d->maps, cap * sizeof(*nm));
		struct wd_map **nh;

		if (!nm)
			return -ENOMEM;
		d->maps = nm;
		nh = realloc(d->hmaps, cap * sizeof(*nh));
		if (!nh)
			return -ENOMEM;
		d->hmaps = nh;
		d->cap = cap;
	}
	array_insert(d->maps, d->nmaps, map_lower_bound(d, m->iova), m);
	array_insert(d->hmaps, d->nmaps, host_lower_bound(d, m->host), m);
	d->nmaps++;
	return 0;
}

/* ---- share / unshare ---- */

WD_EXPORT int wd_share(struct wd_domain *d, void *ptr, size_t len, unsigned flags,
		       uint64_t *iova)
{
	if (d && d->dev->ops->share) {
		if (!ptr || !len || !iova)
			return -EINVAL;
		return d->dev->ops->share(d, ptr, len, flags, iova);
	}
	if (flags & WD__SHARE_UNLOCKED)
		return -EINVAL;
	return wd__share_at(d, ptr, len, flags, 0, iova);
}

/* Is [host, host+span) free of d's shares and within its pin limit?  The
 * caller holds d->lock for writing. */
static int share_room(const struct wd_domain *d, uintptr_t host, uint64_t span)
{
	uint32_t i = host_lower_bound(d, host);

	if ((i < d->nmaps && overlaps(host, span, d->hmaps[i]->host, d->hmaps[i]->len)) ||
	    (i > 0 && overlaps(host, span, d->hmaps[i - 1]->host, d->hmaps[i - 1]->len)))
		return -EEXIST;
	if (d->pin_limit < span || d->pinned > d->pin_limit - span)
		return -ENOMEM;
	return 0;
}

/* Choose m's IOVA: want (0: its host address; WD__IOVA_ANY: none) when
 * free, else the lowest free window unless identity was asked for.
 * d->lock held for writing. */
static int share_place(const struct wd_domain *d, struct wd_map *m, uint64_t want)
{
	want = want == WD__IOVA_ANY ? 0 : want ? want & ~(page_size() - 1) : m->host;
	if (want && iova_free(d, want, m->len)) {
		m->iova = want;
		return 0;
	}
	if (m->flags & WD_SHARE_IDENTITY)
		return -EADDRNOTAVAIL;
	return iova_alloc(d, m->len, &m->iova);
}

/* Pin m, map it for the device and enter it in the tables; nothing is left
 * done on failure.  d->lock held for writing. */
static int share_commit(struct wd_domain *d, struct wd_map *m)
{
	const struct wd_driver_ops *ops = d->dev->ops;
	int ret;

	/* a device that pins the pages itself would be charged twice */
	ret = wd__pin(m, m->host, m->len,
		      !(ops->flags & WD_DRV_F_PINS) && !(m->flags & WD__SHARE_UNLOCKED));
	if (ret)
		return ret;
	if (ops->dma_map) {
		ret = ops->dma_map(d, m->iova, (void *)m->host, m->len, m->flags);
		if (ret)
			goto err_pin;
	}
	ret = map_insert(d, m);
	if (ret)
		goto err_map;
	d->pinned += m->len;
	return 0;
err_map:
	if (ops->dma_unmap)
		ops->dma_unmap(d, m->iova, m->len);
err_pin:
	wd__unpin(m);
	return ret;
}

/* What backs [host, host + span): memory from wd_mem_alloc() is known to
 * be a memfd of ours, so the walk of /proc/self/maps (most of the cost of
 * sharing a small buffer) is needed only for other memory.  A hole the
 * caller unmapped in such a block is still -EFAULT: msync(MS_ASYNC), a
 * no-op on shared memory, fails with ENOMEM where nothing is mapped. */
static int share_backing(uintptr_t host, uint64_t span, int *file_backed)
{
	uint64_t off;
	int fd;

	if (!wd__mem_lookup((const void *)host, span, &fd, &off)) {
		*file_backed = 0;
		return msync((void *)host, span, MS_ASYNC) ? -EFAULT : 0;
	}
	return wd__pin_check_backing(host, host + span, file_backed);
}

int wd__share_at(struct wd_domain *d, void *ptr, size_t len, unsigned flags, uint64_t want,
		 uint64_t *iova)
{
	uint64_t ps = page_size(), off, span;
	uintptr_t host;
	struct wd_map *m;
	int file_backed, ret;

	if (!d || !ptr || !len || !iova ||
	    (flags & ~(WD_SHARE_IDENTITY | WD_SHARE_READONLY | WD_SHARE_FILE_OK |
		       WD__SHARE_UNLOCKED)))
		return -EINVAL;
	if (d->ctx->fork_gen != wd__fork_gen)
		return -ECHILD;
	host = (uintptr_t)ptr & ~(uintptr_t)(ps - 1);
	off = (uintptr_t)ptr - host;
	if (len > UINT64_MAX - off - ps)
		return -EINVAL;
	span = (off + len + ps - 1) & ~(ps - 1);
	ret = share_backing(host, span, &file_backed);
	if (ret)
		return ret;
	if (file_backed && !(flags & WD_SHARE_FILE_OK))
		return -EPERM;
	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->host = host;
	m->len = span;
	m->flags = flags;
	pthread_rwlock_wrlock(&d->lock);
	ret = share_room(d, host, span);
	if (!ret)
		ret = share_place(d, m, want);
	if (!ret && __atomic_load_n(&d->dirty_on, __ATOMIC_ACQUIRE)) {
		m->dirty = calloc((span / ps + 63) / 64, sizeof(uint64_t));
		ret = m->dirty ? 0 : -ENOMEM;
	}
	if (!ret)
		ret = share_commit(d, m);
	if (!ret) /* read under the lock: once it drops, m may be unshared */
		*iova = m->iova + off;
	pthread_rwlock_unlock(&d->lock);
	if (ret) {
		free(m->dirty);
		free(m);
	}
	return ret;
}

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Wait until every request submitted to the domain's queues before now has
 * completed (a fence per queue), or fail as asked.  Queues whose device
 * declared the ring dead no longer run anything and are skipped.
 */
static int ring_attached(const struct wd_domain *d, const struct wd_ring_ctl *r)
{
	uint32_t i;

	for (i = 0; i < d->nqueues; i++)
		if (d->rings[i].ctl == r)
			return 1;
	return 0;
}

static int wait_fences(struct wd_domain *d, unsigned flags, int timeout_ms)
{
	int64_t deadline = timeout_ms < 0 ? -1 : mono_ms() + timeout_ms;
	struct fence {
		struct wd_ring_ctl *ring;
		uint32_t tail;
	} *f;
	uint32_t i, n;
	int ret = 0, busy;

	pthread_mutex_lock(&d->qlock);
	f = calloc(d->nqueues ? d->nqueues : 1, sizeof(*f));
	if (!f) {
		pthread_mutex_unlock(&d->qlock);
		return -ENOMEM;
	}
	for (i = n = 0; i < d->nqueues; i++) {
		if (d->rings[i].dev_fenced)
			continue; /* its device waited for them already */
		f[n].ring = d->rings[i].ctl;
		f[n++].tail = wd_load_acquire(&d->rings[i].ctl->sq_tail);
	}
	pthread_mutex_unlock(&d->qlock);
	for (;;) {
		/* the lock is held only to look: a queue stopping meanwhile
		 * leaves the list (its engine is gone) and needs the lock */
		busy = 0;
		pthread_mutex_lock(&d->qlock);
		for (i = 0; i < n; i++) {
			struct wd_ring_ctl *ctl = f[i].ring;

			if (!ring_attached(d, ctl) || wd_load_acquire(&ctl->dev_status))
				continue;
			if ((int32_t)(wd_load_acquire(&ctl->cq_tail) - f[i].tail) < 0)
				busy = 1;
		}
		pthread_mutex_unlock(&d->qlock);
		if (!busy)
			break;
		if (flags & WD_UNSHARE_NOWAIT) {
			ret = -EBUSY;
			break;
		}
		if (deadline >= 0 && mono_ms() >= deadline) {
			ret = -ETIMEDOUT;
			break;
		}
		usleep(50);
	}
	free(f);
	return ret;
}

static int unshare_map(struct wd_domain *d, uint64_t iova, struct wd_map *m, int nowait);

WD_EXPORT int wd_unshare(struct wd_domain *d, uint64_t iova, unsigned flags, int timeout_ms)
{
	struct wd_map *m = NULL;
	uint32_t i;
	int ret;

	if (!d || (flags & ~WD_UNSHARE_NOWAIT))
		return -EINVAL;
	if (d->ctx->fork_gen != wd__fork_gen)
		return -ECHILD;
	pthread_rwlock_rdlock(&d->lock);
	i = map_lower_bound(d, iova);
	if (i < d->nmaps && d->maps[i]->iova <= iova)
		m = d->maps[i];
	pthread_rwlock_unlock(&d->lock);
	if (d->dev->ops->unshare) {
		/* the device lets go first (waiting for its own requests), then
		 * our entry of the range (once the built-in engine's are done);
		 * a device that let go at an earlier try no longer knows it */
		ret = d->dev->ops->unshare(d, iova, flags, timeout_ms);
		if (ret && !(ret == -ENOENT && m))
			return ret;
	}
	if (!m)
		return d->dev->ops->unshare ? 0 : -ENOENT;
	/* The lease: requests already submitted may still use the range. */
	ret = wait_fences(d, flags, timeout_ms);
	if (ret)
		return ret;
	return unshare_map(d, iova, m, flags & WD_UNSHARE_NOWAIT);
}

int wd__unshare_now(struct wd_domain *d, uint64_t iova)
{
	return unshare_map(d, iova, NULL, 1);
}

/* Take the map at iova (m, if the caller looked it up already) out of the
 * table and release it; nowait: -EBUSY if an engine is using it now. */
static int unshare_map(struct wd_domain *d, uint64_t iova, struct wd_map *m, int nowait)
{
	uint32_t i;

	pthread_rwlock_wrlock(&d->lock);
	i = map_lower_bound(d, iova);
	if (i >= d->nmaps || (m ? d->maps[i] != m : d->maps[i]->iova > iova)) {
		pthread_rwlock_unlock(&d->lock);
		return -ENOENT; /* unshared by someone else meanwhile */
	}
	m = d->maps[i];
	if (nowait && __atomic_load_n(&m->inflight, __ATOMIC_ACQUIRE)) {
		pthread_rwlock_unlock(&d->lock);
		return -EBUSY; /* an operation is using it right now */
	}
	array_remove(d->maps, d->nmaps, i);
	array_remove(d->hmaps, d->nmaps, host_lower_bound(d, m->host));
	d->nmaps--;
	d->pinned -= m->len;
	pthread_rwlock_unlock(&d->lock);
	/* Gone from the table: wait out engines that looked it up before. */
	while (__atomic_load_n(&m->inflight, __ATOMIC_ACQUIRE))
		usleep(10);
	if (d->dev->ops->dma_unmap)
		d->dev->ops->dma_unmap(d, m->iova, m->len);
	wd__unpin(m);
	free(m->dirty);
	free(m->hw_dirty);
	free(m);
	return 0;
}

int wd__domain_mirror(struct wd_domain *d, uint64_t iova, void *ptr, size_t len,
		      unsigned flags)
{
	uint64_t ps = page_size(), off = (uintptr_t)ptr & (ps - 1), span;
	struct wd_map *m;
	int ret;

	if (len > UINT64_MAX - off - ps)
		return -EINVAL;
	span = (off + len + ps - 1) & ~(ps - 1);
	if ((iova & (ps - 1)) != off)
		return -EPROTO;
	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->iova = iova - off;
	m->len = span;
	m->host = (uintptr_t)ptr - off;
	m->flags = flags;
	pthread_rwlock_wrlock(&d->lock);
	ret = iova_free(d, m->iova, span) ? map_insert(d, m) : -EPROTO;
	if (!ret)
		d->pinned += span;
	pthread_rwlock_unlock(&d->lock);
	if (ret)
		free(m);
	return ret;
}

/* ---- engine side ---- */

int wd__domain_get(struct wd_domain *d, uint64_t iova, uint64_t len, int write, void **host,
		   struct wd_map **map)
{
	struct wd_map *m;
	uint32_t i;
	int ret = -EFAULT;

	pthread_rwlock_rdlock(&d->lock);
	i = map_lower_bound(d, iova);
	if (i < d->nmaps) {
		m = d->maps[i];
		if (m->iova <= iova && iova - m->iova <= m->len && len <= m->len - (iova - m->iova) &&
		    !(write && (m->flags & WD_SHARE_READONLY))) {
			__atomic_fetch_add(&m->inflight, 1, __ATOMIC_ACQ_REL);
			*host = (void *)(m->host + (iova - m->iova));
			*map = m;
			ret = 0;
		}
	}
	pthread_rwlock_unlock(&d->lock);
	return ret;
}

static void mark_dirty(uint64_t *bits, const struct wd_map *m, uint64_t iova, uint64_t written)
{
	uint64_t ps = page_size(), first = (iova - m->iova) / ps;
	uint64_t last = (iova - m->iova + written - 1) / ps, p;

	/* release: whoever sees the bit also sees the bytes written before it */
	for (p = first; p <= last; p++)
		__atomic_fetch_or(&bits[p / 64], 1ull << (p % 64), __ATOMIC_RELEASE);
}

void wd__domain_put(struct wd_domain *d, struct wd_map *m, uint64_t iova, uint64_t written)
{
	uint64_t *bits;

	if (written && __atomic_load_n(&d->dirty_on, __ATOMIC_ACQUIRE) &&
	    (bits = __atomic_load_n(&m->dirty, __ATOMIC_ACQUIRE)))
		mark_dirty(bits, m, iova, written);
	__atomic_fetch_sub(&m->inflight, 1, __ATOMIC_ACQ_REL);
}

/* ---- dirty tracking ---- */

WD_EXPORT int wd_dirty_start(struct wd_domain *d)
{
	uint64_t ps = page_size();
	uint32_t i;
	int ret = 0;

	if (!d)
		return -EINVAL;
	if (d->dev->ops->dirty_ctl)
		return d->dev->ops->dirty_ctl(d, 1);
	pthread_rwlock_wrlock(&d->lock);
	for (i = 0; i < d->nmaps && !ret; i++) {
		struct wd_map *m = d->maps[i];
		size_t words = (m->len / ps + 63) / 64;

		if (!m->dirty) /* engines read it without the lock: publish it */
			__atomic_store_n(&m->dirty, calloc(words, sizeof(uint64_t)),
					 __ATOMIC_RELEASE);
		else /* engines set bits without the lock: clear the same way */
			for (size_t w = 0; w < words; w++)
				__atomic_store_n(&m->dirty[w], 0, __ATOMIC_RELAXED);
		if (m->hw_dirty) /* under the write lock: no reader */
			memset(m->hw_dirty, 0, words * sizeof(uint64_t));
		if (!m->dirty)
			ret = -ENOMEM;
	}
	if (!ret && d->dev->ops->dirty_hw_ctl)
		ret = d->dev->ops->dirty_hw_ctl(d, 1);
	if (!ret)
		__atomic_store_n(&d->dirty_on, 1, __ATOMIC_RELEASE);
	pthread_rwlock_unlock(&d->lock);
	return ret;
}

WD_EXPORT int wd_dirty_stop(struct wd_domain *d)
{
	if (!d)
		return -EINVAL;
	if (d->dev->ops->dirty_ctl)
		return d->dev->ops->dirty_ctl(d, 0);
	__atomic_store_n(&d->dirty_on, 0, __ATOMIC_RELEASE);
	if (d->dev->ops->dirty_hw_ctl)
		return d->dev->ops->dirty_hw_ctl(d, 0);
	return 0;
}

/* Collect the IOMMU's bits for map m (the kernel clears its own) into the
 * map's accumulated set: a bit leaves it only when reported. */
static int hw_collect(struct wd_domain *d, struct wd_map *m)
{
	uint64_t ps = page_size(), words = (m->len / ps + 63) / 64, i;
	uint64_t *hw = calloc(words, sizeof(uint64_t)), *acc;
	int ret;

	if (!hw)
		return -ENOMEM;
	acc = __atomic_load_n(&m->hw_dirty, __ATOMIC_ACQUIRE);
	if (!acc) {
		uint64_t *fresh = calloc(words, sizeof(uint64_t)), *none = NULL;

		if (!fresh) {
			free(hw);
			return -ENOMEM;
		}
		if (__atomic_compare_exchange_n(&m->hw_dirty, &none, fresh, 0, __ATOMIC_ACQ_REL,
						__ATOMIC_ACQUIRE))
			acc = fresh;
		else {
			free(fresh);
			acc = none;
		}
	}
	ret = d->dev->ops->dirty_hw_read(d, m->iova, m->len, hw);
	for (i = 0; !ret && i < words; i++)
		if (hw[i])
			__atomic_fetch_or(&acc[i], hw[i], __ATOMIC_RELAXED);
	free(hw);
	return ret;
}

/* Move the dirty bits of map pages [p0, p1) into the output bitmap, whose
 * bit 0 is map page `base` (may be negative: the map starts before). */
static int64_t harvest(struct wd_map *m, uint64_t p0, uint64_t p1, int64_t base, uint64_t *out)
{
	int64_t count = 0;
	uint64_t p = p0;

	while (p < p1) {
		uint64_t w = p / 64, lo = p % 64, hi = p1 - w * 64 < 64 ? p1 - w * 64 : 64;
		uint64_t mask = (hi == 64 ? ~0ull : (1ull << hi) - 1) & ~((1ull << lo) - 1);
		uint64_t *hw = __atomic_load_n(&m->hw_dirty, __ATOMIC_ACQUIRE);
		uint64_t bits;

		/* with an IOMMU's view, a page is dirty when both saw a write */
		if (hw)
			mask &= __atomic_load_n(&hw[w], __ATOMIC_RELAXED);
		bits = __atomic_load_n(&m->dirty[w], __ATOMIC_RELAXED) & mask;
		if (bits) {
			bits = __atomic_fetch_and(&m->dirty[w], ~bits, __ATOMIC_ACQUIRE) & bits;
			if (hw)
				__atomic_fetch_and(&hw[w], ~bits, __ATOMIC_RELAXED);
			while (bits) {
				uint64_t o = w * 64 + (uint64_t)__builtin_ctzll(bits) - (uint64_t)base;

				out[o / 64] |= 1ull << (o % 64);
				bits &= bits - 1;
				count++;
			}
		}
		p = w * 64 + hi;
	}
	return count;
}

WD_EXPORT int64_t wd_dirty_read_clear(struct wd_domain *d, uint64_t iova, uint64_t len,
				      uint64_t *bitmap)
{
	uint64_t ps = page_size(), end, pages;
	int64_t count = 0;
	uint32_t i;

	if (!d || !bitmap || (iova | len) & (ps - 1) || iova > UINT64_MAX - len)
		return -EINVAL;
	if (d->dev->ops->dirty_read)
		return d->dev->ops->dirty_read(d, iova, len, bitmap);
	end = iova + len;
	pages = len / ps;
	memset(bitmap, 0, (pages + 63) / 64 * sizeof(uint64_t));
	pthread_rwlock_rdlock(&d->lock);
	for (i = map_lower_bound(d, iova); i < d->nmaps && d->maps[i]->iova < end; i++) {
		struct wd_map *m = d->maps[i];
		uint64_t a = m->iova > iova ? m->iova : iova;
		uint64_t b = m->iova + m->len < end ? m->iova + m->len : end;

		if (!m->dirty || a >= b)
			continue;
		if (d->dev->ops->dirty_hw_read && hw_collect(d, m)) {
			count = -EIO;
			break;
		}
		/* output bit 0 is page iova/ps; in map-page units: */
		count += harvest(m, (a - m->iova) / ps, (b - m->iova) / ps,
				 ((int64_t)iova - (int64_t)m->iova) / (int64_t)ps, bitmap);
	}
	pthread_rwlock_unlock(&d->lock);
	return count;
}
