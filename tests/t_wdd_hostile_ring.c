/*
 * A ring rewritten under the engine, while two well-behaved clients keep
 * working (t_wdd_hostile.h): one attacker thread submits random requests
 * (valid and not) on an explicit queue and reaps; another rewrites SQEs,
 * sq_tail, cq_head and cq_flags at random in the same mapping.  When the
 * engine declares the ring dead, the attacker closes the queue and opens
 * another.  The daemon must survive, the victims see no wrong completion and
 * keep their latency; the figures are printed at the end.
 *
 * Explicit queues only: every address the engine follows is an IOVA checked
 * against the attacker's own domain (one shared memfd), so random bytes can
 * never reach the victims' memory, which lives in this very process.
 *
 * usage: t_wdd_hostile_ring WDD [all|ring] [REQUESTS]   (default 200000;
 * WD_TEST_SEED repeats a run)
 */
#define _GNU_SOURCE
#include "t_wdd_hostile.h"

#define BUF (1u << 20)
#define IOVA 0x60000000ull
#define QDEPTH 64

struct attack {
	struct t_wdd *w;
	struct t_raw r;
	uint32_t dom;
	int fd;
	pthread_rwlock_t lock;  /* write: the queue is being replaced */
	struct t_rawq q;
	uint64_t seed_sub, seed_rw;
	uint64_t want, sent, done, errors, rings, rewrites;
	int stop;
};

/* SQE words stored one by one (relaxed): the rewriter writes them too. */
static void sqe_put(struct t_rawq *q, const struct wd_req *e)
{
	uint64_t *d = (uint64_t *)&q->ring.sqes[q->sq_tail & q->ring.sq_mask];
	const uint64_t *s = (const uint64_t *)e;
	unsigned i;

	for (i = 0; i < sizeof(*e) / 8; i++)
		__atomic_store_n(&d[i], s[i], __ATOMIC_RELAXED);
	q->sq_tail++;
}

static void random_req(struct wd_req *e, uint64_t *s)
{
	static const uint64_t addrs[] = { IOVA, IOVA + BUF / 2, IOVA + BUF - 64, 0,
					  IOVA - 4096, IOVA + BUF, UINT64_MAX - 100, 1ull << 63 };
	uint64_t x = t_rand(s);

	memset(e, 0, sizeof(*e));
	e->op = (uint8_t)(x % (WD_OP__COUNT + 2));
	e->tag = t_rand(s);
	e->src = addrs[(x >> 8) & 7] + ((x >> 11) & 1 ? (x >> 12) % 4096 : 0);
	e->dst = addrs[(x >> 16) & 7];
	e->len = (uint32_t)((x >> 24) & 1 ? (x >> 25) % 8192 : (x >> 25) % (2 * BUF));
	e->dst_len = (uint32_t)((x >> 40) % (2 * BUF));
	if ((x >> 60) == 0) /* now and then: anything at all */
		t_fill_random(e, sizeof(*e), s);
	else if (e->op == WD_OP_NOP)
		e->arg0 = (x >> 48) % 2 ? 0 : (x >> 50) % 100000;
	else if (e->op == WD_OP_COMPRESS || e->op == WD_OP_DECOMPRESS)
		e->param = (uint32_t)(t_rand(s) & 0x1fff);
}

static void open_queue(struct attack *a)
{
	static const char *const algs[] = { "mover", "gzip", "nop" };

	T_OK(t_raw_queue_open(&a->r, algs[a->rings % 3], QDEPTH, a->dom, 1, &a->q));
	a->rings++;
}

static void *submitter(void *arg)
{
	struct attack *a = arg;
	struct wd_req e[16];
	struct wd_cpl c[QDEPTH];
	unsigned i, n, stuck = 0;
	int got;

	while (a->sent < a->want) {
		n = 1 + (unsigned)(t_rand(&a->seed_sub) % 16);
		for (i = 0; i < n; i++)
			random_req(&e[i], &a->seed_sub);
		pthread_rwlock_rdlock(&a->lock);
		for (i = 0; i < n && a->q.sq_tail - a->q.cq_head < QDEPTH; i++)
			sqe_put(&a->q, &e[i]);
		a->sent += i;
		wd_store_sc(&a->q.ring.ctl->sq_tail, a->q.sq_tail);
		if (write(a->q.db_fd, &(uint64_t){ 1 }, 8) < 0)
			(void)0;
		got = t_rawq_reap(&a->q, c, QDEPTH, 20);
		pthread_rwlock_unlock(&a->lock);
		if (got > 0) {
			stuck = 0;
			a->done += (unsigned)got;
			for (i = 0; i < (unsigned)got; i++)
				a->errors += c[i].status != 0;
			continue;
		}
		/* dead (-EIO), or indices rewritten past repair: a new queue */
		if (got == -EIO || ++stuck > 5) {
			pthread_rwlock_wrlock(&a->lock);
			T_EQ(t_raw_queue_close(&a->r, a->q.id), 0);
			t_rawq_drop(&a->q);
			open_queue(a);
			pthread_rwlock_unlock(&a->lock);
			stuck = 0;
		}
	}
	__atomic_store_n(&a->stop, 1, __ATOMIC_RELEASE);
	return NULL;
}

