/* fuzz_targets.c — the readers of target lists, each against a reference
 * written here from the documented format.
 *
 * Byte 0 picks the reader:
 *   0 mc_cidr_parse() (base/ipv4.c, the one CIDR parser): a dotted quad (inet_pton's strict form:
 * four decimal parts 0-255 without leading zeros) and an optional "/N" of one or two digits, N <=
 * 32; host bits cleared; 1 targets_parse_ports(): "N" or "N-M" items (decimal, 1-65535, N <= M)
 *     separated by single commas, duplicates dropped in order, at most `max`;
 *   2 grab_parse_target_named() (cli/grab_opts.c), one line of a grab target
 *     list (grab reads whole lines with getline()) or of `scan -o`'s CSV:
 *     ADDR:PORT [NAME] or ADDR,PORT[,NAME or numeric fields], blanks, '#'
 *     comments, the "saddr," header; and grab_parse_target() agrees;
 *   3 allow/block list files through targets_build(): lines split at '\n' of
 *     at most 255 bytes and without a NUL byte (else "line too long in
 *     FILE:N (...)" / "NUL byte in FILE:N", and a bad CIDR "bad CIDR '...' in
 *     FILE:N", each with the reference's line number), '#' comments, blank
 *     lines; the set built equals the
 *     reference's (requested minus the IANA blocklist, except for an entry
 *     wholly inside one of its ranges, minus the user blocklist), its
 *     exclusion count adds up, and every index maps to its pair and back;
 *   4 MAILCENSUS_SAFE_RANGE through mc_safe_allows(): a list of CIDRs
 *     separated by commas or blanks (at most 16, the variable under 512
 *     bytes, each CIDR strict as above with 0-32 bits); an interval is
 *     allowed exactly when every address of it lies in some listed range. */
#include <arpa/inet.h>
#include <errno.h>
#include <sys/mman.h>
#include <unistd.h>

#include "base/ipv4.h"
#include "base/safety.h"
#include "engine/targets.h"
#include "cli/grab_opts.h"
#include "tests/fuzz/fuzz_util.h"

/* ---- reference parsers ------------------------------------------------- */

/* Decimal digits at s[0..n): value (saturating at 2^32) and count. */
static size_t ref_digits(const char *s, uint64_t *v)
{
	size_t i = 0;

	*v = 0;
	for (; s[i] >= '0' && s[i] <= '9'; i++)
		if (*v < (1ull << 32))
			*v = *v * 10 + (uint64_t)(s[i] - '0');
	return i;
}

/* A dotted quad at s, all of s[0..n). */
static bool ref_quad(const char *s, size_t n, uint32_t *addr)
{
	size_t i = 0;

	*addr = 0;
	for (int part = 0; part < 4; part++) {
		uint64_t v;
		size_t d;

		if (part > 0) {
			if (i >= n || s[i] != '.')
				return false;
			i++;
		}
		d = i < n ? ref_digits(s + i, &v) : 0;
		if (d == 0 || i + d > n || d > 3 || v > 255 || (d > 1 && s[i] == '0'))
			return false;
		*addr = *addr << 8 | (uint32_t)v;
		i += d;
	}
	return i == n;
}

static bool ref_cidr(const char *s, uint32_t *first, uint32_t *last)
{
	const char *slash = strchr(s, '/');
	size_t alen = slash ? (size_t)(slash - s) : strlen(s);
	uint64_t bits = 32;
	uint32_t a, mask;

	if (!ref_quad(s, alen, &a))
		return false;
	if (slash != NULL) {
		size_t d = ref_digits(slash + 1, &bits);
		if (d == 0 || d > 2 || slash[1 + d] != '\0' || bits > 32)
			return false;
	}
	mask = bits == 0 ? 0 : ~(uint32_t)0 << (32 - bits);
	*first = a & mask;
	*last = *first | ~mask;
	return true;
}

/* ---- 0, 1, 2 ----------------------------------------------------------- */

static void part_cidr(const char *s)
{
	uint32_t f = 0, l = 0, rf = 0, rl = 0;
	bool ok = mc_cidr_parse(s, &f, &l) == 0, want = ref_cidr(s, &rf, &rl);

	FUZZ_CHECK(ok == want, "'%s': parser %d, reference %d", s, ok, want);
	FUZZ_CHECK(!ok || (f == rf && l == rl), "'%s': %08x-%08x vs %08x-%08x", s, f, l, rf, rl);
}

