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
	/* The standard text first, then what it means coming from this
	 * library, so the text stays right for the same errno from a file. */
	switch (err) {
	case 0:
		return "Success";
	case -ECHILD:
		return "No child processes (a queue or context used in a fork child of its owner)";
	case -EIO:
		return "Input/output error (the device failed or found the queue's ring corrupted)";
	case -ESHUTDOWN:
		return "Cannot send after transport endpoint shutdown (the queue was stopped)";
	case -ECANCELED:
		return "Operation canceled (its queue was stopped before it ran)";
	case -EBUSY:
		return "Device or resource busy (queue full, or still in use)";
	case -EBADMSG:
		return "Bad message (corrupt compressed data)";
	case -ENODATA:
		return "No data available (compressed data ends before its stream does)";
	case -ENOSPC:
		return "No space left (output buffer too small, or no space on the device)";
	case -EFAULT:
		return "Bad address (not reachable by the device: not shared, revoked or invalid)";
	case -ENOTRECOVERABLE:
		return "State not recoverable (a stream's state or a session's key was only on the "
		       "device that failed)";
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
#define CIPHER_OPS (OP(WD_OP_NOP) | OP(WD_OP_ENCRYPT) | OP(WD_OP_DECRYPT))

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
	/* one queue serves every mode its device offers; the mode names
	 * pick a device that has that one */
	{ "cipher", CIPHER_OPS },
	{ "aes-cbc", CIPHER_OPS },
	{ "aes-ctr", CIPHER_OPS },
	{ "aes-xts", CIPHER_OPS },
	{ "aes-gcm", CIPHER_OPS },
};

uint32_t wd__alg_ops(const char *alg)
{
	unsigned i;

	for (i = 0; i < WD_ARRAY_SIZE(alg_table); i++)
		if (!strcmp(alg_table[i].name, alg))
			return alg_table[i].ops;
	return 0;
}
