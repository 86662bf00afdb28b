/* SPDX-License-Identifier: MIT */
/* Contexts, device discovery and lookup. */
#define _GNU_SOURCE /* secure_getenv */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static const struct wd_driver_ops *const drivers[] = {
	&wd_soft_driver,
	&wd_vfio_driver,
	&wd_wdd_driver,
};

/*
 * The environment is read with secure_getenv, here and everywhere in the
 * library, the zlib layer and the provider: a set-uid or set-gid program
 * must not take from the user who runs it which daemon it hands its
 * memory to, which device it uses or which file it writes.
 */
static uint32_t env_u32(const char *name, uint32_t dflt, uint32_t max)
{
	const char *s = secure_getenv(name);
	char *end;
	unsigned long v;

	if (!s || !*s)
		return dflt;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v > max)
		return dflt;
	return (uint32_t)v;
}

WD_EXPORT int wd_ctx_new(struct wd_ctx **out, const struct wd_ctx_opts *opts)
{
	struct wd_ctx_opts o = { 0 };
	struct wd_ctx *ctx;
	const char *env;
	unsigned i;
	int ret;

	if (!out)
		return -EINVAL;
	*out = NULL;
	if (opts) {
		if (opts->size < sizeof(o) || (opts->flags & ~WD_CTX_F_LOCAL_ONLY))
			return -EINVAL;
		memcpy(&o, opts, sizeof(o));
	}
	if (o.soft_threads > 256 || o.soft_idle_us > 10 * 1000 * 1000)
		return -EINVAL;

	wd__fork_init();
	ctx = calloc(1, sizeof(*ctx));
	if (!ctx)
		return -ENOMEM;
	pthread_mutex_init(&ctx->lock, NULL);
	ctx->fork_gen = wd__fork_gen;
	ctx->soft_threads = o.soft_threads ? o.soft_threads : env_u32("WD_SOFT_THREADS", 0, 256);
	ctx->soft_idle_us = o.soft_idle_us ? o.soft_idle_us
					   : env_u32("WD_SOFT_IDLE_US", 200, 10 * 1000 * 1000);
	/* WD_SOFT_INLINE=0: synchronous helpers always go through the ring */
	ctx->soft_inline = env_u32("WD_SOFT_INLINE", 1, 1) != 0;
	env = secure_getenv("WD_DEVICE");
	if (env)
		snprintf(ctx->preferred, sizeof(ctx->preferred), "%s", env);

	for (i = 0; i < WD_ARRAY_SIZE(drivers); i++) {
		if ((o.flags & WD_CTX_F_LOCAL_ONLY) && drivers[i] != &wd_soft_driver)
			continue;
		ret = drivers[i]->probe(ctx);
		if (ret < 0) {
			wd_ctx_free(ctx);
			return ret;
		}
	}
	*out = ctx;
	return 0;
}

WD_EXPORT void wd_ctx_free(struct wd_ctx *ctx)
{
	int in_child;
	unsigned i;

	if (!ctx)
		return;
	in_child = ctx->fork_gen != wd__fork_gen;
	/* domains the user did not free: unpin in the owner, forget in a child */
	while (ctx->domains && !in_child)
		wd__domain_destroy(ctx->domains);
	for (i = 0; i < ctx->ndevs; i++) {
		struct wd_dev *dev = ctx->devs[i];

		if (dev->ops->remove)
			dev->ops->remove(dev, in_child);
		free(dev);
	}
	if (!in_child) /* the parent's lock state was copied: leave it be */
		pthread_mutex_destroy(&ctx->lock);
	free(ctx);
}

void wd__ctx_set_ring_start(struct wd_ctx *ctx, uint32_t idx)
{
	ctx->ring_start = idx;
}

uint32_t wd__ctx_soft_threads(const struct wd_ctx *ctx)
{
	return ctx->soft_threads;
}

