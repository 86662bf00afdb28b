/* SPDX-License-Identifier: MIT */
/*
 * The "vfio" driver: a virtio-crypto PCI function bound to vfio-pci, driven
 * from this process.  Each wd queue gets a data virtqueue and a thread that
 * moves requests from the queue's ring (untrusted: copied once, validated,
 * addresses checked against the domain) onto the virtqueue, and device
 * completions back.  Sessions go through the control virtqueue.
 *
 * The device has one IOMMU address space (no PASID), so it has one domain at
 * a time: every range shared with it is mapped with VFIO_IOMMU_MAP_DMA at
 * the IOVA the memory layer chose, inside the ranges the kernel reported.
 */
#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>
#include <linux/virtio_config.h>
#include <linux/virtio_pci.h>

#include "../../core/driver.h"
#include "../../core/internal.h"
#include "../../mem/domain.h"
#include "vcrypto.h"

#define VIRTIO_ID_CRYPTO_MODERN 0x1054
#define VIRTIO_VENDOR 0x1af4

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- stopping a device that cannot be trusted any more ---- */

/*
 * The device is gone, timed out or broke the virtqueue protocol: declare it
 * gone (no queue or session uses it again) and make sure it can write
 * nothing more before any buffer it was given is handed back.  A reset does
 * that once the device reads back status 0; one that does not acknowledge
 * it loses bus mastering instead.  0 when the device is stopped, -EIO when
 * neither worked (its buffers must then stay held).  Caller holds vd->lock
 * (the BARs go away under it in release_device).
 */
static int stop_device(struct vc_dev *vd)
{
	__atomic_store_n(&vd->gone, 1, __ATOMIC_RELEASE);
	if (!vd->stopped && !vd->released)
		vd->stopped = !vpci_reset(&vd->t) || !vfio_pci_dma_off(&vd->v) ? 1 : -1;
	return vd->stopped > 0 || vd->released ? 0 : -EIO;
}

static int stop_device_unlocked(struct vc_dev *vd)
{
	int ret;

	pthread_mutex_lock(&vd->lock);
	ret = stop_device(vd);
	pthread_mutex_unlock(&vd->lock);
	return ret;
}

/* ---- the control queue ---- */

/* Run one control request and wait for it; the caller holds vd->lock.  A
 * device that does not answer in time, or answers what was not asked, is
 * stopped before the caller reuses the request buffers: a late answer must
 * not land in the next request. */
static int ctl_run(struct vc_dev *vd, const struct virtq_buf *b, unsigned n)
{
	int64_t deadline = mono_ms() + VC_CTL_TIMEOUT_MS;
	uint32_t written;
	int head, id;

	if (__atomic_load_n(&vd->gone, __ATOMIC_ACQUIRE))
		return -EIO;
	head = virtq_add(&vd->ctlq, b, n);
	if (head < 0)
		return head;
	vpci_publish(&vd->t, &vd->ctlq);
	for (;;) {
		id = virtq_get(&vd->ctlq, &written);
		if (id == head)
			return 0;
		if (id != -EAGAIN) { /* a completion we never asked for */
			stop_device(vd);
			return -EIO;
		}
		if (mono_ms() > deadline) {
			stop_device(vd); /* its state is unknown now */
			return -ETIMEDOUT;
		}
		usleep(20);
	}
}

static const uint32_t vc_algo[] = {
	[WD_CIPHER_AES_CBC] = VIRTIO_CRYPTO_CIPHER_AES_CBC,
	[WD_CIPHER_AES_CTR] = VIRTIO_CRYPTO_CIPHER_AES_CTR,
	[WD_CIPHER_AES_XTS] = VIRTIO_CRYPTO_CIPHER_AES_XTS,
};

static int status_errno(uint32_t st)
{
	switch (st) {
	case VIRTIO_CRYPTO_OK:
		return 0;
	case VIRTIO_CRYPTO_NOTSUPP:
		return -EOPNOTSUPP;
	case VIRTIO_CRYPTO_BADMSG:
	case VIRTIO_CRYPTO_INVSESS:
		return -EINVAL;
	case VIRTIO_CRYPTO_NOSPC:
		return -ENOSPC;
	default:
		return -EIO;
	}
}

static int session_create(struct vc_dev *vd, unsigned qidx, const struct wd_cipher_setup *cs,
			  uint32_t op, uint64_t *id)
{
	struct virtio_crypto_op_ctrl_req *req = (void *)vd->ctl;
	uint8_t *key = vd->ctl + 128;
	struct virtio_crypto_session_input *in = (void *)(vd->ctl + 256);
	struct virtq_buf b[3] = {
		{ vd->ctl_iova, sizeof(*req), 0 },
		{ vd->ctl_iova + 128, cs->key_len, 0 },
		{ vd->ctl_iova + 256, sizeof(*in), 1 },
	};
	int ret;

	memset(vd->ctl, 0, 512);
	req->header.opcode = VIRTIO_CRYPTO_CIPHER_CREATE_SESSION;
	req->header.algo = vc_algo[cs->alg];
	req->header.queue_id = qidx;
	req->u.sym_create_session.u.cipher.para.algo = vc_algo[cs->alg];
	req->u.sym_create_session.u.cipher.para.keylen = cs->key_len;
	req->u.sym_create_session.u.cipher.para.op = op;
	req->u.sym_create_session.op_type = VIRTIO_CRYPTO_SYM_OP_CIPHER;
	memcpy(key, cs->key, cs->key_len);
	in->status = VIRTIO_CRYPTO_ERR;
	ret = ctl_run(vd, b, 3);
	explicit_bzero(key, WD_CIPHER_KEY_MAX); /* the device has it now */
	if (ret)
		return ret;
	*id = __atomic_load_n(&in->session_id, __ATOMIC_RELAXED);
	return status_errno(__atomic_load_n(&in->status, __ATOMIC_RELAXED));
}

