/* SPDX-License-Identifier: MIT */
/*
 * The soft engine's libdeflate paths, where libdeflate beats ISA-L:
 *
 *   - one-shot compression at engine levels 4..12 (libdeflate's level of
 *     the same number): whole streams in any framing, and raw pieces.  A
 *     piece that does not finish its stream has the final-block bit of its
 *     last block cleared and an empty stored block appended, the very bytes
 *     a full flush ends on, so pieces still concatenate into one stream;
 *   - scatter-gather compression at those levels, gathered into one buffer
 *     and scattered back (libdeflate wants its buffers whole);
 *   - the first try of every one-shot decompression: libdeflate decodes a
 *     stream whose output fits in dst.  Anything else (corrupt, truncated,
 *     output too small) is left to the ISA-L path, whose answers (the exact
 *     error code, the size that fits) stay the reference.
 *
 * libdeflate has no streaming and no preset dictionary (1.14): streams stay
 * on ISA-L, and pieces with a dictionary at these levels are refused.
 */
#include <endian.h>
#include <errno.h>
#include <isa-l/crc.h>
#include <libdeflate.h>
#include <stdlib.h>
#include <string.h>
#include <wd/comp.h>

#include "soft.h"

#define STORED_MAX 65535u       /* bytes of one stored block */
#define KEEP_MAX (8u << 20)     /* gather buffers larger than this are not kept */

/* ---- finding the last block of a deflate stream ----
 *
 * libdeflate always ends its output with a final block; a piece that does
 * not end the stream needs that bit cleared, so the scanner walks the
 * blocks (decoding the Huffman codes, writing nothing) to learn where the
 * last block's header and the stream's end are.  The input is libdeflate's
 * own output, but the scanner never reads outside it whatever it holds. */

#define FAST_BITS 11

struct huff {
	uint16_t fast[1u << FAST_BITS]; /* next FAST_BITS bits -> symbol << 4 | length; 0: slow */
	uint16_t count[16];             /* codes of each length */
	uint16_t sorted[288];           /* symbols in canonical order */
};

/* LSB-first bit reader over a 64-bit buffer, refilled to >= 56 bits so a
 * whole symbol (literal/length, extra bits, distance, extra bits: <= 48
 * bits) decodes from one refill.  Past the end it reads zero bytes and
 * counts them (over), so a damaged stream runs out instead of overreading. */
struct bits {
	const uint8_t *start, *p, *end;
	uint64_t buf;
	unsigned cnt;
	size_t over;
};

static inline void refill(struct bits *b)
{
	if (b->end - b->p >= 8) {
		uint64_t w;

		memcpy(&w, b->p, 8);
		w = le64toh(w);
		/* the bits past cnt that do not fit are the true next ones:
		 * loading them again next time gives the same bits */
		b->buf |= w << b->cnt;
		b->p += (63 - b->cnt) >> 3;
		b->cnt |= 56;
		return;
	}
	while (b->cnt <= 56) {
		uint64_t byte = 0;

		if (b->p < b->end)
			byte = *b->p++;
		else
			b->over++;
		b->buf |= byte << b->cnt;
		b->cnt += 8;
	}
}

static inline uint64_t bitpos(const struct bits *b)
{
	return ((uint64_t)(b->p - b->start) + b->over) * 8 - b->cnt;
}

static inline void drop(struct bits *b, unsigned k)
{
	b->buf >>= k;
	b->cnt -= k;
}

/* k <= 32 bits, refilling first */
static uint32_t take(struct bits *b, unsigned k)
{
	uint32_t v;

	refill(b);
	v = (uint32_t)(b->buf & ((1ull << k) - 1));
	drop(b, k);
	return v;
}

static unsigned reverse(unsigned code, unsigned len)
{
	unsigned r = 0;

	while (len--) {
		r = r << 1 | (code & 1);
		code >>= 1;
	}
	return r;
}

/* Canonical code from code lengths; -1 if over-subscribed (an incomplete
 * code is allowed: its unused patterns fail when met). */
