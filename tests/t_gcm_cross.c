/* AES-GCM through the soft device against OpenSSL's EVP called directly, on
 * random messages: keys of 16/24/32 bytes, IVs of 1..128 bytes (mostly 12),
 * tags of 4..16 bytes, AAD up to 2 KiB and text from 0 to 64 KiB, through
 * the synchronous helpers and as ring requests cut at odd places (AAD over
 * several parts, text over several, FINAL alone or not), both ways; a tag
 * or ciphertext with one bit flipped is refused with the output zeroed.
 * Two sessions' messages interleaved in one batch each keep their state. */
#include "t_gcm.h"

#define MAX_TXT (64u << 10)
#define MAX_AAD 2048u

static uint64_t seed;
static uint8_t *txt, *ct, *pt, *ref, *hdrs;

struct msg {
	uint8_t key[32], iv[128], aad[MAX_AAD], tag[16], rtag[16];
	size_t key_len, iv_len, aad_len, len, tag_len;
};

static void random_msg(struct msg *m)
{
	static const size_t keys[] = { 16, 24, 32 };
	uint64_t r = t_rand(&seed);

	m->key_len = keys[r % 3];
	m->iv_len = (r >> 8) % 4 ? 12 : 1 + (size_t)((r >> 16) % 128);
	m->tag_len = (r >> 24) % 3 ? 16 : 4 + (size_t)((r >> 32) % 13);
	m->aad_len = (r >> 40) % 4 ? (size_t)(t_rand(&seed) % 64)
				   : (size_t)(t_rand(&seed) % (MAX_AAD + 1));
	/* small sizes often, and up to 64 KiB */
	m->len = (r >> 48) % 3 ? (size_t)(t_rand(&seed) % 300)
			       : (size_t)(t_rand(&seed) % (MAX_TXT + 1));
	t_fill_random(m->key, m->key_len, &seed);
	t_fill_random(m->iv, m->iv_len, &seed);
	t_fill_random(m->aad, m->aad_len, &seed);
	t_fill_random(txt, m->len, &seed);
	t_gcm_evp_run(m->key, m->key_len, m->iv, m->iv_len, m->aad, m->aad_len, txt, ref, m->len,
		      m->rtag, m->tag_len, 1);
}

static void sync_helpers(struct wd_cipher_sess *s, struct msg *m)
{
	size_t bit;

	T_OK(wd_aead_encrypt(s, m->iv, m->iv_len, m->aad, m->aad_len, txt, ct, m->len, m->tag,
			     m->tag_len));
	T_ASSERT(!memcmp(ct, ref, m->len) && !memcmp(m->tag, m->rtag, m->tag_len));
	T_OK(wd_aead_decrypt(s, m->iv, m->iv_len, m->aad, m->aad_len, ct, pt, m->len, m->tag,
			     m->tag_len));
	T_ASSERT(!memcmp(pt, txt, m->len));
	/* one bit off, in the tag or (when there is one) the ciphertext */
	bit = (size_t)(t_rand(&seed) % ((m->tag_len + m->len) * 8));
	if (bit < m->tag_len * 8)
		m->tag[bit / 8] ^= (uint8_t)(1u << (bit % 8));
	else
		ct[bit / 8 - m->tag_len] ^= (uint8_t)(1u << (bit % 8));
	memset(pt, 0xa5, m->len);
	T_EQ(wd_aead_decrypt(s, m->iv, m->iv_len, m->aad, m->aad_len, ct, pt, m->len, m->tag,
			     m->tag_len), -EBADMSG);
	T_ASSERT(t_all_zero(pt, m->len));
}

static void ring_parts(struct wd_queue *q, struct wd_cipher_sess *s, struct msg *m)
{
	size_t acuts[4], tcuts[6];
	struct t_gcm_msg g = { .iv = m->iv, .iv_len = m->iv_len, .aad = m->aad,
			       .aad_len = m->aad_len, .len = m->len, .tag_len = m->tag_len,
			       .aad_cuts = acuts, .txt_cuts = tcuts, .tag = m->tag,
			       .naad_cuts = (unsigned)(t_rand(&seed) % 5),
			       .ntxt_cuts = (unsigned)(t_rand(&seed) % 7),
			       .final_alone = (int)(t_rand(&seed) & 1) };
	int in_place = (int)(t_rand(&seed) & 1);

	t_cuts(acuts, g.naad_cuts, m->aad_len, &seed);
	t_cuts(tcuts, g.ntxt_cuts, m->len, &seed);
	g.enc = 1;
	g.in = txt;
	g.out = ct;
	T_EQ(t_gcm_parts(q, s, &g, hdrs, t_sva_addr, NULL), 0);
	T_ASSERT(!memcmp(ct, ref, m->len) && !memcmp(m->tag, m->rtag, m->tag_len));
	g.enc = 0;
	g.in = ct;
	g.out = in_place ? ct : pt;
	T_EQ(t_gcm_parts(q, s, &g, hdrs, t_sva_addr, NULL), 0);
	T_ASSERT(!memcmp(g.out, txt, m->len));
	m->tag[0] ^= 0x80;
	g.in = ref;
	g.out = pt;
	T_EQ(t_gcm_parts(q, s, &g, hdrs, t_sva_addr, NULL), -EBADMSG);
}