static int session_destroy(struct vc_dev *vd, unsigned qidx, uint32_t algo, uint64_t id)
{
	struct virtio_crypto_op_ctrl_req *req = (void *)vd->ctl;
	struct virtio_crypto_inhdr *in = (void *)(vd->ctl + 256);
	struct virtq_buf b[2] = {
		{ vd->ctl_iova, sizeof(*req), 0 },
		{ vd->ctl_iova + 256, sizeof(*in), 1 },
	};
	int ret;

	memset(vd->ctl, 0, 512);
	req->header.opcode = VIRTIO_CRYPTO_CIPHER_DESTROY_SESSION;
	req->header.algo = algo;
	req->header.queue_id = qidx;
	req->u.destroy_session.session_id = id;
	in->status = VIRTIO_CRYPTO_ERR;
	ret = ctl_run(vd, b, 2);
	return ret ? ret : status_errno(__atomic_load_n(&in->status, __ATOMIC_RELAXED));
}

static void sess_close(struct vc_dev *vd, struct vc_queue *cq, struct vc_sess *s)
{
	if (s->algo) {
		session_destroy(vd, cq->qidx, s->algo, s->id[0]);
		session_destroy(vd, cq->qidx, s->algo, s->id[1]);
	}
	pthread_mutex_lock(&cq->sess_lock);
	s->algo = 0;
	pthread_mutex_unlock(&cq->sess_lock);
}

/* The device fixes a session's direction: a wd session is two of them. */
static int vc_cipher_session(struct wd_queue *q, unsigned id, const struct wd_cipher_setup *cs)
{
	struct vc_queue *cq = q->drv;
	struct vc_dev *vd = q->dev->priv;
	struct vc_sess fresh = { 0 }, old;
	int ret = 0;

	if (!cq || id == 0 || id > WD_MAX_SESSIONS)
		return -EINVAL;
	if (cs && (cs->alg >= sizeof(vc_algo) / sizeof(vc_algo[0]) || !vc_algo[cs->alg] ||
		   !(vd->cfg.cipher_algo_l & (1u << vc_algo[cs->alg]))))
		return -EOPNOTSUPP;
	if (cs && cs->key_len > vd->cfg.max_cipher_key_len)
		return -EINVAL;
	pthread_mutex_lock(&vd->lock);
	pthread_mutex_lock(&cq->sess_lock);
	old = cq->sess[id];
	pthread_mutex_unlock(&cq->sess_lock);
	sess_close(vd, cq, &old);
	if (cs) {
		ret = session_create(vd, cq->qidx, cs, VIRTIO_CRYPTO_OP_ENCRYPT, &fresh.id[0]);
		if (!ret) {
			ret = session_create(vd, cq->qidx, cs, VIRTIO_CRYPTO_OP_DECRYPT, &fresh.id[1]);
			if (ret)
				session_destroy(vd, cq->qidx, vc_algo[cs->alg], fresh.id[0]);
		}
		if (!ret) {
			fresh.algo = vc_algo[cs->alg];
			fresh.mode = cs->alg;
			pthread_mutex_lock(&cq->sess_lock);
			cq->sess[id] = fresh;
			pthread_mutex_unlock(&cq->sess_lock);
		}
	}
	pthread_mutex_unlock(&vd->lock);
	return ret;
}

/* ---- the data path ---- */

static void wake_user(struct vc_queue *cq)
{
	if (eventfd_write(cq->cq_fd, 1) < 0)
		return; /* saturated: the user is being woken anyway */
}

static void post(struct vc_queue *cq, uint64_t tag, int status, uint64_t result)
{
	wd_cqe c = { .tag = tag, .status = status, .result = result };
	struct wd_ring *r = &cq->ring;

	memcpy(&r->cqes[cq->cq_tail & r->cq_mask], &c, sizeof(c));
	cq->cq_tail++;
	wd_store_release(&r->ctl->cq_tail, cq->cq_tail);
}

static void release(struct vc_queue *cq, struct vc_pending *p, int ok)
{
	unsigned i;

	for (i = 0; i < p->nheld; i++)
		wd__domain_put(cq->dom, p->held[i].map, p->held[i].iova,
			       ok && p->held[i].is_dst ? p->held[i].len : 0);
	p->nheld = 0;
}

/* A buffer as segments: one, or a scatter-gather table of count entries
 * copied out of shared memory once; returns the number of segments. */
static int segments(struct vc_queue *cq, uint64_t addr, uint32_t count, int sg, uint64_t len,
		    struct wd_range *table)
{
	struct wd_map *m;
	void *host;
	int ret;

	if (!sg) {
		table[0].addr = addr;
		table[0].len = len;
		return 1;
	}
	if (!count || count > VC_MAX_SEGS)
		return -EINVAL;
	ret = wd__domain_get(cq->dom, addr, (uint64_t)count * sizeof(table[0]), 0, &host, &m);
	if (ret)
		return ret;
	memcpy(table, host, count * sizeof(table[0]));
	wd__domain_put(cq->dom, m, addr, 0);
	return (int)count;
}

/* Hold the first want bytes of the segments (all of them when want is 0)
 * in the domain and append their device addresses to b; the bytes held. */
static int64_t hold(struct vc_queue *cq, struct vc_pending *p, const struct wd_range *t, int n,
		    uint64_t want, int is_dst, struct virtq_buf *b, unsigned *nb)
{
	uint64_t sum = 0, len;
	struct wd_map *m;
	void *host;
	int i, ret;

	for (i = 0; i < n && (!want || sum < want); i++) {
		len = t[i].len;
		if (!len || len > WD_CIPHER_LEN_MAX)
			return -EINVAL;
		if (want && len > want - sum)
			len = want - sum; /* a longer destination table is fine */
		ret = wd__domain_get(cq->dom, t[i].addr, len, is_dst, &host, &m);
		if (ret)
			return ret;
		p->held[p->nheld++] = (struct vc_hold){ m, t[i].addr, len, is_dst };
		b[(*nb)++] = (struct virtq_buf){ t[i].addr, (uint32_t)len, is_dst };
		sum += len;
	}
	return (int64_t)sum;
}

