/* fuzz_opts.c — the one option parser (base/opts.c, GNU getopt_long
 * underneath) with the real tables of cli/: `grab` (grab_opts_parse),
 * `scan` (scan_options_parse) and `scan --grab` (scan's rows plus the
 * census group, as cli/scan_cmd.c parses them).
 *
 * Byte 0: bits 0-1 the command; bit 2 raw mode. Raw mode: the rest of the
 * input is argv, words split at NUL bytes, anything at all. Structured mode:
 * the input picks a sequence of rows of the command's table, a spelling for
 * each and values from fragments that look like real ones (never "--",
 * which ends scan's own options by design), and positional words; the same
 * command line is built twice, once in that spelling with the words among
 * the options and once canonical ("--name=VALUE" for each option, the words
 * last).
 *
 * Invariants: the parse returns 0 or -EINVAL, and -EINVAL always with a
 * one-line reason; parsing the same words again gives the same result and
 * configuration, also after getopt permuted them (what a caller that parses
 * twice, like scan --grab's two passes, relies on); the spellings "--name
 * VALUE", "--name=VALUE", a unique prefix of the name, "-x VALUE", "-xVALUE"
 * and bundled flags ("-vq") give exactly the configuration of the
 * canonical form, or both fail with the same reason; every row --help
 * prints (grab's rows are read back from its --help) is accepted by the
 * parser with a value exactly when --help shows one; and an accepted
 * configuration holds together (grab: enrichment on only with both
 * databases; scan: a shard below the shard count, a seed with shards, ports
 * 1..65535 without repeats, a source address). Configurations are compared
 * byte for byte, except that a pointer into the command line is compared as
 * the string it points to. */
#include <errno.h>

#include "cli/grab_opts.h"
#include "cli/scan_options.h"
#include "tests/fuzz/fuzz_util.h"

#define WORDS_MAX 48
#define ARENA_MAX 4096

enum cmd_kind { CMD_GRAB, CMD_SCAN, CMD_CENSUS };

struct row {
	char name[40];
	char letter;
	bool value;
};

struct argv_buf {
	char arena[ARENA_MAX];
	size_t used;
	char *argv[WORDS_MAX + 2];
	int argc;
};

struct config {
	struct grab_opts g;
	struct scan_options s;
	struct grab_opts census; /* scan --grab's census group */
	int rc;
	char err[256];
};

static struct row rows[3][160];
static size_t nrows[3];

static bool add_word(struct argv_buf *b, const char *w, size_t n)
{
	if (b->argc >= WORDS_MAX + 1 || b->used + n + 1 > ARENA_MAX)
		return false;
	memcpy(b->arena + b->used, w, n);
	b->arena[b->used + n] = '\0';
	b->argv[b->argc++] = b->arena + b->used;
	b->argv[b->argc] = NULL;
	b->used += n + 1;
	return true;
}

static void start_argv(struct argv_buf *b, enum cmd_kind k)
{
	b->used = 0;
	b->argc = 0;
	add_word(b, k == CMD_GRAB ? "grab" : "scan", 4);
}

/* The words of b as "w1|w2|..." for a message. */
static const char *words_of(const struct argv_buf *b, char *out, size_t cap)
{
	size_t o = 0;

	out[0] = '\0';
	for (int i = 0; i < b->argc && o < cap; i++)
		o += (size_t)snprintf(out + o, cap - o, "%s%s", i ? "|" : "", b->argv[i]);
	return out;
}

