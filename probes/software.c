/* software.c — product, version and CPE from what a mail server says.
 *
 * Method. One table of products and the forms their greetings take
 * (collected from vendor documentation, RFC examples and public scan
 * write-ups; each form has a recorded banner in tests/unit/test_software.c).
 * An entry matches a text in one of three ways: a case-insensitive
 * substring (`needle`, optionally with a second substring `also`), the
 * whole text (`SW_EXACT`: default greetings so terse that only an exact
 * match is evidence, e.g. nginx's "* OK IMAP4 ready"), or qmail-pop3d's
 * bare APOP stamp "+OK <digits.digits@host>" (`SW_QMAIL_STAMP`). The first
 * matching entry wins, so specific forms come before general ones (Dovecot
 * Pro before Dovecot). No regex engine: texts are bounded (512-byte banner,
 * 64-byte names) and the table is small, so a linear scan costs a few
 * microseconds per target.
 *
 * A version is taken only where the form puts one: right after the needle
 * or after a marker (`ver_after`, searched from the needle's start within
 * `ver_window` bytes), optionally prefixed by "v", and it is the run of
 * [0-9A-Za-z.] that follows (so "v2.4.17-Debian-2.4.17" gives 2.4.17 and
 * Zimbra's "8.8.15_GA_4484" gives 8.8.15).
 *
 * Sources, strongest first: the IMAP ID answer (the server names itself on
 * request), the POP3 IMPLEMENTATION capability (it names itself unasked),
 * the greeting (operators can change it). A name the table does not know
 * is still reported as the product, with no CPE. The CPE 2.3 string is
 * written only where the table knows the NVD vendor:product pair. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "probes/session.h"
#include "probes/software.h"

enum sw_how {
	SW_SUBSTR,	/* needle (and also) appear in the text */
	SW_SUBSTR_VER,	/* SW_SUBSTR, and a version where the form puts one (generic needles) */
	SW_EXACT,	/* the whole text equals needle (trailing blanks ignored) */
	SW_QMAIL_STAMP, /* "+OK <digits.digits@host>" and nothing else */
};

#define SW_IMAP 1u
#define SW_POP3 2u
#define SW_BOTH (SW_IMAP | SW_POP3)

struct sw_entry {
	const char *product;
	const char *vendor, *cpe_product; /* NVD CPE dictionary names; NULL: none known */
	const char *needle;
	const char *also;	  /* a second substring that must appear, or NULL */
	const char *ver_after;	  /* the version follows this marker; NULL: follows the needle */
	unsigned char ver_window; /* bytes from the needle where the version may start; 0: never */
	unsigned char protos;	  /* SW_IMAP / SW_POP3: which greetings the form is for */
	enum sw_how how;
};

