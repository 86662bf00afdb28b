/* SPDX-License-Identifier: MIT */
/*
 * ASYNC_JOBs for the provider tests: a job enciphers its own text through
 * its own EVP context (Init, AAD for GCM, Update after Update, Final, the
 * GCM tag), and a driver runs many jobs on one thread the way openssl
 * speed -async_jobs and async-mode servers do: ASYNC_start_job for each,
 * then poll() on the descriptors their wait contexts name, resuming the
 * jobs whose descriptor is readable, until all have finished.  The same
 * job body, run directly on a default-provider context, makes the
 * reference every job's bytes are checked against.
 */
#ifndef TP_ASYNC_H
#define TP_ASYNC_H

#include <poll.h>

#include <openssl/async.h>

#include "tp.h"

#define TPJ_MAX 64
#define TPJ_PIECES 6

enum { TPJ_NEW, TPJ_PAUSED, TPJ_DONE };

struct tpj {
	const char *name;       /* "AES-128-CBC", ... */
	int enc, inplace;
	size_t len, piece[TPJ_PIECES];  /* Update sizes, summing to len */
	int npieces;
	uint8_t key[64], iv[16], aad[16], tag[16], reftag[16];
	uint8_t *in, *out, *ref;
	EVP_CIPHER_CTX *x;
	ASYNC_JOB *job;
	ASYNC_WAIT_CTX *w;
	int state, ret, pauses;
};

/* A mode's rules for pieces: CBC whole blocks (padding off, so output
 * keeps pace with input and in place works), XTS a data unit each. */
static inline int tpj_cbc(const struct tpj *j)
{
	return strstr(j->name, "CBC") != NULL;
}

static inline int tpj_gcm(const struct tpj *j)
{
	return strstr(j->name, "GCM") != NULL;
}

/* The EVP calls, through cipher c on context x; 1 when all went well. */
static inline int tpj_body(struct tpj *j, EVP_CIPHER *c, EVP_CIPHER_CTX *x, uint8_t *out,
			   uint8_t *tag)
{
	size_t off = 0;
	int i, n;

	if (!EVP_CipherInit_ex2(x, c, j->key, j->iv, j->enc, NULL))
		return 0;
	if (tpj_cbc(j))
		EVP_CIPHER_CTX_set_padding(x, 0);
	if (tpj_gcm(j) && !EVP_CipherUpdate(x, NULL, &n, j->aad, sizeof(j->aad)))
		return 0;
	for (i = 0; i < j->npieces; i++) {
		const uint8_t *src = j->inplace ? out + off : j->in + off;

		if (!EVP_CipherUpdate(x, out + off, &n, src, (int)j->piece[i]) ||
		    (size_t)n != j->piece[i])
			return 0;
		off += j->piece[i];
	}
	if (!EVP_CipherFinal_ex(x, out + off, &n) || n)
		return 0;
	if (tpj_gcm(j) && j->enc &&
	    !EVP_CIPHER_CTX_ctrl(x, EVP_CTRL_AEAD_GET_TAG, sizeof(j->tag), tag))
		return 0;
	return 1;
}

static EVP_CIPHER *tpj_wd[8];
static const char *tpj_names[8];

/* The wd cipher of that name (fetched once per library context run). */
static inline EVP_CIPHER *tpj_cipher(struct tp *t, const char *name, int wd)
{
	unsigned i;

	if (!wd)
		return tp_fetch(t, name, 0);
	for (i = 0; i < 8 && tpj_names[i]; i++)
		if (!strcmp(tpj_names[i], name))
			return tpj_wd[i];
	T_ASSERT(i < 8);
	tpj_names[i] = name;
	tpj_wd[i] = tp_fetch(t, name, 1);
	T_ASSERT(tpj_wd[i]);
	return tpj_wd[i];
}

static inline void tpj_forget_ciphers(void)
{
	unsigned i;

	for (i = 0; i < 8; i++) {
		EVP_CIPHER_free(tpj_wd[i]);
		tpj_wd[i] = NULL;
		tpj_names[i] = NULL;
	}
}

static struct tp *tpj_tp;

static int tpj_fn(void *arg)
{
	struct tpj *j = *(struct tpj **)arg;

	return tpj_body(j, tpj_cipher(tpj_tp, j->name, 1), j->x, j->out, j->tag);
}

