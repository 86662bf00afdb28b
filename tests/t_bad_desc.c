/* The device treats every descriptor as untrusted: each malformed one gets
 * an error completion with a precise status, and the queue keeps working.
 * Random garbage written straight into the ring gets the same treatment. */
#include "core/internal.h"
#include "t_helpers.h"

static char buf[4096], buf2[4096];

static void expect(struct wd_queue *q, struct wd_req *r, int status, const char *what)
{
	struct wd_cpl c;

	r->tag = 0xfeed;
	c = t_run(q, r);
	if (c.status != status)
		T_FAIL("%s: status %d (%s), expected %d", what, c.status, wd_strerror(c.status),
		       status);
}

int main(void)
{
	uint64_t seed = t_seed();
	struct wd_ctx *ctx = t_ctx(1, 0);
	struct wd_queue *q = t_queue(ctx, "mover", 16);
	struct wd_queue *qc = t_queue(ctx, "crc32c", 16);
	struct wd_req r;
	struct wd_cpl c;
	unsigned i;

	memset(&r, 0, sizeof(r));
	r.op = WD_OP__COUNT;
	expect(q, &r, -EINVAL, "unknown opcode");
	r.op = 0xff;
	expect(q, &r, -EINVAL, "opcode 255");

	wd_prep_copy(&r, buf, buf2, 16);
	expect(qc, &r, -EOPNOTSUPP, "copy on a crc32c queue");

	wd_prep_copy(&r, buf, buf2, 16);
	r.flags = 0x80;
	expect(q, &r, -EINVAL, "unknown flag");
	wd_prep_copy(&r, buf, buf2, 16);
	r.rsvd = 1;
	expect(q, &r, -EINVAL, "reserved field");
	wd_prep_copy(&r, buf, buf2, 16);
	r.session = 1;
	expect(q, &r, -EINVAL, "session on a mover op");
	wd_prep_copy(&r, buf, buf2, 16);
	r.dst_len = 16;
	expect(q, &r, -EINVAL, "dst_len on a mover op");
	wd_prep_copy(&r, buf, buf2, 16);
	r.param = 1;
	expect(q, &r, -EINVAL, "param on a mover op");
	wd_prep_copy(&r, buf, buf2, 16);
	r.arg1 = 5;
	expect(q, &r, -EINVAL, "arg1 on a mover op");

	wd_prep_copy(&r, buf, buf2, (1u << 30) + 1);
	expect(q, &r, -EMSGSIZE, "length over the device limit");
	wd_prep_copy(&r, NULL, buf2, 16);
	expect(q, &r, -EFAULT, "null destination");
	wd_prep_copy(&r, buf, NULL, 16);
	expect(q, &r, -EFAULT, "null source");
	wd_prep_copy(&r, (void *)(uintptr_t)0xffff800000000000ull, buf2, 16);
	expect(q, &r, -EFAULT, "kernel address");
	wd_prep_copy(&r, buf, (void *)(uintptr_t)((1ull << 47) - 8), 16);
	expect(q, &r, -EFAULT, "range crossing the end of user space");
	wd_prep_fill(&r, buf, 0, 16);
	r.src = (uintptr_t)buf2;
	expect(q, &r, -EINVAL, "source on a fill");
	wd_prep_crc32c(&r, buf, 16, 0);
	r.dst = (uintptr_t)buf2;
	expect(q, &r, -EINVAL, "destination on a crc");
	wd_prep_crc32c(&r, buf, 16, 0);
	r.arg0 = 1ull << 32;
	expect(q, &r, -EINVAL, "crc seed over 32 bits");
	wd_prep_nop(&r, 2000000000ull);
	expect(q, &r, -EINVAL, "no-op delay over 1 s");
	wd_prep_nop(&r, 0);
	r.len = 4;
	expect(q, &r, -EINVAL, "no-op with a length");

	/* Garbage written straight into the ring, bypassing wd_send.  Every
	 * entry has a nonzero reserved word so it can never be a valid request
	 * that would touch memory; everything else is random. */
	for (i = 0; i < 2000; i++) {
		struct wd_ring *ring = &q->ring;
		wd_sqe *e = &ring->sqes[q->sq_tail & ring->sq_mask];

		t_fill_random(e, sizeof(*e), &seed);
		e->rsvd |= 1;
		e->tag = i;
		q->sq_tail++;
		q->inflight++;
		wd_store_sc(&ring->ctl->sq_tail, q->sq_tail);
		if (wd_load_sc(&ring->ctl->sq_flags) & WD_SQ_NEED_WAKEUP)
			q->ops->kick(q);
		T_EQ(wd_wait(q, &c, 1, 5000), 1);
		T_EQ(c.tag, i);
		T_ASSERT(c.status == -EINVAL || c.status == -EOPNOTSUPP || c.status == -EMSGSIZE);
	}

	/* Still alive and correct. */
	memset(buf2, 0x5a, sizeof(buf2));
	wd_prep_copy(&r, buf, buf2, sizeof(buf));
	expect(q, &r, 0, "good copy after bad ones");
	T_ASSERT(!memcmp(buf, buf2, sizeof(buf)));
	wd_queue_free(qc);
	wd_queue_free(q);
	wd_ctx_free(ctx);
	return 0;
}
