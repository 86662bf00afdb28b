/* SPDX-License-Identifier: MIT */
/*
 * Cipher sessions and the synchronous cipher helpers.  A session is an id
 * of the queue (shared with compression streams) and a key the driver
 * keeps on the device side; the library keeps no copy of the key, unless
 * the queue asked it to for its fallback (WD_QUEUE_F_FALLBACK_KEEP_KEYS,
 * fallback_ctl.c).  A mode the device lacks or refuses lives on the
 * built-in engine when the queue has a fallback.
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
};

int wd__cipher_check(const struct wd_cipher_setup *cs)
{
	uint32_t half = cs->key_len / 2;

	switch (cs->alg) {
	case WD_CIPHER_AES_CBC:
	case WD_CIPHER_AES_CTR:
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
