/* fuzz_probe.c — the POP3 and IMAP state machines fed through the line
 * buffer exactly as the grabber feeds them (fuzz_probe.h).
 *
 * Input: byte 0 picks the protocol (pop3, imap, pop3s, imaps) and the mode
 * (main with the pre-TLS login probe, injection, version matrix, POP3 login
 * connection); bytes 1-2 the length of the server's
 * plaintext stream; byte 3 seeds the fuzzer's own cut points; the rest is
 * the plaintext stream followed by the stream over TLS.
 *
 * Invariants: the outcome (the record, byte for byte, every byte we sent,
 * the handshakes, the final state) is the same whether each stream arrives
 * in one segment, one byte at a time, cut where the fuzzer says, or cut
 * once at each of up to 12 boundaries per stream (4 over 2 KB) picked from
 * the input
 * (every boundary next to a CR or LF first, those are where a line buffer
 * goes wrong, then pseudo-random ones from the fuzzer's seed; until
 * 2026-12-02 every boundary of inputs up to 160 bytes, which cost up to
 * 320 replays per input); and for the one-segment run: the record encodes
 * as strict JSON; capability lists are well formed;
 * we sent only the protocol's own commands (never a password); STARTTLS is "accepted" exactly
 * when a handshake followed on 110/143 and never measured on 993/995; the
 * injection verdict exists only in injection mode after TLS; a posture that
 * claims TLS has it. */
#include "tests/fuzz/fuzz_probe.h"

#define SINGLE_CUTS 12 /* single-cut replays per stream */

struct outcome {
	struct mc_record rec; /* compared byte for byte (fp_start zeroes it, padding included) */
	char sent[2048];
	size_t sent_len;
	int handshakes;
	char state[32];
};

/* Cut points: a sorted list of offsets inside [1, n). */
struct cuts {
	size_t at[64];
	size_t n;
};

static void run(struct fp_conn *c, enum mc_proto proto, enum probe_mode mode, const uint8_t *plain,
		size_t np, const struct cuts *pc, const uint8_t *tls, size_t nt,
		const struct cuts *tc, struct outcome *o)
{
	size_t prev = 0;

	fp_start(c, proto, mode);
	for (size_t i = 0; i <= pc->n; i++) {
		size_t end = i < pc->n ? pc->at[i] : np;
		fp_feed(c, plain + prev, end - prev, false);
		prev = end;
	}
	prev = 0;
	for (size_t i = 0; i <= tc->n; i++) {
		size_t end = i < tc->n ? tc->at[i] : nt;
		fp_feed(c, tls + prev, end - prev, true);
		prev = end;
	}
	fp_finish(c);
	memcpy(&o->rec, &c->rec, sizeof(o->rec));
	memcpy(o->sent, c->sent, c->sent_len);
	o->sent_len = c->sent_len;
	o->handshakes = c->handshakes;
	snprintf(o->state, sizeof(o->state), "%s", c->ops->state_name(&c->s));
}

static void run_bytewise(struct fp_conn *c, enum mc_proto proto, enum probe_mode mode,
			 const uint8_t *plain, size_t np, const uint8_t *tls, size_t nt,
			 struct outcome *o)
{
	fp_start(c, proto, mode);
	for (size_t i = 0; i < np; i++)
		fp_feed(c, plain + i, 1, false);
	for (size_t i = 0; i < nt; i++)
		fp_feed(c, tls + i, 1, true);
	fp_finish(c);
	memcpy(&o->rec, &c->rec, sizeof(o->rec));
	memcpy(o->sent, c->sent, c->sent_len);
	o->sent_len = c->sent_len;
	o->handshakes = c->handshakes;
	snprintf(o->state, sizeof(o->state), "%s", c->ops->state_name(&c->s));
}

static void same(const struct outcome *a, const struct outcome *b, const char *how)
{
	if (memcmp(&a->rec, &b->rec, sizeof(a->rec)) != 0) {
		static char ja[MC_RECORD_JSON_MAX], jb[MC_RECORD_JSON_MAX];
		size_t na = mc_record_to_json(&a->rec, ja, sizeof(ja));
		size_t nb = mc_record_to_json(&b->rec, jb, sizeof(jb));
		FUZZ_CHECK(false, "%s: record differs:\n%.*s\n%.*s", how, (int)na, ja, (int)nb, jb);
	}
	FUZZ_CHECK(a->sent_len == b->sent_len && memcmp(a->sent, b->sent, a->sent_len) == 0,
		   "%s: requests differ: '%.*s' vs '%.*s'", how, (int)a->sent_len, a->sent,
		   (int)b->sent_len, b->sent);
	FUZZ_CHECK(a->handshakes == b->handshakes, "%s: handshakes %d vs %d", how, a->handshakes,
		   b->handshakes);
	FUZZ_CHECK(strcmp(a->state, b->state) == 0, "%s: state %s vs %s", how, a->state, b->state);
}

