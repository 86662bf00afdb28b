/* Built against the installed library only, as C and as C++. */
#include <stdio.h>
#include <string.h>
#include <wd/crypto.h>
#include <wd/mover.h>
#include <wd/wd.h>

/* AES-128-GCM, NIST's test case 2 (key, IV and one block of text all zero),
 * through the synchronous helper and a wd_prep_aead() request. */
static int gcm(struct wd_ctx *ctx)
{
	static const unsigned char want_ct[16] = { 0x03, 0x88, 0xda, 0xce, 0x60, 0xb6, 0xa3, 0x92,
						   0xf3, 0x28, 0xc2, 0xb9, 0x71, 0xb2, 0xfe, 0x78 };
	static const unsigned char want_tag[16] = { 0xab, 0x6e, 0x47, 0xd4, 0x2c, 0xec, 0x13, 0xbd,
						    0xf5, 0x3a, 0x67, 0xb2, 0x12, 0x57, 0xbd, 0xdf };
	unsigned char key[16] = { 0 }, iv[12] = { 0 }, in[16] = { 0 }, out[16], tag[16];
	unsigned char hdr[28] = { 0 };
	struct wd_cipher_sess *s = NULL;
	struct wd_queue *q = NULL;
	struct wd_req r;
	struct wd_cpl c;
	int ret = wd_queue_new(&q, ctx, "aes-gcm", NULL);

	if (!ret)
		ret = wd_cipher_sess_new(&s, q, WD_CIPHER_AES_GCM, key, sizeof(key));
	if (!ret)
		ret = wd_aead_encrypt(s, iv, sizeof(iv), NULL, 0, in, out, sizeof(in), tag, 16);
	if (!ret && (memcmp(out, want_ct, 16) || memcmp(tag, want_tag, 16)))
		ret = -1;
	if (!ret) {
		wd_prep_aead(&r, WD_OP_DECRYPT, s,
			     WD_AEAD_P_INIT | WD_AEAD_P_FINAL | WD_AEAD_P_IVLEN(12) |
				     WD_AEAD_P_TAGLEN(16),
			     (uintptr_t)hdr, 0, (uintptr_t)out, (uintptr_t)out, 16);
		memcpy(hdr + 12, tag, 16);
		r.tag = 2;
		if (wd_send(q, &r, 1) != 1 || wd_wait(q, &c, 1, 5000) != 1 || c.status ||
		    memcmp(out, in, 16))
			ret = -1;
	}
	wd_cipher_sess_free(s);
	wd_queue_free(q);
	return ret;
}

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
	if (gcm(ctx)) {
		fprintf(stderr, "AES-GCM through the installed library failed\n");
		return 1;
	}
	wd_ctx_free(ctx);
	puts("consumer ok");
	return 0;
}
