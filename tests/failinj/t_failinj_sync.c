/* SPDX-License-Identifier: MIT */
/*
 * Fault injection on the request-side control paths of the soft device:
 * the synchronous helpers (wd_run, wd_compress/wd_decompress), compression
 * streams and cipher sessions.  Each sequence runs twice over: with the
 * helpers inline, failing the calling thread's calls (its scratch, the
 * engine state it sets up), and with the queue ring-only, failing the
 * engine thread's (a request's resources are the engine's to get: a failure
 * there is an error completion).  argv: scenario names (globs).
 */
#include <stdlib.h>

#include "fi_lib.h"

#define TEXT_LEN (64u << 10)
#define F_RING 1u               /* queues with WD_QUEUE_F_RING_ONLY */

static unsigned char text[TEXT_LEN];

static unsigned qflags(const struct fi_scenario *sc)
{
	return (sc->flags & F_RING) ? WD_QUEUE_F_RING_ONLY : 0;
}

/*
 * Nothing is silent: a failure the sequence absorbed was a fallback, and
 * the queue's statistics count it (an inline helper without scratch went
 * through the ring).  OpenSSL keying a context that the engine's sweep of
 * closed sessions reloads is retried by the next request: no fallback.
 */
static void check_counted(struct wd_queue *q)
{
	struct wd_queue_stats st = { .size = sizeof(st) };

	if (!fi_absorbed() || !strcmp(fi_injected_fn(), "EVP_CipherInit_ex") ||
	    !strcmp(fi_injected_fn(), "soft_pctx_key"))
		return;
	FI_ASSERT(wd_queue_stats(q, &st) == 0);
	if (!st.sync_ring_nomem)
		FI_FAIL("%s failed, absorbed, and no statistic counts the fallback",
			fi_injected_fn());
}

/* wd_run of the data mover's requests. */
static void sc_run(const struct fi_scenario *sc)
{
	FI_BUF(dst, 8192);
	struct wd_ctx *ctx = fi_ctx_local();
	struct wd_queue *q = fi_queue(ctx, "mover", NULL, qflags(sc), NULL);
	struct wd_req r;
	struct wd_cpl c;

	fi_start();
	wd_prep_copy(&r, dst, text, sizeof(dst));
	FI_TRY(wd_run(q, &r, &c));
	FI_ASSERT(c.status == 0 && !memcmp(dst, text, sizeof(dst)));
	wd_prep_crc32c(&r, "123456789", 9, 0);
	FI_TRY(wd_run(q, &r, &c));
	FI_ASSERT(c.status == 0 && (uint32_t)c.result == FI_CRC_CHECK);
	fi_stop();
	check_counted(q);
	wd_queue_free(q);
	fi_ctx_free(ctx);
}

/* One compression and its check by decompression; the status. */
static void round_trip(struct wd_queue *q, unsigned level, enum wd_comp_framing f)
{
	static unsigned char comp[TEXT_LEN + 1024], back[TEXT_LEN];
	size_t clen = sizeof(comp), dlen = sizeof(back);

	FI_TRY(wd_compress(q, text, TEXT_LEN, comp, &clen, level, f));
	FI_TRY(wd_decompress(q, comp, clen, back, &dlen, f));
	FI_ASSERT(dlen == TEXT_LEN && !memcmp(back, text, TEXT_LEN));
	/* too small an output: -ENOSPC and the size that will do */
	dlen = 1000;
	FI_EXPECT(wd_decompress(q, comp, clen, back, &dlen, f), -ENOSPC);
	FI_ASSERT(dlen == TEXT_LEN);
}

/* One-shot requests: ISA-L's levels and libdeflate's, all framings. */
static void sc_comp(const struct fi_scenario *sc)
{
	struct wd_ctx *ctx = fi_ctx_local();
	struct wd_queue *q = fi_queue(ctx, "gzip", NULL, qflags(sc), NULL);

	fi_start();
	round_trip(q, 1, WD_COMP_GZIP);
	round_trip(q, 3, WD_COMP_RAW);
	round_trip(q, 6, WD_COMP_ZLIB);
	fi_stop();
	check_counted(q);
	wd_queue_free(q);
	fi_ctx_free(ctx);
}

/* Run a whole stream over text in two calls; the output's length. */
static size_t stream_all(struct wd_comp_stream *s, const void *in, size_t len, void *out,
			 size_t cap)
{
	size_t used, made, done = 0, took = 0, half = len / 2;
	int ret;

	FI_TRY(wd_comp_stream_run(s, in, half, &used, out, cap, &made, WD_COMP_NO_FLUSH));
	took += used;
	done += made;
	do {
		FI_TRY(ret = wd_comp_stream_run(s, (const char *)in + took, len - took, &used,
						(char *)out + done, cap - done, &made,
						WD_COMP_FINISH));
		took += used;
		done += made;
	} while (ret != 1);
	FI_ASSERT(took == len);
	return done;
}

/* Streams: compression, decompression, a copy of a decompression stream
 * taken mid-way, a reset. */
