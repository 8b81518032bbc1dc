/* tls.c — client contexts and certificate details.
 *
 * Security level 0 on purpose: OpenSSL 3 refuses TLS 1.0 and 1.1 (and
 * SHA-1 signatures, small keys) at its default level 1, so a default
 * client would report a legacy server as "no TLS 1.0" when in fact the
 * server accepts it. A census must measure what servers accept, not what we
 * would accept, so every context runs at "DEFAULT:@SECLEVEL=0". Nothing we
 * learn is trusted: the certificate chain is verified against the system
 * store (plus --ca-file) only to record the verdict, never to decide
 * whether to talk (SSL_VERIFY_NONE; OpenSSL still stores the result). */
#include <arpa/inet.h>
#include <errno.h>
#include <openssl/err.h>
#include <openssl/tls1.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "probes/tls.h"
#include "probes/tlsplan.h"

#define PROBE_TLS_MAX_CERT_LIST (96 * 1024) /* bytes of certificate chain we accept */
#define PROBE_TLS_VERIFY_DEPTH	8

static SSL_CTX *ctx_base(char *err, size_t errlen)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());

	if (ctx == NULL) {
		snprintf(err, errlen, "SSL_CTX_new failed");
		return NULL;
	}
	SSL_CTX_set_security_level(ctx, 0);
	if (!SSL_CTX_set_min_proto_version(ctx, TLS1_VERSION) ||
	    !SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION) ||
	    !SSL_CTX_set_cipher_list(ctx, "DEFAULT:@SECLEVEL=0")) {
		snprintf(err, errlen, "cannot configure TLS versions/ciphers");
		goto fail;
	}
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	SSL_CTX_set_verify_depth(ctx, PROBE_TLS_VERIFY_DEPTH);
	SSL_CTX_set_max_cert_list(ctx, PROBE_TLS_MAX_CERT_LIST);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS | SSL_MODE_ENABLE_PARTIAL_WRITE |
				  SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	SSL_CTX_set_options(ctx, SSL_OP_LEGACY_SERVER_CONNECT);
	/* The record reports a session ticket (kept only in the session, which
	 * dies with the connection) and a stapled OCSP response: ask for both. */
	SSL_CTX_set_tlsext_status_type(ctx, TLSEXT_STATUSTYPE_ocsp);
	return ctx;
fail:
	SSL_CTX_free(ctx);
	return NULL;
}

/* The system trust store as one bundle file (X509_get_default_cert_file(),
 * or $SSL_CERT_FILE): parsed once here. SSL_CTX_set_default_verify_paths
 * would also add the hash directory, which OpenSSL 3.0 searches through
 * OSSL_STORE - a directory walk for every issuer lookup of every
 * handshake (docs/densebed.md, "Where the CPU goes"). The directory is
 * used only when there is no bundle file; $SSL_CERT_DIR is not read when
 * there is one (extra anchors go in --ca-file). */
static int load_system_store(SSL_CTX *ctx)
{
	const char *file = getenv(X509_get_default_cert_file_env());

	if (file == NULL)
		file = X509_get_default_cert_file();
	if (access(file, R_OK) == 0)
		return SSL_CTX_load_verify_file(ctx, file);
	return SSL_CTX_set_default_verify_paths(ctx);
}

SSL_CTX *probe_tls_ctx_new(const char *ca_file, char *err, size_t errlen)
{
	SSL_CTX *ctx = ctx_base(err, errlen);

	if (ctx == NULL)
		return NULL;
	if (!load_system_store(ctx)) {
		snprintf(err, errlen, "cannot load the system trust store");
		goto fail;
	}
	if (ca_file != NULL && !SSL_CTX_load_verify_locations(ctx, ca_file, NULL)) {
		snprintf(err, errlen, "cannot load CA file %s", ca_file);
		goto fail;
	}
	return ctx;
fail:
	SSL_CTX_free(ctx);
	return NULL;
}

/* Instead of X509_verify_cert(): the chain is "fine" without a look. */
static int skip_chain_verify(X509_STORE_CTX *store, void *arg)
{
	(void)store, (void)arg;
	return 1;
}

