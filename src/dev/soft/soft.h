/* SPDX-License-Identifier: MIT */
/* The soft device: a software accelerator running engine threads in-process. */
#ifndef WD_SOFT_H
#define WD_SOFT_H

#include <pthread.h>
#include <stdint.h>

#include <isa-l/igzip_lib.h>
#include <wd/mem.h>

#include "../../ring/ring.h"

#define SOFT_MAX_LEN (1u << 30)         /* largest request, bytes */
#define SOFT_MAX_QUEUES 1024
#define SOFT_BUDGET 32                  /* requests per queue per round */
#define SOFT_BYTE_BUDGET (256u << 10)   /* ... or source bytes, at least one request */
#define SOFT_TIME_BUDGET_NS 1000000     /* ... or this much engine time */
#define SOFT_NOP_MAX_DELAY_NS 1000000000ull /* longest no-op "device time" in-process */
#define SOFT_MAX_SEGS 256               /* scatter-gather segments per buffer */
#define SOFT_MAX_HELD (2 * SOFT_MAX_SEGS + 4) /* shared ranges one request may hold */
#define SOFT_LD_LEVEL_MIN 4             /* engine levels from here on are libdeflate's */
#define SOFT_LD_NLEVELS 9               /* levels 4..12 */

struct soft_worker;
struct soft_stream;
struct libdeflate_compressor;
struct libdeflate_decompressor;
struct soft_cipher;
struct wd_cipher_setup;
struct wd_domain;
struct wd_map;
struct wd_queue_stats;

struct soft_seg {
	void *p;
	uint64_t len;
};

/* A buffer as segments: a scatter-gather one, or a plain one as one. */
struct soft_seg_list {
	const struct soft_seg *v;
	uint32_t n;
	struct soft_seg one;
};

static inline void soft_seg_list(struct soft_seg_list *l, const struct soft_seg *segs, uint32_t n,
				 void *p, uint64_t len)
{
	l->one.p = p;
	l->one.len = len;
	l->v = segs ? segs : &l->one;
	l->n = segs ? n : 1;
}

/* A shared range held while an operation runs (explicit mode). */
struct soft_hold {
	struct wd_map *map;
	uint64_t iova, len;
	int is_dst;
};

/* A side buffer an op reaches itself (soft_side_get): its shared range
 * held (explicit mode), and what of it the op wrote. */
struct soft_side {
	struct wd_map *map;             /* NULL: none held */
	uint64_t addr, len;             /* the device address and length asked */
	void *p;                        /* where the engine reaches it */
	uint64_t wr_off, wr_len;        /* written by the op (dirty tracking) */
};

/* A request's buffers as the engine reaches them: host pointers (or, for
 * scatter-gather, segments), and the shared ranges held meanwhile.  The
 * arrays live in the engine thread's scratch. */
struct soft_io {
	void *src, *dst, *dict;
	struct soft_seg *src_segs, *dst_segs;   /* NULL unless scatter-gather */
	uint32_t nsrc, ndst;
	uint64_t src_total, dst_total;
	struct soft_hold *held;
	unsigned nheld;
};

/* Per engine thread: state for one-shot compression requests, allocated on
 * first use and touched only by that thread. */
struct soft_scratch {
	struct isal_zstream *z;
	struct inflate_state *inf;
	uint8_t *level_buf[4];
	uint8_t *count_buf;             /* output sink for measuring a too-large result */
	struct wd_range table[SOFT_MAX_SEGS];   /* a copied segment table */
	struct soft_seg src_segs[SOFT_MAX_SEGS], dst_segs[SOFT_MAX_SEGS];
	struct soft_hold held[SOFT_MAX_HELD];
	void *bounce[3];                /* remote SVA: src, dst, dict copies */
	size_t bounce_len[3];
	struct soft_side side;          /* an AEAD header (one per request) */
	void *gather;                   /* XTS over segments: the data unit in one piece */
	size_t gather_len;
	uint64_t src_bytes;             /* source bytes of the request just run (stats) */
	uint32_t fallbacks;             /* ... and its fallbacks, 1 << enum soft_fallback */
	uint32_t small_reqs;            /* inline: small requests so far (time sampling) */
	/* remote SVA (remote.c): the helper copying ahead and behind; the
	 * request next in the ring, copied by the engine for a read ahead
	 * (has_next); a result the engine is to have written behind (wb_len
	 * bytes of bounce[1] to wb_addr; 0: none) */
	int engine;                     /* an engine thread's (else a calling thread's) */
	struct soft_remote *remote;
	int remote_failed;              /* no helper could be started */
	int has_next;
	wd_sqe next;
	uint64_t wb_addr, wb_len;
	/* libdeflate (comp_ld.c): a compressor per level 4..12, allocated on
	 * first use, and scatter-gather gather buffers */
	struct libdeflate_compressor *ldc[SOFT_LD_NLEVELS];
	uint8_t *ld_in, *ld_out;
	size_t ld_in_len, ld_out_len;
};

