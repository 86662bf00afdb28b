/* SPDX-License-Identifier: MIT */
/*
 * The soft engine's operations, one table entry per opcode.  Every field of
 * a descriptor is checked here before any memory is touched; the caller
 * passes a private copy, so nothing can change under the checks.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>
#include <isa-l/crc.h>
#include <string.h>
#include <time.h>

#include <wd/comp.h>

#include "../../mem/domain.h"
#include "soft.h"

#define OP_NEEDS_SRC 1u
#define OP_NEEDS_DST 2u
#define OP_DST_IN 4u            /* dst is read, not written (compare) */
#define OP_SESSION 8u           /* uses session */
#define OP_PARAM 16u            /* uses param */
#define OP_ARG1 32u             /* uses arg1 */
#define OP_DST_LEN 64u          /* dst_len is dst's capacity (else dst is as long as src) */
#define OP_SG 128u              /* takes scatter-gather buffers */
#define OP_SG_ONESHOT 256u      /* ... but only with no session and no args */
#define OP_STREAM (OP_SESSION | OP_PARAM | OP_ARG1 | OP_DST_LEN | OP_SG | OP_SG_ONESHOT)
/* param: AEAD parts only (a plain mode's session refuses it) */
#define OP_CIPHER (OP_NEEDS_SRC | OP_NEEDS_DST | OP_SESSION | OP_PARAM | OP_ARG1 | OP_SG)

typedef int (*soft_op_fn)(struct soft_queue *sq, struct soft_scratch *s, const wd_sqe *e,
			  const struct soft_io *io, wd_cqe *c);

struct soft_opdef {
	soft_op_fn fn;
	unsigned flags;
};

/* Highest user-space address on the platforms we run on (47-bit VA). */
#define USER_VA_END (1ull << 47)

/* An SVA address range must be non-null, must not wrap, and must lie in the
 * user half of the address space.  The memory domain adds its own checks. */
static int check_sva(uint64_t addr, uint64_t len)
{
	if (!len)
		return 0;
	if (!addr || addr >= USER_VA_END || USER_VA_END - addr < len)
		return -EFAULT;
	return 0;
}

static void delay_ns(uint64_t ns)
{
	struct timespec end, now;

	clock_gettime(CLOCK_MONOTONIC, &end);
	end.tv_sec += (time_t)(ns / 1000000000u);
	end.tv_nsec += (long)(ns % 1000000000u);
	if (end.tv_nsec >= 1000000000) {
		end.tv_sec++;
		end.tv_nsec -= 1000000000;
	}
	if (ns > 100000) {
		/* A long "device time" sleeps; short ones spin like hardware. */
		clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &end, NULL);
		return;
	}
	do
		clock_gettime(CLOCK_MONOTONIC, &now);
	while (now.tv_sec < end.tv_sec || (now.tv_sec == end.tv_sec && now.tv_nsec < end.tv_nsec));
}

static int op_nop(struct soft_queue *sq, struct soft_scratch *s, const wd_sqe *e,
		  const struct soft_io *io, wd_cqe *c)
{
	if (e->arg0 > sq->max_delay_ns || e->len)
		return -EINVAL;
	if (e->arg0)
		delay_ns(e->arg0);
	return 0;
}

static int op_copy(struct soft_queue *sq, struct soft_scratch *s, const wd_sqe *e,
		   const struct soft_io *io, wd_cqe *c)
{
	if (e->arg0)
		return -EINVAL;
	memmove(io->dst, io->src, e->len);
	c->result = e->len;
	return 0;
}

static int op_fill(struct soft_queue *sq, struct soft_scratch *s, const wd_sqe *e,
		   const struct soft_io *io, wd_cqe *c)
{
	unsigned char *d = io->dst;
	uint32_t i = 0;

	for (; i + 8 <= e->len; i += 8)
		memcpy(d + i, &e->arg0, 8);
	if (i < e->len)
		memcpy(d + i, &e->arg0, e->len - i);
	c->result = e->len;
	return 0;
}

