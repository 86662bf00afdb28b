/* SPDX-License-Identifier: MIT */
/*
 * AES in CBC, CTR and XTS modes on the soft engine, done by OpenSSL's
 * default provider, called through its own functions rather than EVP
 * (found in the engine's own library context: evp.c): a request sets its
 * IV with the provider's init, about 60 instructions, where
 * EVP_CipherInit_ex costs about 1200 in OpenSSL 3.0.  AES-GCM requests go
 * on to crypto_gcm.c (EVP) from here.
 *
 * A queue's sessions are set on the control path (the application's thread,
 * or the daemon's control thread) while the engine thread serves requests
 * of the queue's other sessions.  So the table has two halves
 * (crypto_int.h):
 *   - slots, written by the control path under the table's lock: the
 *     session's setup and a generation bumped on every change;
 *   - the engine's own cipher contexts, a pair (encrypt, decrypt) per
 *     slot, keyed when the engine meets a generation it has not seen.
 * A request costs one atomic load to know its context is current; the lock
 * is taken only when a session changed.  The key schedule is computed once
 * per session, and each request only sets its IV.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <wd/crypto.h>

#include "../../core/driver.h"
#include "crypto_int.h"

/* ---- the control path ---- */

int soft_cipher_init(struct soft_queue *sq)
{
	struct soft_cipher *sc = calloc(1, sizeof(*sc));
	int ret;

	if (!sc)
		return -ENOMEM;
	/* the ciphers are fetched once per process, on the first such queue,
	 * and kept while a queue holds them */
	ret = soft_evp_get();
	if (ret) {
		free(sc);
		return ret;
	}
	pthread_mutex_init(&sc->lock, NULL);
	sq->cipher = sc;
	return 0;
}

static void ctx_drop(struct cipher_ctx *x)
{
	int i;

	/* the provider's freectx cleanses the key schedule */
	for (i = 0; i < 2; i++)
		if (x->pctx[i])
			soft_pctx_free(&x->pf, x->pctx[i]);
	x->pctx[0] = x->pctx[1] = NULL;
	EVP_CIPHER_free(x->pref); /* after its contexts */
	x->pref = NULL;
	x->alg = 0;
	soft_gcm_reset(x);
}

/* The queue is off the engine: nobody else touches the table. */
void soft_cipher_free(struct soft_queue *sq)
{
	struct soft_cipher *sc = sq->cipher;
	unsigned i;

	if (!sc)
		return;
	for (i = 0; i <= WD_MAX_SESSIONS; i++)
		ctx_drop(&sc->ctx[i]);
	OPENSSL_cleanse(sc->slot, sizeof(sc->slot));
	pthread_mutex_destroy(&sc->lock);
	free(sc);
	sq->cipher = NULL;
	soft_evp_put(); /* after its contexts */
}

int soft_cipher_set(struct soft_queue *sq, unsigned id, const struct wd_cipher_setup *cs)
{
	struct soft_cipher *sc = sq->cipher;
	struct cipher_slot *sl;

	if (!sc)
		return -EOPNOTSUPP;
	if (!id || id > WD_MAX_SESSIONS || (cs && wd__cipher_check(cs)))
		return -EINVAL;
	sl = &sc->slot[id];
	pthread_mutex_lock(&sc->lock);
	if (cs)
		sl->cs = *cs;
	else
		OPENSSL_cleanse(&sl->cs, sizeof(sl->cs));
	__atomic_store_n(&sl->gen, sl->gen + 1, __ATOMIC_RELEASE);
	if (!cs)
		__atomic_store_n(&sc->closes, sc->closes + 1, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&sc->lock);
	/* a closed session's key schedule goes at the engine's next pass */
	if (!cs)
		soft_queue_kick(sq);
	return 0;
}

/* ---- the engine's contexts ---- */