static int huff_build(struct huff *h, const uint8_t *lens, unsigned n)
{
	uint16_t offs[16];
	unsigned s, len, k, idx = 0, code = 0;
	int left = 1;

	memset(h->count, 0, sizeof(h->count));
	for (s = 0; s < n; s++)
		h->count[lens[s]]++;
	h->count[0] = 0;
	for (len = 1; len < 16; len++) {
		left = (left << 1) - h->count[len];
		if (left < 0)
			return -1;
	}
	offs[1] = 0;
	for (len = 1; len < 15; len++)
		offs[len + 1] = (uint16_t)(offs[len] + h->count[len]);
	for (s = 0; s < n; s++)
		if (lens[s])
			h->sorted[offs[lens[s]]++] = (uint16_t)s;
	memset(h->fast, 0, sizeof(h->fast));
	for (len = 1; len < 16; len++, code <<= 1)
		for (k = 0; k < h->count[len]; k++, idx++, code++) {
			unsigned i;

			if (len > FAST_BITS)
				continue;
			for (i = reverse(code, len); i < (1u << FAST_BITS); i += 1u << len)
				h->fast[i] = (uint16_t)(h->sorted[idx] << 4 | len);
		}
	return 0;
}

/* The next symbol, or -1 for a pattern the code does not have; the
 * buffer holds at least 15 bits. */
static inline int huff_decode(const struct huff *h, struct bits *b)
{
	uint64_t w = b->buf;
	unsigned e = h->fast[w & ((1u << FAST_BITS) - 1)], len;
	int code = 0, first = 0, index = 0;

	if (e) {
		drop(b, e & 15);
		return e >> 4;
	}
	/* longer than FAST_BITS (or unused): canonical decoding bit by bit */
	for (len = 1; len < 16; len++) {
		code |= (int)(w & 1);
		w >>= 1;
		if (code - first < h->count[len]) {
			drop(b, len);
			return h->sorted[index + code - first];
		}
		index += h->count[len];
		first = (first + h->count[len]) << 1;
		code <<= 1;
	}
	return -1;
}

static const uint8_t len_extra[29] = { 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2,
				       2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0 };

/* The scanner needs no symbol values, only how many bits each takes: a
 * skip table gives, for the next FAST_BITS bits, the bits of the whole
 * symbol with its extra bits, whether a literal/length symbol is a length
 * (a distance follows), or that the exact decoder must look (end of block,
 * a longer or unused code). */
#define SKIP_BITS 31u
#define SKIP_MATCH 32u
#define SKIP_SLOW 64u

struct block_codes {
	struct huff lit, dist, clen;
	uint8_t lit_skip[1u << FAST_BITS], dist_skip[1u << FAST_BITS];
	uint8_t lens[320];
};

static unsigned dist_extra(unsigned sym)
{
	return sym < 4 ? 0 : sym / 2 - 1;
}

static void skip_tables(struct block_codes *bc)
{
	unsigned i;

	for (i = 0; i < (1u << FAST_BITS); i++) {
		unsigned e = bc->lit.fast[i], sym = e >> 4, len = e & 15;

		if (!e || sym == 256 || sym > 285)
			bc->lit_skip[i] = SKIP_SLOW;
		else if (sym < 256)
			bc->lit_skip[i] = (uint8_t)len;
		else
			bc->lit_skip[i] = (uint8_t)(SKIP_MATCH | (len + len_extra[sym - 257]));
		e = bc->dist.fast[i];
		sym = e >> 4;
		len = e & 15;
		bc->dist_skip[i] = !e || sym > 29 ? SKIP_SLOW : (uint8_t)(len + dist_extra(sym));
	}
}

static int read_dynamic(struct block_codes *bc, struct bits *b)
{
	static const uint8_t order[19] = { 16, 17, 18, 0, 8, 7, 9, 6, 10, 5,
					   11, 4, 12, 3, 13, 2, 14, 1, 15 };
	unsigned hlit = take(b, 5) + 257, hdist = take(b, 5) + 1, hclen = take(b, 4) + 4;
	uint8_t cl[19] = { 0 };
	unsigned i = 0, k;

	if (hlit > 286 || hdist > 30)
		return -1;
	for (k = 0; k < hclen; k++)
		cl[order[k]] = (uint8_t)take(b, 3);
	if (huff_build(&bc->clen, cl, 19))
		return -1;
	while (i < hlit + hdist) {
		uint8_t val = 0;
		unsigned rep;
		int sym;

		refill(b);
		sym = huff_decode(&bc->clen, b);
		if (sym < 0)
			return -1;
		if (sym < 16) {
			bc->lens[i++] = (uint8_t)sym;
			continue;
		}
		if (sym == 16) {
			if (!i)
				return -1;
			val = bc->lens[i - 1];
			rep = 3 + take(b, 2);
		} else if (sym == 17) {
			rep = 3 + take(b, 3);
		} else {
			rep = 11 + take(b, 7);
		}
		if (i + rep > hlit + hdist)
			return -1;
		memset(bc->lens + i, val, rep);
		i += rep;
	}
	if (!bc->lens[256])
		return -1; /* no end-of-block code */
	if (huff_build(&bc->lit, bc->lens, hlit) || huff_build(&bc->dist, bc->lens + hlit, hdist))
		return -1;
	skip_tables(bc);
	return 0;
}

