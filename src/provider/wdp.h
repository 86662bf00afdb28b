/* SPDX-License-Identifier: MIT */
/*
 * The OpenSSL 3 provider "wd": AES ciphers through WarpDrive queues.
 *
 * It uses only the public API (wd/wd.h, wd/crypto.h, wd/mem.h) and OpenSSL's
 * public provider API.  Everything a provider instance owns - settings,
 * statistics, queues, the private library context holding OpenSSL's default
 * provider - lives in struct wdp_prov, so two library contexts that load
 * the provider never share state.  The only process-wide state is the list
 * of live instances, which a fork child walks to forget its parent's queues
 * (pool.c).
 *
 * Files: prov.c (entry point, provider parameters, algorithm table),
 * config.c (openssl.cnf and environment), stats.c (what ran where, and
 * why), pool.c (queues and sessions, fork), req.c (requests: plain
 * pointers or a shared bounce buffer), sw.c (OpenSSL's default provider,
 * called directly), cipher.c (contexts, parameters, routing),
 * cipher_cbc.c, cipher_ctr.c, cipher_xts.c, cipher_gcm.c (the modes),
 * async.c (requests of OpenSSL ASYNC_JOBs: submit, pause, reap by tag).
 */
#ifndef WDP_H
#define WDP_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/core.h>
#include <openssl/core_dispatch.h>
#include <wd/crypto.h>
#include <wd/wd.h>

#define WDP_EXPORT __attribute__((visibility("default")))
#define WDP_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define WDP_BLOCK 16

/* ---- algorithms ---- */

enum wdp_mode { WDP_CBC, WDP_CTR, WDP_XTS, WDP_GCM, WDP_MODE__COUNT };

enum wdp_alg_id {
	WDP_AES_128_CBC, WDP_AES_192_CBC, WDP_AES_256_CBC,
	WDP_AES_128_CTR, WDP_AES_192_CTR, WDP_AES_256_CTR,
	WDP_AES_128_XTS, WDP_AES_256_XTS,
	WDP_AES_128_GCM, WDP_AES_192_GCM, WDP_AES_256_GCM,
	WDP_NALGS
};

struct wdp_alg {
	const char *name;       /* OpenSSL's first name, e.g. "AES-128-CBC" */
	enum wdp_mode mode;
	uint32_t wd_alg;        /* enum wd_cipher_alg */
	unsigned key_len;       /* bytes (XTS: both halves) */
	unsigned iv_len;        /* default IV length */
	unsigned block;         /* block size OpenSSL reports: 16 for CBC, else 1 */
	unsigned evp_mode;      /* EVP_CIPH_*_MODE */
	unsigned aead, custom_iv;
};

extern const struct wdp_alg wdp_algs[WDP_NALGS];
extern const char *const wdp_mode_names[WDP_MODE__COUNT];

/* ---- settings (config.c) ---- */

/* wdp_cfg.async: a job's piece for a queue is submitted and the job paused
 * never (no), on every device (yes), or on devices that work beside the
 * CPU (auto: on the in-process software device the pause would only hand
 * the same AES to an engine thread of the same machine, which costs 10-20%
 * at 16 KiB; the piece runs in the job's thread, as outside a job). */
enum { WDP_ASYNC_NO, WDP_ASYNC_YES, WDP_ASYNC_AUTO };

struct wdp_cfg {
	char device[WD_NAME_MAX];       /* "" : the best device offering ciphers */
	int device_named;               /* by the user: config or environment */
	/* smaller operations go to the default provider: [mode][encrypt] */
	size_t threshold[WDP_MODE__COUNT][2];
	int fallback;                   /* device trouble: run in the default provider */
	uint32_t algs;                  /* bit per enum wdp_alg_id: offered */
	int explicit_mem;               /* share a bounce buffer even on an SVA device */
	int async;                      /* inside an ASYNC_JOB: submit and pause (WDP_ASYNC_*) */
	char stats_to[256];             /* "": no line at exit, "1": stderr, else a file */
};

/* Reads the provider's openssl.cnf section through core_get_params, then
 * the environment, which wins.  Returns 0 or -EINVAL (a value that makes
 * no sense: the provider refuses to load rather than guess). */
int wdp_cfg_load(struct wdp_cfg *cfg, const OSSL_CORE_HANDLE *handle,
		 OSSL_FUNC_core_get_params_fn *get_params, char *err, size_t errlen);
size_t wdp_cfg_format_algs(const struct wdp_cfg *cfg, char *buf, size_t len);
size_t wdp_cfg_format_threshold(const struct wdp_cfg *cfg, char *buf, size_t len);

/* ---- statistics (stats.c) ---- */

