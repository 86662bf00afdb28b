#define _GNU_SOURCE
/* However many users fill the daemon's client slots, root still gets in
 * (up to 8 past the cap), so the administrator can look; another user is
 * refused with -EUSERS as before.  Two users (uids 65534 and 65533) take
 * the 4 clients of a daemon; a third user is refused; root, first through
 * the library, then 7 more raw connections, is served, and refused at the
 * 9th (its own user quota, -C, is higher here). */
#include <sys/socket.h>
#include "t_wdd_raw.h"

/* A child as user uid holding n connections until told to go; returns
 * the pipe to write to for that, once it holds them. */
static int hold(const char *sock, uid_t uid, int n, pid_t *pid)
{
	int ready[2], go[2], i;
	char b;

	T_OK(pipe(ready));
	T_OK(pipe(go));
	*pid = fork();
	T_ASSERT(*pid >= 0);
	if (*pid == 0) {
		struct t_raw r[4];

		close(ready[0]);
		close(go[1]);
		if (setresgid(uid, uid, uid) || setresuid(uid, uid, uid))
			_exit(3);
		for (i = 0; i < n; i++)
			t_raw_open(&r[i], sock);
		if (write(ready[1], "r", 1) != 1)
			_exit(4);
		if (read(go[0], &b, 1) < 0)
			_exit(5);
		_exit(0);
	}
	close(ready[1]);
	close(go[0]);
	T_EQ(read(ready[0], &b, 1), 1);
	close(ready[0]);
	return go[1];
}

/* A refused connection: the daemon says why first, unasked, and hangs up. */
static int refusal(const char *sock)
{
	struct t_raw r;
	struct wdd_hdr h;
	int ret;

	T_OK(t_raw_connect(&r, sock));
	ret = t_raw_recv(&r, &h, NULL, 0, NULL, NULL, 5000) < 0 ? 0 : h.status;
	t_raw_close(&r);
	return ret;
}

/* A connection as user uid: refused with -EUSERS? (0: yes) */
static int first_word(const char *sock, uid_t uid)
{
	int status;
	pid_t pid = fork();

	T_ASSERT(pid >= 0);
	if (pid == 0) {
		if (setresgid(uid, uid, uid) || setresuid(uid, uid, uid))
			_exit(3);
		_exit(refusal(sock) == -EUSERS ? 0 : 1);
	}
	T_EQ(waitpid(pid, &status, 0), pid);
	T_ASSERT(WIFEXITED(status));
	return WEXITSTATUS(status);
}

int main(int argc, char **argv)
{
	static const char *const opts[] = { "-m", "0666", "-c", "4", "-C", "10", NULL };
	struct t_wdd w = { 0 };
	struct t_raw extra[7];
	struct wd_ctx *ctx;
	int go[2], i, status;
	pid_t pid[2];

	if (argc < 2)
		return T_SKIP;
	if (geteuid() != 0) {
		fprintf(stderr, "needs root to act as other users: skipping\n");
		return T_SKIP;
	}
	t_wdd_start(&w, argv[1], opts);
	go[0] = hold(w.sock, 65534, 3, &pid[0]);
	go[1] = hold(w.sock, 65533, 1, &pid[1]);
	/* full: a third user is refused, and says why */
	T_EQ(first_word(w.sock, 65532), 0);
	/* root is not */
	ctx = t_wdd_ctx();
	{
		struct wd_queue *q = t_wdd_queue(ctx, "nop", 0, NULL);
		struct wd_req r;

		wd_prep_nop(&r, 0);
		T_EQ(t_run(q, &r).status, 0);
		wd_queue_free(q);
	}
	/* root's reserve is 8 connections: the library's and 7 more */
	for (i = 0; i < 7; i++)
		t_raw_open(&extra[i], w.sock);
	T_EQ(refusal(w.sock), -EUSERS);
	for (i = 0; i < 7; i++)
		t_raw_close(&extra[i]);
	wd_ctx_free(ctx);
	for (i = 0; i < 2; i++) {
		/* a byte, not EOF: the other child holds this pipe's end too */
		T_EQ(write(go[i], "g", 1), 1);
		close(go[i]);
		T_EQ(waitpid(pid[i], &status, 0), pid[i]);
		T_ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	t_wdd_cleanup(&w);
	printf("ok: 4 clients of two users, a third user refused, root served 8 more, not 9\n");
	return 0;
}
