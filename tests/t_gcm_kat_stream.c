/* Wycheproof AES-GCM on the soft device, each message streamed over several
 * requests of one session: the AAD cut over requests, the text cut at odd
 * places, the FINAL part alone or with the last text, out of place and in
 * place; and whole messages whose text is a scatter-gather table cut into
 * odd segments.  Invalid cases are refused by the FINAL part (-EBADMSG)
 * with that part's output zeroed (a streamed decryption releases the
 * earlier parts' plaintext as it goes: wd/crypto.h), or by the first part
 * (-EINVAL) for an empty IV. */
#include <wd/mem.h>
#include "t_gcm.h"
#include "t_wycheproof.h"

static uint64_t seed;
static uint8_t hdrs[8192], in[4096], out[4096];
static unsigned nsplit, nsg;

/* The message in parts, both ways; returns the decryption's status. */
static void streamed(struct wd_queue *q, struct wd_cipher_sess *s, const struct t_wp_case *c,
		     int in_place)
{
	size_t acuts[3], tcuts[4], fin;
	uint8_t tag[16];
	struct t_gcm_msg m = { .iv = c->iv.p, .iv_len = c->iv.len, .aad = c->aad.p,
			       .aad_len = c->aad.len, .len = c->msg.len, .tag_len = c->tag.len,
			       .aad_cuts = acuts, .txt_cuts = tcuts,
			       .naad_cuts = (unsigned)(t_rand(&seed) % 4),
			       .ntxt_cuts = (unsigned)(t_rand(&seed) % 5),
			       .final_alone = (int)(t_rand(&seed) & 1) };
	int st;

	t_cuts(acuts, m.naad_cuts, c->aad.len, &seed);
	t_cuts(tcuts, m.ntxt_cuts, c->msg.len, &seed);
	/* encryption */
	memcpy(in, c->msg.p, c->msg.len);
	m.enc = 1;
	m.in = in;
	m.out = in_place ? in : out;
	m.tag = tag;
	T_EQ(t_gcm_parts(q, s, &m, hdrs, t_sva_addr, NULL), 0);
	if (c->result == T_WP_VALID &&
	    (memcmp(m.out, c->ct.p, c->ct.len) || memcmp(tag, c->tag.p, c->tag.len)))
		T_FAIL("tcId %d: streamed encryption differs", c->tc_id);
	/* decryption, of Wycheproof's ciphertext and tag */
	memcpy(in, c->ct.p, c->ct.len);
	memcpy(tag, c->tag.p, c->tag.len);
	memset(out, 0xa5, sizeof(out));
	m.enc = 0;
	st = t_gcm_parts(q, s, &m, hdrs, t_sva_addr, NULL);
	if (c->result == T_WP_VALID) {
		if (st || memcmp(m.out, c->msg.p, c->msg.len))
			T_FAIL("tcId %d: streamed decryption: %d or wrong text", c->tc_id, st);
	} else {
		/* the FINAL part's text: from the last cut on, or none */
		fin = m.final_alone ? c->ct.len : m.ntxt_cuts ? tcuts[m.ntxt_cuts - 1] : 0;
		if (st != -EBADMSG || !t_all_zero(m.out + fin, c->ct.len - fin))
			T_FAIL("tcId %d: streamed invalid case: %d, FINAL part's output %s",
			       c->tc_id, st,
			       t_all_zero(m.out + fin, c->ct.len - fin) ? "zeroed" : "RELEASED");
	}
	nsplit++;
}

/* Cut [0, len) of buf into up to 6 segments of random lengths at odd
 * places, each in its own spot of area (spread apart); returns the count. */
static uint32_t scatter(struct wd_range *tab, uint8_t *area, size_t len)
{
	size_t cuts[5], off = 0;
	uint32_t n = 0, i, k = (uint32_t)(t_rand(&seed) % 6);

	t_cuts(cuts, k, len, &seed);
	for (i = 0; i <= k; i++) {
		size_t end = i < k ? cuts[i] : len;

		tab[n].addr = (uintptr_t)(area + off + 64 * i + 3);
		tab[n].len = end - off;
		n++;
		off = end;
	}
	return n;
}

static void gather(const struct wd_range *tab, uint32_t n, uint8_t *to)
{
	uint32_t i;

	for (i = 0; i < n; i++) {
		memcpy(to, (void *)(uintptr_t)tab[i].addr, tab[i].len);
		to += tab[i].len;
	}
}

