/* SPDX-License-Identifier: MIT */
/* The shared frame of tests/zlib (zl.h): the two APIs, the checked stream
 * drivers, the layer's statistics, test data. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "zl.h"

unsigned long zl_failures, zl_checks;
/* ZL_TRACE=1: every driven call, for reproducers */
int zl_trace;

/* zlib.h: after every deflate/inflate call strm->adler is the check value
 * of all input read / output written so far.  Whether a stream that gets it
 * right only at its end fails the test (t_zlib_matrix) or is noted (the
 * others: one failing test for it, not all of them). */
int zl_running_adler_strict;
static unsigned long running_adler_notes;

static void running_adler_off(const char *what, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* failures by kind (their format string), for the summary at the end */
static struct {
	const char *fmt;
	unsigned long count;
} kinds[64];

static void zl_vfail(const char *what, const char *fmt, va_list ap)
{
	unsigned k;

	for (k = 0; k < 64 && kinds[k].fmt && kinds[k].fmt != fmt; k++)
		;
	if (k < 64) {
		kinds[k].fmt = fmt;
		kinds[k].count++;
	}
	/* every kind is shown at least once; ZL_REPORTS=N shows N in all */
	if (++zl_failures > (getenv("ZL_REPORTS") ? strtoul(getenv("ZL_REPORTS"), NULL, 0)
						    : ZL_MAX_REPORTS) &&
	    (k == 64 || kinds[k].count > 1))
		return;
	fprintf(stderr, "FAIL [%s] ", what);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void zl_fail(const char *what, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	zl_vfail(what, fmt, ap);
	va_end(ap);
}

static void running_adler_off(const char *what, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (zl_running_adler_strict) {
		zl_checks++;
		zl_vfail(what, fmt, ap);
	} else if (!running_adler_notes++) {
		fprintf(stderr, "note [%s] ", what);
		vfprintf(stderr, fmt, ap);
		fputc('\n', stderr);
	}
	va_end(ap);
}

const struct zl_api zl_plain = {
	.name = "plain",
	.deflateInit_ = deflateInit_,
	.deflateInit2_ = deflateInit2_,
	.deflate = deflate,
	.deflateEnd = deflateEnd,
	.deflateReset = deflateReset,
	.deflateParams = deflateParams,
	.deflateSetDictionary = deflateSetDictionary,
	.deflateBound = deflateBound,
	.deflateCopy = deflateCopy,
	.inflateInit_ = inflateInit_,
	.inflateInit2_ = inflateInit2_,
	.inflate = inflate,
	.inflateEnd = inflateEnd,
	.inflateReset = inflateReset,
	.inflateReset2 = inflateReset2,
	.inflateSetDictionary = inflateSetDictionary,
	.inflateCopy = inflateCopy,
	.compress = compress,
	.compress2 = compress2,
	.compressBound = compressBound,
	.uncompress = uncompress,
	.uncompress2 = uncompress2,
	.adler32 = adler32,
	.crc32 = crc32,
	.deflateSetHeader = deflateSetHeader,
	.inflateGetHeader = inflateGetHeader,
};

struct zl_api zl_ref = { .name = "ref" };
void *zl_ref_handle;

static void *ref_sym(void *h, const char *name)
{
	void *p = dlsym(h, name);

	if (!p) {
		fprintf(stderr, "FAIL: stock zlib has no %s: %s\n", name, dlerror());
		exit(1);
	}
	return p;
}

void zl_ref_load(void)
{
	void *h;

	if (zl_ref.deflate)
		return;
	zl_trace = getenv("ZL_TRACE") != NULL;
	h = dlmopen(LM_ID_NEWLM, "libz.so.1", RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		fprintf(stderr, "FAIL: dlmopen(libz.so.1): %s\n", dlerror());
		exit(1);
	}
	zl_ref_handle = h;
	zl_api_from_handle(&zl_ref, h, "ref");
}

int zl_api_from_handle(struct zl_api *api, void *h, const char *name)
{
	api->name = name;
#define REF(f) api->f = ref_sym(h, #f)
	REF(deflateInit_);
	REF(deflateInit2_);
	REF(deflate);
	REF(deflateEnd);
	REF(deflateReset);
	REF(deflateParams);
	REF(deflateSetDictionary);
	REF(deflateBound);
	REF(deflateCopy);
	REF(inflateInit_);
	REF(inflateInit2_);
	REF(inflate);
	REF(inflateEnd);
	REF(inflateReset);
	REF(inflateReset2);
	REF(inflateSetDictionary);
	REF(inflateCopy);
	REF(compress);
	REF(compress2);
	REF(compressBound);
	REF(uncompress);
	REF(uncompress2);
	REF(adler32);
	REF(crc32);
	REF(deflateSetHeader);
	REF(inflateGetHeader);
#undef REF
	return 0;
}

const char *const zl_flush_names[ZL_F_COUNT] = { "no", "sync", "full", "finish", "mixed" };
const char *const zl_end_names[] = { "stream-end", "truncated", "data-error", "need-dict",
				     "overflow", "other" };

enum zl_kind zl_kind_of(int bits, const unsigned char *comp, size_t clen)
{
	if (bits < 0)
		return ZL_RAW;
	if (bits >= 32)
		return clen >= 2 && comp[0] == 0x1f && comp[1] == 0x8b ? ZL_GZIP : ZL_ZLIB;
	return bits >= 16 ? ZL_GZIP : ZL_ZLIB;
}

/* Checksums are computed by the private stock copy: never by the layer. */
static uLong check_update(enum zl_kind kind, uLong v, const unsigned char *p, size_t len)
{
	while (len) {
		uInt n = len > (1u << 30) ? 1u << 30 : (uInt)len;

		v = kind == ZL_GZIP ? zl_ref.crc32(v, p, n) : zl_ref.adler32(v, p, n);
		p += n;
		len -= n;
	}
	return v;
}

static uLong check_init(enum zl_kind kind)
{
	return kind == ZL_GZIP ? zl_ref.crc32(0, NULL, 0) : zl_ref.adler32(0, NULL, 0);
}

uLong zl_check_value(enum zl_kind kind, const unsigned char *p, size_t len)
{
	zl_ref_load();
	return check_update(kind, check_init(kind), p, len);
}

static size_t min_sz(size_t a, size_t b)
{
	return a < b ? a : b;
}

/* The ref inflater that follows a driven deflate and decodes what each
 * completed flush released. */
struct follower {
	z_stream z;
	unsigned char *buf;
	size_t cap;
	int live;
};

static int follower_start(struct follower *f, int bits, size_t cap)
{
	memset(f, 0, sizeof(*f));
	/* the same family with the largest window: deflate's window may be smaller */
	bits = bits < 0 ? -15 : bits >= 16 ? 31 : 15;
	f->cap = cap + 1;
	f->buf = zl_xmalloc(f->cap);
	if (zl_ref.inflateInit2_(&f->z, bits, ZLIB_VERSION, (int)sizeof(z_stream)) != Z_OK)
		return -1;
	f->live = 1;
	return 0;
}

/* Feed comp[0..n) (new bytes), expect the decoded total to become want
 * and the bytes to equal in[prev total..want). */
static int follower_feed(struct follower *f, const unsigned char *comp, size_t n,
			 const unsigned char *in, size_t want, const char *what)
{
	size_t before = f->z.total_out;
	int rc;

	f->z.next_in = (Bytef *)comp;
	f->z.avail_in = (uInt)n;
	f->z.next_out = f->buf;
	f->z.avail_out = (uInt)f->cap;
	rc = zl_ref.inflate(&f->z, Z_SYNC_FLUSH);
	if (!ZL_CHECK(what, rc == Z_OK || rc == Z_BUF_ERROR || rc == Z_STREAM_END,
		      "stock inflate of the output up to a flush point: rc %d (%s)", rc,
		      f->z.msg ? f->z.msg : ""))
		return -1;
	if (!ZL_CHECK(what, f->z.total_out == want,
		      "after a completed flush stock inflate decodes %lu of the %zu bytes consumed",
		      f->z.total_out, want))
		return -1;
	if (!ZL_CHECK(what, !memcmp(f->buf, in + before, want - before),
		      "bytes decoded at a flush point differ from the input"))
		return -1;
	return 0;
}

static void follower_end(struct follower *f)
{
	if (f->live)
		zl_ref.inflateEnd(&f->z);
	free(f->buf);
	f->buf = NULL;
	f->live = 0;
}

static int pick_flush(const struct zl_run *run, uint64_t *rs)
{
	static const int mixed[] = { Z_NO_FLUSH, Z_NO_FLUSH, Z_NO_FLUSH, Z_SYNC_FLUSH,
				     Z_FULL_FLUSH, Z_PARTIAL_FLUSH, Z_BLOCK };

	switch (run->flush) {
	case ZL_F_SYNC:
		return Z_SYNC_FLUSH;
	case ZL_F_FULL:
		return Z_FULL_FLUSH;
	case ZL_F_MIXED:
		return mixed[zl_rand(rs) % (sizeof(mixed) / sizeof(mixed[0]))];
	default:
		return Z_NO_FLUSH;
	}
}

long zl_deflate_drive(const struct zl_api *api, const struct zl_run *run, const unsigned char *in,
		      size_t len, unsigned char *out, size_t cap, const void *dict, size_t dlen,
		      const char *what)
{
	enum zl_kind kind = zl_kind_of(run->bits, NULL, 0);
	struct follower fol;
	uint64_t rs = run->seed | 1;
	z_stream z;
	/* total_in is not the input position: stock zlib counts a preset
	 * dictionary in it */
	size_t fed = 0, opos = 0, ck_fed = 0, full_in = 0, full_out = 0, calls = 0, consumed = 0;
	size_t in_chunk = run->flush == ZL_F_FINISH ? len : run->in_chunk;
	int flush = Z_NO_FLUSH, rc, have_full = 0, done = 0, repeat = 0, last_full = 0;
	int adler_bad = 0;
	uLong check;
	long result = -1;

	zl_ref_load();
	memset(&z, 0, sizeof(z));
	rc = api->deflateInit2_(&z, run->level, Z_DEFLATED, run->bits, run->memlevel,
				run->strategy, ZLIB_VERSION, (int)sizeof(z_stream));
	if (!ZL_CHECK(what, rc == Z_OK, "%s deflateInit2 = %d", api->name, rc))
		return -1;
	if (dict) {
		rc = api->deflateSetDictionary(&z, dict, (uInt)dlen);
		if (!ZL_CHECK(what, rc == Z_OK, "%s deflateSetDictionary = %d", api->name, rc))
			goto out;
	}
	if (follower_start(&fol, run->bits, len) < 0 || (dict && run->bits < 0 &&
	    zl_ref.inflateSetDictionary(&fol.z, dict, (uInt)dlen) != Z_OK)) {
		zl_fail(what, "stock follower inflater would not start");
		goto out_fol;
	}
	/* a zlib stream with a dictionary is followed only at the end */
	if (dict && run->bits >= 0)
		follower_end(&fol);
	check = check_init(kind);
	while (!done) {
		unsigned ai, ao;
		unsigned long ti, to;
		const Bytef *ni;
		Bytef *no;
		size_t used, made;

		if (++calls > 8 * (len + cap) + 64) {
			zl_fail(what, "%s deflate: no end after %zu calls", api->name, calls);
			goto out_fol;
		}
		if (z.avail_in == 0 && (fed < len || calls == 1) &&
		    (flush == Z_NO_FLUSH || z.avail_out > 0 || calls == 1)) {
			size_t n = min_sz(in_chunk ? in_chunk : len, len - fed);

			z.next_in = (Bytef *)in + fed;
			z.avail_in = (uInt)n;
			fed += n;
			flush = fed == len ? Z_FINISH : pick_flush(run, &rs);
		}
		if (opos >= cap) {
			zl_fail(what, "%s deflate: output passes %zu bytes", api->name, cap);
			goto out_fol;
		}
		z.next_out = out + opos;
		z.avail_out = (uInt)min_sz(run->out_chunk ? run->out_chunk : cap, cap - opos);
		/* A flush is done when a call returns with room left; with 1-byte
		 * buffers that may never happen (zlib answers each repeated flush
		 * with one more empty block), so a repeat gets some room. */
		if (last_full && z.avail_in == 0 && flush != Z_NO_FLUSH && z.avail_out < 16)
			z.avail_out = (uInt)min_sz(16, cap - opos);
		ai = z.avail_in, ao = z.avail_out, ti = z.total_in, to = z.total_out;
		ni = z.next_in, no = z.next_out;
		rc = api->deflate(&z, flush);
		if (zl_trace)
			fprintf(stderr, "  %s deflate(flush %d) in %u->%u out %u->%u = %d\n", api->name,
				flush, ai, z.avail_in, ao, z.avail_out, rc);
		repeat = last_full;
		last_full = z.avail_out == 0;
		used = ai - z.avail_in;
		made = ao - z.avail_out;
		if (!ZL_CHECK(what, z.avail_in <= ai && z.avail_out <= ao &&
			      z.next_in == ni + used && z.next_out == no + made &&
			      z.total_in == ti + used && z.total_out == to + made,
			      "%s deflate(flush %d): next/avail/total disagree (in %u->%u, out %u->%u, "
			      "total_in %lu->%lu, total_out %lu->%lu)", api->name, flush, ai,
			      z.avail_in, ao, z.avail_out, ti, z.total_in, to, z.total_out))
			goto out_fol;
		opos += made;
		if (kind != ZL_RAW) {
			check = check_update(kind, check, in + consumed, used);
			/* once per stream, not fatal: the rest of the stream is still
			 * checked; the value at the end is checked below in any case */
			if (!adler_bad && z.adler != check) {
				adler_bad = 1;
				running_adler_off(what, "%s deflate: strm->adler %#lx, not the check "
						  "value %#lx of the %zu bytes read so far", api->name,
						  z.adler, check, consumed + used);
			}
		}
		consumed += used;
		switch (rc) {
		case Z_STREAM_END:
			if (!ZL_CHECK(what, flush == Z_FINISH && z.avail_in == 0 && fed == len,
				      "%s deflate: Z_STREAM_END with flush %d, %u bytes unread",
				      api->name, flush, z.avail_in))
				goto out_fol;
			if (kind != ZL_RAW)
				ZL_CHECK(what, z.adler == check, "%s deflate: at Z_STREAM_END "
					 "strm->adler %#lx, not the check value %#lx of the input",
					 api->name, z.adler, check);
			done = 1;
			break;
		case Z_OK:
			if (flush == Z_NO_FLUSH &&
			    !ZL_CHECK(what, z.avail_in == 0 || z.avail_out == 0,
				      "%s deflate(Z_NO_FLUSH) = Z_OK with input (%u) and room (%u) left",
				      api->name, z.avail_in, z.avail_out))
				goto out_fol;
			if (flush != Z_NO_FLUSH &&
			    !ZL_CHECK(what, z.avail_out == 0 || (flush != Z_FINISH && z.avail_in == 0),
				      "%s deflate(flush %d) = Z_OK with room left (%u) but the flush "
				      "not done (%u unread)", api->name, flush, z.avail_out, z.avail_in))
				goto out_fol;
			break;
		case Z_BUF_ERROR:
			/* a flush call repeated because the last one filled the output
			 * may find nothing left to do (zlib itself would add an empty
			 * stored block); anything else was a call with work to do */
			if (used + made == 0 && z.avail_in == 0 && repeat && flush != Z_NO_FLUSH &&
			    flush != Z_FINISH)
				break;
			zl_fail(what, "%s deflate(flush %d) = Z_BUF_ERROR with work to do (%u unread, "
				"%u room)", api->name, flush, ai, ao);
			goto out_fol;
		default:
			zl_fail(what, "%s deflate(flush %d) = %d (%s) after %zu calls, %lu bytes in",
				api->name, flush, rc, z.msg ? z.msg : "", calls, z.total_in);
			goto out_fol;
		}
		/* a completed flush makes everything consumed decodable */
		if (!done && z.avail_out > 0 && z.avail_in == 0 && fol.live &&
		    (flush == Z_SYNC_FLUSH || flush == Z_FULL_FLUSH || flush == Z_PARTIAL_FLUSH)) {
			if (follower_feed(&fol, out + ck_fed, opos - ck_fed, in, consumed, what) < 0)
				goto out_fol;
			ck_fed = opos;
			if (flush == Z_FULL_FLUSH && !have_full && consumed > 0) {
				have_full = 1;
				full_in = consumed;
				full_out = opos;
			}
		}
	}
	result = (long)opos;
	/* after a full flush what follows decodes without what came before */
	if (have_full) {
		z_stream r;
		unsigned char *tail = zl_xmalloc(len - full_in + 1);
		int rrc;

		memset(&r, 0, sizeof(r));
		zl_ref.inflateInit2_(&r, -15, ZLIB_VERSION, (int)sizeof(z_stream));
		r.next_in = out + full_out;
		r.avail_in = (uInt)(opos - full_out);
		r.next_out = tail;
		r.avail_out = (uInt)(len - full_in + 1);
		rrc = zl_ref.inflate(&r, Z_SYNC_FLUSH);
		if (!ZL_CHECK(what, rrc == Z_STREAM_END && r.total_out == len - full_in &&
			      !memcmp(tail, in + full_in, len - full_in),
			      "%s deflate: the stream after a Z_FULL_FLUSH at input %zu does not "
			      "decode alone (rc %d, %lu bytes)", api->name, full_in, rrc, r.total_out))
			result = -1;
		zl_ref.inflateEnd(&r);
		free(tail);
	}
out_fol:
	follower_end(&fol);
out:
	rc = api->deflateEnd(&z);
	if (!ZL_CHECK(what, rc == Z_OK || result < 0, "%s deflateEnd after Z_STREAM_END = %d",
		      api->name, rc))
		result = -1;
	return result;
}

static int pick_iflush(const struct zl_run *run, uint64_t *rs, int all_fed)
{
	static const int mixed[] = { Z_NO_FLUSH, Z_SYNC_FLUSH, Z_FINISH };

	switch (run->flush) {
	case ZL_F_SYNC:
		return Z_SYNC_FLUSH;
	case ZL_F_FULL: /* the usual loop: no flush, Z_FINISH once all input is there */
		return all_fed ? Z_FINISH : Z_NO_FLUSH;
	case ZL_F_FINISH:
		return Z_FINISH;
	case ZL_F_MIXED:
		return mixed[zl_rand(rs) % 3];
	default:
		return Z_NO_FLUSH;
	}
}

int zl_inflate_drive(const struct zl_api *api, int bits, const unsigned char *comp, size_t clen,
		     const struct zl_run *run, const unsigned char *expect, size_t elen,
		     unsigned char *out, size_t cap, const void *dict, size_t dlen,
		     struct zl_ires *res, const char *what)
{
	enum zl_kind kind = zl_kind_of(bits, comp, clen);
	uint64_t rs = run->seed | 1;
	z_stream z;
	size_t fed = 0, opos = 0, calls = 0;
	int rc, ret = -1, adler_bad = 0;

	zl_ref_load();
	memset(res, 0, sizeof(*res));
	res->end = ZL_END_OTHER;
	memset(&z, 0, sizeof(z));
	rc = api->inflateInit2_(&z, bits, ZLIB_VERSION, (int)sizeof(z_stream));
	if (!ZL_CHECK(what, rc == Z_OK, "%s inflateInit2(%d) = %d", api->name, bits, rc))
		return -1;
	if (dict && bits < 0) {
		rc = api->inflateSetDictionary(&z, dict, (uInt)dlen);
		if (!ZL_CHECK(what, rc == Z_OK, "%s raw inflateSetDictionary = %d", api->name, rc))
			goto out;
	}
	for (;;) {
		unsigned ai, ao;
		unsigned long ti, to;
		const Bytef *ni;
		Bytef *no;
		size_t used, made;
		int flush;

		if (++calls > 4 * (clen + cap) + 64) {
			zl_fail(what, "%s inflate: no end after %zu calls", api->name, calls);
			goto out;
		}
		if (z.avail_in == 0 && fed < clen) {
			size_t n = min_sz(run->in_chunk ? run->in_chunk : clen, clen - fed);

			z.next_in = (Bytef *)comp + fed;
			z.avail_in = (uInt)n;
			fed += n;
		}
		flush = pick_iflush(run, &rs, fed == clen);
		if (opos >= cap) {
			res->end = ZL_END_OVERFLOW;
			break;
		}
		z.next_out = out + opos;
		z.avail_out = (uInt)min_sz(run->out_chunk ? run->out_chunk : cap, cap - opos);
		ai = z.avail_in, ao = z.avail_out, ti = z.total_in, to = z.total_out;
		ni = z.next_in, no = z.next_out;
		rc = api->inflate(&z, flush);
		if (zl_trace)
			fprintf(stderr, "  %s inflate(flush %d) in %u->%u out %u->%u = %d\n", api->name,
				flush, ai, z.avail_in, ao, z.avail_out, rc);
		res->rc = rc;
		used = ai - z.avail_in;
		made = ao - z.avail_out;
		/* stock zlib returns Z_NEED_DICT without counting the header it
		 * read in total_in: either is fine there */
		if (!ZL_CHECK(what, z.avail_in <= ai && z.avail_out <= ao &&
			      z.next_in == ni + used && z.next_out == no + made &&
			      (z.total_in == ti + used || (rc == Z_NEED_DICT && z.total_in == ti)) &&
			      z.total_out == to + made,
			      "%s inflate(flush %d): next/avail/total disagree (in %u->%u, out %u->%u, "
			      "total_in %lu->%lu, total_out %lu->%lu)", api->name, flush, ai,
			      z.avail_in, ao, z.avail_out, ti, z.total_in, to, z.total_out))
			goto out;
		if (expect && !ZL_CHECK(what, opos + made <= elen &&
					!memcmp(out + opos, expect + opos, made),
					"%s inflate: output at %zu..%zu differs from the original "
					"(%zu bytes long)", api->name, opos, opos + made, elen))
			goto out;
		opos += made;
		/* once per stream, not fatal; at the stream's end it must be right */
		if (kind != ZL_RAW && rc >= 0 && rc != Z_NEED_DICT && (bits < 32 || z.total_out > 0) &&
		    (rc == Z_STREAM_END || !adler_bad) && z.adler != zl_check_value(kind, out, opos)) {
			if (rc == Z_STREAM_END)
				zl_fail(what, "%s inflate: at Z_STREAM_END strm->adler %#lx, not the "
					"check value %#lx of the %zu bytes written", api->name, z.adler,
					zl_check_value(kind, out, opos), opos);
			else
				running_adler_off(what, "%s inflate: strm->adler %#lx, not the check "
						  "value %#lx of the %zu bytes written so far", api->name,
						  z.adler, zl_check_value(kind, out, opos), opos);
			adler_bad = 1;
		}
		if (rc == Z_STREAM_END) {
			res->end = ZL_END_STREAM;
			break;
		}
		if (rc == Z_NEED_DICT) {
			res->dict_asked = 1;
			res->dict_id = z.adler;
			if (!dict) {
				res->end = ZL_END_DICT;
				break;
			}
			rc = api->inflateSetDictionary(&z, dict, (uInt)dlen);
			if (!ZL_CHECK(what, rc == Z_OK, "%s inflateSetDictionary = %d", api->name, rc))
				goto out;
			continue;
		}
		if (rc == Z_DATA_ERROR) {
			res->end = ZL_END_DATA;
			ZL_CHECK(what, z.msg != NULL, "%s inflate: Z_DATA_ERROR without msg", api->name);
			break;
		}
		if (rc == Z_OK) {
			if (!ZL_CHECK(what, used + made > 0 && flush != Z_FINISH,
				      "%s inflate(flush %d) = Z_OK without progress or with Z_FINISH",
				      api->name, flush))
				goto out;
			if (!ZL_CHECK(what, z.avail_in == 0 || z.avail_out == 0,
				      "%s inflate = Z_OK with input (%u) and room (%u) left", api->name,
				      z.avail_in, z.avail_out))
				goto out;
			continue;
		}
		if (rc == Z_BUF_ERROR) {
			if (used + made > 0) {
				if (!ZL_CHECK(what, flush == Z_FINISH &&
					      (z.avail_in == 0 || z.avail_out == 0),
					      "%s inflate(flush %d) = Z_BUF_ERROR after progress (in %u, "
					      "room %u left)", api->name, flush, z.avail_in, z.avail_out))
					goto out;
				continue;
			}
			if (z.avail_in == 0 && fed == clen) {
				res->end = ZL_END_TRUNC;
				break;
			}
			zl_fail(what, "%s inflate = Z_BUF_ERROR without progress while input (%u) and "
				"room (%u) were there", api->name, z.avail_in, z.avail_out);
			goto out;
		}
		res->end = ZL_END_OTHER;
		break;
	}
	ret = 0;
out:
	res->total_in = z.total_in;
	res->total_out = z.total_out;
	res->adler = z.adler;
	rc = api->inflateEnd(&z);
	if (!ZL_CHECK(what, rc == Z_OK, "%s inflateEnd = %d", api->name, rc))
		ret = -1;
	return ret;
}

/* ---- the layer's statistics ---- */

int zl_stats_parse(const char *line, struct zl_stats *st)
{
	static const struct {
		const char *key;
		size_t off;
	} keys[] = {
		{ "deflate.wd=", offsetof(struct zl_stats, deflate_wd) },
		{ "deflate.zlib=", offsetof(struct zl_stats, deflate_zlib) },
		{ "inflate.wd=", offsetof(struct zl_stats, inflate_wd) },
		{ "inflate.zlib=", offsetof(struct zl_stats, inflate_zlib) },
		{ "in.wd=", offsetof(struct zl_stats, in_wd) },
		{ "out.wd=", offsetof(struct zl_stats, out_wd) },
		{ "in.zlib=", offsetof(struct zl_stats, in_zlib) },
		{ "out.zlib=", offsetof(struct zl_stats, out_zlib) },
	};
	size_t i;

	memset(st, 0, sizeof(*st));
	snprintf(st->line, sizeof(st->line), "%s", line);
	if (strncmp(line, "wd-zlib: ", 9))
		return -1;
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		const char *p = strstr(line, keys[i].key);

		/* a key starts the line's word: "in.wd=" is not inside "xin.wd=" */
		while (p && p[-1] != ' ')
			p = strstr(p + 1, keys[i].key);
		if (!p)
			return -1;
		*(long long *)((char *)st + keys[i].off) = strtoll(p + strlen(keys[i].key), NULL, 10);
	}
	return 0;
}

int zl_stats_get(struct zl_stats *st)
{
	size_t (*fmt)(char *, size_t) = (size_t (*)(char *, size_t))dlsym(RTLD_DEFAULT,
									 "wd_zlib_stats_format");
	char line[1024];

	memset(st, 0, sizeof(*st));
	if (!fmt)
		return -1;
	fmt(line, sizeof(line));
	line[strcspn(line, "\n")] = 0;
	if (zl_stats_parse(line, st) < 0) {
		fprintf(stderr, "FAIL: the layer's stats line does not parse: '%s'\n", line);
		zl_failures++;
		return -1;
	}
	return 0;
}

int zl_mode(const char *arg)
{
	void *h = dlopen("libz.so.1", RTLD_NOW | RTLD_NOLOAD);
	void *stock_deflate = h ? dlsym(h, "deflate") : NULL;
	int layer;

	zl_ref_load();
	if (!arg || (strcmp(arg, "layer") && strcmp(arg, "stock"))) {
		fprintf(stderr, "usage: ... layer|stock (whether libwd-zlib.so must be preloaded)\n");
		exit(2);
	}
	layer = !strcmp(arg, "layer");
	if (!stock_deflate) {
		fprintf(stderr, "FAIL: libz.so.1 is not loaded in this process\n");
		exit(1);
	}
	if (layer) {
		if (!dlsym(RTLD_DEFAULT, "wd_zlib_stats_format")) {
			fprintf(stderr, "FAIL: the layer is not loaded (no wd_zlib_stats_format; "
				"LD_PRELOAD=%s)\n", getenv("LD_PRELOAD") ? getenv("LD_PRELOAD") : "");
			exit(1);
		}
		if ((void *)zl_plain.deflate == stock_deflate) {
			fprintf(stderr, "FAIL: the layer is loaded but deflate is still libz's\n");
			exit(1);
		}
	} else if (dlsym(RTLD_DEFAULT, "wd_zlib_stats_format") ||
		   (void *)zl_plain.deflate != stock_deflate) {
		fprintf(stderr, "FAIL: stock run, but deflate is not libz's\n");
		exit(1);
	}
	return layer;
}

int zl_finish(const char *prog, int layer, int need_deflate_wd, int need_inflate_wd)
{
	struct zl_stats st;

	if (layer) {
		if (zl_stats_get(&st) < 0) {
			fprintf(stderr, "FAIL: no stats from the layer\n");
			zl_failures++;
		} else {
			fprintf(stderr, "%s\n", st.line);
			if (need_deflate_wd && st.deflate_wd <= 0) {
				fprintf(stderr, "FAIL: no deflate stream went through WarpDrive\n");
				zl_failures++;
			}
			if (need_inflate_wd && st.inflate_wd <= 0) {
				fprintf(stderr, "FAIL: no inflate stream went through WarpDrive\n");
				zl_failures++;
			}
			if ((need_deflate_wd || need_inflate_wd) && st.in_wd <= 0) {
				fprintf(stderr, "FAIL: in.wd is 0\n");
				zl_failures++;
			}
		}
	}
	if (running_adler_notes)
		fprintf(stderr, "note: %lu streams had strm->adler behind the data in the middle "
			"(right at the end); t_zlib_matrix fails on that, this test does not\n",
			running_adler_notes);
	if (zl_failures > ZL_MAX_REPORTS)
		fprintf(stderr, "(only the first %d failures and the first of each kind shown)\n",
			ZL_MAX_REPORTS);
	for (unsigned k = 0; k < 64 && kinds[k].fmt; k++)
		fprintf(stderr, "  %6lu x %.100s\n", kinds[k].count, kinds[k].fmt);
	fprintf(stderr, "%s (%s): %lu checks, %lu failures\n", prog, layer ? "layer" : "stock",
		zl_checks, zl_failures);
	return zl_failures ? 1 : 0;
}

/* ---- data ---- */

static const char *const corpus_names[] = {
	"alice29.txt", "asyoulik.txt", "fireworks.jpeg", "geo.protodata", "html", "html_x_4",
	"kppkn.gtb", "lcet10.txt", "paper-100k.pdf", "plrabn12.txt", "urls.10K",
};

unsigned zl_corpus_count(void)
{
	return sizeof(corpus_names) / sizeof(corpus_names[0]);
}

unsigned char *zl_corpus_file(const char *dir, unsigned idx, size_t *len, const char **name)
{
	char path[4096];
	unsigned char *buf;
	FILE *f;
	long n;

	*name = corpus_names[idx % zl_corpus_count()];
	snprintf(path, sizeof(path), "%s/%s", dir, *name);
	f = fopen(path, "rb");
	if (!f) {
		/* the corpus is part of the repository: missing is a failure */
		fprintf(stderr, "FAIL: cannot read corpus file %s\n", path);
		exit(1);
	}
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = zl_xmalloc((size_t)n + 1);
	if (fread(buf, 1, (size_t)n, f) != (size_t)n) {
		fprintf(stderr, "FAIL: short read of %s\n", path);
		exit(1);
	}
	fclose(f);
	*len = (size_t)n;
	return buf;
}

uint64_t zl_rand(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545F4914F6CDD1Dull;
}

uint64_t zl_seed(void)
{
	const char *e = getenv("WD_TEST_SEED");
	uint64_t s = e ? strtoull(e, NULL, 0) : 0x5eed2026;

	fprintf(stderr, "seed %#llx (set WD_TEST_SEED to change)\n", (unsigned long long)s);
	return s ? s : 1;
}

void zl_fill_random(unsigned char *p, size_t len, uint64_t *s)
{
	for (size_t i = 0; i < len; i++)
		p[i] = (unsigned char)(zl_rand(s) >> 56);
}

void zl_fill_text(unsigned char *p, size_t len, uint64_t *s)
{
	static const char *const words[] = { "warp ", "drive ", "queue ", "ring ", "the ",
					     "accelerator ", "deflate ", "of ", "memory ", "\n" };
	size_t i = 0;

	while (i < len) {
		const char *w = words[zl_rand(s) % 10];

		while (*w && i < len)
			p[i++] = (unsigned char)*w++;
	}
}

void *zl_xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (!p) {
		fprintf(stderr, "FAIL: out of memory (%zu bytes)\n", n);
		exit(1);
	}
	return p;
}

