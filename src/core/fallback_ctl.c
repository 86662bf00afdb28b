/* SPDX-License-Identifier: MIT */
/*
 * Fallback to the built-in engine, its control side (the data path is
 * fallback.c): which queues get one, the built-in engine's queue made for
 * a queue when first needed, where the user's event fd points once the
 * device failed, cipher sessions (on the device, or on the built-in engine
 * when the device lacks or refuses their mode), the keys kept for it
 * (WD_QUEUE_F_FALLBACK_KEEP_KEYS), statistics, and synchronous helpers.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>
#include <wd/comp.h>

#include "fallback_int.h"

/* ---- kept keys: locked, out of core dumps and fork children, wiped ---- */

static size_t keys_len(void)
{
	size_t ps = (size_t)sysconf(_SC_PAGESIZE);

	return (sizeof(struct fb_keys) + ps - 1) & ~(ps - 1);
}

static int keys_new(struct fb_keys **out)
{
	size_t len = keys_len();
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	int ret;

	if (p == MAP_FAILED)
		return -errno;
	if (mlock(p, len)) {
		ret = -errno;
		munmap(p, len);
		return ret;
	}
	madvise(p, len, MADV_DONTDUMP);
	/* a fork child gets zeros, or (before Linux 4.14) no mapping at all */
	if (madvise(p, len, MADV_WIPEONFORK))
		madvise(p, len, MADV_DONTFORK);
	*out = p;
	return 0;
}

static void keys_free(struct fb_keys *k, int in_child)
{
	size_t len = keys_len();

	if (!k)
		return;
	if (!in_child) { /* there: zeros, or nothing mapped */
		explicit_bzero(k, sizeof(*k));
		munlock(k, len);
	}
	munmap(k, len);
}

static void key_keep(struct wd_fb *fb, unsigned id, const struct wd_cipher_setup *cs)
{
	if (!fb->keys)
		return;
	fb->keys->cs[id] = *cs;
	fb->keys->have |= fb_bit(id);
}

static void key_wipe(struct wd_fb *fb, unsigned id)
{
	if (!fb->keys || !(fb->keys->have & fb_bit(id)))
		return;
	explicit_bzero(&fb->keys->cs[id], sizeof(fb->keys->cs[id]));
	fb->keys->have &= ~fb_bit(id);
}

/* ---- life ---- */

static struct wd_dev *builtin_dev(const struct wd_ctx *ctx)
{
	unsigned i;

	for (i = 0; i < ctx->ndevs; i++)
		if (ctx->devs[i]->ops->flags & WD_DRV_F_BUILTIN)
			return ctx->devs[i];
	return NULL;
}

static int fb_alloc(struct wd_fb *fb, uint32_t depth)
{
	uint32_t i;

	fb->depth = depth;
	fb->free = calloc(depth, sizeof(*fb->free));
	fb->slot = calloc(depth, sizeof(*fb->slot));
	/* one cache line per request: the copy touches one line */
	fb->shadow = aligned_alloc(64, depth * sizeof(*fb->shadow));
	fb->done = calloc(depth, sizeof(*fb->done));
	fb->doneq = calloc(depth, sizeof(*fb->doneq));
	fb->ring_slot = calloc(depth, sizeof(*fb->ring_slot));
	fb->order = calloc(depth, sizeof(*fb->order));
	if (!fb->free || !fb->slot || !fb->shadow || !fb->done || !fb->doneq || !fb->ring_slot ||
	    !fb->order)
		return -ENOMEM;
	for (i = 0; i < depth; i++)
		fb->free[i] = (uint16_t)(depth - 1 - i);
	fb->nfree = depth;
	return 0;
}

int wd__fb_new(struct wd_queue *q)
{
	struct wd_fb *fb;
	int ret;

	/* the built-in engine has nothing to fall back to */
	if ((q->flags & WD_QUEUE_F_NO_FALLBACK) || (q->ops->flags & WD_DRV_F_BUILTIN) ||
	    !builtin_dev(q->ctx))
		return 0;
	fb = calloc(1, sizeof(*fb));
	if (!fb)
		return -ENOMEM;
	fb->soft_fd = -1;
	fb->sva_mem = -1;
	q->fb = fb;
	ret = fb_alloc(fb, q->depth);
	if (!ret && (q->flags & WD_QUEUE_F_FALLBACK_KEEP_KEYS))
		ret = keys_new(&fb->keys);
	if (ret)
		wd__fb_free(q, 0);
	return ret;
}

void wd__fb_free(struct wd_queue *q, int in_child)
{
	struct wd_fb *fb = q->fb;

	if (!fb)
		return;
	wd_queue_free(fb->soft); /* stopped with q, or its fork child's copy */
	if (fb->sva_mem >= 0 && !in_child)
		close(fb->sva_mem);
	keys_free(fb->keys, in_child);
	free(fb->free);
	free(fb->slot);
	free(fb->shadow);
	free(fb->done);
	free(fb->doneq);
	free(fb->ring_slot);
	free(fb->order);
	free(fb);
	q->fb = NULL;
}

