/* The VFIO driver's real request path (queue threads, pending requests
 * holding shared ranges, stop_device, fail_queue) against a virtio-crypto
 * device played in this process (vc_fake.c): no QEMU, every suite.
 *
 * A sound device gives what OpenSSL gives.  For each misbehaviour, with
 * requests in flight on two queues over explicitly shared buffers: every
 * request is answered exactly once (done or -EIO); the rings are declared
 * dead and the device gone (later queues: -EIO); an unshare that does not
 * wait succeeds only once the device can write nothing (reset, or bus
 * mastering off), and nothing is written into the buffers after it; the
 * device never reached an unmapped IOVA (one that stalls is stopped when
 * a request times out).  Harmless ones (descriptors
 * rewritten, configuration changed) change no result. */
#include <openssl/evp.h>
#include <sys/mman.h>
#include <unistd.h>
#include <wd/crypto.h>
#include <wd/mem.h>

#include "t_helpers.h"
#include "core/internal.h"
#include "dev/vfio/vcrypto.h"
#include "t_vcfake.h"

enum { N = 32, LEN = 4096, NQ = 2 };

static const uint8_t key[32] = { 0x2b, 0x7e, 0x15, 0x16, 0x28, 0xae, 0xd2, 0xa6, 0xab, 0xf7,
				 0x15, 0x88, 0x09, 0xcf, 0x4f, 0x3c, 1, 2, 3, 4, 5, 6, 7, 8,
				 9, 10, 11, 12, 13, 14, 15, 16 };

static const char *const names[FK_NBAD] = {
	"sound", "duplicate used id", "used id out of range", "used id never issued",
	"used index jump", "length past the writable bytes", "descriptors rewritten",
	"NEEDS_RESET", "gone (all ones)", "config changed", "control answered late",
	"stalled", "used length short",
};

struct rig {
	struct fk_dev *f;
	struct wd_ctx *ctx;
	struct vc_dev *vd;
	struct wd_domain *dom;
	struct wd_queue *q[NQ];
	struct wd_cipher_sess *s[NQ];
	uint8_t *src, *dst;
	uint64_t src_iova, dst_iova;
};

/* Without the fallback to the built-in engine: what the driver itself does
 * with a device that breaks (t_failover_vfio runs the same rig with it). */
static struct wd_queue *open_queue(struct rig *r, int *err)
{
	struct wd_queue_opts o = { .size = sizeof(o), .depth = 64, .device = "vfio0",
				   .flags = WD_QUEUE_F_EXPLICIT | WD_QUEUE_F_NO_FALLBACK,
				   .domain = r->dom };
	struct wd_queue *q = NULL;

	*err = wd_queue_new(&q, r->ctx, "cipher", &o);
	return q;
}

