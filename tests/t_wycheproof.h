/*
 * A reader for Project Wycheproof's JSON test vectors (tests/data/wycheproof),
 * for any test program that checks a cipher against them: the engine's own
 * tests and the OpenSSL provider's.  A minimal JSON parser (objects, arrays,
 * strings with escapes, numbers, true/false/null; nothing else is needed for
 * these files), no dependency.
 *
 *     struct t_wp_file *f = t_wp_load(t_wp_path(argc, argv, "aes_gcm_test.json"));
 *     struct t_wp_case c;
 *
 *     while (t_wp_next(f, &c))
 *             ... c.key.p, c.key.len, c.iv, c.aad, c.msg, c.ct, c.tag,
 *                 c.result (T_WP_VALID / T_WP_INVALID / T_WP_ACCEPTABLE),
 *                 c.tc_id, c.comment, t_wp_flag(&c, "ZeroLengthIv") ...
 *     t_wp_free(f);
 *
 * A file that cannot be read or parsed fails the test (exit 1): test data
 * that is missing is a failure, never a skip.
 */
#ifndef T_WYCHEPROOF_H
#define T_WYCHEPROOF_H

#include <stddef.h>
#include <stdint.h>

enum t_wp_result { T_WP_VALID, T_WP_INVALID, T_WP_ACCEPTABLE };

/* Hex fields decoded; present is 0 when the test has no such field (then
 * len is 0 and p points at an empty buffer, never NULL). */
struct t_wp_bytes {
	const uint8_t *p;
	size_t len;
	int present;
};

struct t_wp_case {
	int tc_id;
	const char *comment;
	enum t_wp_result result;
	struct t_wp_bytes key, iv, aad, msg, ct, tag;
	/* the group's sizes in bits (keySize, ivSize, tagSize; 0: absent) and
	 * its type ("AeadTest", "IndCpaTest"...) */
	int key_bits, iv_bits, tag_bits;
	const char *group_type;
	const void *test_;              /* the test's JSON object (t_wp_str) */
};

struct t_wp_file;

/* The path of a data file: argv[1] names the data directory (CTest passes
 * it); run by hand without it, the directory the build was configured with
 * (T_WYCHEPROOF_DIR).  The string is static: one path at a time. */
const char *t_wp_path(int argc, char **argv, const char *name);
/* Read and parse a file, or fail the test. */
struct t_wp_file *t_wp_load(const char *path);
void t_wp_free(struct t_wp_file *f);
/* The file's "algorithm" and "numberOfTests". */
const char *t_wp_algorithm(const struct t_wp_file *f);
int t_wp_declared(const struct t_wp_file *f);
/* The next test, groups in order: 1, or 0 after the last.  The case's
 * bytes and strings stay valid until the next call. */
int t_wp_next(struct t_wp_file *f, struct t_wp_case *c);
/* Start again from the first test. */
void t_wp_rewind(struct t_wp_file *f);
/* Does the test carry this flag ("ModifiedTag", "LongIv"...)? */
int t_wp_flag(const struct t_wp_case *c, const char *flag);
/* Any string field of the test (NULL: none), for schemas with other fields. */
const char *t_wp_str(const struct t_wp_case *c, const char *field);

#endif
