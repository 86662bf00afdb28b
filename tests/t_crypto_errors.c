/* Cipher errors: bad keys and modes refused when the session is made; bad
 * requests (unknown or closed sessions, lengths, addresses, reserved
 * fields, overlap) get an error completion and the queue goes on; session
 * ids run out at WD_MAX_SESSIONS, as for compression streams. */
#include <wd/comp.h>
#include "t_crypto.h"
#include "t_mem_helpers.h"

static uint8_t buf[4096] __attribute__((aligned(64))), out[4096];

static void expect(struct wd_queue *q, struct wd_req *r, int status, const char *what)
{
	struct wd_cpl c;

	r->tag = 0xc1;
	c = t_run(q, r);
	if (c.status != status)
		T_FAIL("%s: status %d (%s), expected %d", what, c.status, wd_strerror(c.status),
		       status);
}

static void bad_keys(struct wd_queue *q, struct wd_queue *qz)
{
	static const size_t block_bad[] = { 0, 1, 15, 17, 23, 25, 31, 33, 48, 64 };
	static const size_t xts_bad[] = { 0, 16, 24, 31, 33, 48, 63 };
	struct wd_cipher_sess *s;
	uint8_t key[128] = { 1, 2, 3 };
	unsigned i;

	for (i = 0; i < sizeof(block_bad) / sizeof(block_bad[0]); i++) {
		T_EQ(wd_cipher_sess_new(&s, q, WD_CIPHER_AES_CBC, key, block_bad[i]), -EINVAL);
		T_EQ(wd_cipher_sess_new(&s, q, WD_CIPHER_AES_CTR, key, block_bad[i]), -EINVAL);
		T_EQ(wd_cipher_sess_new(&s, q, WD_CIPHER_AES_GCM, key, block_bad[i]), -EINVAL);
	}
	for (i = 0; i < sizeof(xts_bad) / sizeof(xts_bad[0]); i++)
		T_EQ(wd_cipher_sess_new(&s, q, WD_CIPHER_AES_XTS, key, xts_bad[i]), -EINVAL);
	T_EQ(wd_cipher_sess_new(&s, q, WD_CIPHER_AES_XTS, key, 65), -EINVAL);
	T_EQ(wd_cipher_sess_new(&s, q, WD_CIPHER_AES_CBC, key, 128), -EINVAL);
	T_EQ(wd_cipher_sess_new(&s, q, (enum wd_cipher_alg)0, key, 16), -EINVAL);
	T_EQ(wd_cipher_sess_new(&s, q, (enum wd_cipher_alg)5, key, 16), -EINVAL);
	T_EQ(wd_cipher_sess_new(&s, q, WD_CIPHER_AES_CBC, NULL, 16), -EINVAL);
	T_EQ(wd_cipher_sess_new(&s, NULL, WD_CIPHER_AES_CBC, key, 16), -EINVAL);
	T_EQ(wd_cipher_sess_new(NULL, q, WD_CIPHER_AES_CBC, key, 16), -EINVAL);
	/* XTS with two equal keys (IEEE 1619 vector 1: both all zero) */
	memset(key, 0, sizeof(key));
	T_EQ(wd_cipher_sess_new(&s, q, WD_CIPHER_AES_XTS, key, 32), -EINVAL);
	memset(key, 0x5a, 64);
	T_EQ(wd_cipher_sess_new(&s, q, WD_CIPHER_AES_XTS, key, 64), -EINVAL);
	key[63] ^= 1;
	s = t_sess(q, WD_CIPHER_AES_XTS, key, 64); /* one bit apart is enough */
	wd_cipher_sess_free(s);
	/* a queue that is not for ciphers */
	T_EQ(wd_cipher_sess_new(&s, qz, WD_CIPHER_AES_CBC, key, 16), -EOPNOTSUPP);
	T_EQ(wd_cipher_sess_id(NULL), 0);
	wd_cipher_sess_free(NULL);
}