static void fixed_codes(struct block_codes *bc)
{
	unsigned i;

	for (i = 0; i < 288; i++)
		bc->lens[i] = i < 144 ? 8 : i < 256 ? 9 : i < 280 ? 7 : 8;
	huff_build(&bc->lit, bc->lens, 288);
	memset(bc->lens, 5, 30);
	huff_build(&bc->dist, bc->lens, 30);
	skip_tables(bc);
}

/* One symbol the skip tables leave to the exact decoder; 1 at the end of
 * the block, 0 to go on, -1 for a bad code. */
static int slow_symbol(const struct block_codes *bc, struct bits *b)
{
	int sym = huff_decode(&bc->lit, b);

	if (sym < 256)
		return sym < 0 ? -1 : 0;
	if (sym == 256)
		return 1;
	if (sym > 285)
		return -1;
	drop(b, len_extra[sym - 257]);
	sym = huff_decode(&bc->dist, b);
	if (sym < 0 || sym > 29)
		return -1;
	drop(b, dist_extra((unsigned)sym));
	return 0;
}

/* Walk the symbols of one Huffman-coded block up to its end code.  Each
 * turn takes a literal/length symbol and, only for a length, the distance
 * the table lookup has ready anyway: no branch on which it was. */
static int skip_symbols(const struct block_codes *bc, struct bits *b)
{
	const unsigned mask = (1u << FAST_BITS) - 1;

	for (;;) {
		unsigned e, d, match;

		refill(b);
		if (b->over > 8)
			return -1; /* ran past the end */
		e = bc->lit_skip[b->buf & mask];
		if (e & SKIP_SLOW) {
			int r = slow_symbol(bc, b);

			if (r)
				return r > 0 ? 0 : -1;
			continue;
		}
		drop(b, e & SKIP_BITS);
		d = bc->dist_skip[b->buf & mask];
		match = 0u - ((e & SKIP_MATCH) >> 5);
		if (d & SKIP_SLOW & match) {
			int sym = huff_decode(&bc->dist, b);

			if (sym < 0 || sym > 29)
				return -1;
			drop(b, dist_extra((unsigned)sym));
			continue;
		}
		drop(b, d & SKIP_BITS & match);
	}
}

/* Bit positions of the last block's header and of the stream's end in a
 * complete raw deflate stream of n bytes; 0, or -1 if it is not one. */
static int last_block(const uint8_t *p, size_t n, uint64_t *hdr, uint64_t *end)
{
	struct block_codes *bc = malloc(sizeof(*bc));
	struct bits b = { p, p, p + n, 0, 0, 0 };
	int fixed_ready = 0, final = 0, ret = 0;

	if (!bc)
		return -1;
	while (!final && !ret) {
		unsigned type;

		refill(&b);
		*hdr = bitpos(&b);
		final = (int)take(&b, 1);
		type = take(&b, 2);
		if (type == 0) {
			uint32_t len, nlen;
			uint64_t at;

			drop(&b, b.cnt % 8); /* to the byte boundary */
			len = take(&b, 16);
			nlen = take(&b, 16);
			at = bitpos(&b) / 8;
			if ((len ^ 0xffffu) != nlen || at + len > n) {
				ret = -1;
				break;
			}
			/* skip the bytes: restart the reader after them */
			b.p = p + at + len;
			b.over = 0;
			b.buf = 0;
			b.cnt = 0;
		} else if (type == 1) {
			if (!fixed_ready)
				fixed_codes(bc);
			fixed_ready = 1;
			ret = skip_symbols(bc, &b);
		} else if (type == 2) {
			fixed_ready = 0;
			ret = read_dynamic(bc, &b);
			if (!ret)
				ret = skip_symbols(bc, &b);
		} else {
			ret = -1;
		}
		if (bitpos(&b) > (uint64_t)n * 8)
			ret = -1;
	}
	free(bc);
	*end = bitpos(&b);
	return ret;
}