static int check_fields(const wd_sqe *e, const struct vc_sess *s)
{
	if (e->flags & ~(WD_REQ_F_SRC_SG | WD_REQ_F_DST_SG))
		return -EINVAL;
	if (e->param || e->rsvd || (e->dst_len && !(e->flags & WD_REQ_F_DST_SG)))
		return -EINVAL;
	return s->algo ? 0 : -EINVAL; /* unset or closed session */
}

/* The rules of wd/crypto.h on the data length; 1: empty, done at once. */
static int check_len(const struct vc_dev *vd, const struct vc_sess *s, uint64_t len)
{
	if (len > WD_CIPHER_LEN_MAX || len > vd->cfg.max_size)
		return -EMSGSIZE;
	if (s->mode == WD_CIPHER_AES_XTS && len < 16)
		return -EINVAL;
	if (s->mode == WD_CIPHER_AES_CBC && len % 16)
		return -EINVAL;
	return len ? 0 : 1;
}

/* In place, or apart: the device reads and writes as it goes.  Checked
 * once both ranges are known to be shared (so they do not wrap). */
static int check_overlap(const wd_sqe *e)
{
	if (!e->flags && e->src != e->dst && e->src < e->dst + e->len && e->dst < e->src + e->len)
		return -EINVAL;
	return 0;
}

/* Validate the request and hold its buffers; the data length, or < 0. */
static int64_t prepare(struct vc_queue *cq, const wd_sqe *e, const struct vc_sess *s,
		       struct vc_pending *p, struct virtq_buf *b, unsigned *nb)
{
	struct wd_range t[VC_MAX_SEGS];
	int64_t total, got;
	int n, ret;

	ret = check_fields(e, s);
	if (ret)
		return ret;
	n = segments(cq, e->src, e->len, e->flags & WD_REQ_F_SRC_SG, e->len, t);
	if (n < 0)
		return n;
	total = 0;
	for (int i = 0; i < n; i++)
		total += (int64_t)(t[i].len > WD_CIPHER_LEN_MAX ? WD_CIPHER_LEN_MAX + 1ull : t[i].len);
	ret = check_len(cq->vd, s, (uint64_t)total);
	if (ret)
		return ret < 0 ? ret : 0;
	total = hold(cq, p, t, n, 0, 0, b, nb);
	if (total < 0)
		return total;
	n = segments(cq, e->dst, e->dst_len, e->flags & WD_REQ_F_DST_SG, (uint64_t)total, t);
	if (n < 0)
		return n;
	got = hold(cq, p, t, n, (uint64_t)total, 1, b, nb);
	if (got < 0)
		return got;
	if (got < total)
		return -EINVAL; /* the destination table is too short */
	ret = check_overlap(e);
	return ret ? ret : total;
}

/*
 * Turn one copied descriptor into a virtqueue chain.  Returns 1 when it went
 * to the device, 0 when it completed at once (*status, *result set),
 * -ENOSPC when the virtqueue has no room (nothing held, try later), -EIO
 * when it is broken.
 */
static int submit_one(struct vc_queue *cq, const wd_sqe *e, int *status)
{
	struct virtq_buf b[2 * VC_MAX_SEGS + 2];
	struct vc_pending tmp = { .tag = e->tag };
	struct vc_sess s = { 0 };
	struct vc_slot *slot;
	unsigned nb = 1;        /* b[0]: the header, filled below */
	int64_t len;
	int head;

	*status = 0;
	if (e->op >= 32 || !(cq->op_mask & (1u << e->op)))
		return *status = -EOPNOTSUPP, 0;
	if (e->op == WD_OP_NOP) {
		*status = e->len || e->arg0 || e->arg1 || e->src || e->dst || e->flags ? -EINVAL : 0;
		return 0;
	}
	if (e->session && e->session <= WD_MAX_SESSIONS) {
		pthread_mutex_lock(&cq->sess_lock);
		s = cq->sess[e->session];
		pthread_mutex_unlock(&cq->sess_lock);
	}
	len = prepare(cq, e, &s, &tmp, b, &nb);
	if (len <= 0) { /* an error, or an empty request: nothing to do */
		release(cq, &tmp, 0);
		return *status = (int)len, 0;
	}
	if (cq->vq->nfree < nb + 1) {
		release(cq, &tmp, 0);
		return -ENOSPC;
	}
	/* the slot is the chain's head, known before the device sees it */
	head = virtq_next_head(cq->vq);
	b[0] = (struct virtq_buf){ cq->slots_iova + (uint64_t)head * sizeof(*slot),
				   offsetof(struct vc_slot, status), 0 };
	b[nb++] = (struct virtq_buf){ b[0].addr + offsetof(struct vc_slot, status), 1, 1 };
	slot = &cq->slots[head];
	memset(&slot->hdr, 0, sizeof(slot->hdr));
	slot->hdr.header.opcode = e->op == WD_OP_ENCRYPT ? VIRTIO_CRYPTO_CIPHER_ENCRYPT
							 : VIRTIO_CRYPTO_CIPHER_DECRYPT;
	slot->hdr.header.algo = s.algo;
	slot->hdr.header.session_id = s.id[e->op == WD_OP_DECRYPT];
	slot->hdr.u.sym_req.op_type = VIRTIO_CRYPTO_SYM_OP_CIPHER;
	slot->hdr.u.sym_req.u.cipher.para.iv_len = WD_CIPHER_IV_LEN;
	slot->hdr.u.sym_req.u.cipher.para.src_data_len = (uint32_t)len;
	slot->hdr.u.sym_req.u.cipher.para.dst_data_len = (uint32_t)len;
	memcpy(slot->iv, &e->arg0, 8);
	memcpy(slot->iv + 8, &e->arg1, 8);
	slot->status = 0xff;
	head = virtq_add(cq->vq, b, nb);
	if (head < 0) { /* broken: the device gets nothing more */
		release(cq, &tmp, 0);
		return head;
	}
	tmp.len = (uint32_t)len;
	cq->pend[head] = tmp;
	cq->dev_inflight++;
	return 1;
}