#define SOFT_REMOTE_MAX (64u << 20)     /* largest remote-SVA buffer */
/* Remote copies the helper makes (remote.c): smaller ones gain less than
 * the hand-over costs; larger ones stay out of a second buffer. */
#define SOFT_REMOTE_AHEAD_MIN (32u << 10)
#define SOFT_REMOTE_AHEAD_MAX (4u << 20)

/* Why a request was not served the way the engine first meant to: each
 * such retry or detour is counted where it happens (nothing is silent). */
enum soft_fallback {
	/* one-shot deflate at a libdeflate level: its output (with the slack
	 * it wants) did not fit dst, stored blocks were written instead; or a
	 * piece with a dictionary at ISA-L's levels did not fit, and was made
	 * again without it */
	SOFT_FB_DEFLATE_STORED,
	/* a synchronous helper's request went through the ring instead of
	 * running inline: the engine held the queue's state (owner), or no
	 * per-thread scratch could be allocated */
	SOFT_FB_SYNC_RING_BUSY,
	SOFT_FB_SYNC_RING_NOMEM,
	SOFT_FB__COUNT
};

/* A queue's counters, each with one writer at a time (the engine thread for
 * eng; the queue's user thread for inl: the requests it runs inline, under
 * owner, and those it had to send through the ring instead) and read with
 * relaxed atomic loads from anywhere (the daemon's statistics). */
struct soft_stats {
	uint64_t nreq, nerr;            /* served, failed */
	uint64_t bytes;                 /* source bytes served */
	uint64_t busy_ns;               /* time spent serving */
	uint64_t fallback[SOFT_FB__COUNT]; /* by enum soft_fallback */
};

/* The device's private state for one queue: its own view of the ring and
 * its own copies of the indices it owns; nothing it decides on comes from
 * shared memory without a check. */
struct soft_queue {
	struct wd_ring ring;
	uint64_t id;                    /* never reused in the process (remote.c) */
	uint32_t sq_head;
	uint32_t cq_tail;
	uint32_t op_mask;
	struct wd_domain *dom;          /* explicit mode; NULL: SVA */
	/* SVA in another process (the daemon's clients): its /proc/<pid>/mem,
	 * opened when the queue was made, so it names that very address space
	 * (one the process has left by execve reads as end of file); -1: none */
	int remote_mem;
	int cq_fd;                      /* wakes a waiting user; never blocks (O_NONBLOCK) */
	/* The daemon's end of this queue's own doorbell (a pipe the client
	 * writes), drained by the engine thread; -1: none (in-process queues
	 * ring the worker directly).  bell_eof: the client closed its end. */
	int bell_fd, bell_eof;
	uint64_t max_delay_ns;          /* longest no-op delay this queue may ask for */
	uint64_t max_len;               /* largest buffer (or SG total) of a request */
	struct soft_quota *quota;       /* engine memory for this queue's owner; NULL: none */
	int broken;
	struct soft_worker *worker;
	struct soft_stats eng;          /* requests the engine thread took from the ring */
	struct soft_stream *streams[WD_MAX_SESSIONS + 1]; /* by session id */
	struct soft_cipher *cipher;     /* cipher sessions; NULL unless a cipher queue */
	/*
	 * Who may touch the queue's engine-side state (streams[], the cipher
	 * contexts and their sweep) besides ring requests.  Requests from the
	 * ring are run by the engine thread only while the user has them in
	 * flight, and a synchronous helper runs a request inline only when
	 * the user has nothing in flight, so those two never meet: the ring's
	 * indices (release/acquire) order one after the other.  What the
	 * engine does with no request in hand is the cipher sweep, at the top
	 * of every pass; it takes this word (FREE -> ENGINE) first and skips
	 * the sweep until a later pass if it cannot.  The inline path takes it
	 * (FREE -> INLINE, acquire) for the duration of one request and gives
	 * it back (release); if the engine holds it, the helper sends its
	 * request through the ring instead.  Own cache line: the inline path
	 * writes it per request, the engine reads it only to sweep.
	 */
	_Alignas(64) uint32_t owner;
	struct soft_stats inl;          /* run inline (under owner), or sent to the ring instead */
	char pad_[64];
};

