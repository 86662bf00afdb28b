/* Several client processes compress through one daemon at the same time,
 * byte-exact; meanwhile a malicious client corrupts its ring indices,
 * submits bogus and foreign addresses and rewrites descriptors while the
 * daemon reads them - it gets errors, the others never notice. */
#include <pthread.h>
#include "core/internal.h"
#include "t_wdd.h"
#include "t_zlib.h"

static int honest(int id)
{
	uint64_t seed = 1000 + (uint64_t)id;
	struct wd_ctx *ctx = t_wdd_ctx();
	struct wd_queue *q = t_wdd_queue(ctx, "gzip", 0, NULL);
	size_t n = 1 << 20, clen, dlen;
	unsigned char *in = malloc(n), *comp = malloc(wd_comp_bound(n)), *out = malloc(n);
	int round;

	for (round = 0; round < 20; round++) {
		t_fill_text(in, n, &seed);
		clen = wd_comp_bound(n);
		T_OK(wd_compress(q, in, n, comp, &clen, (unsigned)(round % 4), WD_COMP_GZIP));
		T_EQ(t_zinflate(WD_COMP_GZIP, comp, clen, out, n, &dlen), Z_STREAM_END);
		T_ASSERT(dlen == n && !memcmp(in, out, n));
		dlen = n;
		T_OK(wd_decompress(q, comp, clen, out, &dlen, WD_COMP_GZIP));
		T_ASSERT(dlen == n && !memcmp(in, out, n));
	}
	wd_queue_free(q);
	wd_ctx_free(ctx);
	return 0;
}

struct rewriter {
	struct wd_queue *q;
	volatile int stop;
};

/* Scribble over the ring's descriptors while the daemon reads them. */
static void *scribble(void *arg)
{
	struct rewriter *rw = arg;
	uint64_t x = 77;
	struct wd_queue_info qi = { .size = sizeof(qi) };

	wd_queue_info(rw->q, &qi);
	while (!rw->stop) {
		struct wd_req *ring = rw->q->ring.sqes;
		unsigned i = (unsigned)(x % qi.depth);

		x = x * 6364136223846793005ull + 1;
		/* flip reserved/opcode bits: never a valid memory-touching request */
		__atomic_store_n(&ring[i].rsvd, x | 1, __ATOMIC_RELAXED);
	}
	return NULL;
}

static int malicious(uint64_t foreign_iova)
{
	struct wd_ctx *ctx = t_wdd_ctx();
	struct wd_queue *q = t_wdd_queue(ctx, "mover", 0, NULL);
	struct wd_queue *qx = t_wdd_queue(ctx, "mover", WD_QUEUE_F_EXPLICIT, NULL);
	unsigned char *mine = wd_mem_alloc(4096);
	struct rewriter rw = { q, 0 };
	struct wd_req r;
	struct wd_cpl c;
	uint64_t iova;
	pthread_t th;
	int i, st;

	/* another client's IOVA, kernel addresses, garbage: all -EFAULT */
	T_OK(wd_share(wd_queue_domain(qx), mine, 4096, 0, &iova));
	T_EQ(t_dev_copy(qx, iova, foreign_iova, 64), -EFAULT);
	T_EQ(t_dev_copy(qx, iova, 0xffff800000000000ull, 64), -EFAULT);
	T_EQ(t_dev_copy(q, (uintptr_t)mine, 0x1000, 64), -EFAULT);
	/* descriptors rewritten under the daemon's feet */
	pthread_create(&th, NULL, scribble, &rw);
	for (i = 0; i < 20000; i++) {
		wd_prep_nop(&r, 0);
		r.tag = (uint64_t)i;
		if (wd_send(q, &r, 1) != 1)
			break;
		if (wd_wait(q, &c, 1, 5000) != 1)
			break;
		st = c.status;
		T_ASSERT(st == 0 || st == -EINVAL || st == -EOPNOTSUPP || st == -EMSGSIZE ||
			 st == -EFAULT);
	}
	rw.stop = 1;
	pthread_join(th, NULL);
	/* and finally a corrupted ring index kills this queue only */
	__atomic_store_n(&q->ring.ctl->sq_tail, 0xdead0000u, __ATOMIC_SEQ_CST);
	wd_prep_nop(&r, 0);
	wd_send(q, &r, 1);
	for (i = 0; i < 200 && wd_send(q, &r, 1) != -EIO; i++)
		usleep(10000);
	_exit(0); /* and vanish without cleaning up */
}

int main(int argc, char **argv)
{
	struct t_wdd w = { 0 };
	pid_t kids[4];
	int i, status, fails = 0, iova_pipe[2];
	struct wd_ctx *ctx;
	struct wd_queue *qx;
	unsigned char *buf;
	uint64_t iova;

	if (argc < 2)
		return T_SKIP;
	t_wdd_start(&w, argv[1], NULL);
	/* The clients are forked before this process has any thread: a fork
	 * taken while another thread holds an allocator lock (the sanitizers'
	 * included) leaves the child stuck on it.  The malicious one learns
	 * the IOVA it will try through a pipe. */
	T_ASSERT(!pipe(iova_pipe));
	for (i = 0; i < 4; i++) {
		kids[i] = fork();
		T_ASSERT(kids[i] >= 0);
		if (kids[i] == 0) {
			close(iova_pipe[1]);
			if (i == 3 && read(iova_pipe[0], &iova, sizeof(iova)) != sizeof(iova))
				_exit(1);
			_exit(i == 3 ? malicious(iova) : honest(i));
		}
	}
	close(iova_pipe[0]);
	/* a client whose memory the malicious one will try to name */
	ctx = t_wdd_ctx();
	qx = t_wdd_queue(ctx, "mover", WD_QUEUE_F_EXPLICIT, NULL);
	buf = wd_mem_alloc(1 << 16);
	T_OK(wd_share(wd_queue_domain(qx), buf, 1 << 16, 0, &iova));
	T_EQ(write(iova_pipe[1], &iova, sizeof(iova)), (ssize_t)sizeof(iova));
	close(iova_pipe[1]);
	for (i = 0; i < 4; i++) {
		T_EQ(waitpid(kids[i], &status, 0), kids[i]);
		if (!WIFEXITED(status) || WEXITSTATUS(status)) {
			fprintf(stderr, "client %d failed (status %#x)\n", i, status);
			fails++;
		}
	}
	T_EQ(fails, 0);
	/* the daemon is fine, and so is our share */
	T_EQ(t_dev_copy(qx, iova, iova + 4096, 4096), 0);
	wd_queue_free(qx);
	wd_mem_free(buf, 1 << 16);
	wd_ctx_free(ctx);
	t_wdd_cleanup(&w);
	return 0;
}
