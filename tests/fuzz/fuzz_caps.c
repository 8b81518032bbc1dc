/* fuzz_caps.c — capability parsing, the STARTTLS injection detector and the
 * classifier, each against a reference or a known answer.
 *
 * Byte 0 picks the part:
 *   0 classifier: a record built from the input (protocol, STARTTLS answer,
 *     TLS 1.0/1.1 answers, a pre-TLS capability list, the login probe's
 *     step outcomes, TLS up or not) through probe_classify(), compared with
 *     the issue 4 / issue 18 rules written out below (verdict and evidence);
 *   1 IMAP capabilities in a greeting ("* OK " + fuzz line), 2 in an
 *     untagged "* CAPABILITY " response, 3 a POP3 CAPA list: the recorded
 *     list (items, bytes, truncation) and "STARTTLS advertised" equal a
 *     reference tokenizer's;
 *   4 the injection detector: the harness writes a server's reply stream over
 *     TLS, either a correct server (drops the pipelined NOOP) or a vulnerable
 *     one (answers it before the capability command), with fuzz-chosen
 *     capability words (the first one may look like a POP3 status line:
 *     "+OK...", "-ERR...") and noise lines; the session's own answer is
 *     exact for words that start with a letter, and the verdict
 *     probe_inject_conclude() draws with the main connection's list (the
 *     same items; a status-like first one may differ) always matches (pop3
 *     and imap, chosen by the next byte).
 * Everything is driven through the line buffer as the grabber drives it. */
#include <strings.h>

#include "probes/starttls.h"
#include "tests/fuzz/fuzz_probe.h"

/* ---- reference capability list ----------------------------------------- */

static void ref_add(struct mc_caps *caps, const uint8_t *w, size_t n)
{
	if (caps->count == UINT16_MAX || n + 1 > sizeof(caps->data) - caps->len) {
		caps->truncated = true;
		return;
	}
	for (size_t i = 0; i < n; i++)
		caps->data[caps->len + i] = w[i] == 0 ? (char)0xff : (char)w[i];
	caps->data[caps->len + n] = '\0';
	caps->len = (uint16_t)(caps->len + n + 1);
	caps->count++;
}

static void ref_atoms(struct mc_caps *caps, const uint8_t *t, size_t n)
{
	size_t i = 0;

	while (i < n) {
		size_t s;
		while (i < n && t[i] == ' ')
			i++;
		for (s = i; i < n && t[i] != ' '; i++)
			;
		if (i > s)
			ref_add(caps, t + s, i - s);
	}
}

static bool ref_has(const struct mc_caps *caps, const char *word)
{
	size_t off = 0;

	for (uint16_t i = 0; i < caps->count; i++) {
		const char *item = caps->data + off;
		if (strlen(item) == strlen(word) && strncasecmp(item, word, strlen(word)) == 0)
			return true;
		off += strlen(item) + 1;
	}
	return false;
}

static void same_caps(const struct mc_caps *a, const struct mc_caps *b)
{
	FUZZ_CHECK(a->count == b->count && a->len == b->len && a->truncated == b->truncated &&
		       memcmp(a->data, b->data, a->len) == 0,
		   "caps differ: %u/%u items, %u/%u bytes, truncated %d/%d", a->count, b->count,
		   a->len, b->len, a->truncated, b->truncated);
}

/* A line as the line buffer delivers it: up to the first LF, one CR off the end. */
static size_t as_line(const uint8_t *p, size_t n)
{
	const uint8_t *nl = memchr(p, '\n', n);

	if (nl != NULL)
		n = (size_t)(nl - p);
	if (n > 0 && p[n - 1] == '\r')
		n--;
	return n;
}

static void feed_str(struct fp_conn *c, const char *s, bool tls)
{
	fp_feed(c, (const uint8_t *)s, strlen(s), tls);
}

/* ---- 0: classifier ----------------------------------------------------- */

static enum mc_tri ref_by_caps(const struct mc_record *r)
{
	const struct mc_caps *caps = &r->caps_pre_tls;
	size_t off = 0;

