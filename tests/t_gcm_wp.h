/* Wycheproof AES-GCM cases through a queue, shared by the soft-device and
 * daemon tests: one request each way (INIT | FINAL), header and text in a
 * buffer the queue reaches at addr(). */
#ifndef T_GCM_WP_H
#define T_GCM_WP_H

#include "t_gcm.h"
#include "t_wycheproof.h"

/* Layout of the buffer (T_GCM_WP_MEM bytes): header, source, destination. */
#define T_GCM_WP_HDR 0
#define T_GCM_WP_SRC 2048
#define T_GCM_WP_DST 4096
#define T_GCM_WP_MEM 8192

struct t_gcm_tally {
	unsigned cases, valid, invalid, badmsg, badiv;
};

static inline int t_gcm_wp_req(struct wd_queue *q, struct wd_cipher_sess *s,
			       const struct t_wp_case *c, uint8_t *mem, t_addr_fn addr, void *arg,
			       int enc, int in_place)
{
	const struct t_wp_bytes *in = enc ? &c->msg : &c->ct;
	uint8_t *h = mem + T_GCM_WP_HDR, *src = mem + T_GCM_WP_SRC;
	uint8_t *dst = in_place ? src : mem + T_GCM_WP_DST;
	size_t tl = c->tag.len;
	struct wd_req r;

	T_ASSERT(c->iv.len + c->aad.len + tl <= T_GCM_WP_SRC && in->len <= 2048);
	memcpy(h, c->iv.p, c->iv.len);
	memcpy(h + c->iv.len, c->aad.p, c->aad.len);
	memset(h + c->iv.len + c->aad.len, 0x5a, tl);
	if (!enc)
		memcpy(h + c->iv.len + c->aad.len, c->tag.p, tl);
	memcpy(src, in->p, in->len);
	if (!in_place)
		memset(dst, 0xa5, 2048);
	wd_prep_aead(&r, enc ? WD_OP_ENCRYPT : WD_OP_DECRYPT, s,
		     WD_AEAD_P_INIT | WD_AEAD_P_FINAL | WD_AEAD_P_IVLEN(c->iv.len) |
			     WD_AEAD_P_TAGLEN(tl),
		     addr(h, arg), (uint32_t)c->aad.len, in->len ? addr(src, arg) : 0,
		     in->len ? addr(dst, arg) : 0, (uint32_t)in->len);
	r.tag = (uint64_t)c->tc_id;
	return t_run(q, &r).status;
}

/* One case, encrypted and decrypted, out of place or in place; every
 * invalid case must be refused with no plaintext in the destination. */
static inline void t_gcm_wp_case(struct wd_queue *q, struct wd_cipher_sess *s,
				 const struct t_wp_case *c, uint8_t *mem, t_addr_fn addr,
				 void *arg, int in_place, struct t_gcm_tally *t)
{
	uint8_t *src = mem + T_GCM_WP_SRC, *dst = in_place ? src : mem + T_GCM_WP_DST;
	uint8_t *slot = mem + T_GCM_WP_HDR + c->iv.len + c->aad.len;
	int st;

	t->cases++;
	st = t_gcm_wp_req(q, s, c, mem, addr, arg, 1, in_place);
	if (!c->iv.len) {
		/* SP 800-38D: an IV has at least one bit; nothing is written */
		if (st != -EINVAL || (!in_place && dst[0] != 0xa5))
			T_FAIL("tcId %d (%s): encryption with an empty IV: %d", c->tc_id,
			       c->comment, st);
	} else {
		if (st)
			T_FAIL("tcId %d (%s): encryption: %d (%s)", c->tc_id, c->comment, st,
			       wd_strerror(st));
		if (c->result == T_WP_VALID &&
		    (memcmp(dst, c->ct.p, c->ct.len) || memcmp(slot, c->tag.p, c->tag.len)))
			T_FAIL("tcId %d (%s): ciphertext or tag differs", c->tc_id, c->comment);
		if (c->result == T_WP_INVALID && !memcmp(slot, c->tag.p, c->tag.len))
			T_FAIL("tcId %d (%s): an invalid case's tag was produced", c->tc_id,
			       c->comment);
	}
	st = t_gcm_wp_req(q, s, c, mem, addr, arg, 0, in_place);
	if (c->result == T_WP_VALID) {
		t->valid++;
		if (st || memcmp(dst, c->msg.p, c->msg.len))
			T_FAIL("tcId %d (%s): decryption: %d or wrong text", c->tc_id, c->comment,
			       st);
		return;
	}
	t->invalid++;
	if (!c->iv.len) {
		if (st != -EINVAL || (!in_place && dst[0] != 0xa5) ||
		    (in_place && c->ct.len && memcmp(src, c->ct.p, c->ct.len)))
			T_FAIL("tcId %d (%s): decryption with an empty IV: %d", c->tc_id,
			       c->comment, st);
		t->badiv++;
		return;
	}
	if (st != -EBADMSG || !t_all_zero(dst, c->ct.len))
		T_FAIL("tcId %d (%s): invalid case: status %d, output %s", c->tc_id, c->comment,
		       st, t_all_zero(dst, c->ct.len) ? "zeroed" : "RELEASED");
	t->badmsg++;
}

static inline void t_gcm_tally_print(const char *what, const struct t_gcm_tally *t)
{
	printf("%s: %u cases: %u valid matched, %u invalid refused (%u -EBADMSG with the "
	       "output zeroed, %u -EINVAL for an empty IV)\n",
	       what, t->cases, t->valid, t->invalid, t->badmsg, t->badiv);
	T_EQ(t->valid + t->invalid, t->cases);
	T_EQ(t->badmsg + t->badiv, t->invalid);
}

#endif
