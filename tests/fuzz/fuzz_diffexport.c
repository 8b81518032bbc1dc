/* fuzz_diffexport.c — how `diff` and `export` read records: a record as
 * a diff service (out_diff_svc_from_json(), out_diff_classify(),
 * out_diff_fold() in output/diff.c) and as CSV (out_csv_escape(), and
 * out_export_records() over a one-shard results directory, output/export.c).
 *
 * Byte 0 bit 0 picks the input. Records: two records built from the
 * input's fields (address, port, protocol, posture, cleartext login, TLS
 * 1.0/1.1 answers, country, ASN, error, banner), encoded by the program's
 * own encoder and parsed back as diff reads them. Text: the rest of the
 * input is one line of a shard, anything at all.
 *
 * Invariants (records): diff reads back exactly what the encoder wrote (an
 * IPv4 record becomes a service with its address, port, protocol, posture,
 * answers, country and ASN; an unanswered target, error "connect: ...", is
 * 1; an IPv6 record is not a diff service, -1); a service compared with
 * itself is unchanged; comparing b with a mirrors a with b (improved <->
 * regressed, each reason with its opposite); folding two services into a
 * host gives the same posture rank and answers in either order; every CSV
 * field reads back (RFC 4180, written here) as its bytes, a NUL as U+FFFD,
 * whatever the buffer's size (a short buffer gets a prefix, the length
 * stays). Invariants (text): out_diff_svc_from_json returns -1, 0 or 1 and
 * a service's fields are in range; the CSV export of the line has a header
 * and, when the line is a JSON object, exactly one row, every row of as
 * many fields as the header, and the ip column reads back as the record's
 * "ip" string. */
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <unistd.h>

#include "output/diff.h"
#include "output/export.h"
#include "output/record.h"
#include "tests/fuzz/fuzz_util.h"

/* ---- an RFC 4180 reader ---------------------------------------------------- */

/* The next field of s[*pos..n): unquoted up to ',' / CRLF, or quoted with
 * "" for a quote. Returns false on a malformed field. *end_row when the
 * field ended its row (CRLF or the end of the text). */
static bool csv_field(const char *s, size_t n, size_t *pos, char *out, size_t cap, size_t *len,
		      bool *end_row)
{
	size_t i = *pos, o = 0;

	if (i < n && s[i] == '"') {
		for (i++;; i++) {
			if (i >= n)
				return false;
			if (s[i] == '"') {
				if (i + 1 < n && s[i + 1] == '"') {
					i++;
				} else {
					i++;
					break;
				}
			}
			if (o < cap)
				out[o] = s[i];
			o++;
		}
	} else {
		for (; i < n && s[i] != ',' && s[i] != '\r' && s[i] != '\n'; i++) {
			if (s[i] == '"')
				return false;
			if (o < cap)
				out[o] = s[i];
			o++;
		}
	}
	*len = o;
	if (i < n && s[i] == ',') {
		*end_row = false;
		*pos = i + 1;
		return true;
	}
	if (i + 1 < n && s[i] == '\r' && s[i + 1] == '\n')
		i += 2;
	else if (i != n)
		return false;
	*end_row = true;
	*pos = i;
	return true;
}

static void check_escape(const uint8_t *b, size_t n, uint8_t cut)
{
	static char field[4 * 1024], back[4 * 1024], want[4 * 1024];
	size_t need = out_csv_escape(field, sizeof(field), (const char *)b, n), w = 0, len, pos = 0;
	bool end;

	FUZZ_CHECK(need <= sizeof(field), "field of %zu bytes for %zu", need, n);
	for (size_t i = 0; i < n; i++) {
		if (b[i] == 0) {
			memcpy(want + w, "\xef\xbf\xbd", 3);
			w += 3;
		} else {
			want[w++] = (char)b[i];
		}
	}
	FUZZ_CHECK(csv_field(field, need, &pos, back, sizeof(back), &len, &end) && end &&
		       pos == need,
		   "field does not parse: %.*s", (int)need, field);
	FUZZ_CHECK(len == w && memcmp(back, want, w) == 0, "field reads back differently");
	/* a short buffer: a prefix, the same length */
	size_t cap = need ? cut % (need + 1) : 0;
	char *small = malloc(cap ? cap : 1);
	FUZZ_CHECK(small != NULL, "out of memory");
	FUZZ_CHECK(out_csv_escape(small, cap, (const char *)b, n) == need &&
		       memcmp(small, field, cap) == 0,
		   "short buffer");
	free(small);
}

