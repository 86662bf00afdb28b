/* SPDX-License-Identifier: MIT */
/* The soft driver: device "soft0", its engine threads and its queues. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#include "../../core/internal.h"
#include "soft.h"

#define SOFT_MAX_QUEUES 1024

struct soft_dev {
	unsigned nworkers;
	unsigned *load;                 /* queues per worker, under ctx->lock */
	struct soft_worker workers[];
};

static const char *const soft_algs[] = {
	"deflate", "zlib", "gzip", "mover", "nop", "copy", "fill", "compare", "crc32c", NULL,
};

static int resv_cmp(const void *a, const void *b)
{
	const struct wd_iova_range *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

/*
 * The IOVA windows the soft device pretends it cannot use: the x86 MSI
 * doorbell window, as an IOMMU reports it, and any listed in WD_SOFT_RESV
 * ("START-LAST[,START-LAST...]", inclusive, any base strtoull takes).
 */
static void soft_reserved(struct wd_dev *dev)
{
	const char *env = getenv("WD_SOFT_RESV");
	char *end;

	dev->resv[0].start = 0xfee00000ull;
	dev->resv[0].last = 0xfeefffffull;
	dev->nresv = 1;
	while (env && *env && dev->nresv < sizeof(dev->resv) / sizeof(dev->resv[0])) {
		unsigned long long a = strtoull(env, &end, 0), b;

		if (*end != '-')
			break;
		b = strtoull(end + 1, &end, 0);
		if (b >= a) {
			dev->resv[dev->nresv].start = a;
			dev->resv[dev->nresv++].last = b;
		}
		env = *end == ',' ? end + 1 : end;
	}
	qsort(dev->resv, dev->nresv, sizeof(dev->resv[0]), resv_cmp);
}

static int soft_probe(struct wd_ctx *ctx)
{
	struct wd_dev_info info = { .size = sizeof(info) };
	struct soft_dev *sd;
	unsigned n = wd__ctx_soft_threads(ctx), i;
	long cpus;
	int ret;

	if (!n) {
		cpus = sysconf(_SC_NPROCESSORS_ONLN);
		n = cpus > 0 ? (unsigned)cpus : 1;
		if (n > 64)
			n = 64;
	}
	sd = calloc(1, sizeof(*sd) + n * sizeof(sd->workers[0]));
	if (!sd)
		return -ENOMEM;
	sd->load = calloc(n, sizeof(*sd->load));
	if (!sd->load) {
		free(sd);
		return -ENOMEM;
	}
	for (i = 0; i < n; i++) {
		ret = soft_worker_start(&sd->workers[i], wd__ctx_soft_idle_us(ctx), SOFT_MAX_QUEUES);
		if (ret)
			goto err;
		sd->nworkers++;
	}
	strcpy(info.name, "soft0");
	strcpy(info.driver, "soft");
	info.flags = WD_DEV_F_SVA | WD_DEV_F_EXPLICIT | WD_DEV_F_SOFT;
	info.max_segs = 256;
	info.max_seg_len = SOFT_MAX_LEN;
	info.max_queues = SOFT_MAX_QUEUES;
	info.max_depth = WD_RING_MAX_ENTRIES;
	info.engines = n;
	info.throughput_mbps = 2000;    /* hint, of one engine thread */
	info.latency_ns = 500;
	ret = wd__dev_add(ctx, &wd_soft_driver, &info, soft_algs, sd);
	if (ret)
		goto err;
	soft_reserved(ctx->devs[ctx->ndevs - 1]);
	return 0;
err:
	while (sd->nworkers)
		soft_worker_stop(&sd->workers[--sd->nworkers]);
	free(sd->load);
	free(sd);
	return ret;
}

static void soft_remove(struct wd_dev *dev, int in_child)
{
	struct soft_dev *sd = dev->priv;
	unsigned i;

	for (i = 0; i < sd->nworkers; i++) {
		if (in_child) {
			/* the thread does not exist here: only memory to free */
			soft_scratch_free(&sd->workers[i].scratch);
			free(sd->workers[i].list);
			free(sd->workers[i].local);
		} else {
			soft_worker_stop(&sd->workers[i]);
		}
	}
	free(sd->load);
	free(sd);
}

static int soft_queue_open(struct wd_queue *q)
{
	struct soft_queue *sq;
	size_t size = wd_ring_size(q->depth, q->depth);
	void *mem;
	int ret;

	sq = calloc(1, sizeof(*sq));
	if (!sq)
		return -ENOMEM;
	mem = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE,
		   -1, 0);
	if (mem == MAP_FAILED) {
		ret = -errno;
		goto err_free;
	}
	/* A queue is never inherited: the child gets no mapping at all. */
	if (madvise(mem, size, MADV_DONTFORK)) {
		ret = -errno;
		goto err_unmap;
	}
	q->cq_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (q->cq_fd < 0) {
		ret = -errno;
		goto err_unmap;
	}
	wd_ring_bind(&q->ring, mem, q->depth, q->depth);
	wd_ring_bind(&sq->ring, mem, q->depth, q->depth);
	sq->cq_fd = q->cq_fd;
	sq->op_mask = q->op_mask;
	sq->dom = q->domain;
	q->mem = mem;
	q->drv = sq;
	return 0;
err_unmap:
	munmap(mem, size);
err_free:
	free(sq);
	return ret;
}

static void soft_queue_close(struct wd_queue *q, int in_child)
{
	if (!in_child) {
		munmap(q->mem, q->ring.size);
		close(q->cq_fd);
	}
	soft_streams_free(q->drv);
	free(q->drv);
}

static int soft_queue_start(struct wd_queue *q)
{
	struct soft_dev *sd = q->dev->priv;
	struct soft_queue *sq = q->drv;
	unsigned i, best = 0;

	/* The ring was just formatted by the core, before any user access. */
	sq->sq_head = q->ring.ctl->sq_head;
	sq->cq_tail = q->ring.ctl->cq_tail;
	pthread_mutex_lock(&q->ctx->lock);
	for (i = 1; i < sd->nworkers; i++)
		if (sd->load[i] < sd->load[best])
			best = i;
	sd->load[best]++;
	pthread_mutex_unlock(&q->ctx->lock);
	sq->worker = &sd->workers[best];
	soft_worker_attach(sq->worker, sq);
	return 0;
}

static void soft_queue_stop(struct wd_queue *q, uint32_t *sq_head, uint32_t *cq_tail)
{
	struct soft_dev *sd = q->dev->priv;
	struct soft_queue *sq = q->drv;

	if (!sq->worker)
		return;
	soft_worker_detach(sq->worker, sq);
	pthread_mutex_lock(&q->ctx->lock);
	sd->load[sq->worker - sd->workers]--;
	pthread_mutex_unlock(&q->ctx->lock);
	sq->worker = NULL;
	*sq_head = sq->sq_head;
	*cq_tail = sq->cq_tail;
}

static void soft_kick(struct wd_queue *q)
{
	struct soft_queue *sq = q->drv;

	soft_worker_kick(sq->worker);
}

const struct wd_driver_ops wd_soft_driver = {
	.name = "soft",
	.probe = soft_probe,
	.remove = soft_remove,
	.queue_open = soft_queue_open,
	.queue_close = soft_queue_close,
	.queue_start = soft_queue_start,
	.queue_stop = soft_queue_stop,
	.kick = soft_kick,
};