/* A job of len bytes in random pieces, its reference computed. */
static inline void tpj_make(struct tp *t, struct tpj *j, const char *name, int enc, size_t len,
			    int inplace)
{
	EVP_CIPHER *def = tpj_cipher(t, name, 0);
	EVP_CIPHER_CTX *d = EVP_CIPHER_CTX_new();
	size_t left, k, unit;
	int i;

	memset(j, 0, sizeof(*j));
	j->name = name;
	j->enc = enc;
	j->inplace = inplace;
	j->len = len;
	tp_fill(j->key, sizeof(j->key));
	j->key[32] = (uint8_t)~j->key[0]; /* XTS: the two halves differ */
	tp_fill(j->iv, sizeof(j->iv));
	tp_fill(j->aad, sizeof(j->aad));
	unit = tpj_cbc(j) ? 16 : 1;
	for (left = len, i = 0; left && i < TPJ_PIECES; i++) {
		k = i == TPJ_PIECES - 1 || tp_rand() % 3 == 0 ? left : 1 + tp_rand() % left;
		if (strstr(name, "XTS") && (k < 16 || left - k < 16))
			k = left; /* a data unit is at least a block */
		k -= k % unit;
		if (!k)
			k = left;
		j->piece[i] = k;
		left -= k;
	}
	j->npieces = i;
	T_EQ(left, 0);
	j->in = malloc(len ? len : 1);
	j->out = malloc(len + 32);
	j->ref = malloc(len + 32);
	T_ASSERT(j->in && j->out && j->ref && d && def);
	tp_fill(j->in, len);
	memcpy(j->ref, j->in, len);
	memcpy(j->out, j->in, len);
	if (!tpj_body(j, def, d, j->ref, j->reftag)) {
		tp_errors(name);
		T_FAIL("%s: the default provider refused the job", name);
	}
	EVP_CIPHER_CTX_free(d);
	EVP_CIPHER_free(def);
	j->x = EVP_CIPHER_CTX_new();
	j->w = ASYNC_WAIT_CTX_new();
	T_ASSERT(j->x && j->w);
}

/* Start or resume a job; returns 1 when it finished. */
static inline int tpj_step(struct tpj *j)
{
	struct tpj *arg = j;
	int r = ASYNC_start_job(&j->job, j->w, &j->ret, tpj_fn, &arg, sizeof(arg));

	if (r == ASYNC_PAUSE) {
		j->state = TPJ_PAUSED;
		j->pauses++;
		return 0;
	}
	if (r != ASYNC_FINISH) {
		tp_errors(j->name);
		T_FAIL("ASYNC_start_job: %d", r);
	}
	j->state = TPJ_DONE;
	j->job = NULL;
	return 1;
}

/* The descriptor a paused job waits on: exactly one (a job paused on none
 * would never be resumed; openssl speed refuses more). */
static inline int tpj_fd(struct tpj *j)
{
	OSSL_ASYNC_FD fd;
	size_t n = 0;

	T_ASSERT(ASYNC_WAIT_CTX_get_all_fds(j->w, NULL, &n));
	T_EQ(n, 1);
	T_ASSERT(ASYNC_WAIT_CTX_get_all_fds(j->w, &fd, &n));
	return fd;
}

/*
 * Run the jobs not yet finished to the end: start those not started, then
 * poll the paused ones' descriptors and resume those readable; with
 * spurious, every other round resumes every paused job, ready or not.
 * Returns the most jobs paused at once.
 */
static inline int tpj_drive(struct tpj *jobs, int n, int spurious)
{
	struct pollfd p[TPJ_MAX];
	int idx[TPJ_MAX], left = 0, most = 0, round = 0, i, k, paused;

	T_ASSERT(n <= TPJ_MAX);
	for (i = 0; i < n; i++) {
		if (jobs[i].state == TPJ_NEW)
			tpj_step(&jobs[i]);
		left += jobs[i].state != TPJ_DONE;
	}
	while (left) {
		for (i = k = 0; i < n; i++) {
			if (jobs[i].state != TPJ_PAUSED)
				continue;
			p[k].fd = tpj_fd(&jobs[i]);
			p[k].events = POLLIN;
			p[k].revents = 0;
			idx[k++] = i;
		}
		paused = k;
		most = paused > most ? paused : most;
		/* ten seconds with nothing readable: a wake-up was lost */
		T_ASSERT(poll(p, (nfds_t)k, 10000) > 0);
		round++;
		for (i = 0; i < k; i++)
			if ((p[i].revents & POLLIN) || (spurious && round % 2))
				left -= tpj_step(&jobs[idx[i]]);
	}
	return most;
}

/* Every job finished well, with the reference's bytes (and tag). */
static inline void tpj_check(struct tpj *jobs, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		struct tpj *j = &jobs[i];

		if (j->ret != 1) {
			tp_errors(j->name);
			T_FAIL("job %d (%s, %zu bytes) failed", i, j->name, j->len);
		}
		if (memcmp(j->out, j->ref, j->len))
			T_FAIL("job %d (%s %s, %zu bytes%s): output differs from the default "
			       "provider's", i, j->name, j->enc ? "enc" : "dec", j->len,
			       j->inplace ? ", in place" : "");
		if (tpj_gcm(j) && j->enc && memcmp(j->tag, j->reftag, sizeof(j->tag)))
			T_FAIL("job %d: GCM tag differs", i);
	}
}

static inline void tpj_free(struct tpj *jobs, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		EVP_CIPHER_CTX_free(jobs[i].x);
		ASYNC_WAIT_CTX_free(jobs[i].w);
		free(jobs[i].in);
		free(jobs[i].out);
		free(jobs[i].ref);
	}
}

#endif
