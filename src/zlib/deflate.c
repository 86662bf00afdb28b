/* SPDX-License-Identifier: MIT */
/*
 * deflate on WarpDrive: the stream is cut into pieces, each one request.
 *
 * The stream's state is all here, in memory from the caller's zalloc: the
 * input gathered for the next piece, the last 32 KiB of input (the next
 * piece's dictionary, so matches reach across pieces as they do in one
 * zlib stream), and output the caller had no room for yet.  Nothing lives
 * in a device session, so a stream has no queue of its own, can move
 * between threads, and goes on in a fork child.  Pieces end byte-aligned
 * (the engine's full flush marker, 5 bytes per piece) and concatenate into
 * one deflate stream; this layer writes the zlib/gzip header and trailer.
 *
 * A stream whose first call holds all of its input with Z_FINISH, and room
 * for all of its output, is one whole-stream request (header, trailer and
 * checksum by the engine).
 *
 * At libdeflate's levels (engine level > 3) pieces take no dictionary, so
 * they are made larger (PIECE_LD) to lose little across the cuts; a
 * dictionary given by deflateSetDictionary is then declared in the header
 * as zlib would but not used for matching by such pieces (counted as
 * dict_unused).  A short piece there - cut short by a flush, as a protocol
 * that flushes every message makes them - would lose everything its history
 * gave (each message alone: 7x zlib's output for repeated messages), so it
 * goes at the highest ISA-L level with the history (SHORT_PIECE).
 */
#include <errno.h>
#include <string.h>

#include "wz_deflate.h"

#define PIECE_ISAL (64u << 10)
/* with the 32 KiB of history, within the memory zlib itself would take for
 * the default window and memLevel (nginx preallocates that: t_zlib_alloc) */
#define PIECE_LD (96u << 10)
#define SHORT_PIECE (16u << 10)
/* the history a piece's dictionary keeps: the window */
#define HIST_MAX(d) (1u << (d)->wbits)
/* Input the caller hands over in large calls, with room for the output,
 * goes in pieces up to this size: fewer cuts (each costs the engine a
 * dictionary to hash, and a libdeflate piece its history) and no copies. */
#define PIECE_BIG (1u << 20)

/* A small window (nginx's for short responses) comes with a small memory
 * budget (zlib's own grows with the window): pieces of twice the window. */
static uint32_t piece_size(const struct wz_def *d)
{
	if (d->wbits < 15)
		return 2u << d->wbits;
	return d->level > WD_COMP_STREAM_LEVEL_MAX ? PIECE_LD : PIECE_ISAL;
}

static uint32_t stage_size(const struct wz_def *d)
{
	return (uint32_t)wd_comp_bound(piece_size(d)) + 32;
}

/* The level of a piece of len bytes, and whether it takes the history. */
static unsigned piece_level(const struct wz_def *d, uint32_t len, int *with_hist)
{
	*with_hist = d->level <= WD_COMP_STREAM_LEVEL_MAX ||
		     (len < SHORT_PIECE && d->hist_len);
	return *with_hist ? (d->level < WD_COMP_STREAM_LEVEL_MAX ? d->level :
			     WD_COMP_STREAM_LEVEL_MAX) : d->level;
}

/* ---- header and trailer ---- */

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static void put_le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static uint32_t header(const struct wz_def *d, uint8_t *p)
{
	unsigned flevel, flg;

	if (d->wrap == WZ_WRAP_GZIP) {
		static const uint8_t gz[10] = { 0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3 };

		memcpy(p, gz, sizeof(gz));
		p[8] = d->zlevel == 9 ? 2 : d->zlevel == 1 ? 4 : 0;
		return sizeof(gz);
	}
	if (d->wrap != WZ_WRAP_ZLIB)
		return 0;
	/* as zlib: FLEVEL from the zlib level, FDICT with the dictionary's id */
	flevel = d->zlevel < 2 ? 0 : d->zlevel < 6 ? 1 : d->zlevel == 6 ? 2 : 3;
	flg = flevel << 6 | (d->has_dict ? 0x20 : 0);
	p[0] = (uint8_t)((d->wbits - 8) << 4 | Z_DEFLATED); /* CINFO: the window */
	flg += 31 - (((unsigned)p[0] << 8 | flg) % 31);
	p[1] = (uint8_t)flg;
	if (!d->has_dict)
		return 2;
	put_be32(p + 2, d->dict_id);
	return 6;
}

