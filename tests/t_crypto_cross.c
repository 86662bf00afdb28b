/* Random keys, IVs and sizes of every mode through a queue, checked
 * against OpenSSL called directly: out of place and in place, batches of
 * sessions in flight at once, scatter-gather tables cut at odd places
 * (either side or both), and an explicit-mode queue whose buffers and
 * tables are shared memory. */
#include "t_crypto.h"
#include "t_mem_helpers.h"

#define MAX_LEN (64u << 10)
#define MAX_SEGS 32
#define BATCH 8
#define ROUNDS 150

/* Where requests point: the process's own memory (SVA) or a shared pool
 * at an IOVA (explicit); tables live at the end. */
struct space {
	uint8_t *base;
	uint64_t dev;           /* device address of base */
	uint8_t *src, *dst;     /* regions of max_len + gaps each */
	struct wd_range *tabs;  /* two tables of MAX_SEGS */
	size_t region;
};

static uint64_t dev_addr(const struct space *sp, const void *p)
{
	return sp->dev + (uint64_t)((const uint8_t *)p - sp->base);
}

static size_t space_size(void)
{
	return 2 * (MAX_LEN + 64 * MAX_SEGS) + 2 * MAX_SEGS * sizeof(struct wd_range);
}

static void space_init(struct space *sp, uint8_t *base, uint64_t dev)
{
	sp->base = base;
	sp->dev = dev;
	sp->region = MAX_LEN + 64 * MAX_SEGS;
	sp->src = base;
	sp->dst = base + sp->region;
	sp->tabs = (struct wd_range *)(base + 2 * sp->region);
}

static enum wd_cipher_alg rand_alg(uint64_t *seed)
{
	return (enum wd_cipher_alg)(1 + t_rand(seed) % 3);
}

/* ---- contiguous buffers, batches of sessions ---- */

struct one {
	enum wd_cipher_alg alg;
	uint8_t key[64], iv[16];
	size_t key_len, len;
	int enc, in_place;
	uint8_t *in, *out, *want;
	struct wd_cipher_sess *s;
};

static void one_setup(struct one *o, struct wd_queue *q, uint64_t *seed, size_t max)
{
	o->alg = rand_alg(seed);
	o->key_len = t_rand_key(o->alg, o->key, seed);
	t_fill_random(o->iv, 16, seed);
	o->len = t_rand_len(o->alg, max, seed);
	o->enc = (int)(t_rand(seed) & 1);
	o->in_place = (int)(t_rand(seed) % 3 == 0);
	o->in = malloc(o->len + 1);
	o->out = o->in_place ? o->in : malloc(o->len + 1);
	o->want = malloc(o->len + 1);
	T_ASSERT(o->in && o->out && o->want);
	t_fill_random(o->in, o->len, seed);
	t_ref(o->alg, o->key, o->key_len, o->iv, o->in, o->want, o->len, o->enc);
	o->s = t_sess(q, o->alg, o->key, o->key_len);
}

static void one_done(struct one *o, uint64_t seed)
{
	if (memcmp(o->out, o->want, o->len))
		T_FAIL("mode %d key %zu len %zu %s %s: output differs (seed %llu)", o->alg,
		       o->key_len, o->len, o->enc ? "encrypt" : "decrypt",
		       o->in_place ? "in place" : "out of place", (unsigned long long)seed);
	wd_cipher_sess_free(o->s); /* NULL: already closed */
	if (!o->in_place)
		free(o->out);
	free(o->in);
	free(o->want);
}

static void batches(struct wd_queue *q, uint64_t *seed)
{
	struct one o[BATCH];
	struct wd_req r[BATCH];
	struct wd_cpl c[BATCH];
	unsigned i, round, got;
	uint64_t seed0 = *seed;
	int n;

	for (round = 0; round < ROUNDS; round++) {
		unsigned nb = 1 + (unsigned)(t_rand(seed) % BATCH);

		for (i = 0; i < nb; i++) {
			/* now and then a large one */
			one_setup(&o[i], q, seed, t_rand(seed) % 16 ? MAX_LEN : 1u << 20);
			if (o[i].enc)
				wd_prep_encrypt(&r[i], o[i].s, o[i].iv, (uintptr_t)o[i].in,
						(uintptr_t)o[i].out, (uint32_t)o[i].len);
			else
				wd_prep_decrypt(&r[i], o[i].s, o[i].iv, (uintptr_t)o[i].in,
						(uintptr_t)o[i].out, (uint32_t)o[i].len);
			r[i].tag = i;
		}
		T_EQ(wd_send(q, r, nb), nb);
		for (got = 0; got < nb; got += (unsigned)n) {
			n = (int)T_OK(wd_wait(q, c, BATCH, 10000));
			for (i = 0; i < (unsigned)n; i++) {
				T_EQ(c[i].status, 0);
				T_EQ(c[i].result, o[c[i].tag].len);
			}
		}
		for (i = 0; i < nb; i++)
			one_done(&o[i], seed0);
	}
	/* and the synchronous helpers */
	for (round = 0; round < 20; round++) {
		one_setup(&o[0], q, seed, MAX_LEN);
		T_OK((o[0].enc ? wd_encrypt : wd_decrypt)(o[0].s, o[0].iv, o[0].in, o[0].out,
							  o[0].len));
		one_done(&o[0], seed0);
	}
}