static void sc_stream(const struct fi_scenario *sc)
{
	static unsigned char comp[TEXT_LEN + 1024], back[TEXT_LEN];
	struct wd_ctx *ctx = fi_ctx_local();
	struct wd_queue *q = fi_queue(ctx, "zlib", NULL, qflags(sc), NULL);
	struct wd_comp_stream *s = NULL, *d = NULL, *cp = NULL;
	size_t clen, dlen, used, made;

	fi_start();
	FI_TRY(wd_comp_stream_new(&s, q, WD_COMPRESS, WD_COMP_ZLIB, 2));
	clen = stream_all(s, text, TEXT_LEN, comp, sizeof(comp));
	FI_TRY(wd_comp_stream_new(&d, q, WD_DECOMPRESS, WD_COMP_ZLIB, 0));
	FI_TRY(wd_comp_stream_run(d, comp, 100, &used, back, sizeof(back), &made,
				  WD_COMP_NO_FLUSH));
	FI_ASSERT(used == 100);
	FI_TRY(wd_comp_stream_copy(&cp, d));
	wd_comp_stream_free(d);
	dlen = made + stream_all(cp, comp + 100, clen - 100, back + made, sizeof(back) - made);
	FI_ASSERT(dlen == TEXT_LEN && !memcmp(back, text, TEXT_LEN));
	wd_comp_stream_free(cp);
	/* the compression stream again, from the start */
	FI_TRY(wd_comp_stream_reset(s));
	FI_ASSERT(stream_all(s, text, TEXT_LEN, comp, sizeof(comp)) == clen);
	wd_comp_stream_free(s);
	fi_stop();
	fi_check_sessions(q);
	check_counted(q);
	wd_queue_free(q);
	fi_ctx_free(ctx);
}

/* AES-128-CBC, NIST SP 800-38A F.2.1, first block */
static const unsigned char cbc_key[16] = { 0x2b, 0x7e, 0x15, 0x16, 0x28, 0xae, 0xd2, 0xa6,
					   0xab, 0xf7, 0x15, 0x88, 0x09, 0xcf, 0x4f, 0x3c };
static const unsigned char cbc_iv[16] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15 };
static const unsigned char cbc_pt[16] = { 0x6b, 0xc1, 0xbe, 0xe2, 0x2e, 0x40, 0x9f, 0x96,
					  0xe9, 0x3d, 0x7e, 0x11, 0x73, 0x93, 0x17, 0x2a };
static const unsigned char cbc_ct[16] = { 0x76, 0x49, 0xab, 0xac, 0x81, 0x19, 0xb2, 0x46,
					  0xce, 0xe9, 0x8e, 0x9b, 0x12, 0xe9, 0x19, 0x7d };

/* Sessions on a cipher queue: made, used both ways, closed, made again. */
static void sc_cipher(const struct fi_scenario *sc)
{
	static unsigned char xts_key[64], buf[4096], back[4096];
	struct wd_ctx *ctx = fi_ctx_local();
	struct wd_cipher_sess *a = NULL, *x = NULL;
	struct wd_queue *q;
	unsigned char out[16];
	unsigned i;

	for (i = 0; i < sizeof(xts_key); i++)
		xts_key[i] = (unsigned char)(i * 7 + 1);
	fi_start();
	q = fi_queue(ctx, "cipher", NULL, qflags(sc), NULL);
	FI_TRY(wd_cipher_sess_new(&a, q, WD_CIPHER_AES_CBC, cbc_key, sizeof(cbc_key)));
	FI_TRY(wd_encrypt(a, cbc_iv, cbc_pt, out, sizeof(out)));
	FI_ASSERT(!memcmp(out, cbc_ct, sizeof(out)));
	FI_TRY(wd_decrypt(a, cbc_iv, out, out, sizeof(out)));
	FI_ASSERT(!memcmp(out, cbc_pt, sizeof(out)));
	FI_TRY(wd_cipher_sess_new(&x, q, WD_CIPHER_AES_XTS, xts_key, sizeof(xts_key)));
	FI_TRY(wd_encrypt(x, cbc_iv, text, buf, sizeof(buf)));
	FI_TRY(wd_decrypt(x, cbc_iv, buf, back, sizeof(back)));
	FI_ASSERT(memcmp(buf, text, sizeof(buf)) && !memcmp(back, text, sizeof(back)));
	wd_cipher_sess_free(a);
	/* a new session in the closed one's place, keyed afresh */
	FI_TRY(wd_cipher_sess_new(&a, q, WD_CIPHER_AES_CBC, cbc_key, sizeof(cbc_key)));
	FI_TRY(wd_encrypt(a, cbc_iv, cbc_pt, out, sizeof(out)));
	FI_ASSERT(!memcmp(out, cbc_ct, sizeof(out)));
	wd_cipher_sess_free(a);
	wd_cipher_sess_free(x);
	fi_check_sessions(q);
	check_counted(q);
	wd_queue_free(q);
	fi_stop();
	fi_ctx_free(ctx);
}

static const struct fi_scenario scenarios[] = {
	{ "run", FI_ROLE_CLIENT, sc_run, 0 },
	{ "comp", FI_ROLE_CLIENT, sc_comp, 0 },
	{ "comp_ring", FI_ROLE_ENGINE, sc_comp, F_RING },
	{ "stream", FI_ROLE_CLIENT, sc_stream, 0 },
	{ "stream_ring", FI_ROLE_ENGINE, sc_stream, F_RING },
	{ "cipher", FI_ROLE_CLIENT, sc_cipher, 0 },
	{ "cipher_ring", FI_ROLE_ENGINE, sc_cipher, F_RING },
};

int main(int argc, char **argv)
{
	uint64_t s = 0x9e3779b97f4a7c15ull;
	unsigned i;

	/* text that compresses: words from a small vocabulary */
	for (i = 0; i < TEXT_LEN; i++) {
		s ^= s << 13;
		s ^= s >> 7;
		s ^= s << 17;
		text[i] = (s & 7) ? (unsigned char)('a' + (s >> 8) % 8) : ' ';
	}
	return fi_main(argc, argv, scenarios, sizeof(scenarios) / sizeof(scenarios[0]));
}
