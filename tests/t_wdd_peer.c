#define _GNU_SOURCE
/*
 * Whose daemon the library talks to: only one whose socket's listener is
 * root or runs under the client's own effective uid.  Another user's is
 * refused before HELLO: no wdd0, and never the client's /proc/self/mem,
 * however fast the fake says it is (t_wdd_fake.h: 'h' is a HELLO it got,
 * 'm' a memory file).
 *   client root,  fake nobody  refused (the set-uid attack)
 *   client nobody, fake 65533  refused
 *   client nobody, fake nobody accepted (a user's own daemon)
 *   client root,  fake root    accepted
 * Needs root to be the other users (77 otherwise).
 */
#include "t_wdd_fake.h"

#define NOBODY 65534

static char dir[64];

/* The client, in a child under uid: what it found, as an exit status
 * (1: a failure; 10 and up: it had wdd0). */
static int client(uid_t uid)
{
	struct wd_queue_opts o = { .size = sizeof(o) };
	struct wd_queue *q;
	struct wd_ctx *ctx;
	int status, has;
	pid_t pid = fork();

	T_ASSERT(pid >= 0);
	if (!pid) {
		if (uid != geteuid() && (setresgid(uid, uid, uid) || setresuid(uid, uid, uid)))
			_exit(2);
		/* as a program the user started: its /proc/self/mem its own */
		prctl(PR_SET_DUMPABLE, 1);
		alarm(20);
		ctx = t_ctx(1, 0);
		has = wd_dev_by_name(ctx, "wdd0") != NULL;
		/* the best device for nop: the fake's, if it was let in */
		if (wd_queue_new(&q, ctx, "nop", &o))
			_exit(1);
		wd_queue_free(q);
		wd_ctx_free(ctx);
		_exit(has ? 10 : 0);
	}
	T_EQ(waitpid(pid, &status, 0), pid);
	T_ASSERT(WIFEXITED(status));
	return WEXITSTATUS(status);
}

static void run(uid_t client_uid, uid_t fake_uid, int accepted)
{
	struct t_fake f = { .o = { .throughput = 1000000 } };
	const char *seen;
	char sock[128];
	int got;

	snprintf(sock, sizeof(sock), "%s/fake-%u.sock", dir, (unsigned)fake_uid);
	t_fake_start(&f, sock, fake_uid);
	setenv("WD_WDD_SOCKET", sock, 1);
	got = client(client_uid);
	seen = t_fake_events(&f);
	fprintf(stderr, "client uid %u, fake uid %u: exit %d, the fake saw \"%s\"\n",
		(unsigned)client_uid, (unsigned)fake_uid, got, seen);
	if (accepted) {
		T_EQ(got, 10);
		T_ASSERT(strchr(seen, 'h') && strchr(seen, 'm'));
	} else {
		T_EQ(got, 0);
		/* connected, and hung up before a word */
		T_ASSERT(!strcmp(seen, "cx"));
	}
	t_fake_stop(&f);
}

int main(void)
{
	if (geteuid() != 0) {
		fprintf(stderr, "needs root to act as other users: skipping\n");
		return T_SKIP;
	}
	strcpy(dir, "/tmp/wdd-peer-XXXXXX");
	T_ASSERT(mkdtemp(dir));
	T_ASSERT(!chmod(dir, 01777)); /* the fakes bind there as other users */
	run(0, NOBODY, 0);
	run(NOBODY, NOBODY - 1, 0);
	run(NOBODY, NOBODY, 1);
	run(0, 0, 1);
	rmdir(dir);
	return 0;
}
