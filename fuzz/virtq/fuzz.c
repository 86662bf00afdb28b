/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: the used-ring handling of split virtqueues (virtq.c) against
 * a device the input scripts.  Every decision of tests/virtq_rig.h - what the
 * driver submits and publishes, what the device reads, which heads it
 * answers with which lengths, and its hostile acts (ids out of range, free,
 * unpublished or answered twice, lengths past the writable buffers, used
 * index jumps, scribbles on descriptors and the available ring) - is taken
 * from the input bytes.  The rig checks each virtq_get against its model,
 * each chain the device reads against what was submitted, and at the end
 * that every request was answered exactly once; ASan sees any access past
 * the rings.
 */
#include "virtq_rig.h"

static const uint8_t *in;
static size_t left;

/* The next one, two or four input bytes (as n needs), below n; 0 at the end. */
static uint32_t rnd(uint32_t n)
{
	unsigned k = n > 65536 ? 4 : n > 256 ? 2 : 1;
	uint32_t x = 0;

	while (k-- && left) {
		x = x << 8 | *in++;
		left--;
	}
	return n ? x % n : 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct rig r;
	uint32_t x;

	in = data;
	left = size;
	memset(&r, 0, sizeof(r));
	rig_init(&r, (uint16_t)(1u << rnd(9)));
	while (left) {
		x = rnd(125); /* one act in five is hostile: 98 and up */
		rig_step(&r, x < 98 ? x : 98);
	}
	rig_finish(&r);
	rig_free(&r);
	return 0;
}
