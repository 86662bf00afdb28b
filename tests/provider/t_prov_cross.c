/* SPDX-License-Identifier: MIT */
/*
 * Random cross-checks of the wd provider against OpenSSL's default
 * provider: every cipher x message sizes from 0 to 64 KiB (block edges and
 * odd ones) x Update chunking (1 byte, odd, block-aligned, whole) x in
 * place or not x padding on and off (CBC), with a copy of the context
 * taken mid-stream (both must go on alike) and a second message after a
 * reinit (new IV, no IV, new key).  Three provider instances: everything
 * to a queue (threshold 0), a threshold of 48 bytes (streams cross between
 * queue and default provider at every few calls), the default threshold.
 * Both directions; GCM with random AAD, IV lengths and tags checked.
 * argv[1]: the directory holding wd.so.  TP_SEED repeats a run.
 */
#include "tp.h"

#define MAXLEN (64 * 1024)

static const char *const names[] = {
	"AES-128-CBC", "AES-192-CBC", "AES-256-CBC", "AES-128-CTR", "AES-192-CTR",
	"AES-256-CTR", "AES-128-XTS", "AES-256-XTS", "AES-128-GCM", "AES-192-GCM",
	"AES-256-GCM",
};

static const size_t sizes[] = { 0, 1, 15, 16, 17, 31, 32, 33, 47, 63, 64, 65, 100, 255, 256,
				257, 1000, 1023, 1024, 1025, 4095, 4096, 4097, 16383, 16384,
				16385, 65535, 65536, 0 /* random odd */ };

enum chunking { CH_ONE, CH_ODD, CH_BLOCKS, CH_WHOLE, CH__COUNT };
enum reinit { RE_NONE, RE_IV, RE_NOIV, RE_KEY, RE__COUNT };

struct spec {
	int enc, pad, gcm, xts, cbc;
	size_t len, ivlen, aadlen, taglen, len2;
	enum chunking ch;
	int inplace;
	long copy_at;           /* byte offset of the copy, -1: none */
	enum reinit re;
	uint8_t key[64], key2[64], iv[64], iv2[64], aad[64];
};

struct result {
	int ok;                 /* 0: some step failed (both places must agree) */
	size_t len;
	uint8_t *out;           /* first message then second, as produced */
	uint8_t tag[16], tag2[16];
	uint8_t chain[16];      /* CBC, CTR: the updated IV after the first message */
};

static size_t next_chunk(const struct spec *s, size_t left)
{
	size_t k;

	switch (s->ch) {
	case CH_ONE:
		k = 1;
		break;
	case CH_ODD:
		k = (tp_rand() % 40) | 1;
		break;
	case CH_BLOCKS:
		k = 16 * (1 + tp_rand() % 8);
		break;
	default:
		k = left;
	}
	return k < left ? k : left;
}

static int set_ivlen(EVP_CIPHER_CTX *x, size_t ivlen)
{
	OSSL_PARAM p[2] = { OSSL_PARAM_construct_size_t(OSSL_CIPHER_PARAM_AEAD_IVLEN, &ivlen),
			    OSSL_PARAM_END };

	return EVP_CIPHER_CTX_set_params(x, p);
}

/* Updates over in[0..len) into out (out may be in: the output then lags
 * behind the input, as in-place streaming does); copies the context at
 * copy_at and runs the copy over the rest too, which must match. */
static int updates(EVP_CIPHER_CTX *x, const struct spec *s, int whole, const uint8_t *in,
		   uint8_t *out, size_t len, size_t *outlen)
{
	size_t off = 0, k, total = 0;
	EVP_CIPHER_CTX *y;
	uint8_t *rest;
	int n, m, ok;

	while (off < len) {
		if (s->copy_at >= 0 && (size_t)s->copy_at == off && !whole) {
			/* the copy runs the rest first, over a private buffer; the
			 * original then runs it too: both must say the same */
			y = EVP_CIPHER_CTX_new();
			rest = malloc(2 * (len - off) + 32);
			T_ASSERT(y && rest && EVP_CIPHER_CTX_copy(y, x));
			memcpy(rest + len - off + 32, in + off, len - off);
			ok = EVP_CipherUpdate(y, rest, &m, rest + len - off + 32, (int)(len - off));
			EVP_CIPHER_CTX_free(y);
			if (ok)
				ok = EVP_CipherUpdate(x, out + total, &n, in + off, (int)(len - off));
			if (ok && (n != m || memcmp(out + total, rest, (size_t)m)))
				T_FAIL("a copy of the context went on differently");
			free(rest);
			if (!ok)
				return 0;
			total += (size_t)n;
			break;
		}
		k = whole ? len - off : next_chunk(s, len - off);
		if (!EVP_CipherUpdate(x, out + total, &n, in + off, (int)k))
			return 0;
		total += (size_t)n;
		off += k;
	}
	*outlen = total;
	return 1;
}

