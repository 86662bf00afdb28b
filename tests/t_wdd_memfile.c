/*
 * An SVA queue is opened with the client's own /proc/self/mem, passed with
 * the request: the daemon reaches no memory the client could not, whatever
 * pid the numbers name.  Speaking the protocol by hand: no file, a pipe,
 * another proc file, a read-only mem file, or a file with an explicit queue
 * are all refused with -EINVAL; the real thing works.
 */
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include "t_wdd.h"

static uint64_t seq;

/* One request/reply on the raw socket; returns the reply's status. */
static int raw_xfer(int sock, uint16_t type, const void *req, uint32_t len, int fd)
{
	char cbuf[CMSG_SPACE(sizeof(int))] = { 0 }, rbuf[4096];
	struct wdd_hdr h = { .magic = WDD_MAGIC, .type = type, .len = len, .seq = ++seq };
	struct iovec iov[2] = { { &h, sizeof(h) }, { (void *)req, len } };
	struct msghdr m = { .msg_iov = iov, .msg_iovlen = len ? 2 : 1 };

	if (fd >= 0) {
		h.nfds = 1;
		wdd_put_fds(&m, cbuf, &fd, 1);
	}
	T_ASSERT(sendmsg(sock, &m, 0) > 0);
	iov[1].iov_base = rbuf;
	iov[1].iov_len = sizeof(rbuf);
	memset(&m, 0, sizeof(m));
	m.msg_iov = iov;
	m.msg_iovlen = 2;
	T_ASSERT(recvmsg(sock, &m, MSG_CMSG_CLOEXEC) >= (ssize_t)sizeof(h));
	T_EQ(h.seq, seq);
	return h.status; /* descriptors of a successful open stay open: fine here */
}

static int open_queue(int sock, uint32_t flags, uint32_t domain, int fd)
{
	struct wdd_queue_open_req req = { .depth = 8, .flags = flags, .domain = domain };

	strcpy(req.alg, "mover");
	return raw_xfer(sock, WDD_QUEUE_OPEN, &req, sizeof(req), fd);
}

int main(int argc, char **argv)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	struct wdd_hello_req hello = { .version = WDD_VERSION };
	struct t_wdd w = { 0 };
	int sock, one = 1, p[2], env, ro, mem;

	if (argc < 2)
		return T_SKIP;
	t_wdd_start(&w, argv[1], NULL);
	sock = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	T_ASSERT(sock >= 0);
	setsockopt(sock, SOL_SOCKET, SO_PASSCRED, &one, sizeof(one));
	T_ASSERT(strlen(w.sock) < sizeof(a.sun_path));
	memcpy(a.sun_path, w.sock, strlen(w.sock) + 1);
	T_OK(connect(sock, (struct sockaddr *)&a, sizeof(a)));
	T_OK(raw_xfer(sock, WDD_HELLO, &hello, sizeof(hello), -1));

	T_ASSERT(!pipe(p));
	env = open("/proc/self/environ", O_RDONLY | O_CLOEXEC);
	ro = open("/proc/self/mem", O_RDONLY | O_CLOEXEC);
	mem = open("/proc/self/mem", O_RDWR | O_CLOEXEC);
	T_ASSERT(env >= 0 && ro >= 0 && mem >= 0);
	T_EQ(open_queue(sock, 0, 0, -1), -EINVAL);   /* SVA without our memory file */
	T_EQ(open_queue(sock, 0, 0, p[0]), -EINVAL); /* a pipe: reads could block */
	T_EQ(open_queue(sock, 0, 0, env), -EINVAL);  /* a proc file, not memory */
	T_EQ(open_queue(sock, 0, 0, ro), -EINVAL);   /* memory it could not write */
	T_OK(open_queue(sock, 0, 0, mem));
	{
		struct wdd_domain_rep *dr;
		char buf[64];
		struct wdd_hdr h = { .magic = WDD_MAGIC, .type = WDD_DOMAIN_NEW, .seq = ++seq };
		struct iovec iov[2] = { { &h, sizeof(h) }, { buf, sizeof(buf) } };
		struct msghdr m = { .msg_iov = iov, .msg_iovlen = 1 };

		T_ASSERT(sendmsg(sock, &m, 0) > 0);
		m.msg_iovlen = 2;
		T_ASSERT(recvmsg(sock, &m, 0) > 0);
		T_EQ(h.status, 0);
		dr = (struct wdd_domain_rep *)buf;
		/* an explicit queue takes no memory file */
		T_EQ(open_queue(sock, WD_QUEUE_F_EXPLICIT, dr->domain, mem), -EINVAL);
		T_OK(open_queue(sock, WD_QUEUE_F_EXPLICIT, dr->domain, -1));
	}
	close(sock);
	close(p[0]);
	close(p[1]);
	close(env);
	close(ro);
	close(mem);
	t_wdd_cleanup(&w);
	return 0;
}