enum { SOFT_OWNER_FREE, SOFT_OWNER_ENGINE, SOFT_OWNER_INLINE };

/* Add to counters of one writer: relaxed atomics, for readers elsewhere. */
static inline void soft_stats_add(struct soft_stats *st, uint64_t nreq, uint64_t nerr,
				  uint64_t bytes, uint64_t busy_ns)
{
	__atomic_store_n(&st->nreq, __atomic_load_n(&st->nreq, __ATOMIC_RELAXED) + nreq,
			 __ATOMIC_RELAXED);
	__atomic_store_n(&st->nerr, __atomic_load_n(&st->nerr, __ATOMIC_RELAXED) + nerr,
			 __ATOMIC_RELAXED);
	__atomic_store_n(&st->bytes, __atomic_load_n(&st->bytes, __ATOMIC_RELAXED) + bytes,
			 __ATOMIC_RELAXED);
	__atomic_store_n(&st->busy_ns, __atomic_load_n(&st->busy_ns, __ATOMIC_RELAXED) + busy_ns,
			 __ATOMIC_RELAXED);
}

/* Count the fallbacks of one request (a mask of 1 << enum soft_fallback). */
static inline void soft_stats_fallback(struct soft_stats *st, uint32_t mask)
{
	while (mask) {
		unsigned k = (unsigned)__builtin_ctz(mask);

		mask &= mask - 1;
		__atomic_store_n(&st->fallback[k],
				 __atomic_load_n(&st->fallback[k], __ATOMIC_RELAXED) + 1,
				 __ATOMIC_RELAXED);
	}
}

/* The queue's statistics: engine and inline requests together (a snapshot). */
void soft_queue_stats(const struct soft_queue *sq, struct soft_stats *out);

/* The queue's counters in the public form (wd_queue_stats); st's size is
 * left as it is. */
void soft_queue_stats_public(const struct soft_queue *sq, struct wd_queue_stats *st);

/* Run one request in the calling thread (a synchronous helper on an idle
 * in-process queue; see owner): 0 with *c filled, or 1 when the engine
 * holds the queue's state or no thread scratch could be had (use the ring). */
int soft_exec_inline(struct soft_queue *sq, const wd_sqe *e, wd_cqe *c);

/* Memory the engine allocates on a queue owner's behalf (stream state),
 * counted against a limit shared by all its queues; updated atomically by
 * any engine thread and the daemon's control thread. */
struct soft_quota {
	uint64_t used, limit;
};

/* Take or give back n bytes; take fails (-EDQUOT) past the limit. */
int soft_quota_take(struct soft_quota *q, uint64_t n);
void soft_quota_give(struct soft_quota *q, uint64_t n);

struct soft_worker {
	pthread_t thread;
	int efd;                        /* private wake-up: list changes, in-process kicks */
	int epfd;                       /* sleeps on efd and the queues' doorbells */
	unsigned idle_us;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct soft_queue **list;       /* under lock, room for max_queues */
	unsigned n;
	uint32_t gen;                   /* bumped under lock on every list change */
	uint32_t ack_gen;               /* last gen the thread took (atomic, release) */
	int notify_fd;                  /* under lock: written at the next ack; -1: none */
	uint32_t stop;
	struct soft_queue **local;      /* the thread's snapshot, same room */
	unsigned nlocal;
	struct soft_scratch scratch;
};