SSL_CTX *probe_tls_ctx_new_unverified(char *err, size_t errlen)
{
	SSL_CTX *ctx = ctx_base(err, errlen);

	if (ctx != NULL)
		SSL_CTX_set_cert_verify_callback(ctx, skip_chain_verify, NULL);
	return ctx;
}

static void name_text(const X509_NAME *name, char *out, size_t cap)
{
	BIO *bio = BIO_new(BIO_s_mem());
	int n;

	out[0] = '\0';
	if (bio == NULL)
		return;
	if (X509_NAME_print_ex(bio, name, 0, XN_FLAG_RFC2253) >= 0) {
		n = BIO_read(bio, out, (int)cap - 1);
		out[n > 0 ? n : 0] = '\0';
	}
	BIO_free(bio);
}

/* One SAN kept with its length: a NUL byte inside a name (the classic
 * "good.example\0.evil" trick) is kept and flagged, never cut there. */
static void san_keep(struct mc_cert *c, const unsigned char *p, size_t len)
{
	size_t i = c->san_count;

	if (i >= MC_CERT_SANS_MAX) {
		c->sans_truncated = true;
		return;
	}
	if (memchr(p, '\0', len) != NULL)
		c->san_nul = true;
	if (len > MC_CERT_SAN_LEN - 1) {
		len = MC_CERT_SAN_LEN - 1;
		c->sans_truncated = true;
	}
	memcpy(c->sans[i], p, len);
	c->sans[i][len] = '\0';
	c->san_len[i] = (uint8_t)len;
	c->san_count++;
}

static void cert_sans(X509 *leaf, struct mc_cert *c)
{
	GENERAL_NAMES *names = X509_get_ext_d2i(leaf, NID_subject_alt_name, NULL, NULL);
	int n = names ? sk_GENERAL_NAME_num(names) : 0;

	for (int i = 0; i < n; i++) {
		const GENERAL_NAME *gn = sk_GENERAL_NAME_value(names, i);
		char ip[INET6_ADDRSTRLEN];
		const unsigned char *p;
		int len;

		if (gn->type == GEN_DNS || gn->type == GEN_EMAIL || gn->type == GEN_URI) {
			p = ASN1_STRING_get0_data(gn->d.ia5);
			len = ASN1_STRING_length(gn->d.ia5);
			san_keep(c, p, len > 0 ? (size_t)len : 0);
		} else if (gn->type == GEN_IPADD && (ASN1_STRING_length(gn->d.ip) == 4 ||
						     ASN1_STRING_length(gn->d.ip) == 16)) {
			p = ASN1_STRING_get0_data(gn->d.ip);
			inet_ntop(ASN1_STRING_length(gn->d.ip) == 4 ? AF_INET : AF_INET6, p, ip,
				  sizeof(ip));
			san_keep(c, (const unsigned char *)ip, strlen(ip));
		} else {
			continue;
		}
		if (c->san_total < UINT16_MAX)
			c->san_total++;
	}
	GENERAL_NAMES_free(names);
}

static void hex_of(const unsigned char *md, size_t n, char *out, size_t cap)
{
	size_t i;

	for (i = 0; i < n && 2 * i + 2 < cap; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
	out[2 * i] = '\0';
}

/* Serial (magnitude in hex, "-" for the negative ones broken CAs issue),
 * SPKI hash and the hash of every presented certificate. */
static void cert_ids(X509 *leaf, STACK_OF(X509) * chain, struct mc_cert *c)
{
	const ASN1_INTEGER *sn = X509_get0_serialNumber(leaf);
	unsigned char *spki = NULL;
	int spki_len;
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	int n = chain ? sk_X509_num(chain) : 0;

	if (sn != NULL) {
		size_t len = (size_t)ASN1_STRING_length(sn), neg = sn->type == V_ASN1_NEG_INTEGER;
		size_t room = (sizeof(c->serial) - 1 - neg) / 2;

		if (neg)
			c->serial[0] = '-';
		c->serial_truncated = len > room;
		hex_of(ASN1_STRING_get0_data(sn), len > room ? room : len, c->serial + neg,
		       sizeof(c->serial) - neg);
	}
	/* the whole SubjectPublicKeyInfo DER (as HPKP pins and CT monitors
	 * hash it), not X509_pubkey_digest()'s key bits alone */
	spki_len = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(leaf), &spki);
	if (spki_len > 0 && EVP_Digest(spki, (size_t)spki_len, md, &mdlen, EVP_sha256(), NULL))
		hex_of(md, mdlen, c->spki_sha256, sizeof(c->spki_sha256));
	OPENSSL_free(spki);
	for (int i = 0; i < n && c->chain_hashed < MC_CERT_CHAIN_MAX; i++)
		if (X509_digest(sk_X509_value(chain, i), EVP_sha256(), md, &mdlen))
			hex_of(md, mdlen, c->chain_sha256[c->chain_hashed++], 65);
}

