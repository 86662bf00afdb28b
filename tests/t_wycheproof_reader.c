/* The Wycheproof reader (t_wycheproof.c) itself: each file gives as many
 * tests as it declares, with the fields of known cases decoded; malformed
 * JSON and a missing file fail the program that reads them (exit 1). */
#include <sys/wait.h>
#include <unistd.h>
#include "t_helpers.h"
#include "t_wycheproof.h"

static void count(int argc, char **argv, const char *name, const char *alg, int want)
{
	struct t_wp_file *f = t_wp_load(t_wp_path(argc, argv, name));
	struct t_wp_case c;
	int n = 0, valid = 0;

	T_ASSERT(!strcmp(t_wp_algorithm(f), alg));
	while (t_wp_next(f, &c)) {
		n++;
		valid += c.result == T_WP_VALID;
		T_ASSERT(c.key.present && c.iv.present && c.msg.present && c.ct.present);
	}
	T_EQ(n, want);
	T_EQ(t_wp_declared(f), want);
	printf("%s: %d tests (%d valid)\n", name, n, valid);
	t_wp_rewind(f);
	T_EQ(t_wp_next(f, &c), 1);
	T_EQ(c.tc_id, 1);
	t_wp_free(f);
}

/* tcId 1 of aes_gcm_test.json, as the file spells it. */
static void known(int argc, char **argv)
{
	static const uint8_t key[16] = { 0x5b, 0x96, 0x04, 0xfe, 0x14, 0xea, 0xdb, 0xa9,
					 0x31, 0xb0, 0xcc, 0xf3, 0x48, 0x43, 0xda, 0xb9 };
	struct t_wp_file *f = t_wp_load(t_wp_path(argc, argv, "aes_gcm_test.json"));
	struct t_wp_case c;

	T_EQ(t_wp_next(f, &c), 1);
	T_EQ(c.tc_id, 1);
	T_EQ(c.key.len, 16);
	T_ASSERT(!memcmp(c.key.p, key, 16));
	T_EQ(c.iv.len, 12);
	T_EQ(c.aad.len, 0);
	T_ASSERT(c.aad.present);
	T_EQ(c.msg.len, 16);
	T_EQ(c.tag.len, 16);
	T_EQ(c.result, T_WP_VALID);
	T_EQ(c.key_bits, 128);
	T_EQ(c.iv_bits, 96);
	T_EQ(c.tag_bits, 128);
	T_ASSERT(!strcmp(c.group_type, "AeadTest"));
	T_ASSERT(t_wp_flag(&c, "Ktv") && !t_wp_flag(&c, "ModifiedTag"));
	T_ASSERT(t_wp_str(&c, "result") && !t_wp_str(&c, "nonesuch"));
	t_wp_free(f);
}

/* A file with this text must make the reader fail the test (exit 1). */
static void must_fail(const char *text, const char *what)
{
	char path[] = "/tmp/t_wp_XXXXXX";
	int fd = mkstemp(path), st;
	pid_t pid;

	T_ASSERT(fd >= 0);
	T_EQ(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	fflush(NULL);
	pid = fork();
	T_ASSERT(pid >= 0);
	if (pid == 0) {
		struct t_wp_file *f = t_wp_load(path);
		struct t_wp_case c;

		while (t_wp_next(f, &c))
			;
		_exit(0);
	}
	T_EQ(waitpid(pid, &st, 0), pid);
	unlink(path);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 1)
		T_FAIL("%s: the reader did not fail (status 0x%x)", what, st);
}

int main(int argc, char **argv)
{
	count(argc, argv, "aes_gcm_test.json", "AES-GCM", 316);
	count(argc, argv, "aes_cbc_pkcs5_test.json", "AES-CBC-PKCS5", 216);
	count(argc, argv, "aes_xts_test.json", "AES-XTS", 123);
	known(argc, argv);
	must_fail("{\"testGroups\": [", "truncated");
	must_fail("{\"testGroups\": [] } x", "trailing text");
	must_fail("{\"testGroups\": 3}", "no group array");
	must_fail("{\"testGroups\": [{\"tests\": [{\"tcId\": 1, \"key\": \"0g\", "
		  "\"result\": \"valid\"}]}]}", "bad hex");
	must_fail("{\"testGroups\": [{\"tests\": [{\"tcId\": 1, \"key\": \"abc\", "
		  "\"result\": \"valid\"}]}]}", "odd hex");
	must_fail("{\"testGroups\": [{\"tests\": [{\"tcId\": 1, \"result\": \"maybe\"}]}]}",
		  "unknown result");
	must_fail("{\"a\": \"\\x\"}", "bad escape");
	must_fail("{\"a\" 1}", "missing colon");
	must_fail("", "empty file");
	/* a missing file is a failure too, never a skip */
	{
		pid_t pid;
		int st;

		fflush(NULL);
		pid = fork();
		T_ASSERT(pid >= 0);
		if (pid == 0) {
			t_wp_load("/nonexistent/aes_gcm_test.json");
			_exit(0);
		}
		T_EQ(waitpid(pid, &st, 0), pid);
		T_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 1);
	}
	return 0;
}