/* Two messages, parts alternating in one batch: [A init+aad][B init+aad]
 * [A text][B text][A final][B final]. */
static void interleaved(struct wd_queue *q, struct wd_cipher_sess *sa, struct wd_cipher_sess *sb)
{
	static uint8_t ia[12] = { 1 }, ib[12] = { 2 }, aad[2][100], in[2][5000], o[2][5000];
	uint8_t want[2][5000], tags[2][16], h[2][200];
	struct wd_cipher_sess *s[2] = { sa, sb };
	const uint8_t *ivs[2] = { ia, ib };
	struct wd_req r[6];
	struct wd_cpl c[6];
	unsigned i, got = 0;
	int k;

	t_fill_random(aad, sizeof(aad), &seed);
	t_fill_random(in, sizeof(in), &seed);
	for (i = 0; i < 2; i++) {
		memcpy(h[i], ivs[i], 12);
		memcpy(h[i] + 12, aad[i], 100);
		wd_prep_aead(&r[i], WD_OP_ENCRYPT, s[i], WD_AEAD_P_INIT | WD_AEAD_P_IVLEN(12),
			     (uintptr_t)h[i], 100, 0, 0, 0);
		wd_prep_aead(&r[2 + i], WD_OP_ENCRYPT, s[i], 0, 0, 0, (uintptr_t)in[i],
			     (uintptr_t)o[i], 3001);
		wd_prep_aead(&r[4 + i], WD_OP_ENCRYPT, s[i], WD_AEAD_P_FINAL | WD_AEAD_P_TAGLEN(16),
			     (uintptr_t)(h[i] + 112), 0, (uintptr_t)(in[i] + 3001),
			     (uintptr_t)(o[i] + 3001), 1999);
	}
	for (i = 0; i < 6; i++)
		r[i].tag = i;
	T_EQ(wd_send(q, r, 6), 6);
	while (got < 6) {
		k = (int)T_OK(wd_wait(q, c, 6, 5000));
		for (i = 0; i < (unsigned)k; i++)
			T_EQ(c[i].status, 0);
		got += (unsigned)k;
	}
	for (i = 0; i < 2; i++) {
		uint8_t key[16] = { (uint8_t)(0x11 * (i + 1)) };

		t_gcm_evp_run(key, 16, ivs[i], 12, aad[i], 100, in[i], want[i], 5000, tags[i], 16,
			      1);
		T_ASSERT(!memcmp(o[i], want[i], 5000) && !memcmp(h[i] + 112, tags[i], 16));
	}
}

int main(void)
{
	struct wd_ctx *ctx = t_ctx(1, 0);
	struct wd_queue *q = t_queue(ctx, "aes-gcm", 64);
	uint8_t ka[16] = { 0x11 }, kb[16] = { 0x22 };
	struct wd_cipher_sess *s, *sa, *sb;
	struct msg *m = malloc(sizeof(*m));
	int i;

	seed = t_seed();
	txt = malloc(MAX_TXT);
	ct = malloc(MAX_TXT);
	pt = malloc(MAX_TXT);
	ref = malloc(MAX_TXT);
	hdrs = malloc(4 * MAX_AAD);
	T_ASSERT(m && txt && ct && pt && ref && hdrs);
	for (i = 0; i < 150; i++) {
		random_msg(m);
		s = t_sess(q, WD_CIPHER_AES_GCM, m->key, m->key_len);
		sync_helpers(s, m);
		memcpy(m->tag, m->rtag, m->tag_len);
		ring_parts(q, s, m);
		wd_cipher_sess_free(s);
	}
	sa = t_sess(q, WD_CIPHER_AES_GCM, ka, 16);
	sb = t_sess(q, WD_CIPHER_AES_GCM, kb, 16);
	interleaved(q, sa, sb);
	wd_cipher_sess_free(sa);
	wd_cipher_sess_free(sb);
	printf("150 random messages (sync helpers and ring parts) and 2 interleaved match EVP\n");
	wd_queue_free(q);
	wd_ctx_free(ctx);
	free(m);
	free(txt);
	free(ct);
	free(pt);
	free(ref);
	free(hdrs);
	return 0;
}
