/* The device is unbound from vfio-pci while a queue is busy: the kernel
 * asks for it back, the driver fails the queue (every request answered,
 * none lost), lets the device go so the unbind completes, and shares can
 * still be undone.  The test binds the device to vfio-pci again at the end. */
#include <fcntl.h>
#include <limits.h>
#include <sys/wait.h>
#include "t_vfio.h"

int main(void)
{
	static const uint8_t key[16] = { 2 };
	enum { N = 48, LEN = 64 * 1024 };
	struct wd_queue_opts o = { .size = sizeof(o), .device = "vfio0",
				   .flags = WD_QUEUE_F_EXPLICIT };
	char addr[32], buf[PATH_MAX];
	struct wd_cipher_sess *s;
	struct wd_queue *q, *q2 = NULL;
	struct wd_req r[N];
	struct t_vfio t;
	uint64_t src, dst;
	struct wd_cpl r_cpl[N];
	int i, ok = 0, eio = 0, cancelled = 0, sent = N, dead = 0, status, ret = t_vfio_open(&t);
	double t0;
	pid_t pid;

	if (ret)
		return ret;
	snprintf(addr, sizeof(addr), "%s", t.vd->v.addr);
	if (!t.vd->monitor_on) {
		fprintf(stderr, "skip: the kernel offers no device request interrupt\n");
		return T_SKIP;
	}
	q = t_vfio_queue(&t, 64);
	t_vfio_buf(&t, LEN, &src);
	t_vfio_buf(&t, (size_t)LEN * N, &dst);
	T_OK(wd_cipher_sess_new(&s, q, WD_CIPHER_AES_CBC, key, 16));
	t_vfio_flood(q, s, src, dst, r, N, LEN);
	t0 = t_now();
	pid = fork();
	T_ASSERT(pid >= 0);
	if (pid == 0) { /* the administrator: blocks until the device is let go */
		char cmd[256];

		/* a program of its own (exec): a bare fork child would hold our
		 * device fd, and the kernel would wait for it too */
		snprintf(cmd, sizeof(cmd), "echo %s > /sys/bus/pci/devices/%s/driver/unbind", addr,
			 addr);
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	/* keep the queue full until the device is taken away */
	while (t_now() - t0 < 20 && !dead) {
		struct wd_cpl c[64];
		int k = N - (int)wd_inflight(q);

		if (k > 0 && (k = wd_send(q, r, k)) < 0)
			break; /* the ring is dead */
		sent += k > 0 ? k : 0;
		k = wd_wait(q, c, 64, 100);
		if (k == -EIO)
			break;
		if (k == -ETIMEDOUT || k == -EINTR)
			continue; /* the device is slow to answer while it goes (TSan, TCG) */
		T_ASSERT(k >= 0);
		for (i = 0; i < k; i++) {
			T_ASSERT(c[i].status == 0 || c[i].status == -EIO);
			ok += !c[i].status;
			eio += c[i].status == -EIO;
			dead |= c[i].status == -EIO;
		}
	}
	T_ASSERT(t_now() - t0 < 20);
	T_OK(wd_queue_stop(q));
	while ((i = wd_recv(q, r_cpl, N)) > 0)
		for (int j = 0; j < i; j++) {
			T_ASSERT(r_cpl[j].status == -ECANCELED || r_cpl[j].status == -EIO);
			cancelled += r_cpl[j].status == -ECANCELED;
			eio += r_cpl[j].status == -EIO;
		}
	T_EQ(ok + eio + cancelled, sent); /* none lost */
	T_ASSERT(eio + cancelled > 0);     /* it was taken away mid-work */
	/* the unbind went through, in bounded time */
	for (i = 0; i < 200 && waitpid(pid, &status, WNOHANG) == 0; i++)
		usleep(50 * 1000);
	T_ASSERT(i < 200);
	T_ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	fprintf(stderr, "unbound under load in %.2f s (%d done, %d -EIO, %d cancelled); %s now has "
		"driver '%s'\n", t_now() - t0, ok, eio, cancelled, addr,
		t_vfio_driver_of(addr, buf, sizeof(buf)));
	T_ASSERT(strcmp(t_vfio_driver_of(addr, buf, sizeof(buf)), "vfio-pci"));
	wd_cipher_sess_free(s);
	wd_queue_free(q);
	o.domain = t.dom;
	T_EQ(wd_queue_new(&q2, t.ctx, "cipher", &o), -EIO);
	/* the container outlives the device: shares are undone cleanly */
	T_OK(wd_unshare(t.dom, src, 0, 1000));
	T_OK(wd_unshare(t.dom, dst, 0, 1000));
	t_vfio_close(&t);
	/* give it back to vfio-pci for whatever runs next */
	T_OK(t_vfio_sysfs_write("/sys/bus/pci/drivers_probe", addr));
	T_ASSERT(!strcmp(t_vfio_driver_of(addr, buf, sizeof(buf)), "vfio-pci"));
	return 0;
}
