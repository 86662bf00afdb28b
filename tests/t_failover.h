/* Helpers for the fallback tests: rounds of one-shot requests of each kind
 * (copy and CRC32C, gzip compression and decompression, AES-CBC and XTS)
 * whose every result is checked against memcmp, a CRC32C of our own, zlib
 * or OpenSSL, whichever engine ran them; and the count of those the
 * built-in engine ran (WD_CPL_F_SOFT). */
#ifndef T_FAILOVER_H
#define T_FAILOVER_H

#include <openssl/evp.h>
#include <poll.h>
#include <zlib.h>
#include <wd/comp.h>
#include <wd/crypto.h>
#include <wd/mem.h>
#include "t_helpers.h"

enum t_fo_kind { T_FO_MOVER, T_FO_COMP, T_FO_CIPHER };

/* The tag of requests a test adds to a round (no-ops that keep a device
 * busy): they must succeed too, and count as extra, not in got. */
#define T_FO_EXTRA 0xe0e0e0e0ull
enum t_fo_wait { T_FO_WAIT, T_FO_POLL, T_FO_EVENT_FD };

#define T_FO_SEGS 2     /* scatter-gather compressions: source segments */

struct t_fo {
	struct wd_queue *q;
	enum t_fo_kind kind;
	struct wd_domain *dom;  /* explicit: buffers shared here; NULL: SVA */
	unsigned n;             /* requests per round */
	uint32_t len;           /* bytes per request */
	uint8_t *src, *dst;     /* n * len each, shared */
	uint8_t *plain;         /* what the compression requests stand for */
	uint32_t *src_len;
	uint64_t src_dev, dst_dev;
	struct wd_range *tab;   /* scatter-gather tables, shared (explicit only) */
	uint64_t tab_dev;
	struct wd_cipher_sess *sess[2];
	enum wd_cipher_alg alg[2];
	uint8_t key[2][64];
	size_t klen[2];
	unsigned got, soft;     /* completions of the round; of them the built-in engine's */
	unsigned extra;         /* completions of other requests (T_FO_EXTRA: no-ops) */
	unsigned soft_total;    /* ... over all rounds */
	uint8_t *seen;
	int sg;                 /* every 4th compression is scatter-gather */
	/* called before a result is read: a device played by a thread of the
	 * test may have written it (TSan needs the lock that orders it) */
	void (*sync)(void *arg);
	void *sync_arg;
};

static inline uint32_t t_crc32c(const uint8_t *p, size_t len)
{
	uint32_t c = ~0u;
	size_t i;
	int k;

	for (i = 0; i < len; i++) {
		c ^= p[i];
		for (k = 0; k < 8; k++)
			c = c >> 1 ^ (0x82f63b78u & (0u - (c & 1)));
	}
	return ~c;
}

static inline uint8_t *t_fo_mem(struct t_fo *t, size_t len, uint64_t *dev)
{
	uint8_t *p = wd_mem_alloc(len); /* memfd memory: a daemon can have it too */

	T_ASSERT(p);
	if (t->dom)
		T_OK(wd_share(t->dom, p, len, 0, dev));
	else
		*dev = (uint64_t)(uintptr_t)p;
	return p;
}

/* Text that compresses, different for every seed. */
static inline void t_fo_text(uint8_t *p, size_t len, uint64_t *seed)
{
	static const char *const words[] = { "warp ", "drive ", "queue ", "engine ", "soft ",
					     "device ", "fails ", "again, ", "work\n" };
	size_t i = 0;

	while (i < len) {
		const char *w = words[t_rand(seed) % 9];

		while (*w && i < len)
			p[i++] = (uint8_t)*w++;
	}
}

