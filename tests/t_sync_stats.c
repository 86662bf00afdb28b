/* SPDX-License-Identifier: MIT */
/*
 * The queue's statistics count a synchronous request the same whether it
 * ran inline or through the ring: requests, failures, source bytes, and
 * some busy time; inline requests in the inline counters, ring ones in the
 * engine's, summed by soft_queue_stats().  WD_SOFT_INLINE=0 sends every
 * queue's helpers through the ring.
 */
#include <unistd.h>

#include "t_crypto.h"
#include "t_sync.h"

static void workload(struct wd_queue *cq, struct wd_queue *zq, uint8_t *buf, size_t n)
{
	uint8_t key[16] = { 1, 2, 3 }, iv[16] = { 0 };
	struct wd_cipher_sess *s = t_sess(cq, WD_CIPHER_AES_CBC, key, sizeof(key));
	size_t out, i;

	for (i = 0; i < 50; i++)
		T_OK(wd_encrypt(s, iv, buf, buf + n, 64));
	T_OK(wd_encrypt(s, iv, buf, buf + n, n));                 /* one large, timed */
	T_EQ(wd_encrypt(s, iv, buf, buf + n, 33), -EINVAL);      /* 2 failures */
	T_EQ(wd_decrypt(s, iv, buf, buf + 8, 64), -EINVAL);
	wd_cipher_sess_free(s);
	out = n;
	T_OK(wd_compress(zq, buf, n, buf + n, &out, 1, WD_COMP_GZIP));
	out = 10;
	T_EQ(wd_compress(zq, buf, n, buf + n, &out, 1, WD_COMP_GZIP), -ENOSPC); /* failure */
}

static void expect_same(struct wd_queue *a, struct wd_queue *b)
{
	struct soft_stats x, y;
	int tries = 0;

	/* the engine counts a pass's requests after posting their completions:
	 * give it a moment */
	do {
		if (tries)
			usleep(1000);
		soft_queue_stats(t_sq(a), &x);
		soft_queue_stats(t_sq(b), &y);
	} while ((x.nreq != y.nreq || x.bytes != y.bytes) && ++tries < 2000);
	T_EQ(x.nreq, y.nreq);
	T_EQ(x.nerr, y.nerr);
	T_EQ(x.bytes, y.bytes);
	T_ASSERT(x.busy_ns > 0 && y.busy_ns > 0);
}

int main(void)
{
	struct wd_ctx *ctx = t_ctx(1, 0), *ctx0;
	size_t n = 256u << 10;
	uint8_t *buf = calloc(2, n);
	struct wd_queue *ci = t_sync_queue(ctx, "aes-cbc", 0), *cr = t_sync_queue(ctx, "aes-cbc", 1);
	struct wd_queue *zi = t_sync_queue(ctx, "gzip", 0), *zr = t_sync_queue(ctx, "gzip", 1);
	struct soft_stats st;

	T_ASSERT(buf);
	workload(ci, zi, buf, n);
	workload(cr, zr, buf, n);
	expect_same(ci, cr);
	expect_same(zi, zr);
	soft_queue_stats(t_sq(ci), &st);
	T_EQ(st.nreq, 53);
	T_EQ(st.nerr, 2);
	T_EQ(st.bytes, 50 * 64 + n + 33 + 64);
	T_EQ(t_ld(&t_sq(ci)->inl.nreq), 53);
	T_EQ(t_ld(&t_sq(ci)->eng.nreq), 0);
	T_EQ(t_ld(&t_sq(cr)->eng.nreq), 53);
	T_EQ(t_ld(&t_sq(cr)->inl.nreq), 0);
	soft_queue_stats(t_sq(zi), &st);
	T_EQ(st.nreq, 2);
	T_EQ(st.nerr, 1);
	T_EQ(st.bytes, 2 * n);
	wd_queue_free(ci);
	wd_queue_free(cr);
	wd_queue_free(zi);
	wd_queue_free(zr);

	/* the environment switch: every queue of a new context uses the ring */
	setenv("WD_SOFT_INLINE", "0", 1);
	ctx0 = t_ctx(1, 0);
	unsetenv("WD_SOFT_INLINE");
	zi = t_queue(ctx0, "gzip", 16);
	T_ASSERT(!zi->exec_sync);
	n = 4096;
	T_OK(wd_compress(zi, buf, n, buf + n, &n, 1, WD_COMP_GZIP));
	for (int i = 0; i < 2000 && t_ld(&t_sq(zi)->eng.nreq) != 1; i++)
		usleep(1000); /* counted after the completion was posted */
	T_EQ(t_ld(&t_sq(zi)->eng.nreq), 1);
	T_EQ(t_ld(&t_sq(zi)->inl.nreq), 0);
	wd_queue_free(zi);
	wd_ctx_free(ctx0);
	/* an unknown flag is still refused */
	{
		struct wd_queue_opts o = { .size = sizeof(o), .flags = 1u << 7 };
		struct wd_queue *q = NULL;

		T_EQ(wd_queue_new(&q, ctx, "gzip", &o), -EINVAL);
	}
	wd_ctx_free(ctx);
	free(buf);
	return 0;
}
