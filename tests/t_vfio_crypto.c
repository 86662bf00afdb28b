/* AES through the user-space virtio-crypto driver: NIST known answers, then
 * random keys, IVs and sizes checked against OpenSSL called directly -
 * contiguous, in place, batched and scatter-gather. */
#include "t_crypto.h"
#include "t_vfio.h"

static const uint8_t kat_pt[64] = {
	0x6b, 0xc1, 0xbe, 0xe2, 0x2e, 0x40, 0x9f, 0x96, 0xe9, 0x3d, 0x7e, 0x11, 0x73, 0x93, 0x17, 0x2a,
	0xae, 0x2d, 0x8a, 0x57, 0x1e, 0x03, 0xac, 0x9c, 0x9e, 0xb7, 0x6f, 0xac, 0x45, 0xaf, 0x8e, 0x51,
	0x30, 0xc8, 0x1c, 0x46, 0xa3, 0x5c, 0xe4, 0x11, 0xe5, 0xfb, 0xc1, 0x19, 0x1a, 0x0a, 0x52, 0xef,
	0xf6, 0x9f, 0x24, 0x45, 0xdf, 0x4f, 0x9b, 0x17, 0xad, 0x2b, 0x41, 0x7b, 0xe6, 0x6c, 0x37, 0x10,
};
static const uint8_t kat_iv[16] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15 };

/* SP 800-38A F.2.1 and F.2.5: AES-128-CBC and AES-256-CBC */
static const struct {
	uint8_t key[32];
	unsigned key_len;
	uint8_t ct[64];
} kat[] = {
	{ { 0x2b, 0x7e, 0x15, 0x16, 0x28, 0xae, 0xd2, 0xa6, 0xab, 0xf7, 0x15, 0x88, 0x09, 0xcf,
	    0x4f, 0x3c },
	  16,
	  { 0x76, 0x49, 0xab, 0xac, 0x81, 0x19, 0xb2, 0x46, 0xce, 0xe9, 0x8e, 0x9b, 0x12, 0xe9,
	    0x19, 0x7d, 0x50, 0x86, 0xcb, 0x9b, 0x50, 0x72, 0x19, 0xee, 0x95, 0xdb, 0x11, 0x3a,
	    0x91, 0x76, 0x78, 0xb2, 0x73, 0xbe, 0xd6, 0xb8, 0xe3, 0xc1, 0x74, 0x3b, 0x71, 0x16,
	    0xe6, 0x9e, 0x22, 0x22, 0x95, 0x16, 0x3f, 0xf1, 0xca, 0xa1, 0x68, 0x1f, 0xac, 0x09,
	    0x12, 0x0e, 0xca, 0x30, 0x75, 0x86, 0xe1, 0xa7 } },
	{ { 0x60, 0x3d, 0xeb, 0x10, 0x15, 0xca, 0x71, 0xbe, 0x2b, 0x73, 0xae, 0xf0, 0x85, 0x7d,
	    0x77, 0x81, 0x1f, 0x35, 0x2c, 0x07, 0x3b, 0x61, 0x08, 0xd7, 0x2d, 0x98, 0x10, 0xa3,
	    0x09, 0x14, 0xdf, 0xf4 },
	  32,
	  { 0xf5, 0x8c, 0x4c, 0x04, 0xd6, 0xe5, 0xf1, 0xba, 0x77, 0x9e, 0xab, 0xfb, 0x5f, 0x7b,
	    0xfb, 0xd6, 0x9c, 0xfc, 0x4e, 0x96, 0x7e, 0xdb, 0x80, 0x8d, 0x67, 0x9f, 0x77, 0x7b,
	    0xc6, 0x70, 0x2c, 0x7d, 0x39, 0xf2, 0x33, 0x69, 0xa9, 0xd9, 0xba, 0xcf, 0xa5, 0x30,
	    0xe2, 0x63, 0x04, 0x23, 0x14, 0x61, 0xb2, 0xeb, 0x05, 0xe2, 0xc3, 0x9b, 0xe9, 0xfc,
	    0xda, 0x6c, 0x19, 0x07, 0x8c, 0x6a, 0x9d, 0x1b } },
};

#define BUF (256 * 1024)

struct bufs {
	uint8_t *src, *dst;
	uint64_t src_iova, dst_iova;
};

static void run(struct wd_queue *q, struct wd_cipher_sess *s, int enc, const uint8_t *iv,
		uint64_t src, uint64_t dst, unsigned len)
{
	struct wd_req r;
	struct wd_cpl c;

	if (enc)
		wd_prep_encrypt(&r, s, iv, src, dst, len);
	else
		wd_prep_decrypt(&r, s, iv, src, dst, len);
	r.tag = 7;
	c = t_run(q, &r);
	if (c.status)
		T_FAIL("request of %u bytes: %s", len, wd_strerror(c.status));
	T_EQ(c.result, len);
}

