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

static int sysfs_write(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, val, strlen(val));
	close(fd);
	return n < 0 ? -errno : 0;
}

static const char *driver_of(const char *addr, char *buf, size_t len)
{
	char path[128];
	ssize_t n;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver", addr);
	n = readlink(path, buf, len - 1);
	if (n < 0)
		return "none";
	buf[n] = 0;
	return strrchr(buf, '/') ? strrchr(buf, '/') + 1 : buf;
}

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

static void fail_under_load(int by_unbind, uint64_t *seed)
{
	char addr[32], buf[PATH_MAX];
	struct wd_queue_stats st;
	struct t_vfio v;
	struct t_fo t;
	int status, i;
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
	/* then it fails with everything in flight: reset at once, or taken
	 * away while the queue is kept busy (the unbind takes its time) */
	t0 = t_now();
	for (i = 0;; i++) {
		t_fo_round(&t);
		t_fo_send(&t, 0, N);
		if (!i && by_unbind)
			pid = unbind(addr);
		else if (!i)
			vpci_reset(&v.vd->t); /* the device forgets everything it held */
		t_fo_reap(&t, N, by_unbind ? T_FO_EVENT_FD : T_FO_WAIT);
		st = t_fo_stats(&t);
		if (st.device_failures)
			break;
		T_ASSERT(t_now() - t0 < 20);
	}
	fprintf(stderr, "%s under load (round %d): %u of %u completed by the built-in engine "
		"in %.2f s, all right\n", by_unbind ? "unbound" : "reset", i + 1, t.soft, N,
		t_now() - t0);
	T_ASSERT(t.soft > (t_vfio_has(&v, "aes-xts") ? 0 : N / 2)); /* CBC ones among them */
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
		T_ASSERT(strcmp(driver_of(addr, buf, sizeof(buf)), "vfio-pci"));
	}
	t_fo_free(&t); /* shares undone: the container outlives the device */
	t_vfio_close(&v);
	if (by_unbind) { /* give it back to vfio-pci for whatever runs next */
		T_OK(sysfs_write("/sys/bus/pci/drivers_probe", addr));
		T_ASSERT(!strcmp(driver_of(addr, buf, sizeof(buf)), "vfio-pci"));
	}
}

int main(void)
{
	uint64_t seed = t_seed();

	fail_under_load(0, &seed);
	fail_under_load(1, &seed);
	return 0;
}
