/* Every data-mover operation gives the right result through a queue. */
#include <isa-l/crc.h>
#include "t_helpers.h"

static uint32_t crc(struct wd_queue *q, const void *p, uint32_t len, uint32_t seed)
{
	struct wd_req r;
	struct wd_cpl c;

	wd_prep_crc32c(&r, p, len, seed);
	r.tag = 7;
	c = t_run(q, &r);
	T_EQ(c.status, 0);
	return (uint32_t)c.result;
}

int main(void)
{
	uint64_t seed = t_seed();
	struct wd_ctx *ctx = t_ctx(2, 0);
	struct wd_queue *q = t_queue(ctx, "mover", 0);
	static unsigned char a[1 << 20], b[1 << 20];
	struct wd_req r;
	struct wd_cpl c;
	uint32_t lens[] = { 0, 1, 7, 8, 9, 63, 4096, 4097, sizeof(a) };
	unsigned i, j;

	/* CRC32C known answer (RFC 3720 check value) and chaining. */
	T_EQ(crc(q, "123456789", 9, 0), 0xE3069283u);
	T_EQ(crc(q, "56789", 5, crc(q, "1234", 4, 0)), 0xE3069283u);
	T_EQ(crc(q, "", 0, 0), 0);

	for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		uint32_t len = lens[i];

		t_fill_random(a, len, &seed);
		memset(b, 0xAA, sizeof(b));
		wd_prep_copy(&r, b, a, len);
		r.tag = 100 + i;
		c = t_run(q, &r);
		T_EQ(c.status, 0);
		T_EQ(c.result, len);
		T_ASSERT(!memcmp(a, b, len));
		if (len < sizeof(b))
			T_EQ(b[len], 0xAA);

		wd_prep_compare(&r, a, b, len);
		c = t_run(q, &r);
		T_EQ(c.status, 0);
		T_EQ(c.result, 0);
		T_EQ(c.aux, len);
		if (len) {
			uint32_t off = (uint32_t)(t_rand(&seed) % len);

			b[off] ^= 1;
			c = t_run(q, &r);
			T_EQ(c.result, 1);
			T_EQ(c.aux, off);
		}

		wd_prep_fill(&r, b, 0x0123456789abcdefull, len);
		c = t_run(q, &r);
		T_EQ(c.status, 0);
		for (j = 0; j < len; j++)
			T_EQ(b[j], (0x0123456789abcdefull >> (8 * (j % 8))) & 0xff);

		T_EQ(crc(q, a, len, 0), ~crc32_iscsi(a, (int)len, ~0u));
	}

	/* Overlapping copy behaves like memmove. */
	for (j = 0; j < 100; j++)
		a[j] = (unsigned char)j;
	wd_prep_copy(&r, a + 10, a, 50);
	c = t_run(q, &r);
	T_EQ(c.status, 0);
	for (j = 0; j < 50; j++)
		T_EQ(a[10 + j], j);

	/* A no-op with device time. */
	wd_prep_nop(&r, 1000);
	T_EQ(t_run(q, &r).status, 0);

	wd_queue_free(q);
	wd_ctx_free(ctx);
	return 0;
}