/* Take what the ring offers, as far as the virtqueue and the CQ have room. */
static unsigned take(struct vc_queue *cq)
{
	struct wd_ring *r = &cq->ring;
	struct wd_ring_ctl *ctl = r->ctl;
	uint32_t avail, used, n = 0;
	unsigned added = 0;

	if (cq->broken)
		return 0;
	avail = wd_load_acquire(&ctl->sq_tail) - cq->sq_head;
	used = cq->cq_tail - wd_load_acquire(&ctl->cq_head);
	if (avail > r->sq_entries || used > r->cq_entries) {
		cq->broken = -EPROTO;
		return 0;
	}
	while (n < avail && used + cq->dev_inflight < r->cq_entries && cq->vq->nfree >= 3) {
		wd_sqe e;
		int status = 0, ret;

		memcpy(&e, &r->sqes[cq->sq_head & r->sq_mask], sizeof(e)); /* copy once */
		ret = submit_one(cq, &e, &status);
		if (ret < 0)
			break;
		cq->sq_head++;
		n++;
		if (ret)
			added++;
		else {
			post(cq, e.tag, status, 0);
			used++;
		}
	}
	if (n)
		wd_store_release(&ctl->sq_head, cq->sq_head);
	if (added)
		vpci_publish(&cq->vd->t, cq->vq);
	return n;
}

/* Complete what the device finished. */
static unsigned reap(struct vc_queue *cq)
{
	uint32_t written;
	unsigned n = 0;
	int id;

	while ((id = virtq_get(cq->vq, &written)) >= 0) {
		struct vc_pending *p = &cq->pend[id];
		int st;

		if (!p->nheld) { /* cannot be: virtq_get checked the head is in flight */
			cq->broken = -EIO;
			break;
		}
		st = status_errno(__atomic_load_n(&cq->slots[id].status, __ATOMIC_RELAXED));
		release(cq, p, !st);
		post(cq, p->tag, st, st ? 0 : p->len);
		cq->dev_inflight--;
		n++;
	}
	if (id == -EIO)
		cq->broken = -EIO; /* the device broke the protocol */
	return n;
}

/*
 * The device is gone or broken, or the user broke the ring: everything the
 * device holds completes with -EIO, and the ring is declared dead.  Unless
 * the user alone is at fault and the device holds nothing, the device is
 * stopped first: only then are its buffers handed back (the leases end, and
 * dirty tracking records nothing for them).  If it cannot be stopped, the
 * leases stay: an unshare then waits rather than free memory under it.
 */
static void fail_queue(struct vc_queue *cq, int err)
{
	struct wd_ring_ctl *ctl = cq->ring.ctl;
	int stopped = 0, id;

	if (cq->dev_inflight || virtq_broken(cq->vq) || err != -EPROTO)
		stopped = !stop_device_unlocked(cq->vd);
	while (cq->dev_inflight && (id = virtq_detach(cq->vq)) >= 0) {
		if (stopped)
			release(cq, &cq->pend[id], 0);
		post(cq, cq->pend[id].tag, -EIO, 0);
		cq->dev_inflight--;
	}
	__atomic_store_n(&ctl->dev_error, err, __ATOMIC_RELAXED);
	wd_store_release(&ctl->dev_status, WD_DEV_BROKEN);
	wake_user(cq);
}

static int device_ok(struct vc_dev *vd)
{
	uint8_t st = __atomic_load_n(&vd->gone, __ATOMIC_ACQUIRE) ? 0xff : vpci_status(&vd->t);

	if (st == 0xff || (st & VIRTIO_CONFIG_S_NEEDS_RESET) || !(st & VIRTIO_CONFIG_S_DRIVER_OK)) {
		__atomic_store_n(&vd->gone, 1, __ATOMIC_RELEASE);
		return 0;
	}
	return 1;
}

static void drain_fd(int fd)
{
	eventfd_t v;

	if (fd >= 0)
		eventfd_read(fd, &v);
}

/* Nothing to do: announce sleep, look again (Dekker with the user's
 * doorbell), then wait for a kick or the device's interrupt. */
static void idle_wait(struct vc_queue *cq)
{
	struct pollfd pfd[2] = { { .fd = cq->kick_fd, .events = POLLIN },
				 { .fd = cq->irq_fd, .events = POLLIN } };
	struct wd_ring_ctl *ctl = cq->ring.ctl;
	int tmo = cq->dev_inflight ? (cq->irq_fd >= 0 ? 100 : 1) : 500;

	/* interrupts only while asleep (NAPI-like): the same Dekker pattern
	 * with the device, whose used index may move after the flag is clear */
	virtq_interrupts(cq->vq, 1);
	wd_store_sc(&ctl->sq_flags, WD_SQ_NEED_WAKEUP);
	if (wd_load_sc(&ctl->sq_tail) == cq->sq_head && !virtq_has_used(cq->vq) &&
	    !__atomic_load_n(&cq->stop, __ATOMIC_ACQUIRE))
		poll(pfd, cq->irq_fd >= 0 ? 2 : 1, tmo);
	wd_store_sc(&ctl->sq_flags, 0);
	virtq_interrupts(cq->vq, 0);
	drain_fd(cq->kick_fd);
	drain_fd(cq->irq_fd);
}

