/* SPDX-License-Identifier: MIT */
/*
 * The sweep: each scenario runs once without injection (its warm-up: the
 * process-wide caches it fills are made then), then with the 1st, 2nd,
 * 3rd... counted call failing, until a run makes fewer calls than that.
 * Every run happens in a thread of its own (per-thread state such as the
 * inline helpers' scratch is made afresh and freed at its exit), under a
 * watchdog.  After each run the process must come back to what it held
 * after the warm-up: heap blocks and mappings made through the wrappers,
 * descriptors, threads and locked memory.  Exit 0: all passed; 1: a failure.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fnmatch.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fi.h"

#define MAX_POINTS 5000         /* a scenario with more has a loop in it */
#define RUN_TIMEOUT_S 60        /* one run, sanitizers included */
#define SETTLE_MS 5000          /* for threads a run stopped to be gone, and such */

static const struct fi_scenario *cur;
static long cur_nth;
static int started, stopped, verbose;
static int failed_steps, degraded;
static char last_fail[256];
static char hung_msg[160];      /* what the watchdog says */

void fi_fail(const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	fi_disarm();
	fprintf(stderr, "FAIL %s:%d: [%s, N=%ld", file, line, cur ? cur->name : "-", cur_nth);
	if (fi_injected()) {
		char name[512];

		fi_site_name(fi_injected_site(), name, sizeof(name));
		fprintf(stderr, ", %s failed in %s", fi_injected_fn(), name);
	}
	fprintf(stderr, "] ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	exit(1);
}

void fi_start(void)
{
	if (started)
		FI_FAIL("fi_start twice in one run");
	started = 1;
	fi_arm(cur->role, cur_nth);
}

void fi_stop(void)
{
	if (started && !stopped)
		fi_disarm();
	stopped = 1;
}

void fi_failed(const char *what, long ret, int injected_before, const char *file, int line)
{
	char how[64];

	if (ret == FI_NULL)
		snprintf(how, sizeof(how), "NULL");
	else
		snprintf(how, sizeof(how), "%ld: %s", ret, strerror((int)-ret));
	if (!fi_injected())
		fi_fail(file, line, "%s failed (%s) with nothing injected", what, how);
	/* an earlier call succeeded in spite of its failure, and left
	 * something half made that fails now */
	if (injected_before)
		fi_fail(file, line, "%s failed (%s) after an earlier call absorbed the failure",
			what, how);
	if (ret != FI_NULL && (ret >= 0 || ret < -4095))
		fi_fail(file, line, "%s returned %ld: not a negative errno", what, ret);
	if (ret != FI_NULL && fi_injected_errno() && ret != -fi_injected_errno())
		fi_fail(file, line, "%s returned %s for a failure that was %s", what, how,
			strerror(fi_injected_errno()));
	fi_disarm(); /* the rest of the run checks that the objects are usable */
	failed_steps++;
	snprintf(last_fail, sizeof(last_fail), "%s = %s", what, how);
}

int fi_absorbed(void)
{
	return fi_injected() && !failed_steps && !degraded;
}

/* A scenario noting that the failure left a smaller but working result
 * (a context without the daemon's device). */
void fi_degraded(const char *why)
{
	degraded = 1;
	snprintf(last_fail, sizeof(last_fail), "degraded: %s", why);
}

static void on_alarm(int sig)
{
	(void)sig;
	if (write(2, hung_msg, strlen(hung_msg)) < 0)
		_exit(1);
	_exit(1);
}

static void *run_thread(void *arg)
{
	(void)arg;
	fi_set_role(FI_ROLE_CLIENT);
	cur->run(cur);
	fi_stop();
	return NULL;
}

/* One run with the nth call failing (0: none). */
static void run_once(long nth)
{
	pthread_t t;

	cur_nth = nth;
	started = stopped = failed_steps = degraded = 0;
	last_fail[0] = 0;
	snprintf(hung_msg, sizeof(hung_msg), "FAIL: [%s, N=%ld] the run did not end in %d s "
		 "(hung after the failure)\n", cur->name, nth, RUN_TIMEOUT_S);
	alarm(RUN_TIMEOUT_S);
	if (pthread_create(&t, NULL, run_thread, NULL))
		FI_FAIL("cannot start a run's thread");
	pthread_join(t, NULL);
	alarm(0);
	if (!started)
		FI_FAIL("the scenario never called fi_start()");
}

static int same(const struct fi_counts *a, const struct fi_counts *b)
{
	return a->heap == b->heap && a->maps == b->maps && a->fds == b->fds &&
	       a->threads == b->threads && a->locked_kb == b->locked_kb;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

/* What the process holds once nothing changes any more for 50 ms. */
static void settle(struct fi_counts *out)
{
	struct fi_counts prev, now;
	int stable = 0, ms;

	fi_counts(&prev);
	for (ms = 0; ms < SETTLE_MS && stable < 50; ms++) {
		sleep_ms(1);
		fi_counts(&now);
		stable = same(&now, &prev) ? stable + 1 : 0;
		prev = now;
	}
	*out = prev;
}

/* After a run: back to the baseline, given others a moment to get there. */
static void check_nothing_left(const struct fi_counts *base, uint64_t base_stamp)
{
	struct fi_counts now;
	int ms;

	for (ms = 0; ms < SETTLE_MS; ms++) {
		fi_counts(&now);
		if (same(&now, base))
			return;
		sleep_ms(1);
	}
	fprintf(stderr, "held after the run: heap %ld (was %ld), maps %ld (%ld), fds %ld (%ld), "
		"threads %ld (%ld), locked %ld kB (%ld)\n", now.heap, base->heap, now.maps,
		base->maps, now.fds, base->fds, now.threads, base->threads, now.locked_kb,
		base->locked_kb);
	fi_dump_live(base_stamp);
	FI_FAIL("leak: the run left resources behind%s%s", last_fail[0] ? " after " : "",
		last_fail);
}

struct tally {
	long points, failed, absorbed, degraded;
};

static void note_run(struct tally *t, long nth)
{
	char name[512];
	const char *what;

	t->points++;
	if (degraded) {
		t->degraded++;
		what = last_fail;
	} else if (failed_steps) {
		t->failed++;
		what = last_fail;
	} else {
		t->absorbed++;
		what = "absorbed: the sequence succeeded";
	}
	if (verbose || (!failed_steps && !degraded)) {
		fi_site_name(fi_injected_site(), name, sizeof(name));
		fprintf(stderr, "  N=%ld %s in %s: %s\n", nth, fi_injected_fn(), name, what);
	}
}

static void sweep(const struct fi_scenario *sc, struct tally *t)
{
	struct fi_counts base;
	uint64_t base_stamp;
	long nth, calls, most;

	cur = sc;
	memset(t, 0, sizeof(*t));
	run_once(0); /* the warm-up, counting only */
	most = calls = fi_calls();
	settle(&base);
	base_stamp = fi_stamp();
	/* Runs may differ a little (a helper inline or through the ring,
	 * as the engine's threads go): a run that made fewer calls than N
	 * ends the sweep only once N is past the most any run made. */
	for (nth = 1; nth <= MAX_POINTS; nth++) {
		run_once(nth);
		check_nothing_left(&base, base_stamp);
		if (fi_injected())
			note_run(t, nth);
		else if (nth > most)
			break;
		if (fi_calls() > most)
			most = fi_calls();
	}
	if (nth > MAX_POINTS)
		FI_FAIL("more than %d injection points", MAX_POINTS);
	if (!t->points)
		FI_FAIL("nothing to inject: the scenario makes no counted call");
	printf("scenario %-14s %4ld injection points (%ld calls in a clean run): %ld failed "
	       "with an error and recovered, %ld absorbed, %ld degraded\n", sc->name, t->points,
	       calls, t->failed, t->absorbed, t->degraded);
	fflush(stdout);
	cur = NULL;
}

int fi_main(int argc, char **argv, const struct fi_scenario *sc, unsigned n)
{
	struct sigaction sa = { .sa_handler = on_alarm };
	struct tally t, all = { 0 };
	unsigned i, ran = 0;
	int a;

	verbose = getenv("FI_VERBOSE") && *getenv("FI_VERBOSE") == '1';
	sigaction(SIGALRM, &sa, NULL);
	for (i = 0; i < n; i++) {
		int want = argc < 2;

		for (a = 1; a < argc; a++)
			want |= !fnmatch(argv[a], sc[i].name, 0);
		if (!want)
			continue;
		sweep(&sc[i], &t);
		all.points += t.points;
		all.failed += t.failed;
		all.absorbed += t.absorbed;
		all.degraded += t.degraded;
		ran++;
	}
	if (!ran) {
		fprintf(stderr, "no such scenario; these are:");
		for (i = 0; i < n; i++)
			fprintf(stderr, " %s", sc[i].name);
		fprintf(stderr, "\n");
		return 1;
	}
	printf("total: %u scenarios, %ld injection points swept (%ld failed cleanly, %ld absorbed, "
	       "%ld degraded)\n", ran, all.points, all.failed, all.absorbed, all.degraded);
	return 0;
}