static int op_compare(struct soft_queue *sq, struct soft_scratch *s, const wd_sqe *e,
		      const struct soft_io *io, wd_cqe *c)
{
	const unsigned char *a = io->src, *b = io->dst;
	uint32_t off = 0, chunk;

	if (e->arg0)
		return -EINVAL;
	/* memcmp by blocks finds the differing block fast; then the byte. */
	while (off < e->len) {
		chunk = e->len - off < 4096 ? e->len - off : 4096;
		if (memcmp(a + off, b + off, chunk))
			break;
		off += chunk;
	}
	while (off < e->len && a[off] == b[off])
		off++;
	c->result = off < e->len;
	c->aux = off;
	return 0;
}

static int op_crc32c(struct soft_queue *sq, struct soft_scratch *s, const wd_sqe *e,
		     const struct soft_io *io, wd_cqe *c)
{
	uint32_t seed = (uint32_t)e->arg0;

	if (e->arg0 >> 32)
		return -EINVAL;
	/* ISA-L works on the raw register; the API speaks finished CRCs. */
	c->result = ~crc32_iscsi(io->src, (int)e->len, ~seed) & 0xffffffffu;
	return 0;
}

static const struct soft_opdef opdefs[] = {
	[WD_OP_NOP] = { op_nop, 0 },
	[WD_OP_COPY] = { op_copy, OP_NEEDS_SRC | OP_NEEDS_DST },
	[WD_OP_FILL] = { op_fill, OP_NEEDS_DST },
	[WD_OP_COMPARE] = { op_compare, OP_NEEDS_SRC | OP_NEEDS_DST | OP_DST_IN },
	[WD_OP_CRC32C] = { op_crc32c, OP_NEEDS_SRC },
	[WD_OP_COMPRESS] = { soft_compress, OP_NEEDS_SRC | OP_NEEDS_DST | OP_STREAM },
	[WD_OP_DECOMPRESS] = { soft_decompress, OP_NEEDS_SRC | OP_NEEDS_DST | OP_STREAM },
	[WD_OP_ENCRYPT] = { soft_encrypt, OP_CIPHER },
	[WD_OP_DECRYPT] = { soft_decrypt, OP_CIPHER },
};

_Static_assert(sizeof(opdefs) / sizeof(opdefs[0]) == WD_OP__COUNT, "one opdef per opcode");

/*
 * Remote SVA (the daemon's clients): the addresses are the client's own, and
 * the engine copies through the client's /proc/<pid>/mem into bounce buffers,
 * so a bad address is an error from the kernel, never a fault here.  That
 * file holds the address space it was opened on: after the client runs
 * another program (same pid), what it had queued fails instead of reaching
 * the new program's memory, which process_vm_readv/writev by pid would do.
 */
static int bounce(struct soft_queue *sq, struct soft_scratch *s, unsigned slot, uint64_t addr,
		  uint64_t len, int fill, void **out)
{
	*out = NULL;
	if (!len)
		return 0;
	if (check_sva(addr, len))
		return -EFAULT;
	if (len > SOFT_REMOTE_MAX)
		return -EMSGSIZE;
	if (fill && soft_remote_read_take(sq, s, slot, addr, len)) {
		*out = s->bounce[slot];
		return 0;
	}
	if (s->bounce_len[slot] < len) {
		void *p = realloc(s->bounce[slot], len);

		if (!p)
			return -ENOMEM;
		s->bounce[slot] = p;
		s->bounce_len[slot] = len;
	}
	*out = s->bounce[slot];
	if (!fill)
		return 0;
	soft_remote_fence(sq, s, addr, len, 0);
	return pread(sq->remote_mem, *out, len, (off_t)addr) == (ssize_t)len ? 0 : -EFAULT;
}

static int write_back(struct soft_queue *sq, struct soft_scratch *s, void *buf, uint64_t addr,
		      uint64_t len)
{
	if (!len)
		return 0;
	soft_remote_fence(sq, s, addr, len, 1);
	return pwrite(sq->remote_mem, buf, len, (off_t)addr) == (ssize_t)len ? 0 : -EFAULT;
}

