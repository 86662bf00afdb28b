/* The Wycheproof reader (t_wycheproof.h): a minimal JSON parser and an
 * iterator over the files' testGroups[].tests[]. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "t_wycheproof.h"

#ifndef T_WYCHEPROOF_DIR
#define T_WYCHEPROOF_DIR "tests/data/wycheproof"
#endif

#define JSON_DEPTH_MAX 32

enum jtype { J_NULL, J_BOOL, J_NUM, J_STR, J_ARR, J_OBJ };

struct json {
	enum jtype type;
	char *s;                /* J_STR: the decoded string */
	double num;
	int b;
	size_t n;               /* J_ARR, J_OBJ: members */
	struct json *v;
	char **k;               /* J_OBJ: keys */
};

struct parser {
	const char *start, *p, *end, *path;
};

static void die(const struct parser *ps, const char *what)
{
	fprintf(stderr, "FAIL %s: JSON: %s at byte %ld\n", ps->path, what,
		(long)(ps->p - ps->start));
	exit(1);
}

static void *xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);

	if (!q) {
		fprintf(stderr, "FAIL: out of memory reading test vectors\n");
		exit(1);
	}
	return q;
}

static void skip_ws(struct parser *ps)
{
	while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' ||
				   *ps->p == '\r'))
		ps->p++;
}

static unsigned hex4(struct parser *ps)
{
	unsigned v = 0, i;

	for (i = 0; i < 4; i++, ps->p++) {
		char ch = ps->p < ps->end ? *ps->p : 0;

		v <<= 4;
		if (ch >= '0' && ch <= '9')
			v |= (unsigned)(ch - '0');
		else if ((ch | 32) >= 'a' && (ch | 32) <= 'f')
			v |= (unsigned)((ch | 32) - 'a' + 10);
		else
			die(ps, "bad \\u escape");
	}
	return v;
}

/* Code point u as UTF-8 at o. */
static size_t utf8(char *o, unsigned u)
{
	if (u < 0x80) {
		o[0] = (char)u;
		return 1;
	}
	if (u < 0x800) {
		o[0] = (char)(0xc0 | u >> 6);
		o[1] = (char)(0x80 | (u & 0x3f));
		return 2;
	}
	if (u < 0x10000) {
		o[0] = (char)(0xe0 | u >> 12);
		o[1] = (char)(0x80 | ((u >> 6) & 0x3f));
		o[2] = (char)(0x80 | (u & 0x3f));
		return 3;
	}
	o[0] = (char)(0xf0 | u >> 18);
	o[1] = (char)(0x80 | ((u >> 12) & 0x3f));
	o[2] = (char)(0x80 | ((u >> 6) & 0x3f));
	o[3] = (char)(0x80 | (u & 0x3f));
	return 4;
}

static unsigned escape(struct parser *ps)
{
	static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
	const char *k = ps->p < ps->end ? strchr(from, *ps->p) : NULL;
	unsigned u, lo;

	if (k && *k) {
		ps->p++;
		return (unsigned char)to[k - from];
	}
	if (ps->p >= ps->end || *ps->p != 'u')
		die(ps, "bad escape");
	ps->p++;
	u = hex4(ps);
	if (u >= 0xd800 && u < 0xdc00) { /* a surrogate pair */
		if (ps->end - ps->p < 6 || ps->p[0] != '\\' || ps->p[1] != 'u')
			die(ps, "lone surrogate");
		ps->p += 2;
		lo = hex4(ps);
		if (lo < 0xdc00 || lo > 0xdfff)
			die(ps, "bad surrogate pair");
		u = 0x10000 + ((u - 0xd800) << 10) + (lo - 0xdc00);
	}
	return u;
}

static char *parse_string(struct parser *ps)
{
	size_t cap = 16, n = 0;
	char *o = xrealloc(NULL, cap);

	ps->p++; /* the opening quote */
	for (;;) {
		if (ps->p >= ps->end)
			die(ps, "unterminated string");
		if (n + 5 > cap)
			o = xrealloc(o, cap *= 2);
		if (*ps->p == '"')
			break;
		if ((unsigned char)*ps->p < 0x20)
			die(ps, "control character in a string");
		if (*ps->p == '\\') {
			ps->p++;
			n += utf8(o + n, escape(ps));
		} else {
			o[n++] = *ps->p++;
		}
	}
	ps->p++;
	o[n] = 0;
	return o;
}

static void parse_value(struct parser *ps, struct json *j, int depth);

