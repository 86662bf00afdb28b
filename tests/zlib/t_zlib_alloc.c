/* SPDX-License-Identifier: MIT */
/*
 * A stream's memory through the layer comes from the caller's zalloc and
 * goes back through its zfree, as with zlib.  The allocator here is
 * nginx's: one block preallocated per stream, of
 *     8192 + 16 + (1 << (windowBits + 2)) + (1 << (memLevel + 9))
 * bytes for deflate, carved up by zalloc; asking for more is what makes
 * nginx log "[alert] gzip filter failed to use preallocated memory".
 * Checked: every allocation in that bound (deflate, for nginx's window and
 * hash sizes), all of them freed by deflateEnd/inflateEnd, the opaque
 * pointer handed back, the process heap not growing beside zalloc while a
 * stream lives; and a zalloc that fails at any point gives Z_MEM_ERROR or
 * right output, never a crash, wrong data or a leak.
 *
 * usage: t_zlib_alloc CORPUS_DIR layer|stock
 */
#define _GNU_SOURCE
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "zl.h"

#define VER ZLIB_VERSION
#define SZ ((int)sizeof(z_stream))
#define MAX_BLOCKS 256
/* heap the process may gain beside zalloc while a stream lives (stdio,
 * a thread's first allocation...) */
#define HEAP_SLACK 4096

struct arena {
	unsigned magic;
	unsigned char *block;
	size_t cap, used;
	unsigned allocs, frees, over, fail_at;
	size_t asked, over_bytes;
	struct {
		void *p;
		int own; /* outside the block: malloc'd, like nginx's fallback */
	} live[MAX_BLOCKS];
	unsigned nlive;
};

#define ARENA_MAGIC 0x61726e61u

static voidpf arena_alloc(voidpf opaque, uInt items, uInt size)
{
	struct arena *a = opaque;
	size_t n = (size_t)items * size, need = (n + 15) & ~(size_t)15;
	void *p;

	if (!a || a->magic != ARENA_MAGIC) {
		fprintf(stderr, "FAIL: zalloc called with opaque %p, not the stream's\n", opaque);
		exit(1);
	}
	a->allocs++;
	if (a->fail_at && a->allocs >= a->fail_at)
		return Z_NULL;
	if (a->nlive == MAX_BLOCKS) {
		fprintf(stderr, "FAIL: more than %d live allocations for one stream\n", MAX_BLOCKS);
		exit(1);
	}
	a->asked += n;
	if (a->used + need <= a->cap) {
		p = a->block + a->used;
		a->used += need;
		a->live[a->nlive].own = 0;
	} else {
		a->over++;
		a->over_bytes += n;
		p = malloc(n);
		a->live[a->nlive].own = 1;
	}
	a->live[a->nlive++].p = p;
	return p;
}

static void arena_free(voidpf opaque, voidpf p)
{
	struct arena *a = opaque;
	unsigned i;

	a->frees++;
	for (i = 0; i < a->nlive && a->live[i].p != p; i++)
		;
	if (i == a->nlive) {
		fprintf(stderr, "FAIL: zfree of %p, which zalloc did not return\n", p);
		exit(1);
	}
	if (a->live[i].own)
		free(p);
	a->live[i] = a->live[--a->nlive];
}

static void arena_init(struct arena *a, size_t cap, unsigned fail_at)
{
	memset(a, 0, sizeof(*a));
	a->magic = ARENA_MAGIC;
	a->cap = cap;
	a->block = zl_xmalloc(cap ? cap : 1);
	a->fail_at = fail_at;
}

static size_t nginx_bound(int wbits, int memlevel)
{
	return 8192 + 16 + ((size_t)1 << (wbits + 2)) + ((size_t)1 << (memlevel + 9));
}

/* bytes in use on the process heap */
#if defined(__SANITIZE_ADDRESS__)
#define ZL_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ZL_ASAN 1
#endif
#endif
#ifdef ZL_ASAN
size_t __sanitizer_get_current_allocated_bytes(void);
static long heap_in_use(void)
{
	return (long)__sanitizer_get_current_allocated_bytes();
}
#else
static long heap_in_use(void)
{
	struct mallinfo2 m = mallinfo2();

	return (long)(m.uordblks + m.hblkhd);
}
#endif

static unsigned char *data;
static size_t data_len;

