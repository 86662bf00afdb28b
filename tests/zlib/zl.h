/* SPDX-License-Identifier: MIT */
/*
 * Shared frame of the zlib layer's tests (tests/zlib/).
 *
 * Two implementations of the zlib API side by side in one process:
 *  - "plain": the program's own calls (deflate, inflate...), which the
 *    layer interposes when it is preloaded (LD_PRELOAD=libwd-zlib.so);
 *  - "ref": stock zlib loaded a second time with dlmopen() into a link-map
 *    namespace of its own.  A preload reaches only the base namespace, and
 *    stock libz calls its own exported functions through its PLT
 *    (deflateInit2_ -> deflateReset, deflateParams -> deflate), so the copy
 *    in the base namespace would be partly the layer; the private copy is
 *    stock all the way down.
 *
 * The drivers below run one stream through either implementation with a
 * given call schedule and check zlib's documented contract on every call
 * (pointers and totals, the progress rule behind each return code, the
 * running check value), so the same code checks the layer and, in the
 * stock run, checks itself against stock zlib.
 *
 * Failures are counted and reported (the first ZL_MAX_REPORTS in full),
 * and a test goes on with its next case, so one run lists every kind of
 * mismatch.
 */
#ifndef ZL_H
#define ZL_H

#include <stddef.h>
#include <stdint.h>
#include <zlib.h>

#define ZL_MAX_REPORTS 40

struct zl_api {
	const char *name;
	int (*deflateInit_)(z_streamp, int, const char *, int);
	int (*deflateInit2_)(z_streamp, int, int, int, int, int, const char *, int);
	int (*deflate)(z_streamp, int);
	int (*deflateEnd)(z_streamp);
	int (*deflateReset)(z_streamp);
	int (*deflateParams)(z_streamp, int, int);
	int (*deflateSetDictionary)(z_streamp, const Bytef *, uInt);
	uLong (*deflateBound)(z_streamp, uLong);
	int (*deflateCopy)(z_streamp, z_streamp);
	int (*inflateInit_)(z_streamp, const char *, int);
	int (*inflateInit2_)(z_streamp, int, const char *, int);
	int (*inflate)(z_streamp, int);
	int (*inflateEnd)(z_streamp);
	int (*inflateReset)(z_streamp);
	int (*inflateReset2)(z_streamp, int);
	int (*inflateSetDictionary)(z_streamp, const Bytef *, uInt);
	int (*inflateCopy)(z_streamp, z_streamp);
	int (*compress)(Bytef *, uLongf *, const Bytef *, uLong);
	int (*compress2)(Bytef *, uLongf *, const Bytef *, uLong, int);
	uLong (*compressBound)(uLong);
	int (*uncompress)(Bytef *, uLongf *, const Bytef *, uLong);
	int (*uncompress2)(Bytef *, uLongf *, const Bytef *, uLong *);
	uLong (*adler32)(uLong, const Bytef *, uInt);
	uLong (*crc32)(uLong, const Bytef *, uInt);
	int (*deflateSetHeader)(z_streamp, gz_headerp);
	int (*inflateGetHeader)(z_streamp, gz_headerp);
};

extern const struct zl_api zl_plain;
extern struct zl_api zl_ref;
extern void *zl_ref_handle; /* for symbols beyond zl_api (dlsym) */

/* Load the private stock zlib into zl_ref; a failure ends the program. */
void zl_ref_load(void);

/* Framings as windowBits: raw -15..-9 (-8 is refused by deflate), zlib
 * 9..15, gzip 25..31; inflate also takes 0 (window from the zlib header)
 * and 32+ (zlib or gzip, detected). */
enum zl_kind { ZL_RAW, ZL_ZLIB, ZL_GZIP };
enum zl_kind zl_kind_of(int bits, const unsigned char *comp, size_t clen);

/* Flush schedules of a driven stream. */
enum zl_flush { ZL_F_NO, ZL_F_SYNC, ZL_F_FULL, ZL_F_FINISH, ZL_F_MIXED, ZL_F_COUNT };
extern const char *const zl_flush_names[ZL_F_COUNT];

struct zl_run {
	int level, bits, memlevel, strategy;
	enum zl_flush flush;
	size_t in_chunk, out_chunk;
	uint64_t seed; /* mixed flushes */
};

/* What a driven inflate ended with. */
enum zl_end { ZL_END_STREAM, ZL_END_TRUNC, ZL_END_DATA, ZL_END_DICT, ZL_END_OVERFLOW,
	      ZL_END_OTHER };