/* ---- pumps for streams the caller set up ---- */

long zl_pump_deflate(const struct zl_api *api, z_stream *z, const unsigned char *in, size_t len,
		     unsigned char *out, size_t cap, size_t chunk, int finish, const char *what)
{
	size_t fed = 0, made = 0, calls = 0;
	int rc;

	for (;;) {
		int flush;

		if (z->avail_in == 0 && fed < len) {
			size_t n = min_sz(chunk ? chunk : len, len - fed);

			z->next_in = (Bytef *)in + fed;
			z->avail_in = (uInt)n;
			fed += n;
		}
		flush = finish && fed == len ? Z_FINISH : Z_NO_FLUSH;
		if (!finish && fed == len && z->avail_in == 0)
			return (long)made;
		if (made >= cap || ++calls > len + cap + 64) {
			zl_fail(what, "%s deflate: output passes %zu bytes", api->name, cap);
			return -1;
		}
		z->next_out = out + made;
		z->avail_out = (uInt)(cap - made);
		rc = api->deflate(z, flush);
		made = (size_t)(z->next_out - out);
		if (rc == Z_STREAM_END && flush == Z_FINISH)
			return (long)made;
		if (rc != Z_OK) {
			zl_fail(what, "%s deflate(flush %d) = %d", api->name, flush, rc);
			return -1;
		}
	}
}

