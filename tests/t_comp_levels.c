/* Every engine level, ISA-L's (0-3) and libdeflate's (4-12), in every
 * framing, checked with zlib; gzip's ratio at zlib levels 6-9 through
 * wd_comp_level_from_zlib(); raw pieces at libdeflate's levels that
 * concatenate into one stream (the final bit cleared, the full-flush
 * ending appended), incompressible ones included; scatter-gather at those
 * levels; what they refuse (streams, dictionaries) and the statuses of
 * one-shot decompression, which libdeflate tries first: -ENOSPC with the
 * exact size, -ENODATA truncated, -EBADMSG corrupt, exact consumed bytes.
 * argv[1]: the corpus directory. */
#include <wd/mem.h>
#include "t_zlib.h"

#define GUARD 64

static unsigned char *load_corpus(const char *dir, size_t *total, size_t *lens)
{
	size_t n = sizeof(t_corpus_files) / sizeof(t_corpus_files[0]), i, len;
	unsigned char *all = NULL, *p;

	*total = 0;
	for (i = 0; i < n; i++) {
		char path[512];

		snprintf(path, sizeof(path), "%s/%s", dir, t_corpus_files[i]);
		p = t_read_file(path, &len);
		if (!p)
			T_FAIL("corpus file %s unreadable", path);
		all = realloc(all, *total + len);
		T_ASSERT(all);
		memcpy(all + *total, p, len);
		*total += len;
		lens[i] = len;
		free(p);
	}
	return all;
}

/* gzip: the one-shot size at engine level `level`, checked with zlib */
static size_t wd_size(struct wd_queue *q, const unsigned char *in, size_t len, unsigned level,
		      enum wd_comp_framing f, unsigned char *comp, unsigned char *out)
{
	struct wd_req r;
	struct wd_cpl c;
	size_t dlen;

	wd_prep_compress(&r, comp, (uint32_t)wd_comp_bound(len), in, (uint32_t)len, level, f);
	c = t_run(q, &r);
	if (c.status)
		T_FAIL("level %u framing %u: %d", level, f, c.status);
	T_EQ(c.flags, WD_CPL_F_END);
	T_EQ(wd_cpl_consumed(&c), len);
	T_EQ(wd_cpl_checksum(&c), t_zcheck(f, in, len));
	T_EQ(t_zinflate(f, comp, c.result, out, len + 1, &dlen), Z_STREAM_END);
	T_EQ(dlen, len);
	T_ASSERT(!memcmp(in, out, len));
	return c.result;
}

/* Pieces of `piece` bytes at `level`, no dictionary, between a gzip header
 * and trailer: one member that zlib decodes in one go. */
static void pieces(struct wd_queue *q, const unsigned char *in, size_t len, size_t piece,
		   unsigned level, int sync, unsigned char *comp, unsigned char *out)
{
	static const unsigned char hdr[10] = { 0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3 };
	size_t pos = 0, o = sizeof(hdr), dlen;
	uLong crc = crc32(0, NULL, 0);
	z_stream z = { 0 };

	memcpy(comp, hdr, sizeof(hdr));
	do {
		size_t k = len - pos < piece ? len - pos : piece;
		int last = pos + k == len;
		struct wd_req r;
		struct wd_cpl c;

		wd_prep_compress_piece(&r, comp + o, (uint32_t)wd_comp_bound(k), in + pos,
				       (uint32_t)k, level,
				       last ? WD_COMP_FINISH
					    : sync ? WD_COMP_SYNC_FLUSH : WD_COMP_FULL_FLUSH,
				       NULL, 0);
		c = t_run(q, &r);
		T_EQ(c.status, 0);
		T_EQ(c.flags, last ? WD_CPL_F_END : 0u);
		T_EQ(wd_cpl_consumed(&c), k);
		T_EQ(wd_cpl_checksum(&c), (uint32_t)crc32(0, in + pos, (uInt)k));
		if (!last) /* a full flush ends the piece: empty stored block */
			T_ASSERT(c.result >= 4 &&
				 !memcmp(comp + o + c.result - 4, "\x00\x00\xff\xff", 4));
		crc = crc32_combine(crc, wd_cpl_checksum(&c), (z_off_t)k);
		o += c.result;
		pos += k;
	} while (pos < len);
	for (int i = 0; i < 4; i++) {
		comp[o++] = (unsigned char)(crc >> (8 * i));
	}
	for (int i = 0; i < 4; i++)
		comp[o++] = (unsigned char)(len >> (8 * i));
	/* one member: zlib ends exactly at its end */
	T_EQ(inflateInit2(&z, 31), Z_OK);
	z.next_in = comp;
	z.avail_in = (uInt)o;
	z.next_out = out;
	z.avail_out = (uInt)len + 1;
	T_EQ(inflate(&z, Z_FINISH), Z_STREAM_END);
	T_EQ(z.total_in, o);
	dlen = z.total_out;
	inflateEnd(&z);
	T_EQ(dlen, len);
	T_ASSERT(!memcmp(in, out, len));
	/* and the engine decodes it too */
	dlen = len;
	T_OK(wd_decompress(q, comp, o, out, &dlen, WD_COMP_GZIP));
	T_EQ(dlen, len);
	T_ASSERT(!memcmp(in, out, len));
}