/* One deflate stream on an arena; returns 0 if it completed. */
static int arena_deflate(struct arena *a, int level, int wbits, int memlevel, size_t len,
			 int check_heap, const char *what)
{
	size_t cap = len + len / 2 + 4096, fed = 0;
	unsigned char *comp = zl_xmalloc(cap), *back = zl_xmalloc(len + 1);
	long heap0 = heap_in_use();
	z_stream z;
	int rc, ret = -1;

	memset(&z, 0, sizeof(z));
	z.zalloc = arena_alloc, z.zfree = arena_free, z.opaque = a;
	rc = zl_plain.deflateInit2_(&z, level, Z_DEFLATED, wbits, memlevel, 0, VER, SZ);
	if (rc != Z_OK) {
		ZL_CHECK(what, rc == Z_MEM_ERROR && a->fail_at, "deflateInit2 = %d", rc);
		goto out;
	}
	z.next_out = comp, z.avail_out = (uInt)cap;
	while (fed < len) {
		size_t n = len - fed < 16384 ? len - fed : 16384;

		z.next_in = data + fed, z.avail_in = (uInt)n;
		fed += n;
		rc = zl_plain.deflate(&z, fed == len ? Z_FINISH : Z_NO_FLUSH);
		if (rc != Z_OK && rc != Z_STREAM_END)
			break;
		if (check_heap && fed == 4 * 16384) {
			long grown = heap_in_use() - heap0;

			ZL_CHECK(what, grown <= HEAP_SLACK, "the heap grew by %ld bytes beside zalloc "
				 "while the stream lives", grown);
		}
	}
	if (rc == Z_STREAM_END) {
		uLongf bl = len + 1;
		int urc = zl_ref.uncompress(back, &bl, comp, z.total_out);

		if (wbits < 0 || wbits > 15) { /* raw or gzip: inflate it instead */
			z_stream r;

			memset(&r, 0, sizeof(r));
			zl_ref.inflateInit2_(&r, wbits, VER, SZ);
			r.next_in = comp, r.avail_in = (uInt)z.total_out;
			r.next_out = back, r.avail_out = (uInt)len + 1;
			urc = zl_ref.inflate(&r, Z_FINISH) == Z_STREAM_END ? Z_OK : Z_DATA_ERROR;
			bl = r.total_out;
			zl_ref.inflateEnd(&r);
		}
		ZL_CHECK(what, urc == Z_OK && bl == len && !memcmp(back, data, len),
			 "the stream does not decode back: %d, %lu bytes", urc, bl);
		ret = 0;
	} else {
		ZL_CHECK(what, a->fail_at && (rc == Z_MEM_ERROR || rc == Z_STREAM_ERROR),
			 "deflate = %d", rc);
	}
	zl_plain.deflateEnd(&z);
out:
	ZL_CHECK(what, a->nlive == 0, "%u allocations of the stream never freed (%u made, %u "
		 "freed)", a->nlive, a->allocs, a->frees);
	if (check_heap) {
		long grown = heap_in_use() - heap0;

		ZL_CHECK(what, grown <= HEAP_SLACK && grown >= -HEAP_SLACK,
			 "the heap is %ld bytes off after the stream ended", grown);
	}
	free(comp);
	free(back);
	return ret;
}

static int arena_inflate(struct arena *a, int wbits, size_t len, int check_heap, const char *what)
{
	size_t cap = len + len / 2 + 4096;
	unsigned char *comp = zl_xmalloc(cap), *out = zl_xmalloc(len + 64);
	long clen = zl_ref_deflate(6, wbits >= 32 ? wbits - 16 : wbits, data, len, comp, cap);
	long heap0 = heap_in_use();
	size_t fed = 0;
	z_stream z;
	int rc = Z_OK, ret = -1;

	memset(&z, 0, sizeof(z));
	z.zalloc = arena_alloc, z.zfree = arena_free, z.opaque = a;
	rc = zl_plain.inflateInit2_(&z, wbits, VER, SZ);
	if (rc != Z_OK) {
		ZL_CHECK(what, rc == Z_MEM_ERROR && a->fail_at, "inflateInit2 = %d", rc);
		goto out;
	}
	z.next_out = out, z.avail_out = (uInt)len + 64;
	while (fed < (size_t)clen && rc == Z_OK) {
		size_t n = (size_t)clen - fed < 8192 ? (size_t)clen - fed : 8192;

		z.next_in = comp + fed, z.avail_in = (uInt)n;
		fed += n;
		rc = zl_plain.inflate(&z, Z_NO_FLUSH);
		if (check_heap && fed == 4 * 8192) {
			long grown = heap_in_use() - heap0;

			ZL_CHECK(what, grown <= HEAP_SLACK, "the heap grew by %ld bytes beside zalloc "
				 "while the stream lives", grown);
		}
	}
	if (rc == Z_STREAM_END) {
		ZL_CHECK(what, z.total_out == len && !memcmp(out, data, len), "inflate made %lu of %zu "
			 "bytes, or different ones", z.total_out, len);
		ret = 0;
	} else {
		ZL_CHECK(what, a->fail_at && (rc == Z_MEM_ERROR || rc == Z_STREAM_ERROR),
			 "inflate = %d", rc);
	}
	zl_plain.inflateEnd(&z);
out:
	ZL_CHECK(what, a->nlive == 0, "%u allocations of the stream never freed (%u made, %u "
		 "freed)", a->nlive, a->allocs, a->frees);
	if (check_heap) {
		long grown = heap_in_use() - heap0;

		ZL_CHECK(what, grown <= HEAP_SLACK && grown >= -HEAP_SLACK,
			 "the heap is %ld bytes off after the stream ended", grown);
	}
	free(comp);
	free(out);
	return ret;
}