static void bad_requests(struct wd_queue *q, struct wd_cipher_sess *s, struct wd_cipher_sess *x)
{
	static const uint8_t iv[16];
	struct wd_range tab[2];
	struct wd_req r;
	uint16_t ids[] = { 0, 40, WD_MAX_SESSIONS + 1, 1000 };
	unsigned i;

	/* sessions that are not there */
	for (i = 0; i < 4; i++) {
		wd_prep_encrypt(&r, s, iv, (uintptr_t)buf, (uintptr_t)out, 64);
		r.session = ids[i];
		expect(q, &r, -EINVAL, "unknown session");
	}
	/* lengths: CBC whole blocks, XTS at least one, empty is fine otherwise */
	wd_prep_encrypt(&r, s, iv, (uintptr_t)buf, (uintptr_t)out, 17);
	expect(q, &r, -EINVAL, "CBC of 17 bytes");
	wd_prep_decrypt(&r, x, iv, (uintptr_t)buf, (uintptr_t)out, 15);
	expect(q, &r, -EINVAL, "XTS of 15 bytes");
	wd_prep_encrypt(&r, x, iv, (uintptr_t)buf, (uintptr_t)out, 0);
	expect(q, &r, -EINVAL, "XTS of nothing");
	wd_prep_encrypt(&r, s, iv, 0, 0, 0);
	expect(q, &r, 0, "CBC of nothing");
	wd_prep_encrypt(&r, x, iv, (uintptr_t)buf, (uintptr_t)out, 17);
	expect(q, &r, 0, "XTS of 17 bytes (ciphertext stealing)");
	wd_prep_encrypt(&r, s, iv, (uintptr_t)buf, (uintptr_t)out, WD_CIPHER_LEN_MAX + 16);
	expect(q, &r, -EMSGSIZE, "over WD_CIPHER_LEN_MAX");
	T_EQ(wd_encrypt(s, iv, buf, out, (size_t)WD_CIPHER_LEN_MAX + 16), -EMSGSIZE);
	/* addresses */
	wd_prep_encrypt(&r, s, iv, 0, (uintptr_t)out, 64);
	expect(q, &r, -EFAULT, "null source");
	wd_prep_encrypt(&r, s, iv, (uintptr_t)buf, 0xffff800000000000ull, 64);
	expect(q, &r, -EFAULT, "kernel destination");
	wd_prep_encrypt(&r, s, iv, (1ull << 47) - 32, (uintptr_t)out, 64);
	expect(q, &r, -EFAULT, "source past the end of user space");
	/* reserved fields and flags */
	wd_prep_encrypt(&r, s, iv, (uintptr_t)buf, (uintptr_t)out, 64);
	r.rsvd = 1;
	expect(q, &r, -EINVAL, "rsvd");
	wd_prep_encrypt(&r, s, iv, (uintptr_t)buf, (uintptr_t)out, 64);
	r.param = 1;
	expect(q, &r, -EINVAL, "param");
	wd_prep_encrypt(&r, s, iv, (uintptr_t)buf, (uintptr_t)out, 64);
	r.dst_len = 64;
	expect(q, &r, -EINVAL, "dst_len without a destination table");
	wd_prep_encrypt(&r, s, iv, (uintptr_t)buf, (uintptr_t)out, 64);
	r.flags = 4;
	expect(q, &r, -EINVAL, "unknown flag");
	/* overlap: in place is fine, a shifted destination is not */
	wd_prep_encrypt(&r, s, iv, (uintptr_t)buf, (uintptr_t)buf, 64);
	expect(q, &r, 0, "in place");
	wd_prep_encrypt(&r, s, iv, (uintptr_t)buf, (uintptr_t)(buf + 16), 64);
	expect(q, &r, -EINVAL, "destination overlapping the source");
	wd_prep_decrypt(&r, s, iv, (uintptr_t)(buf + 16), (uintptr_t)buf, 64);
	expect(q, &r, -EINVAL, "source overlapping the destination");
	/* scatter-gather: overlap across tables, short destination, bad counts */
	tab[0] = (struct wd_range){ (uintptr_t)buf, 32 };
	tab[1] = (struct wd_range){ (uintptr_t)(buf + 16), 32 };
	wd_prep_encrypt(&r, s, iv, (uintptr_t)&tab[0], (uintptr_t)&tab[1], 1);
	r.flags = WD_REQ_F_SRC_SG | WD_REQ_F_DST_SG;
	r.dst_len = 1;
	expect(q, &r, -EINVAL, "segments overlapping at other offsets");
	tab[1] = (struct wd_range){ (uintptr_t)out, 16 };
	expect(q, &r, -EINVAL, "destination table shorter than the source");
	r.len = 0;
	expect(q, &r, -EINVAL, "empty source table");
	r.len = 300;
	expect(q, &r, -EINVAL, "more segments than the device takes");
	tab[1] = (struct wd_range){ (uintptr_t)out, 64 };
	r.len = 1;
	expect(q, &r, 0, "destination table longer than the source");
	/* the queue serves ciphers only */
	wd_prep_compress(&r, out, sizeof(out), buf, 64, 1, WD_COMP_GZIP);
	expect(q, &r, -EOPNOTSUPP, "compression on a cipher queue");
}