extern const char *const zl_end_names[];

struct zl_ires {
	enum zl_end end;
	int rc;			/* the last return code */
	size_t total_in, total_out;
	uLong adler;
	int dict_asked;		/* Z_NEED_DICT seen (then the dictionary was set) */
	uLong dict_id;		/* strm->adler when it was */
};

/* Deflate in[0..len) through api with run's schedule into out (cap bytes),
 * checking every call; returns the compressed length, -1 after a reported
 * failure.  dict: set before the first call when non-NULL. */
long zl_deflate_drive(const struct zl_api *api, const struct zl_run *run, const unsigned char *in,
		      size_t len, unsigned char *out, size_t cap, const void *dict, size_t dlen,
		      const char *what);

/* Inflate comp[0..clen) with windowBits bits through api with run's chunks
 * and flush schedule into out (cap bytes).  expect (elen bytes), when
 * non-NULL, is what the output must be a prefix of.  dict is set when
 * inflate asks for one (zlib framing) or, for raw, before the first call.
 * Returns 0, -1 after a reported contract failure. */
int zl_inflate_drive(const struct zl_api *api, int bits, const unsigned char *comp, size_t clen,
		     const struct zl_run *run, const unsigned char *expect, size_t elen,
		     unsigned char *out, size_t cap, const void *dict, size_t dlen,
		     struct zl_ires *res, const char *what);

/* Check helpers that count and report. */
extern unsigned long zl_failures, zl_checks;
extern int zl_trace;
/* a strm->adler behind the data between calls: a failure (1) or a note (0) */
extern int zl_running_adler_strict;
void zl_fail(const char *what, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#define ZL_CHECK(what, cond, ...)                                                         \
	({                                                                                \
		int ok_ = !!(cond);                                                      \
		zl_checks++;                                                              \
		if (!ok_)                                                                 \
			zl_fail(what, __VA_ARGS__);                                       \
		ok_;                                                                      \
	})

/* The layer's statistics (wd_zlib_stats_format), parsed.  Returns 0, or -1
 * when the layer is not loaded. */
struct zl_stats {
	long long deflate_wd, deflate_zlib, inflate_wd, inflate_zlib;
	long long in_wd, out_wd, in_zlib, out_zlib;
	char line[1024];
};
int zl_stats_get(struct zl_stats *st);
int zl_stats_parse(const char *line, struct zl_stats *st);

/* "layer" or "stock" from argv: whether the layer must be there.  In layer
 * mode the plain deflate must not be stock's; in stock mode there must be
 * no layer at all.  Fails the program otherwise. */
int zl_mode(const char *arg);

/* End of a test: in layer mode require deflate.wd/inflate.wd > 0 as asked,
 * print the totals; returns the exit status. */
int zl_finish(const char *prog, int layer, int need_deflate_wd, int need_inflate_wd);

/* Data for the tests. */
unsigned char *zl_corpus_file(const char *dir, unsigned idx, size_t *len, const char **name);
unsigned zl_corpus_count(void);
uint64_t zl_rand(uint64_t *s);
uint64_t zl_seed(void);
void zl_fill_random(unsigned char *p, size_t len, uint64_t *s);
void zl_fill_text(unsigned char *p, size_t len, uint64_t *s);
void *zl_xmalloc(size_t n);
uLong zl_check_value(enum zl_kind kind, const unsigned char *p, size_t len);

#endif

/* Pump a stream that is already set up: deflate in[0..len) in chunks of
 * chunk bytes (0: whole) with Z_NO_FLUSH, then Z_FINISH when finish is set;
 * returns the bytes written to out, -1 after a reported failure. */
long zl_pump_deflate(const struct zl_api *api, z_stream *z, const unsigned char *in, size_t len,
		     unsigned char *out, size_t cap, size_t chunk, int finish, const char *what);
/* Inflate comp[0..clen) in chunks until Z_STREAM_END, an error or no
 * progress; *rc is the last return code; returns the bytes written. */
long zl_pump_inflate(const struct zl_api *api, z_stream *z, const unsigned char *comp,
		     size_t clen, unsigned char *out, size_t cap, size_t chunk, int *rc);
/* One-shot helpers on the private stock zlib; -1 on failure (reported). */
long zl_ref_deflate(int level, int bits, const unsigned char *in, size_t len, unsigned char *out,
		    size_t cap);
/* Fill an api from a dlopen handle (the lead's way of reaching libz). */
int zl_api_from_handle(struct zl_api *api, void *h, const char *name);
