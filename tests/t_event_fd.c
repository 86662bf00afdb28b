/* One thread waits on two queues at once with poll() on their event fds,
 * using the arm protocol; every completion arrives, none is slept through. */
#include <poll.h>
#include <sys/eventfd.h>
#include "t_helpers.h"

int main(void)
{
	uint64_t seed = t_seed();
	struct wd_ctx *ctx = t_ctx(2, 1); /* engines sleep at once: worst case */
	struct wd_queue *q[2] = { t_queue(ctx, "nop", 16), t_queue(ctx, "nop", 16) };
	unsigned got = 0, sent = 0, total = 400, i;
	struct wd_req r;
	struct wd_cpl c[16];

	T_ASSERT(wd_queue_event_fd(q[0]) >= 0 && wd_queue_event_fd(q[0]) != wd_queue_event_fd(q[1]));
	while (got < total) {
		struct pollfd pfd[2];
		int ready = 0, n;

		while (sent < total && wd_inflight(q[sent % 2]) < 8) {
			wd_prep_nop(&r, t_rand(&seed) % 3 ? 0 : 200000);
			r.tag = sent;
			T_EQ(wd_send(q[sent % 2], &r, 1), 1);
			sent++;
		}
		for (i = 0; i < 2; i++) {
			n = wd_queue_arm(q[i]);
			T_ASSERT(n >= 0);
			ready += n;
			pfd[i].fd = wd_queue_event_fd(q[i]);
			pfd[i].events = POLLIN;
		}
		if (!ready)
			T_ASSERT(poll(pfd, 2, 5000) > 0); /* a lost wake-up would time out */
		for (i = 0; i < 2; i++) {
			eventfd_t v;

			if (pfd[i].revents & POLLIN)
				eventfd_read(pfd[i].fd, &v);
			while ((n = wd_recv(q[i], c, 16)) > 0)
				got += (unsigned)n;
			T_ASSERT(n == 0);
		}
	}
	T_EQ(got, total);
	wd_queue_free(q[0]);
	wd_queue_free(q[1]);
	wd_ctx_free(ctx);
	return 0;
}
