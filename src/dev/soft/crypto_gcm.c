/* SPDX-License-Identifier: MIT */
/*
 * AES-GCM on the soft engine (the request contract is in wd/crypto.h):
 * OpenSSL's default provider from the engine's own library context, called
 * through its functions (evp.c: without EVP's per-call parameter lookups,
 * about 1,000 instructions a message), one context per session keyed once,
 * its direction set by each message's first part.
 *
 * A message may span requests of one session, served in ring order, so the
 * session keeps where its message stands (struct gcm_msg, the engine's half
 * of the table: crypto_int.h): open or not, which direction, whether text
 * came (AAD must come first).  Every field of a request is checked before
 * anything is read or written, and any error closes the message: a later
 * part must start again with INIT.  Requests are hostile input: lengths are
 * bounded before they are added, the header is reached through the same
 * rules as the text (ops.c, soft_side_get) and may not overlap it.
 *
 * A decryption whose tag does not match (the provider's own comparison,
 * after the tag is set as a parameter) has the request's text output zeroed before its
 * completion is posted; through the daemon the zeroes are what goes back.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <wd/crypto.h>

#include "crypto_int.h"

/* OpenSSL's GCM takes IVs up to 128 bytes (GCM_IV_MAX_SIZE in 3.0); longer
 * ones are folded into an equivalent 16-byte IV (soft_gcm_fold_iv). */
#define GCM_PROV_IV_MAX 128u
/* SP 800-38D: at most 2^39 - 256 bits of text per message */
#define GCM_TEXT_MAX ((1ull << 36) - 32)
#define GCM_P_KNOWN (WD_AEAD_P_INIT | WD_AEAD_P_FINAL | WD_AEAD_P_TAGLEN(0x1f) | \
		     WD_AEAD_P_IVLEN(0xffff))

/* ---- GF(2^128) as GCM orders it: the first bit is the most significant
 * of byte 0, held as two big-endian words.  Masks, no branches on data:
 * the GHASH key is secret. ---- */

static void gf_mul(uint64_t z[2], const uint64_t x[2], const uint64_t y[2])
{
	uint64_t v0 = y[0], v1 = y[1], z0 = 0, z1 = 0, bit, lsb;
	unsigned i;

	for (i = 0; i < 128; i++) {
		bit = (i < 64 ? x[0] >> (63 - i) : x[1] >> (127 - i)) & 1;
		z0 ^= v0 & -bit;
		z1 ^= v1 & -bit;
		lsb = v1 & 1;
		v1 = (v1 >> 1) | (v0 << 63);
		v0 = (v0 >> 1) ^ (0xe100000000000000ull & -lsb);
	}
	z[0] = z0;
	z[1] = z1;
}

static void gf_load(uint64_t x[2], const uint8_t *b)
{
	unsigned i;

	x[0] = x[1] = 0;
	for (i = 0; i < 16; i++)
		x[i / 8] = (x[i / 8] << 8) | b[i];
}

void soft_gcm_inverse(const uint64_t h[2], uint64_t hinv[2])
{
	/* h^(2^128 - 2): the exponent's bits are 127 ones and a zero */
	uint64_t r[2] = { 1ull << 63, 0 }; /* the field's one */
	int i;

	for (i = 127; i >= 0; i--) {
		gf_mul(r, r, r);
		if (i)
			gf_mul(r, r, h);
	}
	hinv[0] = r[0];
	hinv[1] = r[1];
}

/*
 * GCM depends on its IV only through the first counter block J0, which for
 * an IV that is not 12 bytes is GHASH_H(IV || 0-pad || [0]64 || [8n]64).
 * A 16-byte IV' gives J0' = ((IV' * H) ^ L) * H with L = [0]64 || [128]64,
 * so IV' = ((J0 * H^-1) ^ L) * H^-1 gives J0' = J0: the same message.
 * (H = 0 makes every J0 zero, and the formula gives IV' = 0, as good.)
 */
