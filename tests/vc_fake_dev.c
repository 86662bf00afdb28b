/* The fake virtio-crypto device's thread (vc_fake.h): it takes what the
 * driver makes available, runs sessions and AES with OpenSSL on the memory
 * its IOMMU table reaches, and misbehaves on command.  All under f->lock. */
#include <linux/virtio_config.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vc_fake_int.h"

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The IOMMU: host memory behind [iova, iova+len), or NULL (a fault). */
static void *dma(struct fk_dev *f, uint64_t iova, uint64_t len, int write)
{
	unsigned i;

	if (!fk_bm_on(f))
		return NULL; /* no bus mastering: no DMA at all */
	for (i = 0; i < f->nmaps; i++) {
		struct fk_map *m = &f->maps[i];

		if (iova >= m->iova && len <= m->len && iova - m->iova <= m->len - len &&
		    !(write && m->ro))
			return m->host + (iova - m->iova);
	}
	f->st.faults++;
	return NULL;
}

static int64_t gather(struct fk_dev *f, const struct fk_seg *s, unsigned n, uint8_t *buf,
		      uint64_t cap)
{
	uint64_t at = 0;
	void *p;

	for (unsigned i = 0; i < n; i++) {
		if (s[i].len > cap - at || !(p = dma(f, s[i].iova, s[i].len, 0)))
			return -1;
		memcpy(buf + at, p, s[i].len);
		at += s[i].len;
	}
	return (int64_t)at;
}

static int scatter(struct fk_dev *f, const struct fk_seg *s, unsigned n, const uint8_t *buf,
		   uint64_t len)
{
	uint64_t at = 0;
	void *p;

	for (unsigned i = 0; i < n && at < len; i++) {
		uint32_t k = len - at < s[i].len ? (uint32_t)(len - at) : s[i].len;

		if (!(p = dma(f, s[i].iova, k, 1)))
			return -1;
		memcpy(p, buf + at, k);
		at += k;
	}
	return at == len ? 0 : -1;
}

/* Read a chain; when asked, scribble over its descriptors afterwards. */
static int chain(struct fk_dev *f, struct fk_vq *q, uint16_t head, struct fk_req *r)
{
	uint16_t i = head, seen = 0;

	memset(r, 0, sizeof(*r));
	r->head = head;
	for (;;) {
		struct vring_desc *d = dma(f, q->desc + 16ull * i, 16, 0), c;

		if (!d || seen++ >= q->size)
			return -1;
		memcpy(&c, d, sizeof(c));
		if (c.flags & VRING_DESC_F_WRITE) {
			if (r->nw == FK_SEGS)
				return -1;
			r->w[r->nw++] = (struct fk_seg){ c.addr, c.len };
			r->wlen += c.len;
		} else {
			if (r->nw || r->nr == FK_SEGS)
				return -1;
			r->r[r->nr++] = (struct fk_seg){ c.addr, c.len };
		}
		if (!(c.flags & VRING_DESC_F_NEXT))
			break;
		if (c.next >= q->size)
			return -1;
		i = c.next;
	}
	/* its own copy is taken: now point the chain anywhere, into a loop
	 * through the driver's memory (the driver never reads it back) */
	for (i = head; f->o.bad == FK_DESC_REWRITE && seen--;) {
		struct vring_desc *d = dma(f, q->desc + 16ull * i, 16, 1);
		uint16_t next = d ? d->next : 0;

		if (d)
			*d = (struct vring_desc){ .addr = f->maps[0].iova, .len = 0xffffffff,
						  .flags = VRING_DESC_F_NEXT | VRING_DESC_F_WRITE,
						  .next = head };
		i = next;
	}
	return 0;
}

