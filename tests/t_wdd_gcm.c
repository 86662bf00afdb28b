/* AES-GCM through the daemon (wdd0), whose engine reaches a client's memory
 * through /proc/<pid>/mem (SVA: header read and tag written by the rules
 * of the text, with the read-ahead and write-behind helper at work) or
 * through memfds it mapped (explicit).  Wycheproof's 316 cases both ways,
 * out of place and in place, in both modes; the synchronous helpers; large
 * messages streamed in a batch of parts (copies made ahead and behind),
 * with a tag slot inside the previous part's output (the tag must land
 * after that output); a failed tag's zeroes written back; scatter-gather
 * on an explicit queue. */
#include "t_gcm_wp.h"
#include "t_wdd.h"

static uint64_t seed;

static uint64_t iova_of(const void *p, void *arg)
{
	const uint64_t *base = arg; /* [0] host address, [1] its IOVA */

	return base[1] + ((uintptr_t)p - base[0]);
}

static void wycheproof(int argc, char **argv, struct wd_queue *q, struct wd_queue *xq,
		       uint8_t *shm, uint64_t *base)
{
	struct t_wp_file *f = t_wp_load(t_wp_path(argc, argv, "aes_gcm_test.json"));
	struct t_gcm_tally t[4] = { { 0 } };
	uint8_t *mem = malloc(T_GCM_WP_MEM), out[2048], tag[16];
	struct wd_cipher_sess *s, *xs;
	struct t_wp_case c;
	int n = 0, st;

	T_ASSERT(mem);
	while (t_wp_next(f, &c)) {
		n++;
		s = t_sess(q, WD_CIPHER_AES_GCM, c.key.p, c.key.len);
		xs = t_sess(xq, WD_CIPHER_AES_GCM, c.key.p, c.key.len);
		t_gcm_wp_case(q, s, &c, mem, t_sva_addr, NULL, 0, &t[0]);
		t_gcm_wp_case(q, s, &c, mem, t_sva_addr, NULL, 1, &t[1]);
		t_gcm_wp_case(xq, xs, &c, shm, iova_of, base, 0, &t[2]);
		t_gcm_wp_case(xq, xs, &c, shm, iova_of, base, 1, &t[3]);
		/* the helpers, through the ring to the daemon */
		if (c.iv.len && c.result == T_WP_VALID) {
			T_OK(wd_aead_encrypt(s, c.iv.p, c.iv.len, c.aad.p, c.aad.len, c.msg.p, out,
					     c.msg.len, tag, c.tag.len));
			T_ASSERT(!memcmp(out, c.ct.p, c.ct.len) && !memcmp(tag, c.tag.p, 16));
		} else if (c.iv.len) {
			memset(out, 0xa5, sizeof(out));
			st = wd_aead_decrypt(s, c.iv.p, c.iv.len, c.aad.p, c.aad.len, c.ct.p, out,
					     c.ct.len, c.tag.p, c.tag.len);
			T_EQ(st, -EBADMSG);
			T_ASSERT(t_all_zero(out, c.ct.len));
		}
		wd_cipher_sess_free(s);
		wd_cipher_sess_free(xs);
	}
	T_EQ(n, t_wp_declared(f));
	t_gcm_tally_print("wdd0, SVA", &t[0]);
	t_gcm_tally_print("wdd0, SVA, in place", &t[1]);
	t_gcm_tally_print("wdd0, explicit", &t[2]);
	t_gcm_tally_print("wdd0, explicit, in place", &t[3]);
	free(mem);
	t_wp_free(f);
}

/* Large parts in one batch: the engine reads the next part's text ahead
 * and writes results behind. */
