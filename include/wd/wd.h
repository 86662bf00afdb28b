/* SPDX-License-Identifier: MIT */
/*
 * WarpDrive core API: devices, queues, submission and completion.
 *
 * A context (struct wd_ctx) owns the devices it discovered and their engines;
 * two contexts in one process never share state.  A queue (struct wd_queue)
 * is bound to one algorithm on one device and is owned by the process (and,
 * by convention, the thread) that created it: it is not thread-safe, and it
 * is never inherited by a fork child.
 *
 * Every function returns 0 or a count on success and a negative errno value
 * on failure; errno is never used as a side channel.  wd_strerror() turns
 * such a value into text.
 */
#ifndef WD_WD_H
#define WD_WD_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <wd/version.h>

#ifdef __cplusplus
extern "C" {
#endif

struct wd_ctx;
struct wd_dev;
struct wd_queue;
struct wd_domain;       /* wd/mem.h */

/* ---- library ---------------------------------------------------------- */

/* Version of the library actually loaded, e.g. "0.1.0". */
const char *wd_version(void);

/* Text for a negative errno value returned by this library. */
const char *wd_strerror(int err);

/* ---- contexts --------------------------------------------------------- */

/* wd_ctx_opts.flags */
#define WD_CTX_F_LOCAL_ONLY (1u << 0)   /* only in-process devices: no daemon */

struct wd_ctx_opts {
	uint32_t size;          /* sizeof(struct wd_ctx_opts) */
	uint32_t soft_threads;  /* engine threads of the soft device; 0: online CPUs */
	uint32_t soft_idle_us;  /* engine spin time before it sleeps; 0: default 200 */
	uint32_t flags;         /* WD_CTX_F_* */
};

/*
 * Create a context and discover its devices: the in-process software
 * engine "soft0", and "wdd0" when a wdd daemon answers on its socket
 * ($WD_WDD_SOCKET, else $XDG_RUNTIME_DIR/wdd.sock, else /run/wdd.sock).
 * opts may be NULL.  The environment variables WD_SOFT_THREADS and
 * WD_SOFT_IDLE_US override the defaults (not explicit option values);
 * WD_DEVICE names the device queues go to when they name none.
 */
int wd_ctx_new(struct wd_ctx **out, const struct wd_ctx_opts *opts);

/* Free a context.  Every queue of it must have been freed first. */
void wd_ctx_free(struct wd_ctx *ctx);

/* ---- devices ---------------------------------------------------------- */

enum {
	WD_DEV_F_SVA      = 1u << 0, /* requests may carry process pointers */
	WD_DEV_F_EXPLICIT = 1u << 1, /* explicit sharing of ranges */
	WD_DEV_F_SOFT     = 1u << 2, /* software engine */
};

#define WD_NAME_MAX 32

struct wd_dev_info {
	uint32_t size;              /* caller sets sizeof(struct wd_dev_info) */
	uint32_t flags;             /* WD_DEV_F_* */
	char name[WD_NAME_MAX];     /* e.g. "soft0" */
	char driver[WD_NAME_MAX];   /* e.g. "soft" */
	uint32_t max_queues;        /* queues the device can hold at once */
	uint32_t avail_queues;      /* of which still free */
	uint32_t max_depth;         /* largest queue depth */
	uint32_t engines;           /* engine threads or hardware engines */
	uint32_t throughput_mbps;   /* hint: bulk throughput of one engine */
	uint32_t latency_ns;        /* hint: no-op round trip while polling */
	uint32_t n_algs;            /* number of algorithm names */
	uint32_t max_segs;          /* scatter-gather: segments per buffer */
	uint32_t max_seg_len;       /* scatter-gather: bytes per segment */
	uint32_t rsvd[3];
};

/* Number of devices the context found. */
int wd_dev_count(const struct wd_ctx *ctx);

/* Device by index (0 .. wd_dev_count()-1), or NULL. */
struct wd_dev *wd_dev_get(const struct wd_ctx *ctx, unsigned idx);

/* Device by name, or NULL. */
struct wd_dev *wd_dev_by_name(const struct wd_ctx *ctx, const char *name);

/* Best device (highest throughput hint) offering alg, or NULL. */
struct wd_dev *wd_dev_find(const struct wd_ctx *ctx, const char *alg);

/* Fill info; info->size must be set.  Returns 0 or -EINVAL. */
int wd_dev_info(const struct wd_dev *dev, struct wd_dev_info *info);

/* Name of the dev's idx-th algorithm, or NULL past the end. */
const char *wd_dev_alg(const struct wd_dev *dev, unsigned idx);

/* 1 if the device offers alg, else 0. */
int wd_dev_has_alg(const struct wd_dev *dev, const char *alg);

/* ---- queues ----------------------------------------------------------- */

#define WD_QUEUE_DEPTH_DEFAULT 256

/* wd_queue_opts.flags */
#define WD_QUEUE_F_EXPLICIT (1u << 0)   /* explicit sharing instead of SVA, see wd/mem.h */
/* Synchronous helpers (wd_compress, wd_encrypt, streams...) always go through
 * the ring to the device's engine threads.  Without it, on the in-process
 * software device, they run the request in the calling thread (no hop to an
 * engine thread; same checks, results and statistics); the environment
 * variable WD_SOFT_INLINE=0 does the same for every queue. */
#define WD_QUEUE_F_RING_ONLY (1u << 1)
/*
 * Fallback to the built-in engine (the default on every device but the
 * built-in one, soft0).  When the queue's device fails - a daemon that
 * dies, a VFIO device reset or taken away, a ring the device corrupted -
 * every one-shot request in flight is run again by the in-process software
 * engine from the library's own copy of it (never from the ring, which the
 * device could have rewritten), and the queue keeps accepting requests,
 * which go straight to that engine.  A request the device refuses
 * (-EOPNOTSUPP) or fails (-EIO) while it lives is run there too.  Each such
 * completion carries WD_CPL_F_SOFT and counts in wd_queue_stats().
 * What cannot be run again fails with -ENOTRECOVERABLE: requests of a
 * compression stream, whose state only the device had (until the stream
 * is reset, wd_comp_stream_reset(), which starts it afresh on the built-in
 * engine), and requests of a cipher session whose key only the device had
 * (see WD_QUEUE_F_FALLBACK_KEEP_KEYS).  A request the device may have
 * started that writes over its own input (a cipher in place, an
 * overlapping copy) fails with -EIO as before: running it again would
 * apply it twice.
 * WD_QUEUE_F_NO_FALLBACK turns all of this off: the device's failure fails
 * every request in flight with -EIO, and later submissions too.
 */
#define WD_QUEUE_F_NO_FALLBACK (1u << 2)
/* Cipher sessions survive the device: the library keeps each session's key
 * (in memory locked against swapping, left out of core dumps and fork
 * children, wiped when the session or the queue is freed), so that their
 * requests can be run by the built-in engine when the device fails or
 * refuses them.  Without it the library keeps no copy of a key.  Not with
 * WD_QUEUE_F_NO_FALLBACK (-EINVAL); no effect on the built-in device. */
#define WD_QUEUE_F_FALLBACK_KEEP_KEYS (1u << 3)

struct wd_queue_opts {
	uint32_t size;          /* sizeof(struct wd_queue_opts) */
	uint32_t depth;         /* requests in flight at most; 0: default; rounded up to a power of 2 */
	const char *device;     /* device name; NULL: best device for the algorithm */
	uint32_t flags;         /* WD_QUEUE_F_* */
	uint32_t rsvd;          /* 0 */
	struct wd_domain *domain; /* explicit mode: join this domain (NULL: a new one) */
};

/*
 * Request a queue for algorithm alg ("nop", "copy", "fill", "compare",
 * "crc32c", "mover" for all data-mover operations, "deflate", "zlib",
 * "gzip" for compression, see wd/comp.h, or "cipher", "aes-cbc",
 * "aes-ctr", "aes-xts" for ciphers, see wd/crypto.h).  opts may be NULL.
 * Errors: -EINVAL bad argument, -ENODEV no such device, -EOPNOTSUPP no
 * device (or not the named one) offers alg, -EBUSY the device has no free
 * queue, -ECHILD ctx was created before a fork, -ENOMEM, or the errno of a
 * failed mmap/eventfd.
 */
int wd_queue_new(struct wd_queue **out, struct wd_ctx *ctx, const char *alg,
		 const struct wd_queue_opts *opts);

/*
 * Stop a queue: no new requests are accepted, requests the device already
 * started complete normally, the others complete with status -ECANCELED.
 * Their completions stay in the queue for wd_recv()/wd_poll().  Idempotent.
 */
int wd_queue_stop(struct wd_queue *q);

/* Stop (if needed) and release a queue.  Unreaped completions are dropped. */
void wd_queue_free(struct wd_queue *q);

struct wd_queue_info {
	uint32_t size;          /* caller sets sizeof(struct wd_queue_info) */
	uint32_t depth;
	uint32_t inflight;      /* submitted and not yet reaped */
	uint32_t rsvd;
	char alg[WD_NAME_MAX];
	char device[WD_NAME_MAX];
};

int wd_queue_info(const struct wd_queue *q, struct wd_queue_info *info);

/*
 * What the device did for a queue since it was made: counters, read as a
 * snapshot.  Fallbacks count the requests that were not served the way
 * the device first meant to, one counter per reason (a request counts in
 * requests once, however it was served).  The caller sets size; the
 * library fills no more than that and sets size to what it filled, so
 * programs built against an older or newer definition keep working.
 * Returns 0, -EINVAL (size < 16), or -EOPNOTSUPP (a device that keeps no
 * statistics, on a queue made with WD_QUEUE_F_NO_FALLBACK).  A queue that
 * fell back counts what the built-in engine ran for it with the device's
 * counters (a request counts once: one the device refused is not its
 * error); after a failover or a stop, the device's part is what it counted
 * until then (a daemon that died takes its counters since the last call
 * that reached it).  Since WD_0.3.
 */
struct wd_queue_stats {
	uint32_t size;          /* caller sets sizeof(struct wd_queue_stats) */
	uint32_t rsvd;
	uint64_t requests;      /* served (through the ring or inline) */
	uint64_t errors;        /* of them, completed with a negative status */
	uint64_t bytes;         /* source bytes of the requests served */
	uint64_t busy_ns;       /* device time spent on them (inline: sampled) */
	uint64_t inline_requests; /* of requests: run in the calling thread */
	/* fallbacks: a synchronous helper's request went through the ring
	 * instead of running inline, because the engine held the queue's
	 * state, or no per-thread state could be allocated */
	uint64_t sync_ring_busy;
	uint64_t sync_ring_nomem;
	/* one-shot inflate redone by a second decoder: the output did not
	 * fit dst; the input was corrupt, truncated or empty; or the first
	 * decoder had no memory.  0 on the software device since 0.4: it
	 * decodes with ISA-L alone (zlib's verdicts; libdeflate accepts some
	 * streams zlib refuses) */
	uint64_t inflate_retry_nospace;
	uint64_t inflate_retry_baddata;
	uint64_t inflate_retry_nomem;
	/* fallback: one-shot compression at a libdeflate level whose output did
	 * not fit dst: written as stored (uncompressed) blocks instead */
	uint64_t deflate_stored;
	/* fallback to the built-in engine (WD_QUEUE_F_NO_FALLBACK): requests it
	 * ran because the device failed (them, or as a whole), or because the
	 * device refused them (-EOPNOTSUPP: an operation or a cipher mode it
	 * does not offer); requests that failed with the device and could not
	 * be run again (-ENOTRECOVERABLE, or -EIO for one in place the device
	 * may have started); and how many times the device was declared failed
	 * (0 or 1).  Appended after the rest (the struct is size-versioned). */
	uint64_t soft_after_failure;
	uint64_t soft_after_refusal;
	uint64_t lost_in_failure;
	uint64_t device_failures;
};

int wd_queue_stats(const struct wd_queue *q, struct wd_queue_stats *st);

/* ---- requests and completions ----------------------------------------- */

enum wd_op {
	WD_OP_NOP = 0,     /* arg0: time the device spends on it, in ns (<= 1 s) */
	WD_OP_COPY,        /* dst <- src, len bytes (overlap allowed) */
	WD_OP_FILL,        /* dst <- len bytes of the 8-byte pattern arg0 */
	WD_OP_COMPARE,     /* src vs dst, len bytes: result 0 equal / 1 differ, aux offset */
	WD_OP_CRC32C,      /* result = CRC32C of src, len bytes, seed arg0 (0: standard) */
	WD_OP_COMPRESS,    /* see wd/comp.h */
	WD_OP_DECOMPRESS,  /* see wd/comp.h */
	WD_OP_ENCRYPT,     /* see wd/crypto.h */
	WD_OP_DECRYPT,     /* see wd/crypto.h */
	WD_OP__COUNT
};

#define WD_MAX_SESSIONS 64      /* stream sessions per queue, ids 1..64 */

/*
 * A request, 64 bytes: the ring's wire format.  Addresses are process
 * pointers on an SVA device.  Fields an operation does not use must be zero:
 * the device refuses the request otherwise, so that later versions can give
 * them a meaning.  Fill requests with the wd_prep_*() helpers.
 */
struct wd_req {
	uint8_t op;             /* enum wd_op */
	uint8_t flags;          /* WD_REQ_F_* */
	uint16_t session;       /* stream session (1..WD_MAX_SESSIONS), 0: none */
	uint32_t len;           /* source bytes */
	uint64_t tag;           /* returned untouched in the completion */
	uint64_t src;
	uint64_t dst;
	uint32_t dst_len;       /* destination capacity, for ops with variable output */
	uint32_t param;         /* op-specific parameters */
	uint64_t arg0;          /* op-specific */
	uint64_t arg1;          /* op-specific */
	uint64_t rsvd;          /* 0 */
};

/* wd_req.flags: scatter-gather buffers (one-shot compression requests).
 * src (or dst) is then the device address of a table of struct wd_range
 * (wd/mem.h) and len (or dst_len) the number of entries, up to the device's
 * max_segs; wd_rlist_dma_map() makes such tables. */
#define WD_REQ_F_SRC_SG 1u
#define WD_REQ_F_DST_SG 2u

/* wd_cpl.flags */
#define WD_CPL_F_MORE 1u        /* output space ran out: submit again for the rest */
#define WD_CPL_F_END  2u        /* the stream ended (all output produced / end seen) */
/* Set by the library: the built-in software engine ran this request instead
 * of the queue's device, which failed or refused it (see
 * WD_QUEUE_F_NO_FALLBACK); the completion is otherwise exactly what the
 * device gives for it. */
#define WD_CPL_F_SOFT (1u << 8)

/* A completion, 32 bytes. */
struct wd_cpl {
	uint64_t tag;           /* the request's tag */
	int32_t status;         /* 0 or a negative errno */
	uint32_t flags;         /* WD_CPL_F_* */
	uint64_t result;        /* op-specific: bytes produced, CRC, compare result */
	uint64_t aux;           /* op-specific: e.g. offset of first difference */
};

/*
 * Submit n requests, ringing the doorbell once.  Returns the number taken
 * (1..n): fewer than n when the queue fills; -EBUSY when none fits.  Never
 * blocks.  -EIO: the device failed or found the queue's ring corrupted, on
 * a queue without the fallback (WD_QUEUE_F_NO_FALLBACK); with it, requests
 * go to the built-in engine from then on.  -ECHILD: called in a fork
 * child.  -ESHUTDOWN: the queue was stopped.
 */
int wd_send(struct wd_queue *q, const struct wd_req *reqs, unsigned n);

/* Reap up to max completions without blocking.  Returns the count (0: none
 * yet), or -EIO when none is there and the device declared the ring dead
 * (without the fallback).  Completions may come in any order: match them
 * by tag.  The library hands each completion out once, whatever the
 * device wrote: a device that completes a request it was never given, or
 * one twice, is a broken one (failed over, or -EIO). */
int wd_recv(struct wd_queue *q, struct wd_cpl *out, unsigned max);

/*
 * Reap up to max completions, blocking until at least one is there or
 * timeout_ms passes (-1: no limit).  Returns the count, -ETIMEDOUT, -EINTR
 * (a signal arrived), -EIO (the ring is dead), or -EAGAIN when nothing is
 * in flight (waiting would never end).
 */
int wd_wait(struct wd_queue *q, struct wd_cpl *out, unsigned max, int timeout_ms);

typedef void (*wd_cpl_fn)(void *arg, const struct wd_cpl *cpl);

/*
 * Callback style: reap up to max completions, calling fn for each (with a
 * private copy of the completion), blocking up to timeout_ms for the first
 * one.  Returns the count; 0 when timeout_ms is 0 and nothing is ready, or
 * when nothing is in flight; otherwise the errors of wd_wait().
 */
int wd_poll(struct wd_queue *q, unsigned max, int timeout_ms, wd_cpl_fn fn, void *arg);

/*
 * Run one request and wait for its completion, as the synchronous helpers
 * do: on the in-process software device it runs in the calling thread.
 * The queue must have nothing else in flight (-EBUSY).  r->tag is
 * overwritten.  Returns 0 with *c filled (c->status says how the request
 * went), or the errors of wd_send()/wd_wait().
 */
int wd_run(struct wd_queue *q, struct wd_req *r, struct wd_cpl *c);

/* Requests submitted and not yet reaped. */
int wd_inflight(const struct wd_queue *q);

/*
 * Waiting on several queues (or on a queue and other fds) with poll/epoll:
 * wd_queue_event_fd() becomes readable when the device posts completions
 * while the queue is armed, and when the device goes away (a daemon that
 * dies).  wd_queue_arm() resets and arms it and returns how many completions
 * are ready already (then do not sleep: reap them); 0 means armed, sleep on
 * the fd.  A device that went away has its requests handed to the built-in
 * engine (or, without the fallback, completed with -EIO) by
 * wd_queue_arm(), which then counts what is ready.  The fd keeps its number
 * after a failover and becomes readable for the built-in engine's
 * completions.  Reaping (wd_recv and friends) disarms.  The fd belongs to
 * the queue.
 */
int wd_queue_event_fd(const struct wd_queue *q);
int wd_queue_arm(struct wd_queue *q);

#ifdef __cplusplus
}
#endif
#endif
