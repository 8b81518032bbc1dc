/* tls_dhguard.h — refuse oversized finite-field DH groups before OpenSSL
 * pays for them (issue 11: bounded CPU per target).
 *
 * A TLS 1.2 server picks the DH prime of a DHE suite itself. OpenSSL's
 * client checks the server's public value (one modular exponentiation
 * with an exponent as long as the prime) before any callback can say no,
 * then makes its own key and the secret: an 8192-bit group costs ~250 ms
 * of CPU per handshake here, a 10,000-bit one more. The guard reads the
 * server's cleartext handshake bytes on their way into OpenSSL (a filter
 * BIO in front of the socket): ServerHello for the suite, then the first
 * bytes of ServerKeyExchange for the prime's length. A prime longer than
 * max_bits ends the handshake right there, before OpenSSL parses it, and
 * the grabber records "dh-group-too-large". For TLS 1.3 the client simply
 * does not offer the RFC 7919 groups above the limit. */
#ifndef PROBE_TLS_DHGUARD_H
#define PROBE_TLS_DHGUARD_H

#include <openssl/ssl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PROBE_DH_BITS_DEFAULT 4096
#define PROBE_DH_REFUSED      "dh-group-too-large" /* the record's reason (stable) */

enum probe_dhg_layer {
	PROBE_DHG_RECORD_HEADER, /* reading a 5-byte TLS record header */
	PROBE_DHG_RECORD_BODY,	 /* inside a record's body */
	PROBE_DHG_DONE,		 /* nothing more to look at (verdict, or encrypted from here) */
};

/* The parser of the server's cleartext bytes (pure: fed bytes, no I/O). */
struct probe_dhg_parse {
	const SSL *ssl; /* for SSL_CIPHER_find(); NULL: every suite counts as DHE */
	uint32_t max_bits;
	enum probe_dhg_layer layer;
	uint8_t rhdr[5], rhdr_len;
	uint16_t rec_left;	    /* body bytes of the current record still to come */
	uint8_t hhdr[4], hhdr_len;  /* handshake message header */
	uint32_t msg_left, msg_off; /* body bytes of the current handshake message */
	uint8_t sid_len, suite[2];
	bool dhe;	  /* the ServerHello chose a (finite-field) DHE suite */
	uint32_t p_len;	  /* bytes of the prime, as the ServerKeyExchange says */
	uint32_t p_zeros; /* leading zero bytes of the prime */
	uint32_t bits;	  /* the prime's length, once known */
	bool refused;
};

void probe_dhg_parse_init(struct probe_dhg_parse *p, const SSL *ssl, uint32_t max_bits);

/* Feed server bytes in order. true once the group is refused. */
bool probe_dhg_parse_feed(struct probe_dhg_parse *p, const uint8_t *buf, size_t len);

/* The filter's method, made once per grabber. */
struct probe_dhguard;

struct probe_dhguard *probe_dhguard_new(uint32_t max_bits);
void probe_dhguard_free(struct probe_dhguard *g);

/* Offer only the RFC 7919 groups within the limit (TLS 1.3 and the
 * supported_groups extension). 0 or -EINVAL. */
int probe_dhguard_ctx(SSL_CTX *ctx, uint32_t max_bits);

/* Put the filter in front of ssl's read side (after SSL_set_fd). 0 or -ENOMEM. */
int probe_dhguard_attach(const struct probe_dhguard *g, SSL *ssl);

/* Did the guard of g end this handshake? */
bool probe_dhguard_refused(const struct probe_dhguard *g, SSL *ssl);

#endif
