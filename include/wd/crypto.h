/* SPDX-License-Identifier: MIT */
/*
 * Symmetric ciphers through WarpDrive queues: AES in CBC, CTR and XTS modes,
 * and AES-GCM authenticated encryption (see "AEAD" below).
 *
 * Open a queue for "cipher" (any device with a cipher), or for one mode -
 * "aes-cbc", "aes-ctr", "aes-xts", "aes-gcm" - to pick a device that offers it.  A
 * session holds a key and a mode; it is set up on the control path (never
 * through the ring, so keys do not sit in request memory) and named by
 * every request that uses it.  Then either
 *   - submit requests asynchronously with wd_prep_encrypt() /
 *     wd_prep_decrypt() (one or a batch per wd_send()) and reap them with
 *     wd_recv()/wd_wait(), or
 *   - call the synchronous helpers wd_encrypt() / wd_decrypt().
 *
 * The 16-byte IV (the tweak for XTS, the initial counter block for CTR)
 * travels inside the request: arg0 holds its bytes 0-7 and arg1 bytes 8-15,
 * as they lie in memory.  src and dst may be equal (in place); otherwise
 * they must not overlap (-EINVAL).  Either may be a scatter-gather table
 * (WD_REQ_F_SRC_SG / WD_REQ_F_DST_SG, see wd/wd.h): len (dst_len) is then
 * the number of entries, segments may be cut anywhere (a block that
 * straddles two is fine), and a byte reached through both tables must sit
 * at the same offset of the data in each (in place).  dst_len is 0 unless
 * the destination is a table.  The output is always as long as the input;
 * a destination table may be longer, not shorter (-EINVAL).  An XTS data
 * unit is one piece for OpenSSL, so the soft device gathers scattered XTS
 * data into one buffer first.  A daemon queue (wdd0) in SVA mode takes no
 * tables (-EOPNOTSUPP): share the memory explicitly.
 *
 * Lengths: CBC a multiple of 16; CTR any; XTS at least 16 (ciphertext
 * stealing for the rest).  An empty CBC or CTR request completes with
 * result 0; an empty XTS one is -EINVAL (a data unit has a block at least).
 * At most WD_CIPHER_LEN_MAX bytes per request, else -EMSGSIZE.
 *
 * Completions: status 0 and result = bytes written, or -EINVAL (bad
 * length, unknown or closed session, overlap, nonzero unused fields - param
 * among them, but on AES-GCM sessions),
 * -EMSGSIZE (too long), -EFAULT (an address outside what the device may
 * reach), -EIO (the device failed the request).
 */
#ifndef WD_CRYPTO_H
#define WD_CRYPTO_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <wd/wd.h>

