/* test_record_json.c — record names, capability lists and exact JSON encoding. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>

#include "tests/unit/test.h"
#include "output/jw.h"
#include "output/record.h"

static const char *escape(const void *s, size_t n)
{
	static char buf[1024];
	struct out_jw w;

	out_jw_init(&w, buf, sizeof(buf) - 1);
	out_jw_escape(&w, s, n);
	*w.p = '\0';
	return w.overflow ? "(overflow)" : buf;
}

#define ESC(lit) escape(lit, sizeof(lit) - 1)

static void test_escape_ascii(void)
{
	CHECK_STR_EQ(ESC("+OK POP3 ready"), "+OK POP3 ready");
	CHECK_STR_EQ(ESC("a\"b\\c"), "a\\\"b\\\\c");
	CHECK_STR_EQ(ESC("\r\n\t\x01\x1f\x7f"), "\\u000d\\u000a\\u0009\\u0001\\u001f\\u007f");
	CHECK_STR_EQ(ESC("nul\0byte"), "nul\\u0000byte");
	CHECK_STR_EQ(ESC(""), "");
}

static void test_escape_utf8(void)
{
	CHECK_STR_EQ(ESC("caf\xc3\xa9"), "caf\xc3\xa9");		       /* é */
	CHECK_STR_EQ(ESC("\xe2\x82\xac"), "\xe2\x82\xac");		       /* € */
	CHECK_STR_EQ(ESC("\xf0\x9f\x93\xa7"), "\xf0\x9f\x93\xa7");	       /* 📧 */
	CHECK_STR_EQ(ESC("\xc0\xaf"), "\\ufffd\\ufffd");		       /* overlong '/' */
	CHECK_STR_EQ(ESC("\xe0\x80\xaf"), "\\ufffd\\ufffd\\ufffd");	       /* overlong 3-byte */
	CHECK_STR_EQ(ESC("\xed\xa0\x80"), "\\ufffd\\ufffd\\ufffd");	       /* surrogate D800 */
	CHECK_STR_EQ(ESC("\xf4\x90\x80\x80"), "\\ufffd\\ufffd\\ufffd\\ufffd"); /* > U+10FFFF */
	CHECK_STR_EQ(ESC("\xff\xfe"), "\\ufffd\\ufffd");
	CHECK_STR_EQ(ESC("\x80x"), "\\ufffdx");		     /* stray continuation */
	CHECK_STR_EQ(ESC("ab\xe2\x82"), "ab\\ufffd\\ufffd"); /* truncated at the end */
	CHECK_STR_EQ(ESC("\xe2\x82"
			 "A"),
		     "\\ufffd\\ufffdA"); /* truncated mid-string */
}

/* An independent reference: decode code points, then check their ranges. */
static size_t ref_escape(const uint8_t *s, size_t n, char *out)
{
	size_t o = 0;

	for (size_t i = 0; i < n;) {
		uint8_t c = s[i];
		if (c == '"' || c == '\\') {
			o += (size_t)sprintf(out + o, "\\%c", c);
			i++;
			continue;
		}
		if (c < 0x20 || c == 0x7f) {
			o += (size_t)sprintf(out + o, "\\u%04x", c);
			i++;
			continue;
		}
		if (c < 0x80) {
			out[o++] = (char)c;
			i++;
			continue;
		}
		size_t len = c >= 0xf8 ? 0 : c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 0;
		uint32_t cp = len == 4 ? c & 7u : len == 3 ? c & 15u : c & 31u;
		bool valid = len != 0 && i + len <= n;
		for (size_t k = 1; valid && k < len; k++) {
			valid = (s[i + k] & 0xc0) == 0x80;
			cp = cp << 6 | (s[i + k] & 0x3fu);
		}
		if (valid)
			valid = (len == 2 && cp >= 0x80) ||
				(len == 3 && cp >= 0x800 && (cp < 0xd800 || cp > 0xdfff)) ||
				(len == 4 && cp >= 0x10000 && cp <= 0x10ffff);
		if (valid) {
			memcpy(out + o, s + i, len);
			o += len;
			i += len;
		} else {
			o += (size_t)sprintf(out + o, "\\ufffd");
			i++;
		}
	}
	out[o] = '\0';
	return o;
}

