/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

#include "gz_writer.h"

struct gz_writer {
	int fd, err, stop;
	unsigned cur;                   /* the buffer the decoder fills */
	size_t cap, pending;            /* bytes handed over, not yet written */
	int has_pending;
	unsigned char *buf[2];
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
};

static int write_all(int fd, const unsigned char *p, size_t len)
{
	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static void *writer_main(void *arg)
{
	struct gz_writer *w = arg;

	pthread_mutex_lock(&w->lock);
	for (;;) {
		while (!w->has_pending && !w->stop)
			pthread_cond_wait(&w->cond, &w->lock);
		if (!w->has_pending)
			break; /* stopped with nothing left */
		{
			/* the buffer handed over is the one the decoder left */
			const unsigned char *p = w->buf[w->cur ^ 1];
			size_t len = w->pending;
			int failed = w->err, err = 0;

			pthread_mutex_unlock(&w->lock);
			if (!failed) /* after a failed write, nothing more goes out */
				err = write_all(w->fd, p, len);
			pthread_mutex_lock(&w->lock);
			if (err && !w->err)
				w->err = err;
		}
		w->has_pending = 0;
		pthread_cond_broadcast(&w->cond);
	}
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

int gz_writer_start(struct gz_writer **out, int fd, size_t cap)
{
	struct gz_writer *w = calloc(1, sizeof(*w));
	int ret;

	if (!w)
		return -ENOMEM;
	w->fd = fd;
	w->cap = cap;
	w->buf[0] = malloc(cap);
	w->buf[1] = malloc(cap);
	if (!w->buf[0] || !w->buf[1]) {
		ret = -ENOMEM;
		goto err;
	}
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->cond, NULL);
	ret = -pthread_create(&w->thread, NULL, writer_main, w);
	if (ret) {
		pthread_mutex_destroy(&w->lock);
		pthread_cond_destroy(&w->cond);
		goto err;
	}
	*out = w;
	return 0;
err:
	free(w->buf[0]);
	free(w->buf[1]);
	free(w);
	return ret;
}

unsigned char *gz_writer_buf(struct gz_writer *w)
{
	return w->buf[w->cur];
}

int gz_writer_put(struct gz_writer *w, size_t len)
{
	int err;

	if (!len)
		return 0;
	pthread_mutex_lock(&w->lock);
	/* the other buffer must be written before it is filled again */
	while (w->has_pending)
		pthread_cond_wait(&w->cond, &w->lock);
	err = w->err;
	if (!err) {
		w->pending = len;
		w->has_pending = 1;
		w->cur ^= 1;
		pthread_cond_broadcast(&w->cond);
	}
	pthread_mutex_unlock(&w->lock);
	return err;
}

int gz_writer_finish(struct gz_writer *w)
{
	int err;

	pthread_mutex_lock(&w->lock);
	w->stop = 1;
	pthread_cond_broadcast(&w->cond);
	pthread_mutex_unlock(&w->lock);
	pthread_join(w->thread, NULL);
	err = w->err;
	pthread_mutex_destroy(&w->lock);
	pthread_cond_destroy(&w->cond);
	free(w->buf[0]);
	free(w->buf[1]);
	free(w);
	return err;
}