/* max_queues: most queues the worker will ever serve at once. */
/* The engine: its threads, and queues over any ring memory (the process's
 * own, or a client's memfd in the daemon). */
struct soft_dev {
	unsigned nworkers;
	pthread_mutex_t lock;           /* load[] */
	unsigned *load;                 /* queues per worker */
	struct soft_worker workers[];
};

int soft_dev_create(unsigned threads, unsigned idle_us, struct soft_dev **out);
void soft_dev_destroy(struct soft_dev *sd, int in_child);
/* ring: a formatted ring of depth entries each way. */
struct soft_queue *soft_queue_create(void *ring, uint32_t depth, uint32_t op_mask,
				     struct wd_domain *dom, int cq_fd, int remote_mem);
/* 0, or -errno: the engine cannot wait for the queue's doorbell. */
int soft_queue_attach(struct soft_dev *sd, struct soft_queue *sq);
/* Synchronous; reports how far the engine got (see wd_driver_ops). */
void soft_queue_detach(struct soft_dev *sd, struct soft_queue *sq, uint32_t *sq_head,
		       uint32_t *cq_tail);
/* The same in two steps, for a caller that must not wait (the daemon's
 * control thread): start takes the queue off its thread's list and returns
 * a ticket; done is 1 once the thread let go of the queue (between
 * requests: it may be inside a long one until then), reporting as
 * soft_queue_detach does, else 0.  Until done, nothing of sq may go.
 * notify_fd (>= 0): an eventfd the thread writes when it lets go, so the
 * caller can sleep in its own poll loop; one such caller per engine. */
uint32_t soft_queue_detach_start(struct soft_dev *sd, struct soft_queue *sq, int notify_fd);
int soft_queue_detach_done(struct soft_dev *sd, struct soft_queue *sq, uint32_t ticket,
			   uint32_t *sq_head, uint32_t *cq_tail);
void soft_queue_destroy(struct soft_queue *sq);
void soft_queue_kick(struct soft_queue *sq);

/* The soft device's description, algorithms and reserved IOVA windows. */
extern const char *const soft_algs[];
void soft_dev_info(struct wd_dev_info *info, const char *name, unsigned engines);
void soft_reserved(struct wd_iova_range *resv, uint32_t *n, uint32_t max);

int soft_worker_start(struct soft_worker *w, unsigned idle_us, unsigned max_queues);
void soft_worker_stop(struct soft_worker *w);
int soft_worker_attach(struct soft_worker *w, struct soft_queue *sq);
/* Take sq off the list; the worker no longer touches sq once
 * soft_worker_detach_done() of the returned ticket is 1 (never blocks). */
uint32_t soft_worker_detach_start(struct soft_worker *w, struct soft_queue *sq, int notify_fd);
int soft_worker_detach_done(struct soft_worker *w, uint32_t ticket);
void soft_worker_kick(struct soft_worker *w);

/* Validate one copied descriptor and execute it; returns the status. */
int soft_exec(struct soft_queue *sq, struct soft_scratch *s, const wd_sqe *e, wd_cqe *c);

/*
 * A side buffer of the request being run (an AEAD header), which its op
 * finds once it knows the request's session (its address field means
 * something else in other modes): [addr, addr+len) reached by the rules of
 * src and dst for the queue's memory model - the process's own pointer
 * (SVA), a held shared range, writable if write (explicit), a copy read
 * into bounce slot 2 (remote SVA).  At most one per request.  soft_side_wrote:
 * the op wrote [off, off+len) of it: sent back to the client (remote SVA:
 * -EFAULT if that fails) or counted dirty when the range is let go.
 */
int soft_side_get(struct soft_queue *sq, struct soft_scratch *s, uint64_t addr, uint64_t len,
		  int write, void **out);
int soft_side_wrote(struct soft_queue *sq, struct soft_scratch *s, uint64_t off, uint64_t len);

/* Compression ops (comp.c), called after the generic checks. */
int soft_compress(struct soft_queue *sq, struct soft_scratch *s, const wd_sqe *e,
		  const struct soft_io *io, wd_cqe *c);
int soft_decompress(struct soft_queue *sq, struct soft_scratch *s, const wd_sqe *e,
		    const struct soft_io *io, wd_cqe *c);
