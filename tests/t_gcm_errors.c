/* AES-GCM requests as hostile input on the soft device (SVA and explicit):
 * every malformed part is refused with the documented status, the queue
 * goes on, and any error closes the session's message (a later part
 * without INIT is refused).  Parameter bits, IV and tag lengths, lengths
 * that would overflow, header addresses (NULL, kernel, wrapping, not
 * shared, read-only for a tag), a header overlapping the text, AAD after
 * text, no open message, a direction change, a session closed or replaced
 * mid-message, AEAD fields on a session of another mode. */
#include <wd/mem.h>
#include "core/internal.h"
#include "t_gcm.h"
#include "t_mem_helpers.h"

static uint8_t key[32] = { 9, 8, 7 }, iv[12] = { 1, 2, 3 };
static uint8_t hdr[4096] __attribute__((aligned(64))), buf[8192], out[8192];

#define P_INIT (WD_AEAD_P_INIT | WD_AEAD_P_IVLEN(12))
#define P_FINAL (WD_AEAD_P_FINAL | WD_AEAD_P_TAGLEN(16))

static int run(struct wd_queue *q, struct wd_cipher_sess *s, uint8_t op, uint32_t p,
	       uint64_t h, uint64_t aad, uint64_t src, uint64_t dst, uint32_t len)
{
	struct wd_req r;

	wd_prep_aead(&r, op, s, p, h, 0, src, dst, len);
	r.arg0 = aad;
	r.tag = 0x6c;
	return t_run(q, &r).status;
}

static void expect(struct wd_queue *q, struct wd_cipher_sess *s, uint32_t p, uint64_t h,
		   uint64_t aad, uint64_t src, uint64_t dst, uint32_t len, int want,
		   const char *what)
{
	int st = run(q, s, WD_OP_ENCRYPT, p, h, aad, src, dst, len);

	if (st != want)
		T_FAIL("%s: status %d (%s), expected %d", what, st, wd_strerror(st), want);
}

/* A message opened, then the bad part, then a continuation: refused
 * because the bad part closed the message. */
static void closes(struct wd_queue *q, struct wd_cipher_sess *s, uint32_t p, uint64_t h,
		   uint64_t aad, uint64_t src, uint64_t dst, uint32_t len, int want,
		   const char *what)
{
	memcpy(hdr, iv, 12);
	expect(q, s, P_INIT, (uintptr_t)hdr, 0, 0, 0, 0, 0, "opening a message");
	expect(q, s, p, h, aad, src, dst, len, want, what);
	expect(q, s, 0, 0, 0, (uintptr_t)buf, (uintptr_t)out, 16, -EINVAL,
	       "a part after an error");
}

static void params(struct wd_queue *q, struct wd_cipher_sess *s)
{
	uint64_t h = (uintptr_t)hdr, b = (uintptr_t)buf, o = (uintptr_t)out;
	unsigned bit;

	memcpy(hdr, iv, 12);
	for (bit = 2; bit < 8; bit++)
		closes(q, s, 1u << bit, 0, 0, b, o, 16, -EINVAL, "an unknown param bit");
	for (bit = 13; bit < 16; bit++)
		closes(q, s, 1u << bit, 0, 0, b, o, 16, -EINVAL, "an unknown param bit");
	closes(q, s, WD_AEAD_P_INIT, h, 0, b, o, 16, -EINVAL, "INIT with no IV length");
	closes(q, s, WD_AEAD_P_INIT | WD_AEAD_P_IVLEN(WD_AEAD_IV_MAX + 1), h, 0, b, o, 16,
	       -EINVAL, "an IV longer than WD_AEAD_IV_MAX");
	closes(q, s, WD_AEAD_P_INIT | WD_AEAD_P_IVLEN(0xffff), h, 0, b, o, 16, -EINVAL,
	       "an IV length of 65535");
	closes(q, s, WD_AEAD_P_IVLEN(12), h, 0, b, o, 16, -EINVAL, "an IV length without INIT");
	closes(q, s, WD_AEAD_P_FINAL, h, 0, b, o, 16, -EINVAL, "FINAL with no tag length");
	closes(q, s, WD_AEAD_P_FINAL | WD_AEAD_P_TAGLEN(3), h, 0, b, o, 16, -EINVAL,
	       "a 3-byte tag");
	closes(q, s, WD_AEAD_P_FINAL | WD_AEAD_P_TAGLEN(17), h, 0, b, o, 16, -EINVAL,
	       "a 17-byte tag");
	closes(q, s, WD_AEAD_P_FINAL | WD_AEAD_P_TAGLEN(31), h, 0, b, o, 16, -EINVAL,
	       "a 31-byte tag");
	closes(q, s, WD_AEAD_P_TAGLEN(16), h, 0, b, o, 16, -EINVAL, "a tag length without FINAL");
	closes(q, s, 0, h, 0, b, o, 16, -EINVAL, "a header address with no header");
}