void soft_gcm_fold_iv(const uint64_t h[2], const uint64_t hinv[2], const uint8_t *iv, size_t n,
		      uint8_t out[16])
{
	uint64_t y[2] = { 0, 0 }, x[2];
	uint8_t blk[16];
	size_t off, k;
	unsigned i;

	for (off = 0; off < n; off += 16) {
		k = n - off < 16 ? n - off : 16;
		memset(blk, 0, sizeof(blk));
		memcpy(blk, iv + off, k);
		gf_load(x, blk);
		x[0] ^= y[0];
		x[1] ^= y[1];
		gf_mul(y, x, h);
	}
	x[0] = y[0];
	x[1] = y[1] ^ ((uint64_t)n * 8);
	gf_mul(y, x, h);                /* J0 */
	gf_mul(x, y, hinv);
	x[1] ^= 128;
	gf_mul(y, x, hinv);             /* IV' */
	for (i = 0; i < 16; i++)
		out[i] = (uint8_t)(y[i / 8] >> (56 - 8 * (i % 8)));
}

/* ---- sessions ---- */

void soft_gcm_reset(struct cipher_ctx *x)
{
	OPENSSL_cleanse(&x->gcm, sizeof(x->gcm)); /* the GHASH key is the key's */
}

int soft_gcm_key(struct cipher_ctx *x, const struct wd_cipher_setup *cs)
{
	if (!x->pref)
		x->pref = soft_evp_plain(cs->alg, cs->key_len, &x->pf);
	if (!x->pref)
		return -EIO;
	if (!x->pctx[1])
		x->pctx[1] = soft_pctx_new(&x->pf);
	if (!x->pctx[1])
		return -ENOMEM;
	/* one context serves both directions: each message's INIT sets it */
	return soft_pctx_key(&x->pf, x->pctx[1], 1, cs->key, cs->key_len) ? 0 : -EIO;
}

/* H = E_K(0^128) and its inverse, for long IVs only: the key is fetched
 * from the slot again, if it is still the one the context was keyed with. */
static int gcm_hkey(struct soft_cipher *sc, unsigned id, struct cipher_ctx *x)
{
	static const uint8_t zero[16];
	struct wd_cipher_setup cs;
	EVP_CIPHER_CTX *ecb;
	uint8_t h[16];
	int n = 0, ret;

	if (x->gcm.h_ok)
		return 0;
	ret = soft_cipher_setup_at(sc, id, x->gen, &cs);
	if (ret)
		return ret;
	ecb = EVP_CIPHER_CTX_new();
	ret = ecb ? -EIO : -ENOMEM;
	if (ecb && EVP_EncryptInit_ex(ecb, soft_evp_ecb(cs.key_len), NULL, cs.key, NULL) &&
	    EVP_CIPHER_CTX_set_padding(ecb, 0) && EVP_EncryptUpdate(ecb, h, &n, zero, 16) &&
	    n == 16) {
		gf_load(x->gcm.h, h);
		soft_gcm_inverse(x->gcm.h, x->gcm.hinv);
		x->gcm.h_ok = 1;
		ret = 0;
	}
	EVP_CIPHER_CTX_free(ecb);
	OPENSSL_cleanse(&cs, sizeof(cs));
	OPENSSL_cleanse(h, sizeof(h));
	return ret;
}

/* ---- requests ---- */

/* One request's part of the message, from its param and arg0. */
struct gcm_part {
	int init, final;
	uint32_t iv_len, tag_len;
	uint64_t aad_len, hdr_len, total;
};

static int gcm_parse(const wd_sqe *e, uint64_t total, struct gcm_part *g)
{
	uint32_t p = e->param;

	if (p & ~GCM_P_KNOWN)
		return -EINVAL;
	g->init = !!(p & WD_AEAD_P_INIT);
	g->final = !!(p & WD_AEAD_P_FINAL);
	g->iv_len = WD_AEAD_P_IVLEN_OF(p);
	g->tag_len = WD_AEAD_P_TAGLEN_OF(p);
	/* an IV length with INIT only, a tag length with FINAL only */
	if (g->init ? g->iv_len < 1 || g->iv_len > WD_AEAD_IV_MAX : g->iv_len != 0)
		return -EINVAL;
	if (g->final ? g->tag_len < 4 || g->tag_len > WD_AEAD_TAG_MAX : g->tag_len != 0)
		return -EINVAL;
	/* bounded before they are added */
	if (e->arg0 > WD_CIPHER_LEN_MAX || total > WD_CIPHER_LEN_MAX)
		return -EMSGSIZE;
	g->aad_len = e->arg0;
	g->total = total;
	g->hdr_len = g->iv_len + g->aad_len + g->tag_len;
	/* no header: its address is an unused field */
	return !g->hdr_len && e->arg1 ? -EINVAL : 0;
}

