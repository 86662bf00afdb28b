/* Ciphers through the daemon: sessions set over the control socket, every
 * mode on the client's own pointers (SVA) and on shared memory (explicit,
 * scatter-gather included), checked against OpenSSL; a closed session
 * fails its requests; a client cannot reach another client's queues. */
#include <sys/socket.h>
#include "core/internal.h"
#include "t_crypto.h"
#include "t_wdd.h"

static uint64_t seed;

/* One random request of mode alg, synchronous, out of place and in place. */
static void sva_mode(struct wd_queue *q, enum wd_cipher_alg alg)
{
	uint8_t key[64], iv[16];
	size_t key_len = t_rand_key(alg, key, &seed), len = t_rand_len(alg, 200000, &seed);
	uint8_t *in = malloc(len + 1), *o = malloc(len + 1), *want = malloc(len + 1);
	struct wd_cipher_sess *s = t_sess(q, alg, key, key_len);

	t_fill_random(in, len, &seed);
	t_fill_random(iv, 16, &seed);
	t_ref(alg, key, key_len, iv, in, want, len, 1);
	T_OK(wd_encrypt(s, iv, in, o, len));
	T_ASSERT(!memcmp(o, want, len));
	T_OK(wd_decrypt(s, iv, o, o, len)); /* in place */
	T_ASSERT(!memcmp(o, in, len));
	wd_cipher_sess_free(s);
	free(in);
	free(o);
	free(want);
}

/* A batch of the three modes in flight at once; then a closed session. */
static void sva_batch(struct wd_queue *q)
{
	static const uint8_t iv[16] = { 1, 2, 3 };
	struct wd_cipher_sess *s[3];
	uint8_t key[3][64], in[4096], o[3][4096], want[4096];
	size_t kl[3];
	struct wd_req r[3];
	struct wd_cpl c[3];
	unsigned i, got = 0;
	int n;

	t_fill_random(in, sizeof(in), &seed);
	for (i = 0; i < 3; i++) {
		kl[i] = t_rand_key((enum wd_cipher_alg)(i + 1), key[i], &seed);
		s[i] = t_sess(q, (enum wd_cipher_alg)(i + 1), key[i], kl[i]);
		wd_prep_encrypt(&r[i], s[i], iv, (uintptr_t)in, (uintptr_t)o[i], sizeof(in));
		r[i].tag = i;
	}
	T_EQ(wd_send(q, r, 3), 3);
	while (got < 3) {
		n = (int)T_OK(wd_wait(q, c, 3, 5000));
		for (i = 0; i < (unsigned)n; i++)
			T_EQ(c[i].status, 0);
		got += (unsigned)n;
	}
	for (i = 0; i < 3; i++) {
		t_ref((enum wd_cipher_alg)(i + 1), key[i], kl[i], iv, in, want, sizeof(in), 1);
		T_ASSERT(!memcmp(o[i], want, sizeof(in)));
	}
	/* scatter-gather needs explicit sharing on the daemon */
	r[0].flags = WD_REQ_F_SRC_SG;
	r[0].len = 1;
	T_EQ(t_run(q, &r[0]).status, -EOPNOTSUPP);
	for (i = 0; i < 3; i++)
		wd_cipher_sess_free(s[i]);
	r[1].flags = 0;
	T_EQ(t_run(q, &r[1]).status, -EINVAL); /* its session is closed */
}

/* Shared memory at IOVAs: a plain request and a scatter-gather one. */
static void explicit(struct wd_ctx *ctx)
{
	struct wd_queue *q = t_wdd_queue(ctx, "cipher", WD_QUEUE_F_EXPLICIT, NULL);
	struct wd_domain *d = wd_queue_domain(q);
	size_t ps = t_page(), len = 3 * 4096 + 5;
	uint8_t *m = wd_mem_alloc(8 * ps), key[64], iv[16], want[3 * 4096 + 5];
	struct wd_range *tab = (struct wd_range *)(m + 7 * ps + 2048);
	struct wd_cipher_sess *s;
	size_t key_len = t_rand_key(WD_CIPHER_AES_CTR, key, &seed);
	uint64_t iova, in, o, off;
	struct wd_req r;
	unsigned i;

	T_OK(wd_share(d, m, 8 * ps, 0, &iova));
	s = t_sess(q, WD_CIPHER_AES_CTR, key, key_len);
	in = iova;
	o = iova + 4 * ps;
	t_fill_random(m, len, &seed);
	t_fill_random(iv, 16, &seed);
	t_ref(WD_CIPHER_AES_CTR, key, key_len, iv, m, want, len, 1);
	wd_prep_encrypt(&r, s, iv, in, o, (uint32_t)len);
	r.tag = 1;
	T_EQ(t_run(q, &r).status, 0);
	T_ASSERT(!memcmp(m + 4 * ps, want, len));
	/* the output scattered in odd pieces, the table in shared memory too */
	memset(m + 4 * ps, 0, 3 * ps);
	for (i = 0, off = 0; i < 5; i++) {
		uint64_t k = i < 4 ? 1000 + 777 * i : len - off;

		tab[i].addr = o + off + 7 * i;
		tab[i].len = k;
		off += k;
	}
	wd_prep_encrypt(&r, s, iv, in, 0, (uint32_t)len);
	r.flags = WD_REQ_F_DST_SG;
	r.dst = iova + 7 * ps + 2048;
	r.dst_len = 5;
	T_EQ(t_run(q, &r).status, 0);
	for (i = 0, off = 0; i < 5; i++) {
		T_ASSERT(!memcmp(m + 4 * ps + (tab[i].addr - o), want + off, tab[i].len));
		off += tab[i].len;
	}
	wd_cipher_sess_free(s);
	T_OK(wd_unshare(d, iova, 0, -1));
	wd_queue_free(q);
	wd_mem_free(m, 8 * ps);
}

