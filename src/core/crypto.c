/* SPDX-License-Identifier: MIT */
/*
 * Cipher sessions and the synchronous cipher and AEAD helpers.  A session
 * is an id of the queue (shared with compression streams) and a key the
 * driver keeps on the device side; the library keeps no copy of the key,
 * unless the queue asked it to for its fallback
 * (WD_QUEUE_F_FALLBACK_KEEP_KEYS, fallback_ctl.c).  A mode the device lacks
 * or refuses lives on the built-in engine when the queue has a fallback.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <wd/crypto.h>

#include "fallback.h"
#include "internal.h"

struct wd_cipher_sess {
	struct wd_queue *q;
	uint16_t id;
	uint8_t alg;
};

/* The algorithm name a device lists for each mode. */
static const char *const mode_alg[] = {
	[WD_CIPHER_AES_CBC] = "aes-cbc",
	[WD_CIPHER_AES_CTR] = "aes-ctr",
	[WD_CIPHER_AES_XTS] = "aes-xts",
	[WD_CIPHER_AES_GCM] = "aes-gcm",
};

int wd__cipher_check(const struct wd_cipher_setup *cs)
{
	uint32_t half = cs->key_len / 2;

	switch (cs->alg) {
	case WD_CIPHER_AES_CBC:
	case WD_CIPHER_AES_CTR:
	case WD_CIPHER_AES_GCM:
		return cs->key_len == 16 || cs->key_len == 24 || cs->key_len == 32 ? 0 : -EINVAL;
	case WD_CIPHER_AES_XTS:
		if (cs->key_len != 32 && cs->key_len != 64)
			return -EINVAL;
		/* equal halves make XTS a plain ECB-like tweak: IEEE 1619 forbids it */
		return memcmp(cs->key, cs->key + half, half) ? 0 : -EINVAL;
	}
	return -EINVAL;
}

WD_EXPORT int wd_cipher_sess_new(struct wd_cipher_sess **out, struct wd_queue *q,
				 enum wd_cipher_alg alg, const void *key, size_t key_len)
{
	struct wd_cipher_setup cs = { .alg = (uint32_t)alg };
	struct wd_cipher_sess *s;
	int id, ret;

	if (!out || !q || !key || key_len > WD_CIPHER_KEY_MAX)
		return -EINVAL;
	*out = NULL;
	cs.key_len = (uint32_t)key_len;
	memcpy(cs.key, key, key_len);
	ret = wd__cipher_check(&cs);
	if (ret)
		goto out;
	ret = -ECHILD;
	if (q->fork_gen != wd__fork_gen)
		goto out;
	ret = -ESHUTDOWN;
	if (q->state != WD_Q_STARTED)
		goto out;
	ret = -EOPNOTSUPP;
	if (!(q->op_mask & (1u << WD_OP_ENCRYPT)))
		goto out;
	ret = -ENOMEM;
	s = calloc(1, sizeof(*s));
	if (!s)
		goto out;
	id = wd__session_take(q);
	ret = id < 0 ? id : wd__cipher_open(q, (unsigned)id, &cs, mode_alg[alg]);
	if (ret) {
		if (id > 0)
			wd__session_put(q, (unsigned)id);
		free(s);
		goto out;
	}
	s->q = q;
	s->id = (uint16_t)id;
	s->alg = (uint8_t)alg;
	*out = s;
out:
	explicit_bzero(&cs, sizeof(cs));
	return ret;
}

WD_EXPORT void wd_cipher_sess_free(struct wd_cipher_sess *s)
{
	if (!s)
		return;
	/* in a fork child the device is not ours to tell: memory only */
	if (s->q->fork_gen == wd__fork_gen) {
		wd__cipher_open(s->q, s->id, NULL, NULL);
		wd__session_put(s->q, s->id);
	}
	free(s);
}

WD_EXPORT uint16_t wd_cipher_sess_id(const struct wd_cipher_sess *s)
{
	return s ? s->id : 0;
}

static int cipher_sync(struct wd_cipher_sess *s, uint8_t op, const void *iv, const void *src,
		       void *dst, size_t len)
{
	struct wd_req r;
	struct wd_cpl c;
	int ret;

	if (!s || !iv)
		return -EINVAL;
	if (len > WD_CIPHER_LEN_MAX)
		return -EMSGSIZE;
	wd__prep_cipher(&r, op, s, iv, (uint64_t)(uintptr_t)src, (uint64_t)(uintptr_t)dst,
			(uint32_t)len);
	ret = wd__run_sync(s->q, &r, &c);
	return ret ? ret : c.status;
}

