/* Pins shared by two domains, changed concurrently: threads share and
 * unshare overlapping ranges in two domains of one context (and in the
 * same domain) at once.  Unpinning must read the other shares under their
 * own lock (TSan flagged the unlocked read of a table a concurrent share
 * was growing), must not deadlock when two domains unpin pages each other
 * holds, and must leave exactly the pages still shared somewhere locked
 * (VmLck, where mlock is real). */
#define _GNU_SOURCE
#include <pthread.h>
#include <sys/mman.h>
#include "t_mem_helpers.h"

/* Sanitizers intercept mlock and ignore it: the counter is checked only in
 * the plain build. */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define MLOCK_VISIBLE 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define MLOCK_VISIBLE 0
#endif
#endif
#ifndef MLOCK_VISIBLE
#define MLOCK_VISIBLE 1
#endif

#define THREADS 4       /* two per domain */
#define ROUNDS 300
#define SLOTS 6         /* ranges a thread keeps shared at once */
#define PAGES 64

struct worker {
	struct wd_domain *d;
	unsigned char *base;    /* the pages every thread works on */
	unsigned id;
	uint64_t iova[SLOTS];   /* 0: free slot */
	unsigned first[SLOTS], npages[SLOTS];
};

/* Threads of one domain take disjoint pages (even/odd thread: lower/upper
 * half), so their shares never collide there (-EEXIST); across domains
 * every page overlaps. */
static void pick(struct worker *w, unsigned slot, unsigned *seed)
{
	unsigned half = PAGES / 2, lo = (w->id & 1) * half;

	w->npages[slot] = 1 + rand_r(seed) % 4;
	w->first[slot] = lo + rand_r(seed) % (half - w->npages[slot] + 1);
}

static int collides(const struct worker *w, unsigned slot)
{
	unsigned i;

	for (i = 0; i < SLOTS; i++)
		if (i != slot && w->iova[i] && w->first[slot] < w->first[i] + w->npages[i] &&
		    w->first[i] < w->first[slot] + w->npages[slot])
			return 1;
	return 0;
}

static void *work(void *arg)
{
	struct worker *w = arg;
	unsigned seed = 0x5eed + w->id, r, slot;
	size_t ps = t_page();

	for (r = 0; r < ROUNDS; r++) {
		slot = rand_r(&seed) % SLOTS;
		if (w->iova[slot]) {
			T_OK(wd_unshare(w->d, w->iova[slot], 0, -1));
			w->iova[slot] = 0;
			continue;
		}
		pick(w, slot, &seed);
		if (collides(w, slot))
			continue;
		T_OK(wd_share(w->d, w->base + w->first[slot] * ps, w->npages[slot] * ps, 0,
			      &w->iova[slot]));
	}
	return NULL;
}

/* Pages still shared by any worker: what must stay locked. */
static long kept_kb(const struct worker *w, unsigned n)
{
	unsigned char kept[PAGES] = { 0 };
	unsigned i, s, p;
	long pages = 0;

	for (i = 0; i < n; i++)
		for (s = 0; s < SLOTS; s++)
			for (p = 0; w[i].iova[s] && p < w[i].npages[s]; p++)
				kept[w[i].first[s] + p] = 1;
	for (p = 0; p < PAGES; p++)
		pages += kept[p];
	return pages * (long)t_page() / 1024;
}

int main(void)
{
	size_t ps = t_page();
	struct wd_ctx *ctx = t_ctx(1, 0);
	struct wd_domain *d[2];
	struct worker w[THREADS];
	pthread_t th[THREADS];
	unsigned char *base = wd_mem_alloc(PAGES * ps);
	long base_lck = t_vm_locked_kb();
	unsigned i, s;

	T_ASSERT(base);
	for (i = 0; i < 2; i++) {
		T_OK(wd_domain_new(&d[i], ctx, NULL));
		T_OK(wd_domain_set_pin_limit(d[i], UINT64_MAX));
	}
	memset(w, 0, sizeof(w));
	for (i = 0; i < THREADS; i++) {
		w[i] = (struct worker){ .d = d[i / 2], .base = base, .id = i };
		T_EQ(pthread_create(&th[i], NULL, work, &w[i]), 0);
	}
	for (i = 0; i < THREADS; i++)
		T_EQ(pthread_join(th[i], NULL), 0);
	if (MLOCK_VISIBLE)
		T_EQ(t_vm_locked_kb() - base_lck, kept_kb(w, THREADS));

	/* let go in the other order: domain 1 first, then domain 0 */
	for (i = THREADS; i-- > 0;)
		for (s = 0; s < SLOTS; s++)
			if (w[i].iova[s])
				T_OK(wd_unshare(w[i].d, w[i].iova[s], 0, -1));
	if (MLOCK_VISIBLE)
		T_EQ(t_vm_locked_kb() - base_lck, 0);
	for (i = 0; i < 2; i++)
		T_OK(wd_domain_free(d[i]));
	wd_mem_free(base, PAGES * ps);
	wd_ctx_free(ctx);
	return 0;
}
