/* SPDX-License-Identifier: MIT */
/*
 * Fault injection on the daemon's paths: wdd runs in this process (its
 * server code, in a thread of its own, started afresh for every run and
 * stopped at its end, so all it holds must be given back by then), and
 * each sequence a client runs against it is swept three times over:
 *   wdd_*  the client library's calls fail (connect, queues, domains...);
 *   srv_*  the daemon's control thread's calls fail (its handlers): the
 *          client must get the error, and the same request must then work;
 *   eng_*  the daemon's engine threads' calls fail (stream state, cipher
 *          contexts, scratch, the remote-copy helper): error completions.
 * srv_start sweeps the daemon's own start and stop.  argv: scenario names
 * (globs: 'srv_*').
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>

#include "daemon/proto.h"
#include "daemon/server.h"
#include "fi_lib.h"

#define TEXT_LEN (64u << 10)

static unsigned char text[TEXT_LEN];

/* ---- the daemon, in process ---- */

static char dir[64], sock[128];
static volatile sig_atomic_t d_stop;
static pthread_t d_thread;
static int d_ret, d_running, d_ready, d_ended; /* d_ready, d_ended: atomics */

/*
 * One engine thread, and quotas of exactly what a scenario holds at most
 * (one client, one queue, one share of 3 pages): a failed request that
 * kept counting what it never made would make the same request, repeated,
 * fail with -EDQUOT (or the next connection go without wdd0).
 */
static void config(struct wdd_config *cfg)
{
	*cfg = (struct wdd_config){
		.socket_path = sock, .listen_fd = -1, .threads = 1, .max_clients = 1,
		.max_queues = 1, .max_pinned = 3 * FI_PAGE, .socket_mode = 0600,
		.user_clients = 1, .user_queues = 1, .user_pinned = 3 * FI_PAGE,
		.max_shares = 1, .user_shares = 1, .user_state = 256ull << 20,
		.nop_delay_max_ns = 1000000000ull, .max_request = 64ull << 20,
	};
}

static void on_usr1(int sig)
{
	(void)sig;
	d_stop = 1; /* runs on the daemon's thread: pthread_kill */
}

static void on_ready(void *arg)
{
	__atomic_store_n((int *)arg, 1, __ATOMIC_RELEASE);
}