WD_EXPORT int wd_encrypt(struct wd_cipher_sess *s, const void *iv, const void *src, void *dst,
			 size_t len)
{
	return cipher_sync(s, WD_OP_ENCRYPT, iv, src, dst, len);
}

WD_EXPORT int wd_decrypt(struct wd_cipher_sess *s, const void *iv, const void *src, void *dst,
			 size_t len)
{
	return cipher_sync(s, WD_OP_DECRYPT, iv, src, dst, len);
}

/* A header this long or shorter is built on the stack. */
#define AEAD_STACK_HDR 512

static int aead_check(const struct wd_cipher_sess *s, const void *iv, size_t iv_len,
		      const void *aad, size_t aad_len, size_t len, const void *tag, size_t tag_len)
{
	if (!s || !iv || !tag || (!aad && aad_len) || s->alg != WD_CIPHER_AES_GCM)
		return -EINVAL;
	if (iv_len < 1 || iv_len > WD_AEAD_IV_MAX || tag_len < 4 || tag_len > WD_AEAD_TAG_MAX)
		return -EINVAL;
	if (len > WD_CIPHER_LEN_MAX || aad_len > WD_CIPHER_LEN_MAX)
		return -EMSGSIZE;
	/* the header is built in this process's memory, which an explicit
	 * queue's device cannot reach: there, use wd_prep_aead() with a
	 * header in shared memory */
	if (s->q->domain)
		return -EOPNOTSUPP;
	return 0;
}

/* One request, INIT | FINAL, with a header [IV][AAD][tag slot] of our own:
 * on the stack when small, else on the heap. */
static int aead_sync(struct wd_cipher_sess *s, uint8_t op, const void *iv, size_t iv_len,
		     const void *aad, size_t aad_len, const void *src, void *dst, size_t len,
		     void *tag, size_t tag_len)
{
	uint8_t stack[AEAD_STACK_HDR], *hdr = stack;
	size_t hdr_len = iv_len + aad_len + tag_len;
	struct wd_req r;
	struct wd_cpl c;
	int ret = aead_check(s, iv, iv_len, aad, aad_len, len, tag, tag_len);

	if (ret)
		return ret;
	if (hdr_len > sizeof(stack) && !(hdr = malloc(hdr_len)))
		return -ENOMEM;
	memcpy(hdr, iv, iv_len);
	if (aad_len)
		memcpy(hdr + iv_len, aad, aad_len);
	if (op == WD_OP_DECRYPT)
		memcpy(hdr + iv_len + aad_len, tag, tag_len);
	wd_prep_aead(&r, op, s,
		     WD_AEAD_P_INIT | WD_AEAD_P_FINAL | WD_AEAD_P_IVLEN(iv_len) |
			     WD_AEAD_P_TAGLEN(tag_len),
		     (uint64_t)(uintptr_t)hdr, (uint32_t)aad_len, (uint64_t)(uintptr_t)src,
		     (uint64_t)(uintptr_t)dst, (uint32_t)len);
	ret = wd__run_sync(s->q, &r, &c);
	if (!ret)
		ret = c.status;
	if (!ret && op == WD_OP_ENCRYPT)
		memcpy(tag, hdr + iv_len + aad_len, tag_len);
	if (hdr != stack)
		free(hdr);
	return ret;
}

WD_EXPORT int wd_aead_encrypt(struct wd_cipher_sess *s, const void *iv, size_t iv_len,
			      const void *aad, size_t aad_len, const void *src, void *dst,
			      size_t len, void *tag, size_t tag_len)
{
	return aead_sync(s, WD_OP_ENCRYPT, iv, iv_len, aad, aad_len, src, dst, len, tag, tag_len);
}

WD_EXPORT int wd_aead_decrypt(struct wd_cipher_sess *s, const void *iv, size_t iv_len,
			      const void *aad, size_t aad_len, const void *src, void *dst,
			      size_t len, const void *tag, size_t tag_len)
{
	return aead_sync(s, WD_OP_DECRYPT, iv, iv_len, aad, aad_len, src, dst, len, (void *)tag,
			 tag_len);
}