uint32_t wd__ctx_soft_idle_us(const struct wd_ctx *ctx)
{
	return ctx->soft_idle_us;
}

int wd__dev_add(struct wd_ctx *ctx, const struct wd_driver_ops *ops,
		const struct wd_dev_info *info, const char *const *algs, void *priv)
{
	struct wd_dev *dev;
	unsigned n = 0;

	if (ctx->ndevs == WD_MAX_DEVS)
		return -ENOSPC;
	dev = calloc(1, sizeof(*dev));
	if (!dev)
		return -ENOMEM;
	dev->ctx = ctx;
	dev->ops = ops;
	dev->info = *info;
	dev->info.size = sizeof(dev->info);
	while (algs[n])
		n++;
	dev->info.n_algs = n;
	dev->algs = algs;
	dev->priv = priv;
	ctx->devs[ctx->ndevs++] = dev;
	return 0;
}

WD_EXPORT int wd_dev_count(const struct wd_ctx *ctx)
{
	return ctx ? (int)ctx->ndevs : -EINVAL;
}

WD_EXPORT struct wd_dev *wd_dev_get(const struct wd_ctx *ctx, unsigned idx)
{
	return ctx && idx < ctx->ndevs ? ctx->devs[idx] : NULL;
}

WD_EXPORT struct wd_dev *wd_dev_by_name(const struct wd_ctx *ctx, const char *name)
{
	unsigned i;

	if (!ctx || !name)
		return NULL;
	for (i = 0; i < ctx->ndevs; i++)
		if (!strcmp(ctx->devs[i]->info.name, name))
			return ctx->devs[i];
	return NULL;
}

WD_EXPORT int wd_dev_has_alg(const struct wd_dev *dev, const char *alg)
{
	unsigned i;

	if (!dev || !alg)
		return 0;
	for (i = 0; dev->algs[i]; i++)
		if (!strcmp(dev->algs[i], alg))
			return 1;
	return 0;
}

static int dev_free(struct wd_dev *d)
{
	int free_q;

	pthread_mutex_lock(&d->ctx->lock);
	free_q = d->nqueues < d->info.max_queues;
	pthread_mutex_unlock(&d->ctx->lock);
	return free_q;
}

WD_EXPORT struct wd_dev *wd_dev_find(const struct wd_ctx *ctx, const char *alg)
{
	struct wd_dev *best = NULL;
	unsigned i;

	if (!ctx || !alg)
		return NULL;
	/* WD_DEVICE names the device to use when it offers the algorithm */
	best = ctx->preferred[0] ? wd_dev_by_name(ctx, ctx->preferred) : NULL;
	if (best && wd_dev_has_alg(best, alg) && dev_free(best))
		return best;
	best = NULL;
	for (i = 0; i < ctx->ndevs; i++) {
		struct wd_dev *d = ctx->devs[i];

		if (!wd_dev_has_alg(d, alg))
			continue;
		/* a device with a free queue beats a faster full one */
		if (!best || dev_free(best) < dev_free(d) ||
		    (dev_free(best) == dev_free(d) &&
		     d->info.throughput_mbps > best->info.throughput_mbps))
			best = d;
	}
	return best;
}

WD_EXPORT int wd_dev_info(const struct wd_dev *dev, struct wd_dev_info *info)
{
	struct wd_dev_info tmp;
	size_t n;

	if (!dev || !info || info->size < sizeof(tmp))
		return -EINVAL;
	n = sizeof(tmp);
	pthread_mutex_lock(&dev->ctx->lock);
	tmp = dev->info;
	tmp.avail_queues = tmp.max_queues - dev->nqueues;
	pthread_mutex_unlock(&dev->ctx->lock);
	memcpy(info, &tmp, n);
	info->size = (uint32_t)n;
	return 0;
}

WD_EXPORT const char *wd_dev_alg(const struct wd_dev *dev, unsigned idx)
{
	return dev && idx < dev->info.n_algs ? dev->algs[idx] : NULL;
}
