/* SPDX-License-Identifier: MIT */
/*
 * wd gzip / wd gunzip: a gzip-compatible command line on WarpDrive queues.
 *
 * Compression cuts the input into pieces compressed in parallel on one
 * queue per engine thread (as pigz does with threads), each ended by a full
 * flush, so the pieces, written in order between a gzip header and trailer,
 * make one standard gzip member.  At the fast levels (-1..-5, ISA-L) a piece
 * is 128 KiB of raw deflate primed with the 32 KiB before it; at -6..-9
 * (libdeflate, which takes no dictionary) a piece is 1 MiB, so the matches
 * lost at piece boundaries cost about 0.1% (on the corpus: 1 MiB pieces are
 * within 0.25% of one whole-file libdeflate run, 128 KiB ones 2% off).  The
 * CRC-32 of the whole comes from the pieces' CRCs (crc32_combine).
 *
 * Decompression of a regular file whose output fits in memory (the last
 * member's ISIZE says how much) is one one-shot request per member, which
 * the soft engine decodes with libdeflate; other input (pipes, larger
 * files) is one stream on one queue.  Both handle any number of members.
 *
 * Output goes to a temporary file renamed into place on success, so a
 * failure never leaves a partial file, and nothing existing is replaced
 * without -f.  Exit status as gzip: 0 ok, 1 error, 2 warning.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <wd/comp.h>
#include <wd/wd.h>
#include <zlib.h>

#include "gz_reader.h"
#include "gz_writer.h"
#include "wd_cli.h"

#define PIECE (128u << 10)       /* fast levels: with a dictionary */
#define BIG_PIECE (1u << 20)     /* libdeflate's levels: no dictionary */
#define HIST WD_COMP_DICT_MAX
#define SLOTS_PER_QUEUE 8
#define MAX_QUEUES 64
#define DIN_CAP (1u << 20)
#define DOUT_CAP (4u << 20)
#define DIN_HEADROOM 64u         /* unread bytes carried to the next buffer read ahead */

enum { EXIT_OK = 0, EXIT_ERR = 1, EXIT_WARN = 2 };

struct gz_opts {
	int to_stdout, decompress, force, keep, list, test, quiet, verbose, no_name;
	int level;                      /* zlib style 1..9 */
	unsigned threads;               /* 0: one per online CPU */
	const char *suffix;
};

struct slot {
	unsigned char *dict, *in, *out;
	uint32_t dict_len, in_len, out_len, crc;
	int done, status;
};

struct gz {
	struct gz_opts o;
	struct wd_ctx *ctx;
	struct wd_queue *q[MAX_QUEUES];
	unsigned nq, nslots;
	struct slot *slots;
	uint32_t piece;                 /* input bytes per piece */
	int use_dict;                   /* pieces primed with the input before them */
	unsigned char hist[HIST];       /* the last 32 KiB of input read */
	uint32_t hist_len;
	unsigned char *din, *dout;      /* decompression buffers */
	struct gz_reader *rd;           /* reading ahead (din then points into its buffers) */
	const char *prog;
};

