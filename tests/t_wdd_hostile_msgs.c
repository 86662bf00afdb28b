/*
 * Malformed control messages, while two well-behaved clients keep working
 * (t_wdd_hostile.h).  The daemon checks the size of every message against
 * its type and never trusts a field (proto.h); a refusal is a reply with a
 * negative status or a hang-up, never a crash, a leak or a stall.
 *
 * sizes    every type one byte short and one byte long: refused.
 * rsvd     reserved fields and flags not zero, on otherwise valid requests
 *          naming existing objects: -EINVAL.
 * overflow counts, lengths, ids and depths at their limits (UINT64_MAX,
 *          wrapping ranges), unknown types, a header whose len lies, a bad
 *          magic: refused.
 * repeat   the same queue closed twice, the same domain freed twice, the same
 *          range unshared twice: 0, then -ENOENT.
 * seq      sequence numbers reused (0, the same twice, UINT64_MAX): every
 *          reply echoes its request's.
 * Afterwards the daemon answers and holds no descriptor more than before.
 */
#define _GNU_SOURCE
#include "t_wdd_hostile.h"

static char buf[1024];

/* Send type with a payload of len bytes (from p, zero padded); the status,
 * or 1 when the daemon hung up (then r is connected again). */
static int raw_try(struct t_wdd *w, struct t_raw *r, int type, const void *p, uint32_t len)
{
	struct wdd_hdr h;
	ssize_t n;

	memset(buf, 0, sizeof(buf));
	if (p)
		memcpy(buf, p, len < sizeof(buf) ? len : sizeof(buf));
	T_OK(t_raw_send(r, (uint16_t)type, buf, len, NULL, 0));
	n = t_raw_recv(r, &h, NULL, 0, NULL, NULL, T_RAW_TMO_MS);
	if (n == -ETIMEDOUT)
		T_FAIL("type %d, %u bytes: no answer", type, len);
	if (n < 0) {
		t_raw_close(r);
		t_raw_open(r, w->sock);
		return 1;
	}
	T_EQ(h.seq, r->seq);
	T_EQ(h.type, type);
	return h.status;
}

static void s_sizes(struct t_wdd *w, struct t_raw *r)
{
	int type, st;

	t_stage("sizes: every type one byte short and one byte long", 60);
	for (type = WDD_HELLO; type < WDD__TYPES; type++) {
		uint32_t len = t_raw_size(type);

		if (len) {
			st = raw_try(w, r, type, NULL, len - 1);
			printf("sizes: type %d, %u bytes (one short): %d\n", type, len - 1, st);
			T_ASSERT(st != 0);
		}
		st = raw_try(w, r, type, NULL, len + 1);
		printf("sizes: type %d, %u bytes (one long): %d\n", type, len + 1, st);
		T_ASSERT(st != 0);
	}
}

static void s_rsvd(struct t_wdd *w, struct t_raw *r)
{
	struct wdd_hello_req hello = { .version = WDD_VERSION, .rsvd = 1 };
	struct t_rawq q;
	uint32_t dom;

	t_stage("rsvd: reserved fields not zero", 60);
	T_OK(t_raw_domain_new(r, &dom));
	T_OK(t_raw_queue_open(r, "mover", 8, dom, 0, &q));
	t_rawq_drop(&q);
	T_EQ(raw_try(w, r, WDD_HELLO, &hello, sizeof(hello)), -EINVAL);
	{
		struct wdd_queue_close_req c = { .queue = q.id, .rsvd = 1 };

		T_EQ(raw_try(w, r, WDD_QUEUE_CLOSE, &c, sizeof(c)), -EINVAL);
	}
	{
		struct wdd_domain_req d = { .domain = dom, .flags = 1 };

		T_EQ(raw_try(w, r, WDD_PIN_LIMIT, &d, sizeof(d)), -EINVAL);
		T_EQ(raw_try(w, r, WDD_DOMAIN_FREE, &d, sizeof(d)), -EINVAL);
	}
	{
		struct wdd_unshare_req u = { .domain = dom, .iova = 0x1000, .rsvd = 1 };

		T_EQ(raw_try(w, r, WDD_UNSHARE, &u, sizeof(u)), -EINVAL);
	}
	{
		struct wdd_dirty_req d = { .domain = dom, .rsvd = 1, .len = 4096 };

		T_EQ(raw_try(w, r, WDD_DIRTY_START, &d, sizeof(d)), -EINVAL);
		T_EQ(raw_try(w, r, WDD_DIRTY_READ, &d, sizeof(d)), -EINVAL);
	}
	{
		struct wdd_queue_open_req o = { .depth = 8, .flags = 0x80, .domain = dom };

		strcpy(o.alg, "mover");
		T_EQ(raw_try(w, r, WDD_QUEUE_OPEN, &o, sizeof(o)), -EINVAL);
	}
	T_EQ(t_raw_queue_close(r, q.id), 0);
	T_EQ(t_raw_domain_free(r, dom), 0);
}

