/* SPDX-License-Identifier: MIT */
/*
 * The "vfio" driver's cipher sessions: virtio-crypto fixes a session's
 * direction, so a wd session is two device sessions made on the control
 * virtqueue.  Keys travel only in that request and are wiped once the
 * device has answered.
 */
#include <errno.h>
#include <string.h>

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

void vc_sess_close(struct vc_dev *vd, struct vc_queue *cq, struct vc_sess *s)
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
	pthread_mutex_lock(&vd->lock);
	pthread_mutex_lock(&cq->sess_lock);
	old = cq->sess[id];
	pthread_mutex_unlock(&cq->sess_lock);
	vc_sess_close(vd, cq, &old);
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
