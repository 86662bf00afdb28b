/* SPDX-License-Identifier: MIT */
/*
 * wdd's records: users (quotas over all their connections), clients, and
 * what a client holds (queues, domains, shares).  A client that goes away,
 * however it dies, is torn down entirely: queues detached from the engine,
 * shared memory unpinned and unmapped, descriptors closed.  An engine thread
 * lets go of a queue only between requests, so that part is never waited
 * for: the client waits on the dying list, everything still counted.
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "../core/internal.h"
#include "../mem/domain.h"
#include "srv.h"

/* The user's record, made on its first connection (with no client counted
 * yet); NULL: out of memory. */
struct srv_user *srv_user_get(struct srv *s, uid_t uid)
{
	struct srv_user *u;

	for (u = s->users; u; u = u->next)
		if (u->uid == uid)
			return u;
	u = calloc(1, sizeof(*u));
	if (!u)
		return NULL;
	u->uid = uid;
	u->state.limit = s->cfg.user_state;
	u->next = s->users;
	s->users = u;
	return u;
}

/* Its last connection went: everything it held went with it. */
void srv_user_put(struct srv *s, struct srv_user *u)
{
	struct srv_user **pp;

	if (--u->clients)
		return;
	for (pp = &s->users; *pp != u; pp = &(*pp)->next)
		;
	*pp = u->next;
	free(u);
}

struct srv_client *srv_client_new(struct srv *s, int fd, uid_t uid, pid_t pid)
{
	struct srv_client *c = calloc(1, sizeof(*c));
	struct srv_user *u = c ? srv_user_get(s, uid) : NULL;

	if (!u) {
		free(c);
		close(fd);
		return NULL;
	}
	u->clients++;
	c->user = u;
	c->fd = fd;
	c->pid = pid;
	c->uid = uid;
	c->id = ++s->next_client;
	c->next = s->clients;
	s->clients = c;
	s->nclients++;
	return c;
}

struct wd_domain *srv_client_domain(struct srv_client *c, uint32_t id)
{
	return id >= 1 && id <= SRV_MAX_DOMAINS ? c->domains[id] : NULL;
}

struct srv_queue *srv_client_queue(struct srv_client *c, uint32_t id)
{
	uint32_t i;

	for (i = 0; i < c->nqueues; i++)
		if (c->queues[i]->id == id)
			return c->queues[i];
	return NULL;
}

void srv_queue_close_start(struct srv *s, struct srv_queue *q)
{
	if (q->detaching)
		return;
	q->ticket = soft_queue_detach_start(s->engine, q->sq, s->ackfd);
	q->detaching = 1;
}

int srv_queue_reap(struct srv *s, struct srv_client *c, struct srv_queue *q, uint32_t *head,
		   uint32_t *tail)
{
	struct soft_stats st;
	uint32_t h, t;

	if (!soft_queue_detach_done(s->engine, q->sq, q->ticket, &h, &t))
		return 0;
	/* detached: the engine's counters are final */
	soft_queue_stats(q->sq, &st);
	s->past_requests += st.nreq;
	s->past_errors += st.nerr;
	if (q->dom) {
		wd__domain_detach(q->dom, q->ring);
		wd__domain_unuse(q->dom);
	}
	/* the daemon's ends of the queue's pipes, kept by the engine's queue */
	close(q->sq->bell_fd);
	close(q->sq->cq_fd);
	soft_queue_destroy(q->sq); /* gives its stream memory back to the user */
	soft_quota_give(&c->user->state, q->cost);
	munmap(q->ring, q->ring_size);
	if (q->mem_fd >= 0)
		close(q->mem_fd);
	free(q);
	/* counted until now, closing or not: it held all this */
	c->user->queues--;
	s->nqueues--;
	if (head)
		*head = h;
	if (tail)
		*tail = t;
	return 1;
}

uint64_t srv_share_drop(struct srv *s, struct srv_client *c, uint32_t i)
{
	struct srv_share *sh = &c->shares[i];
	uint64_t len = sh->len;

	munmap(sh->addr, sh->len);
	c->pinned -= len;
	c->user->pinned -= len;
	c->user->shares--;
	s->nshares--;
	c->shares[i] = c->shares[--c->nshares];
	return len;
}

/* Everything else the client held, once no engine thread uses its queues:
 * domains unpin (their queues are gone), then the memfds are unmapped. */
static void client_finish(struct srv *s, struct srv_client *c)
{
	uint32_t i;

	for (i = 1; i <= SRV_MAX_DOMAINS; i++)
		if (c->domains[i])
			wd__domain_destroy(c->domains[i]);
	while (c->nshares)
		srv_share_drop(s, c, 0);
	free(c->shares);
	free(c->queues);
	srv_user_put(s, c->user);
	free(c);
	s->nclients--;
}

/* Free the queues the engine let go of; 1 when none is left. */
static int client_reap(struct srv *s, struct srv_client *c)
{
	uint32_t i;

	for (i = 0; i < c->nqueues;)
		if (srv_queue_reap(s, c, c->queues[i], NULL, NULL))
			c->queues[i] = c->queues[--c->nqueues];
		else
			i++;
	return !c->nqueues;
}

void srv_dying_poll(struct srv *s)
{
	struct srv_client **pp = &s->dying, *c;

	while ((c = *pp)) {
		if (!client_reap(s, c)) {
			pp = &c->next;
			continue;
		}
		*pp = c->next;
		client_finish(s, c);
	}
}

void srv_client_free(struct srv *s, struct srv_client *c)
{
	struct srv_client **pp;
	uint32_t i;

	for (pp = &s->clients; *pp; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	srv_pending_drop(s, c);
	close(c->fd);
	c->fd = -1;
	/* An engine thread may be inside a long request of one of its queues:
	 * let go of them all, and finish when it has (never wait for it). */
	for (i = 0; i < c->nqueues; i++)
		srv_queue_close_start(s, c->queues[i]);
	if (!c->nqueues) {
		client_finish(s, c);
		return;
	}
	c->next = s->dying;
	s->dying = c;
}