static void parse_members(struct parser *ps, struct json *j, int depth, char close)
{
	size_t cap = 0;

	ps->p++;
	skip_ws(ps);
	if (ps->p < ps->end && *ps->p == close) {
		ps->p++;
		return;
	}
	for (;;) {
		if (j->n == cap) {
			cap = cap ? cap * 2 : 8;
			j->v = xrealloc(j->v, cap * sizeof(*j->v));
			if (j->type == J_OBJ)
				j->k = xrealloc(j->k, cap * sizeof(*j->k));
		}
		skip_ws(ps);
		if (j->type == J_OBJ) {
			if (ps->p >= ps->end || *ps->p != '"')
				die(ps, "expected a key");
			j->k[j->n] = parse_string(ps);
			skip_ws(ps);
			if (ps->p >= ps->end || *ps->p++ != ':')
				die(ps, "expected ':'");
		}
		parse_value(ps, &j->v[j->n++], depth + 1);
		skip_ws(ps);
		if (ps->p < ps->end && *ps->p == ',') {
			ps->p++;
			continue;
		}
		if (ps->p < ps->end && *ps->p == close) {
			ps->p++;
			return;
		}
		die(ps, "expected ',' or the end of a list");
	}
}

static int word(struct parser *ps, const char *w)
{
	size_t n = strlen(w);

	if ((size_t)(ps->end - ps->p) < n || memcmp(ps->p, w, n))
		return 0;
	ps->p += n;
	return 1;
}

static void parse_value(struct parser *ps, struct json *j, int depth)
{
	char *end;

	memset(j, 0, sizeof(*j));
	if (depth > JSON_DEPTH_MAX)
		die(ps, "nested too deep");
	skip_ws(ps);
	if (ps->p >= ps->end)
		die(ps, "unexpected end");
	switch (*ps->p) {
	case '{':
	case '[':
		j->type = *ps->p == '{' ? J_OBJ : J_ARR;
		parse_members(ps, j, depth, *ps->p == '{' ? '}' : ']');
		return;
	case '"':
		j->type = J_STR;
		j->s = parse_string(ps);
		return;
	}
	if (word(ps, "true")) {
		j->type = J_BOOL;
		j->b = 1;
		return;
	}
	if (word(ps, "false")) {
		j->type = J_BOOL;
		return;
	}
	if (word(ps, "null"))
		return;
	j->type = J_NUM;
	j->num = strtod(ps->p, &end); /* the buffer ends with a NUL */
	if (end == ps->p || end > ps->end)
		die(ps, "bad value");
	ps->p = end;
}

static void json_free(struct json *j)
{
	size_t i;

	for (i = 0; i < j->n; i++) {
		json_free(&j->v[i]);
		if (j->k)
			free(j->k[i]);
	}
	free(j->v);
	free(j->k);
	free(j->s);
}

static const struct json *get(const struct json *o, const char *key)
{
	size_t i;

	if (!o || o->type != J_OBJ)
		return NULL;
	for (i = 0; i < o->n; i++)
		if (!strcmp(o->k[i], key))
			return &o->v[i];
	return NULL;
}

static const char *get_str(const struct json *o, const char *key)
{
	const struct json *v = get(o, key);

	return v && v->type == J_STR ? v->s : NULL;
}

static int get_int(const struct json *o, const char *key)
{
	const struct json *v = get(o, key);

	return v && v->type == J_NUM ? (int)v->num : 0;
}

/* ---- the Wycheproof layer ---- */

enum { F_KEY, F_IV, F_AAD, F_MSG, F_CT, F_TAG, F_N };
static const char *const field_names[F_N] = { "key", "iv", "aad", "msg", "ct", "tag" };

struct t_wp_file {
	char *path;
	struct json root;
	const struct json *groups;
	size_t g, t;            /* the next test: group g, test t */
	uint8_t *buf[F_N];      /* the current case's bytes */
};

const char *t_wp_path(int argc, char **argv, const char *name)
{
	static char path[4096];

	snprintf(path, sizeof(path), "%s/%s", argc > 1 ? argv[1] : T_WYCHEPROOF_DIR, name);
	return path;
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	long n;

	if (!f)
		goto fail;
	if (fseek(f, 0, SEEK_END) || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET))
		goto fail;
	buf = xrealloc(NULL, (size_t)n + 1);
	if (fread(buf, 1, (size_t)n, f) != (size_t)n)
		goto fail;
	buf[n] = 0;
	*len = (size_t)n;
	fclose(f);
	return buf;
fail:
	fprintf(stderr, "FAIL: cannot read the test vectors %s: %s\n", path,
		f ? "read error" : strerror(errno));
	exit(1);
}

