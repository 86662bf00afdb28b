/*
 * wdd -E (--explicit-only): SVA queues are refused with -EOPNOTSUPP (an
 * SVA copy could fault in memory a client serves itself through FUSE and
 * hold an engine thread); explicit queues work as ever.
 */
#include <wd/mover.h>
#include "t_wdd.h"

int main(int argc, char **argv)
{
	static const char *const opts[] = { "-E", NULL };
	struct wd_queue_opts o = { .size = sizeof(o), .depth = 8, .device = "wdd0" };
	struct t_wdd w = { 0 };
	struct wd_ctx *ctx;
	struct wd_queue *q = NULL;
	struct wd_req r;
	struct wd_cpl c;

	if (argc < 2)
		return T_SKIP;
	t_wdd_start(&w, argv[1], opts);
	ctx = t_wdd_ctx();
	T_EQ(wd_queue_new(&q, ctx, "mover", &o), -EOPNOTSUPP);
	q = t_wdd_queue(ctx, "mover", WD_QUEUE_F_EXPLICIT, NULL);
	wd_prep_nop(&r, 0);
	r.tag = 7;
	T_EQ(wd_send(q, &r, 1), 1);
	T_EQ(wd_wait(q, &c, 1, 5000), 1);
	T_EQ(c.status, 0);
	T_EQ(c.tag, 7);
	wd_queue_free(q);
	wd_ctx_free(ctx);
	t_wdd_cleanup(&w);
	return 0;
}