/* Does the part fit the session's message? */
static int gcm_in_order(const struct gcm_msg *m, const struct gcm_part *g, int enc)
{
	if (!g->init && (!m->open || m->enc != enc))
		return -EINVAL; /* no message, or one of the other direction */
	if (!g->init && g->aad_len && m->text)
		return -EINVAL; /* AAD after text */
	if (g->total > GCM_TEXT_MAX - (g->init ? 0 : m->text_len))
		return -EMSGSIZE;
	return 0;
}

/* Does [p, p+len) meet any segment of l? */
static int meets(const struct soft_seg_list *l, uintptr_t p, uint64_t len)
{
	uint32_t i;

	for (i = 0; i < l->n; i++) {
		uintptr_t a = (uintptr_t)l->v[i].p;

		if (len && l->v[i].len && a < p + len && p < a + l->v[i].len)
			return 1;
	}
	return 0;
}

/* The header, reached like the text, must lie apart from it (compared on
 * the client's addresses for remote SVA, as the text's own overlap is). */
static int gcm_header(struct soft_queue *sq, struct soft_scratch *s, const wd_sqe *e,
		      const struct gcm_part *g, int enc, const struct soft_seg_list *lists,
		      uint8_t **hdr)
{
	const struct soft_seg_list *in = &lists[0], *out = &lists[1];
	uintptr_t p;
	int ret;

	*hdr = NULL;
	if (!g->hdr_len)
		return 0;
	if (g->hdr_len > sq->max_len)
		return -EMSGSIZE;
	/* an encryption's FINAL writes the tag: the header must be writable */
	ret = soft_side_get(sq, s, e->arg1, g->hdr_len, enc && g->final, (void **)hdr);
	if (ret)
		return ret;
	if (sq->remote_mem >= 0) {
		in = &lists[2];
		out = &lists[3];
		p = (uintptr_t)e->arg1;
	} else {
		p = (uintptr_t)*hdr;
	}
	return meets(in, p, g->hdr_len) || meets(out, p, g->hdr_len) ? -EINVAL : 0;
}

/* A new message: its IV (folded first when OpenSSL would refuse its
 * length), its direction. */
static int gcm_start(struct soft_queue *sq, const wd_sqe *e, struct cipher_ctx *x,
		     const uint8_t *iv, uint32_t n, int enc)
{
	struct gcm_msg *m = &x->gcm;
	uint8_t folded[16];
	int ret;

	if (n > GCM_PROV_IV_MAX) {
		ret = gcm_hkey(sq->cipher, e->session, x);
		if (ret)
			return ret;
		soft_gcm_fold_iv(m->h, m->hinv, iv, n, folded);
		iv = folded;
		n = sizeof(folded);
	}
	/* the IV and its length together, and the direction */
	if (!x->pf.init[!!enc](x->pctx[1], NULL, 0, iv, n, NULL))
		return -EIO;
	m->open = 1;
	m->enc = (uint8_t)enc;
	m->text = 0;
	m->text_len = 0;
	return 0;
}

/* Text through the provider's update (a step: soft_pstep). */
static int gcm_text(struct soft_pstep *st, const struct soft_io *io,
		    const struct soft_seg_list *lists, uint64_t total)
{
	if (!total)
		return 0;
	if (!io->src_segs && !io->dst_segs)
		return soft_pstep_run(st, io->dst, io->src, total) ? 0 : -EIO;
	return soft_run_segments(soft_pstep_run, st, &lists[0], &lists[1], total, 1);
}

/* Zero total bytes of the output (a decryption that failed its tag). */
static void zero_out(const struct soft_seg_list *out, uint64_t total)
{
	uint64_t k;
	uint32_t i;

	for (i = 0; i < out->n && total; i++) {
		k = out->v[i].len < total ? out->v[i].len : total;
		memset(out->v[i].p, 0, k);
		total -= k;
	}
}

