/* A queue closed while the daemon's engine is inside one of its requests
 * longer than the client's reply timeout: the daemon answers the close only
 * once the engine lets go, and the library waits for that answer (it used
 * to take the silence for a dead daemon: its connection was then given up,
 * and every other wdd0 queue of the process failed over).  The reply
 * timeout is lowered to 200 ms here; the request, a 4 MiB level-12
 * deflate, takes longer than that anywhere.  After the close the same
 * context opens another queue on wdd0 and runs a no-op there. */
#include "core/internal.h"
#include "t_wdd.h"
#include "t_zlib.h"

#define LEN (4u << 20)

int main(int argc, char **argv)
{
	struct t_wdd w = { 0 };
	struct wd_queue_stats st = { .size = sizeof(st) };
	uint64_t seed = t_seed();
	unsigned char *src, *dst;
	struct wd_ctx *ctx;
	struct wd_queue *q;
	struct wd_req r;

	T_ASSERT(argc > 1);
	wd__wdd_reply_timeout_ms = 200;
	src = malloc(LEN);
	dst = malloc(wd_comp_bound(LEN));
	T_ASSERT(src && dst);
	t_fill_text(src, LEN, &seed);
	t_wdd_start(&w, argv[1], NULL);
	ctx = t_wdd_ctx();
	q = t_wdd_queue(ctx, "deflate", 0, NULL);
	wd_prep_compress(&r, dst, (uint32_t)wd_comp_bound(LEN), src, LEN, WD_COMP_LEVEL_MAX,
			 WD_COMP_GZIP);
	T_EQ(wd_send(q, &r, 1), 1);
	usleep(50000); /* the engine takes it */
	wd_queue_free(q); /* the close waits for the engine */
	q = t_wdd_queue(ctx, "nop", 0, NULL);
	wd_prep_nop(&r, 0);
	T_EQ(t_run(q, &r).status, 0);
	T_OK(wd_queue_stats(q, &st));
	T_EQ(st.device_failures, 0);
	T_EQ(st.soft_after_failure, 0);
	wd_queue_free(q);
	wd_ctx_free(ctx);
	t_wdd_cleanup(&w);
	free(src);
	free(dst);
	printf("ok: the close waited for the engine, wdd0 still served\n");
	return 0;
}
