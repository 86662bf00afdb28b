#define _GNU_SOURCE
/*
 * A daemon that lies to the client (t_wdd_fake.h, under our own uid, so
 * the library talks to it): whatever it answers, the client gets an error
 * or a working queue, never a crash, a hang or a status out of contract.
 *   ring_empty    the ring memfd of size 0                -EPROTO (was SIGBUS)
 *   ring_short    shorter than the ring                   -EPROTO
 *   ring_unsealed the right size, unsealed, shrunk later  -EPROTO (was SIGBUS)
 *   ring_file     a file on disk, not a memfd             -EPROTO
 *   blocking      blocking pipes, the doorbell full       arm and send return
 *   wrong_fds     an eventfd for a pipe, the other ends   -EPROTO
 *   status        QUEUE_OPEN answered 5, -5000, INT32_MIN -EPROTO; -ENOSPC as is
 *   algs_255      HELLO's last name ending at byte 255    both names, nothing read
 *                                                         past the list (UBSan)
 *   dirty_count   DIRTY_READ's count negative, too large  -EPROTO
 *   good          an honest reply                         a queue (the control)
 * Each client runs in a child under an alarm: a signal is a failure with
 * its name.  argv[1]: one scenario by name (all by default).
 */
#include <limits.h>
#include <wd/mem.h>
#include "t_wdd_fake.h"

#define T_LEN(a) (sizeof(a) / sizeof((a)[0]))

static char dir[64];

/* A queue on the fake's wdd0: what wd_queue_new returned. */
static int open_queue(struct wd_ctx *ctx, unsigned depth, struct wd_queue **q)
{
	struct wd_queue_opts o = { .size = sizeof(o), .depth = depth, .device = "wdd0",
				   .flags = WD_QUEUE_F_NO_FALLBACK };

	*q = NULL;
	return wd_queue_new(q, ctx, "nop", &o);
}

static struct wd_ctx *fake_ctx(void)
{
	struct wd_ctx *ctx = t_ctx(1, 0);

	T_ASSERT(wd_dev_by_name(ctx, "wdd0") != NULL);
	return ctx;
}

/* The client's side of a scenario whose queue must be refused. */
static void refused(int want)
{
	struct wd_ctx *ctx = fake_ctx();
	struct wd_queue *q;

	/* 256 deep: a ring of several pages, so a short one is short */
	T_EQ(open_queue(ctx, 256, &q), want);
	T_ASSERT(q == NULL);
	wd_ctx_free(ctx);
}

static void c_ring(void)
{
	refused(-EPROTO);
}

/* Nothing may wait for good: the arm drains an empty completion pipe, the
 * send rings a full doorbell. */
static void c_blocking(void)
{
	struct wd_ctx *ctx = fake_ctx();
	struct wd_queue *q;
	struct wd_req r;

	T_EQ(open_queue(ctx, 32, &q), 0);
	T_EQ(wd_queue_arm(q), 0);
	wd_prep_nop(&r, 0);
	T_EQ(wd_send(q, &r, 1), 1);
	wd_queue_free(q);
	wd_ctx_free(ctx);
}

static void c_good(void)
{
	struct wd_ctx *ctx = fake_ctx();
	struct wd_queue *q;

	T_EQ(open_queue(ctx, 256, &q), 0);
	wd_queue_free(q);
	wd_ctx_free(ctx);
}

static void c_algs(void)
{
	struct wd_ctx *ctx = fake_ctx();
	struct wd_dev *dev = wd_dev_by_name(ctx, "wdd0");
	struct wd_dev_info info = { .size = sizeof(info) };

	T_OK(wd_dev_info(dev, &info));
	T_EQ(info.n_algs, 2);
	T_ASSERT(wd_dev_has_alg(dev, "nop"));
	T_EQ(strlen(wd_dev_alg(dev, 1)), 251);
	T_ASSERT(wd_dev_alg(dev, 2) == NULL);
	wd_ctx_free(ctx);
}

static void c_dirty(void)
{
	struct wd_ctx *ctx = fake_ctx();
	struct wd_domain *d;
	uint64_t bitmap[1];

	T_OK(wd_domain_new(&d, ctx, "wdd0"));
	T_OK(wd_dirty_start(d));
	/* 64 pages: a count must be 0..64 */
	T_EQ(wd_dirty_read_clear(d, 0, 64 * (uint64_t)sysconf(_SC_PAGESIZE), bitmap), -EPROTO);
	wd_domain_free(d);
	wd_ctx_free(ctx);
}

static int status_want;

static void c_status(void)
{
	refused(status_want);
}

static void run(const char *name, const struct t_fake_opts *o, void (*client)(void))
{
	struct t_fake f = { .o = *o };
	char sock[128];
	int status;
	pid_t pid;

	snprintf(sock, sizeof(sock), "%s/fake.sock", dir);
	t_fake_start(&f, sock, geteuid());
	setenv("WD_WDD_SOCKET", sock, 1);
	pid = fork();
	T_ASSERT(pid >= 0);
	if (!pid) {
		alarm(10); /* a client that blocks for good */
		client();
		exit(0);
	}
	T_EQ(waitpid(pid, &status, 0), pid);
	if (WIFSIGNALED(status))
		T_FAIL("%s: the client was killed by %s", name, strsignal(WTERMSIG(status)));
	if (WEXITSTATUS(status))
		T_FAIL("%s: the client failed (%d)", name, WEXITSTATUS(status));
	t_fake_stop(&f);
	fprintf(stderr, "%s: ok\n", name);
}

int main(int argc, char **argv)
{
	static char algs[256];
	const char *only = argc > 1 ? argv[1] : NULL;
	static const int32_t bad_status[] = { 5, -5000, INT32_MIN };
	struct {
		const char *name;
		struct t_fake_opts o;
		void (*client)(void);
	} sc[] = {
		{ "good", { 0 }, c_good },
		{ "ring_empty", { .ring_len = -1 }, c_ring },
		{ "ring_short", { .ring_len = 4096 }, c_ring },
		{ "ring_unsealed", { .unsealed = 1, .truncate_ms = 100 }, c_ring },
		{ "ring_file", { .ring_file = 1 }, c_ring },
		{ "blocking", { .blocking = 1 }, c_blocking },
		{ "wrong_fds", { .wrong_fd = 1 }, c_ring },
		{ "wrong_fds", { .wrong_fd = 2 }, c_ring },
		{ "wrong_fds", { .wrong_fd = 3 }, c_ring },
		{ "algs_255", { .algs = algs, .algs_len = sizeof(algs) }, c_algs },
		{ "dirty_count", { .dirty_count = -5 }, c_dirty },
		{ "dirty_count", { .dirty_count = 65 }, c_dirty },
	};
	unsigned i;

	/* "nop", then a name of bytes 4..254: its NUL is the list's last byte */
	memcpy(algs, "nop", 4);
	memset(algs + 4, 'a', 251);
	strcpy(dir, "/tmp/wdd-lying-XXXXXX");
	T_ASSERT(mkdtemp(dir));
	for (i = 0; i < T_LEN(sc); i++)
		if (!only || !strcmp(only, sc[i].name))
			run(sc[i].name, &sc[i].o, sc[i].client);
	if (!only || !strcmp(only, "status")) {
		struct t_fake_opts o = { .open_status = -ENOSPC };

		status_want = -ENOSPC; /* a real error passes as it is */
		run("status", &o, c_status);
		for (i = 0; i < T_LEN(bad_status); i++) {
			o.open_status = bad_status[i];
			status_want = -EPROTO;
			run("status", &o, c_status);
		}
	}
	rmdir(dir);
	return 0;
}