	if (caps->count == 0)
		return MC_TRI_UNKNOWN;
	if (ref_has(caps, "LOGINDISABLED") || ref_has(caps, "XTLSREQUIRED"))
		return MC_TRI_NO;
	if (r->proto == MC_PROTO_IMAP)
		return MC_TRI_YES;
	if (ref_has(caps, "USER"))
		return MC_TRI_YES;
	for (uint16_t i = 0; i < caps->count; i++) { /* "SASL mech mech ..." */
		const char *item = caps->data + off;
		size_t n = strlen(item);
		if (n > 5 && strncasecmp(item, "SASL ", 5) == 0) {
			for (size_t k = 5; k < n;) {
				size_t s;
				while (k < n && (item[k] == ' ' || item[k] == '\t'))
					k++;
				for (s = k; k < n && item[k] != ' ' && item[k] != '\t'; k++)
					;
				if ((k - s == 5 && strncasecmp(item + s, "PLAIN", 5) == 0) ||
				    (k - s == 5 && strncasecmp(item + s, "LOGIN", 5) == 0))
					return MC_TRI_YES;
			}
		}
		off += n + 1;
	}
	return MC_TRI_NO;
}

/* Issue 18: the login probe's behaviour first (a step accepted: yes; one
 * refused naming TLS and none accepted: no), then the capabilities. */
static enum mc_tri ref_cleartext(const struct mc_record *r, enum mc_evidence *ev)
{
	bool accepted = false, refused_tls = false;
	enum mc_tri v;

	for (size_t i = 0; i < r->login_steps && i < MC_LOGIN_STEPS; i++) {
		accepted |= r->login[i].outcome == MC_LOGIN_ACCEPTED;
		refused_tls |= r->login[i].outcome == MC_LOGIN_REFUSED_TLS;
	}
	if (accepted || refused_tls) {
		*ev = MC_EVIDENCE_BEHAVIOUR;
		return accepted ? MC_TRI_YES : MC_TRI_NO;
	}
	v = ref_by_caps(r);
	*ev = v == MC_TRI_UNKNOWN ? MC_EVIDENCE_NONE : MC_EVIDENCE_CAPABILITY;
	return v;
}

