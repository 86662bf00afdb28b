/* SPDX-License-Identifier: MIT */
/*
 * A passing shortage does not cost the layer for the process's life.  The
 * first call of the process meets no free descriptor (RLIMIT_NOFILE at
 * what is open): the layer cannot make its context, the work goes to zlib,
 * right, and counted with the reason (nodev).  Once descriptors are back,
 * the layer tries again - not on every call, at most once a second - and
 * the work goes through WarpDrive.  It used to stay on zlib for good.
 *
 * usage: t_zlib_retry layer|stock
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>
#include "zl.h"

#define LEN 100000

static unsigned char in[LEN], comp[LEN + LEN / 10 + 64], back[LEN];

/* The lowest free descriptor number: a limit at it leaves none to open. */
static int lowest_free_fd(void)
{
	int fd = dup(0);

	if (fd >= 0)
		close(fd);
	return fd;
}

/* One compress2() through the process's zlib, checked by stock zlib. */
static void compress_checked(const char *what)
{
	uLongf clen = sizeof(comp), dlen = sizeof(back);
	int ret = zl_plain.compress2(comp, &clen, in, LEN, 6);

	if (!ZL_CHECK(what, ret == Z_OK, "compress2: %d", ret))
		return;
	ret = zl_ref.uncompress(back, &dlen, comp, clen);
	ZL_CHECK(what, ret == Z_OK && dlen == LEN && !memcmp(back, in, LEN),
		 "stock uncompress of it: %d, %lu bytes", ret, (unsigned long)dlen);
}

int main(int argc, char **argv)
{
	int layer = zl_mode(argc > 1 ? argv[1] : NULL);
	struct rlimit rl, low;
	struct zl_stats st0, st1, st2;
	size_t i;

	for (i = 0; i < LEN; i++)
		in[i] = (unsigned char)("retry the context "[i % 18] + (i / 4096) % 3);
	zl_stats_get(&st0);
	/* nothing more may be opened: the layer's first use meets that */
	if (getrlimit(RLIMIT_NOFILE, &rl))
		return 1;
	low = rl;
	low.rlim_cur = (rlim_t)lowest_free_fd();
	if (setrlimit(RLIMIT_NOFILE, &low))
		return 1;
	compress_checked("no descriptors");
	if (setrlimit(RLIMIT_NOFILE, &rl))
		return 1;
	zl_stats_get(&st1);
	if (layer) {
		ZL_CHECK("no descriptors", st1.deflate_zlib == st0.deflate_zlib + 1 &&
			 st1.deflate_wd == st0.deflate_wd && strstr(st1.line, "nodev=1"),
			 "went to zlib, counted nodev: %s", st1.line);
	}
	/* past the retry interval, the layer makes its context */
	usleep(1100000);
	compress_checked("descriptors back");
	zl_stats_get(&st2);
	if (layer)
		ZL_CHECK("descriptors back", st2.deflate_wd == st1.deflate_wd + 1,
			 "went through WarpDrive: %s", st2.line);
	return zl_finish("t_zlib_retry", layer, layer, 0);
}
