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
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "probes/tls.h"

#define PROBE_TLS_MAX_CERT_LIST (96 * 1024) /* bytes of certificate chain we accept */
#define PROBE_TLS_VERIFY_DEPTH	8

static const int slot_version[PROBE_TLS_SLOTS] = {TLS1_VERSION, TLS1_1_VERSION, TLS1_2_VERSION,
						  TLS1_3_VERSION};

SSL_CTX *probe_tls_ctx_new(enum probe_tls_slot slot, const char *ca_file, char *err, size_t errlen)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	int lo = slot < PROBE_TLS_SLOTS ? slot_version[slot] : TLS1_VERSION;
	int hi = slot < PROBE_TLS_SLOTS ? slot_version[slot] : TLS1_3_VERSION;

	if (ctx == NULL) {
		snprintf(err, errlen, "SSL_CTX_new failed");
		return NULL;
	}
	SSL_CTX_set_security_level(ctx, 0);
	if (!SSL_CTX_set_min_proto_version(ctx, lo) || !SSL_CTX_set_max_proto_version(ctx, hi) ||
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
	SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET | SSL_OP_LEGACY_SERVER_CONNECT);
	if (slot < PROBE_TLS_SLOTS)
		return ctx; /* matrix contexts only test a version: no trust store needed */
	if (!SSL_CTX_set_default_verify_paths(ctx)) {
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

enum probe_tls_slot probe_tls_slot_of(const SSL *ssl)
{
	int v = SSL_version(ssl);

	for (int i = 0; i < PROBE_TLS_SLOTS; i++)
		if (slot_version[i] == v)
			return (enum probe_tls_slot)i;
	return PROBE_TLS_SLOTS;
}

enum mc_tri *probe_tls_matrix(struct mc_tls *tls, enum probe_tls_slot slot)
{
	switch (slot) {
	case PROBE_TLS_1_0:
		return &tls->tls1_0;
	case PROBE_TLS_1_1:
		return &tls->tls1_1;
	case PROBE_TLS_1_2:
		return &tls->tls1_2;
	case PROBE_TLS_1_3:
	case PROBE_TLS_SLOTS:
		break;
	}
	return &tls->tls1_3;
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

static void copy_bounded(char *dst, size_t cap, const void *src, size_t len)
{
	if (len > cap - 1)
		len = cap - 1;
	memcpy(dst, src, len);
	dst[len] = '\0';
}

static void cert_sans(X509 *leaf, struct mc_cert *c)
{
	GENERAL_NAMES *names = X509_get_ext_d2i(leaf, NID_subject_alt_name, NULL, NULL);
	int n = names ? sk_GENERAL_NAME_num(names) : 0;

	for (int i = 0; i < n && c->san_count < MC_CERT_SANS_MAX; i++) {
		const GENERAL_NAME *gn = sk_GENERAL_NAME_value(names, i);
		char *dst = c->sans[c->san_count];
		const unsigned char *p;
		int len;

		if (gn->type == GEN_DNS || gn->type == GEN_EMAIL || gn->type == GEN_URI) {
			p = ASN1_STRING_get0_data(gn->d.ia5);
			len = ASN1_STRING_length(gn->d.ia5);
			copy_bounded(dst, MC_CERT_SAN_LEN, p, (size_t)len);
			/* a NUL inside the name must not end it early ("good\0.evil"):
			 * 0xFF, shown as U+FFFD, as capabilities do */
			for (int k = 0; k < len && k < MC_CERT_SAN_LEN - 1; k++)
				if (dst[k] == '\0')
					dst[k] = (char)0xff;
		} else if (gn->type == GEN_IPADD && ASN1_STRING_length(gn->d.ip) == 4) {
			p = ASN1_STRING_get0_data(gn->d.ip);
			snprintf(dst, MC_CERT_SAN_LEN, "%u.%u.%u.%u", p[0], p[1], p[2], p[3]);
		} else {
			continue;
		}
		c->san_count++;
	}
	GENERAL_NAMES_free(names);
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

static void cert_record(SSL *ssl, struct mc_cert *c)
{
	X509 *leaf = SSL_get0_peer_certificate(ssl);
	STACK_OF(X509) *chain = SSL_get_peer_cert_chain(ssl);
	long verify;

	if (leaf == NULL)
		return;
	probe_cert_leaf(leaf, c);
	c->chain_len = (uint16_t)(chain ? sk_X509_num(chain) : 1);
	verify = SSL_get_verify_result(ssl);
	c->chain_valid = verify == X509_V_OK;
	if (!c->chain_valid)
		snprintf(c->chain_error, sizeof(c->chain_error), "%s",
			 X509_verify_cert_error_string(verify));
}

void probe_cert_leaf(X509 *leaf, struct mc_cert *c)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	c->present = true;
	name_text(X509_get_subject_name(leaf), c->subject, sizeof(c->subject));
	name_text(X509_get_issuer_name(leaf), c->issuer, sizeof(c->issuer));
	cert_sans(leaf, c);
	c->not_before = asn1_unix(X509_get0_notBefore(leaf));
	c->not_after = asn1_unix(X509_get0_notAfter(leaf));
	c->expired = X509_cmp_current_time(X509_get0_notAfter(leaf)) < 0;
	c->self_signed = X509_self_signed(leaf, 0) == 1;
	cert_key(leaf, c);
	snprintf(c->sig_alg, sizeof(c->sig_alg), "%s", sig_name(X509_get_signature_nid(leaf)));
	if (X509_digest(leaf, EVP_sha256(), md, &mdlen))
		for (unsigned int i = 0; i < mdlen && i < 32; i++)
			snprintf(c->sha256 + 2 * i, 3, "%02x", md[i]);
}

void probe_tls_record(SSL *ssl, struct mc_tls *tls)
{
	const char *cipher = SSL_get_cipher_name(ssl);
	enum probe_tls_slot slot = probe_tls_slot_of(ssl);

	tls->present = true;
	snprintf(tls->version, sizeof(tls->version), "%s", SSL_get_version(ssl));
	snprintf(tls->cipher, sizeof(tls->cipher), "%s", cipher ? cipher : "");
	if (slot < PROBE_TLS_SLOTS)
		*probe_tls_matrix(tls, slot) = MC_TRI_YES;
	cert_record(ssl, &tls->cert);
}