static uint32_t trailer(const struct wz_def *d, uint8_t *p)
{
	if (d->wrap == WZ_WRAP_GZIP) {
		put_le32(p, d->check);
		put_le32(p + 4, (uint32_t)d->isize);
		return 8;
	}
	if (d->wrap == WZ_WRAP_ZLIB) {
		put_be32(p, d->check);
		return 4;
	}
	return 0;
}

/* ---- buffers ---- */

/* Grow p to cap bytes, keeping its first keep bytes. */
static int grow(z_streamp strm, uint8_t **p, uint32_t *have, uint32_t cap, uint32_t keep)
{
	uint8_t *n;

	if (*p && *have >= cap)
		return 0;
	n = wz_alloc(strm, cap);
	if (!n)
		return -ENOMEM;
	if (*p && keep)
		memcpy(n, *p, keep);
	wz_free(strm, *p);
	*p = n;
	*have = cap;
	return 0;
}

/* Buffers for the current level (deflateParams may change it). */
static int buffers(z_streamp strm, struct wz_def *d)
{
	uint32_t hist_cap = d->hist ? HIST_MAX(d) : 0;

	if (grow(strm, &d->gather, &d->gather_cap, piece_size(d), d->gather_len) ||
	    grow(strm, &d->stage, &d->stage_cap, stage_size(d), d->stage_len))
		return -ENOMEM;
	if (grow(strm, &d->hist, &hist_cap, HIST_MAX(d), d->hist_len))
		return -ENOMEM;
	return 0;
}

void wz_deflate_free(z_streamp strm, struct wz_def *d)
{
	wz_free(strm, d->gather);
	wz_free(strm, d->hist);
	wz_free(strm, d->stage);
	d->gather = d->hist = d->stage = NULL;
	d->gather_cap = d->stage_cap = 0;
}

/* Give staged output to the caller; returns bytes given. */
static uInt drain(z_streamp strm, struct wz_def *d)
{
	uint32_t n = d->stage_len - d->stage_off;

	if (n > strm->avail_out)
		n = strm->avail_out;
	if (!n)
		return 0;
	memcpy(strm->next_out, d->stage + d->stage_off, n);
	strm->next_out += n;
	strm->avail_out -= n;
	strm->total_out += n;
	d->stage_off += n;
	if (d->stage_off == d->stage_len)
		d->stage_off = d->stage_len = 0;
	return n;
}

/* Append bytes to the stage (header, trailer): always fits, since the
 * stage is drained before a piece is made and sized for a piece. */
static void stage_put(struct wz_def *d, const uint8_t *p, uint32_t n)
{
	memcpy(d->stage + d->stage_len, p, n);
	d->stage_len += n;
}

/* ---- history ---- */

/* Append to the history, keeping the last window's worth. */
static void hist_put(struct wz_def *d, const uint8_t *p, uint32_t n)
{
	if (n >= HIST_MAX(d)) {
		memcpy(d->hist, p + n - HIST_MAX(d), HIST_MAX(d));
		d->hist_len = HIST_MAX(d);
		return;
	}
	if (d->hist_len + n > HIST_MAX(d)) {
		uint32_t keep = HIST_MAX(d) - n;

		memmove(d->hist, d->hist + d->hist_len - keep, keep);
		d->hist_len = keep;
	}
	memcpy(d->hist + d->hist_len, p, n);
	d->hist_len += n;
}