static void known_answers(struct wd_queue *q, struct bufs *b)
{
	struct wd_cipher_sess *s;
	unsigned i;

	for (i = 0; i < sizeof(kat) / sizeof(kat[0]); i++) {
		T_OK(wd_cipher_sess_new(&s, q, WD_CIPHER_AES_CBC, kat[i].key, kat[i].key_len));
		memcpy(b->src, kat_pt, 64);
		run(q, s, 1, kat_iv, b->src_iova, b->dst_iova, 64);
		T_ASSERT(!memcmp(b->dst, kat[i].ct, 64));
		run(q, s, 0, kat_iv, b->dst_iova, b->dst_iova, 64); /* in place */
		T_ASSERT(!memcmp(b->dst, kat_pt, 64));
		wd_cipher_sess_free(s);
	}
	fprintf(stderr, "AES-128/256-CBC known answers: ok\n");
}

static unsigned rand_len(enum wd_cipher_alg alg, uint64_t *seed)
{
	unsigned len = 1 + (unsigned)(t_rand(seed) % (BUF / 2));

	if (alg == WD_CIPHER_AES_CBC)
		len = (len + 15) & ~15u;
	if (alg == WD_CIPHER_AES_XTS && len < 16)
		len = 16;
	return len;
}

/* Random requests, several in flight, each checked against OpenSSL. */
/* The software engine (soft0) must agree too: the two paths cross-check. */
static void soft_check(struct wd_queue *sq, enum wd_cipher_alg alg, int enc, const uint8_t *key,
		       unsigned key_len, const uint8_t *iv, const uint8_t *in, const uint8_t *dev_out,
		       unsigned len)
{
	struct wd_cipher_sess *s;
	uint8_t *out = malloc(len);

	T_ASSERT(out);
	T_OK(wd_cipher_sess_new(&s, sq, alg, key, key_len));
	T_OK(enc ? wd_encrypt(s, iv, in, out, len) : wd_decrypt(s, iv, in, out, len));
	if (memcmp(out, dev_out, len))
		T_FAIL("alg %d: %u bytes: device and software engine differ", alg, len);
	wd_cipher_sess_free(s);
	free(out);
}

static struct wd_queue *soft_q;

static void cross(struct wd_queue *q, struct bufs *b, enum wd_cipher_alg alg, unsigned key_len,
		  uint64_t *seed)
{
	enum { N = 8 };
	uint8_t key[64], iv[N][16], *want = malloc(BUF);
	unsigned len[N], off[N], i, round, done;
	struct wd_cipher_sess *s;
	struct wd_req r[N];
	struct wd_cpl c[N];

	T_ASSERT(want);
	for (round = 0; round < 6; round++) {
		int enc = round & 1;

		t_fill_random(key, sizeof(key), seed);
		T_OK(wd_cipher_sess_new(&s, q, alg, key, key_len));
		t_fill_random(b->src, BUF, seed);
		for (i = 0, done = 0; i < N; i++) {
			len[i] = rand_len(alg, seed) / N + 16;
			len[i] = alg == WD_CIPHER_AES_CBC ? len[i] & ~15u : len[i];
			off[i] = i * (BUF / N);
			t_fill_random(iv[i], 16, seed);
			if (enc)
				wd_prep_encrypt(&r[i], s, iv[i], b->src_iova + off[i],
						b->dst_iova + off[i], len[i]);
			else
				wd_prep_decrypt(&r[i], s, iv[i], b->src_iova + off[i],
						b->dst_iova + off[i], len[i]);
			r[i].tag = i;
		}
		T_EQ(wd_send(q, r, N), N);
		while (done < N) {
			int n = wd_wait(q, c, N, 5000);

			T_ASSERT(n > 0);
			for (i = 0; i < (unsigned)n; i++) {
				unsigned k = (unsigned)c[i].tag;

				T_EQ(c[i].status, 0);
				T_EQ(c[i].result, len[k]);
				t_ref(alg, key, key_len, iv[k], b->src + off[k], want, len[k], enc);
				if (memcmp(want, b->dst + off[k], len[k]))
					T_FAIL("alg %d key %u: %u bytes differ from OpenSSL", alg,
					       key_len, len[k]);
				if (k == 0)
					soft_check(soft_q, alg, enc, key, key_len, iv[k],
						   b->src + off[k], b->dst + off[k], len[k]);
			}
			done += (unsigned)n;
		}
		wd_cipher_sess_free(s);
	}
	free(want);
	fprintf(stderr, "alg %d key %u: %u batches of %d vs OpenSSL and soft0: ok\n", alg,
		key_len, round, N);
}