static int message(EVP_CIPHER_CTX *x, const struct spec *s, int whole, const uint8_t *in,
		   size_t len, uint8_t *out, size_t *outlen, uint8_t *tag, int second)
{
	size_t total = 0, a, k;
	int n;

	if (s->gcm) {
		for (a = 0; a < s->aadlen; a += k) {
			k = whole ? s->aadlen : 1 + tp_rand() % 9;
			k = k < s->aadlen - a ? k : s->aadlen - a;
			if (!EVP_CipherUpdate(x, NULL, &n, s->aad + a, (int)k))
				return 0;
		}
		if (!s->enc && !EVP_CIPHER_CTX_ctrl(x, EVP_CTRL_AEAD_SET_TAG, (int)s->taglen, tag))
			return 0;
	}
	if (len && !updates(x, s, whole || second, in, out, len, &total))
		return 0;
	if (!EVP_CipherFinal_ex(x, out + total, &n))
		return 0;
	total += (size_t)n;
	if (s->gcm && s->enc && !EVP_CIPHER_CTX_ctrl(x, EVP_CTRL_AEAD_GET_TAG, (int)s->taglen, tag))
		return 0;
	*outlen = total;
	return 1;
}

/* The whole case in one place; whole: one Update per message (the
 * reference).  in2: the second message's input. */
static void run(EVP_CIPHER *c, const struct spec *s, int whole, const uint8_t *in,
		const uint8_t *in2, const uint8_t *tags, struct result *r)
{
	EVP_CIPHER_CTX *x = EVP_CIPHER_CTX_new();
	uint8_t *buf = malloc(MAXLEN + 64);
	size_t n1 = 0, n2 = 0;

	T_ASSERT(x && buf);
	memset(r, 0, sizeof(*r));
	r->out = malloc(2 * MAXLEN + 64);
	T_ASSERT(r->out);
	if (tags) {
		memcpy(r->tag, tags, 16);
		memcpy(r->tag2, tags + 16, 16);
	}
	if (!EVP_CipherInit_ex2(x, c, NULL, NULL, s->enc, NULL) ||
	    (s->gcm && !set_ivlen(x, s->ivlen)) ||
	    !EVP_CipherInit_ex2(x, NULL, s->key, s->iv, s->enc, NULL) ||
	    !EVP_CIPHER_CTX_set_padding(x, s->pad))
		goto out;
	memcpy(buf, in, s->len);
	if (!message(x, s, whole, buf, s->len, s->inplace && !whole ? buf : r->out, &n1, r->tag, 0))
		goto out;
	if (s->inplace && !whole)
		memcpy(r->out, buf, n1);
	/* where the chain stands (a small encryption leaves it with the
	 * default provider's context, read back on request) */
	if (!s->gcm && !s->xts && !EVP_CIPHER_CTX_get_updated_iv(x, r->chain, sizeof(r->chain)))
		goto out;
	if (s->re != RE_NONE) {
		const uint8_t *key = s->re == RE_KEY ? s->key2 : NULL;
		const uint8_t *iv = s->re == RE_NOIV && !s->gcm ? NULL : s->iv2;

		if (!EVP_CipherInit_ex2(x, NULL, key, iv, s->enc, NULL) ||
		    !message(x, s, 1, in2, s->len2, r->out + n1, &n2, r->tag2, 1))
			goto out;
	}
	r->len = n1 + n2;
	r->ok = 1;
out:
	ERR_clear_error();
	EVP_CIPHER_CTX_free(x);
	free(buf);
}

static void pick(struct spec *s, const char *name, size_t len)
{
	memset(s, 0, sizeof(*s));
	s->gcm = strstr(name, "GCM") != NULL;
	s->xts = strstr(name, "XTS") != NULL;
	s->cbc = strstr(name, "CBC") != NULL;
	s->len = len;
	s->pad = s->cbc ? (int)(tp_rand() % 4 != 0) : 0;
	s->ch = (enum chunking)(tp_rand() % CH__COUNT);
	if (s->xts)
		s->ch = CH_WHOLE; /* one Update per data unit */
	if (s->ch == CH_ONE && len > 4097 && tp_rand() % 4)
		s->ch = CH_ODD; /* 1-byte calls over 64 KiB: now and then */
	s->inplace = (int)(tp_rand() & 1);
	s->copy_at = !s->inplace && len && tp_rand() % 3 == 0 ?
		     (s->gcm ? 0 : (long)(tp_rand() % len)) : -1;
	s->re = (enum reinit)(tp_rand() % RE__COUNT);
	s->len2 = tp_rand() % 300;
	if (s->xts && s->len2 < 16)
		s->len2 += 16;
	tp_fill(s->key, sizeof(s->key));
	tp_fill(s->key2, sizeof(s->key2));
	tp_fill(s->iv, sizeof(s->iv));
	tp_fill(s->iv2, sizeof(s->iv2));
	tp_fill(s->aad, sizeof(s->aad));
	s->ivlen = s->gcm && tp_rand() % 3 == 0 ? 1 + tp_rand() % 64 : 12;
	s->aadlen = s->gcm ? tp_rand() % 65 : 0;
	s->taglen = s->gcm ? 4 + tp_rand() % 13 : 0;
}

