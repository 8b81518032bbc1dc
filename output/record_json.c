/* record_json.c — one census record as one NDJSON line.
 *
 * The encoder writes straight into the caller's buffer through the bounded
 * writer of jw.h: no allocation, no printf, one pass. Field order is fixed
 * (see output/schema/record.schema.json), so lines diff cleanly.
 *
 * Escaping of server bytes is exact and lossless for well-formed UTF-8:
 * '"' and '\\' are backslash-escaped, control bytes (0x00-0x1f and 0x7f)
 * become \u00XX, and each byte that is not part of a well-formed UTF-8
 * sequence (RFC 3629 table 3-7: no overlongs, no surrogates, nothing above
 * U+10FFFF) becomes one \uFFFD. We chose U+FFFD over a parallel hex field
 * because every JSON consumer (jq, DuckDB, pandas) reads it without a
 * special case; the replaced bytes are lost, which for a census of
 * greetings is acceptable and is stated in the schema.
 *
 * Times are RFC 3339 UTC with microseconds, converted with the
 * days-to-civil algorithm (H. Hinnant) rather than gmtime_r(): no locale,
 * no time zone lock, and correct for any 64-bit input in years 0-9999. */
#include "base/ipv6.h"
#include "base/utf8.h"
#include "output/jw.h"
#include "output/record.h"

/* Byte classes for the escaper: 0 copy, 1 backslash-escape, 2 \u00XX, 3 UTF-8 lead/invalid. */
static inline int esc_class(uint8_t c)
{
	if (c >= 0x80)
		return 3;
	if (c < 0x20 || c == 0x7f)
		return 2;
	return c == '"' || c == '\\' ? 1 : 0;
}

/* Index of the first byte at or after i that needs attention (escape or
 * UTF-8 check). Eight bytes at a time: the classic "has a zero byte" test
 * applied to v < 0x20, v ^ '"', v ^ '\\' and v ^ 0x7f, plus the high bits;
 * it may stop early (borrows), never late, and the byte loop is exact. */
static size_t plain_run(const uint8_t *s, size_t i, size_t n)
{
	const uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;

	while (i + 8 <= n) {
		uint64_t v, q, b, d;
		memcpy(&v, s + i, 8);
		q = v ^ (ones * '"');
		b = v ^ (ones * '\\');
		d = v ^ (ones * 0x7f);
		uint64_t hit = (v & highs) | ((v - ones * 0x20) & ~v & highs) |
			       ((q - ones) & ~q & highs) | ((b - ones) & ~b & highs) |
			       ((d - ones) & ~d & highs);
		if (hit != 0)
			break;
		i += 8;
	}
	while (i < n && esc_class(s[i]) == 0)
		i++;
	return i;
}