/* Specific forms before general ones: the first match wins. */
static const struct sw_entry sw_table[] = {
    {"Dovecot Pro", "open-xchange", "dovecot_pro", "Dovecot Pro", NULL, NULL, 16, SW_BOTH,
     SW_SUBSTR},
    {"Open-Xchange", "open-xchange", "open-xchange_appsuite", "Open-Xchange", NULL, NULL, 16,
     SW_BOTH, SW_SUBSTR},
    {"Dovecot", "dovecot", "dovecot", "Dovecot", NULL, NULL, 12, SW_BOTH, SW_SUBSTR},
    {"Cyrus IMAP", "cmu", "cyrus_imap_server", "Cyrus", NULL, " v", 24, SW_BOTH, SW_SUBSTR},
    {"Courier-IMAP", "courier-mta", "courier-imap", "Courier-IMAP", NULL, NULL, 0, SW_BOTH,
     SW_SUBSTR},
    {"Courier-IMAP", "courier-mta", "courier-imap", "+OK Hello there.", NULL, NULL, 0, SW_POP3,
     SW_EXACT},
    {"Microsoft Exchange", "microsoft", "exchange_server", "Microsoft Exchange", NULL, "version ",
     80, SW_BOTH, SW_SUBSTR},
    {"Zimbra", "zimbra", "collaboration", "Zimbra", NULL, NULL, 4, SW_BOTH, SW_SUBSTR},
    {"hMailServer", "hmailserver", "hmailserver", "hMailServer", NULL, NULL, 4, SW_BOTH, SW_SUBSTR},
    {"hMailServer", "hmailserver", "hmailserver", "* OK IMAPrev1", NULL, NULL, 0, SW_IMAP,
     SW_EXACT},
    {"hMailServer", "hmailserver", "hmailserver", "+OK POP3", NULL, NULL, 0, SW_POP3, SW_EXACT},
    {"MDaemon", "alt-n", "mdaemon", "MDaemon", NULL, NULL, 4, SW_BOTH, SW_SUBSTR},
    {"Kerio Connect", "kerio", "connect", "Kerio Connect", NULL, NULL, 4, SW_BOTH, SW_SUBSTR},
    {"Kerio MailServer", "kerio", "kerio_mailserver", "Kerio MailServer", NULL, NULL, 4, SW_BOTH,
     SW_SUBSTR},
    {"IceWarp", "icewarp", "mail_server", "IceWarp", NULL, NULL, 4, SW_BOTH, SW_SUBSTR},
    {"IceWarp", "icewarp", "mail_server", "Merak", NULL, NULL, 4, SW_BOTH, SW_SUBSTR},
    {"Axigen", "axigen", "axigen_mail_server", "Axigen", NULL, NULL, 0, SW_BOTH, SW_SUBSTR},
    {"vpopmail", "inter7", "vpopmail", "vpopmail", NULL, NULL, 4, SW_BOTH, SW_SUBSTR},
    {"qmail", "djb", "qmail", "", NULL, NULL, 0, SW_POP3, SW_QMAIL_STAMP},
    {"UW IMAP", NULL, NULL, "IMAP4rev1 20", NULL, "IMAP4rev1 ", 12, SW_IMAP, SW_SUBSTR_VER},
    {"UW IMAP", NULL, NULL, "+OK POP3 ", "server ready", " v", 96, SW_POP3, SW_SUBSTR_VER},
    {"GNU Mailutils", "gnu", "mailutils", "GNU Mailutils", NULL, NULL, 4, SW_BOTH, SW_SUBSTR},
    {"GNU Mailutils", "gnu", "mailutils", "Mailutils", NULL, NULL, 4, SW_BOTH, SW_SUBSTR},
    /* imap4d's default greeting, recorded from Debian 12's mailutils-imap4d
     * 3.15 (it answers ID only after login); the weakest form in the table */
    {"GNU Mailutils", "gnu", "mailutils", "* OK IMAP4rev1", NULL, NULL, 0, SW_IMAP, SW_EXACT},
    /* pop3d's: "+OK POP3 Ready <pid.time@host>" (Debian 12's mailutils-pop3d 3.15) */
    {"GNU Mailutils", "gnu", "mailutils", "+OK POP3 Ready <", NULL, NULL, 0, SW_POP3, SW_SUBSTR},
    {"Gmail", NULL, NULL, "Gimap", NULL, NULL, 0, SW_BOTH, SW_SUBSTR},
    {"Gmail", NULL, NULL, "Gpop ready", NULL, NULL, 0, SW_POP3, SW_SUBSTR},
    {"Yandex Mail", NULL, NULL, "Yandex IMAP4rev1", NULL, NULL, 0, SW_IMAP, SW_SUBSTR},
    {"Yandex Mail", NULL, NULL, "POP Ya!", NULL, NULL, 0, SW_POP3, SW_SUBSTR},
    {"Zoho Mail", NULL, NULL, "Zoho Mail", NULL, NULL, 0, SW_BOTH, SW_SUBSTR},
    {"Apple iCloud Mail", NULL, NULL, "iSCREAM", NULL, NULL, 0, SW_BOTH, SW_SUBSTR},
    {"Lotus Domino", "ibm", "lotus_domino", "Domino IMAP4 Server", NULL, "Release ", 40, SW_IMAP,
     SW_SUBSTR},
    {"Lotus Domino", "ibm", "lotus_domino", "Lotus Notes POP3", NULL, "version ", 40, SW_POP3,
     SW_SUBSTR},
    {"popa3d", "openwall", "popa3d", "+OK", NULL, NULL, 0, SW_POP3, SW_EXACT},
    {"nginx", "f5", "nginx", "* OK IMAP4 ready", NULL, NULL, 0, SW_IMAP, SW_EXACT},
    {"nginx", "f5", "nginx", "+OK POP3 ready", NULL, NULL, 0, SW_POP3, SW_EXACT},
    {"Qpopper", "qualcomm", "qpopper", "Qpopper", NULL, "version ", 16, SW_POP3, SW_SUBSTR},
    {"CommuniGate Pro", "stalker", "communigate_pro", "CommuniGate Pro", NULL, "Server ", 32,
     SW_BOTH, SW_SUBSTR},
    {"SmarterMail", "smartertools", "smartermail", "SmarterMail", NULL, NULL, 4, SW_BOTH,
     SW_SUBSTR},
    {"MailEnable", "mailenable", "mailenable", "MailEnable", NULL, NULL, 0, SW_BOTH, SW_SUBSTR},
    {"GroupWise", "novell", "groupwise", "GroupWise", NULL, NULL, 0, SW_BOTH, SW_SUBSTR},
    {"Apache James", "apache", "james", "JAMES POP3 Server", NULL, NULL, 4, SW_POP3, SW_SUBSTR},
    {"Apache James", "apache", "james", "JAMES IMAP4rev1 Server", NULL, NULL, 0, SW_IMAP,
     SW_SUBSTR},
    {"Ipswitch IMail", "ipswitch", "imail", "(IMail ", NULL, NULL, 2, SW_BOTH, SW_SUBSTR},
    {"Mercury/32", NULL, NULL, "Mercury/32", NULL, " v", 4, SW_BOTH, SW_SUBSTR},
    {"Citadel", NULL, NULL, "Citadel server", NULL, NULL, 0, SW_BOTH, SW_SUBSTR},
    {"Oracle Communications Messaging Server", "oracle", "communications_messaging_server",
     "Messaging Server", NULL, NULL, 4, SW_BOTH, SW_SUBSTR},
    {"Kopano", NULL, NULL, "Kopano", NULL, NULL, 0, SW_BOTH, SW_SUBSTR},
    {"Zarafa", NULL, NULL, "Zarafa", NULL, NULL, 0, SW_BOTH, SW_SUBSTR},
    {"Coremail", NULL, NULL, "Coremail", NULL, NULL, 0, SW_BOTH, SW_SUBSTR},
    {"Yahoo Mail", NULL, NULL, "imapgate", NULL, "imapgate-", 10, SW_IMAP, SW_SUBSTR},
    {"DBMail", "dbmail", "dbmail", "dbmail imap", NULL, "server ", 48, SW_IMAP, SW_SUBSTR},
    {"Binc IMAP", NULL, NULL, "Binc IMAP", NULL, " v", 4, SW_IMAP, SW_SUBSTR},
    {"Stalwart Mail Server", NULL, NULL, "Stalwart", NULL, NULL, 0, SW_BOTH, SW_SUBSTR},
};
#define SW_TABLE_N (sizeof(sw_table) / sizeof(sw_table[0]))