static void push(struct fk_dev *f, struct fk_vq *q, uint32_t id, uint32_t len, uint16_t extra)
{
	struct vring_used *u = dma(f, q->used, VIRTQ_USED_BYTES(q->size), 1);

	if (!u)
		return;
	__atomic_store_n(&u->ring[q->used_idx & (q->size - 1)].id, id, __ATOMIC_RELAXED);
	__atomic_store_n(&u->ring[q->used_idx & (q->size - 1)].len, len, __ATOMIC_RELAXED);
	q->used_idx = (uint16_t)(q->used_idx + 1 + extra);
	__atomic_store_n(&u->idx, q->used_idx, __ATOMIC_RELEASE);
}

static const EVP_CIPHER *evp(uint32_t algo, uint32_t keylen)
{
	if (algo == VIRTIO_CRYPTO_CIPHER_AES_CBC)
		return keylen == 16 ? EVP_aes_128_cbc() : keylen == 24 ? EVP_aes_192_cbc()
					: keylen == 32 ? EVP_aes_256_cbc() : NULL;
	if (algo == VIRTIO_CRYPTO_CIPHER_AES_CTR)
		return keylen == 16 ? EVP_aes_128_ctr() : keylen == 24 ? EVP_aes_192_ctr()
					: keylen == 32 ? EVP_aes_256_ctr() : NULL;
	return NULL;
}

/* One cipher request: header, IV, source in; destination, status out.
 * Returns the bytes written. */
static uint32_t run_data(struct fk_dev *f, const struct fk_req *r)
{
	struct virtio_crypto_op_data_req h;
	const struct fk_sess *s = NULL;
	uint32_t ivl, sl, dl;
	const uint64_t cap = (1u << 20) + 256; /* max_size, header and IV */
	uint8_t st = VIRTIO_CRYPTO_BADMSG, *in = malloc(cap + r->wlen), *out;
	int64_t n = in ? gather(f, r->r, r->nr, in, cap) : -1;
	int k = 0, k2 = 0;

	if (n < (int64_t)sizeof(h) || !r->nw) {
		free(in);
		return 0;
	}
	memcpy(&h, in, sizeof(h));
	ivl = h.u.sym_req.u.cipher.para.iv_len;
	sl = h.u.sym_req.u.cipher.para.src_data_len;
	dl = h.u.sym_req.u.cipher.para.dst_data_len;
	out = in + cap;
	if (h.header.session_id >= 1 && h.header.session_id <= FK_SESS)
		s = &f->sess[h.header.session_id - 1];
	if (ivl != 16 || sizeof(h) + ivl + (uint64_t)sl != (uint64_t)n || dl != sl || dl + 1 != r->wlen)
		st = VIRTIO_CRYPTO_BADMSG;
	else if (!s || !s->used || h.header.algo != s->algo ||
		 (h.header.opcode == VIRTIO_CRYPTO_CIPHER_ENCRYPT) != (s->op == VIRTIO_CRYPTO_OP_ENCRYPT))
		st = VIRTIO_CRYPTO_INVSESS;
	else {
		EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();

		if (c && EVP_CipherInit_ex(c, evp(s->algo, s->keylen), NULL, s->key, in + sizeof(h),
					   s->op == VIRTIO_CRYPTO_OP_ENCRYPT) &&
		    EVP_CIPHER_CTX_set_padding(c, 0) &&
		    EVP_CipherUpdate(c, out, &k, in + sizeof(h) + ivl, (int)sl) &&
		    EVP_CipherFinal_ex(c, out + k, &k2) && (uint32_t)(k + k2) == dl)
			st = VIRTIO_CRYPTO_OK;
		else
			st = VIRTIO_CRYPTO_ERR;
		EVP_CIPHER_CTX_free(c);
	}
	if (st != VIRTIO_CRYPTO_OK)
		memset(out, 0, r->wlen);
	out[r->wlen - 1] = st;
	n = scatter(f, r->w, r->nw, out, r->wlen);
	free(in);
	return n ? 0 : r->wlen;
}

