/* SPDX-License-Identifier: MIT */
/*
 * AES-CBC: the EVP stream of Update calls of any sizes, with the partial
 * block buffered here, PKCS#7 padding added at EncryptFinal and checked at
 * DecryptFinal (decryption holds the last whole block back until it knows
 * whether more comes), and each run of whole blocks handed to a queue or
 * to the default provider as one piece.  The chain (the last ciphertext
 * block) is kept here after every piece, so consecutive pieces may go to
 * different places.
 */
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/prov_ssl.h>

#include "cipher.h"

/* n bytes of whole blocks from in to out (equal, or apart). */
static int cbc_run(struct wdp_cctx *c, uint8_t *out, const uint8_t *in, size_t n)
{
	struct wdp_op op = {
		.op = c->enc ? WD_OP_ENCRYPT : WD_OP_DECRYPT, .mode = WDP_CBC,
		.iv = c->iv, .in = in, .out = out, .len = n,
	};
	uint8_t next[WDP_BLOCK];
	enum wdp_why why;
	int r;

	if (!wdp_iv_here(c))
		return 0;
	/* decryption chains on the last input block, which in place is
	 * about to be overwritten */
	if (!c->enc)
		memcpy(next, in + n - WDP_BLOCK, WDP_BLOCK);
	if (wdp_route(c, n, &why)) {
		r = wdp_run_queue(c, &op, &why);
		if (r >= 0) {
			if (!r)
				return 0;
			memcpy(c->iv, c->enc ? out + n - WDP_BLOCK : next, WDP_BLOCK);
			c->sw_synced = 0;
			wdp_count_wd(c, n);
			return 1;
		}
	}
	if (!c->sw_synced && !wdp_sw_sync(c))
		return 0;
	if (!wdp_sw_cipher(c, out, in, n))
		return 0;
	memcpy(c->iv, c->enc ? out + n - WDP_BLOCK : next, WDP_BLOCK);
	wdp_count_sw(c, n, why);
	return 1;
}

static int no_key(struct wdp_cctx *c)
{
	wdp_raise(c->prov, WDP_R_NO_KEY, "%s: no key set", c->alg->name);
	return 0;
}

static int too_small(struct wdp_cctx *c)
{
	wdp_raise(c->prov, WDP_R_OUTPUT_TOO_SMALL, "%s: output buffer too small", c->alg->name);
	return 0;
}

/*
 * The common small call, kept short: whole blocks, nothing buffered, none
 * held back, under the threshold, the default provider's context in step.
 * It is the whole cost this provider adds to small operations.  Its cipher
 * entry is the raw transform (its update entry would check and buffer all
 * over again: about 30 instructions more, callgrind).
 */
static inline int cbc_small(struct wdp_cctx *c, unsigned char *out, size_t *outl, size_t outsize,
			    const unsigned char *in, size_t inl)
{
	if (!c->enc) {
		/* the chain is the last input block, known before: everything
		 * is done first and the call is the function's last act (a
		 * tail call, no stack frame; in place, the block is read
		 * before it goes) */
		memcpy(c->iv, in + inl - WDP_BLOCK, WDP_BLOCK);
		wdp_bump(&c->n.ops[0], 1);
		wdp_bump(&c->n.bytes[0], inl);
		return c->sw_cipher(c->sw, out, outl, outsize, in, inl);
	}
	/* encrypting, the chain is the last output block, known after: it
	 * stays in sw until it is needed (wdp_iv_here) */
	c->iv_in_sw = 1;
	wdp_bump(&c->n.ops[0], 1);
	wdp_bump(&c->n.bytes[0], inl);
	return c->sw_cipher(c->sw, out, outl, outsize, in, inl);
}

/*
 * One TLS record sealed, as libssl hands it over in TLS record mode: in
 * place, the record (explicit IV, data, MAC) padded to whole blocks with
 * bytes of value padding-length - 1 (RFC 5246 6.2.3.2; SSL 3.0: zeros,
 * then that length byte, as the default provider writes), then one CBC
 * pass whose chain carries on to the next record.
 */
static int cbc_tls_seal(struct wdp_cctx *c, unsigned char *out, size_t *outl, size_t outsize,
			const unsigned char *in, size_t inl)
{
	size_t pad = WDP_BLOCK - inl % WDP_BLOCK;

	if (in != out || !c->pad) {
		wdp_raise(c->prov, WDP_R_OPERATION, "TLS records are sealed in place, padded");
		return 0;
	}
	if (outsize < inl + pad)
		return too_small(c);
	memset(out + inl, c->tls_version == SSL3_VERSION ? 0 : (int)(pad - 1), pad - 1);
	out[inl + pad - 1] = (uint8_t)(pad - 1);
	if (!cbc_run(c, out, out, inl + pad))
		return 0;
	*outl = inl + pad;
	return 1;
}

/* A TLS record: sealed here, opened by the default provider's entry sw
 * (its update or cipher, as the caller came in). */
static int cbc_tls(struct wdp_cctx *c, unsigned char *out, size_t *outl, size_t outsize,
		   const unsigned char *in, size_t inl, OSSL_FUNC_cipher_cipher_fn *sw)
{
	if (c->enc)
		return cbc_tls_seal(c, out, outl, outsize, in, inl);
	wdp_count_sw(c, inl, WDP_WHY_TLS);
	return sw(c->sw, out, outl, outsize, in, inl);
}