static void *daemon_main(void *arg)
{
	struct wdd_config cfg;

	(void)arg;
	fi_set_role(FI_ROLE_DAEMON);
	config(&cfg);
	cfg.on_ready = on_ready;
	cfg.ready_arg = &d_ready;
	d_ret = wdd_serve(&cfg, &d_stop);
	__atomic_store_n(&d_ended, 1, __ATOMIC_RELEASE);
	return NULL;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

static void daemon_start(void)
{
	struct stat st;
	int i;

	d_stop = 0;
	d_ret = 0;
	d_ready = d_ended = 0;
	FI_ASSERT(!pthread_create(&d_thread, NULL, daemon_main, NULL));
	d_running = 1;
	/* serving, not only listening: a failure injected from here on must
	 * not land in the daemon's own start (slow machines got there) */
	for (i = 0; i < 5000 && !__atomic_load_n(&d_ready, __ATOMIC_ACQUIRE) &&
		    !__atomic_load_n(&d_ended, __ATOMIC_ACQUIRE); i++)
		sleep_ms(1);
	if (!__atomic_load_n(&d_ready, __ATOMIC_ACQUIRE))
		FI_FAIL("the daemon did not start: %d",
			__atomic_load_n(&d_ended, __ATOMIC_ACQUIRE) ? d_ret : 0);
	FI_ASSERT(stat(sock, &st) == 0);
}

static void daemon_stop(void)
{
	if (!d_running)
		return;
	pthread_kill(d_thread, SIGUSR1);
	pthread_join(d_thread, NULL);
	d_running = 0;
	if (d_ret)
		FI_FAIL("the daemon stopped with %d (%s)", d_ret, wd_strerror(d_ret));
}

/* ---- a client ---- */

static struct wd_ctx *wdd_ctx(void)
{
	struct wd_ctx_opts o = { .size = sizeof(o), .soft_threads = 1 };
	struct wd_ctx *ctx = NULL;

	FI_TRY(wd_ctx_new(&ctx, &o));
	return ctx;
}

/* The daemon and a context that sees it (the set-up of most runs). */
static struct wd_ctx *setup(void)
{
	struct wd_ctx *ctx;

	daemon_start();
	ctx = wdd_ctx();
	FI_ASSERT(wd_dev_by_name(ctx, "wdd0") != NULL);
	return ctx;
}

/* The daemon's view of the client at the end of a run: nothing held. */
static void teardown(struct wd_ctx *ctx)
{
	static struct wdd_stats_rep st;

	if (wd_dev_by_name(ctx, "wdd0")) {
		FI_ASSERT(wd__wdd_stats(ctx, &st) == 0);
		FI_ASSERT(st.clients == 1 && st.queues == 0 && st.pinned == 0);
	}
	fi_ctx_free(ctx);
	daemon_stop();
}

/* The daemon's start and stop; a failed start must leave nothing (and
 * the socket file gone). */
static int serve_once(void)
{
	volatile sig_atomic_t stop = 1; /* serve nobody: start, then stop */
	struct wdd_config cfg;
	struct stat st;
	int ret;

	config(&cfg);
	ret = wdd_serve(&cfg, &stop);
	FI_ASSERT(stat(sock, &st) != 0);
	return ret;
}

static void sc_start(const struct fi_scenario *sc)
{
	fi_start();
	FI_TRY(serve_once());
}

/* Connect: the hello, and a queue through the new connection. */
static void sc_connect(const struct fi_scenario *sc)
{
	struct wd_ctx *ctx;
	struct wd_queue *q;

	daemon_start();
	fi_start();
	ctx = wdd_ctx();
	fi_stop();
	if (!wd_dev_by_name(ctx, "wdd0")) {
		/* no connection, no device: an error would fail the programs
		 * that never use it; the daemon must take the next one */
		if (!fi_injected())
			FI_FAIL("no wdd0 with nothing injected");
		fi_degraded("a context without wdd0");
		fi_ctx_free(ctx);
		ctx = wdd_ctx();
		FI_ASSERT(wd_dev_by_name(ctx, "wdd0") != NULL);
	}
	q = fi_queue(ctx, "crc32c", "wdd0", 0, NULL);
	fi_check_crc(q);
	wd_queue_free(q);
	teardown(ctx);
}

/* Queues: SVA (the daemon reads our memory), and explicit on a domain
 * of their own; the daemon's engine asleep before a request (a doorbell
 * it no longer listens to would hang it). */
static void sc_queue(const struct fi_scenario *sc)
{
	struct wd_ctx *ctx = setup();
	struct wd_queue_stats st = { .size = sizeof(st) };
	struct wd_queue *q;
	unsigned char *m;
	uint64_t iova;

	fi_start();
	q = fi_queue(ctx, "mover", "wdd0", 0, NULL);
	fi_check_crc(q);
	sleep_ms(5);
	fi_check_crc(q);
	FI_TRY(wd_queue_stats(q, &st));
	FI_ASSERT(st.requests >= 1); /* the engine counts at the end of a pass */
	wd_queue_free(q);
	q = fi_queue(ctx, "copy", "wdd0", WD_QUEUE_F_EXPLICIT, NULL);
	FI_TRY_PTR(m, wd_mem_alloc(2 * FI_PAGE));
	FI_TRY(wd_share(wd_queue_domain(q), m, 2 * FI_PAGE, 0, &iova));
	memset(m, 0x7a, FI_PAGE);
	sleep_ms(5);
	FI_TRY(fi_dev_copy(q, iova + FI_PAGE, iova, FI_PAGE));
	FI_ASSERT(m[2 * FI_PAGE - 1] == 0x7a);
	FI_TRY(wd_unshare(wd_queue_domain(q), iova, 0, 1000));
	wd_queue_free(q);
	wd_mem_free(m, 2 * FI_PAGE);
	fi_stop();
	teardown(ctx);
}

/* A domain of the client's on the daemon: shares, a queue on it, dirty
 * tracking, a pin limit, an unshare waiting for a request (deferred by
 * the daemon), a domain free refused while a queue uses it. */
static void sc_share(const struct fi_scenario *sc)
{
	struct wd_ctx *ctx = setup();
	struct wd_domain *d = NULL;
	struct wd_queue *q;
	struct wd_req r;
	struct wd_cpl c;
	uint64_t im, bits[1];
	unsigned char *m;
	double t0;

	fi_start();
	FI_TRY(wd_domain_new(&d, ctx, "wdd0"));
	FI_TRY(wd_domain_set_pin_limit(d, 1u << 20));
	FI_TRY_PTR(m, wd_mem_alloc(3 * FI_PAGE));
	FI_TRY(wd_share(d, m, 3 * FI_PAGE, 0, &im));
	q = fi_queue(ctx, "mover", "wdd0", WD_QUEUE_F_EXPLICIT, d);
	FI_TRY(wd_dirty_start(d));
	memset(m, 0x3c, FI_PAGE);
	FI_TRY(fi_dev_copy(q, im + FI_PAGE, im, FI_PAGE));
	FI_ASSERT(m[2 * FI_PAGE - 1] == 0x3c);
	FI_EXPECT(wd_dirty_read_clear(d, im, 3 * FI_PAGE, bits), 1);
	FI_ASSERT(bits[0] == 2);
	FI_TRY(wd_dirty_stop(d));
	wd_prep_nop(&r, 100 * 1000 * 1000); /* in flight for 100 ms */
	r.tag = 1;
	t0 = fi_now();
	FI_ASSERT(wd_send(q, &r, 1) == 1);
	fi_unshare_busy(d, m, 3 * FI_PAGE, &im, t0, 0.1);
	FI_TRY(wd_unshare(d, im, 0, 10000));
	FI_ASSERT(wd_wait(q, &c, 1, 1000) == 1 && c.tag == 1 && c.status == 0);
	FI_EXPECT(wd_domain_free(d), -EBUSY);
	wd_queue_free(q);
	FI_TRY(wd_domain_free(d));
	wd_mem_free(m, 3 * FI_PAGE);
	fi_stop();
	teardown(ctx);
}

/*
 * A failure absorbed by the daemon's engine is counted like one in process
 * (t_failinj_sync), but for its remote-copy helper: without one, requests
 * copy the client's memory themselves, the same work, only not ahead.
 */
static void check_counted(struct wd_queue *q)
{
	struct wd_queue_stats st = { .size = sizeof(st) };
	char site[512];

	if (!fi_absorbed())
		return;
	fi_site_name(fi_injected_site(), site, sizeof(site));
	if (strstr(site, "soft_remote_helper") || !strcmp(fi_injected_fn(), "EVP_CipherInit_ex") ||
	    !strcmp(fi_injected_fn(), "soft_pctx_key"))
		return;
	FI_ASSERT(wd_queue_stats(q, &st) == 0);
	if (!st.sync_ring_nomem)
		FI_FAIL("%s in %s failed, absorbed, and no statistic counts the fallback",
			fi_injected_fn(), site);
}

/* AES-128-CBC, NIST SP 800-38A F.2.1, first block */
static const unsigned char cbc_key[16] = { 0x2b, 0x7e, 0x15, 0x16, 0x28, 0xae, 0xd2, 0xa6,
					   0xab, 0xf7, 0x15, 0x88, 0x09, 0xcf, 0x4f, 0x3c };
static const unsigned char cbc_iv[16] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15 };
static const unsigned char cbc_pt[16] = { 0x6b, 0xc1, 0xbe, 0xe2, 0x2e, 0x40, 0x9f, 0x96,
					  0xe9, 0x3d, 0x7e, 0x11, 0x73, 0x93, 0x17, 0x2a };