static void hist_add(struct wz_def *d, const uint8_t *p, uint32_t n)
{
	if (!d->hist) {
		d->hist_len = 0;
		return;
	}
	hist_put(d, p, n);
}

/* ---- pieces ---- */

static uint32_t check_init(const struct wz_def *d)
{
	return d->wrap == WZ_WRAP_ZLIB ? 1 : 0;
}

/* strm->adler is the checksum of all input read (zlib.h): gathered bytes
 * are summed as they come (zlib's own adler32/crc32), pieces straight from
 * the caller by the engine. */
static void gather_sum(struct wz_def *d, const uint8_t *p, uint32_t n)
{
	if (d->wrap == WZ_WRAP_ZLIB)
		d->gather_check = (uint32_t)adler32(d->gather_check, p, n);
	else if (d->wrap == WZ_WRAP_GZIP)
		d->gather_check = (uint32_t)crc32(d->gather_check, p, n);
}

static uint32_t check_combine(const struct wz_def *d, uint32_t a, uint32_t b, uint32_t len)
{
	return d->wrap == WZ_WRAP_ZLIB ? (uint32_t)adler32_combine(a, b, (z_off_t)len) :
	       (uint32_t)crc32_combine(a, b, (z_off_t)len);
}

void wz_deflate_adler(z_streamp strm, struct wz_def *d)
{
	if (d->wrap == WZ_WRAP_RAW)
		return; /* zlib leaves it alone */
	strm->adler = d->gather_len ? check_combine(d, d->check, d->gather_check, d->gather_len) :
		      d->check;
}

static void account(struct wz_def *d, const uint8_t *src, uint32_t len, uint32_t crc)
{
	/* a gathered piece: the sum made while gathering; else the engine's
	 * (Adler-32 for zlib, asked for with WD_COMP_P_ADLER, else CRC-32) */
	if (src == d->gather) {
		crc = d->gather_check;
		d->gather_check = check_init(d);
	}
	if (d->wrap == WZ_WRAP_ZLIB)
		d->check = (uint32_t)adler32_combine(d->check, crc, (z_off_t)len);
	else
		d->check = (uint32_t)crc32_combine(d->check, crc, (z_off_t)len);
	(void)src;
	d->isize += len;
}

/* One request: compress len bytes at src as the next piece of the stream,
 * into the caller's buffer when it surely fits, else into the stage. */
static int run_piece(z_streamp strm, struct wz_def *d, const uint8_t *src, uint32_t len,
		     int final, int full)
{
	struct wd_req r;
	struct wd_cpl c;
	uint8_t *dst;
	uint32_t cap, hdr = 0, hist_len;
	enum wd_comp_flush flush = final ? WD_COMP_FINISH :
				   full ? WD_COMP_FULL_FLUSH : WD_COMP_SYNC_FLUSH;
	int direct, ret, with_hist;
	unsigned level = piece_level(d, len, &with_hist);

	if (!d->header_done) {
		uint8_t h[10];

		hdr = header(d, h);
		if (!d->stage_len && strm->avail_out >= hdr + wd_comp_bound(len) + 16) {
			memcpy(strm->next_out, h, hdr);
			strm->next_out += hdr;
			strm->avail_out -= hdr;
			strm->total_out += hdr;
		} else {
			stage_put(d, h, hdr);
		}
		d->header_done = 1;
	}
	direct = !d->stage_len && strm->avail_out >= wd_comp_bound(len) + 16;
	dst = direct ? strm->next_out : d->stage + d->stage_len;
	cap = direct ? (strm->avail_out > UINT32_MAX ? UINT32_MAX : (uint32_t)strm->avail_out) :
		       d->stage_cap - d->stage_len - 16;
	hist_len = with_hist ? d->hist_len : 0;
	if (hist_len > 1u << d->wbits)
		hist_len = 1u << d->wbits; /* no match reaches farther back */
	wd_prep_compress_piece(&r, dst, cap, src, len, level, flush,
			       hist_len ? d->hist + d->hist_len - hist_len : NULL, hist_len);
	if (d->wbits < 15)
		r.param |= WD_COMP_P_WBITS(d->wbits);
	if (d->wrap == WZ_WRAP_ZLIB)
		r.param |= WD_COMP_P_ADLER;
	ret = wz_run_one(&r, &c);
	if (ret)
		return ret;
	account(d, src, len, wd_cpl_checksum(&c));
	if (direct) {
		strm->next_out += c.result;
		strm->avail_out -= (uInt)c.result;
		strm->total_out += c.result;
	} else {
		d->stage_len += (uint32_t)c.result;
	}
	d->out_bytes += c.result + hdr;
	if (full)
		d->hist_len = 0;
	else
		hist_add(d, src, len);
	if (final) {
		uint8_t t[8];
		uint32_t n = trailer(d, t);

		if (direct && strm->avail_out >= n) {
			memcpy(strm->next_out, t, n);
			strm->next_out += n;
			strm->avail_out -= n;
			strm->total_out += n;
		} else {
			stage_put(d, t, n);
		}
		d->out_bytes += n;
		d->finished = 1;
	}
	strm->adler = d->check;
	return 0;
}

