/* Completions that come back out of order keep their tags, and the queue's
 * accounting (in flight, free slots) stays right.  A test device registered
 * through the driver interface completes every group of 4 in reverse.  The
 * queue has a fallback (the default), so the ring carries the library's
 * tags, not the user's: the device's result (arg0 * 3) ties each
 * completion to its request independently of the tags. */
#include <pthread.h>
#include <sys/mman.h>
#include "core/internal.h"
#include "t_helpers.h"

#define GROUP 4

struct tdev_q {
	pthread_t th;
	struct wd_ring ring;
	uint32_t head, cq_tail, stop;
};

static void *tdev_main(void *arg)
{
	struct tdev_q *t = arg;
	struct wd_ring *r = &t->ring;

	while (!__atomic_load_n(&t->stop, __ATOMIC_ACQUIRE)) {
		uint32_t avail = wd_load_acquire(&r->ctl->sq_tail) - t->head;
		uint64_t tags[GROUP], args[GROUP];
		int i;

		if (avail < GROUP) {
			wd_cpu_relax();
			continue;
		}
		for (i = 0; i < GROUP; i++) {
			tags[i] = r->sqes[(t->head + i) & r->sq_mask].tag;
			args[i] = r->sqes[(t->head + i) & r->sq_mask].arg0;
		}
		t->head += GROUP;
		wd_store_release(&r->ctl->sq_head, t->head);
		for (i = GROUP - 1; i >= 0; i--) {
			wd_cqe *c = &r->cqes[t->cq_tail++ & r->cq_mask];

			memset(c, 0, sizeof(*c));
			c->tag = tags[i];
			c->result = args[i] * 3;
		}
		wd_store_release(&r->ctl->cq_tail, t->cq_tail);
	}
	return NULL;
}

static int tdev_open(struct wd_queue *q)
{
	struct tdev_q *t = calloc(1, sizeof(*t));
	size_t size = wd_ring_size(q->depth, q->depth);

	q->mem = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	T_ASSERT(t && q->mem != MAP_FAILED);
	wd_ring_bind(&q->ring, q->mem, q->depth, q->depth);
	wd_ring_bind(&t->ring, q->mem, q->depth, q->depth);
	q->drv = t;
	return 0;
}

static void tdev_close(struct wd_queue *q, int in_child)
{
	munmap(q->mem, q->ring.size);
	free(q->drv);
}

static int tdev_start(struct wd_queue *q)
{
	struct tdev_q *t = q->drv;

	t->head = t->cq_tail = q->ring.ctl->sq_head;
	return -pthread_create(&t->th, NULL, tdev_main, t);
}

static void tdev_stop(struct wd_queue *q, uint32_t *sq_head, uint32_t *cq_tail)
{
	struct tdev_q *t = q->drv;

	__atomic_store_n(&t->stop, 1, __ATOMIC_RELEASE);
	pthread_join(t->th, NULL);
	*sq_head = t->head;
	*cq_tail = t->cq_tail;
}

static void tdev_kick(struct wd_queue *q)
{
}

static const struct wd_driver_ops tdev_ops = {
	.name = "test", .queue_open = tdev_open, .queue_close = tdev_close,
	.queue_start = tdev_start, .queue_stop = tdev_stop, .kick = tdev_kick,
};
static const char *const tdev_algs[] = { "nop", NULL };

int main(void)
{
	struct wd_ctx *ctx = t_ctx(1, 0);
	struct wd_dev_info info = { .size = sizeof(info), .flags = WD_DEV_F_SVA, .max_queues = 4,
				    .max_depth = 64 };
	struct wd_queue_opts o = { .size = sizeof(o), .depth = 16, .device = "test0" };
	struct wd_queue *q;
	static int seen[4000];
	struct wd_req r[8];
	struct wd_cpl c[16];
	uint64_t next = 0, got = 0;
	int i, n;

	strcpy(info.name, "test0");
	T_OK(wd__dev_add(ctx, &tdev_ops, &info, tdev_algs, NULL));
	T_OK(wd_queue_new(&q, ctx, "nop", &o));
	while (got < 4000) {
		for (i = 0; i < 8; i++) {
			wd_prep_nop(&r[i], next + (uint64_t)i);
			r[i].tag = next + (uint64_t)i;
		}
		if (next < 4000) {
			n = wd_send(q, r, 4000 - next < 8 ? (unsigned)(4000 - next) : 8);
			if (n > 0)
				next += (uint64_t)n;
			else
				T_EQ(n, -EBUSY);
		}
		n = wd_recv(q, c, 16);
		T_ASSERT(n >= 0);
		for (i = 0; i < n; i++) {
			T_ASSERT(c[i].tag < 4000);
			T_EQ(c[i].result, c[i].tag * 3);
			/* reversed within each group of 4 */
			T_EQ(c[i].tag % GROUP, GROUP - 1 - (got % GROUP));
			T_EQ(seen[c[i].tag]++, 0);
			got++;
		}
		T_EQ(wd_inflight(q), (int)(next - got));
	}
	wd_queue_free(q);
	wd_ctx_free(ctx);
	return 0;
}
