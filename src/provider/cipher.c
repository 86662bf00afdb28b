/* SPDX-License-Identifier: MIT */
/*
 * Cipher contexts: life cycle, keys and IVs, the default provider's twin
 * context, and running a piece of work on a queue with the fallback rules.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/params.h>

#include "cipher.h"

void *wdp_cctx_new(struct wdp_prov *p, enum wdp_alg_id id)
{
	struct wdp_cctx *c = calloc(1, sizeof(*c));
	OSSL_PARAM par[2];
	unsigned zero = 0;

	if (!c)
		return NULL;
	c->prov = p;
	c->alg = &wdp_algs[id];
	c->swi = &p->sw.impl[id];
	c->sw_dir = -1;
	c->pad = 1;
	c->enc = 1;
	c->key_len = c->alg->key_len;
	c->no_wd = WDP_WHY__COUNT;
	wdp_set_threshold(c, p->cfg.threshold[c->alg->mode][1]);
	c->sw_cipher = c->swi->cipher;
	c->sw_update = c->swi->update;
	c->sw = c->swi->newctx(p->sw.provctx);
	if (!c->sw)
		goto fail;
	if (c->alg->mode == WDP_CBC) {
		/* padding is done here: the default provider sees whole blocks */
		par[0] = OSSL_PARAM_construct_uint(OSSL_CIPHER_PARAM_PADDING, &zero);
		par[1] = OSSL_PARAM_construct_end();
		if (!c->swi->set_ctx_params(c->sw, par))
			goto fail;
	}
	if (c->alg->mode == WDP_GCM && wdp_gcm_new(c))
		goto fail;
	wdp_stats_attach(&p->stats, c);
	return c;
fail:
	if (c->sw)
		c->swi->freectx(c->sw);
	free(c);
	wdp_raise(p, WDP_R_NOMEM, "cannot make a %s context", wdp_algs[id].name);
	return NULL;
}

void wdp_sess_drop(struct wdp_cctx *c, int broken)
{
	wdp_sess_close(c->prov, &c->sess, broken);
}

void wdp_cctx_free(void *vctx)
{
	struct wdp_cctx *c = vctx;

	if (!c)
		return;
	wdp_stats_detach(&c->prov->stats, c);
	/* a job paused mid-request and never resumed: the device may still
	 * write the context's buffers (a GCM header) until it answers */
	wdp_pend_drain(c->prov, &c->pend);
	wdp_sess_drop(c, 0);
	if (c->gcm)
		wdp_gcm_free(c);
	c->swi->freectx(c->sw);
	if (c->keep) {
		OPENSSL_cleanse(c->keep, c->keep_len);
		free(c->keep);
	}
	OPENSSL_cleanse(c, sizeof(*c));
	free(c);
}

/* An independent copy: same key, IV, stream position and buffered bytes;
 * its own default-provider context; no session (it opens its own). */
void *wdp_cctx_dup(void *vctx)
{
	const struct wdp_cctx *src = vctx;
	struct wdp_cctx *c = malloc(sizeof(*c));

	if (!c)
		return NULL;
	*c = *src;
	memset(&c->n, 0, sizeof(c->n));
	memset(&c->sess, 0, sizeof(c->sess));
	memset(&c->pend, 0, sizeof(c->pend));
	c->keep = NULL;
	c->keep_len = 0;
	c->gcm = NULL;
	c->sw = src->swi->dupctx(src->sw);
	if (!c->sw || (src->gcm && wdp_gcm_dup(c, src))) {
		if (c->sw)
			c->swi->freectx(c->sw);
		OPENSSL_cleanse(c, sizeof(*c));
		free(c);
		return NULL;
	}
	wdp_stats_attach(&c->prov->stats, c);
	return c;
}

int wdp_iv_pull(struct wdp_cctx *c)
{
	OSSL_PARAM p[2];

	p[0] = OSSL_PARAM_construct_octet_string(OSSL_CIPHER_PARAM_UPDATED_IV, c->iv, WDP_BLOCK);
	p[1] = OSSL_PARAM_construct_end();
	if (!c->swi->get_ctx_params(c->sw, p)) {
		wdp_raise(c->prov, WDP_R_OPERATION, "%s: the chain cannot be read back",
			  c->alg->name);
		return 0;
	}
	c->iv_in_sw = 0;
	return 1;
}

