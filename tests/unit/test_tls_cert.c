/* test_tls_cert.c — probe_cert_leaf(): what the grabber records of a leaf
 * certificate, on certificates built here (no network). */
#include <openssl/x509v3.h>

#include "tests/unit/test.h"
#include "probes/tls.h"

/* A self-signed EC certificate with the given DNS SAN bytes (may hold NULs). */
static X509 *make_cert(const char *san, size_t san_len)
{
	EVP_PKEY *key = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	GENERAL_NAMES *names = GENERAL_NAMES_new();
	GENERAL_NAME *gn = GENERAL_NAME_new();
	ASN1_IA5STRING *ia5 = ASN1_IA5STRING_new();

	ASN1_STRING_set(ia5, san, (int)san_len);
	GENERAL_NAME_set0_value(gn, GEN_DNS, ia5);
	sk_GENERAL_NAME_push(names, gn);
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_gmtime_adj(X509_getm_notBefore(x), 0);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600);
	X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
				   (const unsigned char *)"good.example", -1, -1, 0);
	X509_set_issuer_name(x, X509_get_subject_name(x));
	X509_set_pubkey(x, key);
	X509_add1_ext_i2d(x, NID_subject_alt_name, names, 0, 0);
	X509_sign(x, key, EVP_sha256());
	GENERAL_NAMES_free(names);
	EVP_PKEY_free(key);
	return x;
}

/* fuzz_cert bug: a SAN with an embedded NUL was recorded up to the NUL, so
 * "good.example\0.evil.test" read as "good.example" (the null-prefix trick
 * of CVE-2009-2408). Minimised from the harness: the SAN "*.ex\0..." of
 * tests/fuzz/corpus/fuzz_cert/rsa.der with one byte set to zero. */
static void test_san_with_nul(void)
{
	static const char san[] = "good.example\0.evil.test";
	X509 *x = make_cert(san, sizeof(san) - 1);
	struct mc_cert c;

	memset(&c, 0, sizeof(c));
	probe_cert_leaf(x, &c);
	CHECK(c.present);
	CHECK_UINT_EQ(c.san_count, 1);
	CHECK_STR_EQ(c.sans[0], "good.example\xff.evil.test");
	CHECK_STR_EQ(c.subject, "CN=good.example");
	CHECK_STR_EQ(c.key_type, "EC");
	CHECK_UINT_EQ(c.key_bits, 256);
	CHECK(c.self_signed);
	CHECK_UINT_EQ(strlen(c.sha256), 64);
	X509_free(x);
}

int main(void)
{
	RUN(test_san_with_nul);
	return test_summary();
}