static void sizes_vs_zlib(struct wd_queue *q, const unsigned char *all, const size_t *lens,
			  size_t nfiles, unsigned char *comp, unsigned char *out)
{
	int zl;

	for (zl = 6; zl <= 9; zl++) {
		size_t wd = 0, zs = 0, i, off = 0;
		unsigned level = wd_comp_level_from_zlib(zl);

		for (i = 0; i < nfiles; off += lens[i++]) {
			wd += wd_size(q, all + off, lens[i], level, WD_COMP_GZIP, comp, out);
			zs += t_zdeflate(WD_COMP_GZIP, zl, all + off, lens[i], comp,
					 wd_comp_bound(lens[i]));
		}
		printf("zlib -%d: %zu bytes; engine level %u: %zu bytes (%+.2f%%)\n", zl, zs, level,
		       wd, 100.0 * ((double)wd / (double)zs - 1));
		if ((double)wd > 1.01 * (double)zs)
			T_FAIL("level %u is more than 1%% larger than zlib -%d", level, zl);
	}
}

static void refused(struct wd_queue *q, const unsigned char *in, unsigned char *comp)
{
	struct wd_comp_stream *s;
	struct wd_req r;

	/* streams: libdeflate has none */
	T_EQ(wd_comp_stream_new(&s, q, WD_COMPRESS, WD_COMP_GZIP, 4), -EOPNOTSUPP);
	T_EQ(wd_comp_stream_new(&s, q, WD_COMPRESS, WD_COMP_GZIP,
				wd_comp_level_from_zlib(9)), -EOPNOTSUPP);
	T_OK(wd_comp_stream_new(&s, q, WD_COMPRESS, WD_COMP_GZIP,
				wd_comp_stream_level_from_zlib(9)));
	wd_comp_stream_free(s);
	/* the raw request, as another client would send it */
	wd_prep_compress(&r, comp, 65536, in, 1000, 6, WD_COMP_RAW);
	r.session = 1;
	r.param = WD_COMP_P_LEVEL(6) | WD_COMP_P_FRAMING(WD_COMP_RAW) |
		  WD_COMP_P_FLUSH(WD_COMP_NO_FLUSH) | WD_COMP_P_START;
	T_EQ(t_run(q, &r).status, -EOPNOTSUPP);
	/* pieces with a dictionary: libdeflate has no preset dictionary */
	wd_prep_compress_piece(&r, comp, 65536, in + 32768, 1000, 6, WD_COMP_FULL_FLUSH, in,
			       32768);
	T_EQ(t_run(q, &r).status, -EOPNOTSUPP);
	/* levels past the top */
	wd_prep_compress(&r, comp, 65536, in, 1000, WD_COMP_LEVEL_MAX + 1, WD_COMP_RAW);
	T_EQ(t_run(q, &r).status, -EINVAL);
}