/* The whole stream in one request: first call, all input, Z_FINISH. */
static int run_whole(z_streamp strm, struct wz_def *d)
{
	struct wd_req r;
	struct wd_cpl c;
	int ret;

	wd_prep_compress(&r, strm->next_out, strm->avail_out, strm->next_in, strm->avail_in,
			 d->level, d->wrap == WZ_WRAP_GZIP ? WD_COMP_GZIP :
			 d->wrap == WZ_WRAP_ZLIB ? WD_COMP_ZLIB : WD_COMP_RAW);
	if (d->wbits < 15)
		r.param |= WD_COMP_P_WBITS(d->wbits);
	ret = wz_run_one(&r, &c);
	if (ret)
		return ret;
	d->check = d->wrap == WZ_WRAP_RAW ? d->check : wd_cpl_checksum(&c);
	strm->adler = d->wrap == WZ_WRAP_RAW ? strm->adler : d->check;
	d->isize = strm->avail_in;
	d->out_bytes = c.result;
	strm->next_in += strm->avail_in;
	strm->total_in += strm->avail_in;
	strm->avail_in = 0;
	strm->next_out += c.result;
	strm->avail_out -= (uInt)c.result;
	strm->total_out += c.result;
	d->header_done = d->finished = 1;
	return 0;
}

static int map_errno(z_streamp strm, int err)
{
	if (err == -ENOMEM) {
		strm->msg = (char *)"insufficient memory";
		return Z_MEM_ERROR;
	}
	strm->msg = (char *)"WarpDrive device error";
	return Z_STREAM_ERROR;
}

static int flush_rank(int flush)
{
	/* zlib's order: Z_BLOCK ranks between no flush and partial flush */
	return flush * 2 - (flush > 4 ? 9 : 0);
}