/* A session closed while requests naming it wait: they complete with
 * -EINVAL, and its id is not handed out again until they are reaped. */
static void closed_in_flight(struct wd_queue *q, const uint8_t *key)
{
	static const uint8_t iv[16];
	struct wd_cipher_sess *s = t_sess(q, WD_CIPHER_AES_CTR, key, 16), *s2;
	uint16_t id = wd_cipher_sess_id(s);
	struct wd_req r[9];
	struct wd_cpl c[9];
	unsigned i, got = 0;
	int n;

	wd_prep_nop(&r[0], 200000000); /* the engine is busy 200 ms */
	for (i = 1; i < 9; i++)
		wd_prep_encrypt(&r[i], s, iv, (uintptr_t)buf, (uintptr_t)(out + 64 * i), 64);
	for (i = 0; i < 9; i++)
		r[i].tag = i;
	T_EQ(wd_send(q, r, 9), 9);
	T_EQ(wd_encrypt(s, iv, buf, out, 64), -EBUSY); /* the helper needs an idle queue */
	wd_cipher_sess_free(s);
	s2 = t_sess(q, WD_CIPHER_AES_CTR, key, 16);
	T_ASSERT(wd_cipher_sess_id(s2) != id);
	while (got < 9) {
		n = (int)T_OK(wd_wait(q, c, 9, 5000));
		for (i = 0; i < (unsigned)n; i++)
			T_EQ(c[i].status, c[i].tag ? -EINVAL : 0);
		got += (unsigned)n;
	}
	wd_cipher_sess_free(s2);
	s = t_sess(q, WD_CIPHER_AES_CTR, key, 16);
	T_EQ(wd_cipher_sess_id(s), id); /* idle again: the id is free */
	T_OK(wd_encrypt(s, iv, buf, out, 64));
	wd_cipher_sess_free(s);
}

/* WD_MAX_SESSIONS per queue, from the allocator compression streams use. */
static void exhaustion(struct wd_ctx *ctx, const uint8_t *key)
{
	struct wd_queue *q = t_queue(ctx, "aes-cbc", 8), *qz = t_queue(ctx, "gzip", 8);
	struct wd_cipher_sess *s[WD_MAX_SESSIONS], *extra;
	struct wd_comp_stream *z[WD_MAX_SESSIONS], *zx;
	uint64_t seen = 0;
	unsigned i;

	for (i = 0; i < WD_MAX_SESSIONS; i++) {
		s[i] = t_sess(q, WD_CIPHER_AES_CBC, key, 16);
		seen |= 1ull << (wd_cipher_sess_id(s[i]) - 1);
		T_OK(wd_comp_stream_new(&z[i], qz, WD_COMPRESS, WD_COMP_GZIP, 1));
	}
	T_EQ(seen, ~0ull); /* every id once */
	T_EQ(wd_cipher_sess_new(&extra, q, WD_CIPHER_AES_CBC, key, 16), -EBUSY);
	T_EQ(wd_comp_stream_new(&zx, qz, WD_COMPRESS, WD_COMP_GZIP, 1), -EBUSY);
	wd_cipher_sess_free(s[10]);
	wd_comp_stream_free(z[10]);
	s[10] = t_sess(q, WD_CIPHER_AES_CBC, key, 16);
	T_OK(wd_comp_stream_new(&z[10], qz, WD_COMPRESS, WD_COMP_GZIP, 1));
	for (i = 0; i < WD_MAX_SESSIONS; i++) {
		wd_cipher_sess_free(s[i]);
		wd_comp_stream_free(z[i]);
	}
	wd_queue_free(qz);
	wd_queue_free(q);
}