static void scatter_gather(struct wd_queue *q, const unsigned char *in, size_t len,
			   unsigned char *comp, unsigned char *out)
{
	struct wd_range src[3], dst[3];
	size_t cap = wd_comp_bound(len), dlen, a = len / 3, b = len / 2;
	unsigned f;

	src[0] = (struct wd_range){ (uintptr_t)in, a };
	src[1] = (struct wd_range){ (uintptr_t)(in + a), 0 };
	src[2] = (struct wd_range){ (uintptr_t)(in + a), len - a };
	for (f = WD_COMP_RAW; f <= WD_COMP_GZIP; f++) {
		struct wd_req r;
		struct wd_cpl c;

		dst[0] = (struct wd_range){ (uintptr_t)comp, 1000 };
		dst[1] = (struct wd_range){ (uintptr_t)(comp + 1000), b };
		dst[2] = (struct wd_range){ (uintptr_t)(comp + 1000 + b), cap - 1000 - b };
		wd_prep_compress_sg(&r, (uintptr_t)dst, 3, (uintptr_t)src, 3, 7,
				    (enum wd_comp_framing)f);
		c = t_run(q, &r);
		T_EQ(c.status, 0);
		T_EQ(wd_cpl_consumed(&c), len);
		T_EQ(wd_cpl_checksum(&c), t_zcheck(f, in, len));
		T_EQ(t_zinflate(f, comp, c.result, out, len + 1, &dlen), Z_STREAM_END);
		T_EQ(dlen, len);
		T_ASSERT(!memcmp(in, out, len));
		/* too little room in the segments */
		dst[2].len = 10;
		wd_prep_compress_sg(&r, (uintptr_t)dst, 1, (uintptr_t)src, 3, 7,
				    (enum wd_comp_framing)f);
		c = t_run(q, &r);
		T_EQ(c.status, -ENOSPC);
		T_ASSERT(c.result >= 1000);
	}
	(void)b;
}

/* One-shot decompression (libdeflate first, ISA-L for the rest): statuses. */
static void decode_statuses(struct wd_queue *q, const unsigned char *in, size_t n,
			    unsigned char *comp, unsigned char *out, uint64_t *seed)
{
	unsigned f;

	for (f = WD_COMP_RAW; f <= WD_COMP_GZIP; f++) {
		size_t clen = wd_comp_bound(n), dlen, cut, i;
		struct wd_req r;
		struct wd_cpl c;

		T_OK(wd_compress(q, in, n, comp, &clen, 6, f));
		/* too small: the exact size, nothing written past the end */
		dlen = n / 2;
		memset(out + dlen, 0xEE, GUARD);
		T_EQ(wd_decompress(q, comp, clen, out, &dlen, f), -ENOSPC);
		T_EQ(dlen, n);
		for (i = 0; i < GUARD; i++)
			T_EQ(out[n / 2 + i], 0xEE);
		dlen = n - 1;
		T_EQ(wd_decompress(q, comp, clen, out, &dlen, f), -ENOSPC);
		T_EQ(dlen, n);
		/* exactly enough, and trailing bytes left unconsumed */
		memset(comp + clen, 0x77, 16);
		wd_prep_decompress(&r, out, (uint32_t)n, comp, (uint32_t)clen + 16, f);
		c = t_run(q, &r);
		T_EQ(c.status, 0);
		T_EQ(c.result, n);
		T_EQ(wd_cpl_consumed(&c), clen);
		T_EQ(wd_cpl_checksum(&c), t_zcheck(f, in, n));
		T_ASSERT(!memcmp(in, out, n));
		/* truncated: -ENODATA (or -EBADMSG where the cut makes a bad code) */
		for (cut = 0; cut < clen; cut += cut < 32 || cut > clen - 32 ? 1 : 301) {
			int st;

			dlen = n;
			st = wd_decompress(q, comp, cut, out, &dlen, f);
			if (st != -ENODATA && st != -EBADMSG)
				T_FAIL("framing %u cut %zu/%zu: %d", f, cut, clen, st);
		}
		/* a cut in the middle of the data is -ENODATA */
		dlen = n;
		T_EQ(wd_decompress(q, comp, clen / 2, out, &dlen, f), -ENODATA);
		/* corrupt: a damaged checksum is -EBADMSG */
		if (f != WD_COMP_RAW) {
			comp[clen - (f == WD_COMP_GZIP ? 6 : 2)] ^= 0x10;
			dlen = n;
			T_EQ(wd_decompress(q, comp, clen, out, &dlen, f), -EBADMSG);
			comp[clen - (f == WD_COMP_GZIP ? 6 : 2)] ^= 0x10;
		}
		/* an invalid block type right away */
		comp[f == WD_COMP_GZIP ? 10 : f == WD_COMP_ZLIB ? 2 : 0] |= 6;
		dlen = n;
		T_EQ(wd_decompress(q, comp, clen, out, &dlen, f), -EBADMSG);
		/* bit flips: a clear status, never a crash */
		for (i = 0; i < 300; i++) {
			size_t clen2 = wd_comp_bound(n);
			int st;

			T_OK(wd_compress(q, in, n, comp, &clen2, 6, f));
			comp[t_rand(seed) % clen2] ^= (unsigned char)(1u << (t_rand(seed) % 8));
			dlen = n;
			st = wd_decompress(q, comp, clen2, out, &dlen, f);
			T_ASSERT(st == 0 || st == -EBADMSG || st == -ENODATA || st == -ENOSPC);
		}
	}
	/* multi-member gzip: one member per request, the sizes of all */
	{
		size_t m1 = wd_comp_bound(n), m2, dlen;

		T_OK(wd_compress(q, in, 3000, comp, &m1, 9, WD_COMP_GZIP));
		m2 = wd_comp_bound(n) - m1;
		T_OK(wd_compress(q, in + 3000, 7000, comp + m1, &m2, 5, WD_COMP_GZIP));
		dlen = 4000;
		T_EQ(wd_decompress(q, comp, m1 + m2, out, &dlen, WD_COMP_GZIP), -ENOSPC);
		T_EQ(dlen, 10000);
		T_OK(wd_decompress(q, comp, m1 + m2, out, &dlen, WD_COMP_GZIP));
		T_EQ(dlen, 10000);
		T_ASSERT(!memcmp(in, out, 10000));
	}
}

