/* SPDX-License-Identifier: MIT */
/*
 * libwd-zlib: zlib's ABI over WarpDrive queues (LD_PRELOAD).  Internal
 * declarations shared by the layer's files; only the public wd_ API is used.
 *
 * A z_stream is either the layer's or zlib's, and says which by itself:
 * the layer's state begins with WZ_MAGIC, zlib's with a pointer back to the
 * z_stream, which can never equal that (non-canonical) value.  So every
 * entry point can hand streams it does not own to the real function,
 * including the calls real zlib makes to itself through its PLT (its
 * deflateInit2_ calls deflateReset, its gz* functions call deflate and
 * inflate), which land here first.
 */
#ifndef WZ_H
#define WZ_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <zlib.h>
#include <wd/comp.h>

#define WZ_EXPORT __attribute__((visibility("default")))
#define WZ_MAGIC 0x8badf00d5744ffe1ull  /* bit 63 set: never a user-space pointer */

/* ---- the real zlib (real.c) --------------------------------------------- */

struct wz_real {
	int (*deflateInit2_)(z_streamp, int, int, int, int, int, const char *, int);
	int (*deflate)(z_streamp, int);
	int (*deflateEnd)(z_streamp);
	int (*deflateReset)(z_streamp);
	int (*deflateResetKeep)(z_streamp);
	int (*deflateParams)(z_streamp, int, int);
	int (*deflateSetDictionary)(z_streamp, const Bytef *, uInt);
	int (*deflateGetDictionary)(z_streamp, Bytef *, uInt *);
	int (*deflateCopy)(z_streamp, z_streamp);
	int (*deflateSetHeader)(z_streamp, gz_headerp);
	int (*deflatePrime)(z_streamp, int, int);
	int (*deflatePending)(z_streamp, unsigned *, int *);
	int (*deflateTune)(z_streamp, int, int, int, int);
	uLong (*deflateBound)(z_streamp, uLong);
	int (*inflateInit2_)(z_streamp, int, const char *, int);
	int (*inflate)(z_streamp, int);
	int (*inflateEnd)(z_streamp);
	int (*inflateReset)(z_streamp);
	int (*inflateReset2)(z_streamp, int);
	int (*inflateResetKeep)(z_streamp);
	int (*inflateSetDictionary)(z_streamp, const Bytef *, uInt);
	int (*inflateGetDictionary)(z_streamp, Bytef *, uInt *);
	int (*inflateSync)(z_streamp);
	int (*inflateSyncPoint)(z_streamp);
	int (*inflateCopy)(z_streamp, z_streamp);
	int (*inflatePrime)(z_streamp, int, int);
	long (*inflateMark)(z_streamp);
	int (*inflateGetHeader)(z_streamp, gz_headerp);
	int (*inflateUndermine)(z_streamp, int);
	int (*inflateValidate)(z_streamp, int);
	unsigned long (*inflateCodesUsed)(z_streamp);
	int (*inflateBackInit_)(z_streamp, int, unsigned char *, const char *, int);
	int (*inflateBack)(z_streamp, in_func, void *, out_func, void *);
	int (*inflateBackEnd)(z_streamp);
	int (*compress2)(Bytef *, uLongf *, const Bytef *, uLong, int);
	int (*uncompress2)(Bytef *, uLongf *, const Bytef *, uLong *);
	uLong (*compressBound)(uLong);
};

/* The real functions; the process aborts with a message if libz.so.1 is
 * missing, since nothing a zlib user calls could work then. */
const struct wz_real *wz_real(void);

/* ---- settings (config.c) ------------------------------------------------ */

struct wz_config {
	int enabled;            /* WD_ZLIB != 0 */
	size_t min_compress;    /* WD_ZLIB_MIN: smaller one-shot work stays on zlib */
	size_t min_uncompress;
	const char *device;     /* WD_DEVICE, NULL: the in-process software engine */
	int level_map[10];      /* zlib level -> engine level (WD_ZLIB_LEVELS) */
};

const struct wz_config *wz_config(void);

/* ---- statistics (stats.c) ----------------------------------------------- */

enum wz_why {
	WZ_WHY_DISABLED, WZ_WHY_SMALL, WZ_WHY_LEVEL, WZ_WHY_STRATEGY, WZ_WHY_WINDOW,
	WZ_WHY_DICT, WZ_WHY_HEADER, WZ_WHY_PRIME, WZ_WHY_FLUSH, WZ_WHY_NODEV, WZ_WHY_BOUND,
	WZ_WHY_METHOD, WZ_WHY_API, WZ_WHY_ERROR, WZ_WHY_SIZE, WZ_WHY__COUNT
};

