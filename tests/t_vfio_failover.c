/* In the guest: the VFIO device fails under a busy queue, reset behind the
 * driver's back (a crashed or unplugged function), then - a new context -
 * unbound from vfio-pci by the administrator; every one-shot request
 * completes anyway, right (AES-CBC with kept keys, checked against
 * OpenSSL), on the built-in engine for those the device did not finish,
 * and the queue goes on there.  A mode the device lacks (XTS on QEMU's
 * builtin backend) lives on the built-in engine from the start.  The count
 * of the built-in engine's completions is what wd_queue_stats() says.  The
 * test binds the device to vfio-pci again at the end. */
#include <fcntl.h>
#include <limits.h>
#include <sys/wait.h>
#include "t_failover.h"
#include "t_vfio.h"

enum { N = 48, LEN = 16 * 1024 };

/* The administrator unbinds the device: blocks until the driver lets go.
 * A program of its own (exec): a bare fork child would hold our device fd. */
static pid_t unbind(const char *addr)
{
	pid_t pid = fork();
	char cmd[256];

	T_ASSERT(pid >= 0);
	if (pid)
		return pid;
	snprintf(cmd, sizeof(cmd), "echo %s > /sys/bus/pci/devices/%s/driver/unbind", addr, addr);
	execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
	_exit(127);
}

/* Reap, and send each request again once checked, until the device has
 * failed; then reap what is left.  The AES-CBC completions the built-in
 * engine made: each was sent while the device lived (its sessions are
 * the device's), so it was in flight when the device went (how many is up
 * to timing: in TCG the checks here may be slower than the device).
 * *inflight: requests in flight when the failure was noticed. */
static unsigned keep_full(struct t_fo *t, double t0, int *inflight)
{
	struct wd_queue_stats st = { .size = sizeof(st) };
	unsigned cbc_soft = 0;
	struct wd_cpl c[16];
	int n, i, failed = 0;

	while (!failed || wd_inflight(t->q)) {
		T_ASSERT(t_now() - t0 < 30);
		n = wd_wait(t->q, c, 16, 1000);
		if (n == -ETIMEDOUT)
			continue;
		T_ASSERT(n > 0);
		for (i = 0; i < n; i++) {
			unsigned k = (unsigned)c[i].tag;

			t_fo_check(t, &c[i]);
			cbc_soft += k % 2 == 0 && (c[i].flags & WD_CPL_F_SOFT);
			T_OK(wd_queue_stats(t->q, &st));
			if (!failed && st.device_failures)
				*inflight = wd_inflight(t->q); /* when it was noticed */
			failed = st.device_failures > 0;
			if (failed)
				continue;
			t->seen[k] = 0; /* again, while the device lives */
			t->got--;
			t->soft -= !!(c[i].flags & WD_CPL_F_SOFT);
			t->soft_total += !!(c[i].flags & WD_CPL_F_SOFT);
			t_fo_send(t, k, k + 1);
		}
	}
	return cbc_soft;
}

static void fail_under_load(int by_unbind, uint64_t *seed)
{
	char addr[32], buf[PATH_MAX];
	struct wd_queue_stats st;
	struct t_vfio v;
	struct t_fo t;
	int status, i;
	unsigned cbc_soft;
	int inflight = 0;
	pid_t pid = 0;
	double t0;

	if (t_vfio_open(&v))
		exit(T_SKIP);
	if (by_unbind && !v.vd->monitor_on) {
		fprintf(stderr, "skip: the kernel offers no device request interrupt\n");
		exit(T_SKIP);
	}
	snprintf(addr, sizeof(addr), "%s", v.vd->v.addr);
	t_fo_init(&t, t_vfio_queue_flags(&v, 64, WD_QUEUE_F_FALLBACK_KEEP_KEYS), T_FO_CIPHER,
		  v.dom, N, LEN, seed);
	t_fo_sessions(&t, WD_CIPHER_AES_CBC, WD_CIPHER_AES_XTS, seed);
	/* a sound device first */
	t_fo_send(&t, 0, N);
	t_fo_reap(&t, N, T_FO_WAIT);
	T_EQ(t.soft, t_vfio_has(&v, "aes-xts") ? 0 : N / 2);
	/* then it fails while the queue is kept full: reset at once, or taken
	 * away by the administrator (which takes its time) */
	t_fo_round(&t);
	t_fo_send(&t, 0, N);
	t0 = t_now();
	if (by_unbind)
		pid = unbind(addr);
	else
		vpci_reset(&v.vd->t); /* the device forgets everything it held */
	cbc_soft = keep_full(&t, t0, &inflight);
	fprintf(stderr, "%s with %d in flight: %u of the last %u completed by the built-in "
		"engine in %.2f s (%u AES-CBC the device had), all right\n",
		by_unbind ? "unbound" : "reset", inflight, t.soft, N, t_now() - t0, cbc_soft);
	T_ASSERT(inflight > 0);
	/* reset right after they were sent: the device had AES-CBC requests,
	 * which were run again */
	if (!by_unbind)
		T_ASSERT(cbc_soft > 0);
	/* and it goes on, without the device */
	t_fo_round(&t);
	t_fo_send(&t, 0, N);
	t_fo_reap(&t, N, T_FO_POLL);
	T_EQ(t.soft, N);
	st = t_fo_stats(&t);
	T_EQ(st.device_failures, 1);
	T_EQ(st.lost_in_failure, 0);
	if (by_unbind) {
		for (i = 0; i < 200 && waitpid(pid, &status, WNOHANG) == 0; i++)
			usleep(50 * 1000);
		T_ASSERT(i < 200); /* the unbind went through, in bounded time */
		T_ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0);
		T_ASSERT(strcmp(t_vfio_driver_of(addr, buf, sizeof(buf)), "vfio-pci"));
	}
	t_fo_free(&t); /* shares undone: the container outlives the device */
	t_vfio_close(&v);
	if (by_unbind) { /* give it back to vfio-pci for whatever runs next */
		T_OK(t_vfio_sysfs_write("/sys/bus/pci/drivers_probe", addr));
		T_ASSERT(!strcmp(t_vfio_driver_of(addr, buf, sizeof(buf)), "vfio-pci"));
	}
}

int main(void)
{
	uint64_t seed = t_seed();

	fail_under_load(0, &seed);
	fail_under_load(1, &seed);
	return 0;
}