/* Make a complete raw stream of n bytes at p a piece that does not end its
 * stream: clear the last block's final bit, then an empty stored block (3
 * header bits, padding, 00 00 ff ff) ends it on a byte boundary.  Needs 5
 * bytes of room after the stream; returns the new length, or 0. */
static size_t unfinish(uint8_t *p, size_t n)
{
	uint64_t hdr, end;

	if (last_block(p, n, &hdr, &end) || (end + 7) / 8 != n)
		return 0;
	p[hdr / 8] &= (uint8_t)~(1u << (hdr % 8));
	if (end % 8)
		p[n - 1] &= (uint8_t)((1u << (end % 8)) - 1); /* padding bits zero */
	n = (size_t)((end + 3 + 7) / 8);
	if (end % 8 == 0 || end % 8 > 5)
		p[n - 1] = 0; /* the stored header took a byte of its own */
	memcpy(p + n, "\x00\x00\xff\xff", 4);
	return n + 4;
}

/* ---- compression ---- */

static struct libdeflate_compressor *compressor(struct soft_scratch *s, unsigned level)
{
	struct libdeflate_compressor **c = &s->ldc[level - SOFT_LD_LEVEL_MIN];

	if (!*c)
		*c = libdeflate_alloc_compressor((int)level);
	return *c;
}

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

static uint32_t get_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint32_t get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static size_t header_len(unsigned framing)
{
	return framing == WD_COMP_GZIP ? 10 : framing == WD_COMP_ZLIB ? 2 : 0;
}

static size_t trailer_len(unsigned framing)
{
	return framing == WD_COMP_GZIP ? 8 : framing == WD_COMP_ZLIB ? 4 : 0;
}

/* Bytes of len bytes as stored blocks with their framing. */
static size_t stored_size(size_t len, unsigned framing)
{
	size_t blocks = len ? (len + STORED_MAX - 1) / STORED_MAX : 1;

	return header_len(framing) + len + 5 * blocks + trailer_len(framing);
}

/* Incompressible data that libdeflate's output (plus the slack it wants)
 * does not fit: stored blocks, as any deflate writes such data, within
 * wd_comp_bound() always.  final: the last block ends the stream. */
static size_t write_stored(uint8_t *dst, const uint8_t *src, size_t len, unsigned framing,
			   int final, uint32_t checksum)
{
	static const uint8_t gz_hdr[10] = { 0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff };
	size_t o = 0, k, total = len;

	if (framing == WD_COMP_GZIP) {
		memcpy(dst, gz_hdr, sizeof(gz_hdr));
		o = sizeof(gz_hdr);
	} else if (framing == WD_COMP_ZLIB) {
		dst[o++] = 0x78; /* deflate, 32 KiB window */
		dst[o++] = 0x01; /* fastest, no dictionary; (0x78 << 8 | 1) % 31 == 0 */
	}
	do {
		k = len < STORED_MAX ? len : STORED_MAX;
		dst[o++] = (uint8_t)(final && k == len);
		dst[o++] = (uint8_t)k;
		dst[o++] = (uint8_t)(k >> 8);
		dst[o++] = (uint8_t)~k;
		dst[o++] = (uint8_t)(~k >> 8);
		memcpy(dst + o, src, k);
		o += k;
		src += k;
		len -= k;
	} while (len);
	if (framing == WD_COMP_GZIP) {
		put_le32(dst + o, checksum);
		put_le32(dst + o + 4, (uint32_t)total); /* ISIZE */
		o += 8;
	} else if (framing == WD_COMP_ZLIB) {
		put_be32(dst + o, checksum);
		o += 4;
	}
	return o;
}

