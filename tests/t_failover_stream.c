/* What cannot be run again fails clearly when the daemon dies.  A
 * compression stream (either way) half-way returns -ENOTRECOVERABLE, its
 * state having been the daemon's, until it is reset: then it starts afresh
 * on the built-in engine and its output is right.  A cipher session whose
 * key only the daemon had (no WD_QUEUE_F_FALLBACK_KEEP_KEYS) fails its
 * requests the same way and a new session works; one whose key was kept
 * goes on.  Synchronous helpers run on the built-in engine, counted.  A
 * queue made with WD_QUEUE_F_NO_FALLBACK fails with -EIO as before. */
#include "t_crypto.h"
#include "t_failover.h"
#include "t_wdd.h"

enum { LEN = 256 * 1024 };

static const char *const opts[] = { "-D", "1000", NULL };

/* Run the whole of in through s from its start; the output's length. */
static size_t stream_all(struct wd_comp_stream *s, const uint8_t *in, size_t len, uint8_t *out,
			 size_t cap)
{
	size_t used = 0, made = 0, c, p;
	int ret;

	do {
		ret = wd_comp_stream_run(s, in + used, len - used, &c, out + made, cap - made, &p,
					 WD_COMP_FINISH);
		T_ASSERT(ret >= 0);
		used += c;
		made += p;
	} while (ret == 0);
	T_EQ(used, len);
	return made;
}

static struct wd_queue_stats stats(struct wd_queue *q)
{
	struct wd_queue_stats st = { .size = sizeof(st) };

	T_OK(wd_queue_stats(q, &st));
	return st;
}

static void encrypt_check(struct wd_cipher_sess *s, const uint8_t *key, const uint8_t *src,
			  uint8_t *dst, size_t len)
{
	static const uint8_t iv[16] = { 9 };
	uint8_t want[4096];

	T_EQ(wd_encrypt(s, iv, src, dst, len), 0);
	t_ref(WD_CIPHER_AES_CBC, key, 16, iv, src, want, len, 1);
	T_ASSERT(!memcmp(dst, want, len));
}

int main(int argc, char **argv)
{
	static uint8_t text[LEN], gz[LEN + 1024], out[LEN + 1024], key[16] = { 1, 2, 3 };
	struct wd_comp_stream *sc, *sd;
	struct wd_cipher_sess *lost, *kept, *fresh;
	struct wd_queue *qz, *qc, *qk, *qn;
	uint64_t seed = t_seed();
	struct wd_queue_stats st;
	struct t_wdd w = { 0 };
	struct wd_ctx *ctx;
	struct wd_req nop;
	struct wd_cpl c;
	size_t used, made, gz_len = sizeof(gz), n;

	if (argc < 2)
		return T_SKIP;
	t_fo_text(text, LEN, &seed);
	t_wdd_start(&w, argv[1], opts);
	ctx = t_wdd_ctx();
	qz = t_wdd_queue(ctx, "gzip", 0, NULL);
	qc = t_wdd_queue(ctx, "cipher", 0, NULL);
	qk = t_wdd_queue(ctx, "cipher", WD_QUEUE_F_FALLBACK_KEEP_KEYS, NULL);
	qn = t_wdd_queue(ctx, "nop", WD_QUEUE_F_NO_FALLBACK, NULL);
	T_OK(wd_compress(qz, text, LEN, gz, &gz_len, 1, WD_COMP_GZIP));
	/* two streams half-way on the daemon, two sessions with keys there */
	T_OK(wd_comp_stream_new(&sc, qz, WD_COMPRESS, WD_COMP_GZIP, 1));
	T_OK(wd_comp_stream_new(&sd, qz, WD_DECOMPRESS, WD_COMP_GZIP, 0));
	T_EQ(wd_comp_stream_run(sc, text, LEN / 2, &used, out, sizeof(out), &made,
				WD_COMP_NO_FLUSH), 0);
	T_EQ(used, LEN / 2);
	T_EQ(wd_comp_stream_run(sd, gz, gz_len / 2, &used, out, sizeof(out), &made,
				WD_COMP_NO_FLUSH), 0);
	lost = t_sess(qc, WD_CIPHER_AES_CBC, key, 16);
	kept = t_sess(qk, WD_CIPHER_AES_CBC, key, 16);
	encrypt_check(lost, key, text, out, 4096);
	encrypt_check(kept, key, text, out, 4096);
	wd_prep_nop(&nop, 500 * 1000 * 1000);
	nop.tag = 1;
	T_EQ(wd_send(qn, &nop, 1), 1);
	t_wdd_stop(&w, SIGKILL);

	/* streams: the state went with the daemon */
	T_EQ(wd_comp_stream_run(sc, text + LEN / 2, LEN / 2, &used, out, sizeof(out), &made,
				WD_COMP_FINISH), -ENOTRECOVERABLE);
	T_EQ(wd_comp_stream_run(sd, gz + gz_len / 2, gz_len - gz_len / 2, &used, out, sizeof(out),
				&made, WD_COMP_FINISH), -ENOTRECOVERABLE);
	/* ... until they start again, on the built-in engine */
	T_OK(wd_comp_stream_reset(sc));
	n = stream_all(sc, text, LEN, out, sizeof(out));
	t_fo_gunzip_check(out, n, text, LEN);
	T_OK(wd_comp_stream_reset(sd));
	T_EQ(stream_all(sd, gz, gz_len, out, sizeof(out)), LEN);
	T_ASSERT(!memcmp(out, text, LEN));
	/* one-shot helpers too */
	n = sizeof(out);
	T_OK(wd_compress(qz, text, LEN, out, &n, 6, WD_COMP_GZIP));
	t_fo_gunzip_check(out, n, text, LEN);
	st = stats(qz);
	T_EQ(st.device_failures, 1);
	T_EQ(st.lost_in_failure, 2);
	T_EQ(st.soft_after_failure, 3);

	/* a key only the daemon had: its session is lost, a new one works */
	T_EQ(wd_encrypt(lost, (uint8_t[16]){ 0 }, text, out, 4096), -ENOTRECOVERABLE);
	fresh = t_sess(qc, WD_CIPHER_AES_CBC, key, 16);
	encrypt_check(fresh, key, text, out, 4096);
	st = stats(qc);
	T_EQ(st.lost_in_failure, 1);
	T_EQ(st.soft_after_failure, 1);
	/* a kept key: the session goes on */
	encrypt_check(kept, key, text, out, 4096);
	st = stats(qk);
	T_EQ(st.lost_in_failure, 0);
	T_EQ(st.soft_after_failure, 1);

	/* without the fallback: -EIO, as it always was */
	T_EQ(wd_wait(qn, &c, 1, 5000), 1);
	T_EQ(c.status, -EIO);
	T_EQ(wd_send(qn, &nop, 1), -EIO);
	T_ASSERT(wd_queue_stats(qn, &st) < 0); /* the daemon's counters went with it */

	wd_comp_stream_free(sc);
	wd_comp_stream_free(sd);
	wd_cipher_sess_free(lost);
	wd_cipher_sess_free(fresh);
	wd_cipher_sess_free(kept);
	wd_queue_free(qz);
	wd_queue_free(qc);
	wd_queue_free(qk);
	wd_queue_free(qn);
	wd_ctx_free(ctx);
	unlink(w.sock);
	rmdir(w.dir);
	return 0;
}