/* Every request is one of the protocol's commands. */
static void check_sent(const struct fp_conn *c)
{
	/* the login probe's commands included: never a password (no PASS, no
	 * credentials after AUTH: a continuation is cancelled with "*") */
	static const char *const pop3[] = {"CAPA\r\n",	     "STLS\r\nNOOP\r\n",
					   "STLS\r\n",	     "AUTH PLAIN\r\n",
					   "AUTH LOGIN\r\n", "USER " MC_LOGIN_PROBE_USER "\r\n",
					   "*\r\n",	     "QUIT\r\n"};
	static const char *const imap[] = {"a1 CAPABILITY\r\n",
					   "a2 STARTTLS\r\na3 NOOP\r\n",
					   "a2 STARTTLS\r\n",
					   "a4 CAPABILITY\r\n",
					   "a5 AUTHENTICATE PLAIN\r\n",
					   "a6 AUTHENTICATE LOGIN\r\n",
					   "*\r\n"};
	bool is_pop3 = c->rec.proto == MC_PROTO_POP3 || c->rec.proto == MC_PROTO_POP3S;
	const char *const *cmds = is_pop3 ? pop3 : imap;
	size_t ncmds = is_pop3 ? sizeof(pop3) / sizeof(pop3[0]) : sizeof(imap) / sizeof(imap[0]),
	       off = 0;

	FUZZ_CHECK(!c->sent_overflow, "sent more than %zu bytes", sizeof(c->sent));
	while (off < c->sent_len) {
		size_t i;
		/* IMAP ID (RFC 2971) before and after TLS: our own identification,
		 * one line (docs/software.md) */
		if (!is_pop3 && c->sent_len - off > 6 &&
		    (memcmp(c->sent + off, "a7 ID (", 7) == 0 ||
		     memcmp(c->sent + off, "a8 ID (", 7) == 0)) {
			const char *eol = memmem(c->sent + off, c->sent_len - off, "\r\n", 2);
			FUZZ_CHECK(eol != NULL, "ID without CRLF at %zu", off);
			off = (size_t)(eol - c->sent) + 2;
			continue;
		}
		for (i = 0; i < ncmds; i++) {
			size_t n = strlen(cmds[i]);
			if (c->sent_len - off >= n && memcmp(c->sent + off, cmds[i], n) == 0) {
				off += n;
				break;
			}
		}
		FUZZ_CHECK(i < ncmds, "unknown request at %zu: '%.*s'", off,
			   (int)(c->sent_len - off), c->sent + off);
	}
}

static void check_record(const struct fp_conn *c)
{
	static char json[MC_RECORD_JSON_MAX];
	const struct mc_record *r = &c->rec;
	size_t json_len = mc_record_to_json(r, json, sizeof(json));

	FUZZ_CHECK(json_len > 0, "record does not encode");
	FUZZ_CHECK(fuzz_json_check(json, json_len - 1, NULL, NULL) && json[json_len - 1] == '\n',
		   "record is not strict JSON: %.*s", (int)json_len, json);
	FUZZ_CHECK(r->banner_len <= MC_BANNER_MAX, "banner_len %u", r->banner_len);
	FUZZ_CHECK(memchr(r->error, '\0', sizeof(r->error)) != NULL, "error not terminated");
	FUZZ_CHECK(r->error[0] == '\0' || strstr(r->error, ": ") != NULL, "error '%s'", r->error);
	FUZZ_CHECK(c->s.done, "session not done after EOF");
	fp_check_caps(&r->caps_pre_tls);
	fp_check_caps(&r->caps_post_tls);
	check_sent(c);
	if (c->s.implicit) {
		FUZZ_CHECK(r->starttls_accepted == MC_TRI_UNKNOWN, "STARTTLS measured on implicit");
		FUZZ_CHECK(r->caps_pre_tls.count == 0, "pre-TLS caps on implicit TLS");
	} else {
		FUZZ_CHECK((r->starttls_accepted == MC_TRI_YES) == (c->handshakes > 0),
			   "accepted %d, %d handshakes", r->starttls_accepted, c->handshakes);
	}
	FUZZ_CHECK(c->handshakes <= 1, "%d handshakes", c->handshakes);
	if (c->s.mode != PROBE_MODE_INJECT || c->handshakes == 0)
		FUZZ_CHECK(r->starttls_injection == MC_TRI_UNKNOWN,
			   "injection verdict out of place");
	if (c->s.mode == PROBE_MODE_MATRIX && !c->s.implicit)
		FUZZ_CHECK(r->caps_post_tls.count == 0, "matrix mode read capabilities over TLS");
	if (r->posture == MC_POSTURE_STARTTLS_OPTIONAL ||
	    r->posture == MC_POSTURE_STARTTLS_REQUIRED)
		FUZZ_CHECK(r->starttls_accepted == MC_TRI_YES && c->s.tls_up && !c->s.implicit,
			   "posture %d without STARTTLS", r->posture);
	if (r->posture == MC_POSTURE_IMPLICIT_TLS)
		FUZZ_CHECK(c->s.implicit, "implicit posture on a STARTTLS port");
}

