/* SPDX-License-Identifier: MIT */
/*
 * Many threads through the layer at once, each with more live streams than
 * one queue has sessions (64): every thread opens 80 deflate and 80
 * inflate streams, feeds them round robin in small pieces, and checks each
 * result with a private stock zlib.  Then streams that move between
 * threads: each is used by one thread, then by the next, never by two at
 * once (a baton passed under a mutex), as a thread pool does.
 *
 * usage: t_zlib_threads CORPUS_DIR layer|stock
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "zl.h"

#define THREADS 6
#define STREAMS 80
#define PIECE 1000
#define VER ZLIB_VERSION
#define SZ ((int)sizeof(z_stream))

static unsigned char *corpus_data;
static size_t corpus_len;
static pthread_mutex_t report_lock = PTHREAD_MUTEX_INITIALIZER;

struct lane {
	z_stream z;
	size_t off, len, fed;
	unsigned char *out;
	size_t cap, made;
	int done, bits;
	const unsigned char *comp; /* inflate: stock's stream */
	size_t clen;
};

/* zl_fail's counters are not thread-safe: one thread reports at a time */
#define T_CHECK(what, cond, ...)                                                          \
	do {                                                                              \
		pthread_mutex_lock(&report_lock);                                        \
		ZL_CHECK(what, cond, __VA_ARGS__);                                        \
		pthread_mutex_unlock(&report_lock);                                      \
	} while (0)

/* one piece of work on a deflate lane; returns 1 when the lane is done */
static int deflate_step(struct lane *l, const char *what)
{
	size_t n = l->len - l->fed < PIECE ? l->len - l->fed : PIECE;
	int flush, rc;

	l->z.next_in = corpus_data + l->off + l->fed;
	l->z.avail_in = (uInt)n;
	l->fed += n;
	flush = l->fed == l->len ? Z_FINISH : Z_NO_FLUSH;
	do {
		l->z.next_out = l->out + l->made;
		l->z.avail_out = (uInt)(l->cap - l->made);
		rc = zl_plain.deflate(&l->z, flush);
		l->made = (size_t)(l->z.next_out - l->out);
	} while (rc == Z_OK && l->z.avail_out == 0 && l->made < l->cap);
	if (rc != (flush == Z_FINISH ? Z_STREAM_END : Z_OK)) {
		T_CHECK(what, 0, "deflate(%d) = %d", flush, rc);
		return 1;
	}
	return flush == Z_FINISH;
}

static int inflate_step(struct lane *l, const char *what)
{
	size_t n = l->clen - l->fed < PIECE ? l->clen - l->fed : PIECE;
	int rc;

	l->z.next_in = (Bytef *)l->comp + l->fed;
	l->z.avail_in = (uInt)n;
	l->fed += n;
	do {
		l->z.next_out = l->out + l->made;
		l->z.avail_out = (uInt)(l->cap - l->made);
		rc = zl_plain.inflate(&l->z, Z_NO_FLUSH);
		l->made = (size_t)(l->z.next_out - l->out);
	} while (rc == Z_OK && l->z.avail_out == 0 && l->made < l->cap);
	if (rc == Z_STREAM_END)
		return 1;
	if (rc != Z_OK && !(rc == Z_BUF_ERROR && l->fed < l->clen)) {
		T_CHECK(what, 0, "inflate = %d (%s) after %lu bytes in", rc,
			l->z.msg ? l->z.msg : "", l->z.total_in);
		return 1;
	}
	if (l->fed == l->clen) {
		T_CHECK(what, 0, "inflate: input used up without Z_STREAM_END");
		return 1;
	}
	return 0;
}

static void lane_verify_deflate(struct lane *l, const char *what)
{
	unsigned char *back = zl_xmalloc(l->len + 1);
	z_stream r;
	int rc;

	memset(&r, 0, sizeof(r));
	zl_ref.inflateInit2_(&r, l->bits, VER, SZ);
	r.next_in = l->out, r.avail_in = (uInt)l->made;
	r.next_out = back, r.avail_out = (uInt)l->len + 1;
	rc = zl_ref.inflate(&r, Z_FINISH);
	T_CHECK(what, rc == Z_STREAM_END && r.total_out == l->len &&
		!memcmp(back, corpus_data + l->off, l->len),
		"stock inflate of a lane's %zu bytes: rc %d, %lu of %zu bytes", l->made, rc,
		r.total_out, l->len);
	zl_ref.inflateEnd(&r);
	free(back);
}