/* Create or destroy a session; the bytes written. */
static uint32_t run_ctl(struct fk_dev *f, const struct fk_req *r)
{
	struct virtio_crypto_op_ctrl_req h;
	struct virtio_crypto_session_input si = { .status = VIRTIO_CRYPTO_ERR };
	uint8_t buf[512];
	int64_t n = gather(f, r->r, r->nr, buf, sizeof(buf));
	unsigned i;

	if (n < (int64_t)sizeof(h))
		return 0;
	memcpy(&h, buf, sizeof(h));
	if (h.header.opcode == VIRTIO_CRYPTO_CIPHER_DESTROY_SESSION) {
		uint64_t id = h.u.destroy_session.session_id;
		uint8_t st = VIRTIO_CRYPTO_INVSESS;

		if (id >= 1 && id <= FK_SESS && f->sess[id - 1].used) {
			memset(&f->sess[id - 1], 0, sizeof(f->sess[0]));
			st = VIRTIO_CRYPTO_OK;
		}
		return scatter(f, r->w, r->nw, &st, 1) ? 0 : 1;
	}
	if (h.header.opcode == VIRTIO_CRYPTO_CIPHER_CREATE_SESSION &&
	    h.u.sym_create_session.op_type == VIRTIO_CRYPTO_SYM_OP_CIPHER) {
		const struct virtio_crypto_cipher_session_para *p =
			&h.u.sym_create_session.u.cipher.para;

		si.status = VIRTIO_CRYPTO_NOTSUPP;
		for (i = 0; i < FK_SESS && f->sess[i].used; i++)
			;
		if (evp(p->algo, p->keylen) && i < FK_SESS && n == (int64_t)sizeof(h) + p->keylen) {
			f->sess[i] = (struct fk_sess){ p->algo, p->op, p->keylen, { 0 }, 1 };
			memcpy(f->sess[i].key, buf + sizeof(h), p->keylen);
			si.session_id = i + 1;
			si.status = VIRTIO_CRYPTO_OK;
		}
	}
	return scatter(f, r->w, r->nw, (uint8_t *)&si, sizeof(si)) ? 0 : sizeof(si);
}

/* Chains made available since last time, into the queue's taken list. */
static void take(struct fk_dev *f, struct fk_vq *q)
{
	struct vring_avail *a = dma(f, q->avail, VIRTQ_AVAIL_BYTES(q->size), 0);
	uint16_t idx;

	if (!a)
		return;
	idx = __atomic_load_n(&a->idx, __ATOMIC_ACQUIRE);
	while (q->last_avail != idx && q->ntaken < VIRTQ_MAX_SIZE) {
		uint16_t head = a->ring[q->last_avail & (q->size - 1)];

		q->last_avail++;
		if (head >= q->size || chain(f, q, head, &q->taken[q->ntaken]))
			continue; /* a driver bug: the test sees the request hang */
		q->taken[q->ntaken++].due = now_ms() + FK_CTL_DELAY_MS;
	}
}

static void drop(struct fk_vq *q, unsigned k)
{
	q->taken[k] = q->taken[--q->ntaken];
}

/* Run request k and give it back with the length it wrote, plus len_off
 * (a lie: +1 past the writable bytes, -1 one byte short). */
static void complete(struct fk_dev *f, struct fk_vq *q, unsigned k, int len_off)
{
	uint32_t n = run_data(f, &q->taken[k]);

	push(f, q, q->taken[k].head, len_off > 0 ? q->taken[k].wlen + 1 : n + len_off, 0);
	f->st.completed++;
	drop(q, k);
}

/* It goes on serving after it misbehaved, and writes nothing late. */
int fk_harmless(enum fk_bad b)
{
	return b == FK_NONE || b == FK_DESC_REWRITE || b == FK_CFG_CHANGE || b == FK_SHORT_LEN;
}

