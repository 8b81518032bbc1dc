/* tlshello.h — hand-built ClientHellos and a strict ServerHello parser.
 *
 * Our own bytes, not OpenSSL's: Debian's OpenSSL 3 cannot offer SSLv3,
 * RC4, 3DES, DES, EXPORT or NULL suites, so a server that speaks only those
 * would look like "no TLS" through it. A hello is built from a spec (the
 * highest version offered and the suite families), sent after STARTTLS or
 * at once on 993/995, and the server's first answer (ServerHello,
 * HelloRetryRequest, alert, SSLv2 SERVER-HELLO) is parsed and the
 * connection closed. No handshake is ever completed.
 *
 * probe_hello_parse() is pure: any bytes in, a verdict out, no allocation,
 * nothing read beyond `len`. */
#ifndef PROBE_TLSHELLO_H
#define PROBE_TLSHELLO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Wire versions. */
#define PROBE_SSL2  0x0002
#define PROBE_SSL3  0x0300
#define PROBE_TLS10 0x0301
#define PROBE_TLS11 0x0302
#define PROBE_TLS12 0x0303
#define PROBE_TLS13 0x0304

/* Suite families (a suite may be in several: DH_anon_EXPORT_WITH_RC4_40_MD5
 * is anon, export and rc4). */
enum probe_suite_family {
	PROBE_FAM_RC4,
	PROBE_FAM_3DES,
	PROBE_FAM_DES, /* single DES, not export */
	PROBE_FAM_EXPORT,
	PROBE_FAM_NULL, /* no encryption */
	PROBE_FAM_ANON, /* no server authentication */
	PROBE_FAM_LEGACY_COUNT,
	PROBE_FAM_MODERN = PROBE_FAM_LEGACY_COUNT, /* AES, ChaCha20, Camellia, SEED, IDEA */
	PROBE_FAM_TLS13,			   /* TLS 1.3 suites */
	PROBE_FAM_COUNT,
};
#define PROBE_FAM_BIT(f)  (1u << (f))
#define PROBE_FAMS_LEGACY ((1u << PROBE_FAM_LEGACY_COUNT) - 1)
#define PROBE_FAMS_ALL	  ((1u << PROBE_FAM_COUNT) - 1)
/* bytes of the longest hello we build: TLS 1.3, every family and a 253-byte
 * SNI is 641 (fuzz_hello_build found 640 one short) */
#define PROBE_HELLO_MAX	    704
#define PROBE_HELLO_SH_MAX  4096 /* a ServerHello body larger than this is malformed */
#define PROBE_HELLO_EXT_MAX 24	 /* ServerHello extensions kept (more is malformed) */

/* Name of a legacy family as written in records ("rc4", "3des", ...). */
const char *probe_fam_name(enum probe_suite_family f);

/* Families of a suite (PROBE_FAM_BIT set), 0 when we never offer it. */
uint32_t probe_suite_families(uint16_t suite);

struct probe_hello_spec {
	uint16_t version; /* highest version offered: PROBE_SSL2 .. PROBE_TLS13 */
	/* Suites offered: every suite with at least one family in this mask. */
	uint32_t families;
	uint8_t random[32];	/* client random */
	uint8_t session_id[32]; /* TLS 1.3 hellos: legacy_session_id (middlebox compat) */
	uint8_t share[32];	/* TLS 1.3 hellos: the X25519 key share (any 32 bytes) */
	const char *sni;	/* server_name, NULL for none */
};

/* Build the hello into out[0..cap). Returns its length, or -ENOBUFS /
 * -EINVAL (bad version, empty suite list, SNI too long). TLS hellos go in
 * one record (version 0x0300 for SSLv3, else 0x0301); SSLv3 hellos carry
 * no extensions; TLS 1.3 offers supported_versions {1.3,1.2,1.1,1.0} and
 * an X25519 key_share; a hello between 256 and 511 bytes is padded to 512
 * (RFC 7685: some servers hang on those lengths). */
int probe_hello_build(const struct probe_hello_spec *spec, uint8_t *out, size_t cap);

enum probe_hello_kind {
	PROBE_HELLO_NEED_MORE,	  /* a proper prefix of a well-formed answer */
	PROBE_HELLO_SERVER_HELLO, /* version and suite chosen */
	PROBE_HELLO_RETRY,	  /* TLS 1.3 HelloRetryRequest (version is 1.3) */
	PROBE_HELLO_ALERT,	  /* TLS alert, or an SSLv2 ERROR message (level 0) */
	PROBE_HELLO_SSL2,	  /* SSLv2 SERVER-HELLO */
	PROBE_HELLO_MALFORMED,	  /* anything else; `why` says what */
};

struct probe_hello_result {
	enum probe_hello_kind kind;
	uint16_t version;	 /* chosen: supported_versions if present, else legacy */
	uint16_t legacy_version; /* ServerHello.legacy_version (SSLv2: 0x0002) */
	uint16_t suite;		 /* cipher suite chosen (not SSLv2) */
	uint8_t compression;
	uint8_t alert_level, alert_desc; /* SSLv2 ERROR: level 0, desc = low byte of the code */
	uint16_t group;			 /* key_share group (SH, HRR), 0 when absent */
	uint16_t ssl2_ciphers;		 /* SSLv2: cipher specs offered by the server */
	uint8_t n_ext;
	uint16_t ext[PROBE_HELLO_EXT_MAX]; /* extension types in the server's order */
	bool secure_reneg;		   /* renegotiation_info present (empty) */
	bool ems;			   /* extended_master_secret present */
	uint8_t alpn_len;		   /* ALPN protocol selected (bytes, not NUL-terminated) */
	char alpn[32];
	const char *why; /* MALFORMED: static reason */
};

/* Parse the first answer of a server to a hello. */
enum probe_hello_kind probe_hello_parse(const uint8_t *buf, size_t len,
					struct probe_hello_result *res);

const char *probe_hello_kind_name(enum probe_hello_kind k);

#endif