/* Why an operation ran in the default provider. */
enum wdp_why {
	WDP_WHY_THRESHOLD,      /* smaller than the threshold */
	WDP_WHY_NODEV,          /* fallback: no queue could be had */
	WDP_WHY_BUSY,           /* fallback: no session free on any queue */
	WDP_WHY_EOPNOTSUPP,     /* fallback: the device refused the request */
	WDP_WHY_EIO,            /* fallback: the device failed (or went away) */
	WDP_WHY_ERROR,          /* fallback: another error (-ENOMEM...) */
	WDP_WHY_SIZE,           /* fallback: larger than a bounce buffer takes */
	WDP_WHY_MODE,           /* unsupported: the device lacks this mode */
	WDP_WHY_TLS,            /* unsupported: TLS CBC records (constant-time code) */
	WDP_WHY_KEY,            /* unsupported: a key the device refuses (XTS halves) */
	WDP_WHY_TAG,            /* unsupported: a GCM tag shorter than 4 bytes */
	WDP_WHY_MSG,            /* GCM: a message continues where it began */
	WDP_WHY__COUNT
};

/* One context's counts: written by the thread using the context only
 * (relaxed atomics, no lock prefix), read by whoever asks. */
struct wdp_counts {
	uint64_t ops[2], bytes[2];      /* [0] default provider, [1] queue */
	uint64_t why[WDP_WHY__COUNT];
	uint64_t errors;                /* EVP calls failed because of a device */
	uint64_t async;                 /* requests ASYNC_JOBs submitted (a GCM message: several) */
	uint64_t async_wakes;           /* resumptions that found the request not done yet */
	uint64_t async_inline;          /* jobs' pieces run in their thread: in-process device */
};

#if defined(__SANITIZE_THREAD__)
#define WDP_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define WDP_TSAN 1
#endif
#endif

static inline void wdp_bump(uint64_t *c, uint64_t v)
{
#if defined(__x86_64__) && !defined(WDP_TSAN)
	/* one instruction where the load, add and store below are three (a
	 * small operation costs about 300): an aligned 8-byte store is
	 * single-copy atomic on x86-64, all a reader needs from the one
	 * writer of a counter.  TSan builds check the portable form. */
	__asm__ __volatile__("addq %1, %0" : "+m"(*c) : "er"(v));
#else
	__atomic_store_n(c, __atomic_load_n(c, __ATOMIC_RELAXED) + v, __ATOMIC_RELAXED);
#endif
}

struct wdp_cctx;
struct wdp_prov;

struct wdp_stats {
	pthread_mutex_t lock;           /* the live list and totals */
	struct wdp_counts total;        /* of contexts freed */
	struct wdp_cctx *live;          /* contexts alive now */
	int pid;                        /* the process the counts belong to */
	int printed;
};

void wdp_stats_init(struct wdp_stats *st);
void wdp_stats_destroy(struct wdp_stats *st);
void wdp_stats_attach(struct wdp_stats *st, struct wdp_cctx *c);
void wdp_stats_detach(struct wdp_stats *st, struct wdp_cctx *c);
void wdp_stats_sum(struct wdp_stats *st, struct wdp_counts *out);
size_t wdp_stats_format(struct wdp_prov *p, char *buf, size_t len);
void wdp_stats_print(struct wdp_prov *p);
void wdp_stats_forked(struct wdp_stats *st); /* fork child, single thread */

/* ---- OpenSSL's default provider, called directly (sw.c) ---- */

/* The default provider's implementation of one algorithm: its dispatch
 * functions, found in a private library context that holds nothing else,
 * so work handed to it can never come back to this provider. */
struct wdp_sw_impl {
	const char *names;
	OSSL_FUNC_cipher_newctx_fn *newctx;
	OSSL_FUNC_cipher_freectx_fn *freectx;
	OSSL_FUNC_cipher_dupctx_fn *dupctx;
	OSSL_FUNC_cipher_encrypt_init_fn *einit;
	OSSL_FUNC_cipher_decrypt_init_fn *dinit;
	OSSL_FUNC_cipher_update_fn *update;
	OSSL_FUNC_cipher_final_fn *final;
	OSSL_FUNC_cipher_cipher_fn *cipher;
	OSSL_FUNC_cipher_get_ctx_params_fn *get_ctx_params;
	OSSL_FUNC_cipher_set_ctx_params_fn *set_ctx_params;
};

struct wdp_sw {
	OSSL_LIB_CTX *libctx;
	OSSL_PROVIDER *prov;
	void *provctx;
	struct wdp_sw_impl impl[WDP_NALGS];
};

int wdp_sw_load(struct wdp_sw *sw, char *err, size_t errlen);
void wdp_sw_unload(struct wdp_sw *sw);

/* ---- queues and sessions (pool.c) ---- */

#define WDP_QUEUE_DEPTH 32      /* requests in flight per queue (ASYNC_JOBs) */