/* Speak the protocol directly on a client's connection: one cipher
 * message, its status. */
static int raw_cipher(struct wd_ctx *ctx, const struct wdd_cipher_req *req, uint32_t len)
{
	int fd = *(int *)wd_dev_by_name(ctx, "wdd0")->priv; /* struct wdd_conn.fd */
	struct {
		struct wdd_hdr h;
		struct wdd_cipher_req c;
	} m;
	struct wdd_hdr rep;

	memset(&m, 0, sizeof(m));
	m.h = (struct wdd_hdr){ .magic = WDD_MAGIC, .type = WDD_CIPHER_SESSION, .len = len,
				.seq = 4242 };
	m.c = *req;
	T_EQ(send(fd, &m, sizeof(m.h) + len, 0), (ssize_t)(sizeof(m.h) + len));
	T_EQ(recv(fd, &rep, sizeof(rep), 0), (ssize_t)sizeof(rep));
	T_EQ(rep.seq, 4242);
	return rep.status;
}

/* Client A (one queue) names queue 3, which only client B has. */
static void isolation(struct wd_ctx *a, struct wd_queue *qa)
{
	struct wd_ctx *b = t_wdd_ctx();
	struct wd_queue *qb[3];
	struct wd_cipher_sess *sb;
	struct wdd_cipher_req req = { .queue = 3, .session = 1,
				      .setup = { .alg = WD_CIPHER_AES_CBC, .key_len = 16 } };
	uint8_t iv[16] = { 0 }, in[64] = { 0 }, o[64], want[64];
	unsigned i;

	for (i = 0; i < 3; i++)
		qb[i] = t_wdd_queue(b, "cipher", 0, NULL);
	sb = t_sess(qb[2], WD_CIPHER_AES_CBC, req.setup.key, 16);
	req.setup.key[0] = 1;
	T_EQ(raw_cipher(a, &req, sizeof(req)), -ENOENT);
	req.setup.alg = 0;
	req.setup.key_len = 0;
	memset(req.setup.key, 0, sizeof(req.setup.key));
	T_EQ(raw_cipher(a, &req, sizeof(req)), -ENOENT); /* nor close it */
	/* B's session is still B's, with B's key */
	t_ref(WD_CIPHER_AES_CBC, req.setup.key, 16, iv, in, want, sizeof(in), 1);
	T_OK(wd_encrypt(sb, iv, in, o, sizeof(in)));
	T_ASSERT(!memcmp(o, want, sizeof(in)));
	/* and what the daemon checks on A's own queue */
	req.queue = 1;
	req.setup = (struct wd_cipher_setup){ .alg = WD_CIPHER_AES_CBC, .key_len = 15 };
	T_EQ(raw_cipher(a, &req, sizeof(req)), -EINVAL);
	req.setup = (struct wd_cipher_setup){ .alg = WD_CIPHER_AES_XTS, .key_len = 32 };
	T_EQ(raw_cipher(a, &req, sizeof(req)), -EINVAL); /* equal halves */
	req.setup = (struct wd_cipher_setup){ .alg = 9, .key_len = 16 };
	T_EQ(raw_cipher(a, &req, sizeof(req)), -EINVAL);
	req.setup = (struct wd_cipher_setup){ .alg = 0, .key_len = 16 };
	T_EQ(raw_cipher(a, &req, sizeof(req)), -EINVAL); /* a close carries no key */
	req.setup = (struct wd_cipher_setup){ .alg = WD_CIPHER_AES_CBC, .key_len = 16 };
	req.session = 0;
	T_EQ(raw_cipher(a, &req, sizeof(req)), -EINVAL);
	req.session = WD_MAX_SESSIONS + 1;
	T_EQ(raw_cipher(a, &req, sizeof(req)), -EINVAL);
	req.session = 1;
	T_EQ(raw_cipher(a, &req, sizeof(req) - 4), -EINVAL); /* short message */
	T_EQ(raw_cipher(a, &req, sizeof(req)), 0);
	{
		struct wd_queue_info qi = { .size = sizeof(qi) };

		T_OK(wd_queue_info(qa, &qi)); /* A's own queue 1 is still fine */
	}
	wd_cipher_sess_free(sb);
	for (i = 0; i < 3; i++)
		wd_queue_free(qb[i]);
	wd_ctx_free(b);
}

int main(int argc, char **argv)
{
	struct t_wdd w = { 0 };
	struct wd_ctx *ctx;
	struct wd_dev *dev;
	struct wd_queue *q;
	int i;

	if (argc < 2)
		return T_SKIP;
	seed = t_seed();
	t_wdd_start(&w, argv[1], NULL);
	ctx = t_wdd_ctx();
	dev = wd_dev_by_name(ctx, "wdd0");
	T_ASSERT(wd_dev_has_alg(dev, "cipher") && wd_dev_has_alg(dev, "aes-cbc") &&
		 wd_dev_has_alg(dev, "aes-ctr") && wd_dev_has_alg(dev, "aes-xts"));
	q = t_wdd_queue(ctx, "cipher", 0, NULL);
	for (i = 0; i < 30; i++)
		sva_mode(q, (enum wd_cipher_alg)(1 + i % 3));
	sva_batch(q);
	explicit(ctx);
	isolation(ctx, q);
	wd_queue_free(q);
	wd_ctx_free(ctx);
	t_wdd_cleanup(&w);
	return 0;
}
