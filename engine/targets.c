/* targets.c — allowed addresses as sorted disjoint intervals, times ports.
 *
 * Every input (CIDR arguments, allowlist lines, blocklist lines, the IANA
 * default blocklist) is an interval [lo, hi) of 64-bit integers so that the
 * top of the address space needs no special case. A set is a sorted array
 * of disjoint, non-touching intervals; subtraction and intersection are one
 * merge-like sweep over two sets.
 *
 * The default blocklist applies to each requested range except when that
 * range lies wholly inside the blocked one: asking for 198.18.1.0/24 means
 * it, asking for 0.0.0.0/0 does not mean 198.18.0.0/15. Since CIDR blocks
 * either nest or are disjoint, this is exact. The user blocklist always
 * applies. Excluded addresses are counted once each, under the first reason
 * (default entries in table order, then the blocklist file).
 *
 * Index -> pair: index / nports is an address rank; a binary search over the
 * intervals' prefix sums finds the interval holding it. Pair -> index: a
 * binary search over interval starts plus a 64 Ki slot table for ports.
 * Both searches run per packet, so each first consults a bucket table
 * (rank >> shift, resp. address >> 16) that narrows the search to the few
 * intervals overlapping that bucket, and the search itself is branch-free.
 * The rank table has 64 buckets per interval (at most 64 Ki): the
 * permutation hits it at random, so for the usual few intervals it is kept
 * small enough for the first-level cache (4 KiB for 0.0.0.0/0 minus the
 * blocklist, 256 bytes for one range) rather than 256 KiB, which the TX
 * lcore's mbufs would otherwise share the second-level cache with. A cached
 * "last interval" would not help: consecutive indexes are unrelated.
 *
 * The division index / nports: nports < 2^16 and index < 2^32 * nports <
 * 2^48, so the quotient is one multiply-high by m = ceil(2^64 / nports)
 * (m * nports = 2^64 + e with e < nports: the product overshoots the true
 * quotient by index * e / 2^64 / nports < 1 / nports, which never carries
 * into the integer part). nports == 1 needs no division. */
#include "targets.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/ipv4.h"
#include "base/safety.h"

#define LINE_MAX_BYTES 256
#define NDEFAULT       16
#define NBUCKETS       65536 /* address table; the rank table's upper bound */
#define RANK_PER_IV    64    /* rank buckets per interval (rounded up to a power of two) */

struct ival {
	uint64_t lo, hi; /* [lo, hi) */
};

struct ivset {
	struct ival *v;
	size_t n, cap;
};

struct targets {
	struct ival *iv;       /* allowed intervals, sorted, disjoint */
	uint64_t *rank;	       /* rank[i]: addresses in iv[0..i) */
	uint32_t *rank_bucket; /* [b]: interval holding rank b << rank_shift; nrank_buckets + 1 */
	unsigned rank_shift;
	size_t nrank_buckets;  /* power of two, <= NBUCKETS */
	uint32_t *addr_bucket; /* [b]: first interval ending after address b << 16; NBUCKETS + 1 */
	size_t niv;
	uint64_t naddr;
	uint16_t *ports;
	size_t nports;
	uint32_t *port_slot; /* port -> position + 1, 0 when not probed */
	uint64_t port_magic; /* ceil(2^64 / nports): index / nports by one multiply; 0: nports 1 */
	const char *reason[TARGETS_MAX_REASONS];
	uint64_t excluded[TARGETS_MAX_REASONS];
	size_t nreasons;
};

static const struct {
	const char *cidr, *name;
} default_block[NDEFAULT] = {
    {"0.0.0.0/8", "default:0.0.0.0/8"},
    {"10.0.0.0/8", "default:10.0.0.0/8"},
    {"100.64.0.0/10", "default:100.64.0.0/10"},
    {"127.0.0.0/8", "default:127.0.0.0/8"},
    {"169.254.0.0/16", "default:169.254.0.0/16"},
    {"172.16.0.0/12", "default:172.16.0.0/12"},
    {"192.0.0.0/24", "default:192.0.0.0/24"},
    {"192.0.2.0/24", "default:192.0.2.0/24"},
    {"192.88.99.0/24", "default:192.88.99.0/24"},
    {"192.168.0.0/16", "default:192.168.0.0/16"},
    {"198.18.0.0/15", "default:198.18.0.0/15"},
    {"198.51.100.0/24", "default:198.51.100.0/24"},
    {"203.0.113.0/24", "default:203.0.113.0/24"},
    {"224.0.0.0/4", "default:224.0.0.0/4"},
    {"240.0.0.0/4", "default:240.0.0.0/4"},
    {"255.255.255.255/32", "default:255.255.255.255/32"},
};