static inline void t_fo_gzip(const uint8_t *in, uint32_t len, uint8_t *out, uint32_t *out_len)
{
	z_stream z = { 0 };

	T_EQ(deflateInit2(&z, 6, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY), Z_OK);
	z.next_in = (uint8_t *)in;
	z.avail_in = len;
	z.next_out = out;
	z.avail_out = *out_len;
	T_EQ(deflate(&z, Z_FINISH), Z_STREAM_END);
	*out_len = (uint32_t)z.total_out;
	deflateEnd(&z);
}

static inline void t_fo_gunzip_check(const uint8_t *in, uint64_t len, const uint8_t *want,
				     uint32_t want_len)
{
	uint8_t *out = malloc(want_len + 1);
	z_stream z = { 0 };

	T_ASSERT(out);
	T_EQ(inflateInit2(&z, 31), Z_OK);
	z.next_in = (uint8_t *)in;
	z.avail_in = (uInt)len;
	z.next_out = out;
	z.avail_out = want_len + 1;
	T_EQ(inflate(&z, Z_FINISH), Z_STREAM_END);
	T_EQ(z.total_out, want_len);
	T_ASSERT(!memcmp(out, want, want_len));
	inflateEnd(&z);
	free(out);
}

static inline void t_fo_iv(unsigned i, uint8_t iv[16])
{
	memset(iv, 0, 16);
	memcpy(iv, &i, sizeof(i));
	iv[15] = 0xa5;
}

/* Cipher queues: two sessions, one per mode. */
static inline void t_fo_sessions(struct t_fo *t, enum wd_cipher_alg a0, enum wd_cipher_alg a1,
				 uint64_t *seed)
{
	enum wd_cipher_alg a[2] = { a0, a1 };
	int k;

	for (k = 0; k < 2; k++) {
		t->alg[k] = a[k];
		t->klen[k] = a[k] == WD_CIPHER_AES_XTS ? 32 : 16;
		do
			t_fill_random(t->key[k], t->klen[k], seed);
		while (a[k] == WD_CIPHER_AES_XTS && !memcmp(t->key[k], t->key[k] + 16, 16));
		T_OK(wd_cipher_sess_new(&t->sess[k], t->q, a[k], t->key[k], t->klen[k]));
	}
}

/* n requests of len bytes each (a multiple of 16, at least 4 KiB) on q,
 * whose buffers are shared with dom (explicit) or not (SVA). */
static inline void t_fo_init(struct t_fo *t, struct wd_queue *q, enum t_fo_kind kind,
			     struct wd_domain *dom, unsigned n, uint32_t len, uint64_t *seed)
{
	unsigned i;

	memset(t, 0, sizeof(*t));
	t->q = q;
	t->kind = kind;
	t->dom = dom;
	t->n = n;
	t->len = len;
	t->src = t_fo_mem(t, (size_t)n * len, &t->src_dev);
	t->dst = t_fo_mem(t, (size_t)n * len, &t->dst_dev);
	t->plain = malloc((size_t)n * len);
	t->src_len = calloc(n, sizeof(*t->src_len));
	t->seen = calloc(n, 1);
	T_ASSERT(t->plain && t->src_len && t->seen);
	t->sg = kind == T_FO_COMP && dom;
	if (t->sg)
		t->tab = (struct wd_range *)t_fo_mem(t, (size_t)n * (T_FO_SEGS + 1) *
							sizeof(struct wd_range), &t->tab_dev);
	for (i = 0; i < n; i++) {
		uint8_t *s = t->src + (size_t)i * len, *p = t->plain + (size_t)i * len;

		t->src_len[i] = len;
		if (kind != T_FO_COMP) {
			t_fill_random(s, len, seed);
			continue;
		}
		t_fo_text(p, len, seed);
		if (i % 2 == 0) {
			memcpy(s, p, len);
		} else {
			t->src_len[i] = len;
			t_fo_gzip(p, len, s, &t->src_len[i]);
		}
	}
}