static const unsigned char cbc_ct[16] = { 0x76, 0x49, 0xab, 0xac, 0x81, 0x19, 0xb2, 0x46,
					  0xce, 0xe9, 0x8e, 0x9b, 0x12, 0xe9, 0x19, 0x7d };

/* Cipher sessions on the daemon: the key goes over the socket. */
static void sc_cipher(const struct fi_scenario *sc)
{
	static unsigned char xts_key[64], buf[4096], back[4096];
	struct wd_ctx *ctx = setup();
	struct wd_cipher_sess *a = NULL, *x = NULL;
	struct wd_queue *q;
	unsigned char out[16];
	unsigned i;

	for (i = 0; i < sizeof(xts_key); i++)
		xts_key[i] = (unsigned char)(i * 7 + 1);
	fi_start();
	q = fi_queue(ctx, "cipher", "wdd0", 0, NULL);
	FI_TRY(wd_cipher_sess_new(&a, q, WD_CIPHER_AES_CBC, cbc_key, sizeof(cbc_key)));
	FI_TRY(wd_encrypt(a, cbc_iv, cbc_pt, out, sizeof(out)));
	FI_ASSERT(!memcmp(out, cbc_ct, sizeof(out)));
	FI_TRY(wd_cipher_sess_new(&x, q, WD_CIPHER_AES_XTS, xts_key, sizeof(xts_key)));
	FI_TRY(wd_encrypt(x, cbc_iv, text, buf, sizeof(buf)));
	FI_TRY(wd_decrypt(x, cbc_iv, buf, back, sizeof(back)));
	FI_ASSERT(memcmp(buf, text, sizeof(buf)) && !memcmp(back, text, sizeof(back)));
	wd_cipher_sess_free(a);
	FI_TRY(wd_cipher_sess_new(&a, q, WD_CIPHER_AES_CBC, cbc_key, sizeof(cbc_key)));
	FI_TRY(wd_decrypt(a, cbc_iv, cbc_ct, out, sizeof(out)));
	FI_ASSERT(!memcmp(out, cbc_pt, sizeof(out)));
	wd_cipher_sess_free(a);
	wd_cipher_sess_free(x);
	fi_check_sessions(q);
	check_counted(q);
	wd_queue_free(q);
	fi_stop();
	teardown(ctx);
}