static void part_ports(const char *s, size_t max)
{
	static uint16_t got[65535], want[65535];
	static uint8_t seen[65536];
	size_t n = 0, wn = 0;
	const char *p = s;
	bool want_ok = true;
	char err[256];
	int rc = targets_parse_ports(s, got, max, &n, err, sizeof(err));

	memset(seen, 0, sizeof(seen));
	for (;;) {
		uint64_t lo, hi;
		size_t d = ref_digits(p, &lo);
		if (d == 0) {
			want_ok = false;
			break;
		}
		p += d;
		hi = lo;
		if (*p == '-') {
			d = ref_digits(p + 1, &hi);
			if (d == 0) {
				want_ok = false;
				break;
			}
			p += 1 + d;
		}
		if (lo == 0 || hi > 65535 || lo > hi) {
			want_ok = false;
			break;
		}
		for (uint64_t port = lo; port <= hi && want_ok; port++) {
			if (seen[port])
				continue;
			if (wn == max)
				want_ok = false;
			else
				seen[port] = 1, want[wn++] = (uint16_t)port;
		}
		if (!want_ok || *p == '\0')
			break;
		if (*p != ',') {
			want_ok = false;
			break;
		}
		p++;
	}
	FUZZ_CHECK((rc == 0) == want_ok, "'%s' (max %zu): rc %d, reference %d", s, max, rc,
		   want_ok);
	FUZZ_CHECK(rc != 0 || (n == wn && memcmp(got, want, n * sizeof(got[0])) == 0),
		   "'%s': %zu ports, reference %zu", s, n, wn);
}

static bool ref_name_ok(const char *s, size_t n)
{
	bool letter = false;

	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
			letter = true;
		else if (!(c >= '0' && c <= '9') && c != '-' && c != '_' && c != '.')
			return false;
	}
	return letter && n > 0 && n < MC_NAME_MAX;
}

/* grab_parse_target_named()'s answer for a line, by the documented rules:
 * '#' comment and blanks trimmed; blank or "saddr," header: 0; then
 * ADDR:PORT [NAME] or ADDR,PORT[,NAME | ,numeric scan -o fields...]. */
static int ref_grab_line(const char *line, uint32_t *raddr, uint64_t *v, char *name)
{
	const char *hash = strchr(line, '#'), *t;
	size_t n = hash ? (size_t)(hash - line) : strlen(line), s = 0, sep, p, d, e;

	name[0] = '\0';
	while (n > 0 && strchr(" \t\r\n", line[n - 1]) != NULL)
		n--;
	while (s < n && (line[s] == ' ' || line[s] == '\t'))
		s++;
	t = line + s;
	n -= s;
	if (n == 0 || strncmp(t, "saddr,", 6) == 0)
		return 0;
	for (sep = 0; sep < n && t[sep] != ':' && t[sep] != ','; sep++)
		;
	if (n >= 512 || sep == n || !ref_quad(t, sep, raddr))
		return -EINVAL;
	for (p = sep + 1; p < n && t[p] == ' '; p++)
		;
	d = p < n ? ref_digits(t + p, v) : 0;
	if (d == 0 || *v < 1 || *v > 65535)
		return -EINVAL;
	e = p + d;
	if (e == n)
		return 1;
	if (t[sep] == ':' && (t[e] == ' ' || t[e] == '\t')) {
		while (e < n && (t[e] == ' ' || t[e] == '\t'))
			e++;
		if (!ref_name_ok(t + e, n - e))
			return -EINVAL;
		memcpy(name, t + e, n - e);
		name[n - e] = '\0';
		return 1;
	}
	if (t[sep] == ',' && t[e] == ',') {
		size_t f = e + 1, k = f, digits = 0;
		while (k < n && t[k] != ',')
			digits += t[k] >= '0' && t[k] <= '9', k++;
		if (k == f || digits == k - f)
			return 1; /* scan -o's numeric fields */
		if (!ref_name_ok(t + f, k - f))
			return -EINVAL;
		memcpy(name, t + f, k - f);
		name[k - f] = '\0';
		return 1;
	}
	return -EINVAL;
}

