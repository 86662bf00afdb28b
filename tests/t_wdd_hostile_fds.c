/*
 * Hostile clients and the descriptors the daemon hands out or takes, while
 * two well-behaved clients keep working (t_wdd_hostile.h):
 *
 * cqfd     the completion fd (QUEUE_OPEN reply fd [2]): made blocking, its
 *          counter filled, never read while the ring stays armed.  The engine
 *          must keep serving everyone; closing the queue and new clients work.
 *          After the fix it is the read end of a pipe whose write end the
 *          daemon keeps, non-blocking (today: the daemon's own eventfd, and an
 *          engine thread blocks in eventfd_write forever).
 * doorbell the doorbell (reply fd [1]): read continuously (today it is the
 *          engine thread's eventfd, shared by all: reading it steals the
 *          wake-ups of other clients), made non-blocking, filled, closed; the
 *          victims stay served and the idle daemon does not spin.  After the
 *          fix it is the write end of a pipe of the queue's own.
 * fdkinds  every message type with 0..8 descriptors of every kind: refused
 *          where they make no sense, and none is leaked by the daemon.
 */
#define _GNU_SOURCE
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include "t_wdd_hostile.h"

static void on_usr1(int sig)
{
	(void)sig;
}

/* One no-op on the attacker's raw queue; the engine must answer it. */
static void raw_nop(struct t_rawq *q, const char *what)
{
	struct wd_req r;
	struct wd_cpl c;
	int n;

	wd_prep_nop(&r, 0);
	r.tag = 7;
	T_EQ(t_rawq_submit(q, &r, 1), 1);
	n = t_rawq_reap(q, &c, 1, 5000);
	if (n != 1)
		T_FAIL("%s: the engine did not serve the attacker's own no-op (%d)", what, n);
	T_EQ(c.status, 0);
}

static void s_cqfd(struct t_wdd *w)
{
	uint64_t big = 0xfffffffffffffffeull;
	struct t_raw r;
	struct t_rawq q;
	struct stat st;
	double end;
	ssize_t n;
	unsigned passes = 0;

	t_stage("cqfd: completion fd made blocking, filled and never read", 60);
	t_raw_open(&r, w->sock);
	T_OK(t_raw_queue_open(&r, "nop", 64, 0, 1, &q));
	T_OK(fcntl(q.cq_fd, F_SETFL, fcntl(q.cq_fd, F_GETFL) & ~O_NONBLOCK));
	n = write(q.cq_fd, &big, sizeof(big));
	printf("cqfd: write of 2^64-2 to the completion fd: %zd (%s)\n", n,
	       n < 0 ? strerror(errno) : "accepted: the daemon's own counter is full");
	/* armed, never read: every pass of the engine wants to wake us */
	wd_store_sc(&q.ring.ctl->cq_flags, WD_CQ_WAITING);
	for (end = t_now() + 2; t_now() < end; passes++)
		raw_nop(&q, "cqfd");
	printf("cqfd: %u armed passes, the completion fd never read\n", passes);
	t_victims_check("cqfd attack");
	t_wdd_alive(w, "cqfd");
	/* after the fix: the read end of a pipe, nothing a client can write */
	T_OK(fstat(q.cq_fd, &st));
	if (!S_ISFIFO(st.st_mode) || (fcntl(q.cq_fd, F_GETFL) & O_ACCMODE) != O_RDONLY)
		T_FAIL("cqfd: the completion fd is not the read end of a pipe (mode 0%o, flags 0x%x)",
		       st.st_mode, fcntl(q.cq_fd, F_GETFL));
	T_EQ(t_raw_queue_close(&r, q.id), 0);
	t_rawq_drop(&q);
	t_raw_close(&r);
}

struct reader {
	pthread_t th;
	int fd, stop;
	uint64_t stolen;
	int err;
};

static void *doorbell_reader(void *arg)
{
	struct reader *rd = arg;
	uint64_t v;

	while (!__atomic_load_n(&rd->stop, __ATOMIC_ACQUIRE)) {
		if (read(rd->fd, &v, sizeof(v)) > 0) {
			rd->stolen++;
		} else if (errno != EINTR && errno != EAGAIN) {
			rd->err = errno;
			break;
		}
	}
	return NULL;
}

/* Requests spaced so that the engine falls asleep between them: each needs
 * its doorbell to be heard.  Returns the worst round trip in ms. */