static int64_t asn1_unix(const ASN1_TIME *t)
{
	struct tm tm;

	if (t == NULL || !ASN1_TIME_to_tm(t, &tm))
		return 0;
	return (int64_t)timegm(&tm);
}

static void cert_key(X509 *leaf, struct mc_cert *c)
{
	EVP_PKEY *pk = X509_get0_pubkey(leaf);
	const char *type = "unknown";

	if (pk == NULL)
		return;
	switch (EVP_PKEY_get_base_id(pk)) {
	case EVP_PKEY_RSA:
		type = "RSA";
		break;
	case EVP_PKEY_EC:
		type = "EC";
		break;
	case EVP_PKEY_ED25519:
		type = "ED25519";
		break;
	case EVP_PKEY_ED448:
		type = "ED448";
		break;
	case EVP_PKEY_DSA:
		type = "DSA";
		break;
	default:
		break;
	}
	snprintf(c->key_type, sizeof(c->key_type), "%s", type);
	c->key_bits = (uint32_t)EVP_PKEY_get_bits(pk);
}

static const char *sig_name(int nid)
{
	const char *name = OBJ_nid2ln(nid);

	return name ? name : "unknown";
}

void probe_tls_cert(X509 *leaf, STACK_OF(X509) * chain, struct mc_cert *c)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	c->present = true;
	name_text(X509_get_subject_name(leaf), c->subject, sizeof(c->subject));
	name_text(X509_get_issuer_name(leaf), c->issuer, sizeof(c->issuer));
	cert_sans(leaf, c);
	cert_ids(leaf, chain, c);
	c->not_before = asn1_unix(X509_get0_notBefore(leaf));
	c->not_after = asn1_unix(X509_get0_notAfter(leaf));
	c->expired = X509_cmp_current_time(X509_get0_notAfter(leaf)) < 0;
	c->self_signed = X509_self_signed(leaf, 0) == 1;
	cert_key(leaf, c);
	snprintf(c->sig_alg, sizeof(c->sig_alg), "%s", sig_name(X509_get_signature_nid(leaf)));
	if (X509_digest(leaf, EVP_sha256(), md, &mdlen))
		hex_of(md, mdlen, c->sha256, sizeof(c->sha256));
	c->chain_len = (uint16_t)(chain ? sk_X509_num(chain) : 1);
}

static void cert_record(SSL *ssl, struct mc_cert *c)
{
	X509 *leaf = SSL_get0_peer_certificate(ssl);
	long verify;

	if (leaf == NULL)
		return;
	probe_tls_cert(leaf, SSL_get_peer_cert_chain(ssl), c);
	verify = SSL_get_verify_result(ssl);
	c->chain_valid = verify == X509_V_OK;
	if (!c->chain_valid)
		snprintf(c->chain_error, sizeof(c->chain_error), "%s",
			 X509_verify_cert_error_string(verify));
}

/* Key exchange: the named group when OpenSSL knows one, else the kind of
 * the server's ephemeral key ("DH" for a TLS 1.2 DHE prime), and its size. */