void soft_scratch_free(struct soft_scratch *s);
void soft_streams_free(struct soft_queue *sq);

/* A stream header's first bytes as zlib judges them (comp_hdr.c): 0 when
 * the bytes seen so far make it corrupt.  h starts zeroed per member. */
struct soft_wrap_hdr {
	uint8_t seen;
	uint8_t b[4];
};
int soft_wrap_hdr_ok(struct soft_wrap_hdr *h, unsigned framing, unsigned wbits, const uint8_t *p,
		     uint32_t len);

/* A gzip member header parsed for a stream (comp_hdr.c), starting zeroed.
 * soft_gz_hdr_feed: 1 the header is complete (*used: its bytes in p),
 * 0 it goes on (all of p used), -EBADMSG it is corrupt. */
struct soft_gz_hdr {
	uint8_t state, flg, n, crc_done;
	uint8_t b[10];
	uint16_t left;
	uint32_t crc;
};
int soft_gz_hdr_feed(struct soft_gz_hdr *h, const uint8_t *p, uint32_t len, uint32_t *used);

/* libdeflate paths (comp_ld.c).  soft_ld_compress: one-shot at a level
 * >= SOFT_LD_LEVEL_MIN, final: it ends the stream (else a raw piece ending
 * on a byte boundary); fills the completion, returns 0 or the status. */
#define SOFT_LD_F_DICT 1u   /* the request has a dictionary (refused: libdeflate has none) */
#define SOFT_LD_F_ADLER 2u  /* raw: report Adler-32, not CRC-32 (WD_COMP_P_ADLER) */
int soft_ld_compress(struct soft_scratch *s, const void *src, uint32_t len, void *dst,
		     uint32_t dst_len, unsigned level, unsigned framing, int final, unsigned flags,
		     wd_cqe *c);
int soft_ld_compress_sg(struct soft_scratch *s, const struct soft_seg_list *in, uint64_t total,
			const struct soft_seg_list *out, uint64_t out_total, unsigned level,
			unsigned framing, wd_cqe *c);
void soft_ld_scratch_free(struct soft_scratch *s);

/* Remote SVA, copies by the helper (remote.c), all called by the engine
 * thread but the last two.  read_post: read [addr, addr+len) of sq's
 * client ahead (checked by the caller as bounce() checks); read_take: put
 * it in the bounce buffer of slot if it is exactly that range of sq, read
 * whole (1; else 0: read it yourself); fence: before the engine itself
 * reads (write 0) or writes (write 1) a range of sq's client, whatever of
 * the helper's could cross it is done (or dropped); write_later: may a
 * result of len bytes be written behind; write_post: write len bytes of the
 * bounce buffer of slot to addr (the buffer goes to the helper), then post
 * c (-EFAULT if the write failed) at completion slot cq_idx of sq, which
 * the engine leaves alone meanwhile; behind: the queue of such a write not
 * yet done with, or NULL; write_done: wait for it and say its queue and
 * final status (1; 0: none); settle: no read ahead of sq goes on (end of
 * its pass); stop the helper (engine thread gone), or only free its memory
 * (fork child). */
int soft_remote_helper(struct soft_scratch *s);
void soft_remote_read_post(struct soft_queue *sq, struct soft_scratch *s, uint64_t addr,
			   uint64_t len);
int soft_remote_read_take(struct soft_queue *sq, struct soft_scratch *s, unsigned slot,
			  uint64_t addr, uint64_t len);
void soft_remote_fence(struct soft_queue *sq, struct soft_scratch *s, uint64_t addr,
		       uint64_t len, int write);
int soft_remote_write_later(struct soft_scratch *s, uint64_t len);
void soft_remote_write_post(struct soft_queue *sq, struct soft_scratch *s, unsigned slot,
			    uint64_t addr, uint64_t len, const wd_cqe *c, uint32_t cq_idx);
struct soft_queue *soft_remote_behind(const struct soft_scratch *s);
int soft_remote_write_done(struct soft_scratch *s, struct soft_queue **sq, int *status);
void soft_remote_settle(struct soft_scratch *s);
void soft_remote_stop(struct soft_scratch *s);
void soft_remote_free(struct soft_scratch *s);