/* Misbehave once, on the first data queue holding requests. */
static void trigger(struct fk_dev *f)
{
	struct fk_vq *q = &f->vq[0];
	uint16_t id;
	unsigned i;

	for (i = 0; i < f->o.nq && !f->vq[i].ntaken; i++)
		;
	if (i < f->o.nq)
		q = &f->vq[i];
	f->st.triggered = 1;
	switch (f->o.bad) {
	case FK_DUP_USED:
		id = q->taken[0].head;
		complete(f, q, 0, 0);
		push(f, q, id, 0, 0);
		break;
	case FK_RANGE_USED:
		push(f, q, q->size + 3u, 0, 0);
		break;
	case FK_UNISSUED_USED:
		for (id = 0; id < q->size; id++) {
			for (i = 0; i < q->ntaken && q->taken[i].head != id; i++)
				;
			if (i == q->ntaken)
				break;
		}
		push(f, q, id, 0, 0);
		break;
	case FK_IDX_JUMP:
		push(f, q, q->taken[0].head, 0, 40);
		break;
	case FK_LEN_PAST:
		complete(f, q, 0, 1);
		break;
	case FK_SHORT_LEN:
		complete(f, q, 0, -1);
		break;
	case FK_NEEDS_RESET:
		f->status |= VIRTIO_CONFIG_S_NEEDS_RESET;
		break;
	case FK_GONE:
		f->gone = 1;
		break;
	case FK_CFG_CHANGE:
		f->cfg.max_size = 16;
		f->cfg.max_dataqueues = 7;
		f->cfg.cipher_algo_l = 0;
		f->cfg.status = 0;
		f->gen++;
		break;
	default:
		break;
	}
}

/* A hostile device keeps writing into what it holds until it is stopped. */
static void late_writes(struct fk_dev *f)
{
	for (unsigned qi = 0; qi < f->o.nq; qi++)
		for (unsigned k = 0; k < f->vq[qi].ntaken; k++) {
			struct fk_req *r = &f->vq[qi].taken[k];

			for (unsigned i = 0; i + 1 < r->nw; i++) { /* the data, not the status */
				void *p = dma(f, r->w[i].iova, r->w[i].len, 1);

				if (p) {
					memset(p, 0xee, r->w[i].len);
					f->st.late_writes++;
				}
			}
		}
}

static void serve(struct fk_dev *f)
{
	struct fk_vq *cq = &f->vq[f->o.nq];
	unsigned qi, total = 0;

	if (cq->enable) {
		take(f, cq);
		for (unsigned k = 0; k < cq->ntaken;) {
			struct fk_req *r = &cq->taken[k];

			if (f->o.bad == FK_CTL_LATE && f->st.triggered && now_ms() < r->due) {
				k++;
				continue;
			}
			if (f->o.bad == FK_CTL_LATE && f->st.triggered)
				f->st.ctl_late++;
			push(f, cq, r->head, run_ctl(f, r), 0);
			drop(cq, k);
		}
	}
	for (qi = 0; qi < f->o.nq; qi++) {
		if (f->vq[qi].enable)
			take(f, &f->vq[qi]);
		total += f->vq[qi].ntaken;
	}
	if (!f->st.triggered && f->o.bad != FK_NONE && total && total >= f->o.hold)
		trigger(f);
	if (!fk_harmless(f->o.bad) || (f->o.bad != FK_NONE && !f->st.triggered))
		return;
	for (qi = 0; qi < f->o.nq; qi++)
		while (f->vq[qi].ntaken)
			complete(f, &f->vq[qi], 0, 0);
}

void *fk_main(void *arg)
{
	struct fk_dev *f = arg;

	pthread_mutex_lock(&f->lock);
	while (!f->quit) {
		struct timespec ts;

		if (!f->gone && (f->status & VIRTIO_CONFIG_S_DRIVER_OK))
			serve(f);
		if (f->st.triggered && !fk_harmless(f->o.bad))
			late_writes(f);
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 500 * 1000;
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
		pthread_cond_timedwait(&f->kick, &f->lock, &ts);
	}
	pthread_mutex_unlock(&f->lock);
	return NULL;
}

