/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

#include "gz_pair.h"
#include "gz_writer.h"

struct gz_writer {
	struct gz_pair p;               /* the buffers and the writing thread */
	int fd, err;
	unsigned cur;                   /* the buffer the decoder fills */
	size_t cap, pending;            /* bytes handed over, not yet written */
	int has_pending;
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

	pthread_mutex_lock(&w->p.lock);
	for (;;) {
		while (!w->has_pending && !w->p.stop)
			pthread_cond_wait(&w->p.cond, &w->p.lock);
		if (!w->has_pending)
			break; /* stopped with nothing left */
		{
			/* the buffer handed over is the one the decoder left */
			const unsigned char *p = w->p.buf[w->cur ^ 1];
			size_t len = w->pending;
			int failed = w->err, err = 0;

			pthread_mutex_unlock(&w->p.lock);
			if (!failed) /* after a failed write, nothing more goes out */
				err = write_all(w->fd, p, len);
			pthread_mutex_lock(&w->p.lock);
			if (err && !w->err)
				w->err = err;
		}
		w->has_pending = 0;
		pthread_cond_broadcast(&w->p.cond);
	}
	pthread_mutex_unlock(&w->p.lock);
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
	ret = gz_pair_start(&w->p, cap, writer_main, w);
	if (ret) {
		free(w);
		return ret;
	}
	*out = w;
	return 0;
}

unsigned char *gz_writer_buf(struct gz_writer *w)
{
	return w->p.buf[w->cur];
}

int gz_writer_put(struct gz_writer *w, size_t len)
{
	int err;

	if (!len)
		return 0;
	pthread_mutex_lock(&w->p.lock);
	/* the other buffer must be written before it is filled again */
	while (w->has_pending)
		pthread_cond_wait(&w->p.cond, &w->p.lock);
	err = w->err;
	if (!err) {
		w->pending = len;
		w->has_pending = 1;
		w->cur ^= 1;
		pthread_cond_broadcast(&w->p.cond);
	}
	pthread_mutex_unlock(&w->p.lock);
	return err;
}

int gz_writer_finish(struct gz_writer *w)
{
	int err;

	gz_pair_stop(&w->p); /* the thread writes what was handed over first */
	err = w->err;
	free(w);
	return err;
}
