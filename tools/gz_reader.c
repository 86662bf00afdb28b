/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

#include "gz_pair.h"
#include "gz_reader.h"

struct gz_reader {
	struct gz_pair p;               /* the buffers and the reading thread */
	int fd;
	size_t cap, headroom;
	size_t len[2];
	int full[2];                    /* read, not yet given back */
	int eof, err;                   /* the reader's last read */
	unsigned next;                  /* the buffer the decoder takes next */
	int held;                       /* the decoder holds buf[next ^ 1] */
};

ssize_t gz_read_full(int fd, void *buf, size_t len)
{
	unsigned char *p = buf;
	size_t got = 0;

	while (got < len) {
		ssize_t n = read(fd, p + got, len - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		got += (size_t)n;
	}
	return (ssize_t)got;
}

static void *reader_main(void *arg)
{
	struct gz_reader *r = arg;
	unsigned i = 0;

	pthread_mutex_lock(&r->p.lock);
	while (!r->p.stop && !r->eof && !r->err) {
		ssize_t n;

		while (r->full[i] && !r->p.stop)
			pthread_cond_wait(&r->p.cond, &r->p.lock);
		if (r->p.stop)
			break;
		pthread_mutex_unlock(&r->p.lock);
		n = gz_read_full(r->fd, r->p.buf[i] + r->headroom, r->cap);
		pthread_mutex_lock(&r->p.lock);
		if (n < 0) {
			r->err = (int)n;
		} else {
			r->len[i] = (size_t)n;
			r->full[i] = 1;
			r->eof = (size_t)n < r->cap;
		}
		pthread_cond_broadcast(&r->p.cond);
		i ^= 1;
	}
	pthread_mutex_unlock(&r->p.lock);
	return NULL;
}

int gz_reader_start(struct gz_reader **out, int fd, size_t cap, size_t headroom)
{
	struct gz_reader *r = calloc(1, sizeof(*r));
	int ret;

	if (!r)
		return -ENOMEM;
	r->fd = fd;
	r->cap = cap;
	r->headroom = headroom;
	ret = gz_pair_start(&r->p, headroom + cap, reader_main, r);
	if (ret) {
		free(r);
		return ret;
	}
	*out = r;
	return 0;
}

int gz_reader_next(struct gz_reader *r, unsigned char **data, size_t *len, int *eof)
{
	unsigned i;
	int ret = 0;

	pthread_mutex_lock(&r->p.lock);
	if (r->held) {
		r->full[r->next ^ 1] = 0; /* given back: the reader may fill it */
		r->held = 0;
		pthread_cond_broadcast(&r->p.cond);
	}
	i = r->next;
	/* a buffer read before the error or the end comes first */
	while (!r->full[i] && !r->err && !r->eof)
		pthread_cond_wait(&r->p.cond, &r->p.lock);
	if (r->full[i]) {
		*data = r->p.buf[i] + r->headroom;
		*len = r->len[i];
		*eof = r->len[i] < r->cap;
		r->next ^= 1;
		r->held = 1;
	} else if (r->err) {
		ret = r->err;
	} else {
		/* the end came with the buffer before, taken already */
		*data = r->p.buf[i] + r->headroom;
		*len = 0;
		*eof = 1;
	}
	pthread_mutex_unlock(&r->p.lock);
	return ret;
}

void gz_reader_stop(struct gz_reader *r)
{
	gz_pair_stop(&r->p);
	free(r);
}