/* Request i of the round, tagged i. */
static inline void t_fo_req(const struct t_fo *t, unsigned i, struct wd_req *r)
{
	uint64_t s = t->src_dev + (uint64_t)i * t->len, d = t->dst_dev + (uint64_t)i * t->len;
	uint8_t iv[16];

	switch (t->kind) {
	case T_FO_MOVER:
		memset(r, 0, sizeof(*r));
		r->op = i % 2 ? WD_OP_CRC32C : WD_OP_COPY;
		r->src = s;
		r->len = t->len;
		r->dst = i % 2 ? 0 : d;
		break;
	case T_FO_COMP:
		if (i % 2) {
			wd_prep_decompress(r, NULL, t->len, NULL, t->src_len[i], WD_COMP_GZIP);
		} else if (t->sg && i % 4 == 2) {
			struct wd_range *tab = t->tab + (size_t)i * (T_FO_SEGS + 1);
			uint64_t tab_dev = t->tab_dev + (uint64_t)i * (T_FO_SEGS + 1) * sizeof(*tab);

			tab[0] = (struct wd_range){ s, t->len / 2 };
			tab[1] = (struct wd_range){ s + t->len / 2, t->len - t->len / 2 };
			tab[2] = (struct wd_range){ d, t->len };
			wd_prep_compress_sg(r, tab_dev + T_FO_SEGS * sizeof(*tab), 1, tab_dev,
					    T_FO_SEGS, 1, WD_COMP_GZIP);
			break;
		} else {
			wd_prep_compress(r, NULL, t->len, NULL, t->len, i % 8 == 0 ? 6 : 1,
					 WD_COMP_GZIP);
		}
		r->src = s;
		r->dst = d;
		break;
	case T_FO_CIPHER:
		t_fo_iv(i, iv);
		wd_prep_encrypt(r, t->sess[i % 2], iv, s, d, t->len);
		break;
	}
	r->tag = i;
}

/* Completion c of the round: once, successful, and right. */
static inline void t_fo_check(struct t_fo *t, const struct wd_cpl *c)
{
	unsigned i = (unsigned)c->tag;
	const uint8_t *s = t->src + (size_t)i * t->len, *d = t->dst + (size_t)i * t->len;
	uint8_t want[64 * 1024], iv[16];

	if (c->tag == T_FO_EXTRA) {
		T_EQ(c->status, 0);
		t->extra++;
		t->soft += !!(c->flags & WD_CPL_F_SOFT);
		return;
	}
	T_ASSERT(c->tag < t->n);
	T_EQ(t->seen[i]++, 0);
	if (c->status)
		T_FAIL("request %u (kind %d) completed with %d (%s), flags %#x", i, t->kind,
		       c->status, wd_strerror(c->status), c->flags);
	t->got++;
	t->soft += !!(c->flags & WD_CPL_F_SOFT);
	if (t->sync)
		t->sync(t->sync_arg);
	switch (t->kind) {
	case T_FO_MOVER:
		if (i % 2)
			T_EQ(c->result, t_crc32c(s, t->len));
		else
			T_ASSERT(!memcmp(d, s, t->len));
		break;
	case T_FO_COMP:
		if (i % 2) {
			T_EQ(c->result, t->len);
			T_ASSERT(!memcmp(d, t->plain + (size_t)i * t->len, t->len));
		} else {
			t_fo_gunzip_check(d, c->result, t->plain + (size_t)i * t->len, t->len);
		}
		break;
	case T_FO_CIPHER:
		T_ASSERT(t->len <= sizeof(want));
		t_fo_iv(i, iv);
		{
			EVP_CIPHER_CTX *x = EVP_CIPHER_CTX_new();
			int k = (int)(i % 2), n = 0;
			const EVP_CIPHER *e = t->alg[k] == WD_CIPHER_AES_XTS ? EVP_aes_128_xts()
									     : EVP_aes_128_cbc();

			T_ASSERT(x && EVP_CipherInit_ex(x, e, NULL, t->key[k], iv, 1));
			EVP_CIPHER_CTX_set_padding(x, 0);
			T_ASSERT(EVP_CipherUpdate(x, want, &n, s, (int)t->len));
			EVP_CIPHER_CTX_free(x);
		}
		T_EQ(c->result, t->len);
		T_ASSERT(!memcmp(d, want, t->len));
		break;
	}
}