size_t probe_sw_table_size(void)
{
	return SW_TABLE_N;
}

const char *probe_sw_table_product(size_t i)
{
	return i < SW_TABLE_N ? sw_table[i].product : NULL;
}

/* Case-insensitive search for needle in text[0..len): offset or -1. */
static long sw_find(const char *text, size_t len, const char *needle)
{
	size_t n = strlen(needle);

	for (size_t i = 0; n <= len && i <= len - n; i++)
		if (strncasecmp(text + i, needle, n) == 0)
			return (long)i;
	return -1;
}

static bool sw_is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool sw_is_verchar(char c)
{
	return sw_is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '.';
}

/* A version starting at text[i] (optionally after 'v'): the [0-9A-Za-z.]
 * run, trailing dots dropped. Empty when text[i] does not start a number. */
static void sw_version_at(const char *text, size_t len, size_t i, char *out, size_t cap)
{
	size_t n = 0;

	out[0] = '\0';
	if (i < len && (text[i] == 'v' || text[i] == 'V'))
		i++;
	if (i >= len || !sw_is_digit(text[i]))
		return;
	while (i + n < len && n + 1 < cap && sw_is_verchar(text[i + n]))
		n++;
	while (n > 0 && text[i + n - 1] == '.')
		n--;
	memcpy(out, text + i, n);
	out[n] = '\0';
}