struct progress {
	int on;
	uint64_t total, done;
	double t0, last;
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void progress_start(struct progress *p, const struct gz *g, uint64_t total)
{
	memset(p, 0, sizeof(*p));
	/* only for long work, on a terminal */
	p->on = !g->o.quiet && isatty(STDERR_FILENO) && total >= (32u << 20);
	p->total = total;
	p->t0 = p->last = now_s();
}

static void progress_add(struct progress *p, uint64_t n)
{
	double t;
	int pct, i;

	p->done += n;
	if (!p->on)
		return;
	t = now_s();
	if (t - p->last < 0.1)
		return;
	p->last = t;
	pct = p->total ? (int)(p->done * 100 / p->total) : 0;
	if (pct > 100)
		pct = 100;
	fprintf(stderr, "\r[");
	for (i = 0; i < 30; i++)
		fputc(i < pct * 30 / 100 ? '#' : ' ', stderr);
	fprintf(stderr, "] %3d%%  %.0f MB/s ", pct, p->done / (t - p->t0) / 1e6);
}

static void progress_end(struct progress *p)
{
	if (p->on)
		fprintf(stderr, "\r%60s\r", "");
}

static int write_full(int fd, const void *buf, size_t len)
{
	while (len) {
		ssize_t n = write(fd, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		buf = (const char *)buf + n;
		len -= (size_t)n;
	}
	return 0;
}

/* ---- set-up ---- */

static int gz_open(struct gz *g)
{
	/* decompression is one stream, in this thread on the built-in device:
	 * one engine thread and one queue, no compression slots */
	int decomp = g->o.decompress || g->o.test || g->o.list;
	struct wd_ctx_opts co = { .size = sizeof(co),
				  .soft_threads = g->o.threads || !decomp ? g->o.threads : 1 };
	struct wd_queue_opts qo = { .size = sizeof(qo), .depth = SLOTS_PER_QUEUE * 2 };
	struct wd_dev_info info = { .size = sizeof(info) };
	struct wd_dev *dev;
	unsigned i;
	int ret;

	ret = wd_ctx_new(&g->ctx, &co);
	if (ret)
		return ret;
	dev = wd_dev_find(g->ctx, "gzip");
	if (!dev)
		return -EOPNOTSUPP;
	wd_dev_info(dev, &info);
	g->nq = info.engines && !decomp ? info.engines : 1;
	if (g->nq > MAX_QUEUES)
		g->nq = MAX_QUEUES;
	for (i = 0; i < g->nq; i++) {
		ret = wd_queue_new(&g->q[i], g->ctx, "gzip", &qo);
		if (ret)
			return ret;
	}
	g->use_dict = wd_comp_level_from_zlib(g->o.level) <= WD_COMP_STREAM_LEVEL_MAX;
	g->piece = g->use_dict ? PIECE : BIG_PIECE;
	/* big pieces: half as many in flight is as many bytes and plenty */
	g->nslots = decomp ? 0 : g->nq * (g->use_dict ? SLOTS_PER_QUEUE : SLOTS_PER_QUEUE / 2);
	g->slots = g->nslots ? calloc(g->nslots, sizeof(*g->slots)) : NULL;
	if (g->nslots && !g->slots)
		return -ENOMEM;
	for (i = 0; i < g->nslots; i++) {
		struct slot *s = &g->slots[i];

		s->dict = g->use_dict ? malloc(HIST) : NULL;
		s->in = malloc(g->piece);
		s->out = malloc(wd_comp_bound(g->piece));
		if (!g->use_dict && s->in && s->out)
			continue;
		if (!s->dict || !s->in || !s->out)
			return -ENOMEM;
	}
	g->din = malloc(DIN_CAP);
	g->dout = malloc(DOUT_CAP);
	return g->din && g->dout ? 0 : -ENOMEM;
}

static void gz_close(struct gz *g)
{
	unsigned i;

	for (i = 0; g->slots && i < g->nslots; i++) {
		free(g->slots[i].dict);
		free(g->slots[i].in);
		free(g->slots[i].out);
	}
	free(g->slots);
	free(g->din);
	free(g->dout);
	for (i = 0; i < g->nq; i++) {
		if (g->q[i] && !g->o.quiet)
			wd_cli_queue_report(g->q[i]);
		wd_queue_free(g->q[i]);
	}
	wd_ctx_free(g->ctx);
}

/* ---- compression ---- */

static void hist_push(struct gz *g, const unsigned char *p, uint32_t n)
{
	uint32_t keep;

	if (n >= HIST) {
		memcpy(g->hist, p + n - HIST, HIST);
		g->hist_len = HIST;
		return;
	}
	keep = g->hist_len + n > HIST ? HIST - n : g->hist_len;
	memmove(g->hist, g->hist + g->hist_len - keep, keep);
	memcpy(g->hist + keep, p, n);
	g->hist_len = keep + n;
}

/* Reap what queue qi has finished into the slots; waits for at least one. */
static int reap_queue(struct gz *g, unsigned qi)
{
	struct wd_cpl c[SLOTS_PER_QUEUE * 2];
	int n, i;

	do
		n = wd_wait(g->q[qi], c, SLOTS_PER_QUEUE * 2, -1);
	while (n == -EINTR);
	if (n < 0)
		return n;
	for (i = 0; i < n; i++) {
		struct slot *s = &g->slots[c[i].tag % g->nslots];

		s->status = c[i].status;
		s->out_len = (uint32_t)c[i].result;
		s->crc = wd_cpl_checksum(&c[i]);
		s->done = 1;
	}
	return 0;
}

static void put_le32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
	p[2] = (unsigned char)(v >> 16);
	p[3] = (unsigned char)(v >> 24);
}

static int write_header(const struct gz *g, int out, const char *name, time_t mtime)
{
	unsigned char h[10] = { 0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3 };
	const char *base = name ? strrchr(name, '/') : NULL;
	int ret;

	base = base ? base + 1 : name;
	if (base && !g->o.no_name)
		h[3] = 8; /* FNAME */
	if (!g->o.no_name && mtime > 0 && mtime <= UINT32_MAX)
		put_le32(h + 4, (uint32_t)mtime);
	h[8] = g->o.level >= 9 ? 2 : g->o.level <= 1 ? 4 : 0;
	ret = write_full(out, h, sizeof(h));
	if (!ret && h[3])
		ret = write_full(out, base, strlen(base) + 1);
	return ret;
}

/* Read the next piece into a slot and send it; *final is set on the last. */
static int submit_piece(struct gz *g, int in, uint64_t idx, int *eof, int *final)
{
	struct slot *s = &g->slots[idx % g->nslots];
	unsigned level = wd_comp_level_from_zlib(g->o.level);
	struct wd_req r;
	ssize_t n = 0;
	int ret;

	if (!*eof) {
		n = gz_read_full(in, s->in, g->piece);
		if (n < 0)
			return (int)n;
		*eof = n < (ssize_t)g->piece;
	}
	/* A piece that ends the input finishes the stream; if the input ended
	 * exactly on a piece boundary, an empty piece does. */
	*final = *eof;
	s->in_len = (uint32_t)n;
	s->dict_len = g->use_dict ? g->hist_len : 0;
	if (g->use_dict) {
		memcpy(s->dict, g->hist, g->hist_len);
		hist_push(g, s->in, s->in_len);
	}
	s->done = 0;
	wd_prep_compress_piece(&r, s->out, (uint32_t)wd_comp_bound(g->piece), s->in, s->in_len, level,
			       *final ? WD_COMP_FINISH : WD_COMP_FULL_FLUSH, s->dict, s->dict_len);
	r.tag = idx;
	while ((ret = wd_send(g->q[idx % g->nq], &r, 1)) == -EBUSY) {
		ret = reap_queue(g, (unsigned)(idx % g->nq));
		if (ret)
			return ret;
	}
	return ret < 0 ? ret : 0;
}

static int compress_fd(struct gz *g, int in, int out, uint64_t size, const char *name,
		       time_t mtime, uint64_t *out_bytes)
{
	uint64_t next_read = 0, next_write = 0, total = 0, written = 10;
	uint32_t crc = 0;
	unsigned char trailer[8];
	int eof = 0, final = 0, ret;
	struct progress pr;

	g->hist_len = 0;
	progress_start(&pr, g, size);
	ret = write_header(g, out, name, mtime);
	while (!ret) {
		while (!ret && !final && next_read - next_write < g->nslots)
			ret = submit_piece(g, in, next_read++, &eof, &final);
		if (ret || next_write == next_read)
			break;
		struct slot *s = &g->slots[next_write % g->nslots];

		while (!ret && !s->done)
			ret = reap_queue(g, (unsigned)(next_write % g->nq));
		if (ret)
			break;
		if (s->status) {
			ret = s->status;
			break;
		}
		ret = write_full(out, s->out, s->out_len);
		crc = (uint32_t)crc32_combine(crc, s->crc, (z_off_t)s->in_len);
		total += s->in_len;
		written += s->out_len;
		progress_add(&pr, s->in_len);
		next_write++;
	}
	/* On error, let what is still in flight land before buffers are reused. */
	while (next_write < next_read) {
		struct slot *s = &g->slots[next_write % g->nslots];

		if (!s->done && reap_queue(g, (unsigned)(next_write % g->nq)))
			break;
		if (s->done)
			next_write++;
	}
	progress_end(&pr);
	if (ret)
		return ret;
	put_le32(trailer, crc);
	put_le32(trailer + 4, (uint32_t)total);
	*out_bytes = written + 8;
	return write_full(out, trailer, sizeof(trailer));
}

/* ---- decompression ---- */

/* With a reader thread (a regular file): the unread bytes, a handful at
 * most (the stream takes what it is given; a member's end wants two bytes
 * to look at), go in front of its next buffer. */
static int refill_ahead(struct gz *g, size_t *pos, size_t *have, int *eof)
{
	unsigned char keep[DIN_HEADROOM], *data;
	size_t left = *have - *pos, n;
	int ret;

	if (left > DIN_HEADROOM)
		return -EPROTO; /* the decoder left more than it ever does */
	memcpy(keep, g->din + *pos, left);
	ret = gz_reader_next(g->rd, &data, &n, eof);
	if (ret)
		return ret;
	g->din = data - left;
	memcpy(g->din, keep, left);
	*pos = 0;
	*have = left + n;
	return 0;
}

/* Move unread input to the front and read more; sets *eof at end of file. */
static int refill(struct gz *g, int in, size_t *pos, size_t *have, int *eof)
{
	ssize_t n;

	if (g->rd)
		return *eof ? 0 : refill_ahead(g, pos, have, eof);
	memmove(g->din, g->din + *pos, *have - *pos);
	*have -= *pos;
	*pos = 0;
	if (*eof)
		return 0;
	n = gz_read_full(in, g->din + *have, DIN_CAP - *have);
	if (n < 0)
		return (int)n;
	*eof = (size_t)n < DIN_CAP - *have;
	*have += (size_t)n;
	return 0;
}

/* 1 when everything from pos to the end of the input is zero bytes, 0 when
 * something else follows, or -errno. */
static int zero_tail(struct gz *g, int in, size_t *pos, size_t *have, int *eof)
{
	int ret;

	for (;;) {
		for (; *pos < *have; (*pos)++)
			if (g->din[*pos])
				return 0;
		if (*eof)
			return 1;
		ret = refill(g, in, pos, have, eof);
		if (ret)
			return ret;
	}
}

/*
 * Decode every member of a gzip file from in to out (out < 0: only test).
 * Returns 0, EXIT_WARN-style positive 2 for trailing garbage, or -errno.
 */
static int decompress_fd(struct gz *g, int in, int out, uint64_t size, uint64_t *out_bytes)
{
	struct gz_writer *wr = NULL;
	unsigned char *own_din = g->din;
	struct wd_comp_stream *s;
	struct stat st;
	size_t pos = 0, have = 0, used, made;
	int eof = 0, ret, result = 0;
	struct progress pr;

	*out_bytes = 0;
	ret = wd_comp_stream_new(&s, g->q[0], WD_DECOMPRESS, WD_COMP_GZIP, 0);
	if (ret)
		return ret;
	/* decoding and writing overlap: a thread writes one buffer while
	 * the next one is decoded */
	if (out >= 0 && (ret = gz_writer_start(&wr, out, DOUT_CAP))) {
		wd_comp_stream_free(s);
		return ret;
	}
	/* a regular file is read ahead by a thread (a read there never waits
	 * for long, so stopping it never hangs) */
	if (!fstat(in, &st) && S_ISREG(st.st_mode) && gz_reader_start(&g->rd, in, DIN_CAP,
									DIN_HEADROOM))
		g->rd = NULL; /* no thread: read here */
	progress_start(&pr, g, size);
	ret = refill(g, in, &pos, &have, &eof);
	/* no gzip magic at all: say so, as gzip does, rather than "corrupt" */
	if (!ret && have && (g->din[0] != 0x1f || (have > 1 && g->din[1] != 0x8b)))
		ret = -EPROTOTYPE;
	while (!ret) {
		unsigned char *dst = wr ? gz_writer_buf(wr) : g->dout;

		ret = wd_comp_stream_run(s, g->din + pos, have - pos, &used, dst, DOUT_CAP, &made,
					 eof ? WD_COMP_FINISH : WD_COMP_NO_FLUSH);
		if (ret < 0)
			break;
		pos += used;
		progress_add(&pr, used);
		*out_bytes += made;
		if (made && wr) {
			int w = gz_writer_put(wr, made);

			if (w) {
				ret = w;
				break;
			}
		}
		if (ret == 1) {
			/* a member ended: another may follow */
			if (have - pos < 2 && !eof)
				ret = refill(g, in, &pos, &have, &eof);
			if (ret < 0 || pos == have)
				break;
			/* one byte, not zero: the next member's header cut short,
			 * an error as in gzip (not garbage: the file is kept) */
			if (eof && have - pos == 1 && g->din[pos]) {
				ret = -ENODATA;
				break;
			}
			if (have - pos < 2 || g->din[pos] != 0x1f || g->din[pos + 1] != 0x8b) {
				/* zeros padding the file (tape blocks) are accepted
				 * silently, anything else is warned about, as gzip */
				ret = zero_tail(g, in, &pos, &have, &eof);
				if (ret >= 0) {
					result = ret ? 0 : EXIT_WARN;
					ret = 0;
				}
				break;
			}
			ret = wd_comp_stream_reset(s);
			continue;
		}
		if (!used && !made) {
			if (eof) {
				ret = -ENODATA;
				break;
			}
			ret = refill(g, in, &pos, &have, &eof);
		} else if (pos == have) {
			ret = refill(g, in, &pos, &have, &eof);
		}
	}
	progress_end(&pr);
	wd_comp_stream_free(s);
	if (g->rd) {
		gz_reader_stop(g->rd);
		g->rd = NULL;
		g->din = own_din;
	}
	if (wr) {
		int w = gz_writer_finish(wr); /* what was decoded goes out, even on an error */

		if (w && ret >= 0)
			ret = w;
	}
	if (ret < 0)
		return ret;
	return result;
}

/* ---- files ---- */

static int is_tty_out(const struct gz *g)
{
	return !g->o.decompress && !g->o.test && isatty(STDOUT_FILENO) && !g->o.force;
}

static void warn(const struct gz *g, const char *name, const char *msg)
{
	if (!g->o.quiet)
		fprintf(stderr, "%s: %s: %s\n", g->prog, name, msg);
}

static int fail(const struct gz *g, const char *name, const char *msg)
{
	fprintf(stderr, "%s: %s: %s\n", g->prog, name, msg);
	return EXIT_ERR;
}

static const char *decode_error(int err)
{
	switch (err) {
	case -EBADMSG:
		return "invalid compressed data--format violated or crc error";
	case -ENODATA:
		return "unexpected end of file";
	case -EPROTOTYPE: /* decompress_fd: no gzip magic */
		return "not in gzip format";
	default:
		return wd_strerror(err);
	}
}

static int has_suffix(const char *name, const char *suf)
{
	size_t n = strlen(name), m = strlen(suf);

	return n > m && !strcmp(name + n - m, suf);
}

static int do_stdio(struct gz *g)
{
	uint64_t n;
	int ret;

	if (g->o.list)
		return fail(g, "stdin", "--list needs a file name");
	if ((g->o.decompress || g->o.test) && isatty(STDIN_FILENO) && !g->o.force)
		return fail(g, "stdin", "compressed data not read from a terminal. Use -f to force.");
	if (is_tty_out(g))
		return fail(g, "stdout",
			    "compressed data not written to a terminal. Use -f to force compression.");
	if (g->o.decompress || g->o.test) {
		ret = decompress_fd(g, STDIN_FILENO, g->o.test ? -1 : STDOUT_FILENO, 0, &n);
		if (ret == EXIT_WARN)
			warn(g, "stdin", "decompression OK, trailing garbage ignored");
		return ret < 0 ? fail(g, "stdin", decode_error(ret)) : ret;
	}
	ret = compress_fd(g, STDIN_FILENO, STDOUT_FILENO, 0, NULL, 0, &n);
	return ret < 0 ? fail(g, "stdin", wd_strerror(ret)) : EXIT_OK;
}

/* Bytes of gzip framing around the deflate data of a one-member file: the
 * header with its optional fields, and the 8-byte trailer (as gzip -l). */
static long framing_bytes(int in)
{
	unsigned char h[4096];
	ssize_t n = pread(in, h, sizeof(h), 0);
	long pos = 10;

	if (n < 18 || h[0] != 0x1f || h[1] != 0x8b || h[2] != 8)
		return -1;
	if (h[3] & 4) /* FEXTRA */
		pos += 2 + (h[10] | h[11] << 8);
	if (h[3] & 8) /* FNAME */
		while (pos < n && h[pos++])
			;
	if (h[3] & 16) /* FCOMMENT */
		while (pos < n && h[pos++])
			;
	if (h[3] & 2) /* FHCRC */
		pos += 2;
	return pos + 8;
}

struct list_totals {
	int files;
	long long in, out, framing;
};

static void print_list_line(long long comp, long long orig, long long framing, const char *name)
{
	double ratio = orig ? 100.0 * (double)(orig - (comp - framing)) / (double)orig : 0.0;

	printf("%19lld %19lld %5.1f%% %s\n", comp, orig, ratio, name);
}

/* gzip -l: sizes from the file length and the last member's trailer. */
static int list_file(struct gz *g, const char *path, int in, const struct stat *st,
		     struct list_totals *tot)
{
	unsigned char t[4];
	uint32_t isize;
	char name[PATH_MAX];
	long framing = framing_bytes(in);