static double paced_probe(const char *what)
{
	struct wd_ctx *ctx = t_wdd_ctx();
	struct wd_queue *q = t_wdd_queue(ctx, "nop", 0, NULL);
	double worst = 0, t0;
	struct wd_req r;
	struct wd_cpl c;
	int i, n;

	for (i = 0; i < 50; i++) {
		usleep(3000);
		wd_prep_nop(&r, 0);
		r.tag = (uint64_t)i;
		t0 = t_now();
		T_EQ(wd_send(q, &r, 1), 1);
		n = wd_wait(q, &c, 1, 2000);
		if (n != 1)
			T_FAIL("%s: a victim's request went unserved for 2 s (%d)", what, n);
		if (t_now() - t0 > worst)
			worst = t_now() - t0;
	}
	wd_queue_free(q);
	wd_ctx_free(ctx);
	printf("%s: paced victim no-ops, worst round trip %.2f ms\n", what, worst * 1e3);
	return worst * 1e3;
}

static void idle_cpu(struct t_wdd *w, const char *what)
{
	double share;

	t_victims_pause(1);
	usleep(100000); /* let the engine threads fall asleep */
	share = t_cpu_share(w->pid, 1.0);
	t_victims_pause(0);
	printf("%s: idle daemon used %.0f%% of a core\n", what, share * 100);
	if (share >= 0.3)
		T_FAIL("%s: the idle daemon spins (%.0f%% of a core)", what, share * 100);
}

static void s_doorbell(struct t_wdd *w)
{
	struct sigaction sa = { .sa_handler = on_usr1 }; /* no SA_RESTART: reads end */
	struct reader rd[2] = { { 0 } };
	struct t_raw r;
	struct t_rawq q[2];
	struct stat st[2];
	uint64_t v = 1;
	long i;
	int k;

	t_stage("doorbell: read by another thread", 60);
	sigaction(SIGUSR1, &sa, NULL);
	t_raw_open(&r, w->sock);
	for (k = 0; k < 2; k++) /* one per engine thread: the daemon balances them */
		T_OK(t_raw_queue_open(&r, "nop", 64, 0, 1, &q[k]));
	for (k = 0; k < 2; k++) {
		rd[k].fd = q[k].db_fd;
		T_OK(-pthread_create(&rd[k].th, NULL, doorbell_reader, &rd[k]));
	}
	paced_probe("doorbell readers");
	t_victims_check("doorbell readers");
	for (k = 0; k < 2; k++) {
		__atomic_store_n(&rd[k].stop, 1, __ATOMIC_RELEASE);
		pthread_kill(rd[k].th, SIGUSR1);
		pthread_join(rd[k].th, NULL);
		printf("doorbell %d: %llu wake-ups read by the attacker, read error %s\n", k,
		       (unsigned long long)rd[k].stolen, rd[k].err ? strerror(rd[k].err) : "none");
	}

	t_stage("doorbell: made non-blocking", 30);
	for (k = 0; k < 2; k++)
		T_OK(fcntl(q[k].db_fd, F_SETFL, fcntl(q[k].db_fd, F_GETFL) | O_NONBLOCK));
	idle_cpu(w, "doorbell non-blocking");
	for (k = 0; k < 2; k++)
		T_OK(fcntl(q[k].db_fd, F_SETFL, fcntl(q[k].db_fd, F_GETFL) & ~O_NONBLOCK));
	raw_nop(&q[0], "doorbell blocking again");

	t_stage("doorbell: filled", 30);
	for (k = 0; k < 2; k++) {
		T_OK(fcntl(q[k].db_fd, F_SETFL, fcntl(q[k].db_fd, F_GETFL) | O_NONBLOCK));
		v = 0xfffffffffffffffeull; /* an eventfd's fill in one write */
		for (i = 0; i < (1 << 20) && write(q[k].db_fd, &v, sizeof(v)) > 0; i++)
			v = 1;
		printf("doorbell %d: %ld writes before it refused (%s)\n", k, i, strerror(errno));
	}
	raw_nop(&q[1], "doorbell full");
	t_victims_check("doorbells full");
	idle_cpu(w, "doorbells full");

	t_stage("doorbell: closed", 30);
	for (k = 0; k < 2; k++) {
		T_OK(fstat(q[k].db_fd, &st[k]));
		close(q[k].db_fd);
		q[k].db_fd = -1;
	}
	t_victims_check("doorbells closed");
	idle_cpu(w, "doorbells closed");
	t_wdd_alive(w, "doorbell");
	/* after the fix: each queue's own pipe, write end only */
	for (k = 0; k < 2; k++)
		if (!S_ISFIFO(st[k].st_mode))
			T_FAIL("doorbell: not a pipe (mode 0%o): a shared engine eventfd?",
			       st[k].st_mode);
	T_ASSERT(st[0].st_ino != st[1].st_ino);
	for (k = 0; k < 2; k++) {
		T_EQ(t_raw_queue_close(&r, q[k].id), 0);
		t_rawq_drop(&q[k]);
	}
	t_raw_close(&r);
}

