/* Releasing the device (the kernel asked for it back) must never leave a
 * hole where a BAR was: a queue thread late getting off the device may
 * still hold the BAR pointer.  After vfio_pci_release_device() the old
 * BAR addresses read and write harmlessly (they SIGSEGVed when the BARs
 * were unmapped), BAR and config reads through the fd come back all ones,
 * and yet the kernel has the device back: no mapping and no fd of this
 * process refers to it, and it opens again. */
#define _GNU_SOURCE
#include <dirent.h>
#include <setjmp.h>
#include <signal.h>
#include "t_vfio.h"

static sigjmp_buf fault_jmp;

static void on_fault(int sig)
{
	(void)sig;
	siglongjmp(fault_jmp, 1);
}

/* Does any mapping or open fd of this process refer to a VFIO device? */
static int holds_device(void)
{
	char line[512], path[300], link[256];
	FILE *f = fopen("/proc/self/maps", "r");
	struct dirent *de;
	DIR *dir;
	int found = 0;
	ssize_t n;

	while (f && fgets(line, sizeof(line), f))
		found |= strstr(line, "vfio-device") != NULL;
	if (f)
		fclose(f);
	dir = opendir("/proc/self/fd");
	while (dir && (de = readdir(dir))) {
		snprintf(path, sizeof(path), "/proc/self/fd/%s", de->d_name);
		n = readlink(path, link, sizeof(link) - 1);
		if (n > 0) {
			link[n] = 0;
			found |= strstr(link, "vfio-device") != NULL;
		}
	}
	if (dir)
		closedir(dir);
	return found;
}

int main(void)
{
	const char *addr = getenv("WD_VFIO_DEVICE");
	struct sigaction sa = { .sa_handler = on_fault };
	volatile uint32_t *bar = NULL;
	struct vfio_pci v;
	unsigned i, mapped = VFIO_MAX_BARS;
	uint16_t cmd;

	if (!addr) {
		fprintf(stderr, "skip: no VFIO device (WD_VFIO_DEVICE unset; runs in tests/vm)\n");
		return T_SKIP;
	}
	T_OK(vfio_pci_open(&v, addr));
	for (i = 0; i < VFIO_MAX_BARS && mapped == VFIO_MAX_BARS; i++)
		if (v.bars[i].map)
			mapped = i;
	T_ASSERT(mapped < VFIO_MAX_BARS);
	bar = v.bars[mapped].map; /* what a queue thread holds */
	T_ASSERT(holds_device());

	vfio_pci_release_device(&v);
	T_ASSERT(!holds_device());
	sigaction(SIGSEGV, &sa, NULL);
	sigaction(SIGBUS, &sa, NULL);
	if (sigsetjmp(fault_jmp, 1))
		T_FAIL("the released BAR at %p is a hole: a late thread would crash", (void *)bar);
	(void)bar[0];
	bar[1] = 0x12345678;
	signal(SIGSEGV, SIG_DFL);
	signal(SIGBUS, SIG_DFL);
	/* through the fd: reads as a vanished device does, writes go nowhere */
	for (i = 0; i < VFIO_MAX_BARS; i++)
		if (v.bars[i].size && !v.bars[i].map)
			T_EQ(vfio_bar_read32(&v, i, 0), 0xffffffffu);
	T_EQ(vfio_cfg_read(&v, 4, &cmd, 2), -EIO);
	vfio_pci_close(&v);

	T_OK(vfio_pci_open(&v, addr)); /* the kernel had it back */
	vfio_pci_close(&v);
	return 0;
}
