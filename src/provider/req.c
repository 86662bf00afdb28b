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
 * OpenSSL ASYNC_JOB, a request on an SVA queue is submitted with wd_send()
 * instead and the job paused until it completes (async.c); a synchronous
 * request on a queue that jobs have requests on goes through the ring
 * too (wd_run() wants nothing else in flight).  Bounce-buffer requests
 * stay synchronous: the queue has one buffer.
 */
#include <stdlib.h>
#include <string.h>

#include <wd/mem.h>

#include "wdp.h"

#define BOUNCE_TEXT (128u << 10)        /* text bytes per request */
#define BOUNCE_HDR (8u << 10)           /* AEAD header: IV, AAD, tag slot */

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

static int run_one(struct wdp_queue *wq, struct wd_req *r)
{
	struct wd_cpl c;
	int ret = wd_run(wq->q, r, &c);

	return ret ? ret : c.status;
}

static int run_sva(struct wdp_prov *prov, struct wdp_sess *ws, const struct wdp_op *op,
		   struct wdp_pend *pend, struct wdp_counts *n, int *touched)
{
	struct wdp_queue *wq = ws->wq;
	struct wd_req r;
	int ret;

	/* an empty header has no address (an unused field must be 0) */
	prep(&r, ws, op, op->param, op->iv, op->hdr_len ? (uint64_t)(uintptr_t)op->hdr : 0,
	     (uint64_t)(uintptr_t)op->in, (uint64_t)(uintptr_t)op->out, op->len);
	if (!wdp_async_run(prov, ws, &r, pend, n, &ret)) {
		/* resumed in a fork child: the parent's device may have been
		 * half-way through the output when the memory was copied */
		*touched = ret == -ECHILD || (ret && !wq->in_process);
		return ret;
	}
	pthread_mutex_lock(&wq->lock);
	if (wq->rs.sent) {
		ret = wdp_ring_run_locked(wq, &r);
	} else {
		ret = run_one(wq, &r);
		wq->rs.armed = 0; /* waiting may have armed and reaped */
	}
	pthread_mutex_unlock(&wq->lock);
	/* a remote device may have written part of the output before it
	 * failed; the in-process one fails before writing (or zeroes a
	 * rejected GCM plaintext, which is no case for a retry) */
	*touched = ret && !wq->in_process;
	return ret;
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

static int run_bounce(struct wdp_queue *wq, const struct wdp_sess *ws, const struct wdp_op *op,
		      int *touched)
{
	uint8_t *text = wq->bounce, *hdr = wq->bounce + BOUNCE_TEXT;
	uint64_t text_iova = wq->bounce_iova, hdr_iova = wq->bounce_iova + BOUNCE_TEXT;
	size_t off = 0, k, hdr_now;
	uint8_t iv[WDP_BLOCK];
	uint32_t param;
	struct wd_req r;
	int ret;

	if (op->hdr_len > BOUNCE_HDR || (op->mode == WDP_XTS && op->len > BOUNCE_TEXT))
		return -EMSGSIZE;
	if (op->iv)
		memcpy(iv, op->iv, WDP_BLOCK);
	do {
		k = op->len - off < BOUNCE_TEXT ? op->len - off : BOUNCE_TEXT;
		if (k) /* a GCM part may carry no text (its end): no buffer then */
			memcpy(text, op->in + off, k);
		param = 0;
		hdr_now = 0;
		if (op->mode == WDP_GCM) {
			param = chunk_param(op->param, off, k, op->len);
			hdr_now = (param & WD_AEAD_P_INIT ? WD_AEAD_P_IVLEN_OF(op->param) : 0) +
				  (param & WD_AEAD_P_INIT ? op->aad_len : 0) +
				  WD_AEAD_P_TAGLEN_OF(param);
			/* IV and AAD lead the header, the tag slot ends it */
			memcpy(hdr, op->hdr + (param & WD_AEAD_P_INIT ? 0 : op->hdr_len - hdr_now),
			       hdr_now);
		}
		prep(&r, ws, op, param, iv, hdr_now ? hdr_iova : 0, k ? text_iova : 0,
		     k ? text_iova : 0, k);
		if (op->mode == WDP_GCM && !(param & WD_AEAD_P_INIT))
			r.arg0 = 0; /* AAD travels with the first part */
		ret = run_one(wq, &r);
		if (ret)
			return ret;
		/* the next chunk's IV: CBC chains on the last ciphertext block */
		if (op->mode == WDP_CBC)
			memcpy(iv, (op->op == WD_OP_ENCRYPT ? text : op->in + off) + k - WDP_BLOCK,
			       WDP_BLOCK);
		else if (op->mode == WDP_CTR)
			ctr_add(iv, k / WDP_BLOCK);
		if (op->mode == WDP_GCM && (param & WD_AEAD_P_FINAL))
			memcpy(op->hdr + op->hdr_len - hdr_now, hdr, hdr_now);
		if (k)
			memcpy(op->out + off, text, k);
		*touched = 1;
		off += k;
	} while (off < op->len);
	return 0;
}

int wdp_req_run(struct wdp_prov *prov, struct wdp_sess *ws, const struct wdp_op *op,
		int *touched, struct wdp_pend *pend, struct wdp_counts *n)
{
	struct wdp_queue *wq = ws->wq;
	int ret;

	*touched = 0;
	if (!wdp_sess_live(prov, ws))
		return -ECHILD;
	if (!wq->bounce)
		return run_sva(prov, ws, op, pend, n, touched);
	pthread_mutex_lock(&wq->lock);
	ret = run_bounce(wq, ws, op, touched);
	pthread_mutex_unlock(&wq->lock);
	return ret;
}