static void part_grab_line(const char *line)
{
	uint32_t addr = 0, raddr = 0;
	uint16_t port = 0;
	uint64_t v = 0;
	char name[MC_NAME_MAX], rname[1024];
	int rc = grab_parse_target_named(line, &addr, &port, name, sizeof(name));
	int want = ref_grab_line(line, &raddr, &v, rname);

	FUZZ_CHECK(rc == want, "'%s': %d, reference %d", line, rc, want);
	FUZZ_CHECK(rc != 1 || (addr == raddr && port == v && strcmp(name, rname) == 0),
		   "'%s': %08x:%u '%s' vs %08x:%u '%s'", line, addr, port, name, raddr, (unsigned)v,
		   rname);
	FUZZ_CHECK(grab_parse_target(line, &addr, &port) == rc, "named and unnamed differ");
}

/* ---- 3: allow/block files ---------------------------------------------- */

struct rset {
	uint64_t lo[1024], hi[1024];
	size_t n;
};

static void rs_add(struct rset *s, uint64_t lo, uint64_t hi)
{
	if (lo < hi && s->n < 1024)
		s->lo[s->n] = lo, s->hi[s->n++] = hi;
}

static void rs_norm(struct rset *s)
{
	size_t out = 0;

	for (size_t i = 1; i < s->n; i++) /* insertion sort by lo */
		for (size_t j = i; j > 0 && s->lo[j - 1] > s->lo[j]; j--) {
			uint64_t a = s->lo[j], b = s->hi[j];
			s->lo[j] = s->lo[j - 1], s->hi[j] = s->hi[j - 1];
			s->lo[j - 1] = a, s->hi[j - 1] = b;
		}
	for (size_t i = 1; i < s->n; i++) {
		if (s->lo[i] <= s->hi[out]) {
			if (s->hi[i] > s->hi[out])
				s->hi[out] = s->hi[i];
		} else {
			out++;
			s->lo[out] = s->lo[i], s->hi[out] = s->hi[i];
		}
	}
	if (s->n > 0)
		s->n = out + 1;
}

/* out += [lo, hi) minus every interval of b (b normalized). */
static void rs_sub_one(struct rset *out, uint64_t lo, uint64_t hi, const struct rset *b)
{
	for (size_t k = 0; k < b->n && lo < hi; k++) {
		if (b->hi[k] <= lo || b->lo[k] >= hi)
			continue;
		rs_add(out, lo, b->lo[k] > lo ? b->lo[k] : lo);
		lo = b->hi[k];
	}
	rs_add(out, lo, hi);
}

static uint64_t rs_size(const struct rset *s)
{
	uint64_t n = 0;

	for (size_t i = 0; i < s->n; i++)
		n += s->hi[i] - s->lo[i];
	return n;
}

/* What the reference makes of a list file: fine, or the first error and its
 * line (1-based). */
enum ref_file_verdict { REF_FILE_OK, REF_FILE_NUL, REF_FILE_LONG, REF_FILE_BAD };

/* Lines of a list file as the documented format has them: split at '\n', a
 * line of at most 255 bytes without NUL, '#' comments, blanks around. */
static enum ref_file_verdict ref_file(const uint8_t *d, size_t n, struct rset *s, unsigned *line)
{
	size_t i = 0;

	*line = 0;
	while (i < n) {
		const uint8_t *nl = memchr(d + i, '\n', n - i);
		size_t k = nl != NULL ? (size_t)(nl - (d + i)) : n - i;
		char piece[256], *text, *end;
		uint32_t f, l;

		++*line;
		/* the first bad byte decides: a NUL among the first 256, else the length */
		if (memchr(d + i, '\0', k < 256 ? k : 256) != NULL)
			return REF_FILE_NUL;
		if (k > 255)
			return REF_FILE_LONG;
		memcpy(piece, d + i, k);
		piece[k] = '\0';
		i += k + (nl != NULL);
		if ((text = strchr(piece, '#')) != NULL)
			*text = '\0';
		for (text = piece; *text == ' ' || *text == '\t'; text++)
			;
		end = text + strlen(text);
		while (end > text && strchr(" \t\r", end[-1]) != NULL)
			*--end = '\0';
		if (*text == '\0')
			continue;
		if (!ref_cidr(text, &f, &l))
			return REF_FILE_BAD;
		rs_add(s, f, (uint64_t)l + 1);
	}
	return REF_FILE_OK;
}

