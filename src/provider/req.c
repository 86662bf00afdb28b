/* SPDX-License-Identifier: MIT */
/*
 * Requests on a pool queue.  On an SVA device a request carries the
 * caller's own pointers.  On an explicit-only device (a VFIO function, or
 * any device with the explicit setting) it goes through a bounce buffer
 * shared once per queue: the text is copied in, worked on in place, and
 * copied out; a piece larger than the buffer is cut into requests (CBC
 * chaining and CTR counters carried across), except an XTS data unit,
 * which the mode cannot cut (-EMSGSIZE: the caller hands it to OpenSSL).
 *
 * Requests are prepared (wd_prep_*) and then run with wd_run(), which on
 * the in-process device runs them in the calling thread.  Inside an
 * OpenSSL ASYNC_JOB a request is submitted with wd_send() instead and the
 * job paused until it completes (async.c), in a slot of the queue's ring
 * state; on an explicit-only device each slot has a bounce area of its
 * own (SLOT_TEXT, shared on first use), so a piece that fits one goes
 * that way, and a larger one runs synchronously.  A synchronous request
 * on an SVA queue that jobs have requests on goes through the ring too
 * (wd_run() wants nothing else in flight), holding the bounce buffer of
 * a bounce-buffer queue while it waits.
 */
#include <stdlib.h>
#include <string.h>

#include <wd/mem.h>

#include "wdp.h"

#define BOUNCE_TEXT (128u << 10)        /* text bytes per request */
#define BOUNCE_HDR (8u << 10)           /* AEAD header: IV, AAD, tag slot */
#define SLOT_TEXT (16u << 10)           /* a job's request: a TLS record */
#define SLOT_HDR 512u
#define SLOT_AREA (SLOT_TEXT + SLOT_HDR)

int wdp_req_bounce_init(struct wdp_queue *wq)
{
	size_t len = BOUNCE_TEXT + BOUNCE_HDR;
	struct wd_domain *d = wd_queue_domain(wq->q);
	int ret;

	if (!d)
		return -EINVAL;
	wq->bounce = wd_mem_alloc(len);
	if (!wq->bounce)
		return -ENOMEM;
	ret = wd_share(d, wq->bounce, len, 0, &wq->bounce_iova);
	if (ret) {
		wd_mem_free(wq->bounce, len);
		wq->bounce = NULL;
		return ret;
	}
	wq->bounce_len = len;
	return 0;
}

void wdp_req_bounce_free(struct wdp_queue *wq)
{
	struct wd_domain *d;

	if (!wq->bounce)
		return;
	d = wd_queue_domain(wq->q);
	if (d)
		wd_unshare(d, wq->bounce_iova, 0, 1000);
	wd_mem_free(wq->bounce, wq->bounce_len);
	wq->bounce = NULL;
	if (wq->slots) {
		if (d)
			wd_unshare(d, wq->slots_iova, 0, 1000);
		wd_mem_free(wq->slots, (size_t)SLOT_AREA * WDP_QUEUE_DEPTH);
		wq->slots = NULL;
	}
}

static void prep(struct wd_req *r, const struct wdp_sess *ws, const struct wdp_op *op,
		 uint32_t param, const uint8_t *iv, uint64_t hdr, uint64_t src, uint64_t dst,
		 size_t len)
{
	if (op->mode == WDP_GCM)
		wd_prep_aead(r, op->op, ws->s, param, hdr, (uint32_t)op->aad_len, src, dst,
			     (uint32_t)len);
	else if (op->op == WD_OP_ENCRYPT)
		wd_prep_encrypt(r, ws->s, iv, src, dst, (uint32_t)len);
	else
		wd_prep_decrypt(r, ws->s, iv, src, dst, (uint32_t)len);
}

/* With the lock held: r, synchronously; with jobs' requests in flight
 * beside them, through the ring (wd_run() wants nothing else there). */
static int run_one(struct wdp_queue *wq, struct wd_req *r)
{
	struct wd_cpl c;
	int ret;

	if (wq->rs.sent)
		return wdp_ring_run_locked(wq, r);
	ret = wd_run(wq->q, r, &c);
	wq->rs.armed = 0; /* waiting may have armed and reaped */
	return ret ? ret : c.status;
}

/* 128-bit big-endian counter += blocks */
static void ctr_add(uint8_t ctr[WDP_BLOCK], uint64_t blocks)
{
	int i;

	for (i = WDP_BLOCK - 1; i >= 0 && blocks; i--) {
		blocks += ctr[i];
		ctr[i] = (uint8_t)blocks;
		blocks >>= 8;
	}
}

