/* SPDX-License-Identifier: MIT */
/*
 * Wycheproof vectors for the provider tests: one callback per test case
 * with its group's sizes.  The reading itself is a minimal JSON parser
 * kept behind this one function (tp_wyche_each) so that the project's
 * shared Wycheproof reader can replace it without touching the tests.
 */
#ifndef TP_WYCHE_H
#define TP_WYCHE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct tp_vec {
	int tc_id;
	int key_bits, iv_bits, tag_bits;        /* the group's sizes; 0 when absent */
	const char *comment, *result;           /* result: "valid", "invalid", "acceptable" */
	const char *key, *iv, *aad, *msg, *ct, *tag;    /* hex; "" when absent */
	char flags[256];                        /* the flags, comma separated */
};

typedef int (*tp_vec_fn)(const struct tp_vec *v, void *arg);

/* ---- a minimal JSON tree ---- */

enum tpj_type { TPJ_NULL, TPJ_BOOL, TPJ_NUM, TPJ_STR, TPJ_ARR, TPJ_OBJ };

struct tpj {
	enum tpj_type type;
	char *key;              /* in an object */
	char *str;              /* strings; numbers as text */
	struct tpj *child, *next;
};

static void tpj_free(struct tpj *j)
{
	while (j) {
		struct tpj *n = j->next;

		tpj_free(j->child);
		free(j->key);
		free(j->str);
		free(j);
		j = n;
	}
}

static void tpj_ws(const char **p)
{
	while (**p == ' ' || **p == '\n' || **p == '\r' || **p == '\t')
		(*p)++;
}

/* A string's text, escapes kept as \x pairs reduced to x (enough for
 * these files: hex fields have none, comments are not compared). */
static char *tpj_str(const char **p)
{
	const char *s = ++*p;
	size_t n = 0;
	char *out;

	while (s[n] && s[n] != '"')
		n += s[n] == '\\' && s[n + 1] ? 2 : 1;
	if (s[n] != '"')
		return NULL;
	out = malloc(n + 1);
	if (!out)
		return NULL;
	size_t i, o = 0;

	for (i = 0; i < n; i++) {
		if (s[i] == '\\')
			i++;
		out[o++] = s[i];
	}
	out[o] = '\0';
	*p = s + n + 1;
	return out;
}

static struct tpj *tpj_value(const char **p, int depth);

static int tpj_items(struct tpj *j, const char **p, char close, int depth)
{
	struct tpj **tail = &j->child;

	tpj_ws(p);
	if (**p == close) {
		(*p)++;
		return 0;
	}
	for (;;) {
		char *key = NULL;
		struct tpj *v;

		tpj_ws(p);
		if (close == '}') {
			if (**p != '"' || !(key = tpj_str(p)))
				return -1;
			tpj_ws(p);
			if (*(*p)++ != ':') {
				free(key);
				return -1;
			}
		}
		v = tpj_value(p, depth + 1);
		if (!v) {
			free(key);
			return -1;
		}
		v->key = key;
		*tail = v;
		tail = &v->next;
		tpj_ws(p);
		if (**p == ',') {
			(*p)++;
			continue;
		}
		if (*(*p)++ != close)
			return -1;
		return 0;
	}
}

static struct tpj *tpj_value(const char **p, int depth)
{
	struct tpj *j = calloc(1, sizeof(*j));
	size_t n;

	if (!j || depth > 64)
		goto fail;
	tpj_ws(p);
	if (**p == '{' || **p == '[') {
		char close = **p == '{' ? '}' : ']';

		j->type = close == '}' ? TPJ_OBJ : TPJ_ARR;
		(*p)++;
		if (tpj_items(j, p, close, depth))
			goto fail;
	} else if (**p == '"') {
		j->type = TPJ_STR;
		if (!(j->str = tpj_str(p)))
			goto fail;
	} else {
		n = strcspn(*p, ",]} \n\r\t");
		if (!n)
			goto fail;
		j->type = **p == 't' || **p == 'f' ? TPJ_BOOL : **p == 'n' ? TPJ_NULL : TPJ_NUM;
		j->str = strndup(*p, n);
		*p += n;
	}
	return j;
fail:
	tpj_free(j);
	return NULL;
}

static struct tpj *tpj_get(const struct tpj *obj, const char *key)
{
	struct tpj *c;

	for (c = obj ? obj->child : NULL; c; c = c->next)
		if (c->key && !strcmp(c->key, key))
			return c;
	return NULL;
}

static const char *tpj_s(const struct tpj *obj, const char *key)
{
	struct tpj *v = tpj_get(obj, key);

	return v && v->str ? v->str : "";
}

static int tpj_i(const struct tpj *obj, const char *key)
{
	struct tpj *v = tpj_get(obj, key);

	return v && v->type == TPJ_NUM ? atoi(v->str) : 0;
}

/* ---- the vectors ---- */

/* Calls fn for every test of the file; returns how many, or -1 when the
 * file cannot be read or parsed, or fn's first nonzero answer. */
static int tp_wyche_each(const char *path, tp_vec_fn fn, void *arg)
{
	struct tpj *root, *g, *t, *f;
	const char *p;
	char *text;
	long size;
	int count = 0, ret = 0;
	FILE *fp = fopen(path, "rb");

	if (!fp)
		return -1;
	fseek(fp, 0, SEEK_END);
	size = ftell(fp);
	fseek(fp, 0, SEEK_SET);
	text = malloc((size_t)size + 1);
	if (!text || fread(text, 1, (size_t)size, fp) != (size_t)size) {
		fclose(fp);
		free(text);
		return -1;
	}
	fclose(fp);
	text[size] = '\0';
	p = text;
	root = tpj_value(&p, 0);
	free(text);
	if (!root || !tpj_get(root, "testGroups")) {
		tpj_free(root);
		return -1;
	}
	for (g = tpj_get(root, "testGroups")->child; g && !ret; g = g->next) {
		for (t = tpj_get(g, "tests") ? tpj_get(g, "tests")->child : NULL; t && !ret;
		     t = t->next) {
			struct tp_vec v = {
				.tc_id = tpj_i(t, "tcId"), .key_bits = tpj_i(g, "keySize"),
				.iv_bits = tpj_i(g, "ivSize"), .tag_bits = tpj_i(g, "tagSize"),
				.comment = tpj_s(t, "comment"), .result = tpj_s(t, "result"),
				.key = tpj_s(t, "key"), .iv = tpj_s(t, "iv"), .aad = tpj_s(t, "aad"),
				.msg = tpj_s(t, "msg"), .ct = tpj_s(t, "ct"), .tag = tpj_s(t, "tag"),
			};
			size_t n = 0;

			for (f = tpj_get(t, "flags") ? tpj_get(t, "flags")->child : NULL;
			     f && n < sizeof(v.flags); f = f->next)
				n += (size_t)snprintf(v.flags + n, sizeof(v.flags) - n, "%s%s",
						      n ? "," : "", f->str ? f->str : "");
			ret = fn(&v, arg);
			count++;
		}
	}
	tpj_free(root);
	return ret ? ret : count;
}

#endif