/* ---- interval sets ---------------------------------------------------- */

static int ivset_add(struct ivset *s, uint64_t lo, uint64_t hi)
{
	if (lo >= hi)
		return 0;
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 16;
		struct ival *v = realloc(s->v, cap * sizeof(*v));

		if (v == NULL)
			return -ENOMEM;
		s->v = v;
		s->cap = cap;
	}
	s->v[s->n++] = (struct ival){lo, hi};
	return 0;
}

static int ival_cmp(const void *a, const void *b)
{
	const struct ival *x = a, *y = b;

	return (x->lo > y->lo) - (x->lo < y->lo);
}

/* Sort and merge overlapping or touching intervals. */
static void ivset_normalize(struct ivset *s)
{
	size_t out = 0;

	if (s->n == 0)
		return;
	qsort(s->v, s->n, sizeof(*s->v), ival_cmp);
	for (size_t i = 1; i < s->n; i++) {
		if (s->v[i].lo <= s->v[out].hi) {
			if (s->v[i].hi > s->v[out].hi)
				s->v[out].hi = s->v[i].hi;
		} else {
			s->v[++out] = s->v[i];
		}
	}
	s->n = out + 1;
}

/* out = a - b (out is appended to); a and b normalized. */
static int ivset_subtract(const struct ivset *a, const struct ivset *b, struct ivset *out)
{
	size_t j = 0;

	for (size_t i = 0; i < a->n; i++) {
		uint64_t lo = a->v[i].lo, hi = a->v[i].hi;

		while (j < b->n && b->v[j].hi <= lo)
			j++;
		for (size_t k = j; k < b->n && b->v[k].lo < hi; k++) {
			if (b->v[k].lo > lo && ivset_add(out, lo, b->v[k].lo) != 0)
				return -ENOMEM;
			if (b->v[k].hi > lo)
				lo = b->v[k].hi;
			if (lo >= hi)
				break;
		}
		if (ivset_add(out, lo, hi) != 0)
			return -ENOMEM;
	}
	return 0;
}

/* Number of addresses in both a and b (normalized). */
static uint64_t ivset_overlap(const struct ivset *a, const struct ivset *b)
{
	uint64_t count = 0;
	size_t i = 0, j = 0;

	while (i < a->n && j < b->n) {
		uint64_t lo = a->v[i].lo > b->v[j].lo ? a->v[i].lo : b->v[j].lo;
		uint64_t hi = a->v[i].hi < b->v[j].hi ? a->v[i].hi : b->v[j].hi;

		if (lo < hi)
			count += hi - lo;
		if (a->v[i].hi < b->v[j].hi)
			i++;
		else
			j++;
	}
	return count;
}

static void ivset_clear(struct ivset *s)
{
	free(s->v);
	*s = (struct ivset){0};
}

/* ---- parsing ----------------------------------------------------------- */

