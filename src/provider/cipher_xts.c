/* SPDX-License-Identifier: MIT */
/*
 * AES-XTS: each Update call is one data unit (as in OpenSSL: at least one
 * block, at most 2^20 blocks, the tweak being the IV, which no call
 * changes), handed whole to a queue or to the default provider.
 */
#include "cipher.h"

#define XTS_MAX_UNIT ((size_t)1 << 24) /* 2^20 blocks, IEEE 1619 */

static __attribute__((noinline)) int xts_update(struct wdp_cctx *c, unsigned char *out,
						size_t *outl, size_t outsize,
						const unsigned char *in, size_t inl)
{
	struct wdp_op op = {
		.op = c->enc ? WD_OP_ENCRYPT : WD_OP_DECRYPT, .mode = WDP_XTS,
		.iv = c->iv, .in = in, .out = out, .len = inl,
	};
	enum wdp_why why;
	int r;

	if (!c->key_set || !c->iv_set) {
		wdp_raise(c->prov, c->key_set ? WDP_R_NO_IV : WDP_R_NO_KEY, "%s: no %s set",
			  c->alg->name, c->key_set ? "IV" : "key");
		return 0;
	}
	if (!out || !in || inl < WDP_BLOCK || inl > XTS_MAX_UNIT) {
		wdp_raise(c->prov, WDP_R_BAD_LENGTH,
			  "%s: a data unit is 16 bytes to 16 MiB, not %zu", c->alg->name, inl);
		return 0;
	}
	if (outsize < inl) {
		wdp_raise(c->prov, WDP_R_OUTPUT_TOO_SMALL, "%s: output buffer too small",
			  c->alg->name);
		return 0;
	}
	if (wdp_route(c, inl, &why)) {
		r = wdp_run_queue(c, &op, &why);
		if (!r)
			return 0;
		if (r > 0) {
			wdp_count_wd(c, inl);
			*outl = inl;
			return 1;
		}
	}
	/* the tweak never changes: the default provider's context stays in
	 * step across queue runs once it has it */
	if (!c->sw_synced && !wdp_sw_sync(c))
		return 0;
	if (!wdp_sw_cipher(c, out, in, inl))
		return 0;
	wdp_count_sw(c, inl, why);
	*outl = inl;
	return 1;
}

/* The common small call: a data unit for the default provider. */
int wdp_xts_update(void *vctx, unsigned char *out, size_t *outl, size_t outsize,
		   const unsigned char *in, size_t inl)
{
	struct wdp_cctx *c = vctx;

	if (__builtin_expect(c->sw_synced && inl >= WDP_BLOCK && inl < c->threshold && in && out,
			     1)) {
		/* counted first: the call is a tail call, no stack frame (a
		 * data unit it refused is counted too: it went there) */
		wdp_bump(&c->n.ops[0], 1);
		wdp_bump(&c->n.bytes[0], inl);
		return c->sw_cipher(c->sw, out, outl, outsize, in, inl);
	}
	return xts_update(c, out, outl, outsize, in, inl);
}

int wdp_xts_final(void *vctx, unsigned char *out, size_t *outl, size_t outsize)
{
	struct wdp_cctx *c = vctx;

	if (!c->key_set) {
		wdp_raise(c->prov, WDP_R_NO_KEY, "%s: no key set", c->alg->name);
		return 0;
	}
	*outl = 0;
	return 1;
}
