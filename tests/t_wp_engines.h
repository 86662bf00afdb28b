/* The engines a Wycheproof test of a plain cipher mode runs through: soft0
 * (the synchronous helpers, run inline; ring requests on an explicit
 * queue) and, through a private daemon, wdd0 (SVA and explicit).  Each
 * engine gives one request's status for (key, iv, in -> out). */
#ifndef T_WP_ENGINES_H
#define T_WP_ENGINES_H

#include "t_crypto.h"
#include "t_wdd.h"
#include "t_wycheproof.h"

#define T_WP_BUF 8192           /* largest text of these files: 512 bytes */

struct t_wp_engine {
	const char *name;
	struct wd_ctx *ctx;
	struct wd_queue *q;
	int sync;                       /* wd_encrypt/wd_decrypt, else ring requests */
	uint8_t *shm;                   /* explicit: the shared buffer, its IOVA */
	uint64_t iova;
	size_t shm_len;
};

enum { T_WP_SOFT_SYNC, T_WP_SOFT_X, T_WP_WDD_SVA, T_WP_WDD_X, T_WP_NENG };

static inline void t_wp_engine_open(struct t_wp_engine *e, struct wd_ctx *ctx, const char *name,
				    const char *dev, int explicit_, int sync)
{
	struct wd_queue_opts o = { .size = sizeof(o), .depth = 16, .device = dev,
				   .flags = explicit_ ? WD_QUEUE_F_EXPLICIT : 0 };

	memset(e, 0, sizeof(*e));
	e->name = name;
	e->ctx = ctx;
	e->sync = sync;
	T_OK(wd_queue_new(&e->q, ctx, "cipher", &o));
	if (explicit_) {
		e->shm_len = 3 * T_WP_BUF;
		e->shm = wd_mem_alloc(e->shm_len);
		T_ASSERT(e->shm);
		T_OK(wd_share(wd_queue_domain(e->q), e->shm, e->shm_len, 0, &e->iova));
	}
}

static inline void t_wp_engine_close(struct t_wp_engine *e)
{
	if (e->shm) {
		T_OK(wd_unshare(wd_queue_domain(e->q), e->iova, 0, -1));
		wd_mem_free(e->shm, e->shm_len);
	}
	wd_queue_free(e->q);
}

/* One request: len bytes of in to out (the caller's buffers; on an explicit
 * queue they travel through the shared buffer). */
static inline int t_wp_engine_run(struct t_wp_engine *e, struct wd_cipher_sess *s, int enc,
				  const uint8_t iv[16], const uint8_t *in, uint8_t *out,
				  size_t len)
{
	uint8_t *src = e->shm ? e->shm : (uint8_t *)in, *dst = e->shm ? e->shm + T_WP_BUF : out;
	uint64_t sa = e->shm ? e->iova : (uintptr_t)src;
	uint64_t da = e->shm ? e->iova + T_WP_BUF : (uintptr_t)dst;
	struct wd_req r;
	int st;

	T_ASSERT(len <= T_WP_BUF);
	if (e->sync)
		return enc ? wd_encrypt(s, iv, in, out, len) : wd_decrypt(s, iv, in, out, len);
	if (e->shm)
		memcpy(src, in, len);
	if (enc)
		wd_prep_encrypt(&r, s, iv, sa, da, (uint32_t)len);
	else
		wd_prep_decrypt(&r, s, iv, sa, da, (uint32_t)len);
	r.tag = 0x3b;
	st = t_run(e->q, &r).status;
	if (e->shm)
		memcpy(out, dst, len);
	return st;
}

/* soft0 and (daemon wdd running: WD_WDD_SOCKET set) wdd0, SVA and explicit. */
static inline void t_wp_engines(struct t_wp_engine *e, struct wd_ctx *ctx)
{
	t_wp_engine_open(&e[T_WP_SOFT_SYNC], ctx, "soft0, wd_encrypt/wd_decrypt", "soft0", 0, 1);
	t_wp_engine_open(&e[T_WP_SOFT_X], ctx, "soft0, ring, explicit", "soft0", 1, 0);
	t_wp_engine_open(&e[T_WP_WDD_SVA], ctx, "wdd0, ring, SVA", "wdd0", 0, 0);
	t_wp_engine_open(&e[T_WP_WDD_X], ctx, "wdd0, ring, explicit", "wdd0", 1, 0);
}

#endif
