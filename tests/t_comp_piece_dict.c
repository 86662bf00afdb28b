/* A piece's preset dictionary is used for matching at ISA-L's levels (0-3):
 * a piece equal to its dictionary comes out a small fraction of its size
 * (it used to come out as if there were none: ISA-L's one-shot path ignores
 * a dictionary), zlib restores it given the dictionary, finished or ended
 * by a full flush.  Incompressible data in the space of stored blocks
 * still completes and restores.  libdeflate's
 * levels take no dictionary (-EOPNOTSUPP). */
#include "t_zlib.h"

#define LEN 20000

static unsigned char dict[LEN], noise[1u << 16], out[(1u << 16) + 1024], back[1u << 16];

/* Raw inflate with a preset dictionary; the bytes restored. */
static size_t zraw(const unsigned char *in, size_t len, const unsigned char *d, size_t dlen,
		   unsigned char *o, size_t cap)
{
	z_stream z = { 0 };
	size_t n;

	T_EQ(inflateInit2(&z, -15), Z_OK);
	T_EQ(inflateSetDictionary(&z, d, (uInt)dlen), Z_OK);
	z.next_in = (Bytef *)(uintptr_t)in;
	z.avail_in = (uInt)len;
	z.next_out = o;
	z.avail_out = (uInt)cap;
	T_ASSERT(inflate(&z, Z_SYNC_FLUSH) >= 0);
	T_EQ(z.avail_in, 0);
	n = z.total_out;
	inflateEnd(&z);
	return n;
}

static size_t piece(struct wd_queue *q, const unsigned char *src, size_t len, size_t cap,
		    unsigned level, enum wd_comp_flush fl)
{
	struct wd_req r;
	struct wd_cpl c;

	wd_prep_compress_piece(&r, out, (uint32_t)cap, src, (uint32_t)len, level, fl, dict, LEN);
	c = t_run(q, &r);
	T_EQ(c.status, 0);
	return c.result;
}

int main(void)
{
	struct wd_ctx *ctx = t_ctx(1, 0);
	struct wd_queue *q = t_queue(ctx, "deflate", 4);
	struct wd_queue_stats st = { .size = sizeof(st) };
	uint64_t seed = t_seed();
	struct wd_req r;
	unsigned level, k;
	size_t i, n;

	for (i = 0; i < LEN; i++) /* 37 symbols: about 5.2 bits each alone */
		dict[i] = (unsigned char)"abcdefghijklmnopqrstuvwxyz0123456789 "[t_rand(&seed) % 37];
	for (i = 0; i < sizeof(noise); i++)
		noise[i] = (unsigned char)t_rand(&seed);
	for (level = 0; level <= WD_COMP_STREAM_LEVEL_MAX; level++)
		for (k = 0; k < 2; k++) {
			enum wd_comp_flush fl = k ? WD_COMP_FULL_FLUSH : WD_COMP_FINISH;

			n = piece(q, dict, LEN, wd_comp_bound(LEN), level, fl);
			printf("level %u, %s: %d bytes to %zu with itself as dictionary\n", level,
			       k ? "full flush" : "finish", LEN, n);
			T_ASSERT(n < LEN / 20);
			T_EQ(zraw(out, n, dict, LEN, back, sizeof(back)), (size_t)LEN);
			T_ASSERT(!memcmp(back, dict, LEN));
		}
	/* incompressible, in the space of stored blocks: done without the
	 * dictionary */
	n = piece(q, noise, sizeof(noise), sizeof(noise) + 16, 1, WD_COMP_FINISH);
	T_EQ(zraw(out, n, dict, LEN, back, sizeof(back)), sizeof(noise));
	T_ASSERT(!memcmp(back, noise, sizeof(noise)));
	/* counted if it took the fall-back (ISA-L's stream path mostly writes
	 * stored blocks itself there): never an error */
	T_OK(wd_queue_stats(q, &st));
	T_EQ(st.errors, 0);
	/* libdeflate's levels: no dictionary */
	wd_prep_compress_piece(&r, out, sizeof(out), dict, LEN, 6, WD_COMP_FINISH, dict, LEN);
	T_EQ(t_run(q, &r).status, -EOPNOTSUPP);
	wd_queue_free(q);
	wd_ctx_free(ctx);
	return 0;
}