/* The version of a matched SW_SUBSTR form; at = the needle's offset. */
static void sw_version(const struct sw_entry *e, const char *text, size_t len, size_t at, char *out,
		       size_t cap)
{
	size_t from = at + strlen(e->needle), win = e->ver_window;
	long m;

	out[0] = '\0';
	if (win == 0)
		return;
	if (e->ver_after == NULL) {
		while (from < len && from < at + strlen(e->needle) + win && text[from] == ' ')
			from++;
		sw_version_at(text, len, from, out, cap);
		return;
	}
	win += strlen(e->needle) + strlen(e->ver_after); /* the marker starts within the window */
	if (at + win > len)
		win = len - at;
	m = sw_find(text + at, win, e->ver_after);
	if (m >= 0)
		sw_version_at(text, len, at + (size_t)m + strlen(e->ver_after), out, cap);
}

/* "+OK <digits.digits@host>" exactly (qmail-pop3d's greeting). */
static bool sw_qmail_stamp(const char *t, size_t len)
{
	size_t i = 5, d1 = 0, d2 = 0, host = 0;

	if (len < 9 || strncmp(t, "+OK <", 5) != 0 || t[len - 1] != '>')
		return false;
	for (; i < len && sw_is_digit(t[i]); i++)
		d1++;
	if (i >= len || t[i++] != '.')
		return false;
	for (; i < len && sw_is_digit(t[i]); i++)
		d2++;
	if (i >= len || t[i++] != '@')
		return false;
	for (; i < len - 1 && t[i] != '>' && t[i] != ' '; i++)
		host++;
	return d1 > 0 && d2 > 0 && host > 0 && i == len - 1;
}

static bool sw_entry_match(const struct sw_entry *e, const char *text, size_t len,
			   enum probe_sw_source src, struct probe_sw_match *m)
{
	unsigned want = src == PROBE_SW_IMAP_BANNER ? SW_IMAP : SW_POP3;
	long at;

	if (src != PROBE_SW_NAME && !(e->protos & want))
		return false;
	switch (e->how) {
	case SW_EXACT:
		if (src == PROBE_SW_NAME)
			return false; /* a greeting form, not a name */
		while (len > 0 && (text[len - 1] == ' ' || text[len - 1] == '\t'))
			len--;
		return len == strlen(e->needle) && strncasecmp(text, e->needle, len) == 0;
	case SW_QMAIL_STAMP:
		return src != PROBE_SW_NAME && sw_qmail_stamp(text, len);
	case SW_SUBSTR:
	case SW_SUBSTR_VER:
		at = sw_find(text, len, e->needle);
		if (at < 0 || (e->also != NULL && sw_find(text, len, e->also) < 0))
			return false;
		sw_version(e, text, len, (size_t)at, m->version, sizeof(m->version));
		return e->how == SW_SUBSTR || m->version[0] != '\0';
	}
	return false;
}

