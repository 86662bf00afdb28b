/* SPDX-License-Identifier: MIT */
/*
 * The "vfio" driver's control virtqueue, and stopping a device that cannot
 * be trusted any more (used by every path that finds it broken).
 */
#include <errno.h>
#include <unistd.h>

#include "vcrypto.h"

/* ---- stopping a device that cannot be trusted any more ---- */

/*
 * The device is gone, timed out or broke the virtqueue protocol: declare it
 * gone (no queue or session uses it again) and make sure it can write
 * nothing more before any buffer it was given is handed back.  Bus
 * mastering goes off first, always: a status that reads back 0 after the
 * reset is only the device's word that it let go of its buffers, and one
 * we no longer trust may say it and write on.  The device is never used
 * again, so that costs nothing.  The reset follows, as the spec asks, and
 * stands in only when the command register cannot be written.  0 when the
 * device is stopped, -EIO when neither worked (its buffers must then stay
 * held).  Caller holds vd->lock (the BARs go away under it in
 * release_device).
 */
int vc_stop_device(struct vc_dev *vd)
{
	int off, reset;

	__atomic_store_n(&vd->gone, 1, __ATOMIC_RELEASE);
	if (!vd->stopped && !vd->released) {
		off = !vfio_pci_dma_off(&vd->v);
		reset = !vpci_reset(&vd->t);
		vd->stopped = off || reset ? 1 : -1;
	}
	return vd->stopped > 0 || vd->released ? 0 : -EIO;
}

int vc_stop_device_unlocked(struct vc_dev *vd)
{
	int ret;

	pthread_mutex_lock(&vd->lock);
	ret = vc_stop_device(vd);
	pthread_mutex_unlock(&vd->lock);
	return ret;
}

/* ---- the control queue ---- */

/* Run one control request and wait for it; the caller holds vd->lock.  A
 * device that does not answer in time, or answers what was not asked, is
 * stopped before the caller reuses the request buffers: a late answer must
 * not land in the next request. */
int vc_ctl_run(struct vc_dev *vd, const struct virtq_buf *b, unsigned n)
{
	int64_t deadline = vc_mono_ms() + VC_CTL_TIMEOUT_MS;
	uint32_t written;
	int head, id;

	if (__atomic_load_n(&vd->gone, __ATOMIC_ACQUIRE))
		return -EIO;
	head = virtq_add(&vd->ctlq, b, n);
	if (head < 0)
		return head;
	vpci_publish(&vd->t, &vd->ctlq);
	for (;;) {
		id = virtq_get(&vd->ctlq, &written);
		if (id == head)
			return 0;
		if (id != -EAGAIN) { /* a completion we never asked for */
			vc_stop_device(vd);
			return -EIO;
		}
		if (vc_mono_ms() > deadline) {
			vc_stop_device(vd); /* its state is unknown now */
			return -ETIMEDOUT;
		}
		usleep(20);
	}
}

int vc_status_errno(uint32_t st)
{
	switch (st) {
	case VIRTIO_CRYPTO_OK:
		return 0;
	case VIRTIO_CRYPTO_NOTSUPP:
		return -EOPNOTSUPP;
	case VIRTIO_CRYPTO_BADMSG:
	case VIRTIO_CRYPTO_INVSESS:
		return -EINVAL;
	case VIRTIO_CRYPTO_NOSPC:
		return -ENOSPC;
	default:
		return -EIO;
	}
}