static void large(struct wd_queue *q)
{
	size_t len = 3u << 20, i;
	uint8_t *in = malloc(len), *o = malloc(len), *want = malloc(len), *hdrs = malloc(8192);
	uint8_t *plain = malloc(len);
	uint8_t key[32], iv[12], aad[100], tag[16], rtag[16];
	size_t tcuts[5];
	struct t_gcm_msg m = { .iv = iv, .iv_len = 12, .aad = aad, .aad_len = sizeof(aad),
			       .len = len, .tag_len = 16, .txt_cuts = tcuts, .ntxt_cuts = 5,
			       .tag = tag };
	struct wd_cipher_sess *s;

	T_ASSERT(in && o && want && hdrs && plain);
	t_fill_random(key, 32, &seed);
	t_fill_random(iv, 12, &seed);
	t_fill_random(aad, sizeof(aad), &seed);
	t_fill_random(in, len, &seed);
	memcpy(plain, in, len);
	s = t_sess(q, WD_CIPHER_AES_GCM, key, 32);
	t_gcm_evp_run(key, 32, iv, 12, aad, sizeof(aad), in, want, len, rtag, 16, 1);
	for (i = 0; i < 4; i++) {
		/* parts of 32 KiB to 1 MiB: the helper's range, and past it */
		size_t p[5] = { 40000, 40000 + 65536, 40000 + 65536 + 1048576,
				40000 + 65536 + 1048576 + 33000, len - 70000 };

		memcpy(tcuts, p, sizeof(p));
		m.final_alone = (int)(i & 1);
		m.enc = 1;
		m.in = in;
		m.out = o;
		memset(o, 0, len);
		T_EQ(t_gcm_parts(q, s, &m, hdrs, t_sva_addr, NULL), 0);
		T_ASSERT(!memcmp(o, want, len) && !memcmp(tag, rtag, 16));
		m.enc = 0;
		m.in = o;
		m.out = i < 2 ? o : in; /* in place, then apart */
		T_EQ(t_gcm_parts(q, s, &m, hdrs, t_sva_addr, NULL), 0);
		T_ASSERT(!memcmp(m.out, plain, len));
	}
	/* a failed tag on a large in-place part: zeroes go back to the client */
	memcpy(o, want, len);
	tag[0] ^= 4;
	T_EQ(wd_aead_decrypt(s, iv, 12, aad, sizeof(aad), o, o, 100000, tag, 16), -EBADMSG);
	T_ASSERT(t_all_zero(o, 100000) && !memcmp(o + 100000, want + 100000, 1000));
	wd_cipher_sess_free(s);
	free(in);
	free(o);
	free(want);
	free(hdrs);
	free(plain);
}

/* The FINAL part's tag slot lies in the output of the part before it,
 * which the engine may still be writing behind: the tag lands last. */
static void tag_after_text(struct wd_queue *q)
{
	size_t len = 200000;
	uint8_t *in = malloc(len), *o = malloc(len), *ct = malloc(100000), key[16], iv[12], tag[16];
	struct wd_cipher_sess *s;
	struct wd_req r[3];
	struct wd_cpl c[3];
	int got = 0, k, i;

	T_ASSERT(in && o && ct);
	t_fill_random(key, 16, &seed);
	t_fill_random(iv, 12, &seed);
	t_fill_random(in, len, &seed);
	s = t_sess(q, WD_CIPHER_AES_GCM, key, 16);
	memset(o, 0, len);
	wd_prep_aead(&r[0], WD_OP_ENCRYPT, s, WD_AEAD_P_INIT | WD_AEAD_P_IVLEN(12),
		     (uintptr_t)(in + len - 12), 0, 0, 0, 0);
	memcpy(in + len - 12, iv, 12);
	wd_prep_aead(&r[1], WD_OP_ENCRYPT, s, 0, 0, 0, (uintptr_t)in, (uintptr_t)o, 100000);
	wd_prep_aead(&r[2], WD_OP_ENCRYPT, s, WD_AEAD_P_FINAL | WD_AEAD_P_TAGLEN(16),
		     (uintptr_t)(o + 50000), 0, 0, 0, 0);
	for (i = 0; i < 3; i++)
		r[i].tag = (uint64_t)i;
	T_EQ(wd_send(q, r, 3), 3);
	while (got < 3) {
		k = (int)T_OK(wd_wait(q, c, 3, 10000));
		for (i = 0; i < k; i++)
			T_EQ(c[i].status, 0);
		got += k;
	}
	/* the tag over the ciphertext it came after */
	t_gcm_evp_run(key, 16, iv, 12, NULL, 0, in, ct, 100000, tag, 16, 1);
	T_ASSERT(!memcmp(o, ct, 50000) && !memcmp(o + 50000, tag, 16) &&
		 !memcmp(o + 50016, ct + 50016, 100000 - 50016));
	wd_cipher_sess_free(s);
	free(in);
	free(o);
	free(ct);
}