void out_jw_escape(struct out_jw *w, const uint8_t *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t i = 0;

	while (i < n) {
		size_t run = i;

		run = plain_run(s, run, n);
		out_jw_raw(w, (const char *)s + i, run - i);
		if (run == n)
			break;
		i = run;
		uint8_t c = s[i];
		switch (esc_class(c)) {
		case 1: {
			char e[2] = {'\\', (char)c};
			out_jw_raw(w, e, 2);
			i++;
			break;
		}
		case 2: {
			char e[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
			out_jw_raw(w, e, 6);
			i++;
			break;
		}
		default: {
			size_t len = mc_utf8_len(s + i, n - i);
			if (len == 0) {
				out_jw_lit(w, "\\ufffd");
				i++;
			} else {
				out_jw_raw(w, (const char *)s + i, len);
				i += len;
			}
		}
		}
	}
}

static void put2(char *p, unsigned v)
{
	p[0] = (char)('0' + v / 10 % 10);
	p[1] = (char)('0' + v % 10);
}

void out_jw_time(struct out_jw *w, int64_t us, bool frac)
{
	int64_t secs = us / 1000000, rem = us % 1000000;
	if (rem < 0) {
		rem += 1000000;
		secs--;
	}
	int64_t days = secs / 86400, sod = secs % 86400;
	if (sod < 0) {
		sod += 86400;
		days--;
	}
	int64_t z = days + 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;
	int64_t d = doy - (153 * mp + 2) / 5 + 1;
	int64_t m = mp < 10 ? mp + 3 : mp - 9;
	int64_t y = yoe + era * 400 + (m <= 2);
	if (y < 0 || y > 9999) {
		out_jw_lit(w, "null");
		return;
	}
	char t[30] = "\"0000-00-00T00:00:00.000000Z\"";
	put2(t + 1, (unsigned)(y / 100));
	put2(t + 3, (unsigned)(y % 100));
	put2(t + 6, (unsigned)m);
	put2(t + 9, (unsigned)d);
	put2(t + 12, (unsigned)(sod / 3600));
	put2(t + 15, (unsigned)(sod / 60 % 60));
	put2(t + 18, (unsigned)(sod % 60));
	if (!frac) {
		out_jw_raw(w, t, 20);
		out_jw_lit(w, "Z\"");
		return;
	}
	put2(t + 21, (unsigned)(rem / 10000));
	put2(t + 23, (unsigned)(rem / 100 % 100));
	put2(t + 25, (unsigned)(rem % 100));
	out_jw_raw(w, t, 29);
}

static void put_tri(struct out_jw *w, enum mc_tri v)
{
	if (v == MC_TRI_YES)
		out_jw_lit(w, "true");
	else if (v == MC_TRI_NO)
		out_jw_lit(w, "false");
	else
		out_jw_lit(w, "null");
}

static void put_ip(struct out_jw *w, uint32_t ip)
{
	out_jw_lit(w, "\"");
	for (int shift = 24; shift >= 0; shift -= 8) {
		out_jw_u64(w, (ip >> shift) & 0xff);
		if (shift != 0)
			out_jw_lit(w, ".");
	}
	out_jw_lit(w, "\"");
}

/* RFC 5952 text (lowercase hex, longest zero run as ::), as inet_ntop writes it. */
static void put_ip6(struct out_jw *w, const uint8_t a[16])
{
	char text[MC_IPV6_STRLEN];
	struct mc_ipv6 v;

	memcpy(v.b, a, 16);
	mc_ipv6_format(&v, text);
	out_jw_lit(w, "\"");
	out_jw_raw(w, text, strlen(text));
	out_jw_lit(w, "\"");
}

/* A NUL-separated capability list as a JSON array of strings. */
static void put_caps(struct out_jw *w, const struct mc_caps *caps)
{
	const uint8_t *d = (const uint8_t *)caps->data;
	size_t len = caps->len <= sizeof(caps->data) ? caps->len : sizeof(caps->data);
	size_t start = 0;
	bool first = true;

	out_jw_lit(w, "[");
	for (size_t i = 0; i < len; i++) {
		if (d[i] != '\0')
			continue;
		if (!first)
			out_jw_lit(w, ",");
		out_jw_bytes(w, d + start, i - start);
		first = false;
		start = i + 1;
	}
	if (start < len) { /* a last item without its separator */
		if (!first)
			out_jw_lit(w, ",");
		out_jw_bytes(w, d + start, len - start);
	}
	out_jw_lit(w, "]");
}

/* A certificate time in Unix seconds; null when it lies beyond what
 * microseconds in an int64 hold (out_jw_time() writes null beyond year
 * 9999 anyway), so the conversion cannot overflow. */
static void put_cert_time(struct out_jw *w, int64_t secs)
{
	if (secs > INT64_MAX / 1000000 || secs < INT64_MIN / 1000000) {
		out_jw_lit(w, "null");
		return;
	}
	out_jw_time(w, secs * 1000000, false);
}

static void put_cert(struct out_jw *w, const struct mc_cert *c)
{
	if (!c->present) {
		out_jw_lit(w, "null");
		return;
	}
	out_jw_lit(w, "{\"subject\":");
	out_jw_cstr(w, c->subject, sizeof(c->subject));
	out_jw_lit(w, ",\"issuer\":");
	out_jw_cstr(w, c->issuer, sizeof(c->issuer));
	out_jw_lit(w, ",\"sans\":[");
	unsigned nsans = c->san_count < MC_CERT_SANS_MAX ? c->san_count : MC_CERT_SANS_MAX;
	for (unsigned i = 0; i < nsans; i++) {
		if (i != 0)
			out_jw_lit(w, ",");
		if (c->san_len[i] > 0 && c->san_len[i] < sizeof(c->sans[i]))
			out_jw_bytes(w, c->sans[i], c->san_len[i]); /* may hold NUL bytes */
		else
			out_jw_cstr(w, c->sans[i], sizeof(c->sans[i]));
	}
	out_jw_lit(w, "],\"sans_total\":");
	out_jw_u64(w, c->san_total > c->san_count ? c->san_total : c->san_count);
	out_jw_lit(w, ",\"sans_truncated\":");
	out_jw_bool(w, c->sans_truncated);
	out_jw_lit(w, ",\"san_nul\":");
	out_jw_bool(w, c->san_nul);
	out_jw_lit(w, ",\"not_before\":");
	put_cert_time(w, c->not_before);
	out_jw_lit(w, ",\"not_after\":");
	put_cert_time(w, c->not_after);
	out_jw_lit(w, ",\"expired\":");
	out_jw_bool(w, c->expired);
	out_jw_lit(w, ",\"self_signed\":");
	out_jw_bool(w, c->self_signed);
	out_jw_lit(w, ",\"key_type\":");
	out_jw_cstr_or_null(w, c->key_type, sizeof(c->key_type));
	out_jw_lit(w, ",\"key_bits\":");
	out_jw_u64(w, c->key_bits);
	out_jw_lit(w, ",\"sig_alg\":");
	out_jw_cstr_or_null(w, c->sig_alg, sizeof(c->sig_alg));
	out_jw_lit(w, ",\"sha256\":");
	out_jw_cstr_or_null(w, c->sha256, sizeof(c->sha256));
	out_jw_lit(w, ",\"spki_sha256\":");
	out_jw_cstr_or_null(w, c->spki_sha256, sizeof(c->spki_sha256));
	out_jw_lit(w, ",\"serial\":");
	out_jw_cstr_or_null(w, c->serial, sizeof(c->serial));
	out_jw_lit(w, ",\"serial_truncated\":");
	out_jw_bool(w, c->serial_truncated);
	out_jw_lit(w, ",\"chain_sha256\":[");
	for (unsigned i = 0; i < c->chain_hashed && i < MC_CERT_CHAIN_MAX; i++) {
		if (i != 0)
			out_jw_lit(w, ",");
		out_jw_cstr(w, c->chain_sha256[i], sizeof(c->chain_sha256[i]));
	}
	out_jw_lit(w, "],\"chain_len\":");
	out_jw_u64(w, c->chain_len);
	out_jw_lit(w, ",\"chain_valid\":");
	out_jw_bool(w, c->chain_valid);
	out_jw_lit(w, ",\"chain_error\":");
	out_jw_cstr_or_null(w, c->chain_error, sizeof(c->chain_error));
	out_jw_lit(w, "}");
}

/* Key exchange and handshake facts of the main session; null without one. */
static void put_kx(struct out_jw *w, const struct mc_tls *t)
{
	if (!t->present) {
		out_jw_lit(w, "null");
		return;
	}
	out_jw_lit(w, "{\"group\":");
	out_jw_cstr_or_null(w, t->kx_group, sizeof(t->kx_group));
	out_jw_lit(w, ",\"bits\":");
	if (t->kx_bits > 0)
		out_jw_u64(w, t->kx_bits);
	else
		out_jw_lit(w, "null");
	out_jw_lit(w, ",\"secure_renegotiation\":");
	put_tri(w, t->secure_reneg);
	out_jw_lit(w, ",\"extended_master_secret\":");
	put_tri(w, t->ems);
	out_jw_lit(w, ",\"session_ticket\":");
	put_tri(w, t->ticket);
	out_jw_lit(w, ",\"ocsp_stapled\":");
	put_tri(w, t->ocsp_stapled);
	out_jw_lit(w, ",\"alpn\":");
	out_jw_cstr_or_null(w, t->alpn, sizeof(t->alpn));
	out_jw_lit(w, "}");
}

static void put_tls(struct out_jw *w, const struct mc_tls *t)
{
	out_jw_lit(w, "{\"version\":");
	if (t->present)
		out_jw_cstr_or_null(w, t->version, sizeof(t->version));
	else
		out_jw_lit(w, "null");
	out_jw_lit(w, ",\"cipher\":");
	if (t->present)
		out_jw_cstr_or_null(w, t->cipher, sizeof(t->cipher));
	else
		out_jw_lit(w, "null");
	out_jw_lit(w, ",\"name_match\":");
	put_tri(w, t->name_match);
	out_jw_lit(w, ",\"versions\":{\"ssl2\":");
	put_tri(w, t->ssl2);
	out_jw_lit(w, ",\"ssl3\":");
	put_tri(w, t->ssl3);
	out_jw_lit(w, ",\"tls1_0\":");
	put_tri(w, t->tls1_0);
	out_jw_lit(w, ",\"tls1_1\":");
	put_tri(w, t->tls1_1);
	out_jw_lit(w, ",\"tls1_2\":");
	put_tri(w, t->tls1_2);
	out_jw_lit(w, ",\"tls1_3\":");
	put_tri(w, t->tls1_3);
	out_jw_lit(w, "},\"legacy\":{");
	for (int f = 0; f < MC_LEGACY_COUNT; f++) {
		const char *name = mc_legacy_name((enum mc_legacy)f);

		if (f != 0)
			out_jw_lit(w, ",");
		out_jw_lit(w, "\"");
		out_jw_raw(w, name, strlen(name));
		out_jw_lit(w, "\":");
		put_tri(w, t->legacy[f]);
	}
	out_jw_lit(w, "},\"hello\":{\"probes\":");
	out_jw_u64(w, t->hello_probes);
	out_jw_lit(w, ",\"error\":");
	out_jw_cstr_or_null(w, t->hello_error, sizeof(t->hello_error));
	out_jw_lit(w, "},\"jarm\":");
	out_jw_cstr_or_null(w, t->jarm, sizeof(t->jarm));
	out_jw_lit(w, ",\"kx\":");
	put_kx(w, t);
	out_jw_lit(w, ",\"cert\":");
	put_cert(w, &t->cert);
	out_jw_lit(w, "}");
}

/* The STARTTLS findings after "injection" (EAST): verdict, reason, reply, flags. */
static void put_starttls_depth(struct out_jw *w, const struct mc_record *rec)
{
	const char *verdict = mc_inject_verdict_name(rec->injection_verdict);
	size_t rlen = rec->starttls_reply_len <= MC_STARTTLS_REPLY_MAX ? rec->starttls_reply_len
								       : MC_STARTTLS_REPLY_MAX;
	bool first = true;

	out_jw_lit(w, ",\"injection_result\":");
	if (verdict != NULL) {
		out_jw_lit(w, "\"");
		out_jw_raw(w, verdict, strlen(verdict));
		out_jw_lit(w, "\"");
	} else {
		out_jw_lit(w, "null");
	}
	out_jw_lit(w, ",\"injection_reason\":");
	out_jw_cstr_or_null(w, rec->injection_reason, sizeof(rec->injection_reason));
	out_jw_lit(w, ",\"reply\":");
	if (rlen > 0)
		out_jw_bytes(w, rec->starttls_reply, rlen);
	else
		out_jw_lit(w, "null");
	out_jw_lit(w, ",\"flags\":[");
	for (unsigned b = 0; b < 16; b++) {
		const char *name = mc_starttls_flag_name((uint16_t)(1u << b));

		if (!(rec->starttls_flags & (1u << b)) || name == NULL)
			continue;
		if (!first)
			out_jw_lit(w, ",");
		out_jw_lit(w, "\"");
		out_jw_raw(w, name, strlen(name));
		out_jw_lit(w, "\"");
		first = false;
	}
	out_jw_lit(w, "]");
}

/* The login probe's steps: what we sent, what came back (raw, bounded). */
static void put_login(struct out_jw *w, const struct mc_record *rec)
{
	unsigned n = rec->login_steps < MC_LOGIN_STEPS ? rec->login_steps : MC_LOGIN_STEPS;

	out_jw_lit(w, "[");
	for (unsigned i = 0; i < n; i++) {
		const struct mc_login_step *st = &rec->login[i];
		const char *cmd = mc_login_cmd_name(st->cmd);
		const char *outcome = mc_login_outcome_name(st->outcome);
		size_t len =
		    st->reply_len <= MC_LOGIN_REPLY_MAX ? st->reply_len : MC_LOGIN_REPLY_MAX;

		if (i != 0)
			out_jw_lit(w, ",");
		out_jw_lit(w, "{\"command\":\"");
		out_jw_raw(w, cmd, strlen(cmd));
		out_jw_lit(w, "\",\"outcome\":\"");
		out_jw_raw(w, outcome, strlen(outcome));
		out_jw_lit(w, "\",\"reply\":");
		if (st->outcome == MC_LOGIN_NOT_PROBED || st->outcome == MC_LOGIN_NO_REPLY)
			out_jw_lit(w, "null");
		else
			out_jw_bytes(w, st->reply, len);
		out_jw_lit(w, ",\"reply_truncated\":");
		out_jw_bool(w, st->reply_truncated);
		out_jw_lit(w, "}");
	}
	out_jw_lit(w, "]");
}

static void put_software(struct out_jw *w, const struct mc_software *sw)
{
	const char *ev = mc_sw_evidence_name(sw->evidence);

	if (sw->evidence == MC_SW_NONE && sw->id_name[0] == '\0' && sw->implementation[0] == '\0') {
		out_jw_lit(w, "null");
		return;
	}
	out_jw_lit(w, "{\"product\":");
	out_jw_cstr_or_null(w, sw->product, sizeof(sw->product));
	out_jw_lit(w, ",\"version\":");
	out_jw_cstr_or_null(w, sw->version, sizeof(sw->version));
	out_jw_lit(w, ",\"cpe\":");
	out_jw_cstr_or_null(w, sw->cpe, sizeof(sw->cpe));
	out_jw_lit(w, ",\"evidence\":");
	if (sw->evidence == MC_SW_NONE) {
		out_jw_lit(w, "null");
	} else {
		out_jw_lit(w, "\"");
		out_jw_raw(w, ev, strlen(ev));
		out_jw_lit(w, "\"");
	}
	out_jw_lit(w, ",\"id_name\":");
	out_jw_cstr_or_null(w, sw->id_name, sizeof(sw->id_name));
	out_jw_lit(w, ",\"id_version\":");
	out_jw_cstr_or_null(w, sw->id_version, sizeof(sw->id_version));
	out_jw_lit(w, ",\"implementation\":");
	out_jw_cstr_or_null(w, sw->implementation, sizeof(sw->implementation));
	out_jw_lit(w, "}");
}

static void put_head(struct out_jw *w, const struct mc_record *rec)
{
	out_jw_lit(w, "{\"ip\":");
	if (rec->ipv6)
		put_ip6(w, rec->ip6);
	else
		put_ip(w, rec->ip);
	out_jw_lit(w, ",\"port\":");
	out_jw_u64(w, rec->port);
	out_jw_lit(w, ",\"proto\":\"");
	const char *proto = mc_proto_name(rec->proto);
	out_jw_raw(w, proto, strlen(proto));
	out_jw_lit(w, "\",\"name\":");
	out_jw_cstr_or_null(w, rec->name, sizeof(rec->name));
	out_jw_lit(w, ",\"time\":");
	out_jw_time(w, rec->time_us, true);
	out_jw_lit(w, ",\"posture\":\"");
	const char *posture = mc_posture_name(rec->posture);
	out_jw_raw(w, posture, strlen(posture));
	out_jw_lit(w, "\",\"cleartext_login\":");
	put_tri(w, rec->cleartext_login);
	out_jw_lit(w, ",\"cleartext_login_evidence\":\"");
	const char *evidence = mc_evidence_name(rec->cleartext_login_evidence);
	out_jw_raw(w, evidence, strlen(evidence));
	out_jw_lit(w, "\",\"tls_obsolete\":");
	put_tri(w, rec->tls_obsolete);
	out_jw_lit(w, ",\"banner\":");
	size_t blen = rec->banner_len <= MC_BANNER_MAX ? rec->banner_len : MC_BANNER_MAX;
	out_jw_bytes(w, rec->banner, blen);
	out_jw_lit(w, ",\"banner_truncated\":");
	out_jw_bool(w, rec->banner_truncated);
}

size_t mc_record_to_json(const struct mc_record *rec, char *buf, size_t cap)
{
	struct out_jw w;

	out_jw_init(&w, buf, cap);
	put_head(&w, rec);
	out_jw_lit(&w, ",\"capabilities\":{\"pre_tls\":");
	put_caps(&w, &rec->caps_pre_tls);
	out_jw_lit(&w, ",\"post_tls\":");
	put_caps(&w, &rec->caps_post_tls);
	out_jw_lit(&w, ",\"truncated\":");
	out_jw_bool(&w, rec->caps_pre_tls.truncated || rec->caps_post_tls.truncated);
	out_jw_lit(&w, "},\"starttls\":{\"advertised\":");
	put_tri(&w, rec->starttls_advertised);
	out_jw_lit(&w, ",\"accepted\":");
	put_tri(&w, rec->starttls_accepted);
	out_jw_lit(&w, ",\"injection\":");
	put_tri(&w, rec->starttls_injection);
	put_starttls_depth(&w, rec);
	out_jw_lit(&w, "},\"login_probe\":");
	put_login(&w, rec);
	out_jw_lit(&w, ",\"tls\":");
	put_tls(&w, &rec->tls);
	out_jw_lit(&w, ",\"software\":");
	put_software(&w, &rec->software);
	out_jw_lit(&w, ",\"geo\":{\"country\":");
	out_jw_cstr_or_null(&w, rec->country, sizeof(rec->country));
	out_jw_lit(&w, "},\"asn\":{\"number\":");
	if (rec->asn != 0)
		out_jw_u64(&w, rec->asn);
	else
		out_jw_lit(&w, "null");
	out_jw_lit(&w, ",\"org\":");
	out_jw_cstr_or_null(&w, rec->asn_org, sizeof(rec->asn_org));
	out_jw_lit(&w, "},\"error\":");
	out_jw_cstr_or_null(&w, rec->error, sizeof(rec->error));
	out_jw_lit(&w, "}\n");
	if (w.overflow)
		return 0;
	return (size_t)(w.p - buf);
}
