/* SPDX-License-Identifier: MIT */
/*
 * The first bytes of a zlib or gzip stream, judged as zlib judges them.
 * ISA-L waits for more of a header before it looks at it, so a short input
 * with a broken header came back "truncated" where zlib says "corrupt":
 * a differential fuzz run against zlib found it.  zlib takes a header's
 * bytes in pairs (CMF+FLG; ID1+ID2, then CM+FLG), so a verdict is given
 * only once the whole pair is in: a lone first byte is not judged.
 */
#include <errno.h>
#include <string.h>
#include <isa-l/crc.h>
#include <wd/comp.h>

#include "soft.h"

/* RFC 1950 CMF+FLG: check bits, method 8, window no larger than allowed.
 * A preset dictionary (FDICT) is left to the decoder. */
static int zlib_pair_ok(const uint8_t *b, unsigned wbits)
{
	unsigned max = wbits ? wbits : 15;

	return ((b[0] << 8) | b[1]) % 31 == 0 && (b[0] & 0x0f) == 8 && (b[0] >> 4) + 8u <= max;
}

/* RFC 1952: magic 1f 8b, then method 8 and no reserved FLG bit (5-7). */
static int gzip_pair_ok(const uint8_t *b, unsigned pair)
{
	return pair == 0 ? b[0] == 0x1f && b[1] == 0x8b : b[2] == 8 && !(b[3] & 0xe0);
}

int soft_wrap_hdr_ok(struct soft_wrap_hdr *h, unsigned framing, unsigned wbits, const uint8_t *p,
		     uint32_t len)
{
	unsigned need = framing == WD_COMP_GZIP ? 4 : framing == WD_COMP_ZLIB ? 2 : 0;

	for (; h->seen < need && len; len--) {
		h->b[h->seen++] = *p++;
		if (h->seen % 2)
			continue;
		if (framing == WD_COMP_ZLIB ? !zlib_pair_ok(h->b, wbits)
					    : !gzip_pair_ok(h->b, h->seen / 2 - 1))
			return 0;
	}
	return 1;
}

/*
 * A whole gzip member header, parsed for streams.  ISA-L parses it too, but
 * when a header arrives in pieces and a piece ends inside FNAME, it forgets
 * on the next call that FCOMMENT or FHCRC follow (it keeps the flags in a
 * structure it makes afresh per call) and decodes the comment as deflate
 * data: valid streams fed in small pieces were refused.  So streams parse
 * the header here and hand ISA-L the rest as a gzip body
 * (ISAL_GZIP_NO_HDR_VER: the trailer is still checked).
 */
enum { GZ_FIXED, GZ_XLEN, GZ_EXTRA, GZ_NAME, GZ_COMMENT, GZ_HCRC, GZ_DONE };
#define GZ_FHCRC 0x02
#define GZ_FEXTRA 0x04
#define GZ_FNAME 0x08
#define GZ_FCOMMENT 0x10

/* The first field after the one just finished, by FLG. */
static uint8_t gz_next(uint8_t flg, uint8_t done)
{
	if (done < GZ_XLEN && (flg & GZ_FEXTRA))
		return GZ_XLEN;
	if (done < GZ_NAME && (flg & GZ_FNAME))
		return GZ_NAME;
	if (done < GZ_COMMENT && (flg & GZ_FCOMMENT))
		return GZ_COMMENT;
	if (done < GZ_HCRC && (flg & GZ_FHCRC))
		return GZ_HCRC;
	return GZ_DONE;
}

/* One byte of a fixed-size field (the 10-byte base, XLEN, the CRC16). */
static int gz_fixed_byte(struct soft_gz_hdr *h, uint8_t c)
{
	h->b[h->n++] = c;
	switch (h->state) {
	case GZ_FIXED:
		if ((h->n == 2 || h->n == 4) && !gzip_pair_ok(h->b, h->n / 2 - 1))
			return -1;
		if (h->n == 10) {
			h->flg = h->b[3];
			h->state = gz_next(h->flg, GZ_FIXED);
			h->n = 0;
		}
		return 0;
	case GZ_XLEN:
		if (h->n == 2) {
			h->left = (uint16_t)(h->b[0] | h->b[1] << 8);
			h->state = h->left ? GZ_EXTRA : gz_next(h->flg, GZ_EXTRA);
			h->n = 0;
		}
		return 0;
	}
	/* GZ_HCRC: RFC 1952's CRC16 is the low half of the header's CRC-32 */
	if (h->n == 2) {
		if ((h->crc & 0xffff) != (uint32_t)(h->b[0] | h->b[1] << 8))
			return -1;
		h->state = GZ_DONE;
	}
	return 0;
}

int soft_gz_hdr_feed(struct soft_gz_hdr *h, const uint8_t *p, uint32_t len, uint32_t *used)
{
	uint32_t i = 0;

	while (i < len && h->state != GZ_DONE) {
		const uint8_t *z;
		uint32_t take;

		switch (h->state) {
		case GZ_EXTRA:
			take = len - i < h->left ? len - i : h->left;
			i += take;
			h->left = (uint16_t)(h->left - take);
			if (!h->left)
				h->state = gz_next(h->flg, GZ_EXTRA);
			break;
		case GZ_NAME:
		case GZ_COMMENT:
			z = memchr(p + i, 0, len - i);
			i = z ? (uint32_t)(z - p) + 1 : len;
			if (z)
				h->state = gz_next(h->flg, h->state);
			break;
		default:
			if (h->state == GZ_HCRC && !h->crc_done) {
				/* the CRC covers what came before it */
				h->crc = crc32_gzip_refl(h->crc, p, i);
				h->crc_done = 1;
			}
			if (gz_fixed_byte(h, p[i++])) {
				*used = i;
				return -EBADMSG;
			}
		}
	}
	if (!h->crc_done && (h->flg & GZ_FHCRC || h->state == GZ_FIXED))
		h->crc = crc32_gzip_refl(h->crc, p, i);
	*used = i;
	return h->state == GZ_DONE;
}