/* A request sent through a queue's ring, by tag (async.c). */
enum wdp_slot_state { WDP_SLOT_FREE, WDP_SLOT_SENT, WDP_SLOT_DONE };

struct wdp_slot {
	uint8_t state;
	int32_t status;                 /* DONE: the completion's */
};

/* A queue's requests through the ring (async.c), under the queue's lock:
 * one thread's jobs share the queue, and whichever caller reaps keeps the
 * others' completions here for them to find. */
struct wdp_ring_state {
	struct wdp_slot slot[WDP_QUEUE_DEPTH];
	unsigned sent;                  /* SENT slots: the device has them */
	unsigned done;                  /* DONE slots their owner has not taken yet */
	unsigned next;                  /* where the search for a free slot starts */
	unsigned armed : 1;             /* the queue is armed (a completion signals) */
	unsigned kicked : 1;            /* ev_fd is readable (done > 0) */
	int ev_fd;                      /* the provider's eventfd: completions kept here */
	int wait_fd;                    /* epoll: the queue's event fd + ev_fd; -1: none yet */
};

struct wdp_queue {
	pthread_mutex_t lock;           /* held while a request or a session call runs */
	struct wd_queue *q;
	struct wd_dev *dev;             /* the context's, lives as long */
	pthread_t home;                 /* the thread that opened it: its sessions go here */
	unsigned sessions;              /* under the pool's lock */
	int broken;                     /* under the pool's lock: no new sessions */
	int in_process;                 /* a failed request never touched the caller's memory */
	/* explicit mode: requests go through this buffer, shared with the device */
	uint8_t *bounce;
	size_t bounce_len;
	int bounce_busy;                /* under lock: a request waits with it */
	uint64_t bounce_iova;
	/* ... and one area per ring slot for jobs' requests, made on first use */
	uint8_t *slots;
	uint64_t slots_iova;
	struct wdp_ring_state rs;       /* requests through the ring, under lock */
	int refs;                       /* the pool's (1) + ASYNC_WAIT_CTXs naming wait_fd */
	struct wdp_queue *next;
};

struct wdp_pool {
	pthread_mutex_t lock;
	struct wd_ctx *ctx;
	struct wdp_queue *queues;
	unsigned nqueues;
	uint64_t epoch;                 /* bumped in a fork child */
	int64_t retry_ns;               /* after a failure: no new queue before this */
	int last_err;                   /* why the last queue could not be had */
	uint32_t unsupported;           /* bit per wd_cipher_alg the device refused */
	unsigned async_max;             /* most requests a queue had in flight at once */
	char device[WD_NAME_MAX];       /* the device the first queue landed on */
	/* a fork parent's queues and contexts: not ours to free or lock */
	struct wdp_queue *parents;
	struct wd_ctx **parent_ctx;
	unsigned nparent_ctx;
};

struct wdp_sess {
	struct wdp_queue *wq;
	struct wd_cipher_sess *s;
	uint64_t epoch;
};

void wdp_pool_init(struct wdp_pool *p);
void wdp_pool_destroy(struct wdp_pool *p);
int wdp_sess_open(struct wdp_prov *prov, struct wdp_sess *ws, uint32_t alg, const void *key,
		  size_t key_len);
/* Close a session; broken: the queue failed (no new sessions go there). */
void wdp_sess_close(struct wdp_prov *prov, struct wdp_sess *ws, int broken);
static inline int wdp_sess_live(const struct wdp_prov *prov, const struct wdp_sess *ws);
void wdp_pool_device(struct wdp_prov *prov, char *buf, size_t len);
/* Drop a reference to a queue out of the pool (the last frees it). */
void wdp_queue_put(struct wdp_queue *wq);
void wdp_registry_add(struct wdp_prov *p);
void wdp_registry_del(struct wdp_prov *p);

/* ---- requests (req.c) ---- */

/* One operation for a device: a cipher request (iv set, 16 bytes) or one
 * part of an AEAD message (param != 0, hdr = [IV][AAD][tag slot]). */
struct wdp_op {
	uint8_t op;                     /* WD_OP_ENCRYPT / WD_OP_DECRYPT */
	enum wdp_mode mode;
	const uint8_t *iv;
	uint32_t param;                 /* AEAD: WD_AEAD_P_* */
	uint8_t *hdr;                   /* AEAD header; the tag slot is written back */
	size_t hdr_len, aad_len;
	const uint8_t *in;
	uint8_t *out;
	size_t len;
};

/* A context's request sent through the ring, not yet taken back
 * (async.c): a context freed meanwhile waits for it. */
struct wdp_pend {
	struct wdp_queue *wq;           /* NULL: none */
	unsigned slot;
	uint64_t epoch;                 /* the pool's when sent */
	const struct wdp_op *op;        /* where its results go (a bounce area's) */
};

