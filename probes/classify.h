/* classify.h — the census answer for one record (issue 4 rules). */
#ifndef PROBE_CLASSIFY_H
#define PROBE_CLASSIFY_H

#include "output/record.h"

/* Fill rec->posture, rec->cleartext_login and rec->tls_obsolete from what the
 * probe measured (proto, caps_pre_tls, starttls_*, tls). `tls_up` is true
 * when a TLS session was established on the main connection, or a
 * hand-built hello found a version accepted. */
void probe_classify(struct mc_record *rec, bool tls_up);

#endif