int main(int argc, char **argv)
{
	const char *dir = argc > 1 ? argv[1] : "corpus";
	size_t nfiles = sizeof(t_corpus_files) / sizeof(t_corpus_files[0]), total, lens[16];
	uint64_t seed = t_seed();
	struct wd_ctx *ctx = t_ctx(2, 0);
	struct wd_queue *q = t_queue(ctx, "gzip", 8);
	unsigned char *all = load_corpus(dir, &total, lens), *comp, *out, *rnd;
	const size_t n = 1 << 20;
	unsigned level, f;

	comp = malloc(wd_comp_bound(total) + GUARD);
	out = malloc(total + GUARD);
	rnd = malloc(n);
	T_ASSERT(comp && out && rnd);
	t_fill_random(rnd, n, &seed);

	/* every level and framing: a text file, the JPEG, empty input */
	for (level = 0; level <= WD_COMP_LEVEL_MAX; level++)
		for (f = WD_COMP_RAW; f <= WD_COMP_GZIP; f++) {
			size_t clen;

			wd_size(q, all, lens[0], level, f, comp, out);
			wd_size(q, all + lens[0] + lens[1], lens[2], level, f, comp, out);
			wd_size(q, all, 0, level, f, comp, out);
			/* incompressible: within wd_comp_bound(), nothing past it */
			clen = wd_comp_bound(n);
			memset(comp + clen, 0xEE, GUARD);
			T_OK(wd_compress(q, rnd, n, comp, &clen, level, f));
			T_ASSERT(clen <= wd_comp_bound(n));
			for (size_t i = 0; i < GUARD; i++)
				T_EQ(comp[wd_comp_bound(n) + i], 0xEE);
			/* too small: -ENOSPC, the size named works */
			if (level >= 4) {
				size_t small = 1000;

				memset(comp + small, 0xEE, GUARD);
				T_EQ(wd_compress(q, all, lens[0], comp, &small, level, f), -ENOSPC);
				T_EQ(comp[1000], 0xEE);
				T_ASSERT(small >= 1000);
				T_OK(wd_compress(q, all, lens[0], comp, &small, level, f));
			}
		}
	fprintf(stderr, "levels 0..%d ok\n", WD_COMP_LEVEL_MAX);

	sizes_vs_zlib(q, all, lens, nfiles, comp, out);

	/* pieces: the corpus in 1 MiB and 100 KB pieces, text and random ones,
	 * tiny and empty last pieces */
	pieces(q, all, total, 1 << 20, 5, 0, comp, out);
	pieces(q, all, total, 100000, 7, 1, comp, out);
	pieces(q, rnd, n, 300000, 6, 0, comp, out);
	pieces(q, all, 3 * 65536, 65536, 4, 0, comp, out);
	pieces(q, all, 2 * 65536 + 1, 65536, 12, 0, comp, out);
	fprintf(stderr, "pieces ok\n");

	refused(q, all, comp);
	scatter_gather(q, all, 200000, comp, out);
	decode_statuses(q, all + lens[0], 300000, comp, out, &seed);
	fprintf(stderr, "statuses ok\n");

	free(all);
	free(comp);
	free(out);
	free(rnd);
	wd_queue_free(q);
	wd_ctx_free(ctx);
	return 0;
}