static int map_remote(struct soft_queue *sq, struct soft_scratch *s, const struct soft_opdef *def,
		      const wd_sqe *e, struct soft_io *io)
{
	uint64_t dlen = def->flags & OP_DST_LEN ? e->dst_len : e->len;
	int ret = 0;

	if (e->flags)
		return -EOPNOTSUPP; /* scatter-gather needs explicit sharing here */
	io->src_total = e->len;
	if (def->flags & OP_NEEDS_SRC)
		ret = bounce(sq, s, 0, e->src, e->len, 1, &io->src);
	else if (e->src)
		return -EINVAL;
	if (!ret && (def->flags & OP_NEEDS_DST))
		ret = bounce(sq, s, 1, e->dst, dlen, !!(def->flags & OP_DST_IN), &io->dst);
	else if (!ret && e->dst)
		return -EINVAL;
	if (!ret && e->op == WD_OP_COMPRESS && e->arg1 && e->arg1 <= WD_COMP_DICT_MAX)
		ret = bounce(sq, s, 2, e->arg0, e->arg1, 1, &io->dict);
	return ret;
}

/* Have the next request's source read ahead if it is one bounce() would
 * read (remote.c); whether the request is valid is decided in its turn. */
static void read_ahead(struct soft_queue *sq, struct soft_scratch *s)
{
	const wd_sqe *e = &s->next;

	if (!s->has_next)
		return;
	s->has_next = 0;
	if (e->op >= WD_OP__COUNT || !(sq->op_mask & (1u << e->op)) || e->flags ||
	    !(opdefs[e->op].flags & OP_NEEDS_SRC) || e->len < SOFT_REMOTE_AHEAD_MIN ||
	    e->len > SOFT_REMOTE_AHEAD_MAX || e->len > sq->max_len || check_sva(e->src, e->len))
		return;
	soft_remote_read_post(sq, s, e->src, e->len);
}

/* Remote SVA: the request's result goes back to the client, behind (the
 * engine thread writes it while it runs the next request) or now. */
static int result_back(struct soft_queue *sq, struct soft_scratch *s, void *buf, uint64_t addr,
		       uint64_t len)
{
	/* the buffer goes to the helper: only one the engine can do without */
	if (buf == s->bounce[1] && s->bounce_len[1] <= SOFT_REMOTE_AHEAD_MAX &&
	    soft_remote_write_later(s, len)) {
		s->wb_addr = addr;
		s->wb_len = len;
		return 0;
	}
	return write_back(sq, s, buf, addr, len);
}

/* Reach [addr, addr+len) for the operation: the process's own address in
 * SVA mode, a held shared range in explicit mode. */
static int xlate(struct soft_queue *sq, struct soft_io *io, uint64_t addr, uint64_t len,
		 int write, void **out)
{
	struct soft_hold *h;
	int ret;

	if (!sq->dom) {
		ret = check_sva(addr, len);
		*out = (void *)(uintptr_t)addr;
		return ret;
	}
	*out = NULL;
	if (!len)
		return 0;
	h = &io->held[io->nheld];
	ret = wd__domain_get(sq->dom, addr, len, write, out, &h->map);
	if (ret)
		return ret;
	h->iova = addr;
	h->len = len;
	h->is_dst = write;
	io->nheld++;
	return 0;
}

/* Let go of the shared ranges; the written bytes (filling the destination
 * ranges in order) go dirty. */
static void release(struct soft_queue *sq, struct soft_io *io, uint64_t written)
{
	unsigned i;

	for (i = 0; i < io->nheld; i++) {
		struct soft_hold *h = &io->held[i];
		uint64_t w = 0;

		if (h->is_dst) {
			w = written < h->len ? written : h->len;
			written -= w;
		}
		wd__domain_put(sq->dom, h->map, h->iova, w);
	}
}

/* Bytes of dst the op may have written, for dirty tracking. */
static uint64_t written_bytes(const wd_sqe *e, const struct soft_io *io, const wd_cqe *c,
			      int status)
{
	if (e->op == WD_OP_COPY || e->op == WD_OP_FILL)
		return status ? 0 : e->len;
	/* a cipher fails before it writes, unless the engine itself failed or
	 * an AEAD tag did not match (the output was zeroed) */
	if (e->op == WD_OP_ENCRYPT || e->op == WD_OP_DECRYPT)
		return status != -EIO && status != -EBADMSG ? c->result
		       : io->dst_segs ? io->dst_total : io->src_total;
	/* a failed decode may have written it all */
	return status ? (io->dst_segs ? io->dst_total : e->dst_len) : c->result;
}

