/* fuzz_cert.c — certificate details from arbitrary DER (probe_cert_leaf()
 * in probes/tls.c, what the grabber records of a server's leaf) and the
 * record that carries them.
 *
 * Input: DER bytes for d2i_X509(). When OpenSSL takes them as a
 * certificate, its facts go into a record that is encoded and checked:
 * strict JSON valid against record.schema.json (fuzz_schema.h); the
 * SHA-256 is 64 lowercase hex digits; and every DNS/e-mail/URI SAN reads
 * back as its bytes (first MC_CERT_SAN_LEN - 1 of them) with a NUL shown
 * as U+FFFD rather than ending the name there ("good.example\0.evil" must
 * not read as "good.example"), invalid UTF-8 as U+FFFD. */
#include <openssl/x509v3.h>

#include "probes/tls.h"
#include "tests/fuzz/fuzz_escape.h"
#include "tests/fuzz/fuzz_schema.h"

static void check_sans(X509 *x, const struct out_json *sans)
{
	GENERAL_NAMES *names = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
	const struct out_json *item = sans != NULL ? sans->child : NULL;
	uint8_t cut[MC_CERT_SAN_LEN], want[3 * MC_CERT_SAN_LEN];

	for (int i = 0; names != NULL && i < sk_GENERAL_NAME_num(names) && item != NULL; i++) {
		const GENERAL_NAME *gn = sk_GENERAL_NAME_value(names, i);
		size_t n, wlen;

		if (gn->type == GEN_IPADD && ASN1_STRING_length(gn->d.ip) == 4) {
			item = item->next;
			continue;
		}
		if (gn->type != GEN_DNS && gn->type != GEN_EMAIL && gn->type != GEN_URI)
			continue;
		n = (size_t)ASN1_STRING_length(gn->d.ia5);
		if (n > MC_CERT_SAN_LEN - 1)
			n = MC_CERT_SAN_LEN - 1;
		memcpy(cut, ASN1_STRING_get0_data(gn->d.ia5), n);
		for (size_t k = 0; k < n; k++)
			if (cut[k] == 0)
				cut[k] = 0xff; /* stands for U+FFFD */
		wlen = fuzz_expect_text(cut, n, want);
		FUZZ_CHECK(item->type == OUT_JSON_STRING && item->len == wlen &&
			       memcmp(item->str, want, wlen) == 0,
			   "SAN %d reads back as '%s'", i, item->str);
		item = item->next;
	}
	GENERAL_NAMES_free(names);
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
	probe_cert_leaf(x, &rec.tls.cert);
	FUZZ_CHECK(rec.tls.cert.present, "leaf not recorded");
	FUZZ_CHECK(rec.tls.cert.san_count <= MC_CERT_SANS_MAX, "%u SANs", rec.tls.cert.san_count);
	FUZZ_CHECK(strlen(rec.tls.cert.sha256) == 64 &&
		       strspn(rec.tls.cert.sha256, "0123456789abcdef") == 64,
		   "sha256 '%s'", rec.tls.cert.sha256);
	len = mc_record_to_json(&rec, buf, sizeof(buf));
	FUZZ_CHECK(len > 0, "record does not fit");
	v = fuzz_check_record_line(buf, len);
	check_sans(x, out_json_get(out_json_get(out_json_get(v, "tls"), "cert"), "sans"));
	X509_free(x);
	return 0;
}