static void part_classify(struct fuzz_in *in)
{
	static const enum mc_proto protos[] = {MC_PROTO_POP3, MC_PROTO_IMAP, MC_PROTO_POP3S,
					       MC_PROTO_IMAPS};
	static struct mc_record r;
	uint8_t a = fuzz_u8(in), nwords = fuzz_u8(in) % 12;
	bool tls_up = a & 0x80;
	enum mc_posture want_posture;
	enum mc_tri want_clear, want_obs;
	enum mc_evidence want_ev;

	memset(&r, 0, sizeof(r));
	r.proto = protos[a & 3];
	r.starttls_accepted = (enum mc_tri)((a >> 2) % 3);
	r.tls.tls1_0 = (enum mc_tri)(fuzz_u8(in) % 3);
	r.tls.tls1_1 = (enum mc_tri)(fuzz_u8(in) % 3);
	r.tls.ssl3 = (enum mc_tri)(a >> 5 & 1 ? fuzz_u8(in) % 3 : MC_TRI_UNKNOWN);
	r.tls.ssl2 = (enum mc_tri)(a >> 6 & 1 ? fuzz_u8(in) % 3 : MC_TRI_UNKNOWN);
	for (uint8_t i = 0; i < nwords; i++) {
		const uint8_t *w;
		size_t n = fuzz_take(in, fuzz_u8(in) % 40, &w);
		probe_caps_add(&r.caps_pre_tls, (const char *)w, n);
	}
	r.login_steps = fuzz_u8(in) % (MC_LOGIN_STEPS + 2); /* beyond the array too */
	for (size_t i = 0; i < MC_LOGIN_STEPS; i++)
		r.login[i].outcome = (enum mc_login_outcome)(fuzz_u8(in) % 6);
	/* SSLv2, SSLv3, TLS 1.0 or 1.1 accepted: yes; SSLv3, 1.0 and 1.1 all
	 * refused: no (SSLv2 is only asked where SSLv3 is accepted) */
	if (r.tls.ssl2 == MC_TRI_YES || r.tls.ssl3 == MC_TRI_YES || r.tls.tls1_0 == MC_TRI_YES ||
	    r.tls.tls1_1 == MC_TRI_YES)
		want_obs = MC_TRI_YES;
	else if (r.tls.ssl3 == MC_TRI_NO && r.tls.tls1_0 == MC_TRI_NO && r.tls.tls1_1 == MC_TRI_NO)
		want_obs = MC_TRI_NO;
	else
		want_obs = MC_TRI_UNKNOWN;
	if (r.proto == MC_PROTO_POP3S || r.proto == MC_PROTO_IMAPS) {
		want_clear = tls_up ? MC_TRI_NO : MC_TRI_UNKNOWN;
		want_ev = tls_up ? MC_EVIDENCE_BEHAVIOUR : MC_EVIDENCE_NONE;
		want_posture = tls_up ? MC_POSTURE_IMPLICIT_TLS : MC_POSTURE_UNKNOWN;
	} else {
		want_clear = ref_cleartext(&r, &want_ev);
		if (r.starttls_accepted == MC_TRI_NO)
			want_posture = MC_POSTURE_NO_TLS;
		else if (r.starttls_accepted == MC_TRI_UNKNOWN || !tls_up ||
			 want_clear == MC_TRI_UNKNOWN)
			want_posture = MC_POSTURE_UNKNOWN;
		else
			want_posture = want_clear == MC_TRI_YES ? MC_POSTURE_STARTTLS_OPTIONAL
								: MC_POSTURE_STARTTLS_REQUIRED;
	}
	probe_classify(&r, tls_up);
	FUZZ_CHECK(r.tls_obsolete == want_obs, "tls_obsolete %d, want %d", r.tls_obsolete,
		   want_obs);
	FUZZ_CHECK(r.cleartext_login == want_clear, "cleartext_login %d, want %d",
		   r.cleartext_login, want_clear);
	FUZZ_CHECK(r.cleartext_login_evidence == want_ev, "evidence %d, want %d",
		   r.cleartext_login_evidence, want_ev);
	FUZZ_CHECK(r.posture == want_posture, "posture %d, want %d", r.posture, want_posture);
}

/* ---- 1-3: capability lists --------------------------------------------- */

static void part_imap_caps(struct fuzz_in *in, bool greeting)
{
	static struct fp_conn c;
	static struct mc_caps want;
	static char buf[PROBE_LINE_MAX + 64];
	const uint8_t *l;
	size_t n = fuzz_take(in, PROBE_LINE_MAX - 32, &l), head;
	bool literal;

	n = as_line(l, n);
	memset(&want, 0, sizeof(want));
	fp_start(&c, MC_PROTO_IMAP, PROBE_MODE_MAIN);
	head = (size_t)snprintf(buf, sizeof(buf), "%s", greeting ? "* OK " : "* CAPABILITY ");
	memcpy(buf + head, l, n);
	memcpy(buf + head + n, "\r\n", 2);
	if (!greeting)
		feed_str(&c, "* OK ready\r\n", false);
	fp_feed(&c, (const uint8_t *)buf, head + n + 2, false);
	if (greeting) {
		static const char key[] = "[CAPABILITY ";
		for (size_t i = 0; i + 12 <= head + n; i++) {
			if (strncasecmp(buf + i, key, 12) == 0) {
				const uint8_t *p = (const uint8_t *)buf + i + 12;
				const uint8_t *e = memchr(p, ']', head + n - i - 12);
				ref_atoms(&want, p, e ? (size_t)(e - p) : head + n - i - 12);
				break;
			}
		}
	} else {
		ref_atoms(&want, l, n);
	}
	/* a line ending in {n} announces a literal: too large ends the probe
	 * before the line is read; else the next n bytes are skipped */
	literal = head + n > 0 && buf[head + n - 1] == '}';
	if (strstr(c.rec.error, "literal-too-large") != NULL)
		memset(&want, 0, sizeof(want));
	same_caps(&c.rec.caps_pre_tls, &want);
	fp_check_caps(&c.rec.caps_pre_tls);
	/* the tagged end of the command settles "advertised" */
	feed_str(&c, "a1 OK done\r\n", false);
	/* where ID is advertised, our ID exchange (docs/software.md) comes first */
	if (ref_has(&want, "ID") && !c.s.done)
		feed_str(&c, "a7 OK ID completed\r\n", false);
	if (c.s.state != 0 && !c.s.done && !literal) /* not stuck in the greeting (cold start) */
		FUZZ_CHECK(c.rec.starttls_advertised ==
			       (ref_has(&want, "STARTTLS") ? MC_TRI_YES : MC_TRI_NO),
			   "advertised %d", c.rec.starttls_advertised);
}

