/* SPDX-License-Identifier: MIT */
/*
 * The "vfio" driver: a virtio-crypto PCI function bound to vfio-pci, driven
 * from this process (the files: vcrypto.h).  This is the data path: each
 * wd queue gets a data virtqueue and a thread that moves requests from the
 * queue's ring (untrusted: copied once, validated, addresses checked
 * against the domain) onto the virtqueue, and device completions back.
 * Sessions go through the control virtqueue (vc_session.c).
 *
 * The device has one IOMMU address space (no PASID), so it has one domain at
 * a time: every range shared with it is mapped with VFIO_IOMMU_MAP_DMA at
 * the IOVA the memory layer chose, inside the ranges the kernel reported.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include <linux/virtio_config.h>

#include "../../core/driver.h"
#include "../../core/internal.h"
#include "../../mem/domain.h"
#include "vcrypto.h"

unsigned wd__vfio_req_timeout_ms = VC_REQ_TIMEOUT_MS;

/* ---- the data path ---- */

static void wake_user(struct vc_queue *cq)
{
	if (eventfd_write(cq->cq_fd, 1) < 0)
		return; /* saturated: the user is being woken anyway */
}

static void count(uint64_t *c, uint64_t v)
{
	__atomic_store_n(c, __atomic_load_n(c, __ATOMIC_RELAXED) + v, __ATOMIC_RELAXED);
}