/* The message's end: an encryption's tag written into the slot (and sent
 * back to the client), a decryption's checked by the provider itself. */
static int gcm_finish(struct soft_queue *sq, struct soft_scratch *s,
		      const struct soft_pcipher *pf, void *pctx, uint8_t *slot,
		      uint64_t slot_off, uint32_t tag_len, int enc)
{
	uint8_t tag[WD_AEAD_TAG_MAX], none[16];
	OSSL_PARAM p[2] = { OSSL_PARAM_END, OSSL_PARAM_END };
	size_t n = 0;

	p[0] = OSSL_PARAM_construct_octet_string(OSSL_CIPHER_PARAM_AEAD_TAG, tag, tag_len);
	if (enc) {
		if (!pf->final(pctx, none, &n, sizeof(none)) || !pf->get_params(pctx, p))
			return -EIO;
		memcpy(slot, tag, tag_len);
		return soft_side_wrote(sq, s, slot_off, tag_len);
	}
	/* one copy of the expected tag: the slot is the caller's memory */
	memcpy(tag, slot, tag_len);
	if (!pf->set_params(pctx, p))
		return -EIO;
	if (!pf->final(pctx, none, &n, sizeof(none))) {
		ERR_clear_error(); /* a failed check is no library error to keep */
		return -EBADMSG;
	}
	return 0;
}

/* Checks done, header in hand: run the part. */
static int gcm_part_run(struct soft_queue *sq, struct soft_scratch *s, const wd_sqe *e,
			const struct soft_io *io, struct cipher_ctx *x, const struct gcm_part *g,
			uint8_t *hdr, const struct soft_seg_list *lists, int enc)
{
	struct soft_pstep st = { x->pf.update, x->pctx[1] };
	struct gcm_msg *m = &x->gcm;
	size_t n;
	int ret;

	if (g->init) {
		ret = gcm_start(sq, e, x, hdr, g->iv_len, enc);
		if (ret)
			return ret;
	}
	/* AAD: out NULL */
	if (g->aad_len && !x->pf.update(st.pctx, NULL, &n, g->aad_len, hdr + g->iv_len, g->aad_len))
		return -EIO;
	ret = gcm_text(&st, io, lists, g->total);
	if (ret)
		return ret;
	m->text |= g->total != 0;
	m->text_len += g->total;
	if (!g->final)
		return 0;
	m->open = 0;
	ret = gcm_finish(sq, s, &x->pf, st.pctx, hdr + g->iv_len + g->aad_len,
			 g->iv_len + g->aad_len, g->tag_len, enc);
	if (ret == -EBADMSG)
		zero_out(&lists[1], g->total);
	return ret;
}

int soft_gcm_run(struct soft_queue *sq, struct soft_scratch *s, const wd_sqe *e,
		 const struct soft_io *io, wd_cqe *c, struct cipher_ctx *x, int enc)
{
	uint64_t total = io->src_segs ? io->src_total : e->len;
	uint64_t room = io->dst_segs ? io->dst_total : total;
	struct soft_seg_list lists[4]; /* in, out; the client's in, out */
	struct gcm_part g;
	uint8_t *hdr;
	int ret;

	ret = gcm_parse(e, total, &g);
	if (!ret)
		ret = gcm_in_order(&x->gcm, &g, enc);
	if (!ret && room < total)
		ret = -EINVAL; /* the output is as long as the input */
	if (!ret)
		ret = soft_text_lists(sq, e, io, total, &lists[0], &lists[1], &lists[2], &lists[3]);
	if (!ret)
		ret = gcm_header(sq, s, e, &g, enc, lists, &hdr);
	/* AAD costs the engine like text: it counts against the queue's turn
	 * (a request of 16 MiB of AAD and no text is no cheap request) */
	if (!ret)
		s->src_bytes += g.aad_len;
	if (!ret)
		ret = gcm_part_run(sq, s, e, io, x, &g, hdr, lists, enc);
	if (ret) {
		x->gcm.open = 0; /* any error ends the message */
		return ret;
	}
	c->result = total;
	return 0;
}
