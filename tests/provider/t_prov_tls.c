/* SPDX-License-Identifier: MIT */
/*
 * libssl over the wd provider: a client and a server in one library
 * context that prefers wd ("?provider=wd": its ciphers, the default
 * provider's everything else) shake hands over a BIO pair and exchange
 * records of 1 byte to 16 KiB both ways, for TLS 1.3 AES-GCM, TLS 1.2
 * AES-GCM (the record mode libssl drives with EVP_CTRL_AEAD_TLS1_AAD and
 * the fixed IV) and TLS 1.2 AES-CBC with encrypt-then-MAC (records sealed
 * by wd, opened by the default provider's constant-time code: counted
 * unsupported:tls).  Once with every piece through a queue (threshold 0),
 * where each kind of session must move the queue's counters, once with
 * the defaults.  The bytes must arrive, and the provider's statistics
 * show its ciphers did the work.
 * argv[1]: the directory holding wd.so.
 */
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "tp.h"

static EVP_PKEY *pkey;
static X509 *cert;

static void make_cert(OSSL_LIB_CTX *lc)
{
	X509_NAME *name;

	pkey = EVP_PKEY_Q_keygen(lc, NULL, "EC", "P-256");
	cert = X509_new_ex(lc, NULL);
	T_ASSERT(pkey && cert);
	ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
	X509_gmtime_adj(X509_getm_notBefore(cert), 0);
	X509_gmtime_adj(X509_getm_notAfter(cert), 3600);
	T_ASSERT(X509_set_pubkey(cert, pkey));
	name = X509_get_subject_name(cert);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)"wd", -1, -1, 0);
	X509_set_issuer_name(cert, name);
	T_ASSERT(X509_sign(cert, pkey, EVP_sha256()));
}

/* Drive both ends until neither wants to go on. */
static void pump(SSL *c, SSL *s)
{
	int i, rc, rs;

	for (i = 0; i < 1000; i++) {
		rc = SSL_do_handshake(c);
		rs = SSL_do_handshake(s);
		if (rc == 1 && rs == 1)
			return;
		if ((rc <= 0 && SSL_get_error(c, rc) != SSL_ERROR_WANT_READ &&
		     SSL_get_error(c, rc) != SSL_ERROR_WANT_WRITE) ||
		    (rs <= 0 && SSL_get_error(s, rs) != SSL_ERROR_WANT_READ &&
		     SSL_get_error(s, rs) != SSL_ERROR_WANT_WRITE)) {
			tp_errors("handshake");
			T_FAIL("handshake failed");
		}
	}
	T_FAIL("handshake did not finish");
}

/* Send len bytes from a to b and check them. */
static void transfer(SSL *a, SSL *b, size_t len)
{
	static uint8_t out[20000], in[20000];
	size_t got = 0, w;
	int n;

	tp_fill(out, len);
	if (!SSL_write_ex(a, out, len, &w) || w != len) {
		tp_errors("write");
		T_FAIL("SSL_write of %zu bytes", len);
	}
	while (got < len) {
		n = SSL_read(b, in + got, (int)(len - got));
		if (n <= 0) {
			tp_errors("read");
			T_FAIL("SSL_read after %zu of %zu bytes", got, len);
		}
		got += (size_t)n;
	}
	if (memcmp(in, out, len))
		T_FAIL("%zu bytes arrived different", len);
}

static void session(struct tp *t, int version, const char *suite)
{
	static const size_t sizes[] = { 1, 15, 16, 100, 1000, 4096, 8000, 16384 };
	SSL_CTX *cc = SSL_CTX_new_ex(t->lc, "?provider=wd", TLS_client_method());
	SSL_CTX *sc = SSL_CTX_new_ex(t->lc, "?provider=wd", TLS_server_method());
	BIO *bc, *bs;
	SSL *c, *s;
	unsigned i;

	T_ASSERT(cc && sc);
	T_ASSERT(SSL_CTX_use_certificate(sc, cert) && SSL_CTX_use_PrivateKey(sc, pkey));
	SSL_CTX_set_min_proto_version(cc, version);
	SSL_CTX_set_max_proto_version(cc, version);
	if (version == TLS1_3_VERSION)
		T_ASSERT(SSL_CTX_set_ciphersuites(cc, suite));
	else
		T_ASSERT(SSL_CTX_set_cipher_list(cc, suite));
	c = SSL_new(cc);
	s = SSL_new(sc);
	T_ASSERT(c && s && BIO_new_bio_pair(&bc, 0, &bs, 0));
	SSL_set_bio(c, bc, bc);
	SSL_set_bio(s, bs, bs);
	SSL_set_connect_state(c);
	SSL_set_accept_state(s);
	pump(c, s);
	T_ASSERT(!strcmp(SSL_get_cipher_name(c), suite));
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		transfer(c, s, sizes[i]);
		transfer(s, c, sizes[i]);
	}
	printf("  %s %s: ok\n", version == TLS1_3_VERSION ? "TLS 1.3" : "TLS 1.2", suite);
	SSL_free(c);
	SSL_free(s);
	SSL_CTX_free(cc);
	SSL_CTX_free(sc);
}

/* One session; with every piece through a queue, the queue's operations
 * must have grown. */
static void counted(struct tp *t, int version, const char *suite, int all_queue)
{
	unsigned long long wd_before;
	char line[1024];

	tp_stats(t, line, sizeof(line));
	wd_before = tp_stat(line, "ops.wd");
	session(t, version, suite);
	tp_stats(t, line, sizeof(line));
	if (all_queue && tp_stat(line, "ops.wd") <= wd_before)
		T_FAIL("%s: no record went through a queue: %s", suite, line);
}

static void run(const char *moddir, const char *conf, int all_queue)
{
	unsigned long long before;
	char line[1024];
	struct tp t;

	tp_open(&t, moddir, conf);
	make_cert(t.lc);
	counted(&t, TLS1_3_VERSION, "TLS_AES_128_GCM_SHA256", all_queue);
	counted(&t, TLS1_3_VERSION, "TLS_AES_256_GCM_SHA384", all_queue);
	tp_stats(&t, line, sizeof(line));
	T_ASSERT(tp_stat(line, "ops.wd") + tp_stat(line, "ops.sw") > 0);
	counted(&t, TLS1_2_VERSION, "ECDHE-ECDSA-AES128-GCM-SHA256", all_queue);
	counted(&t, TLS1_2_VERSION, "ECDHE-ECDSA-AES256-GCM-SHA384", all_queue);
	tp_stats(&t, line, sizeof(line));
	before = tp_stat(line, "why.unsupported:tls");
	counted(&t, TLS1_2_VERSION, "ECDHE-ECDSA-AES128-SHA256", all_queue);
	counted(&t, TLS1_2_VERSION, "ECDHE-ECDSA-AES256-SHA384", all_queue);
	tp_stats(&t, line, sizeof(line));
	printf("  %s\n", line);
	/* encrypt-then-MAC CBC records were opened by the default provider */
	T_ASSERT(tp_stat(line, "why.unsupported:tls") > before);
	X509_free(cert);
	EVP_PKEY_free(pkey);
	tp_close(&t);
}

int main(int argc, char **argv)
{
	if (argc < 2)
		T_FAIL("usage: t_prov_tls MODULE_DIR");
	tp_seed("t_prov_tls");
	printf("threshold 0:\n");
	run(argv[1], "threshold = 0\n", 1);
	printf("defaults:\n");
	run(argv[1], NULL, 0);
	printf("t_prov_tls: TLS 1.3 and 1.2 GCM, TLS 1.2 CBC, through wd\n");
	return 0;
}