/* Key a plain mode's pair of contexts, the default provider's own. */
static int ctx_key_pair(struct cipher_ctx *x, const struct wd_cipher_setup *cs)
{
	int i;

	if (!x->pref)
		x->pref = soft_evp_plain(cs->alg, cs->key_len, &x->pf);
	if (!x->pref)
		return -EIO;
	for (i = 0; i < 2; i++) {
		if (!x->pctx[i])
			x->pctx[i] = soft_pctx_new(&x->pf);
		if (!x->pctx[i])
			return -ENOMEM;
		if (!soft_pctx_key(&x->pf, x->pctx[i], i, cs->key, cs->key_len))
			return -EIO;
	}
	return 0;
}

/* Key slot id's contexts from its current setup (or drop them). */
static int ctx_reload(struct soft_cipher *sc, unsigned id)
{
	struct cipher_ctx *x = &sc->ctx[id];
	struct wd_cipher_setup cs;
	uint32_t alg;
	uint64_t gen;
	int ret = 0;

	pthread_mutex_lock(&sc->lock);
	gen = __atomic_load_n(&sc->slot[id].gen, __ATOMIC_RELAXED);
	cs = sc->slot[id].cs;
	pthread_mutex_unlock(&sc->lock);
	alg = cs.alg;
	if (alg) {
		/* another mode or key length on this id: its contexts start
		 * afresh (a provider context belongs to one of them) */
		if (x->alg != cs.alg || (x->pref && x->pref != soft_evp_cipher(cs.alg, cs.key_len)))
			ctx_drop(x);
		soft_gcm_reset(x); /* keying leaves no message */
		ret = cs.alg == WD_CIPHER_AES_GCM ? soft_gcm_key(x, &cs) : ctx_key_pair(x, &cs);
		x->alg = cs.alg;
		OPENSSL_cleanse(&cs, sizeof(cs));
	}
	if (!alg || ret) {
		/* closed; or not keyed: the next request tries again */
		ctx_drop(x);
		if (ret)
			return ret;
	}
	x->gen = gen;
	return 0;
}

int soft_cipher_setup_at(struct soft_cipher *sc, unsigned id, uint64_t gen,
			 struct wd_cipher_setup *cs)
{
	int ret = -EINVAL;

	pthread_mutex_lock(&sc->lock);
	if (__atomic_load_n(&sc->slot[id].gen, __ATOMIC_RELAXED) == gen && sc->slot[id].cs.alg) {
		*cs = sc->slot[id].cs;
		ret = 0;
	}
	pthread_mutex_unlock(&sc->lock);
	return ret;
}

void soft_cipher_abort(struct soft_queue *sq, unsigned id)
{
	struct soft_cipher *sc = sq->cipher;

	if (sc && id && id <= WD_MAX_SESSIONS)
		sc->ctx[id].gcm.open = 0;
}

int soft_cipher_sweep_due(const struct soft_queue *sq)
{
	const struct soft_cipher *sc = sq->cipher;

	return __atomic_load_n(&sc->closes, __ATOMIC_ACQUIRE) != sc->swept;
}

void soft_cipher_sweep(struct soft_queue *sq)
{
	struct soft_cipher *sc = sq->cipher;
	uint64_t closes = __atomic_load_n(&sc->closes, __ATOMIC_ACQUIRE);
	unsigned i;

	if (closes == sc->swept)
		return;
	sc->swept = closes;
	for (i = 1; i <= WD_MAX_SESSIONS; i++)
		if (sc->ctx[i].alg &&
		    __atomic_load_n(&sc->slot[i].gen, __ATOMIC_ACQUIRE) != sc->ctx[i].gen)
			ctx_reload(sc, i);
}

/* ---- requests ---- */

/* Walking a segment list (only while bytes are left in it). */
struct seg_cursor {
	const struct soft_seg *v;
	uint32_t i;
	uint64_t off;
};

static uint8_t *cur_ptr(struct seg_cursor *c, uint64_t *avail)
{
	while (c->off == c->v[c->i].len) {
		c->i++;
		c->off = 0;
	}
	*avail = c->v[c->i].len - c->off;
	return (uint8_t *)c->v[c->i].p + c->off;
}

