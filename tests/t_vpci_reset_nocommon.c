/* After a failed vpci_init() the driver resets the device on its way out:
 * the reset must not write through a common-configuration location that
 * was never found (all zeros: BAR 0, offset 20, some other register).  A
 * fake function on the host: config space in a memfd, BAR 0 in memory.
 * Once the location is known, the reset does write. */
#define _GNU_SOURCE
#include <sys/mman.h>
#include <unistd.h>
#include <linux/virtio_pci.h>
#include "t_helpers.h"
#include "dev/vfio/virtio.h"

#define BAR_LEN 4096

static int fake_config(const uint8_t *cfg, size_t len)
{
	int fd = memfd_create("t-vpci-cfg", MFD_CLOEXEC);

	T_ASSERT(fd >= 0);
	T_EQ(pwrite(fd, cfg, len, 0), (long)len);
	return fd;
}

static void fake_pci(struct vfio_pci *v, int cfg_fd, uint8_t *bar0)
{
	memset(v, 0, sizeof(*v));
	v->container = v->group = -1;
	v->device = cfg_fd;
	v->cfg_offset = 0;
	v->cfg_size = 256;
	v->bars[0].size = BAR_LEN;
	v->bars[0].map = bar0;
}

static int untouched(const uint8_t *bar0)
{
	for (int i = 0; i < BAR_LEN; i++)
		if (bar0[i] != 0xa5)
			return 0;
	return 1;
}

int main(void)
{
	uint8_t cfg[256] = { 0 }, *bar0 = malloc(BAR_LEN);
	struct virtio_pci_cap cap = { .cap_vndr = 0x09, .cap_len = sizeof(cap),
				      .cfg_type = VIRTIO_PCI_CAP_COMMON_CFG, .bar = 0,
				      .offset = 0x100, .length = 0x100 };
	struct vfio_pci v;
	struct vpci t;
	int fd;

	T_ASSERT(bar0);
	/* no capability list at all: nothing found, nothing may be written */
	memset(bar0, 0xa5, BAR_LEN);
	fd = fake_config(cfg, sizeof(cfg));
	fake_pci(&v, fd, bar0);
	T_EQ(vpci_init(&t, &v), -ENODEV);
	T_EQ(vpci_reset(&t), -ENODEV);
	T_ASSERT(untouched(bar0));
	T_EQ(vpci_status(&t), 0xff); /* no status to read: as if gone */
	close(fd);

	/* the common configuration found, the rest missing: the reset of the
	 * failure path writes 0 to device_status where the device has it */
	cfg[6] = 0x10;          /* status: capability list */
	cfg[0x34] = 0x40;
	memcpy(cfg + 0x40, &cap, sizeof(cap));
	memset(bar0, 0xa5, BAR_LEN);
	fd = fake_config(cfg, sizeof(cfg));
	fake_pci(&v, fd, bar0);
	T_EQ(vpci_init(&t, &v), -ENODEV);
	T_ASSERT(t.common.found);
	vpci_reset(&t);
	T_EQ(bar0[0x100 + offsetof(struct virtio_pci_common_cfg, device_status)], 0);
	bar0[0x100 + offsetof(struct virtio_pci_common_cfg, device_status)] = 0xa5;
	T_ASSERT(untouched(bar0));
	close(fd);
	free(bar0);
	return 0;
}