/* The same data as one buffer and as an odd scatter-gather split. */
static void scatter(struct t_vfio *t, struct wd_queue *q, struct bufs *b, uint64_t *seed)
{
	uint8_t key[16], iv[16];
	struct wd_range *tab;
	uint64_t tab_iova, cut[4] = { 0, 48, 4096 + 16, 3 * 4096 };
	struct wd_cipher_sess *s;
	struct wd_req r;
	unsigned i, len = 4 * 4096;

	tab = t_vfio_buf(t, 4096, &tab_iova);
	t_fill_random(key, 16, seed);
	t_fill_random(iv, 16, seed);
	t_fill_random(b->src, len, seed);
	T_OK(wd_cipher_sess_new(&s, q, WD_CIPHER_AES_CBC, key, 16));
	run(q, s, 1, iv, b->src_iova, b->dst_iova, len);
	memcpy(b->src + BUF / 2, b->dst, len); /* the contiguous answer */
	memset(b->dst, 0, len);
	for (i = 0; i < 4; i++) { /* pieces in reverse order in memory */
		uint64_t end = i < 3 ? cut[i + 1] : len;

		tab[i].addr = b->dst_iova + (len - end);
		tab[i].len = end - cut[i];
	}
	wd_prep_encrypt(&r, s, iv, b->src_iova, tab_iova, len);
	r.flags = WD_REQ_F_DST_SG;
	r.dst_len = 4;
	r.tag = 1;
	T_EQ(t_run(q, &r).status, 0);
	for (i = 0; i < 4; i++) {
		uint64_t end = i < 3 ? cut[i + 1] : len;

		T_ASSERT(!memcmp(b->dst + (len - end), b->src + BUF / 2 + cut[i], end - cut[i]));
	}
	/* a source table in odd pieces, and a destination table longer than
	 * the data (its last entry runs on): the same answer */
	memset(b->dst, 0, len + 4096);
	for (i = 0; i < 4; i++) {
		uint64_t end = i < 3 ? cut[i + 1] : len;

		tab[i].addr = b->src_iova + cut[i];
		tab[i].len = end - cut[i];
	}
	tab[4].addr = b->dst_iova;
	tab[4].len = 100;
	tab[5].addr = b->dst_iova + 100;
	tab[5].len = len; /* 100 bytes more than needed */
	wd_prep_encrypt(&r, s, iv, tab_iova, tab_iova + 4 * sizeof(*tab), 4);
	r.flags = WD_REQ_F_SRC_SG | WD_REQ_F_DST_SG;
	r.dst_len = 2;
	r.tag = 2;
	struct wd_cpl c = t_run(q, &r);

	T_EQ(c.status, 0);
	T_EQ(c.result, len);
	T_ASSERT(!memcmp(b->dst, b->src + BUF / 2, len));
	T_ASSERT(b->dst[len] == 0); /* nothing past the data */
	/* a destination table shorter than the data */
	tab[5].len = len - 200;
	T_EQ(t_run(q, &r).status, -EINVAL);
	wd_cipher_sess_free(s);
	fprintf(stderr, "scatter-gather source and destination: ok\n");
}

int main(void)
{
	static const struct {
		enum wd_cipher_alg alg;
		const char *name;
		unsigned keys[2];
	} modes[] = {
		{ WD_CIPHER_AES_CBC, "aes-cbc", { 16, 32 } },
		{ WD_CIPHER_AES_CTR, "aes-ctr", { 16, 32 } },
		{ WD_CIPHER_AES_XTS, "aes-xts", { 32, 64 } },
	};
	struct t_vfio t;
	struct bufs b;
	struct wd_queue *q;
	uint64_t seed = t_seed();
	unsigned i, k;
	int ret = t_vfio_open(&t);

	if (ret)
		return ret;
	q = t_vfio_queue(&t, 64);
	{
		struct wd_queue_opts o = { .size = sizeof(o), .depth = 16, .device = "soft0" };

		T_OK(wd_queue_new(&soft_q, t.ctx, "cipher", &o)); /* the software engine, SVA */
	}
	b.src = t_vfio_buf(&t, BUF, &b.src_iova);
	b.dst = t_vfio_buf(&t, BUF, &b.dst_iova);
	T_ASSERT(t_vfio_has(&t, "aes-cbc"));
	known_answers(q, &b);
	for (i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		if (!t_vfio_has(&t, modes[i].name)) {
			struct wd_cipher_sess *s;
			uint8_t key[64] = { 1 };

			fprintf(stderr, "%s: not offered by the device\n", modes[i].name);
			T_EQ(wd_cipher_sess_new(&s, q, modes[i].alg, key, modes[i].keys[0]),
			     -EOPNOTSUPP);
			continue;
		}
		for (k = 0; k < 2; k++)
			cross(q, &b, modes[i].alg, modes[i].keys[k], &seed);
	}
	scatter(&t, q, &b, &seed);
	wd_queue_free(soft_q);
	wd_queue_free(q);
	t_vfio_close(&t);
	return 0;
}