	if (framing < 0 || st->st_size < 18 || pread(in, t, 4, st->st_size - 4) != 4)
		return fail(g, path, "not in gzip format");
	isize = (uint32_t)t[0] | (uint32_t)t[1] << 8 | (uint32_t)t[2] << 16 | (uint32_t)t[3] << 24;
	snprintf(name, sizeof(name), "%s", path);
	if (has_suffix(name, g->o.suffix))
		name[strlen(name) - strlen(g->o.suffix)] = 0;
	if (!tot->files++)
		printf("%19s %19s %6s %s\n", "compressed", "uncompressed", "ratio",
		       "uncompressed_name");
	print_list_line(st->st_size, isize, framing, name);
	tot->in += isize;
	tot->out += st->st_size;
	tot->framing += framing;
	return EXIT_OK;
}

/* The temporary file being written, removed if a signal ends the run. */
static char temp_path[PATH_MAX];
static volatile sig_atomic_t temp_armed;

static void on_fatal_signal(int sig)
{
	if (temp_armed)
		unlink(temp_path);
	signal(sig, SIG_DFL);
	raise(sig);
}

static void temp_guard(const char *path)
{
	static int installed;

	if (!installed) {
		signal(SIGINT, on_fatal_signal);
		signal(SIGTERM, on_fatal_signal);
		signal(SIGHUP, on_fatal_signal);
		signal(SIGPIPE, on_fatal_signal);
		installed = 1;
	}
	temp_armed = 0;
	if (path) {
		snprintf(temp_path, sizeof(temp_path), "%s", path);
		temp_armed = 1;
	}
}

/* Write to a temporary file beside dst, then rename: all or nothing. */
static int make_temp(const char *dst, char *tmp, size_t len)
{
	char copy[PATH_MAX];
	int fd;

	snprintf(copy, sizeof(copy), "%s", dst);
	snprintf(tmp, len, "%s/.wdgz.XXXXXX", dirname(copy));
	fd = mkstemp(tmp);
	return fd < 0 ? -errno : fd;
}

static int do_file(struct gz *g, const char *path, struct list_totals *tot)
{
	char dst[PATH_MAX], tmp[PATH_MAX];
	int decomp = g->o.decompress || g->o.test;
	struct timespec times[2];
	struct stat st;
	uint64_t n = 0;
	int in, out, ret, status = EXIT_OK;

	in = open(path, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return fail(g, path, strerror(errno));
	if (fstat(in, &st)) {
		ret = errno;
		close(in);
		return fail(g, path, strerror(ret));
	}
	if (!S_ISREG(st.st_mode)) {
		close(in);
		warn(g, path, S_ISDIR(st.st_mode) ? "is a directory -- ignored"
						   : "not a regular file -- ignored");
		return EXIT_WARN;
	}
	if (g->o.list) {
		ret = list_file(g, path, in, &st, tot);
		close(in);
		return ret;
	}
	if (g->o.to_stdout || g->o.test) {
		if (is_tty_out(g)) {
			close(in);
			return fail(g, "stdout", "compressed data not written to a terminal. "
						 "Use -f to force compression.");
		}
		if (decomp)
			ret = decompress_fd(g, in, g->o.test ? -1 : STDOUT_FILENO, (uint64_t)st.st_size,
					    &n);
		else
			ret = compress_fd(g, in, STDOUT_FILENO, (uint64_t)st.st_size, path,
					  st.st_mtime, &n);
		close(in);
		if (ret == EXIT_WARN)
			warn(g, path, "decompression OK, trailing garbage ignored");
		else if (!ret && g->o.test && g->o.verbose)
			fprintf(stderr, "%s:\t OK\n", path);
		return ret < 0 ? fail(g, path, decomp ? decode_error(ret) : wd_strerror(ret)) : ret;
	}

	if (decomp && !has_suffix(path, g->o.suffix)) {
		close(in);
		warn(g, path, "unknown suffix -- ignored");
		return EXIT_WARN;
	}
	if (!decomp && has_suffix(path, g->o.suffix)) {
		close(in);
		warn(g, path, "already has the suffix -- unchanged");
		return EXIT_WARN;
	}
	if (snprintf(dst, sizeof(dst), "%s%s", path, decomp ? "" : g->o.suffix) >= (int)sizeof(dst)) {
		close(in);
		return fail(g, path, "name too long");
	}
	if (decomp)
		dst[strlen(path) - strlen(g->o.suffix)] = 0;
	if (!g->o.force && access(dst, F_OK) == 0) {
		close(in);
		fprintf(stderr, "%s: %s already exists; not overwritten\n", g->prog, dst);
		return EXIT_ERR;
	}
	out = make_temp(dst, tmp, sizeof(tmp));
	if (out < 0) {
		close(in);
		return fail(g, dst, strerror(-out));
	}
	temp_guard(tmp);
	if (decomp)
		ret = decompress_fd(g, in, out, (uint64_t)st.st_size, &n);
	else
		ret = compress_fd(g, in, out, (uint64_t)st.st_size, path, st.st_mtime, &n);
	close(in);
	if (ret >= 0) {
		status = ret;
		/* the output gets the input's permissions and times */
		if (fchmod(out, st.st_mode & 07777) == 0) {
			times[0] = st.st_atim;
			times[1] = st.st_mtim;
			futimens(out, times);
		}
		ret = close(out) ? -errno : 0;
		if (!ret && rename(tmp, dst))
			ret = -errno;
	} else {
		close(out);
	}
	if (ret < 0)
		unlink(tmp); /* no partial file, ever */
	temp_guard(NULL);
	if (ret < 0)
		return fail(g, path, decomp ? decode_error(ret) : wd_strerror(ret));
	if (status == EXIT_WARN)
		warn(g, path, "decompression OK, trailing garbage ignored");
	if (g->o.verbose) {
		double ratio = decomp ? (n ? 100.0 * ((double)n - st.st_size) / n : 0)
				      : (st.st_size ? 100.0 * ((double)st.st_size - n) / st.st_size : 0);

		fprintf(stderr, "%s:\t%5.1f%% -- %s %s\n", path, ratio,
			g->o.keep ? "created" : "replaced with", dst);
	}
	if (!g->o.keep && !g->o.test && unlink(path))
		warn(g, path, strerror(errno));
	return status;
}

static void usage(FILE *f, const char *prog)
{
	fprintf(f,
		"usage: %s [-cdfhklnqtvV19] [-p N] [-S SUF] [FILE...]\n"
		"Compress or decompress FILEs in gzip format through WarpDrive queues\n"
		"(with no FILE, or when FILE is -, read standard input).\n\n"
		"  -c, --stdout      write on standard output, keep the input files\n"
		"  -d, --decompress  decompress\n"
		"  -f, --force       overwrite output files, (de)compress to/from a terminal\n"
		"  -k, --keep        keep (do not delete) input files\n"
		"  -l, --list        list compressed and uncompressed sizes\n"
		"  -n, --no-name     do not store the file name and time\n"
		"  -N, --name        store them (the default)\n"
		"  -p, --processes N engine threads and queues (default: online CPUs)\n"
		"  -q, --quiet       suppress warnings\n"
		"  -S, --suffix SUF  use suffix SUF (default .gz)\n"
		"  -t, --test        test compressed file integrity\n"
		"  -v, --verbose     print names and ratios\n"
		"  -1 .. -9          fast .. best: -1..-5 ISA-L (engine levels 1, 2), -6..-9\n"
		"                    gzip's ratio with libdeflate (engine levels 5, 6, 7, 7)\n"
		"                    (default 6)\n"
		"  -h, --help        this text;  -V, --version  the version\n",
		prog);
}

int wd_cmd_gzip(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "stdout", no_argument, NULL, 'c' },
		{ "to-stdout", no_argument, NULL, 'c' },
		{ "decompress", no_argument, NULL, 'd' },
		{ "uncompress", no_argument, NULL, 'd' },
		{ "force", no_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ "keep", no_argument, NULL, 'k' },
		{ "list", no_argument, NULL, 'l' },
		{ "no-name", no_argument, NULL, 'n' },
		{ "name", no_argument, NULL, 'N' },
		{ "processes", required_argument, NULL, 'p' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "suffix", required_argument, NULL, 'S' },
		{ "test", no_argument, NULL, 't' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "version", no_argument, NULL, 'V' },
		{ "fast", no_argument, NULL, '1' },
		{ "best", no_argument, NULL, '9' },
		{ NULL, 0, NULL, 0 },
	};
	struct gz g;
	struct list_totals tot = { 0 };
	int opt, i, ret, status = EXIT_OK;

