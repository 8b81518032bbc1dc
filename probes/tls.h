/* tls.h — OpenSSL contexts for the grabber and what we record of a session. */
#ifndef PROBE_TLS_H
#define PROBE_TLS_H

#include <openssl/ssl.h>
#include <stddef.h>

#include "output/record.h"

/* The client context of the main and injection connections: any version
 * from TLS 1.0 up, the system trust store plus ca_file (may be NULL) to
 * record the chain verdict, status_request, session tickets. NULL with a
 * reason in err on failure. (The version matrix needs no context: it is
 * measured with hand-built hellos, tlshello.c.) */
SSL_CTX *probe_tls_ctx_new(const char *ca_file, char *err, size_t errlen);

/* A client context for connections whose certificate verdict nobody reads
 * (the injection test): as probe_tls_ctx_new without a trust store, and the
 * chain is not verified at all (OpenSSL would run X509_verify_cert even
 * under SSL_VERIFY_NONE: signature checks and issuer lookups for nothing). */
SSL_CTX *probe_tls_ctx_new_unverified(char *err, size_t errlen);

/* Record version, cipher, key exchange and handshake facts, and the
 * certificate details of an established session. */
void probe_tls_record(SSL *ssl, struct mc_tls *tls);

/* Certificate details of a leaf and the presented chain (leaf first, may
 * be NULL); everything but the chain verdict. */
void probe_tls_cert(X509 *leaf, STACK_OF(X509) * chain, struct mc_cert *c);

/* Facts that arrive after the handshake (a TLS 1.3 session ticket): call
 * again before the connection closes. */
void probe_tls_record_late(SSL *ssl, struct mc_tls *tls);

/* Per-connection settings before the handshake starts: ALPN "imap" or
 * "pop3", and SNI when the target has a name (NULL or "" for none).
 * 0 or -EINVAL. */
int probe_tls_prepare(SSL *ssl, enum mc_proto proto, const char *name);

/* Does the session's leaf certificate match the target's name (RFC 6125,
 * X509_check_host)? Leaves tls->name_match null without a name. */
void probe_tls_name_match(SSL *ssl, const char *name, struct mc_tls *tls);

#endif