/* A thread's lanes.  The private stock zlib runs in the main thread only
 * (its copy of libc was not set up for other threads): it makes the
 * inflate lanes' input before and checks the deflate lanes' output after. */
struct worker_lanes {
	unsigned id;
	struct lane d[STREAMS], in[STREAMS];
};

static void lanes_setup(struct worker_lanes *w, uint64_t *rs)
{
	static const int bits[] = { 15, 31, -15 };
	unsigned k;

	for (k = 0; k < STREAMS; k++) {
		struct lane *l = &w->d[k];
		unsigned char *c;
		long n;

		l->bits = bits[(w->id + k) % 3];
		l->len = 2000 + zl_rand(rs) % 30000;
		l->off = zl_rand(rs) % (corpus_len - l->len);
		l->cap = l->len + l->len / 2 + 1024;
		l->out = zl_xmalloc(l->cap);
		/* the inflate lanes read stock's streams of other slices */
		l = &w->in[k];
		l->bits = bits[(w->id + k + 1) % 3];
		l->len = 2000 + zl_rand(rs) % 30000;
		l->off = zl_rand(rs) % (corpus_len - l->len);
		l->cap = l->len + 64;
		l->out = zl_xmalloc(l->cap);
		c = zl_xmalloc(2 * l->len + 1024);
		n = zl_ref_deflate(6, l->bits, corpus_data + l->off, l->len, c, 2 * l->len + 1024);
		l->comp = c;
		l->clen = n < 0 ? 0 : (size_t)n;
	}
}

static void *worker(void *arg)
{
	struct worker_lanes *w = arg;
	unsigned k, live;
	char what[64];

	snprintf(what, sizeof(what), "thread %u", w->id);
	for (k = 0; k < STREAMS; k++) {
		T_CHECK(what, zl_plain.deflateInit2_(&w->d[k].z, (int)(k % 10), Z_DEFLATED,
						     w->d[k].bits, 8, 0, VER, SZ) == Z_OK,
			"deflateInit2");
		T_CHECK(what, zl_plain.inflateInit2_(&w->in[k].z, w->in[k].bits, VER, SZ) == Z_OK,
			"inflateInit2");
	}
	/* all 2 x STREAMS streams live at once, fed round robin */
	do {
		live = 0;
		for (k = 0; k < STREAMS; k++) {
			if (!w->d[k].done && (w->d[k].done = deflate_step(&w->d[k], what)) == 0)
				live++;
			if (!w->in[k].done && (w->in[k].done = inflate_step(&w->in[k], what)) == 0)
				live++;
		}
	} while (live);
	for (k = 0; k < STREAMS; k++) {
		T_CHECK(what, zl_plain.deflateEnd(&w->d[k].z) == Z_OK, "deflateEnd");
		T_CHECK(what, zl_plain.inflateEnd(&w->in[k].z) == Z_OK, "inflateEnd");
	}
	return NULL;
}

static void lanes_verify(struct worker_lanes *w)
{
	unsigned k;
	char what[64];

	snprintf(what, sizeof(what), "thread %u", w->id);
	for (k = 0; k < STREAMS; k++) {
		lane_verify_deflate(&w->d[k], what);
		ZL_CHECK(what, w->in[k].made == w->in[k].len &&
			 !memcmp(w->in[k].out, corpus_data + w->in[k].off, w->in[k].len),
			 "inflate lane %u: %zu of %zu bytes, or different", k, w->in[k].made,
			 w->in[k].len);
		free(w->d[k].out);
		free(w->in[k].out);
		free((void *)w->in[k].comp);
	}
}

/* ---- streams handed from thread to thread ---- */

#define RELAY_THREADS 4
#define RELAY_STREAMS 12

static struct lane relay[RELAY_STREAMS];
static unsigned relay_turn[RELAY_STREAMS]; /* which thread may touch the stream next */
static pthread_mutex_t relay_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t relay_cond = PTHREAD_COND_INITIALIZER;

