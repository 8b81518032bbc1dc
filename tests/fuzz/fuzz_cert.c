/* fuzz_cert.c — certificate details from arbitrary DER (probe_tls_cert()
 * in probes/tls.c, what the grabber records of a server's leaf) and the
 * record that carries them.
 *
 * Input: DER bytes for d2i_X509(). When OpenSSL takes them as a
 * certificate, its facts go into a record that is encoded and checked:
 * strict JSON valid against record.schema.json (fuzz_schema.h); the
 * SHA-256 is 64 lowercase hex digits; every DNS/e-mail/URI SAN reads back
 * as its bytes (the first MC_CERT_SAN_LEN - 1), a NUL kept as U+0000 rather
 * than ending the name there ("good.example\0.evil" must not read as
 * "good.example"), invalid UTF-8 as U+FFFD; sans_total, san_nul and
 * sans_truncated say what the certificate held. */
#include <openssl/x509v3.h>

#include "probes/tls.h"
#include "tests/fuzz/fuzz_escape.h"
#include "tests/fuzz/fuzz_schema.h"

static void check_sans(X509 *x, const struct out_json *cert)
{
	GENERAL_NAMES *names = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
	const struct out_json *sans = out_json_get(cert, "sans");
	const struct out_json *item = sans != NULL ? sans->child : NULL;
	uint8_t want[3 * MC_CERT_SAN_LEN];
	size_t kept = 0, total = 0;
	bool nul = false, cut = false;

	for (int i = 0; names != NULL && i < sk_GENERAL_NAME_num(names); i++) {
		const GENERAL_NAME *gn = sk_GENERAL_NAME_value(names, i);
		const unsigned char *p;
		size_t n, wlen;

		if (gn->type == GEN_IPADD &&
		    (ASN1_STRING_length(gn->d.ip) == 4 || ASN1_STRING_length(gn->d.ip) == 16)) {
			total++;
			if (kept < MC_CERT_SANS_MAX)
				kept++, item = item ? item->next : NULL;
			continue;
		}
		if (gn->type != GEN_DNS && gn->type != GEN_EMAIL && gn->type != GEN_URI)
			continue;
		total++;
		if (kept >= MC_CERT_SANS_MAX)
			continue;
		kept++;
		p = ASN1_STRING_get0_data(gn->d.ia5);
		n = (size_t)ASN1_STRING_length(gn->d.ia5);
		nul |= memchr(p, 0, n) != NULL;
		if (n > MC_CERT_SAN_LEN - 1) {
			n = MC_CERT_SAN_LEN - 1;
			cut = true;
		}
		/* the bytes, a NUL kept as U+0000 (never cutting the name), bytes
		 * outside well-formed UTF-8 as U+FFFD */
		wlen = fuzz_expect_text(p, n, want);
		FUZZ_CHECK(item != NULL && item->type == OUT_JSON_STRING && item->len == wlen &&
			       memcmp(item->str, want, wlen) == 0,
			   "SAN %d reads back as '%s'", i, item ? item->str : "(missing)");
		item = item->next;
	}
	GENERAL_NAMES_free(names);
	FUZZ_CHECK(item == NULL, "more SANs written than the certificate has");
	FUZZ_CHECK(out_json_u64(out_json_get(cert, "sans_total"), 0) == total ||
		       (total == 0 && sans != NULL && sans->count == 0),
		   "sans_total %llu, want %zu",
		   (unsigned long long)out_json_u64(out_json_get(cert, "sans_total"), 0), total);
	FUZZ_CHECK(out_json_true(out_json_get(cert, "san_nul")) == nul, "san_nul");
	FUZZ_CHECK(out_json_true(out_json_get(cert, "sans_truncated")) ==
		       (cut || total > MC_CERT_SANS_MAX),
		   "sans_truncated");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct mc_record rec;
	static char buf[MC_RECORD_JSON_MAX];
	const unsigned char *p = data;
	X509 *x = d2i_X509(NULL, &p, (long)size);
	const struct out_json *v;
	size_t len;

	if (x == NULL)
		return 0;
	memset(&rec, 0, sizeof(rec));
	rec.proto = MC_PROTO_IMAPS;
	rec.tls.present = true;
	probe_tls_cert(x, NULL, &rec.tls.cert);
	FUZZ_CHECK(rec.tls.cert.present, "leaf not recorded");
	FUZZ_CHECK(rec.tls.cert.san_count <= MC_CERT_SANS_MAX, "%u SANs", rec.tls.cert.san_count);
	FUZZ_CHECK(strlen(rec.tls.cert.sha256) == 64 &&
		       strspn(rec.tls.cert.sha256, "0123456789abcdef") == 64,
		   "sha256 '%s'", rec.tls.cert.sha256);
	len = mc_record_to_json(&rec, buf, sizeof(buf));
	FUZZ_CHECK(len > 0, "record does not fit");
	v = fuzz_check_record_line(buf, len);
	check_sans(x, out_json_get(out_json_get(v, "tls"), "cert"));
	X509_free(x);
	return 0;
}