static void publish_wake(struct vc_queue *cq)
{
	struct wd_ring_ctl *ctl = cq->ring.ctl;

	wd_store_sc(&ctl->cq_tail, cq->cq_tail);
	if (wd_load_sc(&ctl->cq_flags) & WD_CQ_WAITING)
		wake_user(cq);
}

/* At stop, or when the user broke the ring: a sound device finishes what
 * it holds (bounded); what is left is failed, the device stopped first. */
static void drain(struct vc_queue *cq)
{
	int64_t deadline = mono_ms() + VC_DRAIN_TIMEOUT_MS;

	while (cq->dev_inflight && !virtq_broken(cq->vq) && device_ok(cq->vd)) {
		if (reap(cq)) {
			publish_wake(cq);
			continue;
		}
		if (mono_ms() > deadline)
			break; /* it will not answer: fail_queue stops it */
		usleep(50);
	}
	if (cq->dev_inflight || cq->broken || __atomic_load_n(&cq->vd->gone, __ATOMIC_ACQUIRE))
		fail_queue(cq, cq->broken ? cq->broken : -EIO);
}

static void *queue_main(void *arg)
{
	struct vc_queue *cq = arg;
	unsigned idle = 0;

	while (!__atomic_load_n(&cq->stop, __ATOMIC_ACQUIRE)) {
		unsigned did;

		if (cq->broken || __atomic_load_n(&cq->vd->gone, __ATOMIC_ACQUIRE))
			break;
		did = reap(cq) + take(cq);
		if (did) {
			publish_wake(cq);
			idle = 0;
			continue;
		}
		if (++idle < 2000) {
			wd_cpu_relax();
			continue;
		}
		/* a register read traps to the device: only when idle */
		if (!device_ok(cq->vd))
			break;
		idle_wait(cq);
		idle = 0;
	}
	drain(cq);
	__atomic_store_n(&cq->off_device, 1, __ATOMIC_RELEASE);
	return NULL;
}

/* ---- queues ---- */

/* No SVA through this IOMMU: the core gives every queue a domain. */
static int vc_queue_open(struct wd_queue *q)
{
	return wd__queue_ring_local(q);
}

static void vc_queue_free(struct vc_queue *cq)
{
	if (cq->kick_fd >= 0)
		close(cq->kick_fd);
	pthread_mutex_destroy(&cq->sess_lock);
	free(cq->pend);
	free(cq);
}

static void vc_queue_close(struct wd_queue *q, int in_child)
{
	struct vc_queue *cq = q->drv;

	wd__queue_ring_local_free(q, in_child);
	if (cq && !in_child) {
		vc_queue_free(cq);
	} else if (cq) { /* a fork child: memory only */
		free(cq->pend);
		free(cq);
	}
	q->drv = NULL;
}

static int vc_queue_start(struct wd_queue *q)
{
	struct vc_dev *vd = q->dev->priv;
	struct vc_queue *cq;
	unsigned i;
	int ret;

	cq = calloc(1, sizeof(*cq));
	if (!cq)
		return -ENOMEM;
	cq->kick_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	pthread_mutex_init(&cq->sess_lock, NULL);
	pthread_mutex_lock(&vd->lock);
	for (i = 0; i < vd->nq && vd->queues[i]; i++)
		;
	if (i == vd->nq || __atomic_load_n(&vd->gone, __ATOMIC_ACQUIRE)) {
		pthread_mutex_unlock(&vd->lock);
		vc_queue_free(cq);
		return i == vd->nq && !__atomic_load_n(&vd->gone, __ATOMIC_ACQUIRE) ? -EBUSY : -EIO;
	}
	vd->queues[i] = cq;
	pthread_mutex_unlock(&vd->lock);
	cq->vd = vd;
	cq->qidx = i;
	cq->vq = &vd->dq[i]; /* the virtqueue lives on in vd from queue to queue */
	virtq_interrupts(cq->vq, 0); /* the thread polls while it is awake */
	cq->slots = vd->slots[i];
	cq->slots_iova = vd->slots_iova[i];
	cq->irq_fd = vd->msix ? vd->irq_fds[i] : -1;
	cq->pend = calloc(cq->vq->size, sizeof(*cq->pend));
	wd_ring_bind(&cq->ring, q->mem, q->depth, q->depth);
	cq->sq_head = cq->ring.ctl->sq_head;
	cq->cq_tail = cq->ring.ctl->cq_tail;
	cq->op_mask = q->op_mask;
	cq->dom = q->domain;
	cq->cq_fd = q->cq_fd;
	ret = cq->kick_fd < 0 || !cq->pend ? -ENOMEM : 0;
	if (!ret)
		ret = -pthread_create(&cq->thread, NULL, queue_main, cq);
	if (ret) {
		pthread_mutex_lock(&vd->lock);
		vd->queues[i] = NULL;
		pthread_mutex_unlock(&vd->lock);
		vc_queue_free(cq);
		return ret;
	}
	cq->running = 1;
	q->drv = cq;
	return 0;
}

static void vc_queue_stop(struct wd_queue *q, uint32_t *sq_head, uint32_t *cq_tail)
{
	struct vc_queue *cq = q->drv;
	struct vc_dev *vd = q->dev->priv;
	unsigned id;

	if (!cq || !cq->running)
		return;
	__atomic_store_n(&cq->stop, 1, __ATOMIC_RELEASE);
	eventfd_write(cq->kick_fd, 1);
	pthread_join(cq->thread, NULL);
	cq->running = 0;
	*sq_head = cq->sq_head;
	*cq_tail = cq->cq_tail;
	pthread_mutex_lock(&vd->lock);
	for (id = 1; id <= WD_MAX_SESSIONS; id++)
		sess_close(vd, cq, &cq->sess[id]);
	vd->queues[cq->qidx] = NULL;
	pthread_mutex_unlock(&vd->lock);
}

