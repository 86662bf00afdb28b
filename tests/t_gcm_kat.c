/* Wycheproof AES-GCM (tests/data/wycheproof/aes_gcm_test.json, 316 cases)
 * on the soft device, one request per message: the synchronous helpers
 * (run in the calling thread), ring requests (out of place and in place,
 * SVA), and ring requests on an explicit queue over shared memory.  Valid
 * cases give Wycheproof's ciphertext and tag and decrypt back; every
 * invalid one is refused (-EBADMSG, or -EINVAL for an empty IV) and leaves
 * no plaintext behind.  The long-IV cases (64, 128 and 257 bytes) go
 * through the engine like the others. */
#include <wd/mem.h>
#include "t_gcm_wp.h"
#include "t_mem_helpers.h"

static uint64_t iova_of(const void *p, void *arg)
{
	const uint64_t *base = arg; /* [0] host address, [1] its IOVA */

	return base[1] + ((uintptr_t)p - base[0]);
}

/* wd_aead_encrypt/decrypt (inline on soft0). */
static void sync_case(struct wd_cipher_sess *s, const struct t_wp_case *c,
		      struct t_gcm_tally *t)
{
	uint8_t out[2048], tag[16], tmp[2048];
	size_t tl = c->tag.len;
	int st;

	T_ASSERT(c->msg.len <= sizeof(out) && tl <= sizeof(tag));
	t->cases++;
	st = wd_aead_encrypt(s, c->iv.p, c->iv.len, c->aad.p, c->aad.len, c->msg.p, out,
			     c->msg.len, tag, tl);
	if (!c->iv.len)
		T_EQ(st, -EINVAL);
	else if (st || (c->result == T_WP_VALID &&
			(memcmp(out, c->ct.p, c->ct.len) || memcmp(tag, c->tag.p, tl))))
		T_FAIL("tcId %d: wd_aead_encrypt: %d or wrong output", c->tc_id, st);
	memset(tmp, 0xa5, sizeof(tmp));
	st = wd_aead_decrypt(s, c->iv.p, c->iv.len, c->aad.p, c->aad.len, c->ct.p, tmp, c->ct.len,
			     c->tag.p, tl);
	if (c->result == T_WP_VALID) {
		t->valid++;
		if (st || memcmp(tmp, c->msg.p, c->msg.len))
			T_FAIL("tcId %d: wd_aead_decrypt: %d or wrong text", c->tc_id, st);
		return;
	}
	t->invalid++;
	if (!c->iv.len) {
		T_EQ(st, -EINVAL);
		T_EQ(tmp[0], 0xa5);
		t->badiv++;
		return;
	}
	if (st != -EBADMSG || !t_all_zero(tmp, c->ct.len))
		T_FAIL("tcId %d (%s): wd_aead_decrypt: %d, output %s", c->tc_id, c->comment, st,
		       t_all_zero(tmp, c->ct.len) ? "zeroed" : "RELEASED");
	t->badmsg++;
}

int main(int argc, char **argv)
{
	struct t_wp_file *f = t_wp_load(t_wp_path(argc, argv, "aes_gcm_test.json"));
	struct wd_ctx *ctx = t_ctx(1, 0);
	struct wd_queue *q = t_queue(ctx, "aes-gcm", 16), *xq = t_xqueue(ctx, "aes-gcm", NULL);
	struct t_gcm_tally ts = { 0 }, tr = { 0 }, ti = { 0 }, tx = { 0 };
	size_t ps = t_page(), len = 2 * ps > T_GCM_WP_MEM ? 2 * ps : T_GCM_WP_MEM;
	uint8_t *mem = malloc(T_GCM_WP_MEM), *shm = wd_mem_alloc(len);
	uint64_t base[2] = { (uintptr_t)shm, 0 };
	struct wd_queue_info qi = { .size = sizeof(qi) };
	struct wd_cipher_sess *s, *xs;
	struct t_wp_case c;
	int n = 0;

	T_ASSERT(mem && shm);
	T_OK(wd_queue_info(q, &qi));
	T_ASSERT(!strcmp(qi.device, "soft0"));
	T_OK(wd_share(wd_queue_domain(xq), shm, len, 0, &base[1]));
	T_ASSERT(!strcmp(t_wp_algorithm(f), "AES-GCM"));
	while (t_wp_next(f, &c)) {
		n++;
		s = t_sess(q, WD_CIPHER_AES_GCM, c.key.p, c.key.len);
		xs = t_sess(xq, WD_CIPHER_AES_GCM, c.key.p, c.key.len);
		sync_case(s, &c, &ts);
		t_gcm_wp_case(q, s, &c, mem, t_sva_addr, NULL, 0, &tr);
		t_gcm_wp_case(q, s, &c, mem, t_sva_addr, NULL, 1, &ti);
		t_gcm_wp_case(xq, xs, &c, shm, iova_of, base, 0, &tx);
		wd_cipher_sess_free(s);
		wd_cipher_sess_free(xs);
	}
	T_EQ(n, t_wp_declared(f));
	t_gcm_tally_print("soft0, wd_aead_encrypt/decrypt", &ts);
	t_gcm_tally_print("soft0, ring, SVA", &tr);
	t_gcm_tally_print("soft0, ring, SVA, in place", &ti);
	t_gcm_tally_print("soft0, ring, explicit", &tx);
	T_EQ(ts.badiv, 6); /* the file's ZeroLengthIv cases */
	T_EQ(ts.badmsg, 81);
	T_OK(wd_unshare(wd_queue_domain(xq), base[1], 0, -1));
	wd_queue_free(xq);
	wd_queue_free(q);
	wd_ctx_free(ctx);
	wd_mem_free(shm, len);
	free(mem);
	t_wp_free(f);
	return 0;
}
