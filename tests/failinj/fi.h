/* SPDX-License-Identifier: MIT */
/*
 * Fault injection for the control paths (docs/testing-failinj.md).
 *
 * The test programs are linked with -Wl,--wrap=SYM for every libc (and
 * libcrypto, libdeflate) call the library and the daemon make to get a
 * resource: their references become __wrap_SYM (fi_wrap.c), which counts
 * the calls made by the threads of the armed role and fails the Nth one as
 * the real call fails (NULL or -1 with ENOMEM, EMFILE...); every other call
 * goes to the real function, so the sanitizers still see every allocation.
 * The wrappers also keep a table of what is live (heap blocks, mappings,
 * OpenSSL and libdeflate objects), so even the plain build finds a leak.
 *
 * A sweep (fi_sweep.c) runs each scenario - one control-path sequence -
 * with N = 1, 2, 3... until a run makes fewer than N counted calls
 * (docs/testing-failinj.md).
 */
#ifndef T_FI_H
#define T_FI_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/* Whose calls are counted and failed: a thread's role is its own. */
enum fi_role {
	FI_ROLE_NONE,           /* the sweep's own bookkeeping */
	FI_ROLE_CLIENT,         /* the thread running a scenario */
	FI_ROLE_ENGINE,         /* threads the client's library starts (engines) */
	FI_ROLE_DAEMON,         /* an in-process wdd's control thread */
	FI_ROLE_DAEMON_ENGINE,  /* threads the daemon starts (its engine) */
};

/* A thread's role is set by the thread itself, or inherited at
 * pthread_create: a client's or daemon's threads are its engine's. */
void fi_set_role(int role);

/* Count the calls of role's threads from now on and fail the nth (0:
 * count only); fi_disarm stops counting. */
void fi_arm(int role, long nth);
void fi_disarm(void);
long fi_calls(void);            /* counted since fi_arm */
int fi_injected(void);          /* has the nth call been failed? */
const char *fi_injected_fn(void);
void *fi_injected_site(void);   /* the caller of the failed call */
int fi_injected_errno(void);    /* what it stands for (ENOMEM, EMFILE...); 0: unknown */

/* Live resources made through the wrappers, by any thread. */
struct fi_counts {
	long heap;              /* malloc & co, OpenSSL contexts, libdeflate objects */
	long maps;              /* mmap */
	long fds;               /* /proc/self/fd */
	long threads;           /* /proc/self/task */
	long locked_kb;         /* VmLck: pins of shared memory */
};

void fi_counts(struct fi_counts *c);
/* A stamp for fi_dump_live: entries made after it are listed. */
uint64_t fi_stamp(void);
void fi_dump_live(uint64_t since);
/* "fn at file:line (function)" of a call site, best effort (addr2line). */
void fi_site_name(void *site, char *buf, size_t len);

/* ---- the sweep ---- */

struct fi_scenario {
	const char *name;
	int role;                       /* whose calls fail */
	void (*run)(const struct fi_scenario *sc); /* one sequence, fi_start() inside */
	unsigned flags;                 /* the scenario's own */
};

/* Called by a scenario where the swept part begins (and, optionally,
 * fi_stop where it ends): what comes before is set-up. */
void fi_start(void);
void fi_stop(void);

/* Has this run's failure been absorbed so far: injected, and no call
 * failed for it (a fallback took over)? */
int fi_absorbed(void);

/* The failure left a smaller result that works (a context that came up
 * without the daemon's device): the scenario ends there, cleanly. */
void fi_degraded(const char *why);

/* Run the scenarios named on the command line (all when none); 0 or 1. */
int fi_main(int argc, char **argv, const struct fi_scenario *sc, unsigned n);

void fi_fail(const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4), noreturn));
#define FI_FAIL(...) fi_fail(__FILE__, __LINE__, __VA_ARGS__)
#define FI_ASSERT(c)                                                           \
	do {                                                                   \
		if (!(c))                                                      \
			FI_FAIL("assertion failed: %s", #c);                   \
	} while (0)

#define FI_NULL (-100000L)      /* fi_failed's ret for a NULL pointer */

/* A call that failed under injection: it must say so with a negative
 * errno, the one of the failure (-EMFILE for a descriptor, not -ENOMEM),
 * and the failure must have been injected while it ran. */
void fi_failed(const char *what, long ret, int injected_before, const char *file, int line);

/*
 * One control-path call.  Under injection it may fail (returning a
 * negative errno); then injection stops for the rest of the run and the
 * same call, on the same objects, must succeed: whatever the failure left
 * must still be usable.
 */
#define FI_TRY(expr)                                                           \
	do {                                                                   \
		int fi_b_ = fi_injected();                                     \
		long fi_r_ = (long)(expr);                                     \
		if (fi_r_ < 0) {                                               \
			fi_failed(#expr, fi_r_, fi_b_, __FILE__, __LINE__);    \
			fi_r_ = (long)(expr);                                  \
			if (fi_r_ < 0)                                         \
				FI_FAIL("%s failed again, without injection: %ld", \
					#expr, fi_r_);                         \
		}                                                              \
	} while (0)

/* The same for a call that returns a pointer (NULL: failed). */
#define FI_TRY_PTR(p, expr)                                                    \
	do {                                                                   \
		int fi_b_ = fi_injected();                                     \
		(p) = (expr);                                                  \
		if (!(p)) {                                                    \
			fi_failed(#expr, FI_NULL, fi_b_, __FILE__, __LINE__);  \
			(p) = (expr);                                          \
			if (!(p))                                              \
				FI_FAIL("%s failed again, without injection", #expr); \
		}                                                              \
	} while (0)

/* A call with a known answer: want, or a negative errno under injection
 * (then it is repeated without injection and must give want). */
#define FI_EXPECT(expr, want)                                                  \
	do {                                                                   \
		int fi_b_ = fi_injected();                                     \
		long fi_r_ = (long)(expr), fi_w_ = (long)(want);               \
		if (fi_r_ != fi_w_) {                                          \
			if (fi_r_ >= 0)                                        \
				FI_FAIL("%s = %ld, expected %ld", #expr, fi_r_, fi_w_); \
			fi_failed(#expr, fi_r_, fi_b_, __FILE__, __LINE__);    \
			fi_r_ = (long)(expr);                                  \
			if (fi_r_ != fi_w_)                                    \
				FI_FAIL("%s = %ld without injection, expected %ld", \
					#expr, fi_r_, fi_w_);                  \
		}                                                              \
	} while (0)

#endif