/* ---- the built-in engine's queue ---- */

/* The fds a user of q waits on must wake for the built-in engine's
 * completions too: an eventfd of q's (a local ring) becomes the engine's
 * own counter; the epoll set of a daemon's queue gets its fd. */
static int soft_fds(struct wd_queue *q, int *share)
{
	struct wd_fb *fb = q->fb;

	*share = q->wait_fd < 0 ? q->cq_fd : -1;
	/* a daemon's queue: its SVA addresses were checked by the kernel;
	 * so are the built-in engine's, through our own memory file */
	if (!q->domain && (q->ops->flags & WD_DRV_F_SVA_CHECKED) && fb->sva_mem < 0) {
		fb->sva_mem = open("/proc/self/mem", O_RDWR | O_CLOEXEC);
		if (fb->sva_mem < 0)
			return -errno;
	}
	return 0;
}

int fb_soft_open(struct wd_queue *q)
{
	struct wd_fb *fb = q->fb;
	struct wd_queue_opts o = { .size = sizeof(o), .depth = q->depth, .domain = q->domain,
				   .flags = (q->flags & (WD_QUEUE_F_EXPLICIT | WD_QUEUE_F_RING_ONLY)) |
					    WD_QUEUE_F_NO_FALLBACK };
	struct wd_dev *dev = builtin_dev(q->ctx);
	struct epoll_event ev = { .events = EPOLLIN };
	int share, ret;

	if (fb->soft)
		return 0;
	if (!dev || q->depth > dev->info.max_depth || !wd_dev_has_alg(dev, q->alg))
		return -ENODEV;
	ret = soft_fds(q, &share);
	if (ret)
		return ret;
	ret = wd__queue_create(q->ctx, dev, q->alg, &o, share, fb->sva_mem, &fb->soft);
	if (ret)
		return ret;
	if (share < 0)
		fb->soft_fd = fb->soft->cq_fd;
	if (q->wait_fd >= 0 && epoll_ctl(q->wait_fd, EPOLL_CTL_ADD, fb->soft->cq_fd, &ev)) {
		ret = -errno;
		wd_queue_free(fb->soft);
		fb->soft = NULL;
		fb->soft_fd = -1;
	}
	return ret;
}

void fb_rewire_failed(struct wd_queue *q)
{
	/* the device's completion fd and hang-up would stay ready for ever
	 * (a dead daemon's pipe and socket): out of the user's epoll set */
	if (q->wait_fd >= 0) {
		epoll_ctl(q->wait_fd, EPOLL_CTL_DEL, q->cq_fd, NULL);
		if (q->alive_fd >= 0)
			epoll_ctl(q->wait_fd, EPOLL_CTL_DEL, q->alive_fd, NULL);
	}
	q->alive_fd = -1; /* the context's socket: not ours to close */
}

void fb_kick_waiters(struct wd_queue *q)
{
	struct wd_fb *fb = q->fb;
	int fd = fb->soft ? fb->soft->cq_fd : q->wait_fd < 0 ? q->cq_fd : -1;

	if (fd >= 0 && eventfd_write(fd, 1) < 0)
		return; /* saturated: it is readable anyway */
}

/* ---- sessions ---- */

static int soft_set(struct wd_queue *q, unsigned id, const struct wd_cipher_setup *cs)
{
	struct wd_fb *fb = q->fb;
	int ret = fb_soft_open(q);

	if (!ret)
		ret = fb->soft->ops->cipher_session(fb->soft, id, cs);
	if (!ret)
		fb->soft_set |= fb_bit(id);
	return ret;
}

int fb_soft_session(struct wd_queue *q, unsigned id)
{
	struct wd_fb *fb = q->fb;
	uint64_t bit = fb_bit(id);

	if (fb->soft_set & bit)
		return 0;
	if (!fb->keys || !(fb->keys->have & bit) || (fb->lost & bit))
		return -ENOTRECOVERABLE;
	return soft_set(q, id, &fb->keys->cs[id]) ? -ENOTRECOVERABLE : 0;
}

void fb_restore_keys(struct wd_queue *q)
{
	struct wd_fb *fb = q->fb;
	uint64_t have = fb->keys ? fb->keys->have : 0;

	while (have) {
		unsigned id = (unsigned)__builtin_ctzll(have) + 1;

		have &= have - 1;
		fb_soft_session(q, id);
	}
}

void wd__fb_session(struct wd_queue *q, unsigned id)
{
	struct wd_fb *fb = q->fb;
	uint64_t bit = fb_bit(id);

	/* a new session, or one given back: nothing of the old one counts */
	fb->lost &= ~bit;
	fb->on_soft &= ~bit;
}

