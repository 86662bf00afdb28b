/* SPDX-License-Identifier: MIT */
/*
 * Two buffers and a thread working on them beside wd gunzip's decoder (the
 * reader ahead of it, the writer behind it): their start and stop.
 */
#ifndef WD_GZ_PAIR_H
#define WD_GZ_PAIR_H

#include <pthread.h>
#include <stddef.h>

struct gz_pair {
	unsigned char *buf[2];
	int stop;                       /* under lock: the thread is to end */
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
};

/* Buffers of size bytes each, then the thread fn(arg); 0, or -errno with
 * nothing kept. */
int gz_pair_start(struct gz_pair *p, size_t size, void *(*fn)(void *), void *arg);
/* Tell the thread to stop, wait for it, and free the buffers. */
void gz_pair_stop(struct gz_pair *p);

#endif