static void *rewriter(void *arg)
{
	struct attack *a = arg;
	uint64_t x;

	while (!__atomic_load_n(&a->stop, __ATOMIC_ACQUIRE)) {
		pthread_rwlock_rdlock(&a->lock);
		x = t_rand(&a->seed_rw);
		switch (x % 8) {
		case 0: case 1: case 2: { /* an SQE word */
			uint64_t *p = (uint64_t *)a->q.ring.sqes;

			__atomic_store_n(&p[(x >> 8) % (QDEPTH * 8)], t_rand(&a->seed_rw),
					 __ATOMIC_RELAXED);
			break;
		}
		case 3: /* sq_tail: near (the shared value: the submitter's own
			 * copy is its thread's alone), or anywhere */
			__atomic_store_n(&a->q.ring.ctl->sq_tail, (x >> 32) & 1 ?
					 __atomic_load_n(&a->q.ring.ctl->sq_tail, __ATOMIC_RELAXED) +
					 (uint32_t)((x >> 8) % 8) : (uint32_t)(x >> 33),
					 __ATOMIC_RELAXED);
			break;
		case 4: case 5:
			__atomic_store_n(&a->q.ring.ctl->cq_head, (x >> 32) & 1 ?
					 __atomic_load_n(&a->q.ring.ctl->cq_head, __ATOMIC_RELAXED) -
					 (uint32_t)((x >> 8) % 4) : (uint32_t)(x >> 33),
					 __ATOMIC_RELAXED);
			break;
		default:
			__atomic_store_n(&a->q.ring.ctl->cq_flags, (uint32_t)(x >> 32),
					 __ATOMIC_RELAXED);
		}
		a->rewrites++;
		pthread_rwlock_unlock(&a->lock);
		if (x % 64 == 0)
			usleep(50);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	static struct attack a;
	struct t_wdd w = { 0 };
	pthread_t th[2];
	uint64_t seed;
	double t0, secs, mx = 0, med;
	void *p;

	if (argc < 2)
		return T_SKIP;
	a.want = argc > 3 ? strtoull(argv[3], NULL, 0) : 200000;
	seed = t_seed();
	a.seed_sub = seed;
	a.seed_rw = seed ^ 0x9e3779b97f4a7c15ull;
	if (!t_want(argc, argv, "ring"))
		return T_SKIP;
	t_stage("daemon and victims start", 60);
	t_wdd_start(&w, argv[1], NULL);
	t_victims_start();
	t_stage("ring: random requests on a ring rewritten under the engine",
		(unsigned)(120 + a.want / 1000));
	t_raw_open(&a.r, w.sock);
	T_OK(t_raw_domain_new(&a.r, &a.dom));
	a.fd = t_memfd(BUF, F_SEAL_SHRINK);
	p = mmap(NULL, BUF, PROT_READ | PROT_WRITE, MAP_SHARED, a.fd, 0);
	T_ASSERT(p != MAP_FAILED);
	T_OK(t_raw_share(&a.r, a.dom, WD_SHARE_IDENTITY, IOVA, BUF, 0, a.fd, NULL));
	pthread_rwlock_init(&a.lock, NULL);
	open_queue(&a);
	t0 = t_now();
	T_OK(-pthread_create(&th[0], NULL, submitter, &a));
	T_OK(-pthread_create(&th[1], NULL, rewriter, &a));
	t_victims_check("ring rewriting");
	pthread_join(th[0], NULL);
	pthread_join(th[1], NULL);
	secs = t_now() - t0;
	printf("ring: %llu requests in %.1f s (%.0f/s), %llu completions (%llu errors), "
	       "%llu rings, %llu rewrites\n", (unsigned long long)a.sent, secs, a.sent / secs,
	       (unsigned long long)a.done, (unsigned long long)a.errors,
	       (unsigned long long)a.rings, (unsigned long long)a.rewrites);
	med = t_vic_median(T_LAT_WINDOW, &mx);
	printf("ring: victims' no-op median now %.1f us (max %.1f us), quiet %.1f us\n",
	       med, mx, t_vic.base_us);
	t_wdd_alive(&w, "ring");
	t_raw_close(&a.r);
	munmap(p, BUF);
	close(a.fd);
	t_stage("victims stop, daemon exits", 60);
	t_victims_stop();
	t_wdd_cleanup(&w);
	return 0;
}
