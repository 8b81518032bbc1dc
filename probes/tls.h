/* tls.h — OpenSSL contexts for the grabber and what we record of a session. */
#ifndef PROBE_TLS_H
#define PROBE_TLS_H

#include <openssl/ssl.h>
#include <stddef.h>

#include "output/record.h"

/* Matrix slots, in the order of struct mc_tls's tls1_0..tls1_3. */
enum probe_tls_slot {
	PROBE_TLS_1_0,
	PROBE_TLS_1_1,
	PROBE_TLS_1_2,
	PROBE_TLS_1_3,
	PROBE_TLS_SLOTS,
};

/* A client context. `slot` < PROBE_TLS_SLOTS pins min = max = that version;
 * PROBE_TLS_SLOTS means "any version from TLS 1.0 up" (the main probe).
 * The main context loads the system trust store plus ca_file (may be NULL)
 * to record the chain verdict; matrix contexts load none. NULL with a reason
 * in err on failure. */
SSL_CTX *probe_tls_ctx_new(enum probe_tls_slot slot, const char *ca_file, char *err, size_t errlen);

/* The slot of a negotiated version ("TLSv1.2" -> PROBE_TLS_1_2), or
 * PROBE_TLS_SLOTS when it is none of the four. */
enum probe_tls_slot probe_tls_slot_of(const SSL *ssl);

/* The matrix answer for one slot. */
enum mc_tri *probe_tls_matrix(struct mc_tls *tls, enum probe_tls_slot slot);

/* The leaf certificate's own facts (names, SANs, dates, key, signature
 * algorithm, SHA-256) into *c; the chain fields are left alone. The
 * certificate is the server's: fuzz_cert feeds this arbitrary DER. */
void probe_cert_leaf(X509 *leaf, struct mc_cert *c);

/* Record version, cipher and certificate details of an established session. */
void probe_tls_record(SSL *ssl, struct mc_tls *tls);

#endif