/* AEAD part flags for chunk [off, off+k) of len: INIT on the first chunk
 * only, FINAL on the last only. */
static uint32_t chunk_param(uint32_t param, size_t off, size_t k, size_t len)
{
	uint32_t keep = 0;

	if (!off)
		keep |= param & (WD_AEAD_P_INIT | WD_AEAD_P_IVLEN(0xffff));
	if (off + k == len)
		keep |= param & (WD_AEAD_P_FINAL | WD_AEAD_P_TAGLEN(0x1f));
	return keep;
}

/* A bounce area: text and AEAD header, and their device addresses. */
struct area {
	uint8_t *text, *hdr;
	uint64_t text_iova, hdr_iova;
};

/* Chunk [off, off+k) of op copied into the area, and its request; the
 * header bytes it carries in *hdr_now. */
static void bounce_in(const struct wdp_sess *ws, const struct wdp_op *op, const uint8_t *iv,
		      size_t off, size_t k, const struct area *a, struct wd_req *r,
		      size_t *hdr_now)
{
	uint32_t param = 0;

	if (k) /* a GCM part may carry no text (its end): no buffer then */
		memcpy(a->text, op->in + off, k);
	*hdr_now = 0;
	if (op->mode == WDP_GCM) {
		param = chunk_param(op->param, off, k, op->len);
		*hdr_now = (param & WD_AEAD_P_INIT ? WD_AEAD_P_IVLEN_OF(op->param) : 0) +
			   (param & WD_AEAD_P_INIT ? op->aad_len : 0) + WD_AEAD_P_TAGLEN_OF(param);
		/* IV and AAD lead the header, the tag slot ends it */
		memcpy(a->hdr, op->hdr + (param & WD_AEAD_P_INIT ? 0 : op->hdr_len - *hdr_now),
		       *hdr_now);
	}
	prep(r, ws, op, param, iv, *hdr_now ? a->hdr_iova : 0, k ? a->text_iova : 0,
	     k ? a->text_iova : 0, k);
	if (op->mode == WDP_GCM && !(param & WD_AEAD_P_INIT))
		r->arg0 = 0; /* AAD travels with the first part */
}

/* The chunk's results back from the area: its text, and the tag slot of
 * a message's last part. */
static void bounce_out(const struct wdp_op *op, size_t off, size_t k, const struct area *a,
		       size_t hdr_now)
{
	if (op->mode == WDP_GCM && off + k == op->len && (op->param & WD_AEAD_P_FINAL))
		memcpy(op->hdr + op->hdr_len - hdr_now, a->hdr, hdr_now);
	if (k)
		memcpy(op->out + off, a->text, k);
}

static int run_bounce(struct wdp_queue *wq, const struct wdp_sess *ws, const struct wdp_op *op,
		      int *touched)
{
	struct area a = { wq->bounce, wq->bounce + BOUNCE_TEXT, wq->bounce_iova,
			  wq->bounce_iova + BOUNCE_TEXT };
	size_t off = 0, k, hdr_now;
	uint8_t iv[WDP_BLOCK];
	struct wd_req r;
	int ret;

	if (op->hdr_len > BOUNCE_HDR || (op->mode == WDP_XTS && op->len > BOUNCE_TEXT))
		return -EMSGSIZE;
	if (op->iv)
		memcpy(iv, op->iv, WDP_BLOCK);
	do {
		k = op->len - off < BOUNCE_TEXT ? op->len - off : BOUNCE_TEXT;
		bounce_in(ws, op, iv, off, k, &a, &r, &hdr_now);
		ret = run_one(wq, &r);
		if (ret)
			return ret;
		/* the next chunk's IV: CBC chains on the last ciphertext block
		 * (read before the output, which may be the input, is written) */
		if (op->mode == WDP_CBC)
			memcpy(iv, (op->op == WD_OP_ENCRYPT ? a.text : op->in + off) + k - WDP_BLOCK,
			       WDP_BLOCK);
		else if (op->mode == WDP_CTR)
			ctr_add(iv, k / WDP_BLOCK);
		bounce_out(op, off, k, &a, hdr_now);
		*touched = 1;
		off += k;
	} while (off < op->len);
	return 0;
}

/* ---- a job's request in slot k (async.c) ---- */

