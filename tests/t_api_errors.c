/* API misuse gets clear negative errno values; error texts exist. */
#include "t_helpers.h"

int main(void)
{
	struct wd_ctx *ctx = NULL;
	struct wd_ctx_opts bad = { .size = sizeof(bad), .flags = 0x80 };
	struct wd_queue_opts qo = { .size = sizeof(qo) };
	struct wd_dev_info info = { .size = sizeof(info) };
	struct wd_queue_info qi = { .size = sizeof(qi) };
	struct wd_queue *q = NULL;
	struct wd_req r;
	struct wd_cpl c;
	struct wd_dev *dev;
	int i;

	T_ASSERT(!strcmp(wd_version(), WD_VERSION_STRING));
	T_EQ(wd_ctx_new(NULL, NULL), -EINVAL);
	T_EQ(wd_ctx_new(&ctx, &bad), -EINVAL);
	T_ASSERT(ctx == NULL);
	T_OK(wd_ctx_new(&ctx, NULL));

	T_ASSERT(wd_dev_count(ctx) >= 1);
	dev = wd_dev_by_name(ctx, "soft0");
	T_ASSERT(dev);
	T_ASSERT(wd_dev_find(ctx, "crc32c") == dev);
	T_ASSERT(wd_dev_find(ctx, "no-such-alg") == NULL);
	T_ASSERT(wd_dev_get(ctx, 1000) == NULL);
	T_OK(wd_dev_info(dev, &info));
	T_ASSERT(!strcmp(info.name, "soft0"));
	T_ASSERT(info.flags & WD_DEV_F_SVA);
	T_EQ(info.avail_queues, info.max_queues);
	for (i = 0; wd_dev_alg(dev, (unsigned)i); i++)
		T_EQ(wd_dev_has_alg(dev, wd_dev_alg(dev, (unsigned)i)), 1);
	T_EQ((unsigned)i, info.n_algs);
	info.size = 4;
	T_EQ(wd_dev_info(dev, &info), -EINVAL);

	T_EQ(wd_queue_new(&q, ctx, "no-such-alg", NULL), -EOPNOTSUPP);
	qo.device = "nodev";
	T_EQ(wd_queue_new(&q, ctx, "copy", &qo), -ENODEV);
	qo.device = NULL;
	qo.depth = 1u << 20;
	T_EQ(wd_queue_new(&q, ctx, "copy", &qo), -EINVAL);
	qo.depth = 5; /* rounded up to 8 */
	T_OK(wd_queue_new(&q, ctx, "copy", &qo));
	T_OK(wd_queue_info(q, &qi));
	T_EQ(qi.depth, 8);
	T_ASSERT(!strcmp(qi.alg, "copy") && !strcmp(qi.device, "soft0"));
	info.size = sizeof(info);
	T_OK(wd_dev_info(dev, &info));
	T_EQ(info.avail_queues, info.max_queues - 1);

	wd_prep_nop(&r, 0);
	T_EQ(wd_send(q, &r, 0), -EINVAL);
	T_EQ(wd_send(q, NULL, 1), -EINVAL);
	T_EQ(wd_recv(q, NULL, 1), -EINVAL);
	T_EQ(wd_wait(q, &c, 0, 0), -EINVAL);
	T_EQ(wd_poll(q, 1, 0, NULL, NULL), -EINVAL);

	T_ASSERT(strstr(wd_strerror(-ECHILD), "fork"));
	T_ASSERT(strstr(wd_strerror(-ENOSPC), "No space left")); /* still right for a disk */
	T_ASSERT(strlen(wd_strerror(-ENOMEM)) > 0);
	T_ASSERT(strlen(wd_strerror(-123456)) > 0);
	T_ASSERT(strlen(wd_strerror(0)) > 0);
	wd_queue_free(q);
	wd_queue_free(NULL);
	wd_ctx_free(ctx);
	wd_ctx_free(NULL);
	return 0;
}