static void lengths(struct wd_queue *q, struct wd_cipher_sess *s)
{
	uint64_t h = (uintptr_t)hdr, b = (uintptr_t)buf, o = (uintptr_t)out;

	closes(q, s, 0, h, WD_CIPHER_LEN_MAX + 1ull, b, o, 16, -EMSGSIZE, "AAD over the limit");
	closes(q, s, 0, h, ~0ull, b, o, 16, -EMSGSIZE, "AAD of 2^64 - 1 (would wrap)");
	closes(q, s, 0, h, ~0ull - 11, b, o, 16, -EMSGSIZE, "AAD + IV + tag wrapping");
	closes(q, s, P_INIT | P_FINAL, h, 1ull << 40, b, o, 16, -EMSGSIZE, "AAD of 1 TiB");
	closes(q, s, 0, 0, 0, b, o, WD_CIPHER_LEN_MAX + 1, -EMSGSIZE, "text over the limit");
}

static void addresses(struct wd_queue *q, struct wd_cipher_sess *s)
{
	uint64_t b = (uintptr_t)buf, o = (uintptr_t)out, h = (uintptr_t)hdr;

	closes(q, s, P_INIT, 0, 0, b, o, 16, -EFAULT, "a NULL header");
	closes(q, s, 0, 0, 4, b, o, 16, -EFAULT, "AAD at NULL");
	closes(q, s, P_INIT, 0xffff800000000000ull, 0, b, o, 16, -EFAULT, "a kernel header");
	closes(q, s, P_FINAL, (1ull << 47) - 8, 0, b, o, 16, -EFAULT,
	       "a tag slot past the end of user space");
	closes(q, s, 0, ~0ull - 2, 8, b, o, 16, -EFAULT, "a header wrapping around");
	/* overlap with the text, either side, and with a segment of a table */
	closes(q, s, P_INIT, b + 8, 0, b, o, 16, -EINVAL, "the header inside the source");
	closes(q, s, P_FINAL, o - 8, 0, b, o, 16, -EINVAL, "the tag slot over the destination");
	closes(q, s, 0, b + 15, 1, b, b, 16, -EINVAL, "AAD inside in-place text");
	{
		struct wd_range t[2] = { { b, 100 }, { b + 1000, 100 } };
		struct wd_req r;

		memcpy(hdr, iv, 12);
		expect(q, s, P_INIT, h, 0, 0, 0, 0, 0, "opening");
		wd_prep_aead(&r, WD_OP_ENCRYPT, s, P_FINAL, b + 1050, 0, (uintptr_t)t, o, 2);
		r.flags = WD_REQ_F_SRC_SG;
		r.tag = 1;
		T_EQ(t_run(q, &r).status, -EINVAL); /* the tag inside a source segment */
	}
	/* a bad text address mid-message: the engine never runs the part, and
	 * the message closes all the same */
	closes(q, s, 0, 0, 0, 0, o, 16, -EFAULT, "a NULL source mid-message");
	closes(q, s, 0, 0, 0, b, 0xffff800000000000ull, 16, -EFAULT, "a kernel destination");
}

static void order(struct wd_queue *q, struct wd_cipher_sess *s)
{
	uint64_t h = (uintptr_t)hdr, b = (uintptr_t)buf, o = (uintptr_t)out;

	expect(q, s, 0, 0, 0, b, o, 16, -EINVAL, "text with no message open");
	expect(q, s, P_FINAL, h, 0, b, o, 16, -EINVAL, "FINAL with no message open");
	memcpy(hdr, iv, 12);
	expect(q, s, P_INIT, h, 0, 0, 0, 0, 0, "INIT alone");
	expect(q, s, 0, h, 4, 0, 0, 0, 0, "AAD in a part of its own");
	expect(q, s, 0, h, 4, b, o, 16, 0, "AAD and text");
	memcpy(hdr, iv, 12);
	expect(q, s, P_INIT, h, 0, b, o, 16, 0, "INIT with text");
	expect(q, s, 0, h, 4, 0, 0, 0, -EINVAL, "AAD after text");
	expect(q, s, 0, 0, 0, b, o, 16, -EINVAL, "the message closed");
	/* the other direction mid-message */
	expect(q, s, P_INIT, h, 0, 0, 0, 0, 0, "INIT");
	T_EQ(run(q, s, WD_OP_DECRYPT, 0, 0, 0, b, o, 16), -EINVAL);
	expect(q, s, 0, 0, 0, b, o, 16, -EINVAL, "the message closed");
	/* a failed tag closes it too */
	T_EQ(run(q, s, WD_OP_DECRYPT, P_INIT, h, 0, b, o, 16), 0);
	memset(hdr, 0, 16);
	T_EQ(run(q, s, WD_OP_DECRYPT, P_FINAL, h, 0, b, o, 16), -EBADMSG);
	T_ASSERT(t_all_zero(out, 16));
	T_EQ(run(q, s, WD_OP_DECRYPT, 0, 0, 0, b, o, 16), -EINVAL);
	/* reserved fields and unknown flags */
	{
		struct wd_req r;

		expect(q, s, P_INIT, h, 0, 0, 0, 0, 0, "INIT");
		wd_prep_aead(&r, WD_OP_ENCRYPT, s, 0, 0, 0, b, o, 16);
		r.rsvd = 1;
		r.tag = 2;
		T_EQ(t_run(q, &r).status, -EINVAL);
		expect(q, s, 0, 0, 0, b, o, 16, -EINVAL, "closed by a reserved field");
		expect(q, s, P_INIT, h, 0, 0, 0, 0, 0, "INIT");
		wd_prep_aead(&r, WD_OP_ENCRYPT, s, 0, 0, 0, b, o, 16);
		r.dst_len = 16;
		T_EQ(t_run(q, &r).status, -EINVAL);
		expect(q, s, 0, 0, 0, b, o, 16, -EINVAL, "closed by dst_len");
	}
}

