/* SPDX-License-Identifier: MIT */
/*
 * A fork child keeps ciphering through the provider on queues of its own:
 * a context made in the parent (its session is the parent's: the library
 * answers -ECHILD there) goes on in the child, with the right bytes, and
 * so do new ones; the child's statistics start from zero and are printed
 * with its own pid.  Forks taken while another thread is in the middle of
 * a request (its queue locked) must not leave the child waiting for that
 * lock.  The parent goes on afterwards.
 * argv[1]: the directory holding wd.so.
 */
#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>

#include "tp.h"

#define LEN 8192

static struct tp t;
static int stop;

/* CBC through wd in steps of LEN, checked against one default-provider run. */
static void check_stream(EVP_CIPHER_CTX *x, EVP_CIPHER *def, const uint8_t *key,
			 const uint8_t *iv, int steps)
{
	static uint8_t in[LEN * 4], out[LEN * 4 + 16], ref[LEN * 4 + 16];
	EVP_CIPHER_CTX *d = EVP_CIPHER_CTX_new();
	int n, m, i;

	T_ASSERT(steps <= 4);
	memset(in, 0x5a, sizeof(in));
	for (i = 0; i < steps; i++) {
		T_ASSERT(EVP_EncryptUpdate(x, out + i * LEN, &n, in + i * LEN, LEN));
		T_EQ(n, LEN);
	}
	T_ASSERT(EVP_EncryptInit_ex2(d, def, key, iv, NULL));
	T_ASSERT(EVP_EncryptUpdate(d, ref, &m, in, LEN * steps));
	T_EQ(m, LEN * steps);
	if (memcmp(out, ref, (size_t)m))
		T_FAIL("output differs from the default provider's");
	EVP_CIPHER_CTX_free(d);
}

/* Encrypts in a loop until told to stop: a request may be running (its
 * queue locked) at any instant. */
static void *busy(void *arg)
{
	static uint8_t buf[LEN];
	EVP_CIPHER *c = arg;
	EVP_CIPHER_CTX *x = EVP_CIPHER_CTX_new();
	uint8_t key[16] = { 3 }, iv[16] = { 4 };
	int n;

	T_ASSERT(EVP_EncryptInit_ex2(x, c, key, iv, NULL));
	while (!__atomic_load_n(&stop, __ATOMIC_RELAXED))
		T_ASSERT(EVP_EncryptUpdate(x, buf, &n, buf, LEN));
	EVP_CIPHER_CTX_free(x);
	return NULL;
}

static int wait_child(pid_t pid)
{
	int status, i;

	for (i = 0; i < 3000; i++) {
		if (waitpid(pid, &status, WNOHANG) == pid)
			return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
		usleep(10000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	T_FAIL("fork child %d hung", (int)pid);
}

int main(int argc, char **argv)
{
	char conf[512], path[128], line[1024], want[64];
	uint8_t key[16] = { 1 }, iv[16] = { 2 };
	EVP_CIPHER *c, *def;
	EVP_CIPHER_CTX *x;
	unsigned lines = 0, child_lines = 0;
	pthread_t th;
	FILE *f;
	pid_t pid;
	int i;

	if (argc < 2)
		T_FAIL("usage: t_prov_fork MODULE_DIR");
	snprintf(path, sizeof(path), "/tmp/t_prov_fork-%d.stats", (int)getpid());
	unlink(path);
	snprintf(conf, sizeof(conf), "threshold = 0\nstats = %s\n", path);
	tp_open(&t, argv[1], conf);
	c = tp_fetch(&t, "AES-128-CBC", 1);
	def = tp_fetch(&t, "AES-128-CBC", 0);
	T_ASSERT(c && def);

	/* a stream begun in the parent, on the parent's queue */
	x = EVP_CIPHER_CTX_new();
	T_ASSERT(EVP_EncryptInit_ex2(x, c, key, iv, NULL));
	check_stream(x, def, key, iv, 1);
	pid = fork();
	T_ASSERT(pid >= 0);
	if (pid == 0) {
		EVP_CIPHER_CTX *y = EVP_CIPHER_CTX_new();

		/* the same context goes on: the parent's session is not ours */
		T_ASSERT(EVP_EncryptInit_ex2(x, NULL, key, iv, NULL));
		check_stream(x, def, key, iv, 3);
		T_ASSERT(EVP_EncryptInit_ex2(y, c, key, iv, NULL));
		check_stream(y, def, key, iv, 2);
		tp_stats(&t, line, sizeof(line));
		/* the parent's operation is not counted here */
		T_EQ(tp_stat(line, "ops.wd"), 5);
		EVP_CIPHER_CTX_free(y);
		EVP_CIPHER_CTX_free(x);
		EVP_CIPHER_free(c);
		EVP_CIPHER_free(def);
		tp_close(&t);
		exit(0);
	}
	T_EQ(wait_child(pid), 0);
	/* the parent's stream is untouched by the child */
	T_ASSERT(EVP_EncryptInit_ex2(x, NULL, key, iv, NULL));
	check_stream(x, def, key, iv, 2);

	/* forks while another thread is in a request */
	T_ASSERT(!pthread_create(&th, NULL, busy, c));
	for (i = 0; i < 20; i++) {
		usleep(1000);
		pid = fork();
		T_ASSERT(pid >= 0);
		if (pid == 0) {
			EVP_CIPHER_CTX *y = EVP_CIPHER_CTX_new();

			T_ASSERT(EVP_EncryptInit_ex2(y, c, key, iv, NULL));
			check_stream(y, def, key, iv, 1);
			EVP_CIPHER_CTX_free(y);
			_exit(0); /* skip the exit handlers: the busy thread is not here */
		}
		T_EQ(wait_child(pid), 0);
	}
	__atomic_store_n(&stop, 1, __ATOMIC_RELAXED);
	pthread_join(th, NULL);
	EVP_CIPHER_CTX_free(x);
	EVP_CIPHER_free(c);
	EVP_CIPHER_free(def);
	tp_close(&t);

	/* one line from the first child (its pid), one from the parent */
	f = fopen(path, "r");
	T_ASSERT(f);
	snprintf(want, sizeof(want), "pid=%d ", (int)getpid());
	while (fgets(line, sizeof(line), f)) {
		printf("%s", line);
		T_ASSERT(!strncmp(line, "wd-prov: pid=", 13));
		lines++;
		if (!strstr(line, want)) {
			child_lines++;
			T_EQ(tp_stat(line, "ops.wd"), 5);
		} else {
			T_ASSERT(tp_stat(line, "ops.wd") >= 3);
		}
	}
	fclose(f);
	unlink(path);
	T_EQ(child_lines, 1);
	T_EQ(lines, 2);
	printf("t_prov_fork: children work on queues of their own, 20 forks mid-request\n");
	return 0;
}