/* Copy len bytes out of (to 0) or into (to 1) the list at the cursor. */
static void cur_copy(struct seg_cursor *c, uint8_t *buf, uint64_t len, int to)
{
	uint64_t avail, k;
	uint8_t *p;

	while (len) {
		p = cur_ptr(c, &avail);
		k = avail < len ? avail : len;
		if (to)
			memcpy(p, buf, k);
		else
			memcpy(buf, p, k);
		c->off += k;
		buf += k;
		len -= k;
	}
}

/*
 * Source and destination may be the same memory (in place) but not overlap
 * otherwise: any byte both lists reach must sit at the same offset of the
 * data in each, or an output would overwrite input not yet read.
 */
static int aliasing_ok(const struct soft_seg_list *in, const struct soft_seg_list *out)
{
	uint64_t ioff = 0, ooff;
	uint32_t i, j;

	for (i = 0; i < in->n; ioff += in->v[i++].len) {
		uintptr_t a = (uintptr_t)in->v[i].p, ae = a + in->v[i].len;

		for (j = 0, ooff = 0; j < out->n; ooff += out->v[j++].len) {
			uintptr_t b = (uintptr_t)out->v[j].p, be = b + out->v[j].len;

			if (a < be && b < ae && a - ioff != b - ooff)
				return 0;
		}
	}
	return 1;
}

int soft_pstep_run(void *arg, uint8_t *out, const uint8_t *in, size_t len)
{
	const struct soft_pstep *p = arg;
	size_t outl;

	return p->fn(p->pctx, out, &outl, len, in, len) && outl == len;
}

/* CBC, CTR and GCM over segments: whole blocks straight from segment to
 * segment, and a block that straddles a boundary through a bounce block. */
int soft_run_segments(soft_step_fn *step, void *ctx, const struct soft_seg_list *in,
		      const struct soft_seg_list *out, uint64_t total, unsigned unit)
{
	struct seg_cursor ci = { in->v, 0, 0 }, co = { out->v, 0, 0 };
	uint8_t blk[AES_BLOCK];
	uint64_t done = 0, ia, oa, k;
	uint8_t *ip, *op;

	while (done < total) {
		ip = cur_ptr(&ci, &ia);
		op = cur_ptr(&co, &oa);
		k = ia < oa ? ia : oa;
		if (k > total - done)
			k = total - done;
		k -= k % unit;
		if (k) {
			if (!step(ctx, op, ip, k))
				return -EIO;
			ci.off += k;
			co.off += k;
		} else {
			k = unit;
			cur_copy(&ci, blk, k, 0);
			if (!step(ctx, blk, blk, k))
				return -EIO;
			cur_copy(&co, blk, k, 1);
		}
		done += k;
	}
	OPENSSL_cleanse(blk, sizeof(blk));
	return 0;
}

/* XTS needs the whole data unit in one call: gather, cipher, scatter. */
static int run_gathered(struct soft_pstep *p, struct soft_scratch *s,
			const struct soft_seg_list *in, const struct soft_seg_list *out,
			uint64_t total)
{
	struct seg_cursor ci = { in->v, 0, 0 }, co = { out->v, 0, 0 };

	if (s->gather_len < total) {
		void *g = realloc(s->gather, total);

		if (!g)
			return -ENOMEM;
		s->gather = g;
		s->gather_len = total;
	}
	cur_copy(&ci, s->gather, total, 0);
	if (!soft_pstep_run(p, s->gather, s->gather, total))
		return -EIO;
	cur_copy(&co, s->gather, total, 1);
	return 0;
}

/* The request's contexts, keyed for its session; NULL with *err set. */
static struct cipher_ctx *req_ctx(struct soft_queue *sq, const wd_sqe *e, int *err)
{
	struct soft_cipher *sc = sq->cipher;
	struct cipher_ctx *x;