/* Explicit: the text as scatter-gather tables in shared memory. */
static void explicit_sg(struct wd_queue *xq, uint8_t *shm, uint64_t *base)
{
	struct wd_range *t = (struct wd_range *)(shm + 60000);
	uint8_t key[16], *h = shm + 61000, *in = shm, *o = shm + 30000, want[20000], tag[16];
	struct wd_cipher_sess *s;
	struct wd_req r;
	int i;

	t_fill_random(key, 16, &seed);
	t_fill_random(in, 20000, &seed);
	t_fill_random(h, 12, &seed);
	s = t_sess(xq, WD_CIPHER_AES_GCM, key, 16);
	t_gcm_evp_run(key, 16, h, 12, NULL, 0, in, want, 20000, tag, 16, 1);
	for (i = 0; i < 4; i++) {
		t[i].addr = iova_of(o + 5003 * (size_t)i, base);
		t[i].len = 5000;
	}
	wd_prep_aead(&r, WD_OP_ENCRYPT, s,
		     WD_AEAD_P_INIT | WD_AEAD_P_FINAL | WD_AEAD_P_IVLEN(12) | WD_AEAD_P_TAGLEN(16),
		     iova_of(h, base), 0, iova_of(in, base), iova_of(t, base), 20000);
	r.flags = WD_REQ_F_DST_SG;
	r.dst_len = 4;
	r.tag = 9;
	T_EQ(t_run(xq, &r).status, 0);
	for (i = 0; i < 4; i++)
		T_ASSERT(!memcmp(o + 5003 * (size_t)i, want + 5000 * (size_t)i, 5000));
	T_ASSERT(!memcmp(h + 12, tag, 16));
	wd_cipher_sess_free(s);
}

int main(int argc, char **argv)
{
	struct t_wdd w = { 0 };
	struct wd_ctx *ctx;
	struct wd_queue *q, *xq;
	size_t ps = t_page(), len = 16 * ps > 65536 ? 16 * ps : 65536;
	uint64_t base[2];
	uint8_t *shm;

	if (argc < 3)
		T_FAIL("usage: %s WYCHEPROOF_DIR WDD", argv[0]);
	seed = t_seed();
	t_wdd_start(&w, argv[2], NULL);
	ctx = t_wdd_ctx();
	T_ASSERT(wd_dev_has_alg(wd_dev_by_name(ctx, "wdd0"), "aes-gcm"));
	q = t_wdd_queue(ctx, "aes-gcm", 0, NULL);
	xq = t_wdd_queue(ctx, "aes-gcm", WD_QUEUE_F_EXPLICIT, NULL);
	shm = wd_mem_alloc(len);
	T_ASSERT(shm);
	base[0] = (uintptr_t)shm;
	T_OK(wd_share(wd_queue_domain(xq), shm, len, 0, &base[1]));
	wycheproof(argc, argv, q, xq, shm, base);
	large(q);
	tag_after_text(q);
	explicit_sg(xq, shm, base);
	T_OK(wd_unshare(wd_queue_domain(xq), base[1], 0, -1));
	wd_mem_free(shm, len);
	wd_queue_free(xq);
	wd_queue_free(q);
	wd_ctx_free(ctx);
	t_wdd_cleanup(&w);
	return 0;
}
