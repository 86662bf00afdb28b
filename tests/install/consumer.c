/* Built against the installed library only, as C and as C++. */
#include <stdio.h>
#include <string.h>
#include <wd/mover.h>
#include <wd/wd.h>

int main(void)
{
	struct wd_ctx *ctx = NULL;
	struct wd_queue *q = NULL;
	struct wd_req r;
	struct wd_cpl c;
	int ret;

	if (strcmp(wd_version(), WD_VERSION_STRING)) {
		fprintf(stderr, "header %s vs library %s\n", WD_VERSION_STRING, wd_version());
		return 1;
	}
	ret = wd_ctx_new(&ctx, NULL);
	if (!ret)
		ret = wd_queue_new(&q, ctx, "crc32c", NULL);
	if (ret) {
		fprintf(stderr, "setup: %s\n", wd_strerror(ret));
		return 1;
	}
	wd_prep_crc32c(&r, "123456789", 9, 0);
	r.tag = 1;
	if (wd_send(q, &r, 1) != 1 || wd_wait(q, &c, 1, 5000) != 1 || c.result != 0xE3069283u) {
		fprintf(stderr, "crc32c through the installed library failed\n");
		return 1;
	}
	wd_queue_free(q);
	wd_ctx_free(ctx);
	puts("consumer ok");
	return 0;
}