/* Cut pieces while there is a whole one, or input ends with a flush due. */
static int run_pieces(z_streamp strm, struct wz_def *d)
{
	uint32_t piece = piece_size(d);

	if (buffers(strm, d))
		return -ENOMEM;
	for (;;) {
		const uint8_t *src;
		uint32_t len, take, rest;
		int direct, type, ret;

		if (d->stage_len && (drain(strm, d), d->stage_len))
			return 0; /* the caller's buffer is full */
		direct = !d->gather_len && strm->avail_in >= piece;
		if (!direct && strm->avail_in && d->gather_len < piece) {
			take = piece - d->gather_len;
			if (take > strm->avail_in)
				take = strm->avail_in;
			memcpy(d->gather + d->gather_len, strm->next_in, take);
			gather_sum(d, strm->next_in, take);
			d->gather_len += take;
			strm->next_in += take;
			strm->avail_in -= take;
			strm->total_in += take;
		}
		src = direct ? strm->next_in : d->gather;
		len = direct ? piece : d->gather_len;
		if (direct && !d->stage_len) {
			uint32_t want = strm->avail_in < PIECE_BIG ? strm->avail_in : PIECE_BIG;

			if (want > piece && strm->avail_out >= wd_comp_bound(want) + 32)
				len = want;
		}
		rest = strm->avail_in - (direct ? len : 0);
		if (len < piece && !(rest == 0 && d->need_flush))
			return 0; /* gathering: no piece before it fills or a flush */
		type = rest == 0 && d->need_flush ? d->need_flush : Z_NO_FLUSH;
		ret = run_piece(strm, d, src, len, type == Z_FINISH, type == Z_FULL_FLUSH);
		if (ret)
			return ret;
		if (direct) {
			strm->next_in += len;
			strm->avail_in -= len;
			strm->total_in += len;
		} else {
			d->gather_len = 0;
		}
		if (type != Z_NO_FLUSH)
			d->need_flush = 0;
		if (d->finished) {
			drain(strm, d); /* the caller stops when its buffer is not full */
			return 0;
		}
	}
}

int wz_deflate_run(z_streamp strm, struct wz_def *d, int flush)
{
	int old_flush = d->last_flush, ret;
	uLong in0 = strm->total_in, out0 = strm->total_out;

	if (!strm->next_out || (!strm->next_in && strm->avail_in) || flush < 0 || flush > Z_BLOCK)
		return Z_STREAM_ERROR; /* as zlib: Z_TREES is inflate's only */
	if (d->finished && flush != Z_FINISH)
		return Z_STREAM_ERROR;
	if (!strm->avail_out) {
		strm->msg = (char *)"buffer error";
		return Z_BUF_ERROR;
	}
	d->last_flush = flush;
	if (d->stage_len && (drain(strm, d), d->stage_len)) {
		d->last_flush = -1; /* output still pending: any flush may follow */
		goto done;
	}
	if (d->finished) {
		if (strm->avail_in) {
			strm->msg = (char *)"buffer error";
			return Z_BUF_ERROR;
		}
		return Z_STREAM_END;
	}
	if (!strm->avail_in && flush_rank(flush) <= flush_rank(old_flush) && flush != Z_FINISH &&
	    strm->total_out == out0) {
		strm->msg = (char *)"buffer error";
		return Z_BUF_ERROR;
	}
	/* a partial flush, a block end: a sync flush does both (and more) */
	d->need_flush = flush == Z_NO_FLUSH ? 0 : flush == Z_FULL_FLUSH || flush == Z_FINISH ?
			flush : Z_SYNC_FLUSH;
	if (!d->started) {
		d->started = 1;
		wz_count_stream(WZ_DEFLATE, 1);
		/* the engine's zlib header states a 32 KiB window */
		if (flush == Z_FINISH && !d->has_dict && strm->avail_in &&
		    (d->wbits == 15 || d->wrap != WZ_WRAP_ZLIB) &&
		    strm->avail_in <= (1u << 30) &&
		    strm->avail_out >= wd_comp_bound(strm->avail_in) + 16) {
			ret = run_whole(strm, d);
			if (ret)
				return map_errno(strm, ret);
			goto done;
		}
	}
	ret = run_pieces(strm, d);
	if (ret)
		return map_errno(strm, ret);
done:
	wz_count_bytes(1, strm->total_in - in0, strm->total_out - out0);
	wz_deflate_adler(strm, d);
	if (d->finished && !d->stage_len)
		return Z_STREAM_END;
	return Z_OK;
}

int wz_deflate_set_hist(z_streamp strm, struct wz_def *d, const uint8_t *p, uint32_t n)
{
	uint32_t cap = d->hist ? HIST_MAX(d) : 0;

	/* as zlib: a dictionary adds to the window, and one of a window or
	 * more replaces it */
	if (grow(strm, &d->hist, &cap, HIST_MAX(d), d->hist_len))
		return -ENOMEM;
	hist_put(d, p, n);
	return 0;
}