static void spread(const struct wd_range *tab, uint32_t n, const uint8_t *from)
{
	uint32_t i;

	for (i = 0; i < n; i++) {
		memcpy((void *)(uintptr_t)tab[i].addr, from, tab[i].len);
		from += tab[i].len;
	}
}

/* One request, the text's source and destination both tables. */
static int sg_one(struct wd_queue *q, struct wd_cipher_sess *s, const struct t_wp_case *c,
		  int enc, uint8_t *res, uint8_t *tag)
{
	struct wd_range ti[6], to[6];
	const struct t_wp_bytes *txt = enc ? &c->msg : &c->ct;
	size_t tl = c->tag.len;
	uint32_t ni = scatter(ti, in, txt->len), no = scatter(to, out, txt->len);
	struct wd_req r;
	int st;

	memcpy(hdrs, c->iv.p, c->iv.len);
	memcpy(hdrs + c->iv.len, c->aad.p, c->aad.len);
	memcpy(hdrs + c->iv.len + c->aad.len, c->tag.p, tl);
	memset(out, 0xa5, sizeof(out));
	spread(ti, ni, txt->p);
	wd_prep_aead(&r, enc ? WD_OP_ENCRYPT : WD_OP_DECRYPT, s,
		     WD_AEAD_P_INIT | WD_AEAD_P_FINAL | WD_AEAD_P_IVLEN(c->iv.len) |
			     WD_AEAD_P_TAGLEN(tl),
		     (uintptr_t)hdrs, (uint32_t)c->aad.len, (uintptr_t)ti, (uintptr_t)to, ni);
	r.flags = WD_REQ_F_SRC_SG | WD_REQ_F_DST_SG;
	r.dst_len = no;
	r.tag = 7;
	st = t_run(q, &r).status;
	gather(to, no, res);
	memcpy(tag, hdrs + c->iv.len + c->aad.len, tl);
	return st;
}

static void sg_case(struct wd_queue *q, struct wd_cipher_sess *s, const struct t_wp_case *c)
{
	uint8_t res[2048], tag[16];
	int st;

	T_EQ(sg_one(q, s, c, 1, res, tag), 0);
	if (c->result == T_WP_VALID &&
	    (memcmp(res, c->ct.p, c->ct.len) || memcmp(tag, c->tag.p, c->tag.len)))
		T_FAIL("tcId %d: scatter-gather encryption differs", c->tc_id);
	st = sg_one(q, s, c, 0, res, tag);
	if (c->result == T_WP_VALID ? st || memcmp(res, c->msg.p, c->msg.len)
				    : st != -EBADMSG || !t_all_zero(res, c->ct.len))
		T_FAIL("tcId %d: scatter-gather decryption: %d", c->tc_id, st);
	nsg++;
}

int main(int argc, char **argv)
{
	struct t_wp_file *f = t_wp_load(t_wp_path(argc, argv, "aes_gcm_test.json"));
	struct wd_ctx *ctx = t_ctx(1, 0);
	struct wd_queue *q = t_queue(ctx, "aes-gcm", 64);
	struct wd_cipher_sess *s;
	struct t_wp_case c;
	unsigned n = 0, empty_iv = 0;
	struct wd_req r;

	seed = t_seed();
	while (t_wp_next(f, &c)) {
		n++;
		s = t_sess(q, WD_CIPHER_AES_GCM, c.key.p, c.key.len);
		if (!c.iv.len) {
			/* the first part is refused, and so is a part after it */
			wd_prep_aead(&r, WD_OP_DECRYPT, s, WD_AEAD_P_INIT, (uintptr_t)hdrs, 0, 0, 0,
				     0);
			r.arg0 = c.aad.len;
			memcpy(hdrs, c.aad.p, c.aad.len);
			T_EQ(t_run(q, &r).status, -EINVAL);
			wd_prep_aead(&r, WD_OP_DECRYPT, s, 0, 0, 0, (uintptr_t)in, (uintptr_t)out,
				     16);
			T_EQ(t_run(q, &r).status, -EINVAL);
			empty_iv++;
		} else {
			streamed(q, s, &c, 0);
			streamed(q, s, &c, 1);
			sg_case(q, s, &c);
		}
		wd_cipher_sess_free(s);
	}
	T_EQ(n, t_wp_declared(f));
	T_EQ(empty_iv, 6);
	printf("%u cases: %u streamed runs (both ways), %u scatter-gather, %u empty IVs "
	       "refused\n", n, nsplit, nsg, empty_iv);
	wd_queue_free(q);
	wd_ctx_free(ctx);
	t_wp_free(f);
	return 0;
}