enum wz_kind { WZ_DEFLATE, WZ_INFLATE };

void wz_count_stream(enum wz_kind kind, int on_wd);
void wz_count_zlib(enum wz_kind kind, enum wz_why why);
void wz_count_bytes(int on_wd, uint64_t in, uint64_t out);
void wz_count_event(const char *what);   /* "fork_lost", "dict_unused"... */
void wz_stats_forked(void);             /* a fork child counts from zero */
/* Exported: the stats line, snprintf-style (programs find it with dlsym). */
size_t wd_zlib_stats_format(char *buf, size_t len);

/* Set while a real zlib function runs on the layer's behalf (compress2
 * after the engine declined): the inits it makes stay zlib's, uncounted. */
extern __thread int wz_bypass;

/* ---- queues (pool.c) ---------------------------------------------------- */

/*
 * A queue of the process's pool.  Every use holds its lock: the library's
 * synchronous calls need a queue with nothing else in flight, and a zlib
 * stream may move between threads (never used by two at once).
 */
struct wz_queue {
	pthread_mutex_t lock;
	struct wd_queue *q;
	unsigned sessions;      /* stream sessions handed out */
	uint64_t gen;           /* fork generation it belongs to */
	struct wz_queue *next;
};

/* A queue for one-shot work, locked; NULL when no device can be had. */
struct wz_queue *wz_queue_get(void);
/* A queue with a free stream session, locked, session taken. */
struct wz_queue *wz_queue_get_session(void);
void wz_queue_put(struct wz_queue *wq);
/* Give a session back (lock not held). */
void wz_queue_drop_session(struct wz_queue *wq);
/* Lock the queue a stream's session lives on: -ECHILD when it is the
 * parent's (the stream began before a fork). */
int wz_queue_lock(struct wz_queue *wq);
/* One request on a pool queue: the completion's status, or -errno. */
int wz_run_one(struct wd_req *r, struct wd_cpl *c);
/* A decompression session with exact input accounting (the layer's carry
 * relies on it) and the given window, on a pool queue. */
int wz_session_open(struct wz_queue **wq, struct wd_comp_stream **ws, int framing,
		    unsigned window);
/* Free it; in a fork child the parent's is left alone (counted). */
void wz_session_close(struct wz_queue *wq, struct wd_comp_stream *ws);
/* The current fork generation: streams of another one lost their queue. */
uint64_t wz_fork_gen(void);

/* ---- memory through the stream's allocator ---------------------------- */

void *wz_alloc(z_streamp strm, size_t size);
void wz_free(z_streamp strm, void *p);

/* ---- stream states ------------------------------------------------------ */

struct wz_head {
	uint64_t magic;         /* WZ_MAGIC */
	z_streamp strm;
	uint8_t kind;           /* enum wz_kind */
};

static inline struct wz_head *wz_head_of(z_streamp strm)
{
	struct wz_head *h;

	if (!strm || !strm->state)
		return NULL;
	h = (struct wz_head *)strm->state;
	return h->magic == WZ_MAGIC ? h : NULL;
}

/*
 * Feeding an engine stream with zlib's promise that input is consumed
 * while output space lasts.  The engine hands back the few whole bytes its
 * decoder read ahead (so that a stream's end never lies in bytes it said
 * were consumed); the layer keeps them here and puts them in front of the
 * next input.  At the stream's end, surplus bytes taken from the caller's
 * current buffer are given back to it.
 */
struct wz_carry {
	uint8_t buf[64];
	uint32_t len;
};

/* One engine step on *in (advanced past what is consumed); 1 at the end of
 * the stream, 0, or -errno.  The queue lock is taken inside. */
int wz_feed(struct wz_carry *cy, struct wz_queue *wq, struct wd_comp_stream *ws,
	    z_const Bytef **in, uInt *avail, uint8_t *out, size_t out_len, size_t *made);

/* zlib's wrapper kind from windowBits: raw (-8..-15), zlib (8..15),
 * gzip (16+), auto (32+, inflate only).  Returns -1 for invalid. */
enum { WZ_WRAP_RAW, WZ_WRAP_ZLIB, WZ_WRAP_GZIP, WZ_WRAP_AUTO };
int wz_wrap(int window_bits, int *bits_out);

#endif