static void explicit_faults(struct wd_ctx *ctx, const uint8_t *key)
{
	static const uint8_t iv[16];
	struct wd_queue *q = t_xqueue(ctx, "cipher", NULL);
	struct wd_domain *d = wd_queue_domain(q);
	struct wd_cipher_sess *s = t_sess(q, WD_CIPHER_AES_CBC, key, 16);
	size_t ps = t_page();
	uint8_t *m = wd_mem_alloc(2 * ps);
	uint64_t rw, ro;
	struct wd_req r;

	T_OK(wd_share(d, m, ps, 0, &rw));
	T_OK(wd_share(d, m + ps, ps, WD_SHARE_READONLY, &ro));
	wd_prep_encrypt(&r, s, iv, rw, rw, 64);
	expect(q, &r, 0, "in place in shared memory");
	wd_prep_encrypt(&r, s, iv, (uintptr_t)buf, rw, 64);
	expect(q, &r, -EFAULT, "source not shared");
	wd_prep_encrypt(&r, s, iv, rw + ps - 32, rw, 64);
	expect(q, &r, -EFAULT, "source running past its share");
	wd_prep_encrypt(&r, s, iv, ro, rw, 64);
	expect(q, &r, 0, "source read-only");
	wd_prep_encrypt(&r, s, iv, rw, ro, 64);
	expect(q, &r, -EFAULT, "destination read-only");
	wd_cipher_sess_free(s);
	T_OK(wd_unshare(d, rw, 0, -1));
	T_OK(wd_unshare(d, ro, 0, -1));
	wd_queue_free(q);
	wd_mem_free(m, 2 * ps);
}

/* The largest request, XTS: one data unit of WD_CIPHER_LEN_MAX bytes. */
static void largest(struct wd_queue *q, uint64_t *seed)
{
	uint8_t key[64], iv[16];
	size_t key_len = t_rand_key(WD_CIPHER_AES_XTS, key, seed), len = WD_CIPHER_LEN_MAX;
	uint8_t *in = malloc(len), *o = malloc(len), *want = malloc(len);
	struct wd_cipher_sess *s = t_sess(q, WD_CIPHER_AES_XTS, key, key_len);

	T_ASSERT(in && o && want);
	t_fill_random(in, len, seed);
	t_fill_random(iv, 16, seed);
	t_ref(WD_CIPHER_AES_XTS, key, key_len, iv, in, want, len, 1);
	T_OK(wd_encrypt(s, iv, in, o, len));
	T_ASSERT(!memcmp(o, want, len));
	wd_cipher_sess_free(s);
	free(in);
	free(o);
	free(want);
}

int main(void)
{
	uint64_t seed = t_seed();
	struct wd_ctx *ctx = t_ctx(1, 0);
	struct wd_queue *q = t_queue(ctx, "cipher", 16), *qz = t_queue(ctx, "gzip", 16);
	struct wd_cipher_sess *s, *x;
	uint8_t key[64];

	t_fill_random(key, sizeof(key), &seed);
	t_fill_random(buf, sizeof(buf), &seed);
	bad_keys(q, qz);
	s = t_sess(q, WD_CIPHER_AES_CBC, key, 16);
	x = t_sess(q, WD_CIPHER_AES_XTS, key, 64);
	bad_requests(q, s, x);
	wd_cipher_sess_free(s);
	wd_cipher_sess_free(x);
	closed_in_flight(q, key);
	exhaustion(ctx, key);
	explicit_faults(ctx, key);
	largest(q, &seed);
	/* a stopped queue takes no new session; freeing one is still fine */
	s = t_sess(q, WD_CIPHER_AES_CBC, key, 16);
	T_OK(wd_queue_stop(q));
	T_EQ(wd_cipher_sess_new(&x, q, WD_CIPHER_AES_CBC, key, 16), -ESHUTDOWN);
	wd_cipher_sess_free(s);
	wd_queue_free(qz);
	wd_queue_free(q);
	wd_ctx_free(ctx);
	return 0;
}
