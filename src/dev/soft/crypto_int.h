/* SPDX-License-Identifier: MIT */
/*
 * The soft engine's cipher table, shared by the plain modes (crypto.c) and
 * AES-GCM (crypto_gcm.c).  See crypto.c for the two halves of the table:
 * slots written by the control path under the lock, EVP contexts that are
 * the engine's alone.
 */
#ifndef WD_SOFT_CRYPTO_INT_H
#define WD_SOFT_CRYPTO_INT_H

#include <errno.h>
#include <pthread.h>
#include <stdint.h>

#include <openssl/evp.h>
#include <wd/crypto.h>

#include "soft.h"

#define AES_BLOCK 16

struct cipher_slot {
	uint64_t gen;                   /* bumped under lock, read atomically */
	struct wd_cipher_setup cs;      /* alg 0: no session */
};

/* A GCM session's message as the engine follows it from request to request
 * (the engine's half: reset whenever the session is keyed or dropped). */
struct gcm_msg {
	uint8_t open;                   /* a message is under way */
	uint8_t enc;                    /* ... in this direction */
	uint8_t text;                   /* ... and text came: no more AAD */
	uint8_t h_ok;                   /* h and hinv are known (long IVs) */
	uint64_t text_len;              /* text of the message so far */
	uint64_t h[2], hinv[2];         /* GHASH key and its inverse (crypto_gcm.c) */
};

struct cipher_ctx {
	uint64_t gen;                   /* the slot generation it was keyed for */
	uint32_t alg;                   /* 0: no session */
	/* the default provider's own contexts, [0] decryption, [1]
	 * encryption (GCM: [1] alone, its direction set by each message's
	 * init: GCM runs the block cipher one way only), its functions, and
	 * the EVP_CIPHER that keeps it alive while they are (soft.h, crypto.c) */
	void *pctx[2];
	struct soft_pcipher pf;
	EVP_CIPHER *pref;
	struct gcm_msg gcm;
};

struct soft_cipher {
	pthread_mutex_t lock;           /* slots' setups */
	uint64_t closes;                /* sessions closed so far: the engine sweeps */
	struct cipher_slot slot[WD_MAX_SESSIONS + 1];
	/* the engine's alone: its thread's, or an inline request's while it
	 * holds the queue's owner word (soft.h) */
	uint64_t swept;
	struct cipher_ctx ctx[WD_MAX_SESSIONS + 1];
};

/* crypto.c, for crypto_gcm.c */

/* Tables, or remote SVA: is every byte both sides reach at the same offset
 * of the data in each (compared on the client's addresses, din/dout, for
 * remote SVA)?  0 or -EINVAL. */
int soft_text_apart(const struct soft_queue *sq, const struct soft_seg_list *in,
		    const struct soft_seg_list *out, const struct soft_seg_list *din,
		    const struct soft_seg_list *dout);

/* The text's source and destination as segment lists (in, out), checked
 * for overlap as the mode rules say: 0 or -EINVAL.  Inline: on every
 * request, and the usual case (one buffer each side, in this process) is
 * two compares. */
static inline int soft_text_lists(const struct soft_queue *sq, const wd_sqe *e,
				  const struct soft_io *io, uint64_t total,
				  struct soft_seg_list *in, struct soft_seg_list *out,
				  struct soft_seg_list *din, struct soft_seg_list *dout)
{
	soft_seg_list(in, io->src_segs, io->nsrc, io->src, total);
	soft_seg_list(out, io->dst_segs, io->ndst, io->dst, total);
	/* remote SVA works on copies: the client's addresses tell overlap */
	soft_seg_list(din, NULL, 0, (void *)(uintptr_t)e->src, total);
	soft_seg_list(dout, NULL, 0, (void *)(uintptr_t)e->dst, total);
	if (sq->remote_mem < 0 && in->n == 1 && out->n == 1) {
		/* one buffer each: in place, or apart */
		uintptr_t a = (uintptr_t)in->v[0].p, b = (uintptr_t)out->v[0].p;

		return a != b && a < b + out->v[0].len && b < a + in->v[0].len ? -EINVAL : 0;
	}
	return soft_text_apart(sq, in, out, din, dout);
}
/* One step of a cipher on contiguous bytes: 1 done, 0 failed. */
typedef int soft_step_fn(void *ctx, uint8_t *out, const uint8_t *in, size_t len);
/* A default provider's entry as a step (soft_pstep_run, arg: this): its
 * cipher (the raw transform of CBC, CTR, XTS) or its update (GCM). */
struct soft_pstep {
	int (*fn)(void *pctx, unsigned char *out, size_t *outl, size_t outsize,
		  const unsigned char *in, size_t inl);
	void *pctx;
};
soft_step_fn soft_pstep_run;
/* Cipher total bytes from in to out by steps on ctx, unit bytes at a time
 * across segment boundaries (1 for stream modes). */
int soft_run_segments(soft_step_fn *step, void *ctx, const struct soft_seg_list *in,
		      const struct soft_seg_list *out, uint64_t total, unsigned unit);
/* Session id's setup, if the slot is still at generation gen (the engine's
 * contexts are keyed for it): 0, or -EINVAL (closed or changed since).  The
 * caller wipes *cs. */
int soft_cipher_setup_at(struct soft_cipher *sc, unsigned id, uint64_t gen,
			 struct wd_cipher_setup *cs);

/* crypto_gcm.c */

/* Key a GCM session's context (x->pctx[1]) from cs: 0, -ENOMEM, -EIO. */
int soft_gcm_key(struct cipher_ctx *x, const struct wd_cipher_setup *cs);
/* Forget the session's message and its GHASH key (dropped or keyed again). */
void soft_gcm_reset(struct cipher_ctx *x);
/* One request of a GCM session (param, header at arg1: wd/crypto.h). */
int soft_gcm_run(struct soft_queue *sq, struct soft_scratch *s, const wd_sqe *e,
		 const struct soft_io *io, wd_cqe *c, struct cipher_ctx *x, int enc);

/* The 16-byte IV that gives OpenSSL's GCM the counter block J0 a longer IV
 * of n bytes gives (SP 800-38D: J0 = GHASH(IV || pad || len)), for IVs
 * longer than OpenSSL takes; h: the GHASH key E_K(0^128), hinv its
 * inverse in GF(2^128), both as two big-endian words. */
void soft_gcm_fold_iv(const uint64_t h[2], const uint64_t hinv[2], const uint8_t *iv, size_t n,
		      uint8_t out[16]);
/* hinv from h (0 for 0). */
void soft_gcm_inverse(const uint64_t h[2], uint64_t hinv[2]);

#endif