static void post(struct vc_queue *cq, uint64_t tag, int status, uint64_t result)
{
	wd_cqe c = { .tag = tag, .status = status, .result = result };
	struct wd_ring *r = &cq->ring;

	count(&cq->nreq, 1);
	count(&cq->nerr, status != 0);
	count(&cq->bytes, result);

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

/* The request is answered (or failed): its session may be closed. */
static void unbusy(struct vc_queue *cq, struct vc_pending *p)
{
	if (p->session)
		__atomic_sub_fetch(&cq->sess_busy[p->session], 1, __ATOMIC_RELEASE);
	p->session = 0;
}

/* A copy of the request's session, counted busy until it is answered:
 * closing it waits for that, so its device ids are not destroyed (and
 * handed to another queue) while a request naming them is on the device. */
static struct vc_sess sess_get(struct vc_queue *cq, const wd_sqe *e, struct vc_pending *p)
{
	struct vc_sess s = { 0 };

	if (!e->session || e->session > WD_MAX_SESSIONS)
		return s;
	pthread_mutex_lock(&cq->sess_lock);
	s = cq->sess[e->session];
	if (s.algo) {
		__atomic_add_fetch(&cq->sess_busy[e->session], 1, __ATOMIC_RELAXED);
		p->session = e->session;
	}
	pthread_mutex_unlock(&cq->sess_lock);
	return s;
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
static int submit_one(struct vc_queue *cq, const wd_sqe *e, int64_t due, int *status)
{
	struct virtq_buf b[VC_CHAIN_MAX];
	struct vc_pending tmp = { .tag = e->tag };
	struct vc_sess s;
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
	s = sess_get(cq, e, &tmp);
	len = prepare(cq, e, &s, &tmp, b, &nb);
	if (len <= 0) { /* an error, or an empty request: nothing to do */
		release(cq, &tmp, 0);
		unbusy(cq, &tmp);
		return *status = (int)len, 0;
	}
	if (cq->vq->nfree < nb + 1) {
		release(cq, &tmp, 0);
		unbusy(cq, &tmp);
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
		unbusy(cq, &tmp);
		return head;
	}
	tmp.len = (uint32_t)len;
	tmp.due = due;
	cq->pend[head] = tmp;
	cq->dev_inflight++;
	return 1;
}

/* Take what the ring offers, as far as the virtqueue and the CQ have room;
 * what is left waits for room (sq_blocked). */
static unsigned take(struct vc_queue *cq)
{
	struct wd_ring *r = &cq->ring;
	struct wd_ring_ctl *ctl = r->ctl;
	uint32_t avail, used, n = 0;
	unsigned added = 0;
	int64_t due = 0;

	cq->sq_blocked = 0;
	if (cq->broken)
		return 0;
	avail = wd_load_acquire(&ctl->sq_tail) - cq->sq_head;
	used = cq->cq_tail - wd_load_acquire(&ctl->cq_head);
	if (avail > r->sq_entries || used > r->cq_entries) {
		cq->broken = -EPROTO;
		return 0;
	}
	if (avail) /* one clock read a batch: its requests' deadline */
		due = vc_mono_ms() + cq->req_timeout_ms;
	while (n < avail && used + cq->dev_inflight < r->cq_entries && cq->vq->nfree >= 3) {
		wd_sqe e;
		int status = 0, ret;

		memcpy(&e, &r->sqes[cq->sq_head & r->sq_mask], sizeof(e)); /* copy once */
		ret = submit_one(cq, &e, due, &status);
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
	cq->sq_blocked = n < avail;
	if (n)
		wd_store_release(&ctl->sq_head, cq->sq_head);
	if (added) {
		if (due < cq->next_due)
			cq->next_due = due;
		vpci_publish(&cq->vd->t, cq->vq);
	}
	return n;
}

/*
 * Has a request waited past its deadline?  The device then holds it and
 * may never answer (its status register can look sound all along): it is
 * stopped and failed like one that broke the rules, and the fallback runs
 * what it held.  next_due is a lower bound of the deadlines in flight,
 * made exact only when it is reached: one clock read when nothing is due.
 */
static int overdue(struct vc_queue *cq)
{
	int64_t now, first = INT64_MAX;
	unsigned i;

	if (!cq->dev_inflight)
		return 0;
	now = vc_mono_ms();
	if (now < cq->next_due)
		return 0;
	for (i = 0; i < cq->vq->size; i++)
		if (cq->pend[i].nheld && cq->pend[i].due < first)
			first = cq->pend[i].due;
	cq->next_due = first;
	if (now < first)
		return 0;
	if (getenv("WD_DEBUG"))
		fprintf(stderr, "wd: vfio %s: no answer to a request in %u ms; stopping the device\n",
			cq->vd->v.addr, cq->req_timeout_ms);
	cq->broken = -ETIMEDOUT;
	return 1;
}

/* Complete what the device finished.  A success says the device wrote the
 * data and the status byte: one whose used length says otherwise is not
 * believed, the request fails with -EIO (what the fallback then does with
 * it is its business), yet what the device may have written counts as
 * written for dirty tracking. */
static unsigned reap(struct vc_queue *cq)
{
	uint32_t written;
	unsigned n = 0;
	int id;

	while ((id = virtq_get(cq->vq, &written)) >= 0) {
		struct vc_pending *p = &cq->pend[id];
		int st, wrote;

		if (!p->nheld) { /* cannot be: virtq_get checked the head is in flight */
			cq->broken = -EIO;
			break;
		}
		st = vc_status_errno(__atomic_load_n(&cq->slots[id].status, __ATOMIC_RELAXED));
		wrote = !st;
		if (!st && written != p->len + 1)
			st = -EIO;
		release(cq, p, wrote);
		unbusy(cq, p);
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
	int stopped = 0, must_stop, id;

	must_stop = cq->dev_inflight || virtq_broken(cq->vq) || err != -EPROTO;
	if (must_stop)
		stopped = !vc_stop_device_unlocked(cq->vd);
	/* dead first: whoever reads one of the -EIO completions below knows
	 * the ring died with them (a fallback then takes over the lot, but
	 * what a device that could not be stopped holds) */
	__atomic_store_n(&ctl->dev_error, err, __ATOMIC_RELAXED);
	wd_store_release(&ctl->dev_status,
			 WD_DEV_BROKEN | (must_stop && !stopped ? WD_DEV_UNSTOPPED : 0));
	while (cq->dev_inflight && (id = virtq_detach(cq->vq)) >= 0) {
		if (stopped)
			release(cq, &cq->pend[id], 0);
		unbusy(cq, &cq->pend[id]); /* a device that is gone makes no new sessions */
		post(cq, cq->pend[id].tag, -EIO, 0);
		cq->dev_inflight--;
	}
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
 * doorbell), then wait for a kick or the device's interrupt.  Requests in
 * the SQ with no room for them (sq_blocked) are no reason to stay awake:
 * room comes from the device's answers or the user's reaping.  Without
 * interrupts (or with the CQ full) a short sleep stands for them.
 * Returns 0 when it slept and nothing woke it. */
static int idle_wait(struct vc_queue *cq)
{
	struct pollfd pfd[2] = { { .fd = cq->kick_fd, .events = POLLIN },
				 { .fd = cq->irq_fd, .events = POLLIN } };
	struct wd_ring_ctl *ctl = cq->ring.ctl;
	int tmo = cq->dev_inflight ? (cq->irq_fd >= 0 ? 100 : 1) : cq->sq_blocked ? 1 : 500;
	int ret = -1;

	/* interrupts only while asleep (NAPI-like): the same Dekker pattern
	 * with the device, whose used index may move after the flag is clear */
	virtq_interrupts(cq->vq, 1);
	wd_store_sc(&ctl->sq_flags, WD_SQ_NEED_WAKEUP);
	if ((wd_load_sc(&ctl->sq_tail) == cq->sq_head || cq->sq_blocked) &&
	    !virtq_has_used(cq->vq) && !__atomic_load_n(&cq->stop, __ATOMIC_ACQUIRE))
		ret = poll(pfd, cq->irq_fd >= 0 ? 2 : 1, tmo);
	wd_store_sc(&ctl->sq_flags, 0);
	virtq_interrupts(cq->vq, 0);
	drain_fd(cq->kick_fd);
	drain_fd(cq->irq_fd);
	return ret;
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
	int64_t deadline = vc_mono_ms() + VC_DRAIN_TIMEOUT_MS;

	/* one that let a request time out has had its chance */
	while (cq->dev_inflight && cq->broken != -ETIMEDOUT && !virtq_broken(cq->vq) &&
	       device_ok(cq->vd)) {
		if (reap(cq)) {
			publish_wake(cq);
			continue;
		}
		if (vc_mono_ms() > deadline)
			break; /* it will not answer: fail_queue stops it */
		usleep(50);
	}
	if (cq->dev_inflight || cq->broken || __atomic_load_n(&cq->vd->gone, __ATOMIC_ACQUIRE))
		fail_queue(cq, cq->broken ? cq->broken : -EIO);
}

#define VC_IDLE_SPINS 2000              /* empty passes before the thread sleeps */
#define VC_BUSY_CHECK 256               /* busy passes between deadline checks */

static void *queue_main(void *arg)
{
	struct vc_queue *cq = arg;
	unsigned idle = 0, busy = 0;

	while (!__atomic_load_n(&cq->stop, __ATOMIC_ACQUIRE)) {
		unsigned did;

		if (cq->broken || __atomic_load_n(&cq->vd->gone, __ATOMIC_ACQUIRE))
			break;
		did = reap(cq) + take(cq);
		if (did) {
			publish_wake(cq);
			idle = 0;
			/* answers to others do not excuse one never answered */
			if (++busy % VC_BUSY_CHECK == 0 && overdue(cq))
				break;
			continue;
		}
		if (++idle < VC_IDLE_SPINS) {
			wd_cpu_relax();
			continue;
		}
		/* a register read traps to the device: only when idle */
		if (overdue(cq) || !device_ok(cq->vd))
			break;
		/* a sleep nothing ended: sleep again at the next empty pass
		 * rather than spin (a device that holds requests and says
		 * nothing costs a wake-up a millisecond, not a core) */
		idle = idle_wait(cq) ? 0 : VC_IDLE_SPINS - 1;
	}
	drain(cq);
	__atomic_store_n(&cq->off_device, 1, __ATOMIC_RELEASE);
	return NULL;
}

/* ---- queues ---- */

/* No SVA through this IOMMU: the core gives every queue a domain. */
int vc_queue_open(struct wd_queue *q)
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

void vc_queue_close(struct wd_queue *q, int in_child)
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

int vc_queue_start(struct wd_queue *q)
{
	struct vc_dev *vd = q->dev->priv;
	struct vc_queue *cq;
	unsigned i;
	int ret;

	cq = calloc(1, sizeof(*cq));
	if (!cq)
		return -ENOMEM;
	cq->kick_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (cq->kick_fd < 0) {
		ret = -errno; /* out of descriptors, not of memory */
		free(cq);
		return ret;
	}
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
	cq->req_timeout_ms = wd__vfio_req_timeout_ms;
	cq->next_due = INT64_MAX;
	cq->dom = q->domain;
	cq->cq_fd = q->cq_fd;
	ret = !cq->pend ? -ENOMEM : 0;
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

void vc_queue_stop(struct wd_queue *q, uint32_t *sq_head, uint32_t *cq_tail)
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
		vc_sess_close(vd, cq, id);
	vd->queues[cq->qidx] = NULL;
	pthread_mutex_unlock(&vd->lock);
}

/* What the queue's thread answered (the bytes of those that succeeded). */
int vc_queue_stats(struct wd_queue *q, struct wd_queue_stats *st)
{
	struct vc_queue *cq = q->drv;

	if (cq) {
		st->requests = __atomic_load_n(&cq->nreq, __ATOMIC_RELAXED);
		st->errors = __atomic_load_n(&cq->nerr, __ATOMIC_RELAXED);
		st->bytes = __atomic_load_n(&cq->bytes, __ATOMIC_RELAXED);
	}
	return 0;
}

void vc_kick(struct wd_queue *q)
{
	struct vc_queue *cq = q->drv;

	if (cq)
		eventfd_write(cq->kick_fd, 1);
}