static void check(const char *name, const char *where, const struct spec *s,
		  const struct result *ref, const struct result *got)
{
	if (ref->ok != got->ok || (ref->ok && (ref->len != got->len ||
					       memcmp(ref->out, got->out, ref->len) ||
					       memcmp(ref->chain, got->chain, sizeof(ref->chain)) ||
					       (s->gcm && s->enc &&
						(memcmp(ref->tag, got->tag, s->taglen) ||
						 (s->re && memcmp(ref->tag2, got->tag2, s->taglen))))))) {
		T_FAIL("%s %s len %zu %s pad %d chunking %d inplace %d copy %ld reinit %d "
		       "ivlen %zu aad %zu tag %zu: default %s (%zu bytes), %s %s (%zu bytes)",
		       name, s->enc ? "enc" : "dec", s->len, where, s->pad, s->ch, s->inplace,
		       s->copy_at, s->re, s->ivlen, s->aadlen, s->taglen,
		       ref->ok ? "ok" : "failed", ref->len, where, got->ok ? "ok" : "failed",
		       got->len);
	}
}

int main(int argc, char **argv)
{
	static uint8_t in[MAXLEN + 64], in2[512];
	struct tp inst[3];
	const char *where[3] = { "queue", "threshold-48", "default-threshold" };
	struct result ref, got, enc;
	unsigned i, j, k, w, cases = 0;
	uint8_t tags[32];
	char line[1024];
	struct spec s;

	if (argc < 2)
		T_FAIL("usage: t_prov_cross MODULE_DIR");
	tp_seed("t_prov_cross");
	tp_open(&inst[0], argv[1], "threshold = 0\n");
	tp_open(&inst[1], argv[1], "threshold = 48\n");
	tp_open(&inst[2], argv[1], NULL);
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		EVP_CIPHER *d = tp_fetch(&inst[0], names[i], 0), *c[3];

		for (w = 0; w < 3; w++)
			T_ASSERT((c[w] = tp_fetch(&inst[w], names[i], 1)));
		for (j = 0; j < sizeof(sizes) / sizeof(sizes[0]); j++) {
			size_t len = sizes[j] ? sizes[j] : (tp_rand() % MAXLEN) | 1;

			for (k = 0; k < 8; k++) {
				pick(&s, names[i], len);
				tp_fill(in, len);
				tp_fill(in2, s.len2);
				w = (unsigned)(tp_rand() % 3);
				/* encryption: the reference in one Update, then wd */
				s.enc = 1;
				run(d, &s, 1, in, in2, NULL, &enc);
				run(c[w], &s, 0, in, in2, NULL, &got);
				check(names[i], where[w], &s, &enc, &got);
				free(got.out);
				/* decryption of the reference's output */
				if (enc.ok) {
					size_t l1 = s.len, l2 = s.len2;

					if (s.cbc && s.pad) {
						l1 = (s.len / 16 + 1) * 16;
						l2 = (s.len2 / 16 + 1) * 16;
					}
					if (s.re == RE_NONE)
						T_EQ(enc.len, l1);
					memcpy(tags, enc.tag, 16);
					memcpy(tags + 16, enc.tag2, 16);
					s.enc = 0;
					s.len = l1;
					s.len2 = l2;
					run(d, &s, 1, enc.out, enc.out + l1, tags, &ref);
					run(c[w], &s, 0, enc.out, enc.out + l1, tags, &got);
					check(names[i], where[w], &s, &ref, &got);
					T_ASSERT(ref.ok);
					free(ref.out);
					free(got.out);
				}
				free(enc.out);
				cases++;
			}
		}
		for (w = 0; w < 3; w++)
			EVP_CIPHER_free(c[w]);
		EVP_CIPHER_free(d);
	}
	for (w = 0; w < 3; w++) {
		tp_stats(&inst[w], line, sizeof(line));
		printf("%s: %s\n", where[w], line);
		if (w < 2)
			T_ASSERT(tp_stat(line, "ops.wd") > 0);
		if (w > 0)
			T_ASSERT(tp_stat(line, "ops.sw") > 0);
		tp_close(&inst[w]);
	}
	printf("t_prov_cross: %u cases, both directions, all equal to the default provider\n",
	       cases);
	return 0;
}
