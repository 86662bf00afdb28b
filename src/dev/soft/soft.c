/* SPDX-License-Identifier: MIT */
/* The soft driver: device "soft0", the software engine inside the process. */
#define _GNU_SOURCE /* secure_getenv */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../core/internal.h"
#include "soft.h"

const char *const soft_algs[] = {
	"deflate", "zlib", "gzip", "mover", "nop", "copy", "fill", "compare", "crc32c",
	"cipher", "aes-cbc", "aes-ctr", "aes-xts", "aes-gcm", NULL,
};

static int resv_cmp(const void *a, const void *b)
{
	const struct wd_iova_range *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

void soft_reserved(struct wd_iova_range *resv, uint32_t *n, uint32_t max)
{
	const char *env = secure_getenv("WD_SOFT_RESV");
	char *end;

	resv[0].start = 0xfee00000ull;
	resv[0].last = 0xfeefffffull;
	*n = 1;
	while (env && *env && *n < max) {
		unsigned long long a = strtoull(env, &end, 0), b;

		if (*end != '-')
			break;
		b = strtoull(end + 1, &end, 0);
		if (b >= a) {
			resv[*n].start = a;
			resv[(*n)++].last = b;
		}
		env = *end == ',' ? end + 1 : end;
	}
	qsort(resv, *n, sizeof(resv[0]), resv_cmp);
}

void soft_dev_info(struct wd_dev_info *info, const char *name, unsigned engines)
{
	memset(info, 0, sizeof(*info));
	info->size = sizeof(*info);
	snprintf(info->name, sizeof(info->name), "%s", name);
	strcpy(info->driver, "soft");
	info->flags = WD_DEV_F_SVA | WD_DEV_F_EXPLICIT | WD_DEV_F_SOFT;
	info->max_queues = SOFT_MAX_QUEUES;
	info->max_depth = WD_RING_MAX_ENTRIES;
	info->engines = engines;
	info->throughput_mbps = 2000;   /* hint, of one engine thread */
	info->latency_ns = 500;
	info->max_segs = SOFT_MAX_SEGS;
	info->max_seg_len = SOFT_MAX_LEN;
}

static int soft_probe(struct wd_ctx *ctx)
{
	struct wd_dev_info info;
	struct soft_dev *sd;
	struct wd_dev *dev;
	int ret;

	ret = soft_dev_create(wd__ctx_soft_threads(ctx), wd__ctx_soft_idle_us(ctx), &sd);
	if (ret)
		return ret;
	soft_dev_info(&info, "soft0", sd->nworkers);
	ret = wd__dev_add(ctx, &wd_soft_driver, &info, soft_algs, sd);
	if (ret) {
		soft_dev_destroy(sd, 0);
		return ret;
	}
	dev = ctx->devs[ctx->ndevs - 1];
	soft_reserved(dev->resv, &dev->nresv, sizeof(dev->resv) / sizeof(dev->resv[0]));
	return 0;
}

static void soft_remove(struct wd_dev *dev, int in_child)
{
	soft_dev_destroy(dev->priv, in_child);
}

static int soft_queue_open(struct wd_queue *q)
{
	return wd__queue_ring_local(q);
}

static void soft_queue_close(struct wd_queue *q, int in_child)
{
	wd__queue_ring_local_free(q, in_child);
	soft_queue_destroy(q->drv);
}

static int soft_queue_start(struct wd_queue *q)
{
	/* The ring was just formatted by the core, before any user access. */
	q->drv = soft_queue_create(q->mem, q->depth, q->op_mask, q->domain, q->cq_fd, q->sva_mem);
	if (!q->drv)
		return -ENOMEM;
	return soft_queue_attach(q->dev->priv, q->drv); /* on failure, queue_close frees drv */
}

static void soft_queue_stop(struct wd_queue *q, uint32_t *sq_head, uint32_t *cq_tail)
{
	soft_queue_detach(q->dev->priv, q->drv, sq_head, cq_tail);
}

static void soft_kick(struct wd_queue *q)
{
	soft_queue_kick(q->drv);
}

static int soft_cipher_session(struct wd_queue *q, unsigned id, const struct wd_cipher_setup *cs)
{
	return soft_cipher_set(q->drv, id, cs);
}

static int soft_exec_sync(struct wd_queue *q, const wd_sqe *e, wd_cqe *c)
{
	return soft_exec_inline(q->drv, e, c);
}

static int soft_stats_get(struct wd_queue *q, struct wd_queue_stats *st)
{
	if (q->drv) /* none before the queue started */
		soft_queue_stats_public(q->drv, st);
	return 0;
}

const struct wd_driver_ops wd_soft_driver = {
	.name = "soft",
	.flags = WD_DRV_F_BUILTIN,
	.probe = soft_probe,
	.remove = soft_remove,
	.queue_open = soft_queue_open,
	.queue_close = soft_queue_close,
	.queue_start = soft_queue_start,
	.queue_stop = soft_queue_stop,
	.kick = soft_kick,
	.cipher_session = soft_cipher_session,
	.exec_sync = soft_exec_sync,
	.queue_stats = soft_stats_get,
};