/* Random strings rich in special bytes and UTF-8 fragments: the word-at-a-time
 * escaper must agree with the reference byte for byte. */
static void test_escape_differential(void)
{
	static const uint8_t alphabet[] = {'a',	 ' ',  '~',  '"',  '\\', 0x00, 0x1f, 0x20, 0x7f,
					   0x80, 0xbf, 0xc0, 0xc2, 0xdf, 0xe0, 0xed, 0xef, 0xf0,
					   0xf4, 0xf5, 0xff, 0xa0, 0x9f, 0x90, 0x8f};
	static char want[64 * 6 + 1];
	uint64_t st = 12345;
	int mismatches = 0;

	for (int t = 0; t < 200000; t++) {
		uint8_t buf[64];
		st = st * 6364136223846793005ull + 1442695040888963407ull;
		size_t n = (st >> 33) % sizeof(buf);
		for (size_t i = 0; i < n; i++) {
			st = st * 6364136223846793005ull + 1442695040888963407ull;
			uint32_t r = (uint32_t)(st >> 33);
			buf[i] =
			    r % 4 == 0 ? (uint8_t)(r >> 8) : alphabet[(r >> 8) % sizeof(alphabet)];
		}
		ref_escape(buf, n, want);
		if (strcmp(escape(buf, n), want) != 0 && mismatches++ < 3)
			CHECK_STR_EQ(escape(buf, n), want);
	}
	CHECK_INT_EQ(mismatches, 0);
}

static void test_names_and_caps(void)
{
	CHECK_STR_EQ(mc_proto_name(MC_PROTO_IMAPS), "imaps");
	CHECK_STR_EQ(mc_proto_name((enum mc_proto)99), "unknown");
	CHECK_STR_EQ(mc_posture_name(MC_POSTURE_STARTTLS_REQUIRED), "starttls_required");
	CHECK_STR_EQ(mc_posture_name(MC_POSTURE_UNKNOWN), "unknown");

	struct mc_caps caps = {0};
	mc_caps_add(&caps, "IMAP4rev1", 9);
	mc_caps_add(&caps, "STARTTLS", 8);
	CHECK_UINT_EQ(caps.count, 2);
	CHECK_UINT_EQ(caps.len, 19);
	CHECK(!caps.truncated);
	char big[MC_CAPS_BYTES];
	memset(big, 'X', sizeof(big));
	mc_caps_add(&caps, big, sizeof(big) - 19); /* one byte short of room for its NUL */
	CHECK(caps.truncated);
	CHECK_UINT_EQ(caps.count, 2);
	mc_caps_add(&caps, big, sizeof(big) - 20); /* exactly fills the buffer */
	CHECK_UINT_EQ(caps.count, 3);
	CHECK_UINT_EQ(caps.len, MC_CAPS_BYTES);
}