static void *relay_worker(void *arg)
{
	unsigned id = (unsigned)(uintptr_t)arg, k, left;
	char what[64];

	snprintf(what, sizeof(what), "relay thread %u", id);
	do {
		left = 0;
		for (k = 0; k < RELAY_STREAMS; k++) {
			struct lane *l = &relay[k];
			int done;

			pthread_mutex_lock(&relay_lock);
			while (relay_turn[k] % RELAY_THREADS != id && !l->done)
				pthread_cond_wait(&relay_cond, &relay_lock);
			pthread_mutex_unlock(&relay_lock);
			if (l->done)
				continue;
			/* ours alone until the turn moves on */
			done = k % 2 ? inflate_step(l, what) : deflate_step(l, what);
			pthread_mutex_lock(&relay_lock);
			l->done = done;
			relay_turn[k]++;
			pthread_cond_broadcast(&relay_cond);
			pthread_mutex_unlock(&relay_lock);
			left += !done;
		}
	} while (left);
	return NULL;
}

static void test_relay(void)
{
	pthread_t t[RELAY_THREADS];
	unsigned k;
	uint64_t rs = 99;

	for (k = 0; k < RELAY_STREAMS; k++) {
		struct lane *l = &relay[k];

		l->bits = k % 4 < 2 ? 15 : 31;
		l->len = 30000 + zl_rand(&rs) % 60000;
		l->off = zl_rand(&rs) % (corpus_len - l->len);
		l->cap = 2 * l->len + 1024;
		l->out = zl_xmalloc(l->cap);
		if (k % 2) {
			unsigned char *c = zl_xmalloc(l->cap);
			long n = zl_ref_deflate(6, l->bits, corpus_data + l->off, l->len, c, l->cap);

			l->comp = c;
			l->clen = n < 0 ? 0 : (size_t)n;
			zl_plain.inflateInit2_(&l->z, l->bits, VER, SZ);
		} else {
			zl_plain.deflateInit2_(&l->z, 6, Z_DEFLATED, l->bits, 8, 0, VER, SZ);
		}
		relay_turn[k] = k; /* each stream starts on a different thread */
	}
	for (k = 0; k < RELAY_THREADS; k++)
		pthread_create(&t[k], NULL, relay_worker, (void *)(uintptr_t)k);
	for (k = 0; k < RELAY_THREADS; k++)
		pthread_join(t[k], NULL);
	for (k = 0; k < RELAY_STREAMS; k++) {
		struct lane *l = &relay[k];

		if (k % 2) {
			ZL_CHECK("relay", l->made == l->len &&
				 !memcmp(l->out, corpus_data + l->off, l->len),
				 "inflate stream %u: %zu of %zu bytes, or different", k, l->made, l->len);
			zl_plain.inflateEnd(&l->z);
			free((void *)l->comp);
		} else {
			lane_verify_deflate(l, "relay");
			zl_plain.deflateEnd(&l->z);
		}
		ZL_CHECK("relay", relay_turn[k] > RELAY_THREADS, "stream %u used only %u times", k,
			 relay_turn[k]);
		free(l->out);
	}
}

int main(int argc, char **argv)
{
	const char *corpus = argc > 1 ? argv[1] : NULL;
	int layer = zl_mode(argc > 2 ? argv[2] : NULL);
	struct worker_lanes *lanes[THREADS];
	uint64_t rs = zl_seed();
	pthread_t t[THREADS];
	const char *name;
	unsigned k;

	if (!corpus) {
		fprintf(stderr, "usage: t_zlib_threads CORPUS_DIR layer|stock\n");
		return 2;
	}
	corpus_data = zl_corpus_file(corpus, 9, &corpus_len, &name); /* plrabn12.txt */
	for (k = 0; k < THREADS; k++) {
		lanes[k] = calloc(1, sizeof(*lanes[k]));
		lanes[k]->id = k;
		lanes_setup(lanes[k], &rs);
	}
	for (k = 0; k < THREADS; k++)
		pthread_create(&t[k], NULL, worker, lanes[k]);
	for (k = 0; k < THREADS; k++)
		pthread_join(t[k], NULL);
	/* the checks' counters are the main thread's again only now */
	for (k = 0; k < THREADS; k++) {
		lanes_verify(lanes[k]);
		free(lanes[k]);
	}
	test_relay();
	free(corpus_data);
	return zl_finish("t_zlib_threads", layer, 1, 1);
}