static void kx_record(SSL *ssl, struct mc_tls *tls)
{
	int nid = SSL_get_negotiated_group(ssl);
	EVP_PKEY *key = NULL;
	const char *name = nid > 0 && !(nid & TLSEXT_nid_unknown) ? OBJ_nid2sn(nid) : NULL;

	if (SSL_get_peer_tmp_key(ssl, &key) && key != NULL) {
		tls->kx_bits = (uint32_t)EVP_PKEY_get_bits(key);
		if (name == NULL && EVP_PKEY_get_base_id(key) == EVP_PKEY_DH)
			name = "DH";
		EVP_PKEY_free(key);
	}
	snprintf(tls->kx_group, sizeof(tls->kx_group), "%s", name ? name : "");
}

static enum mc_tri tri(int v)
{
	return v < 0 ? MC_TRI_UNKNOWN : v ? MC_TRI_YES : MC_TRI_NO;
}

/* Handshake facts of the main session: renegotiation and EMS mean nothing
 * in TLS 1.3 (no renegotiation; the key schedule always binds the
 * transcript): null there. */
static void handshake_facts(SSL *ssl, struct mc_tls *tls)
{
	const unsigned char *alpn = NULL, *ocsp = NULL;
	unsigned int alpn_len = 0;
	bool tls13 = SSL_version(ssl) >= TLS1_3_VERSION;

	kx_record(ssl, tls);
	tls->secure_reneg = tls13 ? MC_TRI_UNKNOWN : tri(SSL_get_secure_renegotiation_support(ssl));
	tls->ems = tls13 ? MC_TRI_UNKNOWN : tri(SSL_get_extms_support(ssl));
	tls->ocsp_stapled =
	    SSL_get_tlsext_status_ocsp_resp(ssl, &ocsp) > 0 ? MC_TRI_YES : MC_TRI_NO;
	SSL_get0_alpn_selected(ssl, &alpn, &alpn_len);
	if (alpn_len >= sizeof(tls->alpn))
		alpn_len = sizeof(tls->alpn) - 1;
	if (alpn != NULL)
		memcpy(tls->alpn, alpn, alpn_len);
	tls->alpn[alpn_len] = '\0';
	probe_tls_record_late(ssl, tls);
}

void probe_tls_record_late(SSL *ssl, struct mc_tls *tls)
{
	SSL_SESSION *sess = SSL_get_session(ssl);

	if (tls->present && sess != NULL && tls->ticket != MC_TRI_YES)
		tls->ticket = SSL_SESSION_has_ticket(sess) ? MC_TRI_YES : MC_TRI_NO;
}

int probe_tls_prepare(SSL *ssl, enum mc_proto proto, const char *name)
{
	static const unsigned char imap[] = "\x04imap", pop3[] = "\x04pop3";
	bool is_imap = proto == MC_PROTO_IMAP || proto == MC_PROTO_IMAPS;

	/* RFC 7301 IDs registered for mail (RFC 8314 section 7.2) */
	if (SSL_set_alpn_protos(ssl, is_imap ? imap : pop3, 5) != 0)
		return -EINVAL;
	if (name != NULL && name[0] != '\0' && !SSL_set_tlsext_host_name(ssl, name))
		return -EINVAL;
	return 0;
}

void probe_tls_name_match(SSL *ssl, const char *name, struct mc_tls *tls)
{
	X509 *leaf = SSL_get0_peer_certificate(ssl);
	int r;

	if (name == NULL || name[0] == '\0' || leaf == NULL)
		return;
	/* RFC 6125: DNS-ID first, the subject CN only without any; a wildcard
	 * only as the whole left-most label */
	r = X509_check_host(leaf, name, strlen(name), X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS, NULL);
	tls->name_match = r == 1 ? MC_TRI_YES : r == 0 ? MC_TRI_NO : MC_TRI_UNKNOWN;
}

void probe_tls_record(SSL *ssl, struct mc_tls *tls)
{
	const char *cipher = SSL_get_cipher_name(ssl);
	enum mc_tri *cell = probe_plan_cell(tls, (uint16_t)SSL_version(ssl));

	tls->present = true;
	snprintf(tls->version, sizeof(tls->version), "%s", SSL_get_version(ssl));
	snprintf(tls->cipher, sizeof(tls->cipher), "%s", cipher ? cipher : "");
	if (cell != NULL)
		*cell = MC_TRI_YES;
	handshake_facts(ssl, tls);
	cert_record(ssl, &tls->cert);
}
