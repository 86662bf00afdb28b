/* SPDX-License-Identifier: MIT */
/*
 * AES-CTR: a stream of Update calls of any sizes.  The counter (c->iv: the
 * next block's) and the position in the current keystream block (c->num)
 * are kept here.  A queue only ever gets whole blocks starting on a block
 * boundary; the rest of a keystream block a call ends in stays with the
 * default provider's context, which finishes it on the next call.
 */
#include <string.h>

#include "cipher.h"

/* 128-bit big-endian counter += blocks */
static inline void ctr_add(uint8_t ctr[WDP_BLOCK], uint64_t blocks)
{
	uint64_t hi, lo, sum;

	memcpy(&hi, ctr, 8);
	memcpy(&lo, ctr + 8, 8);
	sum = __builtin_bswap64(lo) + blocks;
	if (sum < blocks) /* carry into the high half */
		hi = __builtin_bswap64(__builtin_bswap64(hi) + 1);
	lo = __builtin_bswap64(sum);
	memcpy(ctr, &hi, 8);
	memcpy(ctr + 8, &lo, 8);
}

/*
 * Bring the counter and the keystream position up to date with what the
 * default provider's context went through since they last were: each
 * keystream block it started moved the counter on.  Small calls only add
 * their length to sw_run; this runs when the position is needed.
 */
void wdp_ctr_settle(struct wdp_cctx *c)
{
	uint64_t n = c->sw_run, fresh;

	if (!n)
		return;
	fresh = c->num ? (n > WDP_BLOCK - c->num ? n - (WDP_BLOCK - c->num) : 0) : n;
	ctr_add(c->iv, (fresh + WDP_BLOCK - 1) / WDP_BLOCK);
	c->num = (unsigned)((c->num + n) % WDP_BLOCK);
	c->sw_run = 0;
}

/* n bytes through the default provider from the current position (its
 * stream update: CTR's lightest entry). */
static inline int ctr_sw(struct wdp_cctx *c, uint8_t *out, const uint8_t *in, size_t n,
			 enum wdp_why why)
{
	size_t outl;

	if (!c->sw_synced && !wdp_sw_sync(c))
		return 0;
	if (!c->swi->update(c->sw, out, &outl, n, in, n))
		return 0;
	c->sw_run += n;
	wdp_count_sw(c, n, why);
	return 1;
}

/* Everything but the common small call (below). */
static __attribute__((noinline)) int ctr_update(struct wdp_cctx *c, unsigned char *out,
						size_t *outl, size_t outsize,
						const unsigned char *in, size_t inl)
{
	size_t done = 0, skip, whole;
	enum wdp_why why;
	int r;

	wdp_ctr_settle(c);
	if (!c->key_set) {
		wdp_raise(c->prov, WDP_R_NO_KEY, "%s: no key set", c->alg->name);
		return 0;
	}
	if (outsize < inl) {
		wdp_raise(c->prov, WDP_R_OUTPUT_TOO_SMALL, "%s: output buffer too small",
			  c->alg->name);
		return 0;
	}
	/* the rest of the current keystream block, then whole blocks */
	skip = c->num ? (inl < WDP_BLOCK - c->num ? inl : WDP_BLOCK - c->num) : 0;
	whole = (inl - skip) & ~(size_t)(WDP_BLOCK - 1);
	why = WDP_WHY_THRESHOLD;
	if (whole && wdp_route(c, whole, &why)) {
		struct wdp_op op = {
			.op = c->enc ? WD_OP_ENCRYPT : WD_OP_DECRYPT, .mode = WDP_CTR,
			.iv = c->iv, .in = in + skip, .out = out + skip, .len = whole,
		};

		if (skip && !ctr_sw(c, out, in, skip, WDP_WHY_THRESHOLD))
			return 0;
		wdp_ctr_settle(c);
		done = skip;
		r = wdp_run_queue(c, &op, &why);
		if (!r)
			return 0;
		if (r > 0) {
			ctr_add(c->iv, whole / WDP_BLOCK);
			c->sw_synced = 0;
			wdp_count_wd(c, whole);
			done += whole;
			why = WDP_WHY_THRESHOLD; /* the tail */
		}
	}
	if (done < inl && !ctr_sw(c, out + done, in + done, inl - done, why))
		return 0;
	*outl = inl;
	return 1;
}

/* The common small call, kept short: all of it to the default provider,
 * whose context is in step (the whole cost this provider adds to it).
 * Counted first, so that the call is a tail call: no stack frame (a call
 * it refused is counted too: it went there).  Its update entry: lighter
 * than its cipher entry for CTR (7 instructions, callgrind). */
int wdp_ctr_update(void *vctx, unsigned char *out, size_t *outl, size_t outsize,
		   const unsigned char *in, size_t inl)
{
	struct wdp_cctx *c = vctx;

	if (__builtin_expect(c->sw_synced && inl - 1 < c->small_lim && outsize >= inl, 1)) {
		c->sw_run += inl;
		wdp_bump(&c->n.ops[0], 1);
		wdp_bump(&c->n.bytes[0], inl);
		return c->sw_update(c->sw, out, outl, outsize, in, inl);
	}
	return ctr_update(c, out, outl, outsize, in, inl);
}

int wdp_ctr_final(void *vctx, unsigned char *out, size_t *outl, size_t outsize)
{
	struct wdp_cctx *c = vctx;

	if (!c->key_set) {
		wdp_raise(c->prov, WDP_R_NO_KEY, "%s: no key set", c->alg->name);
		return 0;
	}
	*outl = 0;
	return 1;
}

/*
 * EVP_CIPHER_CTX_set_num(): a position within the last keystream block
 * made (the one before the counter), as OpenSSL's ciphers take it.  The
 * default provider's context is put there so the next call finishes it.
 */
int wdp_ctr_set_num(struct wdp_cctx *c, unsigned num)
{
	uint8_t zero[WDP_BLOCK] = { 0 }, scratch[WDP_BLOCK], next[WDP_BLOCK];
	int i;

	if (c->alg->mode != WDP_CTR) {
		c->num = num; /* meaningless for these modes; kept as OpenSSL does */
		return 1;
	}
	if (num >= WDP_BLOCK || !c->key_set)
		return 0;
	wdp_ctr_settle(c);
	c->sw_synced = 0;
	c->num = 0;
	if (!num)
		return 1;
	memcpy(next, c->iv, WDP_BLOCK);
	for (i = WDP_BLOCK - 1; i >= 0 && c->iv[i]-- == 0; i--)
		;
	if (!wdp_sw_sync(c) || !wdp_sw_cipher(c, scratch, zero, num)) {
		memcpy(c->iv, next, WDP_BLOCK);
		c->sw_synced = 0;
		return 0;
	}
	memcpy(c->iv, next, WDP_BLOCK);
	c->num = num;
	return 1;
}