static void vc_kick(struct wd_queue *q)
{
	struct vc_queue *cq = q->drv;

	if (cq)
		eventfd_write(cq->kick_fd, 1);
}

/* ---- the domain: one IOVA space, mapped through VFIO ---- */

static int vc_dom_create(struct wd_domain *d)
{
	struct vc_dev *vd = d->dev->priv;
	int ret = 0;

	pthread_mutex_lock(&vd->lock);
	if (vd->domain)
		ret = -EBUSY; /* share the first domain: wd_queue_opts.domain */
	else
		vd->domain = d;
	pthread_mutex_unlock(&vd->lock);
	return ret;
}

static void vc_dom_destroy(struct wd_domain *d)
{
	struct vc_dev *vd = d->dev->priv;

	pthread_mutex_lock(&vd->lock);
	if (vd->domain == d)
		vd->domain = NULL;
	pthread_mutex_unlock(&vd->lock);
}

static int vc_dma_map(struct wd_domain *d, uint64_t iova, void *host, uint64_t len,
		      unsigned flags)
{
	struct vc_dev *vd = d->dev->priv;

	return vfio_dma_map(&vd->v, iova, host, len, !!(flags & WD_SHARE_READONLY));
}

static void vc_dma_unmap(struct wd_domain *d, uint64_t iova, uint64_t len)
{
	struct vc_dev *vd = d->dev->priv;

	vfio_dma_unmap(&vd->v, iova, len);
}

static int vc_dirty_hw_ctl(struct wd_domain *d, int start)
{
	struct vc_dev *vd = d->dev->priv;
	int ret = vfio_dirty_ctl(&vd->v, start);

	return ret == -EOPNOTSUPP ? 0 : ret; /* the library's own bits still work */
}

static int vc_dirty_hw_read(struct wd_domain *d, uint64_t iova, uint64_t len, uint64_t *bitmap)
{
	struct vc_dev *vd = d->dev->priv;
	uint64_t ps = (uint64_t)sysconf(_SC_PAGESIZE);

	if (!vd->v.dirty_ok) { /* no IOMMU view: everything may be dirty */
		memset(bitmap, 0xff, (len / ps + 63) / 64 * 8);
		return 0;
	}
	return vfio_dirty_get(&vd->v, iova, len, ps, bitmap);
}

/* ---- the device ---- */

_Static_assert(WD_MAX_RESV == sizeof(((struct wd_dev *)0)->resv) / sizeof(struct wd_iova_range),
	       "a device's reserved regions");
unsigned wd__vfio_resv_max = WD_MAX_RESV;

/* IOVA the device must not be given: outside the kernel's ranges, and the
 * window holding the driver's own DMA memory; into out[WD_MAX_RESV]. */
static int reserve(struct wd_iova_range *out, uint32_t *nout, const struct vfio_pci *v,
		   uint64_t dma_iova)
{
	struct wd_iova_range r[VFIO_MAX_RANGES + 2];
	uint64_t next = 0;
	unsigned i, n = 0;

	for (i = 0; i < v->nranges; i++) {
		if (v->ranges[i].start > next)
			r[n++] = (struct wd_iova_range){ next, v->ranges[i].start - 1 };
		next = v->ranges[i].last + 1;
	}
	if (next) /* 0 when the last range ends at the top */
		r[n++] = (struct wd_iova_range){ next, UINT64_MAX };
	r[n++] = (struct wd_iova_range){ dma_iova, dma_iova + VC_DMA_LEN - 1 };
	if (n > WD_MAX_RESV || n > wd__vfio_resv_max)
		return -E2BIG;
	/* sorted by start: insertion of the DMA window */
	for (i = n - 1; i > 0 && r[i].start < r[i - 1].start; i--) {
		struct wd_iova_range t = r[i];

		r[i] = r[i - 1];
		r[i - 1] = t;
	}
	memcpy(out, r, n * sizeof(r[0]));
	*nout = n;
	return 0;
}

/* The driver's DMA window: the top of the highest usable range, leaving
 * the low IOVAs (where identity maps of small addresses land) to users. */
static int pick_dma_iova(const struct vfio_pci *v, uint64_t *out)
{
	unsigned i = v->nranges;

	while (i--) {
		const struct wd_iova_range *r = &v->ranges[i];
		uint64_t top = (r->last + 1) & ~(uint64_t)(VC_DMA_LEN - 1);

		if (r->last == UINT64_MAX)
			top = 1ull << 47;
		if (top >= VC_DMA_LEN && top - VC_DMA_LEN >= r->start) {
			*out = top - VC_DMA_LEN;
			return 0;
		}
	}
	return -ENOSPC;
}

/*
 * Someone unbinds the device from vfio-pci: the kernel asks for it back and
 * waits until we close it.  Fail the queues (their requests complete with
 * -EIO), wait for their threads to leave the device, then give it back; the
 * container stays, so shares can still be undone.  A thread still on the
 * device after the deadline finds inert memory where the BARs were (see
 * vfio_pci_release_device), never an unmapped hole.
 */
static void release_device(struct vc_dev *vd)
{
	int64_t deadline = mono_ms() + VC_DRAIN_TIMEOUT_MS;
	unsigned i, busy;

	__atomic_store_n(&vd->gone, 1, __ATOMIC_RELEASE);
	do {
		busy = 0;
		pthread_mutex_lock(&vd->lock);
		for (i = 0; i < vd->nq; i++) {
			struct vc_queue *cq = vd->queues[i];

			/* a registered queue's thread runs until it says it is off */
			if (cq && !__atomic_load_n(&cq->off_device, __ATOMIC_ACQUIRE)) {
				eventfd_write(cq->kick_fd, 1);
				busy++;
			}
		}
		pthread_mutex_unlock(&vd->lock);
		if (busy)
			usleep(100);
	} while (busy && mono_ms() < deadline);
	if (busy && getenv("WD_DEBUG"))
		fprintf(stderr, "wd: vfio %s: %u queue thread(s) still on the device; releasing\n",
			vd->v.addr, busy);
	pthread_mutex_lock(&vd->lock);
	stop_device(vd); /* no DMA after we let go */
	vfio_pci_release_device(&vd->v);
	vd->released = 1;
	pthread_mutex_unlock(&vd->lock);
}

