/* Callback style: wd_poll hands each completion to a function. */
#include "t_helpers.h"

struct tally {
	int n;
	uint64_t tagsum;
};

static void on_cpl(void *arg, const struct wd_cpl *c)
{
	struct tally *t = arg;

	T_EQ(c->status, 0);
	t->n++;
	t->tagsum += c->tag;
}

int main(void)
{
	struct wd_ctx *ctx = t_ctx(1, 0);
	struct wd_queue *q = t_queue(ctx, "nop", 64);
	struct wd_req r[50];
	struct tally t = { 0 };
	int i;

	for (i = 0; i < 50; i++) {
		wd_prep_nop(&r[i], 0);
		r[i].tag = (uint64_t)i + 1;
	}
	T_EQ(wd_send(q, r, 50), 50);
	while (t.n < 50)
		T_OK(wd_poll(q, 7, 5000, on_cpl, &t));
	T_EQ(t.tagsum, 50 * 51 / 2);
	T_EQ(wd_poll(q, 8, 0, on_cpl, &t), 0); /* nothing left, no wait */
	wd_queue_free(q);
	wd_ctx_free(ctx);
	return 0;
}
