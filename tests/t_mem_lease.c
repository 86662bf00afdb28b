/* Leases: unsharing a range that submitted requests still use waits for
 * them (or says -EBUSY / -ETIMEDOUT and leaves the range shared); those
 * requests complete normally; after the unshare the device refuses the
 * range. */
#include <pthread.h>
#include "t_mem_helpers.h"

struct stop_arg {
	struct wd_queue *q;
	int ret;
};

static void *stop_later(void *arg)
{
	struct stop_arg *sa = arg;

	usleep(20000);
	sa->ret = wd_queue_stop(sa->q);
	return NULL;
}

int main(void)
{
	size_t ps = t_page();
	struct wd_ctx *ctx = t_ctx(1, 0);
	struct wd_domain *d;
	struct wd_queue *q;
	unsigned char *a = wd_mem_alloc(ps), *b = wd_mem_alloc(ps);
	uint64_t ia, ib;
	struct wd_req r[2];
	struct wd_cpl c[2];
	double t0;
	int n, got = 0;

	T_OK(wd_domain_new(&d, ctx, NULL));
	q = t_xqueue(ctx, "mover", d);
	T_OK(wd_share(d, a, ps, 0, &ia));
	T_OK(wd_share(d, b, ps, 0, &ib));
	memset(a, 0x42, ps);

	/* a slow request first, then a copy that reads the range, queued behind */
	wd_prep_nop(&r[0], 300 * 1000 * 1000);
	r[0].tag = 1;
	memset(&r[1], 0, sizeof(r[1]));
	r[1].op = WD_OP_COPY;
	r[1].src = ia;
	r[1].dst = ib;
	r[1].len = (uint32_t)ps;
	r[1].tag = 2;
	T_EQ(wd_send(q, r, 2), 2);

	T_EQ(wd_unshare(d, ia, WD_UNSHARE_NOWAIT, -1), -EBUSY);
	T_EQ(wd_unshare(d, ia, 0, 20), -ETIMEDOUT);
	t0 = t_now();
	T_OK(wd_unshare(d, ia, 0, 5000)); /* waits for both */
	T_ASSERT(t_now() - t0 > 0.1);
	while (got < 2) {
		n = wd_wait(q, c + got, 2, 5000);
		T_ASSERT(n > 0);
		got += n;
	}
	T_EQ(c[0].status, 0);
	T_EQ(c[1].status, 0); /* the lease held: the copy ran on live memory */
	T_EQ(b[0], 0x42);
	T_EQ(b[ps - 1], 0x42);
	/* revoked now */
	T_EQ(t_dev_copy(q, ib, ia, 16), -EFAULT);
	/* nothing in flight: unshare is immediate even with NOWAIT */
	T_OK(wd_unshare(d, ib, WD_UNSHARE_NOWAIT, 0));
	/* Regression: an unshare waiting on a queue must not block that
	 * queue's stop on another thread (nor the stop block the unshare). */
	{
		pthread_t th;
		struct stop_arg sa = { q, 0 };
		double t1;

		T_OK(wd_share(d, b, ps, 0, &ib));
		wd_prep_nop(&r[0], 300 * 1000 * 1000);
		T_EQ(wd_send(q, r, 1), 1);
		T_ASSERT(!pthread_create(&th, NULL, stop_later, &sa));
		t1 = t_now();
		T_OK(wd_unshare(d, ib, 0, -1));
		pthread_join(th, NULL);
		T_OK(sa.ret);
		T_ASSERT(t_now() - t1 < 5);
		while (wd_recv(q, c, 2) > 0)
			;
		wd_queue_free(q);
		q = t_xqueue(ctx, "mover", d);
	}
	/* a stopped queue holds no lease */
	T_OK(wd_share(d, a, ps, 0, &ia));
	wd_prep_nop(&r[0], 200 * 1000 * 1000);
	T_EQ(wd_send(q, r, 1), 1);
	T_OK(wd_queue_stop(q));
	T_OK(wd_unshare(d, ia, WD_UNSHARE_NOWAIT, 0));
	wd_queue_free(q);
	T_OK(wd_domain_free(d));
	wd_mem_free(a, ps);
	wd_mem_free(b, ps);
	wd_ctx_free(ctx);
	return 0;
}