/* Descriptors of every kind a client could pass. */
static int fd_kind(int kind, int *extra)
{
	int p[2], s[2], fd = -1;

	*extra = -1;
	switch (kind) {
	case 0: return t_memfd(4096, F_SEAL_SHRINK);
	case 1: return t_memfd(4096, 0);
	case 2: T_OK(pipe2(p, O_CLOEXEC)); *extra = p[1]; return p[0];
	case 3: T_OK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, s)); *extra = s[1];
		return s[0];
	case 4: fd = open("/proc/self/mem", O_RDWR | O_CLOEXEC); break;
	case 5: fd = eventfd(0, EFD_CLOEXEC); break;
	case 6: fd = open("/dev/null", O_RDWR | O_CLOEXEC); break;
	case 7: fd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC); break;
	case 8: fd = open("/proc/self/status", O_PATH | O_CLOEXEC); break;
	default: fd = epoll_create1(EPOLL_CLOEXEC); break;
	}
	T_ASSERT(fd >= 0);
	return fd;
}
#define NKINDS 10

static void s_fdkinds(struct t_wdd *w)
{
	static const unsigned counts[] = { 0, 1, 2, 3, 4, 5, 8 };
	char payload[512] = { 0 };
	struct wdd_queue_open_req *qo = (void *)payload;
	struct t_raw r;
	struct wdd_hdr h;
	int base, now = 0, fds[8], extra[8], rfds[4], nr, kind, type, ci, i, tries;
	unsigned sent = 0, refused = 0, hangups = 0;
	ssize_t n;

	t_stage("fdkinds: every message with descriptors of every kind", 120);
	base = t_open_fds(w->pid);
	T_OK(t_raw_connect(&r, w->sock));
	for (type = 0; type <= WDD__TYPES; type++)
		for (kind = 0; kind < NKINDS; kind++)
			for (ci = 0; ci < (int)(sizeof(counts) / sizeof(counts[0])); ci++) {
				memset(payload, 0, sizeof(payload));
				/* a payload the right size for most types; 1 is a valid id */
				payload[0] = 1;
				if (type == WDD_HELLO)
					*(uint32_t *)payload = WDD_VERSION;
				if (type == WDD_QUEUE_OPEN) {
					memset(qo, 0, sizeof(*qo));
					strcpy(qo->alg, "nop");
					qo->depth = 8;
				}
				for (i = 0; i < (int)counts[ci]; i++)
					fds[i] = fd_kind(kind, &extra[i]);
				T_OK(t_raw_send(&r, (uint16_t)type, payload, t_raw_size(type),
						fds, (int)counts[ci]));
				for (i = 0; i < (int)counts[ci]; i++) {
					close(fds[i]);
					if (extra[i] >= 0)
						close(extra[i]);
				}
				sent++;
				n = t_raw_recv(&r, &h, NULL, 0, rfds, &nr, T_RAW_TMO_MS);
				while (nr)
					close(rfds[--nr]);
				if (n == -ETIMEDOUT)
					T_FAIL("fdkinds: type %d with %u fds of kind %d: no answer",
					       type, counts[ci], kind);
				if (n < 0) { /* hung up on us: allowed, come back */
					hangups++;
					t_raw_close(&r);
					T_OK(t_raw_connect(&r, w->sock));
					continue;
				}
				T_EQ(h.seq, r.seq);
				refused += h.status != 0;
				/* an SVA queue takes exactly our rw mem file; a share
				 * exactly one sealed memfd (here: no such domain) */
				if (type == WDD_QUEUE_OPEN && !(kind == 4 && counts[ci] == 1))
					T_ASSERT(h.status < 0);
				if (type == WDD_SHARE)
					T_ASSERT(h.status < 0);
			}
	t_raw_close(&r);
	printf("fdkinds: %u messages, %u refused, %u hang-ups\n", sent, refused, hangups);
	t_wdd_alive(w, "fdkinds");
	/* the daemon kept none of them: back to where it was once we are gone */
	for (tries = 0; tries < 500 && (now = t_open_fds(w->pid)) > base; tries++)
		usleep(10000);
	printf("fdkinds: daemon fds %d before, %d after\n", base, now);
	T_ASSERT(now <= base);
}

int main(int argc, char **argv)
{
	static const struct t_scenario sc[] = {
		{ "cqfd", s_cqfd },
		{ "doorbell", s_doorbell },
		{ "fdkinds", s_fdkinds },
		{ NULL, NULL },
	};

	return t_hostile_main(argc, argv, NULL, sc);
}