/* The error targets_build() must give for a file the reference refused. */
static void check_file_error(const char *err, enum ref_file_verdict v, const char *path,
			     unsigned line)
{
	char want[128];

	if (v == REF_FILE_NUL)
		snprintf(want, sizeof(want), "NUL byte in %s:%u", path, line);
	else if (v == REF_FILE_LONG)
		snprintf(want, sizeof(want), "line too long in %s:%u (at most 255 bytes)", path,
			 line);
	else
		snprintf(want, sizeof(want), " in %s:%u", path, line);
	if (v == REF_FILE_BAD)
		FUZZ_CHECK(strncmp(err, "bad CIDR '", 10) == 0 && strlen(err) >= strlen(want) &&
			       strcmp(err + strlen(err) - strlen(want), want) == 0,
			   "error '%s', want bad CIDR ...%s", err, want);
	else
		FUZZ_CHECK(strcmp(err, want) == 0, "error '%s', want '%s'", err, want);
}

static const char *const iana[] = {
    "0.0.0.0/8",      "10.0.0.0/8",	"100.64.0.0/10", "127.0.0.0/8",
    "169.254.0.0/16", "172.16.0.0/12",	"192.0.0.0/24",	 "192.0.2.0/24",
    "192.88.99.0/24", "192.168.0.0/16", "198.18.0.0/15", "198.51.100.0/24",
    "203.0.113.0/24", "224.0.0.0/4",	"240.0.0.0/4",	 "255.255.255.255/32"};

/* A list file's bytes into memfd fd (read back through /proc/self/fd/N:
 * no file system, no directory entry per input). */
static bool write_file(int fd, const uint8_t *d, size_t n)
{
	return ftruncate(fd, 0) == 0 && (n == 0 || pwrite(fd, d, n, 0) == (ssize_t)n);
}

static void part_files(struct fuzz_in *in)
{
	static int allow_fd = -1, block_fd = -1;
	static char allow_path[64], block_path[64];
	static struct rset req, block, kept, want;
	static const uint16_t ports[] = {110, 143, 993};
	uint8_t flags = fuzz_u8(in);
	const uint8_t *a, *b;
	size_t na = fuzz_take(in, fuzz_u16(in) % 4096, &a), nb = fuzz_take(in, 4096, &b);
	struct targets_spec spec = {.allow_file = allow_path,
				    .block_file = flags & 1 ? block_path : NULL,
				    .ports = ports,
				    .nports = 1 + (flags >> 1) % 3,
				    .no_default_blocklist = flags & 8,
				    .ignore_safe_range = true};
	struct targets *t = NULL;
	char err[512] = "";
	enum ref_file_verdict va, vb = REF_FILE_OK;
	unsigned la, lb = 0;
	int rc;

	if (allow_fd < 0) {
		allow_fd = memfd_create("fuzz_targets_allow", 0);
		block_fd = memfd_create("fuzz_targets_block", 0);
		FUZZ_CHECK(allow_fd >= 0 && block_fd >= 0, "memfd_create");
		snprintf(allow_path, sizeof(allow_path), "/proc/self/fd/%d", allow_fd);
		snprintf(block_path, sizeof(block_path), "/proc/self/fd/%d", block_fd);
	}
	FUZZ_CHECK(write_file(allow_fd, a, na) && write_file(block_fd, b, nb), "write");
	req.n = block.n = kept.n = want.n = 0;
	va = ref_file(a, na, &req, &la);
	if (va == REF_FILE_OK && (flags & 1))
		vb = ref_file(b, nb, &block, &lb);
	rc = targets_build(&t, &spec, err, sizeof(err));
	if (va != REF_FILE_OK || vb != REF_FILE_OK) {
		FUZZ_CHECK(rc == -EINVAL && t == NULL, "bad file accepted (rc %d)", rc);
		if (va != REF_FILE_OK)
			check_file_error(err, va, allow_path, la);
		else
			check_file_error(err, vb, block_path, lb);
		return;
	}
	if (req.n == 0 || req.n >= 1024 || block.n >= 1024) {
		FUZZ_CHECK(req.n > 0 || rc != 0, "no targets accepted");
		targets_free(t);
		return;
	}
	for (size_t i = 0; i < req.n; i++) { /* the IANA list, per requested entry */
		struct rset d = {.n = 0};
		for (size_t k = 0; !(flags & 8) && k < 16; k++) {
			uint32_t f, l;
			FUZZ_CHECK(ref_cidr(iana[k], &f, &l), "iana");
			if (!(f <= req.lo[i] && req.hi[i] <= (uint64_t)l + 1))
				rs_add(&d, f, (uint64_t)l + 1);
		}
		rs_norm(&d);
		rs_sub_one(&kept, req.lo[i], req.hi[i], &d);
	}
	rs_norm(&kept);
	rs_norm(&block);
	for (size_t i = 0; i < kept.n; i++)
		rs_sub_one(&want, kept.lo[i], kept.hi[i], &block);
	rs_norm(&want);
	rs_norm(&req);
	if (want.n == 0) {
		FUZZ_CHECK(rc == -EINVAL, "empty set accepted (rc %d)", rc);
		return;
	}
	FUZZ_CHECK(rc == 0, "rc %d: %s", rc, err);
	FUZZ_CHECK(targets_nintervals(t) == want.n, "%zu intervals, reference %zu",
		   targets_nintervals(t), want.n);
	for (size_t i = 0; i < want.n; i++) {
		uint32_t f, l;
		targets_interval(t, i, &f, &l);
		FUZZ_CHECK(f == want.lo[i] && (uint64_t)l + 1 == want.hi[i], "interval %zu", i);
	}
	FUZZ_CHECK(targets_addresses(t) == rs_size(&want), "address count");
	FUZZ_CHECK(targets_pairs(t) == rs_size(&want) * spec.nports, "pair count");
	FUZZ_CHECK(targets_excluded_total(t) == rs_size(&req) - rs_size(&want),
		   "excluded %llu, reference %llu", (unsigned long long)targets_excluded_total(t),
		   (unsigned long long)(rs_size(&req) - rs_size(&want)));
	for (int k = 0; k < 8; k++) {
		uint64_t idx = fuzz_u32(in) % targets_pairs(t), back = UINT64_MAX;
		uint32_t addr, probe = fuzz_u32(in);
		uint16_t port;
		bool in_set = false;
		targets_pair(t, idx, &addr, &port);
		FUZZ_CHECK(targets_index_of(t, addr, port, &back) && back == idx, "index %llu",
			   (unsigned long long)idx);
		for (size_t i = 0; i < want.n; i++)
			in_set |= probe >= want.lo[i] && probe < want.hi[i];
		FUZZ_CHECK(targets_index_of(t, probe, 110, &back) == in_set, "membership of %08x",
			   probe);
	}
	targets_free(t);
}