bool probe_sw_match(const char *text, size_t len, enum probe_sw_source src,
		    struct probe_sw_match *m)
{
	memset(m, 0, sizeof(*m));
	for (size_t i = 0; i < SW_TABLE_N; i++) {
		const struct sw_entry *e = &sw_table[i];

		if (sw_entry_match(e, text, len, src, m)) {
			m->product = e->product;
			m->vendor = e->vendor;
			m->cpe_product = e->cpe_product;
			return true;
		}
		m->version[0] = '\0';
	}
	return false;
}

/* ---- the record ---------------------------------------------------------- */

static void sw_copy(char *dst, size_t cap, const char *src, size_t len)
{
	if (len >= cap)
		len = cap - 1;
	memcpy(dst, src, len);
	dst[len] = '\0';
}

static void sw_cpe(struct mc_software *sw, const struct probe_sw_match *m)
{
	char ver[MC_SW_NAME_MAX];
	size_t i;

	sw->cpe[0] = '\0';
	if (m->vendor == NULL)
		return;
	for (i = 0; sw->version[i] != '\0' && i + 1 < sizeof(ver); i++) /* [0-9A-Za-z.] only */
		ver[i] = (char)(sw->version[i] >= 'A' && sw->version[i] <= 'Z' ? sw->version[i] + 32
									       : sw->version[i]);
	ver[i] = '\0';
	snprintf(sw->cpe, sizeof(sw->cpe), "cpe:2.3:a:%s:%s:%s:*:*:*:*:*:*:*", m->vendor,
		 m->cpe_product, ver[0] != '\0' ? ver : "*");
}

/* The IMPLEMENTATION text among the POP3 capabilities (post-TLS first). */
static const char *sw_implementation(const struct mc_record *rec, size_t *len)
{
	const struct mc_caps *lists[2] = {&rec->caps_post_tls, &rec->caps_pre_tls};

	for (int l = 0; l < 2; l++) {
		const struct mc_caps *caps = lists[l];
		size_t off = 0;

		for (uint16_t i = 0; i < caps->count && off < caps->len; i++) {
			const char *item = caps->data + off;
			size_t n = strnlen(item, caps->len - off);

			if (n > 15 && strncasecmp(item, "IMPLEMENTATION ", 15) == 0) {
				*len = n - 15;
				return item + 15;
			}
			off += n + 1;
		}
	}
	return NULL;
}

/* Decide from a name source (ID name or IMPLEMENTATION): the table's
 * product when it knows the name, else the name itself. */
static void sw_from_name(struct mc_software *sw, enum mc_sw_evidence ev, const char *name,
			 size_t nlen, const char *version, const struct probe_sw_match *banner)
{
	struct probe_sw_match m;

	sw->evidence = ev;
	if (probe_sw_match(name, nlen, PROBE_SW_NAME, &m)) {
		sw_copy(sw->product, sizeof(sw->product), m.product, strlen(m.product));
		if (version != NULL)
			sw_version_at(version, strlen(version), 0, sw->version,
				      sizeof(sw->version));
		if (sw->version[0] == '\0')
			memcpy(sw->version, m.version, sizeof(sw->version));
		if (sw->version[0] == '\0' && banner->product != NULL &&
		    strcmp(banner->product, m.product) == 0)
			memcpy(sw->version, banner->version, sizeof(sw->version));
		sw_cpe(sw, &m);
		return;
	}
	sw_copy(sw->product, sizeof(sw->product), name, nlen);
	if (version != NULL)
		sw_copy(sw->version, sizeof(sw->version), version, strlen(version));
}