static void part_pop3_caps(struct fuzz_in *in)
{
	static struct fp_conn c;
	static struct mc_caps want;
	size_t lines = 0;
	bool ended = false, failed = false;

	memset(&want, 0, sizeof(want));
	fp_start(&c, MC_PROTO_POP3, PROBE_MODE_MAIN);
	feed_str(&c, "+OK ready\r\n+OK list follows\r\n", false);
	while (in->n > 0 && !ended && !failed) {
		const uint8_t *l;
		size_t n = fuzz_take(in, fuzz_u8(in), &l);
		n = as_line(l, n);
		fp_feed(&c, l, n, false);
		fp_feed(&c, (const uint8_t *)"\r\n", 2, false);
		if (n == 1 && l[0] == '.') {
			ended = true;
		} else if (++lines > 256) {
			failed = true;
		} else if (n > 0 && l[0] == '.') {
			ref_add(&want, l + 1, n - 1);
		} else {
			ref_add(&want, l, n);
		}
	}
	same_caps(&c.rec.caps_pre_tls, &want);
	fp_check_caps(&c.rec.caps_pre_tls);
	if (failed)
		FUZZ_CHECK(strstr(c.rec.error, "too-many-capa-lines") != NULL, "error '%s'",
			   c.rec.error);
	if (ended)
		FUZZ_CHECK(c.rec.starttls_advertised ==
			       (ref_has(&want, "STLS") ? MC_TRI_YES : MC_TRI_NO),
			   "advertised %d", c.rec.starttls_advertised);
}

/* ---- 4: injection detector --------------------------------------------- */

