/* test_tls.c — certificate facts from a certificate built here: every SAN
 * kept with its length (a NUL inside a name kept and flagged, a long name
 * cut and flagged, more than 16 names flagged), IPv4/IPv6 names as text,
 * the serial, and the SPKI / leaf / chain hashes against an independent
 * computation (i2d + SHA-256). */
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <openssl/x509v3.h>

#include "tests/unit/test.h"
#include "probes/tls.h"

static const char nul_name[] = "good.test\0.evil.test"; /* 20 bytes */
#define NUL_NAME_LEN (sizeof(nul_name) - 1)

static void add_name(GENERAL_NAMES *gens, int type, const void *p, int len)
{
	GENERAL_NAME *gn = GENERAL_NAME_new();
	ASN1_OCTET_STRING *s = ASN1_OCTET_STRING_new();

	ASN1_OCTET_STRING_set(s, p, len);
	if (type == GEN_IPADD)
		gn->d.ip = s;
	else
		gn->d.ia5 = (ASN1_IA5STRING *)s;
	gn->type = type;
	sk_GENERAL_NAME_push(gens, gn);
}

static X509 *make_cert(EVP_PKEY *key, const unsigned char *serial, int serial_len, int extra)
{
	X509 *x = X509_new();
	GENERAL_NAMES *gens = sk_GENERAL_NAME_new_null();
	ASN1_INTEGER *sn = ASN1_INTEGER_new();
	char longname[201];
	static const unsigned char v4[4] = {198, 18, 1, 1};
	static const unsigned char v6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0,
					     0,	   0,	 0,    0,    0, 0, 0, 1};

	X509_set_version(x, 2);
	ASN1_STRING_set(sn, serial, serial_len);
	X509_set_serialNumber(x, sn);
	ASN1_INTEGER_free(sn);
	X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
				   (const unsigned char *)"leaf.test", -1, -1, 0);
	X509_set_issuer_name(x, X509_get_subject_name(x));
	X509_gmtime_adj(X509_getm_notBefore(x), 0);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600);
	X509_set_pubkey(x, key);
	add_name(gens, GEN_DNS, "a.test", 6);
	add_name(gens, GEN_DNS, nul_name, (int)NUL_NAME_LEN);
	memset(longname, 'x', 200);
	add_name(gens, GEN_DNS, longname, 200);
	add_name(gens, GEN_IPADD, v4, 4);
	add_name(gens, GEN_IPADD, v6, 16);
	add_name(gens, GEN_EMAIL, "pm@a.test", 9);
	for (int i = 0; i < extra; i++) {
		char n[24];

		snprintf(n, sizeof(n), "m%d.test", i);
		add_name(gens, GEN_DNS, n, (int)strlen(n));
	}
	X509_add1_ext_i2d(x, NID_subject_alt_name, gens, 0, 0);
	GENERAL_NAMES_free(gens);
	X509_sign(x, key, EVP_sha256());
	return x;
}

static void sha_hex(const unsigned char *der, int len, char out[65])
{
	unsigned char md[32];

	SHA256(der, (size_t)len, md);
	for (int i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
}

static void test_cert_facts(void)
{
	static const unsigned char serial[] = {0x0a, 0x1b, 0x2c, 0x3d, 0x4e,
					       0x5f, 0x60, 0x71, 0x82, 0x93};
	EVP_PKEY *key = EVP_EC_gen("P-256");
	X509 *leaf = make_cert(key, serial, sizeof(serial), 14); /* 6 + 14 = 20 names */
	STACK_OF(X509) *chain = sk_X509_new_null();
	static struct mc_cert c;
	unsigned char *der = NULL;
	char want[65];
	int len;

	CHECK(key != NULL && leaf != NULL);
	sk_X509_push(chain, leaf);
	sk_X509_push(chain, leaf);
	memset(&c, 0, sizeof(c));
	probe_tls_cert(leaf, chain, &c);
	CHECK(c.present);
	CHECK_UINT_EQ(c.san_total, 20);
	CHECK_UINT_EQ(c.san_count, MC_CERT_SANS_MAX);
	CHECK(c.sans_truncated);
	CHECK(c.san_nul);
	CHECK_STR_EQ(c.sans[0], "a.test");
	CHECK_UINT_EQ(c.san_len[1], NUL_NAME_LEN);
	CHECK(memcmp(c.sans[1], nul_name, NUL_NAME_LEN) == 0); /* not cut at the NUL */
	CHECK_UINT_EQ(c.san_len[2], MC_CERT_SAN_LEN - 1);
	CHECK_STR_EQ(c.sans[3], "198.18.1.1");
	CHECK_STR_EQ(c.sans[4], "2001:db8::1");
	CHECK_STR_EQ(c.sans[5], "pm@a.test");
	CHECK_STR_EQ(c.serial, "0a1b2c3d4e5f60718293");
	CHECK(!c.serial_truncated);
	CHECK_STR_EQ(c.subject, "CN=leaf.test");
	/* hashes, computed another way */
	len = i2d_PUBKEY(key, &der);
	sha_hex(der, len, want);
	OPENSSL_free(der);
	der = NULL;
	CHECK_STR_EQ(c.spki_sha256, want);
	len = i2d_X509(leaf, &der);
	sha_hex(der, len, want);
	OPENSSL_free(der);
	CHECK_STR_EQ(c.sha256, want);
	CHECK_UINT_EQ(c.chain_hashed, 2);
	CHECK_STR_EQ(c.chain_sha256[0], want);
	CHECK_STR_EQ(c.chain_sha256[1], want);
	CHECK_UINT_EQ(c.chain_len, 2);
	CHECK_STR_EQ(c.key_type, "EC");
	CHECK_UINT_EQ(c.key_bits, 256);

	/* the JSON keeps the NUL, escaped */
	static struct mc_record rec;
	static char buf[MC_RECORD_JSON_MAX];

	memset(&rec, 0, sizeof(rec));
	rec.tls.cert = c;
	size_t n = mc_record_to_json(&rec, buf, sizeof(buf) - 1);
	buf[n] = '\0';
	CHECK(strstr(buf, "\"good.test\\u0000.evil.test\"") != NULL);
	CHECK(strstr(buf, "\"sans_total\":20,\"sans_truncated\":true,\"san_nul\":true") != NULL);
	sk_X509_free(chain);
	X509_free(leaf);
	EVP_PKEY_free(key);
}

/* A serial longer than we keep is cut and flagged; few names: no flags. */
static void test_long_serial(void)
{
	unsigned char serial[50];
	EVP_PKEY *key = EVP_EC_gen("P-256");
	X509 *leaf;
	static struct mc_cert c;

	for (size_t i = 0; i < sizeof(serial); i++)
		serial[i] = (unsigned char)(i + 1);
	leaf = make_cert(key, serial, sizeof(serial), 0);
	memset(&c, 0, sizeof(c));
	probe_tls_cert(leaf, NULL, &c);
	CHECK(c.serial_truncated);
	CHECK_UINT_EQ(strlen(c.serial), 80);
	CHECK(strncmp(c.serial, "0102030405", 10) == 0);
	CHECK_UINT_EQ(c.san_total, 6);
	CHECK_UINT_EQ(c.san_count, 6);
	CHECK(c.sans_truncated); /* the 200-byte name was cut */
	CHECK_UINT_EQ(c.chain_hashed, 0);
	CHECK_UINT_EQ(c.chain_len, 1);
	X509_free(leaf);
	EVP_PKEY_free(key);
}

int main(void)
{
	RUN(test_cert_facts);
	RUN(test_long_serial);
	return test_summary();
}