	memset(&g, 0, sizeof(g));
	g.prog = argv[0];
	g.o.level = 6;
	g.o.suffix = ".gz";
	g.o.decompress = strstr(argv[0], "unzip") != NULL; /* gunzip, wdunzip */
	while ((opt = getopt_long(argc, argv, "cdfhklnNp:qS:tvV123456789", longopts, NULL)) != -1) {
		switch (opt) {
		case 'c': g.o.to_stdout = 1; break;
		case 'd': g.o.decompress = 1; break;
		case 'f': g.o.force = 1; break;
		case 'k': g.o.keep = 1; break;
		case 'l': g.o.list = 1; break;
		case 'n': g.o.no_name = 1; break;
		case 'N': g.o.no_name = 0; break;
		case 'q': g.o.quiet = 1; break;
		case 't': g.o.test = 1; break;
		case 'v': g.o.verbose = 1; break;
		case 'S':
			if (!*optarg || strchr(optarg, '/')) {
				fprintf(stderr, "%s: invalid suffix '%s'\n", g.prog, optarg);
				return EXIT_ERR;
			}
			g.o.suffix = optarg;
			break;
		case 'p':
			g.o.threads = (unsigned)atoi(optarg);
			if (g.o.threads < 1 || g.o.threads > MAX_QUEUES) {
				fprintf(stderr, "%s: -p wants 1..%d\n", g.prog, MAX_QUEUES);
				return EXIT_ERR;
			}
			break;
		case 'V':
			printf("%s (WarpDrive) %s\n", g.prog, wd_version());
			return EXIT_OK;
		case 'h':
			usage(stdout, g.prog);
			return EXIT_OK;
		default:
			if (opt >= '1' && opt <= '9') {
				g.o.level = opt - '0';
				break;
			}
			usage(stderr, g.prog);
			return EXIT_ERR;
		}
	}
	ret = gz_open(&g);
	if (ret) {
		fprintf(stderr, "%s: cannot set up the accelerator: %s\n", g.prog, wd_strerror(ret));
		gz_close(&g);
		return EXIT_ERR;
	}
	if (optind == argc) {
		status = do_stdio(&g);
	} else {
		for (i = optind; i < argc; i++) {
			int st = strcmp(argv[i], "-") ? do_file(&g, argv[i], &tot) : do_stdio(&g);

			/* an error outranks a warning */
			if (st == EXIT_ERR || (st == EXIT_WARN && status == EXIT_OK))
				status = st;
		}
	}
	if (tot.files > 1)
		print_list_line(tot.out, tot.in, tot.framing, "(totals)");
	gz_close(&g);
	return status;
}