struct t_wp_file *t_wp_load(const char *path)
{
	struct t_wp_file *f = xrealloc(NULL, sizeof(*f));
	struct parser ps;
	size_t len;
	char *text = slurp(path, &len);

	memset(f, 0, sizeof(*f));
	f->path = strdup(path);
	ps = (struct parser){ text, text, text + len, path };
	parse_value(&ps, &f->root, 0);
	skip_ws(&ps);
	if (ps.p != ps.end)
		die(&ps, "text after the value");
	free(text);
	f->groups = get(&f->root, "testGroups");
	if (!f->groups || f->groups->type != J_ARR) {
		fprintf(stderr, "FAIL %s: no testGroups array\n", path);
		exit(1);
	}
	return f;
}

void t_wp_free(struct t_wp_file *f)
{
	unsigned i;

	if (!f)
		return;
	json_free(&f->root);
	for (i = 0; i < F_N; i++)
		free(f->buf[i]);
	free(f->path);
	free(f);
}

const char *t_wp_algorithm(const struct t_wp_file *f)
{
	return get_str(&f->root, "algorithm");
}

int t_wp_declared(const struct t_wp_file *f)
{
	return get_int(&f->root, "numberOfTests");
}

void t_wp_rewind(struct t_wp_file *f)
{
	f->g = f->t = 0;
}

static int nibble(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if ((ch | 32) >= 'a' && (ch | 32) <= 'f')
		return (ch | 32) - 'a' + 10;
	return -1;
}

static void hex_field(struct t_wp_file *f, const struct json *test, unsigned i,
		      struct t_wp_bytes *b)
{
	const char *h = get_str(test, field_names[i]);
	size_t n = h ? strlen(h) : 0, k;

	f->buf[i] = xrealloc(f->buf[i], n / 2 + 1);
	if (n % 2)
		goto bad;
	for (k = 0; k < n / 2; k++) {
		int hi = nibble(h[2 * k]), lo = nibble(h[2 * k + 1]);

		if (hi < 0 || lo < 0)
			goto bad;
		f->buf[i][k] = (uint8_t)(hi << 4 | lo);
	}
	*b = (struct t_wp_bytes){ f->buf[i], n / 2, h != NULL };
	return;
bad:
	fprintf(stderr, "FAIL %s: tcId %d: field %s is not hex\n", f->path, get_int(test, "tcId"),
		field_names[i]);
	exit(1);
}

int t_wp_next(struct t_wp_file *f, struct t_wp_case *c)
{
	const struct json *group, *tests, *test;
	const char *res;

	for (;; f->g++, f->t = 0) {
		if (f->g >= f->groups->n)
			return 0;
		group = &f->groups->v[f->g];
		tests = get(group, "tests");
		if (tests && tests->type == J_ARR && f->t < tests->n)
			break;
	}
	test = &tests->v[f->t++];
	memset(c, 0, sizeof(*c));
	c->tc_id = get_int(test, "tcId");
	c->comment = get_str(test, "comment");
	if (!c->comment)
		c->comment = "";
	res = get_str(test, "result");
	if (!res || (strcmp(res, "valid") && strcmp(res, "invalid") && strcmp(res, "acceptable"))) {
		fprintf(stderr, "FAIL %s: tcId %d: result is \"%s\"\n", f->path, c->tc_id,
			res ? res : "(none)");
		exit(1);
	}
	c->result = !strcmp(res, "valid") ? T_WP_VALID
		    : !strcmp(res, "invalid") ? T_WP_INVALID : T_WP_ACCEPTABLE;
	hex_field(f, test, F_KEY, &c->key);
	hex_field(f, test, F_IV, &c->iv);
	hex_field(f, test, F_AAD, &c->aad);
	hex_field(f, test, F_MSG, &c->msg);
	hex_field(f, test, F_CT, &c->ct);
	hex_field(f, test, F_TAG, &c->tag);
	c->key_bits = get_int(group, "keySize");
	c->iv_bits = get_int(group, "ivSize");
	c->tag_bits = get_int(group, "tagSize");
	c->group_type = get_str(group, "type");
	c->test_ = test;
	return 1;
}

int t_wp_flag(const struct t_wp_case *c, const char *flag)
{
	const struct json *fl = get(c->test_, "flags");
	size_t i;

	for (i = 0; fl && fl->type == J_ARR && i < fl->n; i++)
		if (fl->v[i].type == J_STR && !strcmp(fl->v[i].s, flag))
			return 1;
	return 0;
}

const char *t_wp_str(const struct t_wp_case *c, const char *field)
{
	return get_str(c->test_, field);
}