	*err = -EINVAL;
	if (!sc || !e->session || e->session > WD_MAX_SESSIONS)
		return NULL;
	x = &sc->ctx[e->session];
	if (__atomic_load_n(&sc->slot[e->session].gen, __ATOMIC_ACQUIRE) != x->gen) {
		*err = ctx_reload(sc, e->session);
		if (*err)
			return NULL;
		*err = -EINVAL;
	}
	if (!x->alg)
		return NULL; /* never set, or closed */
	return x;
}

static int check_len(uint32_t alg, uint64_t len)
{
	if (len > WD_CIPHER_LEN_MAX)
		return -EMSGSIZE;
	if (alg == WD_CIPHER_AES_CBC && len % AES_BLOCK)
		return -EINVAL;
	if (alg == WD_CIPHER_AES_XTS && len < AES_BLOCK)
		return -EINVAL; /* IEEE 1619: at least one whole block */
	return 0;
}

int soft_text_apart(const struct soft_queue *sq, const struct soft_seg_list *in,
		    const struct soft_seg_list *out, const struct soft_seg_list *din,
		    const struct soft_seg_list *dout)
{
	return (sq->remote_mem >= 0 ? aliasing_ok(din, dout) : aliasing_ok(in, out)) ? 0 : -EINVAL;
}

static int cipher(struct soft_queue *sq, struct soft_scratch *s, const wd_sqe *e,
		  const struct soft_io *io, wd_cqe *c, int enc)
{
	uint64_t total = io->src_segs ? io->src_total : e->len;
	uint64_t room = io->dst_segs ? io->dst_total : total;
	struct soft_seg_list in, out, din, dout;
	uint8_t iv[WD_CIPHER_IV_LEN];
	struct soft_pstep p;
	struct cipher_ctx *x;
	int ret;

	x = req_ctx(sq, e, &ret);
	if (!x)
		return ret;
	if (x->alg == WD_CIPHER_AES_GCM)
		return soft_gcm_run(sq, s, e, io, c, x, enc);
	if (e->param)
		return -EINVAL; /* AEAD parts on a session of another mode */
	ret = check_len(x->alg, total);
	if (ret)
		return ret;
	if (room < total)
		return -EINVAL; /* the output is as long as the input */
	ret = soft_text_lists(sq, e, io, total, &in, &out, &din, &dout);
	if (ret)
		return ret;
	if (!total)
		return 0; /* CBC and CTR: nothing to do */
	/* one 16-byte copy: the IV is read whole, and two 8-byte stores
	 * cannot be forwarded to one 16-byte load (a stall per request) */
	_Static_assert(offsetof(wd_sqe, arg1) == offsetof(wd_sqe, arg0) + 8, "IV halves adjacent");
	memcpy(iv, &e->arg0, sizeof(iv));
	p.fn = x->pf.cipher;
	p.pctx = x->pctx[enc];
	/* the provider's own init with only the IV: the mode starts afresh
	 * (CTR's keystream position too), the key schedule stays */
	if (!x->pf.init[enc](p.pctx, NULL, 0, iv, sizeof(iv), NULL))
		return -EIO;
	if (!io->src_segs && !io->dst_segs)
		ret = soft_pstep_run(&p, io->dst, io->src, total) ? 0 : -EIO;
	else if (x->alg == WD_CIPHER_AES_XTS)
		ret = run_gathered(&p, s, &in, &out, total);
	else
		ret = soft_run_segments(soft_pstep_run, &p, &in, &out, total,
					x->alg == WD_CIPHER_AES_CBC ? AES_BLOCK : 1);
	if (!ret)
		c->result = total;
	return ret;
}

int soft_encrypt(struct soft_queue *sq, struct soft_scratch *s, const wd_sqe *e,
		 const struct soft_io *io, wd_cqe *c)
{
	return cipher(sq, s, e, io, c, 1);
}

int soft_decrypt(struct soft_queue *sq, struct soft_scratch *s, const wd_sqe *e,
		 const struct soft_io *io, wd_cqe *c)
{
	return cipher(sq, s, e, io, c, 0);
}
