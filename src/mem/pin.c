/* SPDX-License-Identifier: MIT */
/*
 * Pins: the process's record of the memory it shares with devices.
 *
 * The kernel does not count mlock(): a page is locked or it is not, and one
 * munlock() undoes any number of mlock()s.  The same pages may be shared
 * with several domains, of one context or of several, so unsharing must
 * unlock only what no other share still covers.  The process keeps one
 * table of every pin, under one mutex held across the look at the table
 * and the mlock/munlock it decides, so a share and an unshare of the same
 * pages in two domains cannot interleave between the two.
 *
 * The mutex is a leaf: a share takes it under its domain's write lock, an
 * unshare with no lock held, and nothing is taken under it, so two domains
 * sharing and unsharing overlapping pages cannot deadlock.  Before this,
 * unsharing walked every domain's map table instead: its own without the
 * lock while a share could be growing it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "pin.h"

int wd__pin_check_backing(uintptr_t start, uintptr_t end, int *file_backed)
{
	char line[PATH_MAX + 128], path[PATH_MAX];
	uintptr_t covered = start;
	FILE *f = fopen("/proc/self/maps", "re");

	*file_backed = 0;
	if (!f)
		return -errno;
	while (covered < end && fgets(line, sizeof(line), f)) {
		unsigned long lo, hi, inode;
		int n;

		path[0] = 0;
		n = sscanf(line, "%lx-%lx %*s %*s %*s %lu %4095[^\n]", &lo, &hi, &inode, path);
		if (n < 3 || hi <= covered)
			continue;
		if (lo > covered)
			break; /* a hole */
		covered = hi;
		if (inode && strncmp(path, "/memfd:", 7) && strncmp(path, "/dev/zero", 9) &&
		    strncmp(path, "/SYSV", 5) && strncmp(path, "/anon_hugepage", 14))
			*file_backed = 1;
	}
	fclose(f);
	return covered >= end ? 0 : -EFAULT;
}

struct pin {
	const void *owner;
	uintptr_t a, b;         /* [a, b), whole pages */
	int lock;               /* mlocked by us (else only DONTFORK) */
};

static pthread_mutex_t pin_lock = PTHREAD_MUTEX_INITIALIZER;
static struct pin *pins;
static size_t npins, pin_cap;
static pthread_once_t pin_once = PTHREAD_ONCE_INIT;

/* A fork child has none of the parent's locks and none of its DONTFORK
 * pages, and its domains refuse service: it starts with an empty table.
 * The lock is held across fork so the child never inherits it taken. */
static void fork_prepare(void)
{
	pthread_mutex_lock(&pin_lock);
}

static void fork_parent(void)
{
	pthread_mutex_unlock(&pin_lock);
}

static void fork_child(void)
{
	free(pins);
	pins = NULL;
	npins = pin_cap = 0;
	pthread_mutex_unlock(&pin_lock);
}

static void pin_setup(void)
{
	pthread_atfork(fork_prepare, fork_parent, fork_child);
}

/* Is [a, b) covered from `at` on by a pin (lockers only, if asked)?  The
 * end of the covered stretch, or at when nothing covers at. */
static uintptr_t covered_to(uintptr_t at, uintptr_t b, int lockers)
{
	uintptr_t reach = at, prev;
	size_t i;

	do { /* pins may chain: extend until no pin reaches further */
		prev = reach;
		for (i = 0; i < npins; i++)
			if ((!lockers || pins[i].lock) && pins[i].a <= reach && pins[i].b > reach)
				reach = pins[i].b;
	} while (reach != prev && reach < b);
	return reach;
}

/* The start of the next pin (lockers only, if asked) above at, or b. */
static uintptr_t next_start(uintptr_t at, uintptr_t b, int lockers)
{
	uintptr_t next = b;
	size_t i;

	for (i = 0; i < npins; i++)
		if ((!lockers || pins[i].lock) && pins[i].a > at && pins[i].a < next)
			next = pins[i].a;
	return next;
}

static void undo_lock(uintptr_t a, uintptr_t b)
{
	munlock((void *)a, b - a);
}

static void undo_dontfork(uintptr_t a, uintptr_t b)
{
	madvise((void *)a, b - a, MADV_DOFORK);
}

/* Call fn on the parts of [a, b) that no pin in the table covers.  No
 * allocation: a failure here would have to choose between unlocking
 * someone else's pages and leaking a lock. */
static void for_each_gap(uintptr_t a, uintptr_t b, int lockers, void (*fn)(uintptr_t, uintptr_t))
{
	uintptr_t cur = a, end;

	while (cur < b) {
		cur = covered_to(cur, b, lockers);
		if (cur >= b)
			break;
		end = next_start(cur, b, lockers);
		fn(cur, end);
		cur = end;
	}
}

/* Take entry i out of the table and undo what only it held; pin_lock held. */
static void drop(size_t i)
{
	struct pin p = pins[i];

	pins[i] = pins[--npins];
	if (p.lock)
		for_each_gap(p.a, p.b, 1, undo_lock);
	for_each_gap(p.a, p.b, 0, undo_dontfork);
}

static int table_grow(void)
{
	size_t cap = pin_cap ? pin_cap * 2 : 16;
	struct pin *np;

	if (npins < pin_cap)
		return 0;
	np = realloc(pins, cap * sizeof(*np));
	if (!np)
		return -ENOMEM;
	pins = np;
	pin_cap = cap;
	return 0;
}

int wd__pin(const void *owner, uintptr_t host, uint64_t len, int lock)
{
	int ret;

	pthread_once(&pin_once, pin_setup);
	pthread_mutex_lock(&pin_lock);
	ret = table_grow();
	if (ret)
		goto out;
	/* in the table first: a failure below drops it like an unpin, which
	 * leaves alone what other pins hold */
	pins[npins++] = (struct pin){ owner, host, host + len, lock };
	if (lock && mlock((void *)host, len))
		ret = -ENOMEM;
	else if (madvise((void *)host, len, MADV_DONTFORK))
		ret = -errno;
	if (ret)
		drop(npins - 1);
out:
	pthread_mutex_unlock(&pin_lock);
	return ret;
}

void wd__unpin(const void *owner)
{
	size_t i;

	pthread_mutex_lock(&pin_lock);
	for (i = 0; i < npins; i++)
		if (pins[i].owner == owner) {
			drop(i);
			break;
		}
	pthread_mutex_unlock(&pin_lock);
}
