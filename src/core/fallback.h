/* SPDX-License-Identifier: MIT */
/*
 * Fallback to the built-in engine (fallback.c, fallback_ctl.c): what the
 * queue code calls.  A queue with a fallback (q->fb) sends, reaps, waits,
 * stops and counts through these; a queue without one never calls them.
 */
#ifndef WD_FALLBACK_H
#define WD_FALLBACK_H

#include <stdint.h>
#include <wd/wd.h>

struct wd_queue;
struct wd_cipher_setup;

/* Give q (made, not yet opened) a fallback if it should have one: 0 (also
 * when it should not), or -errno (memory, keys that cannot be locked). */
int wd__fb_new(struct wd_queue *q);
/* Release it, the built-in engine's queue included; in_child: memory only. */
void wd__fb_free(struct wd_queue *q, int in_child);

int wd__fb_send(struct wd_queue *q, const struct wd_req *reqs, unsigned n);
int wd__fb_reap(struct wd_queue *q, struct wd_cpl *out, unsigned max, wd_cpl_fn fn, void *arg);
/* Sleep until a completion may be there (the device's or the built-in
 * engine's), the device goes away, or the deadline (ns, -1: none). */
int wd__fb_sleep(struct wd_queue *q, int64_t deadline);
int wd__fb_arm(struct wd_queue *q);
int wd__fb_stop(struct wd_queue *q);
int wd__fb_stats(struct wd_queue *q, struct wd_queue_stats *st);

/* The device is gone or declared its ring dead: hand its requests to the
 * built-in engine.  0, or -EIO when that cannot be done (the queue then
 * dies as without a fallback). */
int wd__fb_failover(struct wd_queue *q);
/* The ring looks dead: fail over (once); 0 the queue goes on, or -EIO. */
int wd__fb_check(struct wd_queue *q);

/* A synchronous helper's request: run on the built-in engine when it must
 * be (the device failed, or its session lives there): 0 with *c filled,
 * < 0 an error of the queue, 1 not ours: send it to the device. */
int wd__fb_run_sync(struct wd_queue *q, struct wd_req *r, struct wd_cpl *c);

/* Session id taken or given back: whatever the fallback knew of it goes. */
void wd__fb_session(struct wd_queue *q, unsigned id);

/* Set (cs) or close (NULL) cipher session id of q, on its device, or on
 * the built-in engine when the device lacks mode (a name such as
 * "aes-xts"), refuses it or failed: 0 or -errno. */
int wd__cipher_open(struct wd_queue *q, unsigned id, const struct wd_cipher_setup *cs,
		    const char *mode);

#endif
