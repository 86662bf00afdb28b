/*
 * The daemon reads a client's memory ahead of its turn (the next request's
 * source, while the engine runs the current one: src/dev/soft/prefetch.c)
 * and nothing a client sees may change for it:
 *
 * clients  what was read ahead for one client's queue never serves another
 *          (a second process, same addresses, after the first closed its
 *          queue with that read done and its request never run);
 * order    requests in flight together run as if one after the other: one
 *          that reads or writes what the one before wrote (whole, partly,
 *          in chains, copied by the engine or its helper) sees it written;
 *          checked against a model of the memory; completions come back
 *          in order;
 * unmap    a source unmapped while its request waits: the request copies
 *          what was there or fails with -EFAULT; a destination unmapped
 *          (whole or its second half): -EFAULT, and the next request's
 *          completion is right; the daemon serves on.
 */
#include <sys/mman.h>
#include "t_wdd.h"

#define LEN (64u << 10)
#define POOL (1u << 20)
#define BATCH 12
#define ROUNDS 300

static unsigned char xbuf[LEN] __attribute__((aligned(4096))), ybuf[LEN];

/* One client process: X filled with c; A (first) queues a long no-op and a
 * copy of X, then closes the queue while the no-op runs; B copies X and
 * must get its own bytes. */
static int client(int first, unsigned char c)
{
	struct wd_ctx *ctx;
	struct wd_queue *q;
	struct wd_req r[2];
	struct wd_cpl cpl;
	unsigned i;

	memset(xbuf, c, LEN);
	memset(ybuf, 0, LEN);
	if (wd_ctx_new(&ctx, NULL) || !wd_dev_by_name(ctx, "wdd0"))
		return 2;
	{
		struct wd_queue_opts o = { .size = sizeof(o), .depth = 8, .device = "wdd0" };

		if (wd_queue_new(&q, ctx, "mover", &o))
			return 3;
	}
	if (first) {
		wd_prep_nop(&r[0], 150000000); /* 150 ms: the copy is read meanwhile */
		wd_prep_copy(&r[1], ybuf, xbuf, LEN);
		if (wd_send(q, r, 2) != 2)
			return 4;
		usleep(50000);
		wd_queue_free(q); /* the copy is never run */
	} else {
		wd_prep_copy(&r[0], ybuf, xbuf, LEN);
		if (wd_send(q, r, 1) != 1 || wd_wait(q, &cpl, 1, 5000) != 1 || cpl.status)
			return 5;
		for (i = 0; i < LEN; i++)
			if (ybuf[i] != c)
				return 6;
		wd_queue_free(q);
	}
	wd_ctx_free(ctx);
	return 0;
}

static void s_clients(void)
{
	int k, st;
	pid_t pid;

	/* no thread in this process yet: forking is safe */
	for (k = 0; k < 2; k++) {
		pid = fork();
		T_ASSERT(pid >= 0);
		if (pid == 0)
			_exit(client(k == 0, k == 0 ? 'A' : 'B'));
		T_EQ(waitpid(pid, &st, 0), pid);
		if (!WIFEXITED(st) || WEXITSTATUS(st))
			T_FAIL("client %c: status %#x", k == 0 ? 'A' : 'B', st);
	}
}

/* ---- order: random copies and fills over one pool, in batches ---- */

static void s_order(struct wd_queue *q, uint64_t *seed)
{
	unsigned char *pool = malloc(POOL), *model = malloc(POOL);
	struct wd_req r[BATCH];
	struct wd_cpl c[BATCH];
	unsigned round, i, n, got;
	int k;

	T_ASSERT(pool && model);
	t_fill_random(pool, POOL, seed);
	memcpy(model, pool, POOL);
	for (round = 0; round < ROUNDS; round++) {
		n = 2 + (unsigned)(t_rand(seed) % (BATCH - 1));
		for (i = 0; i < n; i++) {
			/* sources and destinations in a small window: the next
			 * request often reads what this one writes */
			/* below 32 KiB the engine copies for itself, above
			 * its helper does: both mixed */
			uint32_t len = 512 + (uint32_t)(t_rand(seed) % (128u << 10));
			uint64_t win = 4 * LEN, base = t_rand(seed) % (POOL - win - 2 * len);
			uint64_t so = base + t_rand(seed) % win, d = base + t_rand(seed) % win;

			if (!(t_rand(seed) % 4)) {
				uint64_t pat = t_rand(seed);

				wd_prep_fill(&r[i], pool + d, pat, len);
				for (k = 0; k < (int)len; k++)
					model[d + (uint64_t)k] = ((unsigned char *)&pat)[k % 8];
			} else {
				wd_prep_copy(&r[i], pool + d, pool + so, len);
				memmove(model + d, model + so, len);
			}
			r[i].tag = i;
		}
		T_EQ(wd_send(q, r, n), (int)n);
		for (got = 0; got < n;) {
			int m = wd_wait(q, c, BATCH, 5000);

			T_ASSERT(m > 0);
			for (k = 0; k < m; k++) {
				if (c[k].status)
					T_FAIL("round %u: request %llu: %d", round,
					       (unsigned long long)c[k].tag, c[k].status);
				/* the engine works in order, whoever posts */
				T_EQ(c[k].tag, got + (unsigned)k);
			}
			got += (unsigned)m;
		}
		if (memcmp(pool, model, POOL)) {
			for (i = 0; i < POOL && pool[i] == model[i]; i++)
				;
			T_FAIL("round %u (%u requests): memory differs from the model at %u",
			       round, n, i);
		}
	}
	free(pool);
	free(model);
}

