/* Every corpus file at every level and framing: compressed by WarpDrive,
 * decoded by zlib and by WarpDrive byte for byte, with the checksum in the
 * completion right; and zlib-made streams decoded by WarpDrive.
 * The corpus is part of the repository (corpus/): a missing or incomplete
 * one is a failure, never a skip. */
#include <unistd.h>
#include "t_zlib.h"

#ifndef T_CORPUS_DIR /* CTest passes the directory; the build sets this */
#define T_CORPUS_DIR "corpus"
#endif

int main(int argc, char **argv)
{
	const char *dir = argc > 1 ? argv[1] : T_CORPUS_DIR;
	struct wd_ctx *ctx;
	struct wd_queue *q;
	unsigned i, level, f;
	int zl;

	for (i = 0; i < sizeof(t_corpus_files) / sizeof(t_corpus_files[0]); i++) {
		char path[512];

		snprintf(path, sizeof(path), "%s/%s", dir, t_corpus_files[i]);
		if (access(path, R_OK))
			T_FAIL("corpus file %s: %s (the corpus is part of the repository: "
			       "corpus/README.md)", path, strerror(errno));
	}
	ctx = t_ctx(2, 0);
	q = t_queue(ctx, "gzip", 8);

	for (i = 0; i < sizeof(t_corpus_files) / sizeof(t_corpus_files[0]); i++) {
		char path[512];
		size_t len, cap, clen, dlen;
		unsigned char *in, *comp, *out;

		snprintf(path, sizeof(path), "%s/%s", dir, t_corpus_files[i]);
		in = t_read_file(path, &len);
		if (!in)
			T_FAIL("corpus file %s unreadable", path);
		cap = wd_comp_bound(len);
		comp = malloc(cap);
		out = malloc(len + 1);
		T_ASSERT(comp && out);
		for (f = WD_COMP_RAW; f <= WD_COMP_GZIP; f++) {
			for (level = 0; level <= WD_COMP_LEVEL_MAX; level++) {
				struct wd_req r;
				struct wd_cpl c;

				/* async form, to see the checksum in the completion */
				wd_prep_compress(&r, comp, (uint32_t)cap, in, (uint32_t)len, level, f);
				c = t_run(q, &r);
				T_EQ(c.status, 0);
				T_EQ(c.flags, WD_CPL_F_END);
				T_EQ(wd_cpl_consumed(&c), len);
				if (wd_cpl_checksum(&c) != t_zcheck(f, in, len))
					T_FAIL("%s framing %u level %u: checksum %08x, zlib %08x",
					       t_corpus_files[i], f, level, wd_cpl_checksum(&c),
					       t_zcheck(f, in, len));
				clen = c.result;
				T_EQ(t_zinflate(f, comp, clen, out, len + 1, &dlen), Z_STREAM_END);
				T_EQ(dlen, len);
				T_ASSERT(!memcmp(in, out, len));
				dlen = len;
				memset(out, 0, len);
				T_OK(wd_decompress(q, comp, clen, out, &dlen, f));
				T_EQ(dlen, len);
				T_ASSERT(!memcmp(in, out, len));
				if (f == WD_COMP_GZIP && level == 1)
					printf("%-16s %8zu -> %8zu (level 1, ratio %.2f)\n",
					       t_corpus_files[i], len, clen, (double)len / clen);
			}
			for (zl = 1; zl <= 9; zl += 4) {
				struct wd_req r;
				struct wd_cpl c;

				clen = t_zdeflate(f, zl, in, len, comp, cap);
				wd_prep_decompress(&r, out, (uint32_t)len, comp, (uint32_t)clen, f);
				c = t_run(q, &r);
				T_EQ(c.status, 0);
				T_EQ(c.result, len);
				T_EQ(wd_cpl_consumed(&c), clen);
				if (f != WD_COMP_RAW)
					T_EQ(wd_cpl_checksum(&c), t_zcheck(f, in, len));
				T_ASSERT(!memcmp(in, out, len));
			}
		}
		free(in);
		free(comp);
		free(out);
	}
	wd_queue_free(q);
	wd_ctx_free(ctx);
	return 0;
}
