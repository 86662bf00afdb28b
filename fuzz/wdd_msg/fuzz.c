/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: the daemon's message handling.  An input is a client's
 * whole conversation: a sequence of control messages of any type, length
 * and content, each with a chosen set of descriptors (sealed and unsealed
 * memfds, memory files, pipes, regular files...).  They go to the same
 * handlers the daemon's control loop calls; then the client disconnects.
 * Whatever it says: no crash, no out-of-bounds access, no leak (ASan, LSan),
 * no descriptor left open, and nothing left held by the daemon.
 *
 * One op: [type u8][fds u8][len u16 le][len payload bytes]
 *   fds: bits 0-2 the kind of the first descriptor (0: none), bits 3-5 the
 *   second, bit 6: the header claims one descriptor more than it carries.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "daemon/srv.h"

static struct srv S;
static struct srv_reply rep;

static void setup(void)
{
	struct wdd_config cfg = {
		.listen_fd = -1, .threads = 1, .max_clients = 8, .max_queues = 4,
		.max_pinned = 16u << 20, .user_clients = 8, .user_queues = 8,
		.user_pinned = 32u << 20, .max_shares = 16, .user_shares = 32,
		.user_state = 4u << 20, .nop_delay_max_ns = 1000000, .max_request = 1u << 20,
	};

	if (srv_init(&S, &cfg))
		abort();
}

static int memfd(uint64_t size, unsigned seals)
{
	int fd = memfd_create("fuzz", MFD_CLOEXEC | MFD_ALLOW_SEALING);

	if (fd < 0 || ftruncate(fd, (off_t)size) || (seals && fcntl(fd, F_ADD_SEALS, seals)))
		abort();
	return fd;
}

static int make_fd(unsigned kind)
{
	char path[] = "/tmp/wdd-fuzz-XXXXXX";
	int fd, p[2];

	switch (kind) {
	case 1:
		return memfd(1 << 16, F_SEAL_SHRINK | F_SEAL_GROW);
	case 2:
		return memfd(1 << 16, 0);
	case 3:
		return open("/proc/self/mem", O_RDWR | O_CLOEXEC);
	case 4:
		if (pipe2(p, O_CLOEXEC))
			abort();
		close(p[1]);
		return p[0];
	case 5:
		fd = mkostemp(path, O_CLOEXEC);
		if (fd < 0 || ftruncate(fd, 1 << 16))
			abort();
		unlink(path);
		return fd;
	case 6:
		return memfd(0, F_SEAL_SHRINK);
	default:
		return open("/proc/self/mem", O_RDONLY | O_CLOEXEC);
	}
}

static void one_message(struct srv_client *c, uint8_t type, uint8_t fsel, uint8_t *payload,
			size_t len)
{
	struct wdd_hdr h = { .magic = WDD_MAGIC, .type = type, .len = (uint32_t)len, .seq = 1 };
	int fds[2], nfds = 0, ret, i;

	if (fsel & 7)
		fds[nfds++] = make_fd(fsel & 7);
	if ((fsel >> 3) & 7)
		fds[nfds++] = make_fd((fsel >> 3) & 7);
	for (i = 0; i < nfds; i++)
		if (fds[i] < 0)
			abort();
	h.nfds = (uint16_t)(nfds + ((fsel >> 6) & 1));
	memset(&rep, 0, sizeof(rep));
	ret = srv_handle(&S, c, &h, payload, len, fds, nfds, &rep);
	if (ret == 1) {
		int status;

		/* nothing runs on the rings here: a deferred answer is due as
		 * soon as the engine thread looks (a QUEUE_CLOSE), and the
		 * daemon reads nothing more from the client meanwhile */
		while (!srv_pending_poll(&S, c, &status, &rep))
			usleep(100);
		ret = status;
	}
	if (ret == 0)
		for (i = 0; i < rep.nfds; i++)
			close(rep.fds[i]);
	for (i = 0; i < nfds; i++)
		close(fds[i]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t payload[512];
	struct srv_client *c;
	int sv[2];

	if (!S.ctx)
		setup();
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv))
		abort();
	close(sv[1]);
	c = srv_client_new(&S, sv[0], 1000, getpid());
	if (!c)
		abort();
	while (size >= 4) {
		size_t len = (data[2] | (size_t)data[3] << 8) % (sizeof(payload) + 1);
		size_t have = size - 4 < len ? size - 4 : len;

		memset(payload, 0, sizeof(payload));
		memcpy(payload, data + 4, have);
		one_message(c, data[0], data[1], payload, len);
		data += 4 + have;
		size -= 4 + have;
	}
	srv_client_free(&S, c);
	for (srv_dying_poll(&S); S.dying; srv_dying_poll(&S))
		usleep(100); /* its queues, once the engine thread let go */
	/* everything the client held went with it */
	if (S.nclients || S.nqueues || S.nshares || S.npending || S.users)
		abort();
	return 0;
}
