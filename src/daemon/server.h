/* SPDX-License-Identifier: MIT */
#ifndef WDD_SERVER_H
#define WDD_SERVER_H

#include <signal.h>
#include <stdint.h>
#include <sys/types.h>

struct wdd_config {
	const char *socket_path;
	int listen_fd;                  /* >= 0: an inherited listening socket */
	unsigned threads;               /* engine threads; 0: online CPUs */
	unsigned max_clients;
	unsigned max_queues;            /* per client */
	uint64_t max_pinned;            /* bytes per client */
	unsigned user_clients;          /* connections per user */
	unsigned user_queues;           /* queues per user, all its clients */
	uint64_t user_pinned;           /* bytes per user, all its clients */
	unsigned max_shares;            /* shared ranges per client */
	unsigned user_shares;           /* shared ranges per user */
	uint64_t user_state;            /* engine memory (stream state) per user, bytes */
	uint64_t nop_delay_max_ns;      /* longest no-op delay a client may ask for */
	uint64_t max_request;           /* largest buffer of one request, bytes */
	int explicit_only;              /* refuse SVA queues (see wdd(8), BUGS) */
	unsigned socket_mode;           /* permission bits of the socket file */
	uid_t allow_uids[16];           /* empty: the socket's permissions decide */
	unsigned nallow;
	/* called once, on the serving thread, when every resource of the
	 * loop is in place (the socket file appears earlier) */
	void (*on_ready)(void *arg);
	void *ready_arg;
};

/* Serve until *stop is set; returns 0 or -errno. */
int wdd_serve(const struct wdd_config *cfg, volatile sig_atomic_t *stop);

#endif
