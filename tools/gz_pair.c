/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdlib.h>

#include "gz_pair.h"

int gz_pair_start(struct gz_pair *p, size_t size, void *(*fn)(void *), void *arg)
{
	int ret;

	p->stop = 0;
	p->buf[0] = malloc(size);
	p->buf[1] = malloc(size);
	if (!p->buf[0] || !p->buf[1]) {
		ret = -ENOMEM;
		goto err;
	}
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->cond, NULL);
	ret = -pthread_create(&p->thread, NULL, fn, arg);
	if (!ret)
		return 0;
	pthread_mutex_destroy(&p->lock);
	pthread_cond_destroy(&p->cond);
err:
	free(p->buf[0]);
	free(p->buf[1]);
	return ret;
}

void gz_pair_stop(struct gz_pair *p)
{
	pthread_mutex_lock(&p->lock);
	p->stop = 1;
	pthread_cond_broadcast(&p->cond);
	pthread_mutex_unlock(&p->lock);
	pthread_join(p->thread, NULL);
	pthread_mutex_destroy(&p->lock);
	pthread_cond_destroy(&p->cond);
	free(p->buf[0]);
	free(p->buf[1]);
}