static void parse(enum cmd_kind k, struct argv_buf *b, struct config *c)
{
	memset(c, 0, sizeof(*c));
	if (k == CMD_GRAB) {
		c->rc = grab_opts_parse(&c->g, b->argc, b->argv, c->err, sizeof(c->err));
	} else if (k == CMD_SCAN) {
		c->rc = scan_options_parse(&c->s, b->argc, b->argv, c->err, sizeof(c->err));
	} else {
		struct mc_opt_group extra;
		grab_opts_init(&c->census);
		extra = grab_census_group(&c->census);
		c->rc = scan_options_parse_groups(&c->s, &extra, 1, b->argc, b->argv, c->err,
						  sizeof(c->err));
		if (c->rc == 0)
			c->rc = scan_options_check(&c->s, c->err, sizeof(c->err));
		if (c->rc == 0)
			c->rc = grab_opts_finish(&c->census, c->err, sizeof(c->err));
	}
	FUZZ_CHECK(c->rc == 0 || c->rc == -EINVAL, "rc %d", c->rc);
	if (c->rc != 0) {
		static char w[2048];
		size_t n = strnlen(c->err, sizeof(c->err));
		FUZZ_CHECK(n > 0 && n < sizeof(c->err), "error without a reason: %s",
			   words_of(b, w, sizeof(w)));
		FUZZ_CHECK(memchr(c->err, '\n', n) == NULL, "error of more than one line: %s",
			   c->err);
	}
}

static bool in(const struct argv_buf *b, uintptr_t p)
{
	return p >= (uintptr_t)b->arena && p < (uintptr_t)(b->arena + b->used);
}

/* Equal byte for byte, but a pointer into a's command line must be one into
 * b's to the same string (a pointer to argv itself, scan's EAL words, to the
 * same index). */
static void same_struct(const void *x, const void *y, size_t size, const struct argv_buf *a,
			const struct argv_buf *b, const char *what)
{
	const uint8_t *p = x, *q = y;

	for (size_t off = 0; off + sizeof(uintptr_t) <= size; off += sizeof(uintptr_t)) {
		uintptr_t u, v;
		memcpy(&u, p + off, sizeof(u));
		memcpy(&v, q + off, sizeof(v));
		if (in(a, u)) {
			FUZZ_CHECK(in(b, v) && strcmp((const char *)u, (const char *)v) == 0,
				   "%s: string at offset %zu differs ('%s')", what, off,
				   (const char *)u);
		} else if (u >= (uintptr_t)a->argv && u <= (uintptr_t)(a->argv + a->argc)) {
			FUZZ_CHECK(v - (uintptr_t)b->argv == u - (uintptr_t)a->argv,
				   "%s: argv pointer at offset %zu", what, off);
		} else {
			FUZZ_CHECK(u == v, "%s: bytes at offset %zu differ", what, off);
		}
	}
	FUZZ_CHECK(memcmp(p + size / sizeof(uintptr_t) * sizeof(uintptr_t),
			  q + size / sizeof(uintptr_t) * sizeof(uintptr_t),
			  size % sizeof(uintptr_t)) == 0,
		   "%s: tail differs", what);
}

static void same_config(enum cmd_kind k, const struct config *x, const struct config *y,
			const struct argv_buf *a, const struct argv_buf *b, const char *how)
{
	static char wa[2048], wb[2048];

	FUZZ_CHECK(x->rc == y->rc, "%s: rc %d (%s) vs %d (%s): %s vs %s", how, x->rc, x->err, y->rc,
		   y->err, words_of(a, wa, sizeof(wa)), words_of(b, wb, sizeof(wb)));
	if (x->rc != 0)
		return; /* the reason may quote the word as spelled */
	if (k == CMD_GRAB) {
		same_struct(&x->g, &y->g, sizeof(x->g), a, b, how);
	} else {
		/* the EAL words after "--": the same strings (at another argv index
		 * when the spellings took more or fewer words) */
		static struct scan_options sx, sy;
		FUZZ_CHECK(x->s.npass == y->s.npass, "%s: %d vs %d EAL words", how, x->s.npass,
			   y->s.npass);
		for (int i = 0; i < x->s.npass; i++)
			FUZZ_CHECK(strcmp(x->s.pass[i], y->s.pass[i]) == 0, "%s: EAL word %d", how,
				   i);
		sx = x->s;
		sy = y->s;
		sx.pass = sy.pass = NULL;
		same_struct(&sx, &sy, sizeof(sx), a, b, how);
		if (k == CMD_CENSUS)
			same_struct(&x->census, &y->census, sizeof(x->census), a, b, how);
	}
}