#ifdef __cplusplus
extern "C" {
#endif

enum wd_cipher_alg {
	WD_CIPHER_AES_CBC = 1,  /* keys of 16, 24 or 32 bytes */
	WD_CIPHER_AES_CTR = 2,  /* keys of 16, 24 or 32 bytes; 128-bit big-endian counter */
	WD_CIPHER_AES_XTS = 3,  /* keys of 32 or 64 bytes (two AES keys, which must differ) */
	WD_CIPHER_AES_GCM = 4,  /* keys of 16, 24 or 32 bytes; AEAD, see below */
};

#define WD_CIPHER_KEY_MAX 64
#define WD_CIPHER_IV_LEN 16
#define WD_CIPHER_LEN_MAX (1u << 24)

/* What the control path hands a device for one session. */
struct wd_cipher_setup {
	uint32_t alg;           /* enum wd_cipher_alg */
	uint32_t key_len;
	uint8_t key[WD_CIPHER_KEY_MAX];
};

struct wd_cipher_sess;

/*
 * Set up a session on queue q.  Errors: -EINVAL bad key length or alg, or
 * XTS keys whose halves are equal; -EOPNOTSUPP the queue is not a cipher
 * queue or its device does not offer alg; -EBUSY the queue has no free
 * session (WD_MAX_SESSIONS, shared with compression streams; the id of a
 * session freed while requests were in flight is handed out again only
 * once the queue has nothing in flight); -ESHUTDOWN the queue was stopped;
 * -ECHILD a fork child; -ENOMEM; a daemon's errors.  The key goes to the
 * device (the library keeps no copy and wipes its temporary ones, unless
 * the queue was made with WD_QUEUE_F_FALLBACK_KEEP_KEYS); the caller may
 * wipe its own copy.  On a queue with the fallback (the default, see
 * WD_QUEUE_F_NO_FALLBACK), a mode the device does not offer or refuses
 * lives on the built-in engine (its key with it): its requests complete
 * with WD_CPL_F_SOFT.  After the device failed, requests of a session
 * whose key only the device had complete with -ENOTRECOVERABLE; a new
 * session lives on the built-in engine.  Free a queue's sessions before
 * the queue.
 */
int wd_cipher_sess_new(struct wd_cipher_sess **out, struct wd_queue *q, enum wd_cipher_alg alg,
		       const void *key, size_t key_len);

/* Close a session (the device wipes its key).  Requests naming it must be
 * reaped first: one still in flight may complete with -EINVAL, never with
 * another session's key. */
void wd_cipher_sess_free(struct wd_cipher_sess *s);

/* The id requests carry in wd_req.session (0 for NULL). */
uint16_t wd_cipher_sess_id(const struct wd_cipher_sess *s);

static inline void wd__prep_cipher(struct wd_req *r, uint8_t op, const struct wd_cipher_sess *s,
				   const void *iv, uint64_t src, uint64_t dst, uint32_t len)
{
	memset(r, 0, sizeof(*r));
	r->op = op;
	r->session = wd_cipher_sess_id(s);
	r->len = len;
	r->src = src;
	r->dst = dst;
	memcpy(&r->arg0, iv, 8);
	memcpy(&r->arg1, (const uint8_t *)iv + 8, 8);
}

/* Fill r to encrypt len bytes at src into dst (device addresses: pointers
 * on an SVA queue, IOVAs on an explicit one).  Sets tag 0: set r->tag after. */
static inline void wd_prep_encrypt(struct wd_req *r, const struct wd_cipher_sess *s,
				   const void *iv, uint64_t src, uint64_t dst, uint32_t len)
{
	wd__prep_cipher(r, WD_OP_ENCRYPT, s, iv, src, dst, len);
}

static inline void wd_prep_decrypt(struct wd_req *r, const struct wd_cipher_sess *s,
				   const void *iv, uint64_t src, uint64_t dst, uint32_t len)
{
	wd__prep_cipher(r, WD_OP_DECRYPT, s, iv, src, dst, len);
}

/*
 * Synchronous helpers: submit one request and wait for it (an SVA queue, or
 * an explicit one with src and dst given as IOVAs cast to pointers).  They
 * need the queue to themselves: no other request in flight.  Return 0 or
 * the request's negative status; -EBUSY when requests are in flight,
 * -EMSGSIZE when len exceeds WD_CIPHER_LEN_MAX, -EINVAL for a NULL s or iv.
 */
int wd_encrypt(struct wd_cipher_sess *s, const void *iv, const void *src, void *dst, size_t len);
int wd_decrypt(struct wd_cipher_sess *s, const void *iv, const void *src, void *dst, size_t len);

/*
 * AEAD: AES-GCM (NIST SP 800-38D).  A message is one request, or a run of
 * requests on one session that the device serves in order (a queue serves
 * its requests in submission order).  Each request names its part of the
 * message in param, and carries a small header beside the text:
 *
 *   param  WD_AEAD_P_INIT:  this request starts a message (a message the
 *                           session had open is dropped); the header
 *                           begins with the IV, WD_AEAD_P_IVLEN(n) bytes
 *                           (1..WD_AEAD_IV_MAX; n is 0 without INIT)
 *          WD_AEAD_P_FINAL: this request ends the message; the header ends
 *                           with a tag slot of WD_AEAD_P_TAGLEN(t) bytes
 *                           (4..16; t is 0 without FINAL): an encryption
 *                           writes the tag there, a decryption reads the
 *                           expected tag from there
 *   arg0   AAD bytes in this request's header (after the IV, before the
 *          tag slot); AAD must come before any text of the message
 *   arg1   device address of the header: [IV][AAD][tag slot], flat (never
 *          a table), not overlapping the text's source or destination;
 *          reached by the rules of the text (an encryption's FINAL header
 *          must be writable: not a read-only share).  0 when the request
 *          has no IV, AAD or tag slot (then nonzero is an unused field)
 *   src, dst, len, flags: the text exactly as for the other modes (any
 *          length, in place or not, tables allowed); len may be 0
 * The message direction is its INIT part's op: a part of the other op is
 * refused.  Text and AAD of a request are at most WD_CIPHER_LEN_MAX each
 * (-EMSGSIZE), a message's text at most 2^36 - 32 bytes (SP 800-38D).
 *
 * Completion: result = text bytes written.  Errors: -EINVAL (a request
 * without INIT and no open message, AAD after text, bad IV or tag length,
 * a header overlapping the text, nonzero unused fields), -EBADMSG
 * (decryption: the tag does not match; this request's text output is
 * zeroed), -EFAULT (a header the device may not reach, or not write for a
 * tag), and those of the other modes.  Any error closes the message (its
 * next part needs INIT).  One request with INIT | FINAL never releases
 * unverified plaintext; a streamed decryption releases each part's
 * plaintext as it goes (as every streaming GCM does): the verdict comes
 * with the FINAL request.
 */
#define WD_AEAD_P_INIT   (1u << 0)
#define WD_AEAD_P_FINAL  (1u << 1)
#define WD_AEAD_P_TAGLEN(t) (((uint32_t)(t) & 0x1fu) << 8)
#define WD_AEAD_P_IVLEN(n)  (((uint32_t)(n) & 0xffffu) << 16)
#define WD_AEAD_P_TAGLEN_OF(p) (((p) >> 8) & 0x1fu)
#define WD_AEAD_P_IVLEN_OF(p)  ((p) >> 16)
#define WD_AEAD_IV_MAX   1024
#define WD_AEAD_TAG_MAX  16

/* Fill r for one part of an AEAD message (see above); op is WD_OP_ENCRYPT
 * or WD_OP_DECRYPT, param the WD_AEAD_P_* bits.  Sets tag 0. */
static inline void wd_prep_aead(struct wd_req *r, uint8_t op, const struct wd_cipher_sess *s,
				uint32_t param, uint64_t hdr, uint32_t aad_len, uint64_t src,
				uint64_t dst, uint32_t len)
{
	memset(r, 0, sizeof(*r));
	r->op = op;
	r->session = wd_cipher_sess_id(s);
	r->len = len;
	r->src = src;
	r->dst = dst;
	r->param = param;
	r->arg0 = aad_len;
	r->arg1 = hdr;
}

/*
 * Synchronous one-request AEAD helpers (rules of wd_encrypt): the whole
 * message in one call.  The helpers build the header themselves (on the
 * stack, or the heap for a large AAD), so they need an SVA queue: on an
 * explicit one, whose device cannot reach that memory, they return
 * -EOPNOTSUPP (send wd_prep_aead() requests with a shared header there).
 * Encrypt writes len bytes to dst and tag_len (4..16) bytes to tag;
 * decrypt checks tag and returns -EBADMSG, with dst zeroed, when it does
 * not match.  aad may be NULL when aad_len is 0.  Errors as the request's,
 * -EINVAL for a session of another mode, and -ENOMEM.
 */
int wd_aead_encrypt(struct wd_cipher_sess *s, const void *iv, size_t iv_len, const void *aad,
		    size_t aad_len, const void *src, void *dst, size_t len, void *tag,
		    size_t tag_len);
int wd_aead_decrypt(struct wd_cipher_sess *s, const void *iv, size_t iv_len, const void *aad,
		    size_t aad_len, const void *src, void *dst, size_t len, const void *tag,
		    size_t tag_len);

#ifdef __cplusplus
}
#endif

#endif