static __attribute__((noinline)) int cbc_update(struct wdp_cctx *c, unsigned char *out,
						size_t *outl, size_t outsize,
						const unsigned char *in, size_t inl)
{
	size_t done = 0, k, whole, tail;

	if (!c->key_set)
		return no_key(c);
	if (c->tls)
		return cbc_tls(c, out, outl, outsize, in, inl, c->swi->update);
	if (c->bufsz) {
		k = WDP_BLOCK - c->bufsz < inl ? WDP_BLOCK - c->bufsz : inl;
		memcpy(c->buf + c->bufsz, in, k);
		c->bufsz += k;
		in += k;
		inl -= k;
		/* a full block is held back when decrypting with padding and
		 * nothing follows: it may be the last */
		if (c->bufsz == WDP_BLOCK && (c->enc || !c->pad || inl)) {
			if (outsize < WDP_BLOCK)
				return too_small(c);
			if (!cbc_run(c, out, c->buf, WDP_BLOCK))
				return 0;
			c->bufsz = 0;
			done = WDP_BLOCK;
		}
	}
	whole = inl & ~(size_t)(WDP_BLOCK - 1);
	tail = inl - whole;
	if (!c->enc && c->pad && whole && !tail) {
		whole -= WDP_BLOCK;
		tail = WDP_BLOCK;
	}
	if (whole) {
		if (outsize - done < whole)
			return too_small(c);
		if (!cbc_run(c, out + done, in, whole))
			return 0;
		done += whole;
	}
	if (tail) {
		/* c->bufsz is 0 here: a partial block was completed above, or
		 * inl was too short to complete it and tail is 0 */
		memcpy(c->buf + c->bufsz, in + whole, tail);
		c->bufsz += tail;
	}
	*outl = done;
	return 1;
}

int wdp_cbc_update(void *vctx, unsigned char *out, size_t *outl, size_t outsize,
		   const unsigned char *in, size_t inl)
{
	struct wdp_cctx *c = vctx;

	/* outsize first: the decryption fast path moves the chain before
	 * its call, which must then not fail */
	if (__builtin_expect(c->sw_synced && outsize >= inl && !c->bufsz && inl &&
			     !(inl % WDP_BLOCK) &&
			     inl < c->threshold && (c->enc || !c->pad) && !c->tls, 1))
		return cbc_small(c, out, outl, outsize, in, inl);
	return cbc_update(c, out, outl, outsize, in, inl);
}

int wdp_cbc_final(void *vctx, unsigned char *out, size_t *outl, size_t outsize)
{
	struct wdp_cctx *c = vctx;
	unsigned pad, i, bad;

	if (!c->key_set)
		return no_key(c);
	if (c->tls) {
		wdp_raise(c->prov, WDP_R_OPERATION, "TLS records are never finalised");
		return 0;
	}
	*outl = 0;
	if (c->enc) {
		if (c->pad) {
			pad = WDP_BLOCK - (unsigned)c->bufsz;
			memset(c->buf + c->bufsz, (int)pad, pad);
			c->bufsz = WDP_BLOCK;
		} else if (!c->bufsz) {
			return 1;
		}
		if (c->bufsz != WDP_BLOCK)
			goto wrong_length;
		if (outsize < WDP_BLOCK)
			return too_small(c);
		if (!cbc_run(c, out, c->buf, WDP_BLOCK))
			return 0;
		c->bufsz = 0;
		*outl = WDP_BLOCK;
		return 1;
	}
	if (c->bufsz != WDP_BLOCK) {
		if (!c->bufsz && !c->pad)
			return 1;
		goto wrong_length;
	}
	if (!cbc_run(c, c->buf, c->buf, WDP_BLOCK))
		return 0;
	c->bufsz = 0;
	if (c->pad) {
		pad = c->buf[WDP_BLOCK - 1];
		bad = pad == 0 || pad > WDP_BLOCK;
		for (i = 0; !bad && i < pad; i++)
			bad |= c->buf[WDP_BLOCK - 1 - i] != pad;
		if (bad) {
			OPENSSL_cleanse(c->buf, WDP_BLOCK);
			wdp_raise(c->prov, WDP_R_BAD_DECRYPT, "%s: bad decrypt (padding)",
				  c->alg->name);
			return 0;
		}
	} else {
		pad = 0;
	}
	if (outsize < WDP_BLOCK - pad)
		return too_small(c);
	memcpy(out, c->buf, WDP_BLOCK - pad);
	OPENSSL_cleanse(c->buf, WDP_BLOCK);
	*outl = WDP_BLOCK - pad;
	return 1;
wrong_length:
	wdp_raise(c->prov, WDP_R_WRONG_FINAL_BLOCK_LENGTH, "%s: wrong final block length",
		  c->alg->name);
	return 0;
}

/* EVP_Cipher(): whole blocks, no buffering, no padding (as OpenSSL's). */
int wdp_cbc_cipher(void *vctx, unsigned char *out, size_t *outl, size_t outsize,
		   const unsigned char *in, size_t inl)
{
	struct wdp_cctx *c = vctx;

	if (!c->key_set)
		return no_key(c);
	if (c->tls)
		return cbc_tls(c, out, outl, outsize, in, inl, c->swi->cipher);
	if (outsize < inl)
		return too_small(c);
	if (inl % WDP_BLOCK) {
		wdp_raise(c->prov, WDP_R_BAD_LENGTH, "%s: %zu bytes is not whole blocks",
			  c->alg->name, inl);
		return 0;
	}
	if (inl && !cbc_run(c, out, in, inl))
		return 0;
	*outl = inl;
	return 1;
}
