/* One device that cannot be set up (here: more reserved IOVA regions than
 * a device may have, through the test hook) is passed over, with the reason
 * under WD_DEBUG, and the context still offers the others: wd_ctx_new()
 * failed as a whole before.  The device is let go properly: the next
 * context gets it. */
#include "t_vfio.h"
#include "mem/domain.h"

int main(void)
{
	struct wd_ctx *ctx = NULL;

	if (!getenv("WD_VFIO_DEVICE")) {
		fprintf(stderr, "skip: no VFIO device (WD_VFIO_DEVICE unset; runs in tests/vm)\n");
		return T_SKIP;
	}
	setenv("WD_DEBUG", "1", 1); /* the reason shows in the log */
	wd__vfio_resv_max = 1;
	T_OK(wd_ctx_new(&ctx, NULL));
	T_ASSERT(wd_dev_by_name(ctx, "vfio0") == NULL);
	T_ASSERT(wd_dev_by_name(ctx, "soft0") != NULL);
	wd_ctx_free(ctx);

	wd__vfio_resv_max = WD_MAX_RESV;
	T_OK(wd_ctx_new(&ctx, NULL));
	T_ASSERT(wd_dev_by_name(ctx, "vfio0") != NULL);
	wd_ctx_free(ctx);
	return 0;
}
