/* SPDX-License-Identifier: MIT */
/* Version, error text, fork detection and the algorithm table. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <string.h>

#include "internal.h"

WD_EXPORT const char *wd_version(void)
{
	return WD_VERSION_STRING;
}

WD_EXPORT const char *wd_strerror(int err)
{
	const char *s;

	/* Meanings particular to this library come first. */
	switch (err) {
	case 0:
		return "success";
	case -ECHILD:
		return "queue belongs to the parent process (used in a fork child)";
	case -EIO:
		return "queue is dead: the device found its ring corrupted or failed";
	case -ESHUTDOWN:
		return "queue was stopped";
	case -ECANCELED:
		return "request cancelled: its queue was stopped before it ran";
	case -EBUSY:
		return "device or queue busy: no free slot, try again later";
	case -EBADMSG:
		return "corrupt compressed data";
	case -ENODATA:
		return "compressed data truncated: the stream ends early";
	case -ENOSPC:
		return "output buffer too small";
	}
	if (err >= 0)
		return "not an error code";
	s = strerrordesc_np(-err);
	return s ? s : "unknown error";
}

uint64_t wd__fork_gen;
static pthread_once_t fork_once = PTHREAD_ONCE_INIT;

static void on_fork_child(void)
{
	/* The child has no engine threads and no DONTFORK ring mappings; queues
	 * and contexts created before the fork see the generation change and
	 * refuse service instead of touching memory that is not there. */
	wd__fork_gen++;
}

static void fork_setup(void)
{
	pthread_atfork(NULL, NULL, on_fork_child);
}

void wd__fork_init(void)
{
	pthread_once(&fork_once, fork_setup);
}

#define OP(x) (1u << (x))
#define MOVER_OPS (OP(WD_OP_NOP) | OP(WD_OP_COPY) | OP(WD_OP_FILL) | OP(WD_OP_COMPARE) | \
		   OP(WD_OP_CRC32C))
#define COMP_OPS (OP(WD_OP_NOP) | OP(WD_OP_COMPRESS) | OP(WD_OP_DECOMPRESS))

static const struct {
	const char *name;
	uint32_t ops;
} alg_table[] = {
	{ "nop", OP(WD_OP_NOP) },
	{ "copy", OP(WD_OP_NOP) | OP(WD_OP_COPY) },
	{ "fill", OP(WD_OP_NOP) | OP(WD_OP_FILL) },
	{ "compare", OP(WD_OP_NOP) | OP(WD_OP_COMPARE) },
	{ "crc32c", OP(WD_OP_NOP) | OP(WD_OP_CRC32C) },
	{ "mover", MOVER_OPS },
	{ "deflate", COMP_OPS },
	{ "zlib", COMP_OPS },
	{ "gzip", COMP_OPS },
};

uint32_t wd__alg_ops(const char *alg)
{
	unsigned i;

	for (i = 0; i < WD_ARRAY_SIZE(alg_table); i++)
		if (!strcmp(alg_table[i].name, alg))
			return alg_table[i].ops;
	return 0;
}
