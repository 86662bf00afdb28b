/* CBC requests of one session, each with its own IV, give what a fresh
 * context would, however they follow one another: the soft engine keeps
 * one context per direction and session and only gives it each request's
 * IV (an earlier version ran small requests on from the context's chain
 * and corrected the first block), so this mixes what could leave state
 * behind: encryption and decryption, the helper (inline) and the ring (the
 * engine thread), in place and apart, small and large, requests that fail
 * before or after the data is reached, a buffer rewritten right after its
 * request, and a session id reused with another key or mode. */
#include "t_crypto.h"

#define ROUNDS 3000
#define MAX_LEN 4096

static uint8_t src[MAX_LEN + 64], dst[MAX_LEN + 64], want[MAX_LEN + 64];

/* One request through the helper or the ring; returns its status. */
static int run(struct wd_queue *q, struct wd_cipher_sess *s, int enc, int ring, const uint8_t *iv,
	       const void *in, void *out, size_t len)
{
	struct wd_req r;
	struct wd_cpl c;

	if (!ring)
		return enc ? wd_encrypt(s, iv, in, out, len) : wd_decrypt(s, iv, in, out, len);
	if (enc)
		wd_prep_encrypt(&r, s, iv, (uintptr_t)in, (uintptr_t)out, (uint32_t)len);
	else
		wd_prep_decrypt(&r, s, iv, (uintptr_t)in, (uintptr_t)out, (uint32_t)len);
	r.tag = 0xcbc;
	c = t_run(q, &r);
	return c.status;
}

static size_t pick_len(uint64_t *seed)
{
	switch (t_rand(seed) % 8) {
	case 0:
		return 16;
	case 1:
		return 1024; /* the largest small request */
	case 2:
		return 1040; /* the smallest large one */
	case 3:
		return 16 * (1 + t_rand(seed) % (MAX_LEN / 16));
	default:
		return 16 * (1 + t_rand(seed) % 8); /* 16 B .. 128 B */
	}
}

int main(void)
{
	uint64_t seed = t_seed();
	struct wd_ctx *ctx = t_ctx(1, 200);
	struct wd_queue *q = t_queue(ctx, "aes-cbc", 8);
	struct wd_cipher_sess *s[2];
	uint8_t key[2][32], iv[16];
	size_t key_len[2], len;
	enum wd_cipher_alg alg[2] = { WD_CIPHER_AES_CBC, WD_CIPHER_AES_CBC };
	int i, k, enc, ring, in_place;

	for (k = 0; k < 2; k++) {
		key_len[k] = t_rand_key(WD_CIPHER_AES_CBC, key[k], &seed);
		s[k] = t_sess(q, WD_CIPHER_AES_CBC, key[k], key_len[k]);
	}
	for (i = 0; i < ROUNDS; i++) {
		k = (int)(t_rand(&seed) % 2);
		enc = (int)(t_rand(&seed) % 2);
		ring = (int)(t_rand(&seed) % 2);
		in_place = !(t_rand(&seed) % 3);
		len = pick_len(&seed);
		t_fill_random(iv, sizeof(iv), &seed);
		t_fill_random(src, len, &seed);
		switch (t_rand(&seed) % 16) {
		case 0: /* not whole blocks: refused before any data is reached */
			if (alg[k] == WD_CIPHER_AES_CBC)
				T_EQ(run(q, s[k], enc, ring, iv, src, dst, len + 1), -EINVAL);
			break;
		case 1: /* overlapping buffers: refused too */
			T_EQ(run(q, s[k], enc, ring, iv, src, src + 8, len), -EINVAL);
			break;
		case 2: /* an address the process cannot have */
			T_EQ(run(q, s[k], enc, ring, iv, NULL, dst, len), -EFAULT);
			break;
		case 3: /* the session's id comes back with another key, or mode */
			wd_cipher_sess_free(s[k]);
			alg[k] = t_rand(&seed) % 4 ? WD_CIPHER_AES_CBC : WD_CIPHER_AES_CTR;
			key_len[k] = t_rand_key(alg[k], key[k], &seed);
			s[k] = t_sess(q, alg[k], key[k], key_len[k]);
			break;
		}
		t_ref(alg[k], key[k], key_len[k], iv, src, want, len, enc);
		T_EQ(run(q, s[k], enc, ring, iv, src, in_place ? src : dst, len), 0);
		if (memcmp(in_place ? src : dst, want, len))
			T_FAIL("round %d: %s %zu B %s %s, session %d: wrong output", i,
			       enc ? "encrypt" : "decrypt", len, ring ? "ring" : "inline",
			       in_place ? "in place" : "apart", k);
		/* the caller's memory changes after the request: what the
		 * next request relies on cannot have been left there */
		memset(in_place ? src : dst, 0xa5, len);
	}
	for (k = 0; k < 2; k++)
		wd_cipher_sess_free(s[k]);
	wd_queue_free(q);
	wd_ctx_free(ctx);
	return 0;
}