/* An accepted configuration holds together. */
static void check_config(enum cmd_kind k, const struct config *c)
{
	if (c->rc != 0)
		return;
	if (k == CMD_GRAB || k == CMD_CENSUS) {
		const struct grab_opts *g = k == CMD_GRAB ? &c->g : &c->census;
		if (k == CMD_GRAB && g->help)
			return;
		FUZZ_CHECK(g->sink.no_enrich == (g->no_enrich_flag || g->sink.geo_db == NULL),
			   "no_enrich %d", g->sink.no_enrich);
		FUZZ_CHECK(g->sink.no_enrich || g->sink.asn_db != NULL, "enrich without ASN db");
		FUZZ_CHECK(g->grab.nports <= GRAB_PORTS_MAX, "%u ports", g->grab.nports);
		for (size_t i = 0; i < g->grab.nports; i++)
			FUZZ_CHECK(g->grab.ports[i].port != 0 &&
				       g->grab.ports[i].proto >= MC_PROTO_POP3 &&
				       g->grab.ports[i].proto <= MC_PROTO_IMAPS,
				   "port %zu", i);
	}
	if (k == CMD_SCAN || k == CMD_CENSUS) {
		const struct scan_options *s = &c->s;
		static uint8_t seen[65536 / 8];
		if (s->help)
			return;
		FUZZ_CHECK(s->shard < s->shards && (s->shards == 1 || s->seed_set), "shard %u/%u",
			   s->shard, s->shards);
		FUZZ_CHECK(s->nports >= 1 && s->nports <= TARGETS_MAX_PORTS, "%zu ports",
			   s->nports);
		memset(seen, 0, sizeof(seen));
		for (size_t i = 0; i < s->nports; i++) {
			FUZZ_CHECK(s->ports[i] != 0 &&
				       !(seen[s->ports[i] / 8] & 1 << s->ports[i] % 8),
				   "port %u zero or twice", s->ports[i]);
			seen[s->ports[i] / 8] |= (uint8_t)(1 << s->ports[i] % 8);
		}
		FUZZ_CHECK(s->nsrc_ips >= 1 && s->nsrc_ips <= ENGINE_MAX_SRC_IPS, "%u sources",
			   s->nsrc_ips);
		FUZZ_CHECK(s->ncidrs > 0 || s->allow_file != NULL, "no targets");
		FUZZ_CHECK(s->rate_pps >= 0 && s->rate_pps == s->rate_pps, "rate");
	}
}

/* ---- the tables ---------------------------------------------------------- */

static void add_rows(enum cmd_kind k, const struct mc_opt *o, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct row *r = &rows[k][nrows[k]++];
		snprintf(r->name, sizeof(r->name), "%s", o[i].name);
		r->letter = o[i].letter;
		r->value = o[i].metavar != NULL;
	}
}