static void s_overflow(struct t_wdd *w, struct t_raw *r)
{
	static const uint32_t ids[] = { 0, 65, 1000, UINT32_MAX };
	struct wdd_dirty_req d = { 0 };
	struct wdd_queue_open_req o = { 0 };
	struct wdd_cipher_req c = { 0 };
	uint32_t dom;
	unsigned i;
	int st;

	t_stage("overflow: limits, wrapping ranges, lying headers", 60);
	T_OK(t_raw_domain_new(r, &dom));
	d.domain = dom;
	T_OK(raw_try(w, r, WDD_DIRTY_START, &d, sizeof(d)));
	d.len = UINT64_MAX;
	T_ASSERT(raw_try(w, r, WDD_DIRTY_READ, &d, sizeof(d)) < 0);
	d.iova = UINT64_MAX - 4095;
	d.len = 8192;
	T_ASSERT(raw_try(w, r, WDD_DIRTY_READ, &d, sizeof(d)) < 0);
	d.iova = 0;
	d.len = (uint64_t)WDD_DIRTY_CHUNK * 8 * 4096; /* the most one reply holds */
	st = raw_try(w, r, WDD_DIRTY_READ, &d, sizeof(d));
	printf("overflow: dirty read of a whole chunk of nothing: %d\n", st);
	T_ASSERT(st <= 0);
	T_EQ(t_raw_unshare(r, dom, UINT64_MAX, 0), -ENOENT);
	for (i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		struct wdd_domain_req dr = { .domain = ids[i], .arg = UINT64_MAX };

		T_EQ(raw_try(w, r, WDD_DOMAIN_FREE, &dr, sizeof(dr)), -ENOENT);
		T_EQ(raw_try(w, r, WDD_PIN_LIMIT, &dr, sizeof(dr)), -ENOENT);
		T_EQ(t_raw_queue_close(r, ids[i]), -ENOENT);
		c.queue = ids[i];
		c.session = ids[i];
		T_ASSERT(raw_try(w, r, WDD_CIPHER_SESSION, &c, sizeof(c)) < 0);
	}
	strcpy(o.alg, "mover");
	for (i = 0; i < 3; i++) {
		o.depth = i == 0 ? UINT32_MAX : i == 1 ? WD_RING_MAX_ENTRIES + 1 : 0x80000001u;
		o.flags = WD_QUEUE_F_EXPLICIT;
		o.domain = dom;
		T_EQ(raw_try(w, r, WDD_QUEUE_OPEN, &o, sizeof(o)), -EINVAL);
	}
	memset(o.alg, 'A', sizeof(o.alg)); /* no NUL */
	o.depth = 8;
	T_ASSERT(raw_try(w, r, WDD_QUEUE_OPEN, &o, sizeof(o)) < 0);
	T_ASSERT(raw_try(w, r, 0, NULL, 0) < 0);
	T_ASSERT(raw_try(w, r, WDD__TYPES, NULL, 16) < 0);
	T_ASSERT(raw_try(w, r, 0xffff, NULL, 16) < 0);
	T_ASSERT(raw_try(w, r, WDD_STATS, NULL, sizeof(buf)) != 0);
	{
		/* a header whose len is not what came, and a bad magic */
		struct wdd_hdr h = { .magic = WDD_MAGIC, .type = WDD_DOMAIN_NEW, .len = 1000,
				     .seq = ++r->seq };
		ssize_t n;

		T_ASSERT(send(r->fd, &h, sizeof(h), MSG_NOSIGNAL) == sizeof(h));
		n = t_raw_recv(r, &h, NULL, 0, NULL, NULL, T_RAW_TMO_MS);
		T_ASSERT(n != -ETIMEDOUT && (n < 0 || h.status < 0));
		t_raw_close(r);
		t_raw_open(r, w->sock);
		h.magic = 0x12345678;
		h.len = 0;
		T_ASSERT(send(r->fd, &h, sizeof(h), MSG_NOSIGNAL) == sizeof(h));
		n = t_raw_recv(r, &h, NULL, 0, NULL, NULL, T_RAW_TMO_MS);
		T_ASSERT(n != -ETIMEDOUT && (n < 0 || h.status < 0));
		T_ASSERT(send(r->fd, &h, 3, MSG_NOSIGNAL) == 3 || errno == EPIPE);
		t_raw_close(r);
		t_raw_open(r, w->sock);
	}
}