int wdp_req_slots_init(struct wdp_queue *wq)
{
	size_t len = (size_t)SLOT_AREA * WDP_QUEUE_DEPTH;
	int ret;

	if (wq->slots || !wq->bounce)
		return 0;
	wq->slots = wd_mem_alloc(len);
	if (!wq->slots)
		return -ENOMEM;
	ret = wd_share(wd_queue_domain(wq->q), wq->slots, len, 0, &wq->slots_iova);
	if (ret) {
		wd_mem_free(wq->slots, len);
		wq->slots = NULL;
	}
	return ret;
}

static struct area slot_area(const struct wdp_queue *wq, unsigned k)
{
	size_t o = (size_t)k * SLOT_AREA;
	struct area a = { wq->slots + o, wq->slots + o + SLOT_TEXT, wq->slots_iova + o,
			  wq->slots_iova + o + SLOT_TEXT };

	return a;
}

int wdp_req_slot_fits(const struct wdp_queue *wq, const struct wdp_op *op)
{
	return !wq->bounce || (op->len <= SLOT_TEXT && op->hdr_len <= SLOT_HDR);
}

int wdp_req_slot_prep(struct wdp_queue *wq, const struct wdp_sess *ws, const struct wdp_op *op,
		      unsigned k, struct wd_req *r)
{
	struct area a;
	size_t hdr_now;

	if (!wq->bounce) {
		/* an empty header has no address (an unused field must be 0) */
		prep(r, ws, op, op->param, op->iv,
		     op->hdr_len ? (uint64_t)(uintptr_t)op->hdr : 0, (uint64_t)(uintptr_t)op->in,
		     (uint64_t)(uintptr_t)op->out, op->len);
		return 0;
	}
	if (!wq->slots)
		return -ENOMEM; /* wdp_req_slots_init() first */
	a = slot_area(wq, k);
	bounce_in(ws, op, op->iv, 0, op->len, &a, r, &hdr_now);
	return 0;
}

void wdp_req_slot_done(struct wdp_queue *wq, const struct wdp_op *op, unsigned k, int status)
{
	struct area a;
	size_t hdr_now = 0;

	if (!wq->bounce || status)
		return; /* a failed request gives nothing back (as run_bounce) */
	a = slot_area(wq, k);
	if (op->mode == WDP_GCM)
		hdr_now = (op->param & WD_AEAD_P_INIT ? WD_AEAD_P_IVLEN_OF(op->param) +
			   op->aad_len : 0) + WD_AEAD_P_TAGLEN_OF(op->param);
	bounce_out(op, 0, op->len, &a, hdr_now);
}

/* ---- synchronous ---- */

static int run_sva(struct wdp_queue *wq, const struct wdp_sess *ws, const struct wdp_op *op)
{
	struct wd_req r;

	wdp_req_slot_prep(wq, ws, op, 0, &r);
	return run_one(wq, &r);
}

int wdp_req_run(struct wdp_prov *prov, struct wdp_sess *ws, const struct wdp_op *op,
		int *touched, struct wdp_pend *pend, struct wdp_counts *n)
{
	struct wdp_queue *wq = ws->wq;
	int ret;

	*touched = 0;
	if (!wdp_sess_live(prov, ws))
		return -ECHILD;
	if (!wdp_async_run(prov, ws, op, pend, n, &ret)) {
		/* a remote device may have written part of the output before
		 * it failed, and one resumed in a fork child may find it half
		 * written by the parent's device; a bounce area is copied out
		 * only on success */
		*touched = !wq->bounce && (ret == -ECHILD || (ret && !wq->in_process));
		return ret;
	}
	pthread_mutex_lock(&wq->lock);
	if (!wq->bounce) {
		ret = run_sva(wq, ws, op);
		/* the in-process device fails before writing (or zeroes a
		 * rejected GCM plaintext, which is no case for a retry) */
		*touched = ret && !wq->in_process;
	} else {
		/* waiting beside jobs' requests drops the lock: the buffer is
		 * held by a flag meanwhile (another thread waits for it) */
		while (wq->bounce_busy) {
			pthread_mutex_unlock(&wq->lock);
			wdp_ring_nap(wq);
			pthread_mutex_lock(&wq->lock);
		}
		wq->bounce_busy = 1;
		ret = run_bounce(wq, ws, op, touched);
		wq->bounce_busy = 0;
	}
	pthread_mutex_unlock(&wq->lock);
	return ret;
}