static void test_time(void)
{
	char buf[64];
	struct out_jw w;
	static const struct {
		int64_t us;
		const char *want;
	} cases[] = {
	    {0, "\"1970-01-01T00:00:00.000000Z\""},
	    {1795928673123456, "\"2026-11-29T05:04:33.123456Z\""},
	    {951782400000001, "\"2000-02-29T00:00:00.000001Z\""},
	    {-1, "\"1969-12-31T23:59:59.999999Z\""},
	    {253402300799000000, "\"9999-12-31T23:59:59.000000Z\""},
	    {253402300800000000, "null"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		out_jw_init(&w, buf, sizeof(buf) - 1);
		out_jw_time(&w, cases[i].us, true);
		*w.p = '\0';
		CHECK_STR_EQ(buf, cases[i].want);
	}
}

static void fill_full(struct mc_record *r)
{
	memset(r, 0, sizeof(*r));
	r->ip = 0xc612010b; /* 198.18.1.11 */
	r->port = 143;
	r->proto = MC_PROTO_IMAP;
	r->time_us = 1795928673123456;
	r->posture = MC_POSTURE_STARTTLS_OPTIONAL;
	r->cleartext_login = MC_TRI_YES;
	r->cleartext_login_evidence = MC_EVIDENCE_BEHAVIOUR;
	r->tls_obsolete = MC_TRI_NO;
	r->login_steps = 3;
	r->login[0].cmd = MC_LOGIN_CMD_IMAP_AUTH_PLAIN;
	r->login[0].outcome = MC_LOGIN_ACCEPTED;
	memcpy(r->login[0].reply, "+ ", 2);
	r->login[0].reply_len = 2;
	r->login[1].cmd = MC_LOGIN_CMD_IMAP_AUTH_LOGIN;
	r->login[1].outcome = MC_LOGIN_REFUSED_TLS;
	memcpy(r->login[1].reply, "a6 NO [PRIVACYREQUIRED] \"x\"\xff", 28);
	r->login[1].reply_len = 28;
	r->login[1].reply_truncated = true;
	r->login[2].cmd = MC_LOGIN_CMD_IMAP_LOGIN;
	r->login[2].outcome = MC_LOGIN_NOT_PROBED;
	memcpy(r->banner, "* OK \"hi\"\x01\xff", 11);
	r->banner_len = 11;
	mc_caps_add(&r->caps_pre_tls, "IMAP4rev1", 9);
	mc_caps_add(&r->caps_pre_tls, "STARTTLS", 8);
	r->starttls_advertised = MC_TRI_YES;
	r->starttls_accepted = MC_TRI_YES;
	r->starttls_injection = MC_TRI_NO;
	r->tls.present = true;
	strcpy(r->tls.version, "TLSv1.3");
	strcpy(r->tls.cipher, "TLS_AES_256_GCM_SHA384");
	strcpy(r->name, "b.test");
	r->tls.name_match = MC_TRI_YES;
	r->tls.tls1_0 = MC_TRI_NO;
	r->tls.tls1_1 = MC_TRI_NO;
	r->tls.tls1_2 = MC_TRI_YES;
	r->tls.tls1_3 = MC_TRI_YES;
	r->tls.ssl3 = MC_TRI_NO;
	r->tls.legacy[MC_LEGACY_RC4] = MC_TRI_NO;
	r->tls.legacy[MC_LEGACY_3DES] = MC_TRI_YES;
	r->tls.hello_probes = 3;
	strcpy(r->tls.kx_group, "X25519");
	r->tls.kx_bits = 253;
	r->tls.ems = MC_TRI_YES;
	r->tls.ticket = MC_TRI_NO;
	r->tls.ocsp_stapled = MC_TRI_NO;
	strcpy(r->tls.alpn, "imap");
	r->tls.cert.present = true;
	strcpy(r->tls.cert.subject, "CN=b.test");
	strcpy(r->tls.cert.issuer, "CN=Test CA");
	r->tls.cert.san_count = 2;
	r->tls.cert.san_total = 3;
	r->tls.cert.sans_truncated = true;
	r->tls.cert.san_nul = true;
	strcpy(r->tls.cert.sans[0], "DNS:b.test");
	memcpy(r->tls.cert.sans[1], "a\0.evil", 7); /* a NUL inside a name: kept, escaped */
	r->tls.cert.san_len[1] = 7;
	strcpy(r->tls.cert.spki_sha256, "cd02");
	strcpy(r->tls.cert.serial, "0a1b");
	r->tls.cert.chain_hashed = 2;
	strcpy(r->tls.cert.chain_sha256[0], "ab01");
	strcpy(r->tls.cert.chain_sha256[1], "ef03");
	r->tls.cert.not_before = 1767225600; /* 2026-01-01 */
	r->tls.cert.not_after = 1798761600;  /* 2027-01-01 */
	strcpy(r->tls.cert.key_type, "EC");
	r->tls.cert.key_bits = 256;
	strcpy(r->tls.cert.sig_alg, "ecdsa-with-SHA256");
	strcpy(r->tls.cert.sha256, "ab01");
	r->tls.cert.chain_len = 2;
	r->tls.cert.chain_valid = true;
	strcpy(r->country, "DE");
	r->asn = 64500;
	strcpy(r->asn_org, "Example \"Net\"");
	r->injection_verdict = MC_INJ_NOT_VULNERABLE;
	strcpy(r->injection_reason, "handshake failed");
	memcpy(r->starttls_reply, "a2 OK go", 8);
	r->starttls_reply_len = 8;
	r->starttls_flags = MC_STLS_LOGINDISABLED_TLS;
	r->software.evidence = MC_SW_IMAP_ID;
	strcpy(r->software.product, "Dovecot");
	strcpy(r->software.version, "2.3.19");
	strcpy(r->software.cpe, "cpe:2.3:a:dovecot:dovecot:2.3.19:*:*:*:*:*:*:*");
	strcpy(r->software.id_name, "Dovecot");
	strcpy(r->software.id_version, "2.3.19 \"x\"");
}

static void test_full_record(void)
{
	static char buf[MC_RECORD_JSON_MAX];
	struct mc_record r;

	fill_full(&r);
	size_t n = mc_record_to_json(&r, buf, sizeof(buf));
	CHECK(n > 0);
	buf[n] = '\0';
	CHECK_STR_EQ(
	    buf,
	    "{\"ip\":\"198.18.1.11\",\"port\":143,\"proto\":\"imap\",\"name\":\"b.test\","
	    "\"time\":\"2026-11-29T05:04:33.123456Z\",\"posture\":\"starttls_optional\","
	    "\"cleartext_login\":true,\"cleartext_login_evidence\":\"behaviour\","
	    "\"tls_obsolete\":false,"
	    "\"banner\":\"* OK \\\"hi\\\"\\u0001\\ufffd\",\"banner_truncated\":false,"
	    "\"capabilities\":{\"pre_tls\":[\"IMAP4rev1\",\"STARTTLS\"],\"post_tls\":[],"
	    "\"truncated\":false},"
	    "\"starttls\":{\"advertised\":true,\"accepted\":true,\"injection\":false,"
	    "\"injection_result\":\"not_vulnerable\",\"injection_reason\":\"handshake failed\","
	    "\"reply\":\"a2 OK go\",\"flags\":[\"logindisabled_after_tls\"]},"
	    "\"login_probe\":[{\"command\":\"AUTHENTICATE PLAIN\",\"outcome\":\"accepted\","
	    "\"reply\":\"+ \",\"reply_truncated\":false},"
	    "{\"command\":\"AUTHENTICATE LOGIN\",\"outcome\":\"refused_tls\","
	    "\"reply\":\"a6 NO [PRIVACYREQUIRED] \\\"x\\\"\\ufffd\",\"reply_truncated\":true},"
	    "{\"command\":\"LOGIN\",\"outcome\":\"not_probed\",\"reply\":null,"
	    "\"reply_truncated\":false}],"
	    "\"tls\":{\"version\":\"TLSv1.3\",\"cipher\":\"TLS_AES_256_GCM_SHA384\","
	    "\"name_match\":true,"
	    "\"versions\":{\"ssl2\":null,\"ssl3\":false,\"tls1_0\":false,\"tls1_1\":false,"
	    "\"tls1_2\":true,\"tls1_3\":true},"
	    "\"legacy\":{\"rc4\":false,\"3des\":true,\"des\":null,\"export\":null,"
	    "\"null\":null,\"anon\":null},\"hello\":{\"probes\":3,\"error\":null},\"jarm\":null,"
	    "\"kx\":{\"group\":\"X25519\",\"bits\":253,\"secure_renegotiation\":null,"
	    "\"extended_master_secret\":true,\"session_ticket\":false,\"ocsp_stapled\":false,"
	    "\"alpn\":\"imap\"},"
	    "\"cert\":{\"subject\":\"CN=b.test\",\"issuer\":\"CN=Test CA\","
	    "\"sans\":[\"DNS:b.test\",\"a\\u0000.evil\"],\"sans_total\":3,"
	    "\"sans_truncated\":true,\"san_nul\":true,\"not_before\":\"2026-01-01T00:00:00Z\","
	    "\"not_after\":\"2027-01-01T00:00:00Z\",\"expired\":false,\"self_signed\":false,"
	    "\"key_type\":\"EC\",\"key_bits\":256,\"sig_alg\":\"ecdsa-with-SHA256\","
	    "\"sha256\":\"ab01\",\"spki_sha256\":\"cd02\",\"serial\":\"0a1b\","
	    "\"serial_truncated\":false,\"chain_sha256\":[\"ab01\",\"ef03\"],"
	    "\"chain_len\":2,\"chain_valid\":true,\"chain_error\":null}},"
	    "\"software\":{\"product\":\"Dovecot\",\"version\":\"2.3.19\","
	    "\"cpe\":\"cpe:2.3:a:dovecot:dovecot:2.3.19:*:*:*:*:*:*:*\",\"evidence\":\"imap_id\","
	    "\"id_name\":\"Dovecot\",\"id_version\":\"2.3.19 \\\"x\\\"\",\"implementation\":null},"
	    "\"geo\":{\"country\":\"DE\"},\"asn\":{\"number\":64500,\"org\":\"Example "
	    "\\\"Net\\\"\"},\"error\":null}\n");
	CHECK_UINT_EQ(n, strlen(buf));
	/* Too small a buffer: 0, never a partial line. */
	CHECK_UINT_EQ(mc_record_to_json(&r, buf, n - 1), 0);
	CHECK_UINT_EQ(mc_record_to_json(&r, buf, n), n);
}

static void test_empty_record(void)
{
	static char buf[MC_RECORD_JSON_MAX];
	struct mc_record r;

	memset(&r, 0, sizeof(r));
	r.ip = 0xc6120114;
	r.port = 110;
	r.proto = MC_PROTO_POP3;
	strcpy(r.error, "connect: connection refused");
	size_t n = mc_record_to_json(&r, buf, sizeof(buf));
	buf[n] = '\0';
	CHECK_STR_EQ(
	    buf,
	    "{\"ip\":\"198.18.1.20\",\"port\":110,\"proto\":\"pop3\",\"name\":null,"
	    "\"time\":\"1970-01-01T00:00:00.000000Z\",\"posture\":\"unknown\","
	    "\"cleartext_login\":null,\"cleartext_login_evidence\":\"none\","
	    "\"tls_obsolete\":null,\"banner\":\"\","
	    "\"banner_truncated\":false,\"capabilities\":{\"pre_tls\":[],\"post_tls\":[],"
	    "\"truncated\":false},\"starttls\":{\"advertised\":null,\"accepted\":null,"
	    "\"injection\":null,\"injection_result\":null,\"injection_reason\":null,"
	    "\"reply\":null,\"flags\":[]},\"login_probe\":[],\"tls\":{\"version\":null,\"cipher\":"
	    "null,"
	    "\"name_match\":null,\"versions\":"
	    "{\"ssl2\":null,\"ssl3\":null,\"tls1_0\":null,\"tls1_1\":null,\"tls1_2\":null,"
	    "\"tls1_3\":null},\"legacy\":{\"rc4\":null,\"3des\":null,\"des\":null,"
	    "\"export\":null,\"null\":null,\"anon\":null},\"hello\":{\"probes\":0,"
	    "\"error\":null},\"jarm\":null,\"kx\":null,\"cert\":null},"
	    "\"software\":null,\"geo\":{\"country\":null},\"asn\":{\"number\":null,\"org\":null},"
	    "\"error\":\"connect: connection refused\"}\n");
}

/* The worst case: every buffer full of bytes that each expand to 6. */
static void test_ipv6_record(void)
{
	static char buf[MC_RECORD_JSON_MAX];
	struct mc_record r;
	static const uint8_t a[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2};

	memset(&r, 0, sizeof(r));
	r.ipv6 = true;
	memcpy(r.ip6, a, 16);
	r.port = 143;
	r.proto = MC_PROTO_IMAP;
	size_t n = mc_record_to_json(&r, buf, sizeof(buf));
	CHECK(n > 0);
	CHECK(strncmp(buf, "{\"ip\":\"2001:db8:1::2\",\"port\":143,", 33) == 0);
}

static void test_worst_case_fits(void)
{
	static char buf[MC_RECORD_JSON_MAX];
	struct mc_record r;

	memset(&r, 0xff, sizeof(r));
	/* 0xff is not a valid bool: set every flag explicitly */
	r.banner_truncated = r.caps_pre_tls.truncated = r.caps_post_tls.truncated = true;
	r.tls.present = r.tls.cert.present = r.tls.cert.expired = true;
	r.tls.cert.self_signed = r.tls.cert.chain_valid = true;
	r.tls.cert.sans_truncated = r.tls.cert.san_nul = r.tls.cert.serial_truncated = true;
	r.ipv6 = true; /* the longer address form */
	for (int i = 0; i < MC_LOGIN_STEPS; i++) {
		r.login[i].outcome = MC_LOGIN_REFUSED;
		r.login[i].reply_truncated = true;
	}
	r.banner_len = MC_BANNER_MAX;
	r.caps_pre_tls.len = MC_CAPS_BYTES;
	r.caps_post_tls.len = MC_CAPS_BYTES;
	r.tls.cert.san_count = MC_CERT_SANS_MAX;
	r.tls.cert.not_before = 0;
	r.tls.cert.not_after = 0;
	r.time_us = 0;
	r.software.evidence = MC_SW_BANNER;
	r.injection_verdict = MC_INJ_INCONCLUSIVE;
	r.starttls_reply_len = MC_STARTTLS_REPLY_MAX;
	r.starttls_flags = 0xffff;
	size_t n = mc_record_to_json(&r, buf, sizeof(buf));
	CHECK(n > 30000);
	CHECK(n < sizeof(buf));
	CHECK(memchr(buf, '\n', n) == buf + n - 1);
}

/* fuzz_record bug: a certificate time beyond +-2^63 microseconds overflowed
 * (signed, undefined) in the conversion to microseconds. Minimised from the
 * harness: not_before = -899061913124183985. Such times now encode as null,
 * and the extremes of the seconds range stay exact. */
static void test_cert_time_extremes(void)
{
	static struct mc_record r;
	static char buf[MC_RECORD_JSON_MAX];

	memset(&r, 0, sizeof(r));
	r.tls.present = true;
	r.tls.cert.present = true;
	r.tls.cert.not_before = -899061913124183985;
	r.tls.cert.not_after = INT64_MAX;
	CHECK(mc_record_to_json(&r, buf, sizeof(buf)) > 0);
	CHECK(strstr(buf, "\"not_before\":null,\"not_after\":null,") != NULL);
	r.tls.cert.not_before = INT64_MIN;
	r.tls.cert.not_after = 253402300799; /* 9999-12-31T23:59:59Z */
	CHECK(mc_record_to_json(&r, buf, sizeof(buf)) > 0);
	CHECK(strstr(buf, "\"not_before\":null,\"not_after\":\"9999-12-31T23:59:59Z\",") != NULL);
	r.tls.cert.not_before = INT64_MAX / 1000000; /* the largest time converted: year > 9999 */
	CHECK(mc_record_to_json(&r, buf, sizeof(buf)) > 0);
	CHECK(strstr(buf, "\"not_before\":null,") != NULL);
}

/* out_jw_document: the text and its length, a body that fills the buffer
 * to the last byte before the NUL, and one byte more is EOVERFLOW. */
static void doc_body(struct out_jw *w, const void *ctx)
{
	const char *s = ctx;

	out_jw_lit(w, "{\"s\":");
	out_jw_bytes(w, s, strlen(s));
	out_jw_lit(w, "}");
}

static void test_document(void)
{
	size_t len = 0;
	char *doc = out_jw_document(64, doc_body, "a\"b", &len);

	CHECK(doc != NULL);
	if (doc != NULL) {
		CHECK_STR_EQ(doc, "{\"s\":\"a\\\"b\"}");
		CHECK_UINT_EQ(len, strlen(doc));
	}
	free(doc);
	doc = out_jw_document(13, doc_body, "a\"b", &len); /* 12 bytes of text + NUL */
	CHECK(doc != NULL);
	free(doc);
	errno = 0;
	doc = out_jw_document(12, doc_body, "a\"b", NULL);
	CHECK(doc == NULL);
	CHECK_INT_EQ(errno, EOVERFLOW);
	free(doc);
}

int main(void)
{
	RUN(test_escape_ascii);
	RUN(test_escape_utf8);
	RUN(test_escape_differential);
	RUN(test_names_and_caps);
	RUN(test_time);
	RUN(test_full_record);
	RUN(test_empty_record);
	RUN(test_ipv6_record);
	RUN(test_worst_case_fits);
	RUN(test_cert_time_extremes);
	RUN(test_document);
	return test_summary();
}
