/* software.h — who runs a mail server: product, version, CPE (issue 16).
 *
 * Three sources, strongest first: the server's answer to IMAP ID (RFC
 * 2971, which we send where ID is advertised), the POP3 IMPLEMENTATION
 * capability (RFC 2449), the greeting. Each text is matched against one
 * table of products and their banner forms (software.c); the source that
 * named the product is the record's `evidence`. */
#ifndef PROBE_SOFTWARE_H
#define PROBE_SOFTWARE_H

#include <stdbool.h>
#include <stddef.h>

#include "output/record.h"

#define PROBE_CONTACT_MAX 64 /* bytes of the operator contact in our ID request */

/* Where a text came from, for the table's protocol filter. */
enum probe_sw_source {
	PROBE_SW_IMAP_BANNER,
	PROBE_SW_POP3_BANNER,
	PROBE_SW_NAME, /* an ID "name" or an IMPLEMENTATION text: no protocol filter */
};

/* What the table made of one text. */
struct probe_sw_match {
	const char *product; /* the table's name; NULL when nothing matched */
	const char *vendor;  /* CPE 2.3 vendor and product, NULL when unknown */
	const char *cpe_product;
	char version[MC_SW_NAME_MAX]; /* "" when the text carries none */
};

/* Match text[0..len) (raw server bytes) against the product table. */
bool probe_sw_match(const char *text, size_t len, enum probe_sw_source src,
		    struct probe_sw_match *m);

/* Number of table entries, and the product name of entry i (for tests). */
size_t probe_sw_table_size(void);
const char *probe_sw_table_product(size_t i);

/* Fill rec->software (product, version, cpe, evidence) from the banner,
 * rec->software.id_* (set by the IMAP machine), and an IMPLEMENTATION item
 * of the POP3 capability lists. Called once per target, after the probe. */
void probe_software_identify(struct mc_record *rec);

/* The IMAP ID request: `TAG ID ("name" "mailcensus" "version" V
 * "contact" C)\r\n`, contact omitted when NULL or empty. Returns the length
 * written (NUL-terminated), 0 if it does not fit or the contact is invalid. */
size_t probe_sw_id_request(char *buf, size_t cap, const char *tag, const char *contact);

/* May `contact` go into an ID string? Printable ASCII without '"' and '\\',
 * 1..PROBE_CONTACT_MAX bytes (RFC 2971 strings are IMAP quoted strings). */
bool probe_sw_contact_valid(const char *contact);

/* An untagged "* ID (...)" / "* ID NIL" response: keep its "name" and
 * "version" values (bounded) in sw->id_name / id_version. false when the
 * line is not an ID response. Quoted strings only; NIL values are empty. */
bool probe_sw_id_line(struct mc_software *sw, const char *line, size_t len);

#endif