/* grab's rows, read back from its --help ("  -x, --name META   help"). */
static void grab_rows(void)
{
	static char text[16384];
	FILE *f = fmemopen(text, sizeof(text) - 1, "w");
	char *line, *save = NULL;

	FUZZ_CHECK(f != NULL, "fmemopen");
	grab_opts_usage(f);
	fclose(f);
	for (line = strtok_r(text, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
		char *dd = strstr(line, "--");
		if (strncmp(line, "  ", 2) != 0 || dd == NULL || dd > line + 8 || dd[2] == ' ')
			continue;
		struct row *r = &rows[CMD_GRAB][nrows[CMD_GRAB]++];
		size_t n = strcspn(dd + 2, " ");
		FUZZ_CHECK(n < sizeof(r->name), "long name");
		memcpy(r->name, dd + 2, n);
		r->name[n] = '\0';
		r->letter = line[2] == '-' ? line[3] : 0;
		/* a metavar: an upper-case word right after the name */
		const char *m = dd + 2 + n;
		r->value = m[0] == ' ' && m[1] >= 'A' && m[1] <= 'Z' &&
			   (m[2] == ' ' || m[2] == '\0' || (m[2] >= 'A' && m[2] <= 'Z') ||
			    m[2] == '=' || m[2] == '-');
	}
	FUZZ_CHECK(nrows[CMD_GRAB] > 10, "grab --help lists %zu options", nrows[CMD_GRAB]);
}

/* Every row is an option of the parser, with a value exactly when the table
 * (for grab: --help) says so. */
static void check_rows(enum cmd_kind k)
{
	static struct argv_buf b;
	static struct config c;

	for (size_t i = 0; i < nrows[k]; i++) {
		char w[64];
		snprintf(w, sizeof(w), "--%s", rows[k][i].name);
		start_argv(&b, k);
		add_word(&b, w, strlen(w));
		parse(k, &b, &c);
		FUZZ_CHECK(strstr(c.err, "unknown option") == NULL, "--%s: %s", rows[k][i].name,
			   c.err);
		FUZZ_CHECK((strstr(c.err, "missing value") != NULL) == rows[k][i].value,
			   "--%s alone: '%s' (--help shows %s value)", rows[k][i].name, c.err,
			   rows[k][i].value ? "a" : "no");
	}
}

static void load_tables(void)
{
	struct grab_opts g;
	struct mc_opt_group sg = scan_options_group(NULL), cg = grab_census_group(&g);

	grab_rows();
	add_rows(CMD_SCAN, sg.opts, sg.nopts);
	add_rows(CMD_CENSUS, sg.opts, sg.nopts);
	add_rows(CMD_CENSUS, cg.opts, cg.nopts);
	for (int k = 0; k < 3; k++)
		check_rows((enum cmd_kind)k);
}

/* ---- structured command lines ------------------------------------------ */

static const char *const fragments[] = {
    "0",
    "1",
    "7",
    "110",
    "65535",
    "65536",
    "-1",
    "1k",
    "2M",
    "3G",
    "0.5",
    "3600",
    "3601",
    "1e3",
    "x",
    "",
    "110=pop3",
    "993=imaps",
    "0=imap",
    "143=IMAP",
    "1=smtp",
    "=pop3",
    "pop3",
    "tap",
    "none",
    "mss",
    "os",
    "csv",
    "ndjson",
    "198.18.0.1",
    "198.18.0.0/15",
    "10.0.0.0/8",
    "1.2.3.4-1.2.3.9",
    "02:00:00:00:00:01",
    "/tmp/x",
    "-",
    "a=b",
    "mailto:ops@example.test",
    "\"",
    "\xff",
    " ",
    "110,143,993-995",
    "1-0",
    "32768-61000",
};
#define NFRAG (sizeof(fragments) / sizeof(fragments[0]))

static void value(struct fuzz_in *in, char *v, size_t cap)
{
	uint8_t a = fuzz_u8(in), b = fuzz_u8(in);

	snprintf(v, cap, "%s%s", fragments[a % NFRAG], b & 0x80 ? fragments[b % NFRAG] : "");
}

/* The shortest prefix of row r's name that no other row's name starts with. */
static size_t unique_prefix(enum cmd_kind k, const struct row *r)
{
	size_t len = strlen(r->name);

	for (size_t n = 1; n < len; n++) {
		bool unique = true;
		for (size_t i = 0; i < nrows[k] && unique; i++)
			unique = &rows[k][i] == r || strncmp(rows[k][i].name, r->name, n) != 0;
		if (unique)
			return n;
	}
	return len;
}

static void structured(enum cmd_kind k, struct fuzz_in *in, bool base)
{
	static struct argv_buf a, b;
	static struct config ca, cb;
	char words[8][64], w[128], canon[128], v[64] = "";
	size_t nwords = 0;
	char pending[16]; /* flag letters to bundle into one word */
	size_t npending = 0;

	start_argv(&a, k);
	start_argv(&b, k);
	for (int i = 0; i < 12 && in->n > 0; i++) {
		uint8_t pick = fuzz_u8(in), how = fuzz_u8(in);
		if (pick >= 240) { /* a positional word */
			value(in, v, sizeof(v));
			if (v[0] != '-' && nwords < 8) { /* among the options in a, last in b */
				snprintf(words[nwords++], sizeof(words[0]), "%s", v);
				add_word(&a, v, strlen(v));
			}
			continue;
		}
		const struct row *r = &rows[k][pick % nrows[k]];
		if (r->value)
			value(in, v, sizeof(v));
		if (k != CMD_GRAB && strcmp(v, "--") == 0) /* scan: "--" starts the EAL words */
			v[1] = '\0';
		/* canonical */
		snprintf(canon, sizeof(canon), "--%s%s%s", r->name, r->value ? "=" : "",
			 r->value ? v : "");
		add_word(&b, canon, strlen(canon));
		/* spelled */
		if (npending > 0 && !(how % 5 == 4 && r->letter && !r->value)) {
			w[0] = '-';
			memcpy(w + 1, pending, npending);
			add_word(&a, w, npending + 1);
			npending = 0;
		}
		switch (how % 5) {
		case 0:
			snprintf(w, sizeof(w), "--%s", r->name);
			add_word(&a, w, strlen(w));
			if (r->value)
				add_word(&a, v, strlen(v));
			break;
		case 1:
			add_word(&a, canon, strlen(canon));
			break;
		case 2: {
			size_t n = unique_prefix(k, r);
			snprintf(w, sizeof(w), "--%.*s%s%s", (int)n, r->name, r->value ? "=" : "",
				 r->value ? v : "");
			add_word(&a, w, strlen(w));
			break;
		}
		case 3:
		case 4:
			if (r->letter == 0) {
				add_word(&a, canon, strlen(canon));
			} else if (!r->value && how % 5 == 4 && npending < sizeof(pending)) {
				pending[npending++] = r->letter; /* bundled: -vq */
			} else if (r->value && how % 5 == 4 && v[0] != '\0') {
				snprintf(w, sizeof(w), "-%c%s", r->letter, v);
				add_word(&a, w, strlen(w));
			} else {
				snprintf(w, sizeof(w), "-%c", r->letter);
				add_word(&a, w, strlen(w));
				if (r->value)
					add_word(&a, v, strlen(v));
			}
			break;
		}
	}
	if (npending > 0) {
		w[0] = '-';
		memcpy(w + 1, pending, npending);
		add_word(&a, w, npending + 1);
	}
	for (size_t i = 0; i < nwords; i++)
		add_word(&b, words[i], strlen(words[i]));
	if (base && k != CMD_GRAB) { /* what a scan needs, so that configurations get compared */
		static const char *const need[] = {"--source-ip=198.18.0.2",
						   "--gateway-ip=198.18.0.1", "198.18.0.0/24"};
		for (int i = 0; i < 3; i++) {
			add_word(&a, need[i], strlen(need[i]));
			add_word(&b, need[i], strlen(need[i]));
		}
	}
	if (a.argc >= WORDS_MAX + 1 || b.argc >= WORDS_MAX + 1)
		return; /* a word did not fit: the two lines may differ */
	parse(k, &a, &ca);
	parse(k, &b, &cb);
	same_config(k, &cb, &ca, &b, &a, "spelled vs canonical");
	check_config(k, &ca);
}

/* ---- raw words ----------------------------------------------------------- */

static void raw(enum cmd_kind k, struct fuzz_in *in)
{
	static struct argv_buf a, b;
	static struct config ca, cb, cc;
	size_t start = 0, n = in->n < ARENA_MAX - 64 ? in->n : ARENA_MAX - 64;

	start_argv(&a, k);
	for (size_t i = 0; i <= n; i++)
		if (i == n || in->p[i] == '\0') {
			if (!add_word(&a, (const char *)in->p + start, i - start))
				break;
			start = i + 1;
		}
	b = a; /* the same words, before getopt permutes a's argv */
	for (int i = 0; i < b.argc; i++)
		b.argv[i] = b.arena + (a.argv[i] - a.arena);
	parse(k, &a, &ca);
	check_config(k, &ca);
	parse(k, &b, &cb);
	same_config(k, &ca, &cb, &a, &b, "parsed twice");
	parse(k, &a, &cc); /* a's argv as getopt left it */
	same_config(k, &ca, &cc, &a, &a, "parsed again after the permutation");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = {data, size};
	uint8_t sel = fuzz_u8(&in);
	enum cmd_kind k = (enum cmd_kind)(sel % 3);

	if (nrows[0] == 0)
		load_tables();
	if (sel & 4)
		raw(k, &in);
	else
		structured(k, &in, !(sel & 8));
	return 0;
}