void probe_software_identify(struct mc_record *rec)
{
	struct mc_software *sw = &rec->software;
	struct probe_sw_match banner;
	enum probe_sw_source src = rec->proto == MC_PROTO_IMAP || rec->proto == MC_PROTO_IMAPS
				       ? PROBE_SW_IMAP_BANNER
				       : PROBE_SW_POP3_BANNER;
	const char *impl;
	size_t ilen = 0;

	sw->evidence = MC_SW_NONE;
	sw->product[0] = sw->version[0] = sw->cpe[0] = '\0';
	probe_sw_match((const char *)rec->banner, rec->banner_len, src, &banner);
	impl = sw_implementation(rec, &ilen);
	if (impl != NULL && ilen > 0)
		sw_copy(sw->implementation, sizeof(sw->implementation), impl, ilen);
	if (sw->id_name[0] != '\0') {
		sw_from_name(sw, MC_SW_IMAP_ID, sw->id_name, strlen(sw->id_name), sw->id_version,
			     &banner);
	} else if (sw->implementation[0] != '\0') {
		sw_from_name(sw, MC_SW_POP3_IMPL, sw->implementation, strlen(sw->implementation),
			     NULL, &banner);
	} else if (banner.product != NULL) {
		sw->evidence = MC_SW_BANNER;
		sw_copy(sw->product, sizeof(sw->product), banner.product, strlen(banner.product));
		memcpy(sw->version, banner.version, sizeof(sw->version));
		sw_cpe(sw, &banner);
	}
}

/* ---- IMAP ID ------------------------------------------------------------- */

bool probe_sw_contact_valid(const char *contact)
{
	size_t n = strlen(contact);

	if (n == 0 || n > PROBE_CONTACT_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (contact[i] < 0x20 || contact[i] > 0x7e || contact[i] == '"' ||
		    contact[i] == '\\')
			return false;
	return true;
}

size_t probe_sw_id_request(char *buf, size_t cap, const char *tag, const char *contact)
{
	bool with = contact != NULL && contact[0] != '\0';
	int n;

	if (with && !probe_sw_contact_valid(contact))
		return 0;
	n = snprintf(buf, cap, "%s ID (\"name\" \"mailcensus\" \"version\" \"%s\"%s%s%s)\r\n", tag,
		     MC_VERSION, with ? " \"contact\" \"" : "", with ? contact : "",
		     with ? "\"" : "");
	return n > 0 && (size_t)n < cap ? (size_t)n : 0;
}

/* One ID list item at p: a quoted string (into out, bounded; escapes kept
 * literal) or NIL (""). Returns the offset after it, or 0 on a syntax error. */
static size_t sw_id_item(const char *line, size_t len, size_t p, char *out, size_t cap)
{
	size_t n = 0;

	while (p < len && line[p] == ' ')
		p++;
	if (p + 3 <= len && strncasecmp(line + p, "NIL", 3) == 0) {
		out[0] = '\0';
		return p + 3;
	}
	if (p >= len || line[p] != '"')
		return 0;
	for (p++; p < len && line[p] != '"'; p++) {
		if (line[p] == '\\' && p + 1 < len)
			p++;
		if (n + 1 < cap)
			out[n++] = line[p];
	}
	out[n] = '\0';
	return p < len ? p + 1 : 0;
}

bool probe_sw_id_line(struct mc_software *sw, const char *line, size_t len)
{
	char key[32], val[MC_SW_NAME_MAX];
	size_t p = 5;

	if (!probe_starts_with(line, len, "* ID "))
		return false;
	while (p < len && line[p] == ' ')
		p++;
	if (p >= len || line[p] != '(')
		return true; /* "* ID NIL": the server declines to say */
	for (p++; p < len && line[p] != ')';) {
		p = sw_id_item(line, len, p, key, sizeof(key));
		if (p == 0)
			break;
		p = sw_id_item(line, len, p, val, sizeof(val));
		if (p == 0)
			break;
		if (strcasecmp(key, "name") == 0)
			memcpy(sw->id_name, val, sizeof(sw->id_name));
		else if (strcasecmp(key, "version") == 0)
			memcpy(sw->id_version, val, sizeof(sw->id_version));
		while (p < len && line[p] == ' ')
			p++;
	}
	return true;
}