static void *monitor_main(void *arg)
{
	struct vc_dev *vd = arg;
	struct pollfd pfd[2] = { { .fd = vd->req_fd, .events = POLLIN },
				 { .fd = vd->stop_fd, .events = POLLIN } };

	while (poll(pfd, 2, -1) < 0 && errno == EINTR)
		;
	if (pfd[0].revents & POLLIN) {
		if (getenv("WD_DEBUG"))
			fprintf(stderr, "wd: vfio %s: the kernel wants it back; releasing\n",
				vd->v.addr);
		release_device(vd);
	}
	return NULL;
}

/* Listen for the kernel's request to give the device back. */
static void start_monitor(struct vc_dev *vd)
{
	vd->req_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	vd->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (vd->req_fd < 0 || vd->stop_fd < 0 || vfio_req_notify(&vd->v, vd->req_fd))
		return; /* an old kernel: unbinding then waits for the process to end */
	vd->monitor_on = !pthread_create(&vd->monitor, NULL, monitor_main, vd);
}

static void vc_dev_free(struct vc_dev *vd, int in_child)
{
	unsigned i;

	if (!in_child && vd->monitor_on) {
		eventfd_write(vd->stop_fd, 1);
		pthread_join(vd->monitor, NULL);
	}
	if (!in_child) {
		if (vd->req_fd >= 0)
			close(vd->req_fd);
		if (vd->stop_fd >= 0)
			close(vd->stop_fd);
		if (vd->t.v && !vd->released)
			stop_device(vd); /* stop all DMA before unmapping */
		dma_area_fini(&vd->dma, &vd->v);
		vfio_pci_close(&vd->v);
		for (i = 0; i < VC_MAX_QUEUES; i++)
			if (vd->irq_fds[i] >= 0)
				close(vd->irq_fds[i]);
		pthread_mutex_destroy(&vd->lock);
	}
	free(vd);
}

static int setup_queues(struct vc_dev *vd)
{
	uint16_t vec;
	unsigned i;
	int ret;

	vd->nq = vd->cfg.max_dataqueues < VC_MAX_QUEUES ? vd->cfg.max_dataqueues : VC_MAX_QUEUES;
	if (!vd->nq || vpci_num_queues(&vd->t) < vd->cfg.max_dataqueues + 1)
		return -ENODEV;
	for (i = 0; i < vd->nq; i++) {
		vd->irq_fds[i] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (vd->irq_fds[i] < 0)
			return -errno;
	}
	/* interrupts are a way to sleep while the device works, not a must */
	vd->msix = vd->v.msix_count >= vd->nq && !vfio_msix_set(&vd->v, vd->nq, vd->irq_fds);
	for (i = 0; i < vd->nq; i++) {
		vec = vd->msix ? (uint16_t)i : VIRTIO_MSI_NO_VECTOR;
		ret = virtq_setup(&vd->t, &vd->dq[i], &vd->dma, (uint16_t)i, VC_VQ_SIZE, vec);
		if (ret)
			return ret;
		vd->slots[i] = dma_alloc(&vd->dma, (uint64_t)vd->dq[i].size * sizeof(struct vc_slot),
					 128, &vd->slots_iova[i]);
		if (!vd->slots[i])
			return -ENOMEM;
	}
	ret = virtq_setup(&vd->t, &vd->ctlq, &vd->dma, (uint16_t)vd->cfg.max_dataqueues, 16,
			  VIRTIO_MSI_NO_VECTOR);
	if (ret)
		return ret;
	vd->ctl = dma_alloc(&vd->dma, 512, 64, &vd->ctl_iova);
	return vd->ctl ? 0 : -ENOMEM;
}

/* Why a device was passed over, for WD_DEBUG=1. */
static int step(const char *addr, const char *what, int ret)
{
	if (ret && getenv("WD_DEBUG"))
		fprintf(stderr, "wd: vfio %s: %s: %s\n", addr, what, strerror(-ret));
	return ret;
}

static int vc_open(const char *addr, struct vc_dev **out)
{
	struct vc_dev *vd = calloc(1, sizeof(*vd));
	uint64_t dma_iova;
	unsigned i;
	int ret;

	if (!vd)
		return -ENOMEM;
	for (i = 0; i < VC_MAX_QUEUES; i++)
		vd->irq_fds[i] = -1;
	vd->req_fd = vd->stop_fd = -1;
	pthread_mutex_init(&vd->lock, NULL);
	ret = step(addr, "open", vfio_pci_open(&vd->v, addr));
	if (ret) {
		pthread_mutex_destroy(&vd->lock);
		free(vd);
		return ret;
	}
	ret = step(addr, "virtio capabilities", vpci_init(&vd->t, &vd->v));
	if (!ret)
		ret = step(addr, "features", vpci_start(&vd->t, 1ull << VIRTIO_F_ACCESS_PLATFORM));
	/* without it the device bypasses the IOMMU and takes our IOVAs for
	 * physical addresses: never drive such a device from user space */
	if (!ret && !(vd->t.features & (1ull << VIRTIO_F_ACCESS_PLATFORM)))
		ret = step(addr, "no VIRTIO_F_ACCESS_PLATFORM (iommu_platform=on)", -EPERM);
	if (!ret)
		ret = step(addr, "config", vpci_dev_cfg(&vd->t, 0, &vd->cfg, sizeof(vd->cfg)));
	if (!ret && !(vd->cfg.status & VIRTIO_CRYPTO_S_HW_READY))
		ret = step(addr, "not ready", -EAGAIN);
	if (!ret && !(vd->cfg.crypto_services & (1u << VIRTIO_CRYPTO_SERVICE_CIPHER)))
		ret = step(addr, "no cipher service", -EOPNOTSUPP);
	if (!ret)
		ret = step(addr, "IOVA for rings", pick_dma_iova(&vd->v, &dma_iova));
	if (!ret)
		ret = step(addr, "DMA map", dma_area_init(&vd->dma, &vd->v, dma_iova, VC_DMA_LEN));
	if (!ret)
		ret = step(addr, "queues", setup_queues(vd));
	if (ret) {
		vc_dev_free(vd, 0);
		return ret;
	}
	vpci_driver_ok(&vd->t);
	start_monitor(vd);
	*out = vd;
	return 0;
}

