/* SPDX-License-Identifier: MIT */
/* Pins of shared memory, kept for the whole process (src/mem/pin.c). */
#ifndef WD_PIN_H
#define WD_PIN_H

#include <stdint.h>

/*
 * Does [start, end) consist of mapped memory (else -EFAULT), and is any of
 * it backed by a file other than memfd, shared anonymous memory or SysV
 * shm (*file_backed)?
 */
int wd__pin_check_backing(uintptr_t start, uintptr_t end, int *file_backed);

/*
 * Pin [host, host+len) on behalf of owner (one shared range): keep it out
 * of fork children (MADV_DONTFORK) and, when lock is set, mlock it.  A
 * device that pins shared memory itself (VFIO: the IOMMU pin keeps the
 * pages resident and the kernel charges them) asks for no mlock, which
 * would charge them twice.  0, -ENOMEM (the kernel's limit) or -errno;
 * nothing is left pinned on failure.  Callers may hold their domain's
 * lock: the pin lock is taken after it, and nothing is taken under it.
 */
int wd__pin(const void *owner, uintptr_t host, uint64_t len, int lock);

/*
 * Undo owner's pin on the pages no other pin of the process covers: a page
 * shared with several domains stays locked (and out of fork children)
 * until the last of them lets go.  Nothing happens for an unknown owner.
 */
void wd__unpin(const void *owner);

#endif