/* ---- records --------------------------------------------------------------- */

static void make_record(struct fuzz_in *in, struct mc_record *r)
{
	static const char *const errors[] = {"", "connect: refused", "connect: timeout",
					     "tls: handshake", "greeting: closed"};
	uint8_t f = fuzz_u8(in), cc = fuzz_u8(in);
	const uint8_t *b;

	memset(r, 0, sizeof(*r));
	r->ip = fuzz_u32(in);
	r->ipv6 = f & 0x80;
	if (r->ipv6)
		memcpy(r->ip6, "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x07", 16);
	r->port = fuzz_u16(in);
	r->proto = (enum mc_proto)(fuzz_u8(in) % 5);
	r->posture = (enum mc_posture)(fuzz_u8(in) % REP_POSTURES);
	r->cleartext_login = (enum mc_tri)(f % 3);
	r->tls.present = f & 0x40;
	r->tls.tls1_0 = (enum mc_tri)(fuzz_u8(in) % 3);
	r->tls.tls1_1 = (enum mc_tri)(fuzz_u8(in) % 3);
	if (cc & 0x80) { /* a country as enrichment writes it */
		r->country[0] = (char)('A' + cc % 26);
		r->country[1] = (char)('A' + (cc >> 2) % 26);
	}
	r->asn = f & 0x20 ? fuzz_u32(in) : 0;
	snprintf(r->error, sizeof(r->error), "%s", errors[(f >> 3) % 5]);
	r->banner_len = (uint16_t)fuzz_take(in, fuzz_u8(in), &b);
	memcpy(r->banner, b, r->banner_len);
}

static const struct out_json *encode_parse(const struct mc_record *r, struct out_json_arena *a,
					   char *buf, size_t cap)
{
	struct out_json *v;
	char err[128];
	size_t len = mc_record_to_json(r, buf, cap);

	FUZZ_CHECK(len > 0, "record does not encode");
	out_json_arena_reset(a);
	FUZZ_CHECK(out_json_parse(a, buf, len, &v, err, sizeof(err)) == 0, "%s", err);
	return v;
}

static void check_read_back(const struct mc_record *r, const struct out_json *v,
			    struct diff_svc *svc)
{
	int rc = out_diff_svc_from_json(v, svc);

	if (r->ipv6) {
		FUZZ_CHECK(rc == -1, "an IPv6 record read as a diff service (%d)", rc);
		return;
	}
	if (strncmp(r->error, "connect:", 8) == 0) {
		FUZZ_CHECK(rc == 1, "unanswered target: %d", rc);
		return;
	}
	FUZZ_CHECK(rc == 0, "record not read: %d", rc);
	FUZZ_CHECK(svc->ip == r->ip && svc->port == r->port, "address/port");
	FUZZ_CHECK(svc->proto == r->proto, "proto %u, record %d", svc->proto, r->proto);
	FUZZ_CHECK(svc->posture == r->posture, "posture %u, record %d", svc->posture, r->posture);
	FUZZ_CHECK(svc->cleartext == r->cleartext_login && svc->tls10 == r->tls.tls1_0 &&
		       svc->tls11 == r->tls.tls1_1,
		   "answers %u %u %u, record %d %d %d", svc->cleartext, svc->tls10, svc->tls11,
		   r->cleartext_login, r->tls.tls1_0, r->tls.tls1_1);
	bool cc = r->country[0] != '\0' && out_cc_index(r->country) >= 0;
	FUZZ_CHECK(cc ? memcmp(svc->cc, r->country, 2) == 0 : svc->cc[0] == 0 && svc->cc[1] == 0,
		   "country '%.2s', record '%s'", svc->cc, r->country);
	FUZZ_CHECK(svc->asn == r->asn, "asn %u, record %u", svc->asn, r->asn);
}

