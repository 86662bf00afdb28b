/* Regression: a gzip member whose header has FEXTRA, FNAME, FCOMMENT and
 * FHCRC, decoded by a stream fed 1..16 bytes at a time, gives its data
 * back.  ISA-L lost the header's flags when a piece ended inside FNAME and
 * decoded the comment as deflate data (found by fuzz_inflate's comparison
 * with zlib), so the engine parses stream headers itself.  Also: a header
 * CRC that does not match, and reserved flags, are refused in any piece
 * size, and a header cut short is "truncated". */
#include "t_zlib.h"

static const char text[] = "Header fields in pieces: the name, the comment and the CRC16.";

/* zlib writes the member, with every optional header field. */
static size_t make_member(unsigned char *out, size_t cap)
{
	static unsigned char extra[] = "XYab";
	gz_header h = { 0 };
	z_stream z = { 0 };

	h.extra = extra;
	h.extra_len = 4;
	h.name = (Bytef *)"a-file-name-longer-than-a-piece.txt";
	h.comment = (Bytef *)"a comment that follows the name";
	h.hcrc = 1;
	T_EQ(deflateInit2(&z, 6, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY), Z_OK);
	T_EQ(deflateSetHeader(&z, &h), Z_OK);
	z.next_in = (Bytef *)(uintptr_t)text;
	z.avail_in = sizeof(text);
	z.next_out = out;
	z.avail_out = (uInt)cap;
	T_EQ(deflate(&z, Z_FINISH), Z_STREAM_END);
	deflateEnd(&z);
	return z.total_out;
}

/* The stream's verdict on in[len] fed piece bytes at a time. */
static int feed(struct wd_queue *q, const unsigned char *in, size_t len, size_t piece,
		unsigned char *out, size_t *made_all)
{
	struct wd_comp_stream *s;
	size_t pos = 0, opos = 0, used, made;
	int ret = 0;

	T_OK(wd_comp_stream_new(&s, q, WD_DECOMPRESS, WD_COMP_GZIP, 0));
	while (ret == 0) {
		size_t n = len - pos < piece ? len - pos : piece;

		ret = wd_comp_stream_run(s, in + pos, n, &used, out + opos, 256 - opos, &made,
					 pos + n == len ? WD_COMP_FINISH : WD_COMP_NO_FLUSH);
		if (getenv("T_DEBUG"))
			fprintf(stderr, "pos %zu n %zu ret %d used %zu made %zu\n", pos, n, ret, used, made);
		if (ret == 0 && !used && !made)
			T_FAIL("no progress at %zu", pos);
		pos += used;
		opos += made;
	}
	wd_comp_stream_free(s);
	*made_all = opos;
	return ret;
}

int main(void)
{
	struct wd_ctx *ctx = t_ctx(1, 0);
	struct wd_queue *q = t_queue(ctx, "gzip", 0);
	unsigned char gz[512], bad[512], out[256];
	size_t len = make_member(gz, sizeof(gz)), made, piece;

	for (piece = 1; piece <= 16; piece++) {
		T_EQ(feed(q, gz, len, piece, out, &made), 1);
		T_EQ(made, sizeof(text));
		T_ASSERT(!memcmp(out, text, sizeof(text)));
		/* the CRC16 is the two bytes before the deflate data: the header
		 * is 10 + 2 + 4 + 36 + 32 bytes, then the CRC */
		memcpy(bad, gz, len);
		bad[10 + 2 + 4 + 36 + 32] ^= 1;
		T_EQ(feed(q, bad, len, piece, out, &made), -EBADMSG);
		memcpy(bad, gz, len);
		bad[3] |= 0x20; /* a reserved flag */
		T_EQ(feed(q, bad, len, piece, out, &made), -EBADMSG);
		T_EQ(feed(q, gz, 40, piece, out, &made), -ENODATA); /* ends in the name */
	}
	wd_queue_free(q);
	wd_ctx_free(ctx);
	printf("ok: gzip headers with every field, fed 1..16 bytes at a time\n");
	return 0;
}