int main(int argc, char **argv)
{
	const char *corpus = argc > 1 ? argv[1] : NULL;
	int layer = zl_mode(argc > 2 ? argv[2] : NULL);
	/* nginx's window and hash sizes: gzip_window/gzip_hash, made smaller
	 * for short responses (both down by one per halving) */
	static const int sizes[][2] = { { 15, 8 }, { 15, 9 }, { 14, 7 }, { 13, 6 }, { 12, 5 },
					{ 11, 4 }, { 10, 3 }, { 9, 2 }, { 9, 1 } };
	const char *name;
	struct arena a;
	unsigned i, k, stock_allocs;
	char what[96];

	if (!corpus) {
		fprintf(stderr, "usage: t_zlib_alloc CORPUS_DIR layer|stock\n");
		return 2;
	}
	data = zl_corpus_file(corpus, 3, &data_len, &name); /* geo.protodata */
	/* one stream with the default allocator first: the layer's own
	 * start-up (its queue) is not a stream's memory */
	for (i = 0; i < 4; i++) { /* every path: levels that run on WarpDrive or not */
		static const int lv[] = { 1, 6, 9, -1 }, ib[] = { 15, 31, -15, 47 };

		arena_init(&a, nginx_bound(15, 8), 0);
		arena_deflate(&a, lv[i], 15, 8, data_len, 0, "warm-up");
		free(a.block);
		arena_init(&a, nginx_bound(15, 8), 0);
		arena_inflate(&a, ib[i], data_len, 0, "warm-up");
		free(a.block);
	}

	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		static const int lv[] = { 1, 6, 9, -1 };

		for (k = 0; k < 4; k++) {
			int wb = sizes[i][0], ml = sizes[i][1];
			/* the size nginx would make these for: just over half a window */
			size_t half = ((size_t)1 << (wb - 1)) > 362 ? ((size_t)1 << (wb - 1)) - 262 : 100;
			size_t len = i == 0 ? data_len : half + 100 * k;

			snprintf(what, sizeof(what), "deflate windowBits %d memLevel %d level %d, %zu bytes",
				 wb, ml, lv[k], len);
			arena_init(&a, nginx_bound(wb, ml), 0);
			arena_deflate(&a, lv[k], k == 3 ? wb + 16 : wb, ml, len, i == 0 && k < 2, what);
			ZL_CHECK(what, a.over == 0, "%u allocations (%zu bytes) beyond nginx's %zu-byte "
				 "block: %zu bytes asked in all", a.over, a.over_bytes, a.cap, a.asked);
			ZL_CHECK(what, a.allocs == a.frees, "%u allocations, %u frees", a.allocs, a.frees);
			free(a.block);
		}
	}
	for (i = 0; i < 3; i++) {
		static const int ib[] = { 15, 31, -15 };

		snprintf(what, sizeof(what), "inflate windowBits %d", ib[i]);
		arena_init(&a, nginx_bound(15, 8), 0);
		arena_inflate(&a, ib[i], data_len, i == 0, what);
		ZL_CHECK(what, a.over == 0, "%u allocations (%zu bytes) beyond %zu bytes",
			 a.over, a.over_bytes, a.cap);
		ZL_CHECK(what, a.allocs == a.frees, "%u allocations, %u frees", a.allocs, a.frees);
		free(a.block);
	}

	/* a zalloc that fails at the k-th call, for every k up to past the end */
	arena_init(&a, nginx_bound(15, 8), 0);
	arena_deflate(&a, 6, 15, 8, data_len, 0, "count");
	stock_allocs = a.allocs;
	free(a.block);
	for (k = 1; k <= stock_allocs + 3; k++) {
		snprintf(what, sizeof(what), "deflate, zalloc failing from call %u", k);
		arena_init(&a, nginx_bound(15, 8), k);
		arena_deflate(&a, 6, 15, 8, data_len, 0, what);
		free(a.block);
	}
	arena_init(&a, 1 << 20, 0);
	arena_inflate(&a, 15, data_len, 0, "count");
	stock_allocs = a.allocs;
	free(a.block);
	for (k = 1; k <= stock_allocs + 3; k++) {
		snprintf(what, sizeof(what), "inflate, zalloc failing from call %u", k);
		arena_init(&a, 1 << 20, k);
		arena_inflate(&a, 15, data_len, 0, what);
		free(a.block);
	}
	free(data);
	return zl_finish("t_zlib_alloc", layer, 1, 1);
}