static unsigned mirror(unsigned r)
{
	unsigned m = 0;

	for (unsigned bit = 0; bit < DIFF_REASONS; bit += 2) /* up/down pairs */
		m |= (r >> bit & 1u) << (bit + 1) | (r >> (bit + 1) & 1u) << bit;
	return m;
}

static void check_compare(const struct diff_svc *a, const struct diff_svc *b)
{
	static const enum diff_change opposite[] = {[DIFF_UNCHANGED] = DIFF_UNCHANGED,
						    [DIFF_IMPROVED] = DIFF_REGRESSED,
						    [DIFF_REGRESSED] = DIFF_IMPROVED,
						    [DIFF_MIXED] = DIFF_MIXED};
	unsigned ra, rb, rs;
	struct diff_svc h1, h2;

	FUZZ_CHECK(out_diff_classify(a, a, &rs) == DIFF_UNCHANGED && rs == 0, "a vs a: %x", rs);
	enum diff_change ab = out_diff_classify(a, b, &ra), ba = out_diff_classify(b, a, &rb);
	FUZZ_CHECK(ab <= DIFF_MIXED && ba == opposite[ab] && rb == mirror(ra),
		   "a->b %s (%x), b->a %s (%x)", out_diff_change_name(ab), ra,
		   out_diff_change_name(ba), rb);
	out_diff_fold(&h1, a, true);
	out_diff_fold(&h1, b, false);
	out_diff_fold(&h2, b, true);
	out_diff_fold(&h2, a, false);
	FUZZ_CHECK(out_diff_classify(&h1, &h2, &rs) == DIFF_UNCHANGED && rs == 0,
		   "fold order matters: %x", rs);
	FUZZ_CHECK(h1.cleartext == h2.cleartext && h1.tls10 == h2.tls10 && h1.tls11 == h2.tls11,
		   "folded answers depend on the order");
}

static void part_records(struct fuzz_in *in)
{
	static struct mc_record r1, r2;
	static char buf[MC_RECORD_JSON_MAX];
	static struct out_json_arena arena;
	struct diff_svc a, b;

	make_record(in, &r1);
	make_record(in, &r2);
	check_read_back(&r1, encode_parse(&r1, &arena, buf, sizeof(buf)), &a);
	check_read_back(&r2, encode_parse(&r2, &arena, buf, sizeof(buf)), &b);
	if (!r1.ipv6 && !r2.ipv6 && strncmp(r1.error, "connect:", 8) != 0 &&
	    strncmp(r2.error, "connect:", 8) != 0)
		check_compare(&a, &b);
	check_escape((const uint8_t *)r1.banner, r1.banner_len, fuzz_u8(in));
}

/* ---- a line of text --------------------------------------------------------- */

static char dir[64];
static int scratch_fd = -1;

