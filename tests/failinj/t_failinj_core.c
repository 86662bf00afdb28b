/* SPDX-License-Identifier: MIT */
/*
 * Fault injection on the core control paths, soft device: contexts (every
 * driver's probe), queues (SVA and explicit), domains, memory for sharing,
 * share/unshare with dirty tracking, and leases (an unshare with requests
 * in flight).  Each failure must come back as a negative errno and leave
 * the objects usable (the call is repeated without injection and the
 * sequence goes on), with nothing leaked.  argv: scenario names (globs).
 */
#include <stdlib.h>

#include "fi_lib.h"

/* Every driver probes; the daemon's finds no socket (connect fails). */
static void sc_ctx(const struct fi_scenario *sc)
{
	struct wd_ctx_opts o = { .size = sizeof(o), .soft_threads = 2 };
	struct wd_ctx *ctx = NULL;
	struct wd_queue *q;

	fi_start();
	FI_TRY(wd_ctx_new(&ctx, &o));
	fi_stop();
	q = fi_queue(ctx, "crc32c", "soft0", 0, NULL);
	fi_check_crc(q);
	wd_queue_free(q);
	fi_ctx_free(ctx);
}

/* SVA queues: two at once, stopped and freed in either state. */
static void sc_queue(const struct fi_scenario *sc)
{
	struct wd_ctx *ctx = fi_ctx_local();
	struct wd_queue *q1, *q2;
	struct wd_cpl c;

	fi_start();
	q1 = fi_queue(ctx, "crc32c", NULL, 0, NULL);
	fi_check_crc(q1);
	q2 = fi_queue(ctx, "mover", NULL, WD_QUEUE_F_RING_ONLY, NULL);
	fi_check_crc(q2);
	FI_TRY(wd_queue_stop(q1));
	FI_EXPECT(wd_recv(q1, &c, 1), 0);
	wd_queue_free(q1);
	wd_queue_free(q2);
	fi_stop();
	fi_ctx_free(ctx);
}

/* An explicit queue on a domain of its own (made and freed with it). */
static void sc_queue_explicit(const struct fi_scenario *sc)
{
	FI_BUF(buf, 2 * FI_PAGE);
	struct wd_ctx *ctx = fi_ctx_local();
	struct wd_queue *q;
	struct wd_domain *d;
	uint64_t iova;

	fi_start();
	q = fi_queue(ctx, "copy", NULL, WD_QUEUE_F_EXPLICIT, NULL);
	d = wd_queue_domain(q);
	FI_ASSERT(d != NULL);
	FI_TRY(wd_share(d, buf, sizeof(buf), 0, &iova));
	memset(buf, 0x5a, FI_PAGE);
	FI_TRY(fi_dev_copy(q, iova + FI_PAGE, iova, FI_PAGE));
	FI_ASSERT(buf[FI_PAGE] == 0x5a && buf[2 * FI_PAGE - 1] == 0x5a);
	/* an address outside the domain is an error completion */
	FI_EXPECT(fi_dev_copy(q, iova + FI_PAGE, (uint64_t)(uintptr_t)&q, 8), -EFAULT);
	FI_TRY(wd_unshare(d, iova, 0, 1000));
	wd_queue_free(q);
	fi_stop();
	memset(buf, 0, sizeof(buf));
	fi_ctx_free(ctx);
}

/* A domain of the user's: memory from wd_mem_alloc and from elsewhere
 * shared, a second queue on it, dirty tracking, unshare, free. */
static void sc_domain(const struct fi_scenario *sc)
{
	FI_BUF(plain, 2 * FI_PAGE);
	struct wd_ctx *ctx = fi_ctx_local();
	struct wd_domain *d = NULL;
	struct wd_queue *q;
	uint64_t im, ip, bits[1];
	unsigned char *m;

	fi_start();
	FI_TRY(wd_domain_new(&d, ctx, "soft0"));
	FI_TRY_PTR(m, wd_mem_alloc(3 * FI_PAGE));
	FI_TRY(wd_share(d, m, 3 * FI_PAGE, 0, &im));
	/* not ours: the kernel's map of the process says what backs it */
	FI_TRY(wd_share(d, plain, sizeof(plain), WD_SHARE_READONLY, &ip));
	q = fi_queue(ctx, "copy", NULL, WD_QUEUE_F_EXPLICIT, d);
	FI_TRY(wd_dirty_start(d));
	memset(plain, 0x33, sizeof(plain));
	FI_TRY(fi_dev_copy(q, im + FI_PAGE, ip, FI_PAGE));
	FI_ASSERT(m[FI_PAGE] == 0x33 && m[2 * FI_PAGE - 1] == 0x33);
	FI_EXPECT(wd_dirty_read_clear(d, im, 3 * FI_PAGE, bits), 1);
	FI_ASSERT(bits[0] == 2);
	FI_TRY(wd_dirty_stop(d));
	FI_TRY(wd_unshare(d, ip, 0, 1000));
	FI_TRY(wd_unshare(d, im, WD_UNSHARE_NOWAIT, 0));
	FI_EXPECT(wd_domain_free(d), -EBUSY); /* the queue still uses it */
	wd_queue_free(q);
	FI_TRY(wd_domain_free(d));
	wd_mem_free(m, 3 * FI_PAGE);
	fi_stop();
	fi_ctx_free(ctx);
}

/* The lease: an unshare while a request submitted before it is in flight
 * waits for it (or, asked not to wait, is -EBUSY). */
static void sc_lease(const struct fi_scenario *sc)
{
	FI_BUF(buf, FI_PAGE);
	struct wd_ctx *ctx = fi_ctx_local();
	struct wd_queue *q = fi_queue(ctx, "mover", NULL, WD_QUEUE_F_EXPLICIT, NULL);
	struct wd_domain *d = wd_queue_domain(q);
	struct wd_req r;
	struct wd_cpl c;
	uint64_t iova;
	double t0;

	fi_start();
	FI_TRY(wd_share(d, buf, sizeof(buf), 0, &iova));
	wd_prep_nop(&r, 100 * 1000 * 1000); /* in flight for 100 ms */
	r.tag = 1;
	t0 = fi_now();
	FI_ASSERT(wd_send(q, &r, 1) == 1);
	fi_unshare_busy(d, buf, sizeof(buf), &iova, t0, 0.1);
	FI_TRY(wd_unshare(d, iova, 0, 10000));
	FI_ASSERT(wd_wait(q, &c, 1, 0) == 1 && c.tag == 1 && c.status == 0);
	fi_stop();
	wd_queue_free(q);
	fi_ctx_free(ctx);
}

static const struct fi_scenario scenarios[] = {
	{ "ctx", FI_ROLE_CLIENT, sc_ctx, 0 },
	{ "queue", FI_ROLE_CLIENT, sc_queue, 0 },
	{ "queue_explicit", FI_ROLE_CLIENT, sc_queue_explicit, 0 },
	{ "domain", FI_ROLE_CLIENT, sc_domain, 0 },
	{ "lease", FI_ROLE_CLIENT, sc_lease, 0 },
};

int main(int argc, char **argv)
{
	/* the daemon's driver probes too, and finds nobody there */
	setenv("WD_WDD_SOCKET", "/nonexistent/wdd.sock", 1);
	return fi_main(argc, argv, scenarios, sizeof(scenarios) / sizeof(scenarios[0]));
}