int soft_side_get(struct soft_queue *sq, struct soft_scratch *s, uint64_t addr, uint64_t len,
		  int write, void **out)
{
	struct soft_side *d = &s->side;
	int ret;

	*out = NULL;
	if (d->len)
		return -EINVAL; /* one side buffer per request */
	if (!len)
		return 0;
	if (sq->remote_mem >= 0) {
		ret = bounce(sq, s, 2, addr, len, 1, &d->p);
	} else if (!sq->dom) {
		ret = check_sva(addr, len);
		d->p = (void *)(uintptr_t)addr;
	} else {
		ret = wd__domain_get(sq->dom, addr, len, write, &d->p, &d->map);
		if (ret)
			d->map = NULL;
	}
	if (ret)
		return ret;
	d->addr = addr;
	d->len = len;
	*out = d->p;
	return 0;
}

int soft_side_wrote(struct soft_queue *sq, struct soft_scratch *s, uint64_t off, uint64_t len)
{
	struct soft_side *d = &s->side;

	if (off > d->len || len > d->len - off)
		return -EINVAL;
	d->wr_off = off;
	d->wr_len = len;
	if (sq->remote_mem >= 0)
		return write_back(sq, s, (uint8_t *)d->p + off, d->addr + off, len);
	return 0;
}

/* Let the side buffer go: its written part goes dirty. */
static void side_release(struct soft_queue *sq, struct soft_scratch *s)
{
	struct soft_side *d = &s->side;

	if (!d->len)
		return;
	if (d->map)
		wd__domain_put(sq->dom, d->map, d->addr + d->wr_off, d->wr_len);
	memset(d, 0, sizeof(*d));
}

/*
 * A scatter-gather buffer: the table (n entries of struct wd_range at a
 * device address) is copied once, then every segment is checked and
 * reached like any buffer.
 */
static int map_segments(struct soft_queue *sq, struct soft_scratch *s, struct soft_io *io,
			uint64_t table, uint32_t n, int write, struct soft_seg *segs,
			uint64_t *total)
{
	void *tab;
	uint32_t i;
	int ret;

	if (!n || n > SOFT_MAX_SEGS)
		return -EINVAL;
	ret = xlate(sq, io, table, (uint64_t)n * sizeof(struct wd_range), 0, &tab);
	if (ret)
		return ret;
	memcpy(s->table, tab, n * sizeof(struct wd_range));
	*total = 0;
	for (i = 0; i < n; i++) {
		if (s->table[i].len > sq->max_len || *total + s->table[i].len > sq->max_len)
			return -EMSGSIZE;
		ret = xlate(sq, io, s->table[i].addr, s->table[i].len, write, &segs[i].p);
		if (ret)
			return ret;
		segs[i].len = s->table[i].len;
		*total += segs[i].len;
	}
	return 0;
}

static int map_buffers(struct soft_queue *sq, struct soft_scratch *s, const struct soft_opdef *def,
		       const wd_sqe *e, struct soft_io *io)
{
	uint64_t dlen;
	int ret = 0;

	if (e->flags & ~(WD_REQ_F_SRC_SG | WD_REQ_F_DST_SG))
		return -EINVAL;
	/* compression's scatter-gather requests are one-shot, no dictionary */
	if (e->flags && (!(def->flags & OP_SG) ||
			 ((def->flags & OP_SG_ONESHOT) && (e->session || e->arg0 || e->arg1))))
		return -EINVAL;
	if (e->flags & WD_REQ_F_SRC_SG) {
		io->src_segs = s->src_segs;
		io->nsrc = e->len;
		ret = map_segments(sq, s, io, e->src, e->len, 0, s->src_segs, &io->src_total);
	} else if (def->flags & OP_NEEDS_SRC) {
		ret = xlate(sq, io, e->src, e->len, 0, &io->src);
	} else if (e->src) {
		return -EINVAL;
	}
	if (ret)
		return ret;
	if (!(e->flags & WD_REQ_F_SRC_SG))
		io->src_total = e->len;
	dlen = def->flags & OP_DST_LEN ? e->dst_len : io->src_total;
	if (e->flags & WD_REQ_F_DST_SG) {
		io->dst_segs = s->dst_segs;
		io->ndst = e->dst_len;
		ret = map_segments(sq, s, io, e->dst, e->dst_len, 1, s->dst_segs, &io->dst_total);
	} else if (def->flags & OP_NEEDS_DST) {
		ret = xlate(sq, io, e->dst, dlen, !(def->flags & OP_DST_IN), &io->dst);
	} else if (e->dst) {
		return -EINVAL;
	}
	/* a compression dictionary (its rules are checked by the op) */
	if (!ret && e->op == WD_OP_COMPRESS && e->arg1 && e->arg1 <= WD_COMP_DICT_MAX)
		ret = xlate(sq, io, e->arg0, e->arg1, 0, &io->dict);
	return ret;
}