/* ---- sessions set and closed while the engine works ---- */

#define CHURN 40

/* A long stream of requests on one session, while sessions come and go
 * beside it, each used by one request and closed while that may still be
 * in flight: every request either completes right (with its own key) or,
 * its session closed first, with -EINVAL. */
static void churn(struct wd_queue *q, uint64_t *seed)
{
	struct one base[16], x[CHURN];
	struct wd_req r;
	struct wd_cpl c[64];
	unsigned i, sent = 0, got = 0;
	int n, status[16 + CHURN];

	for (i = 0; i < 16; i++) {
		one_setup(&base[i], q, seed, MAX_LEN);
		wd_prep_encrypt(&r, base[i].s, base[i].iv, (uintptr_t)base[i].in,
				(uintptr_t)base[i].out, (uint32_t)base[i].len);
		r.op = base[i].enc ? WD_OP_ENCRYPT : WD_OP_DECRYPT;
		r.tag = sent++;
		T_EQ(wd_send(q, &r, 1), 1);
	}
	for (i = 0; i < CHURN; i++) {
		one_setup(&x[i], q, seed, 4096);
		wd_prep_encrypt(&r, x[i].s, x[i].iv, (uintptr_t)x[i].in, (uintptr_t)x[i].out,
				(uint32_t)x[i].len);
		r.op = x[i].enc ? WD_OP_ENCRYPT : WD_OP_DECRYPT;
		r.tag = sent++;
		T_EQ(wd_send(q, &r, 1), 1);
		if (i) {
			wd_cipher_sess_free(x[i - 1].s);
			x[i - 1].s = NULL;
		}
	}
	while (got < sent) {
		n = (int)T_OK(wd_wait(q, c, 64, 10000));
		for (i = 0; i < (unsigned)n; i++)
			status[c[i].tag] = c[i].status;
		got += (unsigned)n;
	}
	for (i = 0; i < 16; i++) {
		T_EQ(status[i], 0);
		one_done(&base[i], 0);
	}
	for (i = 0; i < CHURN; i++) {
		T_ASSERT(status[16 + i] == 0 || status[16 + i] == -EINVAL);
		if (status[16 + i])
			memcpy(x[i].out, x[i].want, x[i].len); /* closed first: nothing to check */
		one_done(&x[i], 0);
	}
}

/* ---- scatter-gather ---- */

/* Cut len bytes into 1..MAX_SEGS segments (some empty) spread over region
 * with gaps; fills tab with device addresses.  Returns the count. */
static uint32_t cut(const struct space *sp, uint8_t *region, size_t len, struct wd_range *tab,
		    uint64_t *seed)
{
	uint32_t n = 1 + (uint32_t)(t_rand(seed) % MAX_SEGS), i;
	size_t left = len, off = 0, k;

	for (i = 0; i < n; i++) {
		k = i + 1 == n ? left : (size_t)(t_rand(seed) % (2 * left / (n - i) + 1));
		if (k > left)
			k = left;
		off += t_rand(seed) % 64;
		tab[i].addr = dev_addr(sp, region + off);
		tab[i].len = k;
		off += k;
		left -= k;
	}
	return n;
}

/* Copy between a flat buffer and the bytes a table names (to: into them). */
static void scatter(const struct space *sp, const struct wd_range *tab, uint32_t n, uint8_t *flat,
		    int to)
{
	uint32_t i;

	for (i = 0; i < n; i++) {
		uint8_t *p = sp->base + (tab[i].addr - sp->dev);

		if (to)
			memcpy(p, flat, tab[i].len);
		else
			memcpy(flat, p, tab[i].len);
		flat += tab[i].len;
	}
}