/* A new round: the same requests again, outputs cleared. */
static inline void t_fo_round(struct t_fo *t)
{
	if (t->sync)
		t->sync(t->sync_arg);
	t->soft_total += t->soft;
	t->got = t->soft = t->extra = 0;
	memset(t->seen, 0, t->n);
	memset(t->dst, 0, (size_t)t->n * t->len);
}

/* Send requests [from, to) of the round. */
static inline void t_fo_send(struct t_fo *t, unsigned from, unsigned to)
{
	struct wd_req r;

	for (; from < to; from++) {
		t_fo_req(t, from, &r);
		T_EQ(wd_send(t->q, &r, 1), 1);
	}
}

static inline void t_fo_cpl(void *arg, const struct wd_cpl *c)
{
	t_fo_check(arg, c);
}

/* Reap until `want` completions of the round and `extra` others are in
 * (within 30 s), waiting in the library, polling, or asleep on the queue's
 * event fd. */
static inline void t_fo_reap_x(struct t_fo *t, unsigned want, unsigned extra, enum t_fo_wait how)
{
	struct wd_cpl c[16];
	double t0 = t_now();
	int n, i;

	while (t->got < want || t->extra < extra) {
		T_ASSERT(t_now() - t0 < 30);
		if (how == T_FO_EVENT_FD) {
			struct pollfd pfd = { .fd = wd_queue_event_fd(t->q), .events = POLLIN };

			n = wd_queue_arm(t->q);
			T_ASSERT(n >= 0);
			if (!n)
				T_ASSERT(poll(&pfd, 1, 10000) == 1); /* nothing may be lost */
			n = wd_poll(t->q, 16, 0, t_fo_cpl, t);
			T_ASSERT(n >= 0);
			continue;
		}
		n = how == T_FO_WAIT ? wd_wait(t->q, c, 16, 1000) : wd_recv(t->q, c, 16);
		if (n == -ETIMEDOUT || n == 0)
			continue;
		T_ASSERT(n > 0);
		for (i = 0; i < n; i++)
			t_fo_check(t, &c[i]);
	}
}

static inline void t_fo_reap(struct t_fo *t, unsigned want, enum t_fo_wait how)
{
	t_fo_reap_x(t, want, 0, how);
}

/* The queue's counters agree with what its completions said. */
static inline struct wd_queue_stats t_fo_stats(const struct t_fo *t)
{
	struct wd_queue_stats st = { .size = sizeof(st) };

	T_OK(wd_queue_stats(t->q, &st));
	T_EQ(st.size, sizeof(st));
	T_EQ(st.soft_after_failure + st.soft_after_refusal, t->soft_total + t->soft);
	return st;
}

static inline void t_fo_free(struct t_fo *t)
{
	size_t len = (size_t)t->n * t->len;
	int k;

	for (k = 0; k < 2; k++)
		wd_cipher_sess_free(t->sess[k]);
	if (t->dom) { /* nothing is in flight: at once */
		T_OK(wd_unshare(t->dom, t->src_dev, WD_UNSHARE_NOWAIT, 0));
		T_OK(wd_unshare(t->dom, t->dst_dev, WD_UNSHARE_NOWAIT, 0));
		if (t->tab)
			T_OK(wd_unshare(t->dom, t->tab_dev, WD_UNSHARE_NOWAIT, 0));
	}
	wd_queue_free(t->q); /* and its implicit domain */
	wd_mem_free(t->src, len);
	wd_mem_free(t->dst, len);
	if (t->tab)
		wd_mem_free(t->tab, (size_t)t->n * (T_FO_SEGS + 1) * sizeof(struct wd_range));
	free(t->plain);
	free(t->src_len);
	free(t->seen);
}

#endif
