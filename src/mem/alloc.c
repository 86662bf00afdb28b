/* SPDX-License-Identifier: MIT */
/*
 * Memory for sharing: wd_mem_alloc() memory lives in a memfd, so that a
 * daemon can map the very same pages (explicit sharing through wdd passes
 * the fd).  The process-wide list of these allocations is just a lookup
 * table, kept under a lock.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "../core/internal.h"

static size_t page_size(void)
{
	return (size_t)sysconf(_SC_PAGESIZE);
}

struct mem_block {
	void *addr;
	size_t len;
	int fd;
	struct mem_block *next;
};

static pthread_mutex_t mem_lock = PTHREAD_MUTEX_INITIALIZER;
static struct mem_block *mem_blocks;

WD_EXPORT void *wd_mem_alloc(size_t len)
{
	struct mem_block *b;
	void *p;
	int fd;

	if (!len || len > SIZE_MAX - page_size())
		return NULL;
	len = (len + page_size() - 1) & ~(size_t)(page_size() - 1); /* whole pages */
	b = malloc(sizeof(*b));
	fd = memfd_create("wd-mem", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	/* sealed at its size: a daemon mapping it can trust it will not shrink */
	if (!b || fd < 0 || ftruncate(fd, (off_t)len) ||
	    fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL))
		goto err;
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		goto err;
	b->addr = p;
	b->len = len;
	b->fd = fd;
	pthread_mutex_lock(&mem_lock);
	b->next = mem_blocks;
	mem_blocks = b;
	pthread_mutex_unlock(&mem_lock);
	return p;
err:
	if (fd >= 0)
		close(fd);
	free(b);
	return NULL;
}

WD_EXPORT void wd_mem_free(void *p, size_t len)
{
	struct mem_block **pp, *b = NULL;

	if (!p)
		return;
	pthread_mutex_lock(&mem_lock);
	for (pp = &mem_blocks; *pp; pp = &(*pp)->next)
		if ((*pp)->addr == p) {
			b = *pp;
			*pp = b->next;
			break;
		}
	pthread_mutex_unlock(&mem_lock);
	munmap(p, b ? b->len : len);
	if (b) {
		close(b->fd);
		free(b);
	}
}

int wd__mem_lookup(const void *p, size_t len, int *fd, uint64_t *offset)
{
	uintptr_t a = (uintptr_t)p;
	struct mem_block *b;
	int ret = -ENOENT;

	pthread_mutex_lock(&mem_lock);
	for (b = mem_blocks; b; b = b->next) {
		uintptr_t s = (uintptr_t)b->addr;

		if (a >= s && a - s <= b->len && len <= b->len - (a - s)) {
			*fd = b->fd;
			*offset = a - s;
			ret = 0;
			break;
		}
	}
	pthread_mutex_unlock(&mem_lock);
	return ret;
}