int soft_ld_compress(struct soft_scratch *s, const void *src, uint32_t len, void *dst,
		     uint32_t dst_len, unsigned level, unsigned framing, int final, unsigned flags,
		     wd_cqe *c)
{
	static const uint8_t none;
	struct libdeflate_compressor *ldc;
	const uint8_t *in = len ? src : &none;
	uint8_t *out = dst;
	size_t n, room = final ? dst_len : dst_len > 4 ? dst_len - 5 : 0;
	uint32_t checksum;

	if (flags & SOFT_LD_F_DICT)
		return -EOPNOTSUPP; /* libdeflate has no preset dictionary */
	ldc = compressor(s, level);
	if (!ldc)
		return -ENOMEM;
	if (framing == WD_COMP_GZIP)
		n = libdeflate_gzip_compress(ldc, in, len, out, room);
	else if (framing == WD_COMP_ZLIB)
		n = libdeflate_zlib_compress(ldc, in, len, out, room);
	else
		n = libdeflate_deflate_compress(ldc, in, len, out, room);
	if (n && framing == WD_COMP_GZIP)
		checksum = get_le32(out + n - 8);
	else if (n && framing == WD_COMP_ZLIB)
		checksum = get_be32(out + n - 4);
	else
		checksum = framing == WD_COMP_ZLIB || flags & SOFT_LD_F_ADLER ?
			   libdeflate_adler32(1, in, len) : crc32_gzip_refl(0, in, len);
	if (!n) {
		/* Too little room for libdeflate: stored blocks if they fit
		 * (a non-final piece of them ends byte aligned as it is). */
		if (stored_size(len, framing) > dst_len) {
			c->result = wd_comp_bound(len);
			return -ENOSPC;
		}
		n = write_stored(out, in, len, framing, final, checksum);
		s->fallbacks |= 1u << SOFT_FB_DEFLATE_STORED;
	} else if (!final) {
		n = unfinish(out, n);
		if (!n)
			return -EIO; /* libdeflate wrote what the scanner cannot read */
	}
	c->result = n;
	c->aux = (uint64_t)checksum << 32 | len;
	c->flags = final ? WD_CPL_F_END : 0;
	return 0;
}

/* Room for the gathered input and libdeflate's output of it. */
static int gather_room(struct soft_scratch *s, size_t in_len, size_t out_len)
{
	if (s->ld_in_len < in_len) {
		free(s->ld_in);
		s->ld_in = malloc(in_len ? in_len : 1);
		s->ld_in_len = s->ld_in ? in_len : 0;
	}
	if (s->ld_out_len < out_len) {
		free(s->ld_out);
		s->ld_out = malloc(out_len);
		s->ld_out_len = s->ld_out ? out_len : 0;
	}
	return s->ld_in && s->ld_out ? 0 : -ENOMEM;
}

static void gather_trim(struct soft_scratch *s)
{
	if (s->ld_in_len > KEEP_MAX) {
		free(s->ld_in);
		s->ld_in = NULL;
		s->ld_in_len = 0;
	}
	if (s->ld_out_len > KEEP_MAX) {
		free(s->ld_out);
		s->ld_out = NULL;
		s->ld_out_len = 0;
	}
}

int soft_ld_compress_sg(struct soft_scratch *s, const struct soft_seg_list *in, uint64_t total,
			const struct soft_seg_list *out, uint64_t out_total, unsigned level,
			unsigned framing, wd_cqe *c)
{
	uint64_t o = 0, left;
	uint32_t i;
	int ret;

	/* output room: what the caller offers, at most the bound of the input */
	left = out_total < wd_comp_bound(total) ? out_total : wd_comp_bound(total);
	ret = gather_room(s, total, left);
	if (ret)
		return ret;
	for (i = 0; i < in->n; i++) {
		memcpy(s->ld_in + o, in->v[i].p, in->v[i].len);
		o += in->v[i].len;
	}
	ret = soft_ld_compress(s, s->ld_in, (uint32_t)total, s->ld_out, (uint32_t)left, level,
			       framing, 1, 0, c);
	if (!ret) {
		const uint8_t *p = s->ld_out;

		left = c->result;
		for (i = 0; i < out->n && left; i++) {
			uint64_t k = out->v[i].len < left ? out->v[i].len : left;

			memcpy(out->v[i].p, p, k);
			p += k;
			left -= k;
		}
	}
	gather_trim(s);
	return ret;
}

void soft_ld_scratch_free(struct soft_scratch *s)
{
	unsigned i;

	for (i = 0; i < SOFT_LD_NLEVELS; i++)
		libdeflate_free_compressor(s->ldc[i]);
	free(s->ld_in);
	free(s->ld_out);
}
