/* SPDX-License-Identifier: MIT */
/*
 * Keep a second copy of a shared buffer up to date while the device keeps
 * writing to it, copying only the pages the device dirtied - the pattern of
 * live migration and incremental checkpoints.
 *
 * A writer thread keeps a queue busy with fill requests at random places
 * in a 64 MiB shared buffer.  The main thread, every few milliseconds,
 * reads and clears the domain's dirty bitmap and copies just those pages
 * into the mirror.  At the end the writer stops, one last pass runs, and
 * the mirror must equal the buffer byte for byte.
 *
 * Build: cc dirty_mirror.c $(pkg-config --cflags --libs libwd) -lpthread
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <wd/mem.h>
#include <wd/mover.h>
#include <wd/wd.h>

#define BUF_SIZE (64u << 20)

struct writer {
	struct wd_queue *q;
	uint64_t iova;
	size_t page;
	volatile int stop;
	unsigned long requests;
	int error;
};

static void *writer_main(void *arg)
{
	struct writer *w = arg;
	uint64_t x = 88172645463325252ull;
	struct wd_req r[16];
	struct wd_cpl c[16];
	int i, n;

	while (!w->stop && !w->error) {
		for (i = 0; i < 16; i++) {
			uint64_t off;

			x ^= x << 13, x ^= x >> 7, x ^= x << 17;
			off = x % (BUF_SIZE - 2 * w->page);
			/* a fill of up to two pages, anywhere: crosses page edges */
			wd_prep_fill(&r[i], NULL, x, (uint32_t)(1 + (x >> 40) % (2 * w->page)));
			r[i].dst = w->iova + off;
			r[i].tag = (uint64_t)i;
		}
		if (wd_send(w->q, r, 16) != 16) {
			w->error = 1;
			break;
		}
		for (n = 0; n < 16;) {
			int k = wd_wait(w->q, c, 16, 5000), j;

			if (k <= 0) {
				w->error = 1;
				break;
			}
			for (j = 0; j < k; j++)
				w->error |= c[j].status != 0;
			n += k;
		}
		w->requests += 16;
	}
	return NULL;
}

/* Copy the pages dirtied since the last pass; returns how many. */
static long sync_pass(struct wd_domain *d, const unsigned char *buf, uint64_t iova,
		      unsigned char *mirror, size_t page, uint64_t *bitmap)
{
	size_t npages = BUF_SIZE / page, p;
	int64_t n = wd_dirty_read_clear(d, iova, BUF_SIZE, bitmap);

	if (n < 0)
		return n;
	for (p = 0; p < npages; p++)
		if (bitmap[p / 64] >> (p % 64) & 1)
			memcpy(mirror + p * page, buf + p * page, page);
	return (long)n;
}

int main(void)
{
	struct wd_queue_opts qo = { .size = sizeof(qo), .depth = 32, .flags = WD_QUEUE_F_EXPLICIT };
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	unsigned char *buf = wd_mem_alloc(BUF_SIZE), *mirror = malloc(BUF_SIZE);
	uint64_t *bitmap = calloc(BUF_SIZE / page / 64 + 1, sizeof(uint64_t));
	struct writer w = { .page = page };
	struct wd_ctx *ctx;
	struct wd_domain *d;
	pthread_t th;
	long copied = 0, passes = 0, n;
	int ret, i;

	if (!buf || !mirror || !bitmap)
		return 1;
	memset(buf, 0, BUF_SIZE);
	memset(mirror, 0, BUF_SIZE); /* the copy starts equal */
	ret = wd_ctx_new(&ctx, NULL);
	if (!ret)
		ret = wd_queue_new(&w.q, ctx, "fill", &qo);
	if (ret) {
		fprintf(stderr, "setup: %s\n", wd_strerror(ret));
		return 1;
	}
	d = wd_queue_domain(w.q);
	wd_domain_set_pin_limit(d, UINT64_MAX);
	ret = wd_share(d, buf, BUF_SIZE, 0, &w.iova);
	if (!ret)
		ret = wd_dirty_start(d);
	if (ret) {
		fprintf(stderr, "share: %s\n", wd_strerror(ret));
		return 1;
	}
	pthread_create(&th, NULL, writer_main, &w);
	for (i = 0; i < 50; i++) {
		usleep(4000);
		n = sync_pass(d, buf, w.iova, mirror, page, bitmap);
		if (n < 0)
			return 1;
		copied += n;
		passes++;
	}
	w.stop = 1;
	pthread_join(th, NULL);
	/* the device is quiet now: one last pass catches the rest */
	n = sync_pass(d, buf, w.iova, mirror, page, bitmap);
	copied += n;
	passes++;
	ret = w.error || memcmp(buf, mirror, BUF_SIZE) != 0;
	printf("dirty_mirror: %lu device writes, %ld passes, %ld pages copied of %zu per full copy"
	       " (%.1f%% of copying everything each pass): mirror %s\n",
	       w.requests, passes, copied, BUF_SIZE / page,
	       100.0 * (double)copied / ((double)passes * (double)(BUF_SIZE / page)),
	       ret ? "DIFFERS" : "identical");
	wd_unshare(d, w.iova, 0, -1);
	wd_queue_free(w.q);
	wd_ctx_free(ctx);
	wd_mem_free(buf, BUF_SIZE);
	free(mirror);
	free(bitmap);
	return ret;
}