/* Key the default provider's context for the current direction. */
int wdp_sw_key(struct wdp_cctx *c)
{
	const uint8_t *iv = c->alg->mode == WDP_GCM ? NULL : c->iv;
	size_t ivlen = iv ? WDP_BLOCK : 0;
	int ok;

	if (!wdp_iv_here(c))
		return 0;
	if (c->enc)
		ok = c->swi->einit(c->sw, c->key, c->key_len, iv, ivlen, NULL);
	else
		ok = c->swi->dinit(c->sw, c->key, c->key_len, iv, ivlen, NULL);
	if (!ok)
		return 0;
	c->sw_dir = c->enc;
	c->sw_synced = c->alg->mode != WDP_GCM;
	return 1;
}

/* Bring the default provider's context to where this stream stands: same
 * direction and key, IV = c->iv, no partial keystream block (c->num is 0
 * whenever sw_synced is 0: queue runs end on a block boundary). */
int wdp_sw_sync(struct wdp_cctx *c)
{
	int ok;

	if (c->sw_dir != c->enc)
		return wdp_sw_key(c);
	if (!wdp_iv_here(c))
		return 0;
	if (c->enc)
		ok = c->swi->einit(c->sw, NULL, 0, c->iv, WDP_BLOCK, NULL);
	else
		ok = c->swi->dinit(c->sw, NULL, 0, c->iv, WDP_BLOCK, NULL);
	c->sw_synced = !!ok;
	return ok;
}

/*
 * EVP_CipherInit: a new key, a new IV, a new direction, or none of them
 * (restart the stream: CBC goes back to the IV as set, CTR keeps its
 * counter, as OpenSSL's own ciphers do).  The default provider's context
 * is keyed first: its checks (XTS halves that must differ, key lengths)
 * are the rules here too, and its errors go on the error stack.
 */
int wdp_cctx_init(struct wdp_cctx *c, const unsigned char *key, size_t keylen,
		  const unsigned char *iv, size_t ivlen, const OSSL_PARAM params[], int enc)
{
	int key_changed = 0;

	if (c->alg->mode == WDP_CTR)
		wdp_ctr_settle(c); /* a restart without an IV keeps the counter */
	if (!wdp_iv_here(c))
		return 0;
	c->enc = enc;
	wdp_set_threshold(c, c->prov->cfg.threshold[c->alg->mode][!!enc]);
	c->bufsz = 0;
	c->num = 0;
	c->sw_synced = 0;
	if (c->alg->mode != WDP_GCM && iv) {
		if (ivlen != WDP_BLOCK) {
			wdp_raise(c->prov, WDP_R_BAD_IV_LENGTH, "IV of %zu bytes (16 wanted)", ivlen);
			return 0;
		}
		memcpy(c->oiv, iv, WDP_BLOCK);
		memcpy(c->iv, iv, WDP_BLOCK);
		c->iv_set = 1;
	} else if (c->alg->mode == WDP_CBC && c->iv_set) {
		memcpy(c->iv, c->oiv, WDP_BLOCK);
	}
	if (key) {
		if (keylen != c->alg->key_len) {
			wdp_raise(c->prov, WDP_R_BAD_KEY_LENGTH, "%s takes %u-byte keys, not %zu",
				  c->alg->name, c->alg->key_len, keylen);
			return 0;
		}
		key_changed = !c->key_set || CRYPTO_memcmp(c->key, key, keylen);
		memcpy(c->key, key, keylen);
		c->key_set = 1;
		c->sw_dir = -1;
		if (!wdp_sw_key(c)) {
			c->key_set = 0;
			return 0;
		}
		if (key_changed) {
			wdp_sess_drop(c, 0);
			if (c->no_wd == WDP_WHY_KEY)
				c->no_wd = WDP_WHY__COUNT;
		}
	}
	if (c->alg->mode == WDP_GCM && !wdp_gcm_init(c, iv, ivlen, key_changed))
		return 0;
	if (!wdp_cctx_set_common(c, params))
		return 0;
	return 1;
}

/* ---- running a piece on a queue ---- */

static enum wdp_why why_of(int err)
{
	switch (err) {
	case -EOPNOTSUPP:
		return WDP_WHY_EOPNOTSUPP;
	case -EBUSY:
		return WDP_WHY_BUSY;
	case -EMSGSIZE:
		return WDP_WHY_SIZE;
	case -ENODEV:
	case -ENOENT:
	case -ECONNREFUSED:
		return WDP_WHY_NODEV;
	case -ENOMEM:
	case -EINVAL:
		return WDP_WHY_ERROR;
	default:
		return WDP_WHY_EIO;
	}
}