/* ---- 4: the safe-range variable --------------------------------------- */

static void part_safe(struct fuzz_in *in)
{
	char env[700], list[700], why[256];
	const uint8_t *d;
	uint32_t first = fuzz_u32(in), last = first + fuzz_u16(in) % 4096;
	size_t n = fuzz_take(in, sizeof(env) - 1, &d), nr = 0;
	uint32_t rf[16], rl[16];
	bool parsed = true, want, got;
	char *tok, *save = NULL;

	if (last < first)
		last = UINT32_MAX;
	memcpy(env, d, n);
	env[n] = '\0';
	FUZZ_CHECK(setenv(MC_SAFE_RANGE_ENV, env, 1) == 0, "setenv");
	got = mc_safe_allows(first, last, why, sizeof(why));
	if (env[0] == '\0') {
		want = true;
	} else if (strlen(env) >= 512) {
		want = false;
	} else {
		snprintf(list, sizeof(list), "%s", env);
		for (tok = strtok_r(list, ", ", &save); tok && parsed;
		     tok = strtok_r(NULL, ", ", &save)) {
			if (nr == 16 || strlen(tok) >= 64 || !ref_cidr(tok, &rf[nr], &rl[nr]))
				parsed = false;
			else
				nr++;
		}
		want = parsed;
		for (uint64_t a = first; want && a <= last;) { /* every address covered */
			size_t i;
			for (i = 0; i < nr && !(a >= rf[i] && a <= rl[i]); i++)
				;
			if (i == nr)
				want = false;
			else
				a = (uint64_t)rl[i] + 1;
		}
	}
	FUZZ_CHECK(got == want, "'%s' for %08x-%08x: %d, reference %d (%s)", env, first, last, got,
		   want, got ? "" : why);
	unsetenv(MC_SAFE_RANGE_ENV);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = {data, size};
	uint8_t sel = fuzz_u8(&in);
	char text[1024];
	const uint8_t *d;
	size_t n;

	switch (sel % 6) {
	case 3:
		part_files(&in);
		return 0;
	case 4:
		part_safe(&in);
		return 0;
	default:
		break;
	}
	n = fuzz_take(&in, sizeof(text) - 1, &d);
	memcpy(text, d, n);
	text[n] = '\0';
	if (sel % 6 == 0)
		part_cidr(text);
	else if (sel % 6 == 1)
		part_ports(text, 1 + (sel >> 3) * 8u);
	else /* 2, and 5 (whole lists before grab read lines with getline()) */
		part_grab_line(text);
	return 0;
}
