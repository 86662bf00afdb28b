/* SPDX-License-Identifier: MIT */
/*
 * The "vfio" driver's cipher sessions: virtio-crypto fixes a session's
 * direction, so a wd session is two device sessions made on the control
 * virtqueue.  Keys travel only in that request and are wiped once the
 * device has answered.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../core/driver.h"
#include "../../core/internal.h"
#include "vcrypto.h"

static const uint32_t vc_algo[] = {
	[WD_CIPHER_AES_CBC] = VIRTIO_CRYPTO_CIPHER_AES_CBC,
	[WD_CIPHER_AES_CTR] = VIRTIO_CRYPTO_CIPHER_AES_CTR,
	[WD_CIPHER_AES_XTS] = VIRTIO_CRYPTO_CIPHER_AES_XTS,
};

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
	ret = vc_ctl_run(vd, b, 3);
	explicit_bzero(key, WD_CIPHER_KEY_MAX); /* the device has it now */
	if (ret)
		return ret;
	*id = __atomic_load_n(&in->session_id, __ATOMIC_RELAXED);
	return vc_status_errno(__atomic_load_n(&in->status, __ATOMIC_RELAXED));
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
	ret = vc_ctl_run(vd, b, 2);
	return ret ? ret : vc_status_errno(__atomic_load_n(&in->status, __ATOMIC_RELAXED));
}

/* Take session id out of the queue's table: from here on a request naming
 * it fails (-EINVAL) and never reaches the device.  The caller destroys
 * what it returns: the device hands those ids out again, maybe to another
 * queue, so the table must not name them once they are destroyed. */
static struct vc_sess sess_take(struct vc_queue *cq, unsigned id)
{
	struct vc_sess s;

	pthread_mutex_lock(&cq->sess_lock);
	s = cq->sess[id];
	memset(&cq->sess[id], 0, sizeof(cq->sess[id]));
	pthread_mutex_unlock(&cq->sess_lock);
	return s;
}

/* Requests of session id the thread already handed to the device must be
 * answered before its device ids are destroyed (and reused).  A device
 * that does not answer is stopped by the thread within the request
 * timeout; 0 when none is left (or the device is gone). */
static int sess_wait_idle(struct vc_queue *cq, unsigned id)
{
	int64_t deadline = vc_mono_ms() + cq->req_timeout_ms + VC_DRAIN_TIMEOUT_MS;
	unsigned us = 50;

	while (__atomic_load_n(&cq->sess_busy[id], __ATOMIC_ACQUIRE) &&
	       !__atomic_load_n(&cq->vd->gone, __ATOMIC_ACQUIRE)) {
		if (vc_mono_ms() > deadline)
			return -ETIMEDOUT;
		usleep(us);
		/* an answer usually comes at once; a device that holds on may
		 * take up to the deadline: back off to a millisecond */
		if (us < 1000)
			us *= 2;
	}
	return 0;
}

static void sess_destroy(struct vc_dev *vd, struct vc_queue *cq, const struct vc_sess *s)
{
	if (!s->algo)
		return;
	session_destroy(vd, cq->qidx, s->algo, s->id[0]);
	session_destroy(vd, cq->qidx, s->algo, s->id[1]);
}

/* The thread is gone: nothing of the queue is on the device any more. */
void vc_sess_close(struct vc_dev *vd, struct vc_queue *cq, unsigned id)
{
	struct vc_sess s = sess_take(cq, id);

	sess_destroy(vd, cq, &s);
}

/* The device fixes a session's direction: a wd session is two of them. */
int vc_cipher_session(struct wd_queue *q, unsigned id, const struct wd_cipher_setup *cs)
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
	old = sess_take(cq, id);
	/* not under vd->lock: the thread takes it to stop a device that
	 * does not answer, which is what ends a long wait here */
	if (old.algo && sess_wait_idle(cq, id)) {
		old.algo = 0; /* never destroyed: ids still in use are not reused */
		if (getenv("WD_DEBUG"))
			fprintf(stderr, "wd: vfio %s: session %u still in use; not destroyed\n",
				vd->v.addr, id);
	}
	pthread_mutex_lock(&vd->lock);
	sess_destroy(vd, cq, &old);
	if (cs) {
		ret = session_create(vd, cq->qidx, cs, VIRTIO_CRYPTO_OP_ENCRYPT, &fresh.id[0]);
		if (!ret) {
			ret = session_create(vd, cq->qidx, cs, VIRTIO_CRYPTO_OP_DECRYPT, &fresh.id[1]);
			if (ret)
				session_destroy(vd, cq->qidx, vc_algo[cs->alg], fresh.id[0]);
		}
		if (!ret) { /* only a session that exists on the device goes in */
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