/* Open the context's session (its key on a device). */
static int sess_get(struct wdp_cctx *c, enum wdp_why *why)
{
	int ret;

	if (wdp_sess_live(c->prov, &c->sess))
		return 0;
	wdp_sess_drop(c, 0); /* a fork parent's */
	ret = wdp_sess_open(c->prov, &c->sess, c->alg->wd_alg, c->key, c->key_len);
	if (!ret)
		return 0;
	*why = why_of(ret);
	if (ret == -EOPNOTSUPP) {
		c->no_wd = *why = WDP_WHY_MODE; /* for good: the device lacks the mode */
	} else if (ret == -EINVAL && c->alg->mode == WDP_XTS) {
		c->no_wd = *why = WDP_WHY_KEY;  /* equal halves, allowed for decryption */
	}
	return ret;
}

/* In place on a device outside the process: keep the input, so that a
 * request the device fails half-way can be redone here. */
static int keep_input(struct wdp_cctx *c, const struct wdp_op *op)
{
	/* a GCM part with no text (a message's end) names no buffer at all */
	if (!op->len || op->in != op->out || c->sess.wq->in_process || c->sess.wq->bounce ||
	    !c->prov->cfg.fallback)
		return 0;
	if (c->keep_len < op->len) {
		uint8_t *k = realloc(c->keep, op->len);

		if (!k)
			return -ENOMEM;
		c->keep = k;
		c->keep_len = op->len;
	}
	memcpy(c->keep, op->in, op->len);
	return 1;
}

static int fail(struct wdp_cctx *c, int err, const char *what)
{
	char dev[WD_NAME_MAX + 8];

	if (err != -EBADMSG) /* a tag that does not match is a verdict, not a failure */
		wdp_bump(&c->n.errors, 1);
	wdp_pool_device(c->prov, dev, sizeof(dev));
	wdp_raise(c->prov, err == -EBADMSG ? WDP_R_BAD_DECRYPT : WDP_R_DEVICE_FAILED,
		  "%s: %s (device %s: %s)", c->alg->name, what, dev, wd_strerror(err));
	return 0;
}

int wdp_run_queue(struct wdp_cctx *c, const struct wdp_op *op, enum wdp_why *why)
{
	int ret, touched, kept, tries = 0;

again:
	ret = sess_get(c, why);
	if (ret)
		goto fallback;
	kept = keep_input(c, op);
	if (kept < 0) {
		ret = kept;
		*why = WDP_WHY_ERROR;
		goto fallback;
	}
	ret = wdp_req_run(c->prov, &c->sess, op, &touched, &c->pend, &c->n);
	if (!ret)
		return 1;
	if (ret == -ECHILD && !tries++) {
		/* a fork parent's queue: open one of our own; a job resumed in
		 * the child may find its output half written in place */
		wdp_sess_drop(c, 0);
		if (touched && op->in == op->out) {
			if (!kept)
				return fail(c, ret, "in place across a fork, input lost");
			memcpy((uint8_t *)op->out, c->keep, op->len);
		}
		goto again;
	}
	if (ret == -EBADMSG)
		return fail(c, ret, "tag check failed"); /* a verdict, not a failure */
	*why = why_of(ret);
	/* a device that failed takes no new sessions; this one is dropped */
	wdp_sess_drop(c, *why == WDP_WHY_EIO);
	if (touched && op->in == op->out) {
		if (!kept)
			return fail(c, ret, "failed in place, input lost");
		memcpy((uint8_t *)op->out, c->keep, op->len);
	}
fallback:
	if (!c->prov->cfg.fallback)
		return fail(c, ret, "the request failed and fallback is off");
	return -1;
}

/* ---- one-shot EVP_Cipher() for the stream modes ---- */

int wdp_cipher_oneshot(void *vctx, unsigned char *out, size_t *outl, size_t outsize,
		       const unsigned char *in, size_t inl)
{
	struct wdp_cctx *c = vctx;

	switch (c->alg->mode) {
	case WDP_CBC:
		return wdp_cbc_update(vctx, out, outl, outsize, in, inl);
	case WDP_CTR:
		return wdp_ctr_update(vctx, out, outl, outsize, in, inl);
	case WDP_XTS:
		return wdp_xts_update(vctx, out, outl, outsize, in, inl);
	default:
		return wdp_gcm_cipher(vctx, out, outl, outsize, in, inl);
	}
}