/* INIT drops an open message: the new one is what EVP makes of it. */
static void restart(struct wd_queue *q, struct wd_cipher_sess *s)
{
	uint8_t want[64], tag[16], iv2[12] = { 7 };
	uint64_t h = (uintptr_t)hdr;

	memcpy(hdr, iv, 12);
	expect(q, s, P_INIT, h, 0, (uintptr_t)buf, (uintptr_t)out, 32, 0, "a first message");
	memcpy(hdr, iv2, 12);
	memcpy(hdr + 12, "aad!", 4);
	expect(q, s, P_INIT | P_FINAL, h, 4, (uintptr_t)buf, (uintptr_t)out, 64, 0,
	       "INIT again, whole");
	t_gcm_evp_run(key, 16, iv2, 12, (const uint8_t *)"aad!", 4, buf, want, 64, tag, 16, 1);
	T_ASSERT(!memcmp(out, want, 64) && !memcmp(hdr + 16, tag, 16));
}

/* Closed mid-message, and the id given to a new session: no part of the
 * old message goes on, under either. */
static void closed_mid(struct wd_queue *q)
{
	struct wd_cipher_sess *s = t_sess(q, WD_CIPHER_AES_GCM, key, 16), *s2;
	uint16_t id = wd_cipher_sess_id(s);
	struct wd_req r;

	memcpy(hdr, iv, 12);
	expect(q, s, P_INIT, (uintptr_t)hdr, 0, (uintptr_t)buf, (uintptr_t)out, 16, 0, "INIT");
	wd_cipher_sess_free(s);
	wd_prep_aead(&r, WD_OP_ENCRYPT, NULL, 0, 0, 0, (uintptr_t)buf, (uintptr_t)out, 16);
	r.session = id;
	r.tag = 3;
	T_EQ(t_run(q, &r).status, -EINVAL);
	s2 = t_sess(q, WD_CIPHER_AES_GCM, key, 16);
	T_EQ(wd_cipher_sess_id(s2), id);
	expect(q, s2, 0, 0, 0, (uintptr_t)buf, (uintptr_t)out, 16, -EINVAL,
	       "the old message under a new session");
	/* closed and set again (the driver's hook, as the library would for a
	 * new session) while the engine is busy: it meets the new key only,
	 * and the old message is not the new session's */
	memcpy(hdr, iv, 12);
	expect(q, s2, P_INIT, (uintptr_t)hdr, 0, (uintptr_t)buf, (uintptr_t)out, 16, 0, "INIT");
	{
		struct wd_cipher_setup cs = { .alg = WD_CIPHER_AES_GCM, .key_len = 16 };
		struct wd_cpl c;

		memcpy(cs.key, key, 16);
		wd_prep_nop(&r, 50000000); /* 50 ms */
		r.tag = 4;
		T_EQ(wd_send(q, &r, 1), 1);
		T_OK(q->ops->cipher_session(q, id, NULL));
		T_OK(q->ops->cipher_session(q, id, &cs));
		T_EQ(wd_wait(q, &c, 1, 5000), 1);
	}
	expect(q, s2, 0, 0, 0, (uintptr_t)buf, (uintptr_t)out, 16, -EINVAL,
	       "the old message after the session was set again");
	wd_cipher_sess_free(s2);
	/* left open when the queue goes: nothing to leak (ASan) */
	s = t_sess(q, WD_CIPHER_AES_GCM, key, 32);
	expect(q, s, P_INIT, (uintptr_t)hdr, 0, (uintptr_t)buf, (uintptr_t)out, 16, 0, "INIT");
	wd_cipher_sess_free(s);
}