static void s_repeat(struct t_wdd *w, struct t_raw *r)
{
	struct t_rawq q;
	uint32_t dom;
	uint64_t iova;
	int fd = t_memfd(4096, F_SEAL_SHRINK);

	(void)w;
	t_stage("repeat: closed, freed and unshared twice", 60);
	T_OK(t_raw_queue_open(r, "nop", 8, 0, 0, &q));
	t_rawq_drop(&q);
	T_EQ(t_raw_queue_close(r, q.id), 0);
	T_EQ(t_raw_queue_close(r, q.id), -ENOENT);
	T_OK(t_raw_domain_new(r, &dom));
	T_OK(t_raw_share(r, dom, 0, 0x50000000, 4096, 0, fd, &iova));
	T_EQ(t_raw_unshare(r, dom, iova, 0), 0);
	T_EQ(t_raw_unshare(r, dom, iova, 0), -ENOENT);
	T_EQ(t_raw_domain_free(r, dom), 0);
	T_EQ(t_raw_domain_free(r, dom), -ENOENT);
	T_EQ(t_raw_unshare(r, dom, iova, 0), -ENOENT);
	close(fd);
}

static void s_seq(struct t_wdd *w, struct t_raw *r)
{
	static const uint64_t seqs[] = { 0, 5, 5, UINT64_MAX, 5 };
	struct wdd_domain_rep rep;
	struct wdd_hdr h;
	uint32_t seen[5];
	unsigned i, j;

	(void)w;
	t_stage("seq: sequence numbers reused", 60);
	for (i = 0; i < 5; i++) /* pipelined, then the replies */
		T_OK(t_raw_send_ex(r, WDD_DOMAIN_NEW, seqs[i], NULL, 0, NULL, 0, 0));
	for (i = 0; i < 5; i++) {
		T_EQ(t_raw_recv(r, &h, &rep, sizeof(rep), NULL, NULL, T_RAW_TMO_MS), sizeof(rep));
		T_EQ(h.seq, seqs[i]);
		T_EQ(h.status, 0);
		seen[i] = rep.domain;
		for (j = 0; j < i; j++)
			T_ASSERT(seen[j] != seen[i]);
	}
	for (i = 0; i < 5; i++)
		T_EQ(t_raw_domain_free(r, seen[i]), 0);
}

int main(int argc, char **argv)
{
	struct t_wdd w = { 0 };
	struct t_raw r;
	int base, now = 0, tries;

	if (argc < 2)
		return T_SKIP;
	t_stage("daemon and victims start", 60);
	t_wdd_start(&w, argv[1], NULL);
	t_victims_start();
	base = t_open_fds(w.pid);
	t_raw_open(&r, w.sock);
	if (t_want(argc, argv, "sizes"))
		s_sizes(&w, &r);
	if (t_want(argc, argv, "rsvd"))
		s_rsvd(&w, &r);
	if (t_want(argc, argv, "overflow"))
		s_overflow(&w, &r);
	if (t_want(argc, argv, "repeat"))
		s_repeat(&w, &r);
	if (t_want(argc, argv, "seq"))
		s_seq(&w, &r);
	t_raw_close(&r);
	t_victims_check("malformed messages");
	t_wdd_alive(&w, "malformed messages");
	for (tries = 0; tries < 500 && (now = t_open_fds(w.pid)) > base; tries++)
		usleep(10000);
	printf("msgs: daemon fds %d before, %d after\n", base, now);
	T_ASSERT(now <= base);
	t_stage("victims stop, daemon exits", 60);
	t_victims_stop();
	t_wdd_cleanup(&w);
	return 0;
}