/* A capability word: letters, digits and '=' / '-' only. */
static size_t word(struct fuzz_in *in, char *w)
{
	static const char alpha[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789=-";
	size_t n = 1 + fuzz_u8(in) % 12;

	w[0] = alpha[fuzz_u8(in) % 26];
	for (size_t i = 1; i < n; i++)
		w[i] = alpha[fuzz_u8(in) % (sizeof(alpha) - 1)];
	w[n] = '\0';
	return n;
}

/* A capability item that looks like a POP3 status line ("+OK..." / "-ERR...",
 * legal capability names); for IMAP one word. */
static size_t status_word(struct fuzz_in *in, bool imap, char *w)
{
	uint8_t k = fuzz_u8(in);
	size_t n = (size_t)snprintf(w, 24, "%s", k & 1 ? "-ERR" : "+OK");

	if (k & 2) /* "+OKAY", "-ERRATA": one word */
		n += word(in, w + n);
	else if (!imap && (k & 4)) { /* "+OK WORD" */
		w[n++] = ' ';
		n += word(in, w + n);
	}
	return n;
}

static void part_inject(struct fuzz_in *in)
{
	static struct fp_conn c;
	static struct mc_record main_rec;
	static char stream[8192];
	uint8_t a = fuzz_u8(in);
	bool imap = a & 1, vulnerable = a & 2, tagged_no = a & 4, odd = a & 8;
	uint8_t nwords = fuzz_u8(in) % 20, noise = fuzz_u8(in) % 4;
	size_t o = 0;
	char w[40];

	odd = odd && nwords > 0;
	fp_start(&c, imap ? MC_PROTO_IMAP : MC_PROTO_POP3, PROBE_MODE_INJECT);
	memset(&main_rec, 0, sizeof(main_rec));
	main_rec.proto = c.rec.proto;
	feed_str(&c, imap ? "* OK ready\r\n" : "+OK ready\r\n", false);
	feed_str(&c, imap ? "a2 OK begin TLS\r\n" : "+OK begin TLS\r\n", false);
	FUZZ_CHECK(c.phase == FP_HANDSHAKE, "STARTTLS not taken");
	if (vulnerable) /* the pipelined NOOP, answered over TLS before our command */
		o += (size_t)snprintf(
		    stream + o, sizeof(stream) - o, "%s",
		    imap	? (tagged_no ? "a3 BAD not now\r\n" : "a3 OK NOOP done\r\n")
		    : tagged_no ? "-ERR unknown command\r\n"
				: "+OK\r\n");
	for (uint8_t i = 0; imap && i < noise; i++)
		o += (size_t)snprintf(stream + o, sizeof(stream) - o, "* OK noise %u\r\n", i);
	o += (size_t)snprintf(stream + o, sizeof(stream) - o, "%s",
			      imap ? "* CAPABILITY" : "+OK capability list\r\n");
	for (uint8_t i = 0; i < nwords; i++) {
		size_t n = odd && i == 0 ? status_word(in, imap, w) : word(in, w);
		o += (size_t)snprintf(stream + o, sizeof(stream) - o, imap ? " %s" : "%s\r\n", w);
		/* the main connection's list over TLS: the same items, but a
		 * status-like first item may differ per connection ("+OK <nonce>") */
		if (odd && i == 0 && (fuzz_u8(in) & 1))
			n = status_word(in, imap, w);
		probe_caps_add(&main_rec.caps_post_tls, w, n);
	}
	o += (size_t)snprintf(stream + o, sizeof(stream) - o, "%s",
			      imap ? "\r\na4 OK done\r\n" : ".\r\n");
	/* delivered in fuzz-chosen segments */
	for (size_t p = 0; p < o;) {
		size_t n = 1 + fuzz_u8(in) % 64;
		if (n > o - p)
			n = o - p;
		fp_feed(&c, (const uint8_t *)stream + p, n, true);
		p += n;
	}
	fp_finish(&c);
	FUZZ_CHECK(c.rec.error[0] == '\0', "error '%s' on stream '%.*s'", c.rec.error, (int)o,
		   stream);
	/* the test session alone: exact unless a POP3 list begins with a status-like item,
	 * which it takes for the NOOP's answer (and does not record) */
	bool pop3_odd = odd && !imap;
	FUZZ_CHECK(c.rec.starttls_injection == (vulnerable || pop3_odd ? MC_TRI_YES : MC_TRI_NO),
		   "injection %d, server %s: '%.*s'", c.rec.starttls_injection,
		   vulnerable ? "vulnerable" : "correct", (int)o, stream);
	unsigned want_words = nwords - (pop3_odd && !vulnerable ? 1 : 0);
	FUZZ_CHECK(c.rec.caps_post_tls.count == want_words, "%u words recorded, %u expected",
		   c.rec.caps_post_tls.count, want_words);
	/* the verdict, with the main connection's list: always exact */
	probe_inject_conclude(&main_rec, &c.rec, PROBE_INJ_TLS, false, NULL);
	FUZZ_CHECK(
	    main_rec.injection_verdict == (vulnerable ? MC_INJ_VULNERABLE : MC_INJ_NOT_VULNERABLE),
	    "verdict %d (%s), server %s: '%.*s'", main_rec.injection_verdict,
	    main_rec.injection_reason, vulnerable ? "vulnerable" : "correct", (int)o, stream);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = {data, size};

	switch (fuzz_u8(&in) % 5) {
	case 0:
		part_classify(&in);
		break;
	case 1:
		part_imap_caps(&in, true);
		break;
	case 2:
		part_imap_caps(&in, false);
		break;
	case 3:
		part_pop3_caps(&in);
		break;
	default:
		part_inject(&in);
		break;
	}
	return 0;
}