static void make_cuts(struct cuts *k, size_t n, uint32_t *rng)
{
	size_t want = n > 1 ? (*rng % 8) : 0;

	k->n = 0;
	for (size_t i = 0; i < want; i++) {
		*rng = *rng * 1103515245u + 12345u;
		k->at[k->n++] = 1 + (*rng >> 8) % (n - 1);
	}
	/* sort (insertion) */
	for (size_t i = 1; i < k->n; i++)
		for (size_t j = i; j > 0 && k->at[j - 1] > k->at[j]; j--) {
			size_t t = k->at[j];
			k->at[j] = k->at[j - 1];
			k->at[j - 1] = t;
		}
}

/* Up to SINGLE_CUTS boundaries in [1, n) (a third of them for streams over
 * 2 KB, whose replays cost the most): those next to a CR or LF first (at
 * most half), then pseudo-random ones from *rng. */
static size_t pick_cuts(const uint8_t *d, size_t n, uint32_t *rng, size_t *at)
{
	size_t k = 0, max = n > 2048 ? SINGLE_CUTS / 3 : SINGLE_CUTS;

	for (size_t i = 1; i < n && k < max / 2; i++)
		if (d[i - 1] == '\n' || d[i - 1] == '\r' || d[i] == '\n' || d[i] == '\r')
			at[k++] = i;
	while (n > 1 && k < max && k < n - 1) {
		*rng = *rng * 1103515245u + 12345u;
		at[k++] = 1 + (*rng >> 8) % (n - 1);
	}
	return k;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct fp_conn c;
	static struct outcome whole, other;
	static const enum mc_proto protos[] = {MC_PROTO_POP3, MC_PROTO_IMAP, MC_PROTO_POP3S,
					       MC_PROTO_IMAPS};
	struct fuzz_in in = {data, size};
	uint8_t sel = fuzz_u8(&in);
	enum mc_proto proto = protos[sel & 3];
	enum probe_mode mode = (enum probe_mode)((sel >> 2) % 4);
	size_t np = fuzz_u16(&in);
	uint32_t rng = fuzz_u8(&in);
	const uint8_t *plain, *tls;
	size_t nt;
	struct cuts none = {.n = 0}, pc, tc;

	np = fuzz_take(&in, np, &plain);
	nt = fuzz_take(&in, SIZE_MAX, &tls);

	run(&c, proto, mode, plain, np, &none, tls, nt, &none, &whole);
	check_record(&c);

	run_bytewise(&c, proto, mode, plain, np, tls, nt, &other);
	same(&whole, &other, "one byte at a time");

	make_cuts(&pc, np, &rng);
	rng = rng * 2654435761u + 1;
	make_cuts(&tc, nt, &rng);
	run(&c, proto, mode, plain, np, &pc, tls, nt, &tc, &other);
	same(&whole, &other, "fuzzer's cuts");

	struct cuts one = {.n = 1};
	size_t at[SINGLE_CUTS], n = pick_cuts(plain, np, &rng, at);
	for (size_t k = 0; k < n; k++) {
		one.at[0] = at[k];
		run(&c, proto, mode, plain, np, &one, tls, nt, &none, &other);
		same(&whole, &other, "one plaintext cut");
	}
	n = pick_cuts(tls, nt, &rng, at);
	for (size_t k = 0; k < n; k++) {
		one.at[0] = at[k];
		run(&c, proto, mode, plain, np, &none, tls, nt, &one, &other);
		same(&whole, &other, "one TLS cut");
	}
	return 0;
}