long zl_pump_inflate(const struct zl_api *api, z_stream *z, const unsigned char *comp,
		     size_t clen, unsigned char *out, size_t cap, size_t chunk, int *rc)
{
	size_t fed = 0, made = 0;

	for (;;) {
		uInt ai, ao;

		if (z->avail_in == 0 && fed < clen) {
			size_t n = min_sz(chunk ? chunk : clen, clen - fed);

			z->next_in = (Bytef *)comp + fed;
			z->avail_in = (uInt)n;
			fed += n;
		}
		if (made >= cap)
			return (long)made;
		z->next_out = out + made;
		z->avail_out = (uInt)(cap - made);
		ai = z->avail_in, ao = z->avail_out;
		*rc = api->inflate(z, Z_NO_FLUSH);
		made = (size_t)(z->next_out - out);
		if (*rc != Z_OK || (ai == z->avail_in && ao == z->avail_out))
			return (long)made;
	}
}

long zl_ref_deflate(int level, int bits, const unsigned char *in, size_t len, unsigned char *out,
		    size_t cap)
{
	z_stream z;
	long n;

	zl_ref_load();
	memset(&z, 0, sizeof(z));
	if (zl_ref.deflateInit2_(&z, level, Z_DEFLATED, bits, 8, Z_DEFAULT_STRATEGY, ZLIB_VERSION,
				 (int)sizeof(z_stream)) != Z_OK) {
		zl_fail("ref deflate", "deflateInit2(%d, %d) failed", level, bits);
		return -1;
	}
	n = zl_pump_deflate(&zl_ref, &z, in, len, out, cap, 0, 1, "ref deflate");
	zl_ref.deflateEnd(&z);
	return n;
}
