/* The parallel-compressor protocol: pieces compressed independently (each
 * with the 32 KiB before it as dictionary, ended by a full flush, the last
 * one finished) and concatenated between a gzip header and trailer form one
 * standard gzip stream; the CRC-32 of the whole comes from the pieces' CRCs. */
#include "t_zlib.h"

int main(void)
{
	uint64_t seed = t_seed();
	struct wd_ctx *ctx = t_ctx(2, 0);
	struct wd_queue *q = t_queue(ctx, "gzip", 64);
	const size_t n = 3u << 20, piece = 128u << 10;
	size_t npieces = (n + piece - 1) / piece, cap = wd_comp_bound(piece), pos = 10, i, dlen;
	unsigned char *in = malloc(n), *comp = malloc(npieces * cap), *gz = malloc(n * 2),
		      *out = malloc(n);
	struct wd_req *r = calloc(npieces, sizeof(*r));
	struct wd_cpl *c = calloc(npieces, sizeof(*c));
	size_t *clen = calloc(npieces, sizeof(*clen));
	uint32_t *crc = calloc(npieces, sizeof(*crc)), total_crc = 0;
	static const unsigned char hdr[10] = { 0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3 };
	size_t one_shot = 2 * n;

	T_ASSERT(in && comp && gz && out && r && c && clen && crc);
	t_fill_text(in, n, &seed);
	for (i = 0; i < npieces; i++) {
		size_t off = i * piece, len = n - off < piece ? n - off : piece;
		size_t dict = off < WD_COMP_DICT_MAX ? off : WD_COMP_DICT_MAX;

		wd_prep_compress_piece(&r[i], comp + i * cap, (uint32_t)cap, in + off, (uint32_t)len, 1,
				       i + 1 == npieces ? WD_COMP_FINISH : WD_COMP_FULL_FLUSH,
				       in + off - dict, (uint32_t)dict);
		r[i].tag = i;
	}
	T_EQ(wd_send(q, r, (unsigned)npieces), (int)npieces);
	for (size_t got = 0; got < npieces;) {
		int k = wd_wait(q, c, (unsigned)npieces, 10000);

		T_ASSERT(k > 0);
		for (int j = 0; j < k; j++) {
			T_EQ(c[j].status, 0);
			clen[c[j].tag] = c[j].result;
			crc[c[j].tag] = wd_cpl_checksum(&c[j]);
		}
		got += (size_t)k;
	}
	memcpy(gz, hdr, 10);
	for (i = 0; i < npieces; i++) {
		size_t len = n - i * piece < piece ? n - i * piece : piece;

		memcpy(gz + pos, comp + i * cap, clen[i]);
		pos += clen[i];
		total_crc = (uint32_t)crc32_combine(total_crc, crc[i], (z_off_t)len);
	}
	T_EQ(total_crc, (uint32_t)crc32(0, in, (uInt)n));
	for (i = 0; i < 4; i++)
		gz[pos++] = (unsigned char)(total_crc >> (8 * i));
	for (i = 0; i < 4; i++)
		gz[pos++] = (unsigned char)(n >> (8 * i));
	T_EQ(t_zinflate(WD_COMP_GZIP, gz, pos, out, n, &dlen), Z_STREAM_END);
	T_EQ(dlen, n);
	T_ASSERT(!memcmp(in, out, n));
	/* The dictionary matters: pieces are not much worse than one stream. */
	T_OK(wd_compress(q, in, n, comp, &one_shot, 1, WD_COMP_GZIP));
	fprintf(stderr, "pieces %zu bytes, one stream %zu bytes\n", pos, one_shot);
	T_ASSERT(pos < one_shot + one_shot / 20);
	free(in);
	free(comp);
	free(gz);
	free(out);
	free(r);
	free(c);
	free(clen);
	free(crc);
	wd_queue_free(q);
	wd_ctx_free(ctx);
	return 0;
}