/* Run op on the session's queue.  0, or a negative errno: -ECHILD (the
 * session is a fork parent's), -EMSGSIZE (too large for the bounce
 * buffer), or the device's answer.  *touched tells whether the caller's
 * output may have been written before the failure.  Inside an ASYNC_JOB
 * the request is submitted and the job paused until it completes; pend
 * and n are the context's. */
int wdp_req_run(struct wdp_prov *prov, struct wdp_sess *ws, const struct wdp_op *op,
		int *touched, struct wdp_pend *pend, struct wdp_counts *n);
int wdp_req_bounce_init(struct wdp_queue *wq);
void wdp_req_bounce_free(struct wdp_queue *wq);
/* A job's request in ring slot k (async.c), with the queue's lock held:
 * does op fit a slot (on a bounce-buffer queue, its area); the slots'
 * bounce areas, shared with the domain on first use (0 or an error); make
 * op's request (copied into the slot's area there); take its results
 * back once it completed. */
int wdp_req_slot_fits(const struct wdp_queue *wq, const struct wdp_op *op);
int wdp_req_slots_init(struct wdp_queue *wq);
int wdp_req_slot_prep(struct wdp_queue *wq, const struct wdp_sess *ws, const struct wdp_op *op,
		      unsigned k, struct wd_req *r);
void wdp_req_slot_done(struct wdp_queue *wq, const struct wdp_op *op, unsigned k, int status);

/* ---- requests through the ring: ASYNC_JOBs (async.c) ---- */

void wdp_ring_init(struct wdp_ring_state *rs);
void wdp_ring_fini(struct wdp_ring_state *rs);
/* op in a job that can pause: submitted, and the job paused until its
 * completion.  -EAGAIN: not in such a job, or op does not fit a slot (run
 * it synchronously); else 0 with *status: the completion's, -EBUSY (the
 * queue is full), -ECHILD (resumed in a fork child), or the library's
 * error. */
int wdp_async_run(struct wdp_prov *prov, struct wdp_sess *ws, const struct wdp_op *op,
		  struct wdp_pend *pend, struct wdp_counts *n, int *status);
/* A synchronous request on a queue that has jobs' requests in flight
 * (wd_run() wants none), with the queue's lock held: sent and waited for
 * (sleeping on the queue's descriptors, lock dropped meanwhile). */
int wdp_ring_run_locked(struct wdp_queue *wq, struct wd_req *r);
/* Sleep up to a millisecond on the queue's event fd (lock not held). */
void wdp_ring_nap(struct wdp_queue *wq);
/* A context goes with a request in flight: wait for it (the device may
 * still write the context's buffers), then forget it. */
void wdp_pend_drain(struct wdp_prov *prov, struct wdp_pend *pend);

/* ---- the provider instance (prov.c) ---- */

enum wdp_reason {
	WDP_R_NO_KEY = 1,
	WDP_R_BAD_KEY_LENGTH,
	WDP_R_BAD_IV_LENGTH,
	WDP_R_NO_IV,
	WDP_R_OUTPUT_TOO_SMALL,
	WDP_R_WRONG_FINAL_BLOCK_LENGTH,
	WDP_R_BAD_DECRYPT,
	WDP_R_DEVICE_FAILED,
	WDP_R_NO_QUEUE,
	WDP_R_BAD_PARAM,
	WDP_R_BAD_LENGTH,
	WDP_R_TAG,
	WDP_R_NOMEM,
	WDP_R_DEFAULT_PROVIDER,
	WDP_R_OPERATION,
	WDP_R_CONFIG,
};

struct wdp_prov {
	const OSSL_CORE_HANDLE *handle;
	OSSL_FUNC_core_new_error_fn *new_error;
	OSSL_FUNC_core_set_error_debug_fn *set_error_debug;
	OSSL_FUNC_core_vset_error_fn *vset_error;
	struct wdp_cfg cfg;
	struct wdp_stats stats;
	struct wdp_pool pool;
	struct wdp_sw sw;
	OSSL_ALGORITHM algs[WDP_NALGS + 1];
	char buildinfo[160];
	struct wdp_prov *next;          /* the list of live instances (pool.c) */
};

/* An error on OpenSSL's stack, under the provider's name and reasons. */
void wdp_raise_at(struct wdp_prov *p, const char *file, int line, const char *func, int reason,
		  const char *fmt, ...) __attribute__((format(printf, 6, 7)));
#define wdp_raise(p, reason, ...) wdp_raise_at(p, __FILE__, __LINE__, __func__, reason, __VA_ARGS__)
int64_t wdp_now_ns(void);

static inline int wdp_sess_live(const struct wdp_prov *prov, const struct wdp_sess *ws)
{
	return ws->s && ws->epoch == __atomic_load_n(&prov->pool.epoch, __ATOMIC_ACQUIRE);
}

#endif