/* ---- unmap: the source of a waiting request goes away ---- */

static void s_unmap(struct wd_queue *q)
{
	unsigned char *big = malloc(8 << 20), *out = malloc(8 << 20), *dst = malloc(LEN);
	struct wd_req r[2];
	struct wd_cpl c[2];
	unsigned i, ok = 0, fault = 0;
	int k, m;

	T_ASSERT(big && out && dst);
	memset(big, 1, 8 << 20);
	for (i = 0; i < 20; i++) {
		unsigned char *b = mmap(NULL, LEN, PROT_READ | PROT_WRITE,
					MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		T_ASSERT(b != MAP_FAILED);
		memset(b, 'u', LEN);
		memset(dst, 0, LEN);
		wd_prep_copy(&r[0], out, big, 8 << 20); /* keeps the engine busy */
		wd_prep_copy(&r[1], dst, b, LEN);
		r[0].tag = 0;
		r[1].tag = 1;
		T_EQ(wd_send(q, r, 2), 2);
		usleep(i * 1000);
		munmap(b, LEN);
		for (k = 0; k < 2; k += m) {
			m = wd_wait(q, c + k, 2 - (unsigned)k, 5000);
			T_ASSERT(m > 0);
		}
		for (k = 0; k < 2; k++) {
			if (c[k].tag == 0) {
				T_EQ(c[k].status, 0);
			} else if (c[k].status == 0) {
				for (m = 0; m < (int)LEN; m++)
					T_EQ(dst[m], 'u');
				ok++;
			} else {
				T_EQ(c[k].status, -EFAULT);
				fault++;
			}
		}
	}
	printf("unmap: %u copies done, %u refused\n", ok, fault);
	/* results written behind into memory that is gone */
	for (i = 0; i < 10; i++) {
		unsigned char *b = mmap(NULL, 2 * LEN, PROT_READ | PROT_WRITE,
					MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		T_ASSERT(b != MAP_FAILED);
		munmap(b + (i % 2 ? LEN : 0), i % 2 ? LEN : 2 * LEN);
		memset(dst, 0, LEN);
		wd_prep_copy(&r[0], b, big, 2 * LEN);
		wd_prep_copy(&r[1], dst, big, LEN);
		r[0].tag = 0;
		r[1].tag = 1;
		T_EQ(wd_send(q, r, 2), 2);
		for (k = 0; k < 2; k += m) {
			m = wd_wait(q, c + k, 2 - (unsigned)k, 5000);
			T_ASSERT(m > 0);
		}
		T_EQ(c[0].tag, 0);
		T_EQ(c[0].status, -EFAULT);
		T_EQ(c[1].tag, 1);
		T_EQ(c[1].status, 0);
		T_ASSERT(!memcmp(dst, big, LEN));
		if (i % 2)
			munmap(b, LEN);
	}
	free(big);
	free(out);
	free(dst);
}

int main(int argc, char **argv)
{
	static const char *const opts[] = { "-t", "1", "-D", "200", NULL };
	struct t_wdd w = { 0 };
	struct wd_ctx *ctx;
	struct wd_queue *q;
	uint64_t seed = t_seed();

	if (argc < 2)
		return T_SKIP;
	t_wdd_start(&w, argv[1], opts); /* "-t 1": one engine thread, one reader */
	s_clients();
	ctx = t_wdd_ctx();
	q = t_wdd_queue(ctx, "mover", 0, NULL);
	s_order(q, &seed);
	s_unmap(q);
	wd_queue_free(q);
	wd_ctx_free(ctx);
	t_wdd_cleanup(&w);
	return 0;
}