static void write_file(const char *name, const void *d, size_t n)
{
	int fd = openat(scratch_fd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	FUZZ_CHECK(fd >= 0 && write(fd, d, n) == (ssize_t)n, "write %s", name);
	close(fd);
}

static void sha256_hex(const void *d, size_t n, char hex[65])
{
	unsigned char md[32];
	unsigned len = 0;

	FUZZ_CHECK(EVP_Digest(d, n, md, &len, EVP_sha256(), NULL) == 1, "sha256");
	for (int i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
}

/* The CSV export of dir: rows (header excluded) and the ip cells checked. */
static void check_export(bool object, const char *ip, uint64_t *written)
{
	static const struct export_filter none;
	static char field[1 << 16];
	const char *const dirs[] = {dir};
	char *csv = NULL, err[256] = "";
	size_t csvlen = 0, pos = 0, len, ncols = 0, ipcol = SIZE_MAX, rows = 0;
	FILE *out = open_memstream(&csv, &csvlen);
	bool end = false;

	FUZZ_CHECK(out != NULL, "open_memstream");
	int rc =
	    out_export_records(dirs, 1, EXPORT_CSV, &none, out, NULL, written, err, sizeof(err));
	fclose(out);
	FUZZ_CHECK(rc == 0, "export: %d (%s)", rc, err);
	while (!end) { /* the header */
		FUZZ_CHECK(csv_field(csv, csvlen, &pos, field, sizeof(field), &len, &end),
			   "header does not parse");
		if (len == 2 && memcmp(field, "ip", 2) == 0)
			ipcol = ncols;
		ncols++;
	}
	FUZZ_CHECK(ipcol != SIZE_MAX, "no ip column");
	while (pos < csvlen) {
		size_t col = 0;
		for (end = false; !end; col++) {
			FUZZ_CHECK(csv_field(csv, csvlen, &pos, field, sizeof(field), &len, &end),
				   "row %zu does not parse", rows);
			if (col == ipcol && ip != NULL)
				FUZZ_CHECK(len == strlen(ip) && memcmp(field, ip, len) == 0,
					   "ip cell '%.*s', record '%s'", (int)len, field, ip);
		}
		FUZZ_CHECK(col == ncols, "row %zu has %zu fields, header %zu", rows, col, ncols);
		rows++;
	}
	FUZZ_CHECK(rows == *written && rows == (object ? 1u : 0u), "%zu rows, %llu written, %s",
		   rows, (unsigned long long)*written, object ? "an object" : "not an object");
	free(csv);
}

static void part_text(struct fuzz_in *in)
{
	static struct out_json_arena arena;
	static char line[1 << 15], man[1024];
	struct out_json *v;
	struct diff_svc s;
	char err[256], sha[65];
	const uint8_t *b;
	size_t n = fuzz_take(in, sizeof(line) - 2, &b);
	const char *nl = memchr(b, '\n', n), *ip = NULL;
	bool object = false;
	uint64_t written = 0;

	if (nl != NULL) /* one line */
		n = (size_t)(nl - (const char *)b);
	memcpy(line, b, n);
	out_json_arena_reset(&arena);
	if (out_json_parse(&arena, line, n, &v, err, sizeof(err)) == 0) {
		int rc = out_diff_svc_from_json(v, &s);
		FUZZ_CHECK(rc >= -1 && rc <= 1, "rc %d", rc);
		if (rc == 0) {
			char cc[3] = {s.cc[0], s.cc[1], 0};
			FUZZ_CHECK(s.proto <= MC_PROTO_IMAPS && s.posture < REP_POSTURES &&
				       s.cleartext <= MC_TRI_YES && s.tls10 <= MC_TRI_YES &&
				       s.tls11 <= MC_TRI_YES,
				   "service fields out of range");
			FUZZ_CHECK(cc[0] == 0 ? cc[1] == 0 : out_cc_index(cc) >= 0, "country '%s'",
				   cc);
		}
		object = v->type == OUT_JSON_OBJECT;
		const struct out_json *j = object ? out_json_get(v, "ip") : NULL;
		if (j != NULL && j->type == OUT_JSON_STRING && strlen(j->str) == j->len)
			ip = j->str; /* the arena stays until the next reset */
	}
	line[n++] = '\n';
	write_file("shard-00000.ndjson", line, n);
	sha256_hex(line, n, sha);
	int m = snprintf(man, sizeof(man),
			 "{\"format\":\"mailcensus-results/1\",\"state\":\"complete\","
			 "\"records\":1,\"files\":[{\"name\":\"shard-00000.ndjson\",\"records\":1,"
			 "\"bytes\":%zu,\"sha256\":\"%s\"}]}",
			 n, sha);
	write_file("manifest.json", man, (size_t)m);
	check_export(object, ip, &written);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = {data, size};
	uint8_t sel = fuzz_u8(&in);

	if (scratch_fd < 0)
		scratch_fd = fuzz_scratch_dir(dir, sizeof(dir), "fuzz_diffexport");
	if (sel & 1)
		part_text(&in);
	else
		part_records(&in);
	return 0;
}