static int cipher_close(struct wd_queue *q, unsigned id)
{
	struct wd_fb *fb = q->fb;
	uint64_t bit = fb_bit(id);

	if (fb->soft_set & bit) {
		fb->soft->ops->cipher_session(fb->soft, id, NULL);
		fb->soft_set &= ~bit;
	}
	/* a failed device is told nothing more */
	if (!(fb->on_soft & bit) && !fb->failed && q->ops->cipher_session)
		q->ops->cipher_session(q, id, NULL);
	fb->on_soft &= ~bit;
	key_wipe(fb, id);
	return 0;
}

int wd__cipher_open(struct wd_queue *q, unsigned id, const struct wd_cipher_setup *cs,
		    const char *mode)
{
	struct wd_fb *fb = q->fb;
	int on_dev = q->ops->cipher_session && (!mode || wd_dev_has_alg(q->dev, mode));
	int ret;

	if (!fb)
		return (!cs && q->ops->cipher_session) || on_dev ? q->ops->cipher_session(q, id, cs)
								   : -EOPNOTSUPP;
	if (!cs)
		return cipher_close(q, id);
	if (!fb->failed && on_dev) {
		ret = q->ops->cipher_session(q, id, cs);
		if (ret != -EOPNOTSUPP) {
			if (!ret)
				key_keep(fb, id, cs);
			return ret;
		}
	}
	/* the device failed, lacks the mode or refused it: the session lives
	 * on the built-in engine, its completions say so */
	if (fb->failed && !fb->soft)
		return -EIO;
	ret = soft_set(q, id, cs);
	if (ret)
		return fb->failed ? ret : -EOPNOTSUPP;
	fb->on_soft |= fb_bit(id);
	return 0;
}

/* ---- statistics ---- */

/* The fields every engine counts, from requests to deflate_stored. */
#define SUM_FIRST offsetof(struct wd_queue_stats, requests)
#define SUM_END (offsetof(struct wd_queue_stats, deflate_stored) + sizeof(uint64_t))

static void stats_add(struct wd_queue_stats *to, const struct wd_queue_stats *from)
{
	size_t off;

	for (off = SUM_FIRST; off < SUM_END; off += sizeof(uint64_t)) {
		uint64_t a, b;

		memcpy(&a, (char *)to + off, sizeof(a));
		memcpy(&b, (const char *)from + off, sizeof(b));
		a += b;
		memcpy((char *)to + off, &a, sizeof(a));
	}
}

int wd__fb_stats(struct wd_queue *q, struct wd_queue_stats *st)
{
	struct wd_fb *fb = q->fb;
	struct wd_queue_stats dev = { .size = sizeof(dev) }, soft = { .size = sizeof(soft) };
	uint64_t moved = fb->n_moved;
	int ret;

	if (!fb->detached && q->ops->queue_stats) {
		ret = q->ops->queue_stats(q, &dev);
		if (ret)
			return ret;
		fb->dev_last = dev;
	}
	stats_add(st, &fb->dev_last);
	if (fb->soft && !(ret = wd_queue_stats(fb->soft, &soft)))
		stats_add(st, &soft);
	/* a request counts once: the device's answers handed over are not
	 * its errors (nor its requests) */
	moved = moved < st->errors ? moved : st->errors;
	st->requests -= moved < st->requests ? moved : st->requests;
	st->errors -= moved;
	st->soft_after_failure = fb->n_failure;
	st->soft_after_refusal = fb->n_refusal;
	st->lost_in_failure = fb->n_lost;
	st->device_failures = fb->n_failures;
	return 0;
}

/* ---- synchronous helpers ---- */

int wd__fb_run_sync(struct wd_queue *q, struct wd_req *r, struct wd_cpl *c)
{
	struct wd_fb *fb = q->fb;
	int soft_sess = r->session && (fb->on_soft & fb_bit(r->session));
	int ret, why;

	if (q->fork_gen != wd__fork_gen || q->state != WD_Q_STARTED)
		return 1; /* the ring path gives the error */
	if (!fb->failed && (q->dead || wd_load_acquire(&q->ring.ctl->dev_status)) &&
	    wd__fb_failover(q))
		return -EIO;
	if (!fb->failed && !soft_sess)
		return 1;
	why = fb->failed ? FB_WHY_FAILURE : FB_WHY_REFUSAL;
	ret = fb_rerun_check(q, r, 0);
	if (!ret && r->session && (r->op == WD_OP_ENCRYPT || r->op == WD_OP_DECRYPT))
		ret = fb_soft_session(q, r->session);
	if (ret) {
		memset(c, 0, sizeof(*c));
		c->tag = r->tag;
		c->status = ret;
		fb->n_lost++;
		return 0;
	}
	if ((r->op == WD_OP_COMPRESS || r->op == WD_OP_DECOMPRESS) &&
	    (r->param & WD_COMP_P_START)) { /* started there: it lives there */
		fb->on_soft |= fb_bit(r->session);
		fb->lost &= ~fb_bit(r->session);
	}
	ret = wd__run_sync(fb->soft, r, c);
	if (ret)
		return ret;
	c->flags |= WD_CPL_F_SOFT;
	if (why == FB_WHY_REFUSAL)
		fb->n_refusal++;
	else
		fb->n_failure++;
	return 0;
}