static int is_cipher(const wd_sqe *e)
{
	return e->op == WD_OP_ENCRYPT || e->op == WD_OP_DECRYPT;
}

/* The request failed before its op ran: a cipher session's AEAD message
 * ends with it, as it would had the op refused it. */
static int failed_early(struct soft_queue *sq, const wd_sqe *e, int ret)
{
	if (is_cipher(e))
		soft_cipher_abort(sq, e->session);
	return ret;
}

/* Remote SVA: does the destination go back to the client after this
 * status?  A cipher's zeroed output after a failed tag check does. */
static int result_goes_back(const wd_sqe *e, int ret)
{
	if (!ret)
		return 1;
	if (is_cipher(e))
		return ret == -EBADMSG;
	return ret == -ENOSPC || ret == -EBADMSG;
}

static int exec_remote(struct soft_queue *sq, struct soft_scratch *s, const struct soft_opdef *def,
		       const wd_sqe *e, wd_cqe *c)
{
	struct soft_io io = { .held = s->held };
	int ret = map_remote(sq, s, def, e, &io);

	/* this source is in hand: the helper may read the next one */
	read_ahead(sq, s);
	if (ret)
		return failed_early(sq, e, ret);
	ret = def->fn(sq, s, e, &io, c);
	/* results go back even on a failure that wrote part of them */
	if ((def->flags & OP_NEEDS_DST) && !(def->flags & OP_DST_IN) && io.dst &&
	    result_goes_back(e, ret) &&
	    result_back(sq, s, io.dst, e->dst,
			ret && !is_cipher(e) ? 0 : written_bytes(e, &io, c, ret)))
		ret = -EFAULT;
	side_release(sq, s);
	return ret;
}

int soft_exec(struct soft_queue *sq, struct soft_scratch *s, const wd_sqe *e, wd_cqe *c)
{
	struct soft_io io = { .held = s->held };
	const struct soft_opdef *def;
	int ret;

	/* a scatter-gather request's len counts entries; its bytes come later */
	s->src_bytes = e->flags & WD_REQ_F_SRC_SG ? 0 : e->len;
	s->fallbacks = 0;
	if (e->op >= WD_OP__COUNT)
		return -EINVAL;
	if (!(sq->op_mask & (1u << e->op)))
		return -EOPNOTSUPP;
	def = &opdefs[e->op];
	if (e->rsvd)
		return failed_early(sq, e, -EINVAL);
	if ((e->session && !(def->flags & OP_SESSION)) || (e->param && !(def->flags & OP_PARAM)) ||
	    (e->arg1 && !(def->flags & OP_ARG1)) ||
	    (e->dst_len && !(def->flags & OP_DST_LEN) && !(e->flags & WD_REQ_F_DST_SG)))
		return failed_early(sq, e, -EINVAL);
	if (e->len > sq->max_len || e->dst_len > sq->max_len)
		return failed_early(sq, e, -EMSGSIZE);
	if (sq->remote_mem >= 0)
		return exec_remote(sq, s, def, e, c);
	ret = map_buffers(sq, s, def, e, &io);
	if (io.src_segs)
		s->src_bytes = io.src_total;
	if (!ret)
		ret = def->fn(sq, s, e, &io, c);
	else
		failed_early(sq, e, ret);
	if (io.nheld)
		release(sq, &io, written_bytes(e, &io, c, ret));
	side_release(sq, s);
	return ret;
}