/* AEAD fields on sessions of the plain modes: param is an unused field. */
static void other_modes(struct wd_queue *q)
{
	enum wd_cipher_alg alg;
	struct wd_req r;

	for (alg = WD_CIPHER_AES_CBC; alg <= WD_CIPHER_AES_XTS; alg++) {
		struct wd_cipher_sess *s = t_sess(q, alg, (const uint8_t *)"0123456789abcdef"
							  "fedcba9876543210", 32);

		wd_prep_aead(&r, WD_OP_ENCRYPT, s, P_INIT | P_FINAL, (uintptr_t)hdr, 0,
			     (uintptr_t)buf, (uintptr_t)out, 32);
		r.tag = 4;
		T_EQ(t_run(q, &r).status, -EINVAL);
		T_EQ(wd_aead_encrypt(s, iv, 12, NULL, 0, buf, out, 32, hdr, 16), -EINVAL);
		wd_cipher_sess_free(s);
	}
}

static void explicit(struct wd_ctx *ctx)
{
	struct wd_queue *q = t_xqueue(ctx, "aes-gcm", NULL);
	struct wd_domain *d = wd_queue_domain(q);
	struct wd_cipher_sess *s = t_sess(q, WD_CIPHER_AES_GCM, key, 16);
	size_t ps = t_page();
	uint8_t *m = wd_mem_alloc(4 * ps), want[64], tag[16];
	uint64_t rw, ro, bits[1];

	T_OK(wd_share(d, m, 3 * ps, 0, &rw));
	T_OK(wd_share(d, m + 3 * ps, ps, WD_SHARE_READONLY, &ro));
	memcpy(m, iv, 12);
	memcpy(m + 3 * ps, iv, 12);
	expect(q, s, P_INIT | P_FINAL, rw, 0, rw + ps, rw + 2 * ps, 64, 0, "all shared");
	t_gcm_evp_run(key, 16, iv, 12, NULL, 0, m + ps, want, 64, tag, 16, 1);
	T_ASSERT(!memcmp(m + 2 * ps, want, 64) && !memcmp(m + 12, tag, 16));
	expect(q, s, P_INIT, (uintptr_t)hdr, 0, rw + ps, rw + 2 * ps, 64, -EFAULT,
	       "a header not shared");
	expect(q, s, P_INIT | P_FINAL, rw + 3 * ps - 20, 0, rw + ps, rw + 2 * ps, 64, -EFAULT,
	       "a header running past its share");
	expect(q, s, P_INIT, ro, 0, rw + ps, rw + 2 * ps, 64, 0, "an IV read-only");
	expect(q, s, P_FINAL, ro + 64, 0, 0, 0, 0, -EFAULT, "a tag slot read-only (encrypt)");
	/* a decryption only reads its tag: a read-only header is fine */
	memcpy(m + 3 * ps + 12, tag, 16);
	memcpy(want, m + ps, 64);
	memset(m + ps, 0, 64);
	T_EQ(run(q, s, WD_OP_DECRYPT, P_INIT | P_FINAL, ro, 0, rw + 2 * ps, rw + ps, 64), 0);
	T_ASSERT(!memcmp(m + ps, want, 64));
	/* the tag written counts dirty: its page, not the header's others */
	T_OK(wd_dirty_start(d));
	T_EQ(wd_dirty_read_clear(d, rw, 3 * ps, bits), 0);
	memcpy(m + ps - 12, iv, 12);
	expect(q, s, P_INIT | P_FINAL, rw + ps - 12, 0, rw + 2 * ps, rw + 2 * ps, 64, 0,
	       "the header across a page boundary, tag in the second page");
	T_EQ(wd_dirty_read_clear(d, rw, 3 * ps, bits), 2);
	T_EQ(bits[0], 0x6); /* the tag's page and the text's */
	T_OK(wd_dirty_stop(d));
	wd_cipher_sess_free(s);
	T_OK(wd_unshare(d, rw, 0, -1));
	T_OK(wd_unshare(d, ro, 0, -1));
	wd_queue_free(q);
	wd_mem_free(m, 4 * ps);
}

int main(void)
{
	struct wd_ctx *ctx = t_ctx(1, 0);
	struct wd_queue *q = t_queue(ctx, "aes-gcm", 16);
	struct wd_cipher_sess *s = t_sess(q, WD_CIPHER_AES_GCM, key, 16);

	params(q, s);
	lengths(q, s);
	addresses(q, s);
	order(q, s);
	restart(q, s);
	wd_cipher_sess_free(s);
	closed_mid(q);
	other_modes(q);
	explicit(ctx);
	/* the queue still serves a whole message */
	s = t_sess(q, WD_CIPHER_AES_GCM, key, 16);
	restart(q, s);
	wd_cipher_sess_free(s);
	wd_queue_free(q);
	wd_ctx_free(ctx);
	return 0;
}