/* Compression on the daemon: one-shot (its engine reads our memory, with
 * a helper copying ahead) and a stream each way. */
static void sc_comp(const struct fi_scenario *sc)
{
	static unsigned char comp[TEXT_LEN + 1024], back[TEXT_LEN];
	struct wd_ctx *ctx = setup();
	struct wd_comp_stream *s = NULL;
	size_t clen = sizeof(comp), dlen = sizeof(back), used, made;
	struct wd_queue *q;
	int ret;

	fi_start();
	q = fi_queue(ctx, "gzip", "wdd0", 0, NULL);
	FI_TRY(wd_compress(q, text, TEXT_LEN, comp, &clen, 1, WD_COMP_GZIP));
	FI_TRY(wd_decompress(q, comp, clen, back, &dlen, WD_COMP_GZIP));
	FI_ASSERT(dlen == TEXT_LEN && !memcmp(back, text, TEXT_LEN));
	clen = sizeof(comp);
	FI_TRY(wd_compress(q, text, TEXT_LEN, comp, &clen, 6, WD_COMP_GZIP));
	FI_TRY(wd_comp_stream_new(&s, q, WD_DECOMPRESS, WD_COMP_GZIP, 0));
	FI_TRY(ret = wd_comp_stream_run(s, comp, clen, &used, back, sizeof(back), &made,
					WD_COMP_FINISH));
	FI_ASSERT(ret == 1 && made == TEXT_LEN && !memcmp(back, text, TEXT_LEN));
	wd_comp_stream_free(s);
	FI_TRY(wd_comp_stream_new(&s, q, WD_COMPRESS, WD_COMP_GZIP, 3));
	FI_TRY(ret = wd_comp_stream_run(s, text, TEXT_LEN, &used, comp, sizeof(comp), &made,
					WD_COMP_FINISH));
	FI_ASSERT(ret == 1 && used == TEXT_LEN);
	wd_comp_stream_free(s);
	fi_check_sessions(q);
	check_counted(q);
	wd_queue_free(q);
	fi_stop();
	teardown(ctx);
}

#define SCENARIO(name, fn)                                                     \
	{ "wdd_" name, FI_ROLE_CLIENT, fn, 0 },                                \
	{ "srv_" name, FI_ROLE_DAEMON, fn, 0 }
#define ENGINE(name, fn) { "eng_" name, FI_ROLE_DAEMON_ENGINE, fn, 0 }

static const struct fi_scenario scenarios[] = {
	{ "srv_start", FI_ROLE_CLIENT, sc_start, 0 },
	{ "wdd_connect", FI_ROLE_CLIENT, sc_connect, 0 },
	{ "srv_connect", FI_ROLE_DAEMON, sc_connect, 0 },
	SCENARIO("queue", sc_queue),
	ENGINE("queue", sc_queue),
	SCENARIO("share", sc_share), /* explicit: the engine needs nothing of its own */
	SCENARIO("cipher", sc_cipher),
	ENGINE("cipher", sc_cipher),
	SCENARIO("comp", sc_comp),
	ENGINE("comp", sc_comp),
};

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_usr1 }; /* no SA_RESTART: epoll_wait returns */
	uint64_t s = 0x9e3779b97f4a7c15ull;
	unsigned i;
	int ret;

	for (i = 0; i < TEXT_LEN; i++) {
		s ^= s << 13;
		s ^= s >> 7;
		s ^= s << 17;
		text[i] = (s & 7) ? (unsigned char)('a' + (s >> 8) % 8) : ' ';
	}
	sigaction(SIGUSR1, &sa, NULL);
	snprintf(dir, sizeof(dir), "/tmp/wdd-fi-XXXXXX");
	FI_ASSERT(mkdtemp(dir));
	snprintf(sock, sizeof(sock), "%s/wdd.sock", dir);
	setenv("WD_WDD_SOCKET", sock, 1);
	ret = fi_main(argc, argv, scenarios, sizeof(scenarios) / sizeof(scenarios[0]));
	rmdir(dir);
	return ret;
}