static void sg_case(struct wd_queue *q, const struct space *sp, uint64_t *seed, int verbose)
{
	enum wd_cipher_alg alg = rand_alg(seed);
	uint8_t key[64], iv[16];
	size_t key_len = t_rand_key(alg, key, seed), len = t_rand_len(alg, MAX_LEN, seed);
	int enc = (int)(t_rand(seed) & 1), shape = (int)(t_rand(seed) % 4);
	uint8_t *in = malloc(len + 1), *want = malloc(len + 1), *got = malloc(len + 1);
	struct wd_range *st = sp->tabs, *dt = sp->tabs + MAX_SEGS;
	uint32_t ns = 1, nd = 1;
	struct wd_cipher_sess *s = t_sess(q, alg, key, key_len);
	struct wd_req r;
	struct wd_cpl c;

	T_ASSERT(in && want && got);
	t_fill_random(in, len, seed);
	t_fill_random(iv, 16, seed);
	t_ref(alg, key, key_len, iv, in, want, len, enc);
	/* shapes: 0 both SG, 1 SG source only, 2 SG destination only, 3 in place */
	if (shape != 2)
		ns = cut(sp, sp->src, len, st, seed);
	else
		st[0] = (struct wd_range){ dev_addr(sp, sp->src), len };
	if (shape == 3) {
		memcpy(dt, st, ns * sizeof(*st));
		nd = ns;
	} else if (shape != 1) {
		nd = cut(sp, sp->dst, len, dt, seed);
	} else {
		dt[0] = (struct wd_range){ dev_addr(sp, sp->dst), len };
	}
	scatter(sp, st, ns, in, 1);
	if (enc)
		wd_prep_encrypt(&r, s, iv, 0, 0, 0);
	else
		wd_prep_decrypt(&r, s, iv, 0, 0, 0);
	if (shape == 2) {
		r.src = st[0].addr;
		r.len = (uint32_t)len;
	} else {
		r.flags |= WD_REQ_F_SRC_SG;
		r.src = dev_addr(sp, st);
		r.len = ns;
	}
	if (shape == 1) {
		r.dst = dt[0].addr;
	} else {
		r.flags |= WD_REQ_F_DST_SG;
		r.dst = dev_addr(sp, dt);
		r.dst_len = nd;
	}
	r.tag = 7;
	c = t_run(q, &r);
	if (c.status || c.result != len)
		T_FAIL("SG shape %d mode %d len %zu: status %d result %llu", shape, alg, len,
		       c.status, (unsigned long long)c.result);
	scatter(sp, dt, nd, got, 0);
	if (memcmp(got, want, len))
		T_FAIL("SG shape %d mode %d len %zu (%u/%u segments): output differs", shape, alg,
		       len, ns, nd);
	if (verbose)
		fprintf(stderr, "sg shape %d mode %d len %zu segs %u/%u ok\n", shape, alg, len, ns,
			nd);
	wd_cipher_sess_free(s);
	free(in);
	free(want);
	free(got);
}

int main(void)
{
	uint64_t seed = t_seed(), iova;
	struct wd_ctx *ctx = t_ctx(2, 0);
	struct wd_queue *q = t_queue(ctx, "cipher", 64), *qx;
	size_t size = space_size();
	uint8_t *pool = malloc(size), *shm;
	struct space sp;
	int i;

	T_ASSERT(pool);
	batches(q, &seed);
	for (i = 0; i < 20; i++)
		churn(q, &seed);
	space_init(&sp, pool, (uintptr_t)pool);
	for (i = 0; i < 300; i++)
		sg_case(q, &sp, &seed, 0);

	/* explicit: the same through shared memory at IOVAs */
	qx = t_xqueue(ctx, "cipher", NULL);
	shm = wd_mem_alloc(size);
	T_ASSERT(shm);
	T_OK(wd_share(wd_queue_domain(qx), shm, size, 0, &iova));
	space_init(&sp, shm, iova);
	for (i = 0; i < 200; i++)
		sg_case(qx, &sp, &seed, 0);
	{
		/* plain buffers by IOVA through the synchronous helper */
		enum wd_cipher_alg alg = WD_CIPHER_AES_XTS;
		uint8_t key[64], iv[16];
		size_t key_len = t_rand_key(alg, key, &seed), len = 4096;
		uint8_t *want = malloc(len);
		struct wd_cipher_sess *s = t_sess(qx, alg, key, key_len);

		t_fill_random(sp.src, len, &seed);
		t_fill_random(iv, 16, &seed);
		t_ref(alg, key, key_len, iv, sp.src, want, len, 1);
		T_OK(wd_encrypt(s, iv, (void *)(uintptr_t)dev_addr(&sp, sp.src),
				(void *)(uintptr_t)dev_addr(&sp, sp.dst), len));
		T_ASSERT(!memcmp(sp.dst, want, len));
		wd_cipher_sess_free(s);
		free(want);
	}
	T_OK(wd_unshare(wd_queue_domain(qx), iova, 0, -1));
	wd_queue_free(qx);
	wd_mem_free(shm, size);
	wd_queue_free(q);
	wd_ctx_free(ctx);
	free(pool);
	return 0;
}