static void *shared(struct rig *r, uint64_t *iova)
{
	void *p = mmap(NULL, (size_t)N * LEN, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	T_ASSERT(p != MAP_FAILED);
	T_OK(wd_share(r->dom, p, (size_t)N * LEN, 0, iova));
	return p;
}

/* -ENODEV when the driver passed the device over. */
static int rig_open(struct rig *r, const struct fk_opts *o)
{
	struct wd_dev *dev;
	int i, err;

	memset(r, 0, sizeof(*r));
	r->ctx = t_vc_fake_ctx(o, &r->f);
	dev = wd_dev_by_name(r->ctx, "vfio0");
	if (!dev)
		return -ENODEV;
	r->vd = dev->priv;
	T_OK(wd_domain_new(&r->dom, r->ctx, "vfio0"));
	for (i = 0; i < NQ; i++) {
		r->q[i] = open_queue(r, &err);
		T_OK(err);
		T_OK(wd_cipher_sess_new(&r->s[i], r->q[i], WD_CIPHER_AES_CBC, key, 16));
	}
	r->src = shared(r, &r->src_iova);
	r->dst = shared(r, &r->dst_iova);
	for (i = 0; i < N * LEN; i++)
		r->src[i] = (uint8_t)(i * 7 + i / 251);
	return 0;
}

static void rig_close(struct rig *r, struct fk_stats *st)
{
	int i;

	for (i = 0; i < NQ; i++) {
		if (r->s[i])
			wd_cipher_sess_free(r->s[i]);
		wd_queue_free(r->q[i]);
	}
	if (r->dom)
		T_OK(wd_domain_free(r->dom)); /* unshares what is left */
	wd_ctx_free(r->ctx);
	fk_stats(r->f, st);
	fk_free(r->f); /* its thread is over: nothing writes the buffers now */
}

static void rig_unmap(struct rig *r)
{
	munmap(r->src, (size_t)N * LEN);
	munmap(r->dst, (size_t)N * LEN);
}

/* What OpenSSL makes of it. */
static void expect(const EVP_CIPHER *c, const uint8_t *k, const uint8_t *iv, int enc,
		   const uint8_t *in, int len, uint8_t *out)
{
	EVP_CIPHER_CTX *x = EVP_CIPHER_CTX_new();
	int a = 0, b = 0;

	T_ASSERT(x && EVP_CipherInit_ex(x, c, NULL, k, iv, enc));
	EVP_CIPHER_CTX_set_padding(x, 0);
	T_ASSERT(EVP_CipherUpdate(x, out, &a, in, len) && EVP_CipherFinal_ex(x, out + a, &b));
	T_EQ(a + b, len);
	EVP_CIPHER_CTX_free(x);
}

static void iv_of(int i, uint8_t iv[16])
{
	memset(iv, 0, 16);
	iv[0] = (uint8_t)i;
	iv[15] = 0x5a;
}

/* Request i: block i of src into block i of dst, on queue i % NQ. */
static void send_all(struct rig *r)
{
	struct wd_req q;
	uint8_t iv[16];
	int i;

	for (i = 0; i < N; i++) {
		iv_of(i, iv);
		wd_prep_encrypt(&q, r->s[i % NQ], iv, r->src_iova + (uint64_t)i * LEN,
				r->dst_iova + (uint64_t)i * LEN, LEN);
		q.tag = (uint64_t)i;
		T_EQ(wd_send(r->q[i % NQ], &q, 1), 1);
	}
}

static void check_block(const struct rig *r, int i)
{
	uint8_t iv[16], want[LEN];

	iv_of(i, iv);
	expect(EVP_aes_128_cbc(), key, iv, 1, r->src + (size_t)i * LEN, LEN, want);
	T_ASSERT(!memcmp(r->dst + (size_t)i * LEN, want, LEN));
}

/* Every request answered once (cancelled only if the driver never took it);
 * dead[]: the queue's ring was declared dead. */
static void account(struct rig *r, int *ok, int *eio, int dead[NQ])
{
	int seen[N] = { 0 }, i, k, qi, got, failed;
	struct wd_cpl c[64];
	double t0 = t_now();

	*ok = *eio = 0;
	for (qi = 0; qi < NQ; qi++) {
		dead[qi] = failed = 0;
		for (got = 0; got < N / NQ && t_now() - t0 < 20;) {
			k = wd_wait(r->q[qi], c, 64, 200);
			if (k == -ETIMEDOUT)
				continue;
			if (k == -EIO) {
				dead[qi] = 1;
				break;
			}
			T_ASSERT(k >= 0);
			for (i = 0; i < k; i++, got++) {
				T_ASSERT(c[i].tag < N && (int)c[i].tag % NQ == qi);
				T_EQ(seen[c[i].tag]++, 0);
				T_ASSERT(c[i].status == 0 || c[i].status == -EIO);
				if (!c[i].status) {
					T_EQ(c[i].result, LEN);
					check_block(r, (int)c[i].tag);
				}
				*ok += !c[i].status;
				*eio += c[i].status == -EIO;
				failed |= c[i].status == -EIO;
			}
		}
		T_ASSERT(t_now() - t0 < 20);
		/* all in, some failed: the ring is dead (the mark may trail the
		 * last answer a little), and nothing more is taken */
		for (i = 0; failed && !dead[qi] && i < 2000; i++) {
			dead[qi] = !!__atomic_load_n(&r->q[qi]->ring.ctl->dev_status,
						     __ATOMIC_ACQUIRE);
			usleep(dead[qi] ? 0 : 1000);
		}
		if (dead[qi]) {
			struct wd_req nop = { .op = WD_OP_NOP, .tag = N };

			T_EQ(wd_send(r->q[qi], &nop, 1), -EIO);
		}
		/* what the driver never took is cancelled; what it failed as
		 * the ring died may come after the mark */
		T_OK(wd_queue_stop(r->q[qi]));
		while ((k = wd_recv(r->q[qi], c, 64)) > 0)
			for (i = 0; i < k; i++, got++) {
				T_EQ(seen[c[i].tag]++, 0);
				T_ASSERT(c[i].status == -ECANCELED || (dead[qi] && c[i].status == -EIO));
				*eio += c[i].status == -EIO;
			}
	}
	for (i = 0; i < N; i++)
		T_EQ(seen[i], 1);
}

static struct fk_stats wait_triggered(struct rig *r)
{
	struct fk_stats st;
	double t0 = t_now();

	do {
		fk_stats(r->f, &st);
		T_ASSERT(t_now() - t0 < 10);
		usleep(500);
	} while (!st.triggered);
	return st;
}

static void hostile(enum fk_bad bad, int no_ack)
{
	struct fk_opts o = { .bad = bad, .hold = N, .no_reset_ack = no_ack, .nq = NQ };
	struct wd_cipher_sess *s2 = NULL;
	int ok, eio, dead[NQ], err, ret;
	struct fk_stats st;
	struct rig r;
	double t0;
	uint8_t *snap = malloc((size_t)N * LEN);

	T_ASSERT(snap);
	T_OK(rig_open(&r, &o));
	send_all(&r);
	st = wait_triggered(&r);
	if (bad == FK_CTL_LATE) /* the driver gives up on it, and stops it */
		T_ASSERT(wd_cipher_sess_new(&s2, r.q[0], WD_CIPHER_AES_CTR, key, 16) < 0);
	/* the lease: no unshare before the device can write nothing more */
	for (t0 = t_now(); (ret = wd_unshare(r.dom, r.dst_iova, WD_UNSHARE_NOWAIT, 0)) == -EBUSY;) {
		T_ASSERT(t_now() - t0 < 10);
		usleep(200);
	}
	T_OK(ret);
	T_ASSERT(fk_stopped(r.f));
	memcpy(snap, r.dst, (size_t)N * LEN);
	account(&r, &ok, &eio, dead);
	T_ASSERT(eio > 0 && ok + eio == N);
	T_ASSERT(dead[0] && dead[1]);
	T_EQ(__atomic_load_n(&r.vd->gone, __ATOMIC_ACQUIRE), 1);
	wd_cipher_sess_free(r.s[1]); /* room for a queue: the device says no */
	wd_queue_free(r.q[1]);
	r.q[1] = open_queue(&r, &err);
	r.s[1] = NULL;
	T_EQ(err, -EIO);
	T_ASSERT(!r.q[1]);
	rig_close(&r, &st);
	T_ASSERT(!memcmp(snap, r.dst, (size_t)N * LEN)); /* nothing after the unshare */
	rig_unmap(&r);
	fprintf(stderr, "%-32s%s: %2d done, %2d -EIO; resets %u (ignored %u), bus master %s, "
		"late writes %u\n", names[bad], no_ack ? " +no reset ack" : "", ok, eio,
		st.resets, st.resets_ignored, st.bm_off ? "off" : "on", st.late_writes);
	T_EQ(st.faults, 0);
	T_EQ(st.unmap_live, 0);
	T_EQ(st.ctl_late, 0);
	T_ASSERT(st.bm_off); /* whatever the reset said */
	if (no_ack || bad == FK_GONE)
		T_ASSERT(!st.resets);
	free(snap);
}

/* Harmless: the driver keeps what it read at start and never reads back
 * what it wrote, so every result is right and the device stays usable. */
static void harmless(enum fk_bad bad)
{
	struct fk_opts o = { .bad = bad, .hold = N, .nq = NQ };
	int ok, eio, dead[NQ], err, i;
	struct fk_stats st;
	struct rig r;

	T_OK(rig_open(&r, &o));
	send_all(&r);
	account(&r, &ok, &eio, dead);
	T_EQ(ok, N);
	T_ASSERT(!dead[0] && !dead[1]);
	T_EQ(__atomic_load_n(&r.vd->gone, __ATOMIC_ACQUIRE), 0);
	/* and again, on a queue opened afterwards */
	wd_cipher_sess_free(r.s[1]);
	wd_queue_free(r.q[1]);
	r.q[1] = open_queue(&r, &err);
	T_OK(err);
	T_OK(wd_cipher_sess_new(&r.s[1], r.q[1], WD_CIPHER_AES_CBC, key, 16));
	memset(r.dst, 0, (size_t)N * LEN);
	for (i = 1; i < N; i += NQ) {
		struct wd_req q;
		uint8_t iv[16];

		iv_of(i, iv);
		wd_prep_encrypt(&q, r.s[1], iv, r.src_iova + (uint64_t)i * LEN,
				r.dst_iova + (uint64_t)i * LEN, LEN);
		q.tag = (uint64_t)i;
		T_EQ(t_run(r.q[1], &q).status, 0);
		check_block(&r, i);
	}
	T_OK(wd_unshare(r.dom, r.dst_iova, WD_UNSHARE_NOWAIT, 0));
	rig_close(&r, &st);
	rig_unmap(&r);
	fprintf(stderr, "%-32s: %2d done, completed %u\n", names[bad], ok, st.completed);
	T_EQ(st.faults, 0);
	T_EQ(st.unmap_live, 0);
}

/* A sound device: AES-CBC and -CTR, each key size, both ways, lengths of
 * every kind, in place and apart: what OpenSSL gives. */
static void sound(void)
{
	static const struct {
		enum wd_cipher_alg alg;
		size_t klen;
		const EVP_CIPHER *(*evp)(void);
	} m[] = {
		{ WD_CIPHER_AES_CBC, 16, EVP_aes_128_cbc }, { WD_CIPHER_AES_CBC, 24, EVP_aes_192_cbc },
		{ WD_CIPHER_AES_CBC, 32, EVP_aes_256_cbc }, { WD_CIPHER_AES_CTR, 16, EVP_aes_128_ctr },
		{ WD_CIPHER_AES_CTR, 24, EVP_aes_192_ctr }, { WD_CIPHER_AES_CTR, 32, EVP_aes_256_ctr },
	};
	struct fk_opts o = { .nq = NQ };
	uint8_t want[LEN], iv[16];
	struct wd_cipher_sess *s;
	struct fk_stats st;
	struct rig r;
	unsigned n = 0;

	T_OK(rig_open(&r, &o));
	for (size_t k = 0; k < sizeof(m) / sizeof(m[0]); k++) {
		T_OK(wd_cipher_sess_new(&s, r.q[k % NQ], m[k].alg, key, m[k].klen));
		for (int i = 0; i < 8; i++, n++) {
			int ctr = m[k].alg == WD_CIPHER_AES_CTR;
			uint32_t len = ctr ? 1u + (uint32_t)(i * 523) % LEN : 16u * (1 + (uint32_t)(i * 37) % 256);
			uint64_t in = r.src_iova + (uint64_t)i * LEN, out = r.dst_iova + (uint64_t)i * LEN;
			uint8_t *dst = r.dst + (size_t)i * LEN;
			struct wd_req q;

			iv_of((int)n, iv);
			memset(dst, 0, LEN);
			wd_prep_encrypt(&q, s, iv, in, out, len);
			q.tag = n;
			T_EQ(t_run(r.q[k % NQ], &q).status, 0);
			expect(m[k].evp(), key, iv, 1, r.src + (size_t)i * LEN, (int)len, want);
			T_ASSERT(!memcmp(dst, want, len));
			if (len < LEN)
				T_EQ(dst[len], 0); /* not a byte past */
			/* and back, in place */
			wd_prep_decrypt(&q, s, iv, out, out, len);
			T_EQ(t_run(r.q[k % NQ], &q).status, 0);
			T_ASSERT(!memcmp(dst, r.src + (size_t)i * LEN, len));
		}
		wd_cipher_sess_free(s);
	}
	rig_close(&r, &st);
	rig_unmap(&r);
	fprintf(stderr, "%-32s: %u requests as OpenSSL, both ways\n", names[FK_NONE], 2 * n);
	T_EQ(st.completed, 2 * n);
	T_EQ(st.faults, 0);
	T_EQ(st.unmap_live, 0);
	T_EQ(st.triggered, 0);
}

/* A configuration that never reads the same twice: the device is passed
 * over, and everything it was given is let go. */
static void unstable(void)
{
	struct fk_opts o = { .cfg_unstable = 1, .nq = 1 };
	struct fk_stats st;
	struct rig r;

	T_EQ(rig_open(&r, &o), -ENODEV);
	rig_close(&r, &st);
	T_EQ(st.faults, 0);
	fprintf(stderr, "%-32s: passed over\n", "config generation unstable");
}

int main(void)
{
	sound();
	unstable();
	harmless(FK_DESC_REWRITE);
	harmless(FK_CFG_CHANGE);
	hostile(FK_DUP_USED, 0);
	hostile(FK_RANGE_USED, 0);
	hostile(FK_UNISSUED_USED, 0);
	hostile(FK_IDX_JUMP, 0);
	hostile(FK_LEN_PAST, 0);
	hostile(FK_NEEDS_RESET, 0);
	hostile(FK_GONE, 0);
	hostile(FK_DUP_USED, 1);
	hostile(FK_CTL_LATE, 0);
	wd__vfio_req_timeout_ms = 1000; /* not the 20 s a real device gets */
	hostile(FK_STALL, 0);
	return 0;
}