/* Fill completion slot idx of sq, publish the tail past it and wake a
 * waiting user: the engine's, or its helper's for a result written behind
 * (remote.c), never both at once for one queue. */
void soft_cq_put(struct soft_queue *sq, uint32_t idx, const wd_cqe *c);

/* Cipher ops and sessions (crypto.c).  soft_cipher_set is the control
 * path (any thread but the engine's; cs NULL closes the session);
 * soft_cipher_sweep lets the engine drop the keys of closed sessions. */
int soft_encrypt(struct soft_queue *sq, struct soft_scratch *s, const wd_sqe *e,
		 const struct soft_io *io, wd_cqe *c);
int soft_decrypt(struct soft_queue *sq, struct soft_scratch *s, const wd_sqe *e,
		 const struct soft_io *io, wd_cqe *c);
int soft_cipher_init(struct soft_queue *sq);
void soft_cipher_free(struct soft_queue *sq);
int soft_cipher_set(struct soft_queue *sq, unsigned id, const struct wd_cipher_setup *cs);
void soft_cipher_sweep(struct soft_queue *sq);
/* Has a session been closed since the last sweep? */
int soft_cipher_sweep_due(const struct soft_queue *sq);
/* A request of session id failed before its op ran (a bad address, a
 * reserved field): an AEAD message it was part of ends, as it would had
 * the op refused the request itself (crypto_gcm.c). */
void soft_cipher_abort(struct soft_queue *sq, unsigned id);

/* The ciphers, from OpenSSL's default provider in a library context of the
 * engine's own (evp.c).  init: fetch them (once per process): 0 or -EIO;
 * cipher: the EVP_CIPHER of a mode and key length; ecb: AES-ECB of a key
 * length; NULL when unknown or not fetched. */
struct evp_cipher_st;
struct ossl_param_st;
int soft_evp_init(void);
/* A cipher queue holds the table while it lives: 0, -EIO (no ciphers) or
 * -ESHUTDOWN (OpenSSL's teardown began). */
int soft_evp_get(void);
void soft_evp_put(void);
const struct evp_cipher_st *soft_evp_cipher(uint32_t alg, uint32_t key_len);
const struct evp_cipher_st *soft_evp_ecb(uint32_t key_len);

/* The default provider's own functions for a mode: its context made with
 * newctx(provctx), keyed or given a new IV with init[enc] (key or IV NULL:
 * kept), and cipher() for the raw transform (whole blocks for CBC, a data
 * unit for XTS); for GCM also update() (AAD with out NULL, then text),
 * final() and the tag through get/set_ctx_params.  soft_evp_plain copies
 * those of a mode and key length into *pf and returns a reference to the
 * mode's EVP_CIPHER, which keeps the provider (its provctx) alive while
 * the caller's contexts are (free it with EVP_CIPHER_free after them:
 * they may outlive the engine's table, freed at OpenSSL's teardown); NULL
 * when unknown or not fetched. */
struct soft_pcipher {
	void *provctx;
	void *(*newctx)(void *provctx);
	void (*freectx)(void *ctx);
	int (*init[2])(void *ctx, const unsigned char *key, size_t keylen, const unsigned char *iv,
		       size_t ivlen, const struct ossl_param_st *params);
	int (*cipher)(void *ctx, unsigned char *out, size_t *outl, size_t outsize,
		      const unsigned char *in, size_t inl);
	int (*update)(void *ctx, unsigned char *out, size_t *outl, size_t outsize,
		      const unsigned char *in, size_t inl);
	int (*final)(void *ctx, unsigned char *out, size_t *outl, size_t outsize);
	int (*get_params)(void *ctx, struct ossl_param_st *params);
	int (*set_params)(void *ctx, const struct ossl_param_st *params);
};
struct evp_cipher_st *soft_evp_plain(uint32_t alg, uint32_t key_len, struct soft_pcipher *pf);
/* A context of pf (NULL: no memory), freed, keyed for a direction (1 or 0). */
void *soft_pctx_new(const struct soft_pcipher *pf);
void soft_pctx_free(const struct soft_pcipher *pf, void *ctx);
int soft_pctx_key(const struct soft_pcipher *pf, void *ctx, int enc, const void *key, size_t len);

#endif