static void vc_algs(struct vc_dev *vd)
{
	static const struct {
		uint32_t algo;
		const char *name;
	} names[] = {
		{ VIRTIO_CRYPTO_CIPHER_AES_CBC, "aes-cbc" },
		{ VIRTIO_CRYPTO_CIPHER_AES_CTR, "aes-ctr" },
		{ VIRTIO_CRYPTO_CIPHER_AES_XTS, "aes-xts" },
	};
	unsigned i, n = 0;

	vd->algs[n++] = "cipher";
	vd->algs[n++] = "nop";
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (vd->cfg.cipher_algo_l & (1u << names[i].algo))
			vd->algs[n++] = names[i].name;
	vd->algs[n] = NULL;
}

/* One bad device is passed over (WD_DEBUG says why), not the context:
 * only a failure to register a good one is the context's. */
static int add_device(struct wd_ctx *ctx, const char *addr, unsigned *idx)
{
	struct wd_dev_info info = { .size = sizeof(info) };
	struct wd_iova_range resv[WD_MAX_RESV];
	struct vc_dev *vd;
	struct wd_dev *dev;
	uint16_t vendor, device;
	uint32_t nresv;
	int ret;

	if (vfio_pci_sysfs_ids(addr, &vendor, &device) || vendor != VIRTIO_VENDOR ||
	    device != VIRTIO_ID_CRYPTO_MODERN)
		return 0;
	if (vc_open(addr, &vd))
		return 0; /* busy or unusable: not a device of this context */
	if (step(addr, "reserved IOVA", reserve(resv, &nresv, &vd->v, vd->dma.iova))) {
		vc_dev_free(vd, 0);
		return 0;
	}
	vc_algs(vd);
	snprintf(info.name, sizeof(info.name), "vfio%u", (*idx)++);
	strcpy(info.driver, "vfio");
	info.flags = WD_DEV_F_EXPLICIT;
	info.max_queues = vd->nq;
	info.max_depth = WD_RING_MAX_ENTRIES;
	info.engines = vd->nq;
	info.throughput_mbps = 100;     /* hints; an emulated device */
	info.latency_ns = 20000;
	info.max_segs = VC_MAX_SEGS;
	info.max_seg_len = (uint32_t)(vd->cfg.max_size < UINT32_MAX ? vd->cfg.max_size : UINT32_MAX);
	ret = wd__dev_add(ctx, &wd_vfio_driver, &info, vd->algs, vd);
	if (ret) {
		vc_dev_free(vd, 0);
		return ret;
	}
	dev = ctx->devs[ctx->ndevs - 1];
	memcpy(dev->resv, resv, nresv * sizeof(resv[0]));
	dev->nresv = nresv;
	dev->pinned_self = vd->dma.len; /* the kernel charges the ring area's MAP_DMA */
	return 0;
}

/* Devices: $WD_VFIO_DEVICE (comma-separated PCI addresses), or every
 * virtio-crypto function bound to vfio-pci. */
static int vc_probe(struct wd_ctx *ctx)
{
	const char *env = getenv("WD_VFIO_DEVICE");
	unsigned idx = 0;
	int ret = 0;

	if (env) {
		char buf[256], *save = NULL, *tok;

		snprintf(buf, sizeof(buf), "%s", env);
		for (tok = strtok_r(buf, ",", &save); tok && !ret; tok = strtok_r(NULL, ",", &save))
			ret = add_device(ctx, tok, &idx);
		return ret;
	}
	DIR *dir = opendir("/sys/bus/pci/drivers/vfio-pci");
	struct dirent *de;

	if (!dir)
		return 0;
	while (!ret && (de = readdir(dir)))
		if (strchr(de->d_name, ':') && strchr(de->d_name, '.'))
			ret = add_device(ctx, de->d_name, &idx);
	closedir(dir);
	return ret;
}

static void vc_remove(struct wd_dev *dev, int in_child)
{
	vc_dev_free(dev->priv, in_child);
}

const struct wd_driver_ops wd_vfio_driver = {
	.name = "vfio",
	.flags = WD_DRV_F_PINS, /* VFIO_IOMMU_MAP_DMA pins and charges the pages */
	.probe = vc_probe,
	.remove = vc_remove,
	.queue_open = vc_queue_open,
	.queue_close = vc_queue_close,
	.queue_start = vc_queue_start,
	.queue_stop = vc_queue_stop,
	.kick = vc_kick,
	.dom_create = vc_dom_create,
	.dom_destroy = vc_dom_destroy,
	.dma_map = vc_dma_map,
	.dma_unmap = vc_dma_unmap,
	.dirty_hw_ctl = vc_dirty_hw_ctl,
	.dirty_hw_read = vc_dirty_hw_read,
	.cipher_session = vc_cipher_session,
};