/* Strip a '#' comment and surrounding white space in place; returns the text. */
static char *trim_line(char *line)
{
	char *hash = strchr(line, '#'), *end;

	if (hash != NULL)
		*hash = '\0';
	while (*line == ' ' || *line == '\t')
		line++;
	end = line + strlen(line);
	while (end > line &&
	       (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\n' || end[-1] == '\r'))
		*--end = '\0';
	return line;
}

/* One line of f into line[LINE_MAX_BYTES] (without its newline, NUL
 * terminated). 1 for a line, 0 at end of file, -E2BIG for a line of more
 * than LINE_MAX_BYTES - 1 bytes, -EILSEQ for a NUL byte (fgets() would hide
 * what follows it), -EIO for a read error. The rest of a refused line is
 * not read: the caller stops. */
static int read_line(FILE *f, char *line)
{
	size_t n = 0;
	int c;

	while ((c = getc(f)) != EOF && c != '\n') {
		if (c == '\0')
			return -EILSEQ;
		if (n == LINE_MAX_BYTES - 1)
			return -E2BIG;
		line[n++] = (char)c;
	}
	line[n] = '\0';
	if (ferror(f))
		return -EIO;
	return c == EOF && n == 0 ? 0 : 1;
}

/* Append every line of path to s. */
static int read_cidr_file(const char *path, struct ivset *s, char *err, size_t errlen)
{
	char line[LINE_MAX_BYTES];
	unsigned lineno = 0;
	int rc = 0;
	FILE *f = fopen(path, "r");

	if (f == NULL) {
		rc = -errno;
		snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
		return rc;
	}
	while ((rc = read_line(f, line)) == 1) {
		uint32_t first, last;
		char *text;

		lineno++;
		text = trim_line(line);
		if (*text == '\0')
			continue;
		if (mc_cidr_parse(text, &first, &last) != 0) {
			snprintf(err, errlen, "bad CIDR '%s' in %s:%u", text, path, lineno);
			rc = -EINVAL;
			goto cleanup;
		}
		rc = ivset_add(s, first, (uint64_t)last + 1);
		if (rc != 0)
			goto cleanup;
	}
	lineno++;
	if (rc == -E2BIG)
		snprintf(err, errlen, "line too long in %s:%u (at most %d bytes)", path, lineno,
			 LINE_MAX_BYTES - 1);
	else if (rc == -EILSEQ)
		snprintf(err, errlen, "NUL byte in %s:%u", path, lineno);
	else if (rc == -EIO)
		snprintf(err, errlen, "cannot read %s", path);
	if (rc == -E2BIG || rc == -EILSEQ)
		rc = -EINVAL;
cleanup:
	fclose(f);
	return rc;
}

static int read_cidr_args(const struct targets_spec *spec, struct ivset *s, char *err,
			  size_t errlen)
{
	for (size_t i = 0; i < spec->ncidrs; i++) {
		uint32_t first, last;

		if (mc_cidr_parse(spec->cidrs[i], &first, &last) != 0) {
			snprintf(err, errlen, "bad CIDR '%s' (target argument %zu)", spec->cidrs[i],
				 i + 1);
			return -EINVAL;
		}
		if (ivset_add(s, first, (uint64_t)last + 1) != 0)
			return -ENOMEM;
	}
	return 0;
}

int targets_parse_ports(const char *s, uint16_t *ports, size_t max, size_t *nports, char *err,
			size_t errlen)
{
	uint8_t seen[65536 / 8] = {0};
	const char *p = s;
	size_t n = 0;

	for (;;) {
		char *end;
		unsigned long lo, hi;

		if (*p < '0' || *p > '9')
			goto bad;
		lo = strtoul(p, &end, 10);
		hi = lo;
		if (*end == '-') {
			if (end[1] < '0' || end[1] > '9')
				goto bad;
			hi = strtoul(end + 1, &end, 10);
		}
		if (lo == 0 || hi > 65535 || lo > hi)
			goto bad;
		for (unsigned long port = lo; port <= hi; port++) {
			if (seen[port / 8] & (1u << (port % 8)))
				continue;
			if (n == max) {
				snprintf(err, errlen, "too many ports in '%s' (at most %zu)", s,
					 max);
				return -EINVAL;
			}
			seen[port / 8] |= (uint8_t)(1u << (port % 8));
			ports[n++] = (uint16_t)port;
		}
		if (*end == '\0')
			break;
		if (*end != ',')
			goto bad;
		p = end + 1;
	}
	*nports = n;
	return 0;
bad:
	snprintf(err, errlen, "bad port list '%s' (want e.g. 110,143,993-995; ports 1-65535)", s);
	return -EINVAL;
}

/* ---- building ----------------------------------------------------------- */

/* The default blocklist as intervals, in table order. */
static void default_ivals(struct ival d[NDEFAULT])
{
	for (size_t k = 0; k < NDEFAULT; k++) {
		uint32_t first = 0, last = 0;

		(void)mc_cidr_parse(default_block[k].cidr, &first, &last); /* constant, valid */
		d[k] = (struct ival){first, (uint64_t)last + 1};
	}
}

/* out = union over requested ranges r of (r minus every default range that
 * does not contain r). `req` is the raw (unsorted) request list. */
static int apply_default(const struct ivset *req, struct ivset *out)
{
	struct ivset one = {0}, block = {0};
	struct ival d[NDEFAULT];
	int rc = 0;

	default_ivals(d);
	for (size_t i = 0; i < req->n && rc == 0; i++) {
		const struct ival r = req->v[i];

		block.n = 0;
		one.n = 0;
		for (size_t k = 0; k < NDEFAULT && rc == 0; k++)
			if (!(d[k].lo <= r.lo && r.hi <= d[k].hi)) /* r not inside d[k] */
				rc = ivset_add(&block, d[k].lo, d[k].hi);
		if (rc == 0)
			rc = ivset_add(&one, r.lo, r.hi);
		if (rc == 0) {
			ivset_normalize(&block);
			rc = ivset_subtract(&one, &block, out);
		}
	}
	ivset_clear(&one);
	ivset_clear(&block);
	ivset_normalize(out);
	return rc;
}

/* Count requested-but-defaulted addresses per default entry, first reason wins. */
static int count_default_reasons(struct targets *t, const struct ivset *req,
				 const struct ivset *kept)
{
	struct ivset left = {0}, next = {0}, one = {0}, swap;
	struct ival d[NDEFAULT];
	int rc = ivset_subtract(req, kept, &left);

	default_ivals(d);
	for (size_t k = 0; k < NDEFAULT && rc == 0; k++) {
		uint64_t c;

		one.n = 0;
		rc = ivset_add(&one, d[k].lo, d[k].hi);
		c = rc == 0 ? ivset_overlap(&left, &one) : 0;
		if (c == 0)
			continue;
		t->reason[t->nreasons] = default_block[k].name;
		t->excluded[t->nreasons++] = c;
		next.n = 0;
		rc = ivset_subtract(&left, &one, &next);
		swap = left;
		left = next;
		next = swap;
	}
	ivset_clear(&left);
	ivset_clear(&next);
	ivset_clear(&one);
	return rc;
}

static int set_ports(struct targets *t, const uint16_t *ports, size_t nports, char *err,
		     size_t errlen)
{
	t->port_slot = calloc(65536, sizeof(*t->port_slot));
	t->ports = malloc((nports ? nports : 1) * sizeof(*t->ports));
	if (t->port_slot == NULL || t->ports == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < nports; i++) {
		if (ports[i] == 0) {
			snprintf(err, errlen, "port 0 cannot be probed");
			return -EINVAL;
		}
		if (t->port_slot[ports[i]] != 0)
			continue;
		t->ports[t->nports] = ports[i];
		t->port_slot[ports[i]] = (uint32_t)++t->nports;
	}
	if (t->nports == 0) {
		snprintf(err, errlen, "no ports given");
		return -EINVAL;
	}
	return 0;
}

/* The bucket tables that narrow both per-packet searches (see the top). */
static int build_buckets(struct targets *t)
{
	size_t i = 0;

	t->nrank_buckets = RANK_PER_IV;
	while (t->nrank_buckets < NBUCKETS && t->nrank_buckets < t->niv * RANK_PER_IV)
		t->nrank_buckets *= 2;
	t->rank_bucket = malloc((t->nrank_buckets + 1) * sizeof(*t->rank_bucket));
	t->addr_bucket = malloc((NBUCKETS + 1) * sizeof(*t->addr_bucket));
	if (t->rank_bucket == NULL || t->addr_bucket == NULL)
		return -ENOMEM;
	while (((t->naddr - 1) >> t->rank_shift) >= t->nrank_buckets)
		t->rank_shift++;
	for (uint64_t b = 0; b <= t->nrank_buckets; b++) {
		uint64_t r = b << t->rank_shift;

		while (i + 1 < t->niv && t->rank[i + 1] <= r)
			i++;
		t->rank_bucket[b] = (uint32_t)i;
	}
	i = 0;
	for (uint64_t b = 0; b <= NBUCKETS; b++) {
		while (i < t->niv && t->iv[i].hi <= (b << 16))
			i++;
		t->addr_bucket[b] = (uint32_t)i; /* may be niv: nothing at or above */
	}
	return 0;
}

/* Take ownership of the final set; build prefix sums; check the safe range. */
static int set_intervals(struct targets *t, struct ivset *final, bool check_safe, char *err,
			 size_t errlen)
{
	t->iv = final->v;
	t->niv = final->n;
	*final = (struct ivset){0};
	if (t->niv == 0) {
		snprintf(err, errlen, "every target is excluded by the blocklists");
		return -EINVAL;
	}
	t->rank = malloc(t->niv * sizeof(*t->rank));
	if (t->rank == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < t->niv; i++) {
		t->rank[i] = t->naddr;
		t->naddr += t->iv[i].hi - t->iv[i].lo;
		if (check_safe && !mc_safe_allows((uint32_t)t->iv[i].lo,
						  (uint32_t)(t->iv[i].hi - 1), err, errlen))
			return -EPERM;
	}
	/* exact since index < 2^48 and nports < 2^16 (see the top) */
	if (t->nports > 1)
		t->port_magic = UINT64_MAX / t->nports + 1;
	return build_buckets(t);
}

/* Requested ranges minus the default and user blocklists, with reason counts. */
static int build_set(struct targets *t, const struct targets_spec *spec, struct ivset *final,
		     char *err, size_t errlen)
{
	struct ivset req = {0}, kept = {0}, block = {0};
	int rc = read_cidr_args(spec, &req, err, errlen);

	if (rc == 0 && spec->allow_file != NULL)
		rc = read_cidr_file(spec->allow_file, &req, err, errlen);
	if (rc == 0 && spec->block_file != NULL)
		rc = read_cidr_file(spec->block_file, &block, err, errlen);
	if (rc == 0 && req.n == 0) {
		snprintf(err, errlen, "no targets given (the whole Internet is 0.0.0.0/0)");
		rc = -EINVAL;
	}
	if (rc == 0 && !spec->no_default_blocklist) {
		rc = apply_default(&req, &kept);
		ivset_normalize(&req);
		if (rc == 0)
			rc = count_default_reasons(t, &req, &kept);
	} else if (rc == 0) {
		ivset_normalize(&req);
		kept = req;
		req = (struct ivset){0};
	}
	if (rc == 0) {
		ivset_normalize(&block);
		rc = ivset_subtract(&kept, &block, final);
	}
	if (rc == 0 && block.n > 0) {
		uint64_t c = ivset_overlap(&kept, &block);

		if (c > 0) {
			t->reason[t->nreasons] = "blocklist-file";
			t->excluded[t->nreasons++] = c;
		}
	}
	ivset_clear(&req);
	ivset_clear(&kept);
	ivset_clear(&block);
	return rc;
}

int targets_build(struct targets **out, const struct targets_spec *spec, char *err, size_t errlen)
{
	struct targets *t = calloc(1, sizeof(*t));
	struct ivset final = {0};
	int rc;

	*out = NULL;
	if (t == NULL)
		return -ENOMEM;
	rc = set_ports(t, spec->ports, spec->nports, err, errlen);
	if (rc == 0)
		rc = build_set(t, spec, &final, err, errlen);
	if (rc == 0)
		rc = set_intervals(t, &final, !spec->ignore_safe_range, err, errlen);
	if (rc == -ENOMEM)
		snprintf(err, errlen, "out of memory building the target set");
	ivset_clear(&final);
	if (rc != 0) {
		targets_free(t);
		return rc;
	}
	*out = t;
	return 0;
}

void targets_free(struct targets *t)
{
	if (t == NULL)
		return;
	free(t->iv);
	free(t->rank);
	free(t->rank_bucket);
	free(t->addr_bucket);
	free(t->ports);
	free(t->port_slot);
	free(t);
}

/* ---- queries ------------------------------------------------------------ */

uint64_t targets_pairs(const struct targets *t)
{
	return t->naddr * t->nports;
}

uint64_t targets_addresses(const struct targets *t)
{
	return t->naddr;
}

size_t targets_nports(const struct targets *t)
{
	return t->nports;
}

uint16_t targets_port(const struct targets *t, size_t i)
{
	return t->ports[i];
}

/* Last i in [lo, hi] with key(i) <= x, given key(lo) <= x; branch-free. */
#define LAST_AT_MOST(lo, hi, key, x)                                                               \
	do {                                                                                       \
		size_t len_ = (hi) - (lo) + 1;                                                     \
		while (len_ > 1) {                                                                 \
			size_t half_ = len_ / 2;                                                   \
			(lo) = (key((lo) + half_) <= (x)) ? (lo) + half_ : (lo);                   \
			len_ -= half_;                                                             \
		}                                                                                  \
	} while (0)

#define RANK_KEY(i)  t->rank[i]
#define START_KEY(i) t->iv[i].lo

/* Address of rank a (< naddr). */
static inline uint32_t rank_addr(const struct targets *t, uint64_t a)
{
	size_t lo = t->rank_bucket[a >> t->rank_shift],
	       hi = t->rank_bucket[(a >> t->rank_shift) + 1];

	LAST_AT_MOST(lo, hi, RANK_KEY, a);
	return (uint32_t)(t->iv[lo].lo + (a - t->rank[lo]));
}

void targets_pair(const struct targets *t, uint64_t index, uint32_t *addr, uint16_t *port)
{
	uint64_t a = index;

	if (t->port_magic != 0)
		a = (uint64_t)(((unsigned __int128)index * t->port_magic) >> 64);
	*addr = rank_addr(t, a);
	*port = t->ports[index - a * t->nports];
}

void targets_pair_bulk(const struct targets *t, const uint64_t *index, size_t n, uint32_t *addr,
		       uint16_t *port)
{
	const uint64_t magic = t->port_magic, nports = t->nports;

	if (magic == 0) {
		for (size_t i = 0; i < n; i++) {
			addr[i] = rank_addr(t, index[i]);
			port[i] = t->ports[0];
		}
		return;
	}
	for (size_t i = 0; i < n; i++) {
		uint64_t a = (uint64_t)(((unsigned __int128)index[i] * magic) >> 64);

		addr[i] = rank_addr(t, a);
		port[i] = t->ports[index[i] - a * nports];
	}
}

bool targets_index_of(const struct targets *t, uint32_t addr, uint16_t port, uint64_t *index)
{
	uint32_t slot = t->port_slot[port];
	size_t lo = t->addr_bucket[addr >> 16], hi = t->addr_bucket[(addr >> 16) + 1];

	if (slot == 0 || lo >= t->niv || addr < t->iv[lo].lo)
		return false;
	if (hi >= t->niv)
		hi = t->niv - 1;
	LAST_AT_MOST(lo, hi, START_KEY, addr);
	if (addr >= t->iv[lo].hi)
		return false;
	*index = (t->rank[lo] + (addr - t->iv[lo].lo)) * t->nports + (slot - 1);
	return true;
}

size_t targets_excluded(const struct targets *t, const char **names, uint64_t *counts, size_t max)
{
	size_t n = t->nreasons < max ? t->nreasons : max;

	for (size_t i = 0; i < n; i++) {
		names[i] = t->reason[i];
		counts[i] = t->excluded[i];
	}
	return n;
}

uint64_t targets_excluded_total(const struct targets *t)
{
	uint64_t sum = 0;

	for (size_t i = 0; i < t->nreasons; i++)
		sum += t->excluded[i];
	return sum;
}

size_t targets_nintervals(const struct targets *t)
{
	return t->niv;
}

void targets_interval(const struct targets *t, size_t i, uint32_t *first, uint32_t *last)
{
	*first = (uint32_t)t->iv[i].lo;
	*last = (uint32_t)(t->iv[i].hi - 1);
}
