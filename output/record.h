/* record.h — one census record per probed (address, port).
 *
 * probes/ fills a struct mc_record for every target it finishes; output/
 * enriches it (geo, asn), encodes it as one NDJSON line and writes it to a
 * shard. Every byte that came from a server (banner, capabilities,
 * certificate names) is stored raw with its length and escaped only when it
 * is written as JSON. All buffers are fixed-size: overflow sets a
 * *_truncated flag, never writes past the end. */
#ifndef MC_RECORD_H
#define MC_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MC_BANNER_MAX	   512	 /* bytes of the greeting kept */
#define MC_CAPS_BYTES	   1024	 /* bytes of one capability list (items NUL-separated) */
#define MC_CERT_NAME_MAX   256	 /* subject / issuer, RFC 2253 text */
#define MC_CERT_SANS_MAX   16	 /* SAN entries kept */
#define MC_CERT_SAN_LEN	   128	 /* bytes of one SAN entry */
#define MC_ERROR_MAX	   160	 /* "stage: reason" */
#define MC_NAME_MAX	   254	 /* a target's DNS name (253) + NUL */
#define MC_CERT_CHAIN_MAX  8	 /* certificates of the presented chain hashed */
#define MC_CERT_SERIAL_MAX 81	 /* hex digits of the serial kept (40 bytes), + NUL */
#define MC_LOGIN_STEPS	   4	 /* steps of the pre-TLS login probe kept */
#define MC_LOGIN_REPLY_MAX 160	 /* bytes of one login-probe reply kept */
#define MC_RECORD_JSON_MAX 65536 /* mc_record_to_json() never needs more (worst case ~40 KiB) */

enum mc_proto {
	MC_PROTO_UNKNOWN = 0,
	MC_PROTO_POP3,	/* plaintext POP3, STLS upgrade (110) */
	MC_PROTO_IMAP,	/* plaintext IMAP, STARTTLS upgrade (143) */
	MC_PROTO_POP3S, /* implicit-TLS POP3 (995) */
	MC_PROTO_IMAPS, /* implicit-TLS IMAP (993) */
};

enum mc_posture {
	MC_POSTURE_UNKNOWN = 0,	      /* the probe did not get far enough to tell */
	MC_POSTURE_NO_TLS,	      /* neither STARTTLS nor implicit TLS */
	MC_POSTURE_STARTTLS_OPTIONAL, /* TLS available, login allowed before it */
	MC_POSTURE_STARTTLS_REQUIRED, /* LOGINDISABLED, or no plaintext USER/AUTH before TLS */
	MC_POSTURE_IMPLICIT_TLS,      /* TLS from the first byte (993/995) */
};

/* A yes/no answer that may not have been measured. */
enum mc_tri {
	MC_TRI_UNKNOWN = 0, /* written as JSON null */
	MC_TRI_NO,
	MC_TRI_YES,
};

/* Legacy cipher-suite families, as measured by hand-built ClientHellos. */
enum mc_legacy {
	MC_LEGACY_RC4,
	MC_LEGACY_3DES,
	MC_LEGACY_DES, /* single DES (not export) */
	MC_LEGACY_EXPORT,
	MC_LEGACY_NULL, /* no encryption */
	MC_LEGACY_ANON, /* anonymous DH / ECDH: no server authentication */
	MC_LEGACY_COUNT,
};

/* How cleartext_login was decided. */
enum mc_evidence {
	MC_EVIDENCE_NONE = 0,	/* not decided (cleartext_login null) */
	MC_EVIDENCE_CAPABILITY, /* from the pre-TLS capability list alone */
	MC_EVIDENCE_BEHAVIOUR,	/* from what the server did: the login probe, or TLS first */
};

/* The fixed user name the POP3 login probe sends with USER: no account of
 * that name is expected anywhere, and PASS never follows (docs/probes.md). */
#define MC_LOGIN_PROBE_USER "mailcensus-probe"

/* A command of the pre-TLS login probe (probes/login.c). None carries a
 * credential: USER names a fixed non-account, AUTH is cancelled with '*'. */
enum mc_login_cmd {
	MC_LOGIN_CMD_NONE = 0,
	MC_LOGIN_CMD_POP3_AUTH_PLAIN, /* "AUTH PLAIN", no initial response */
	MC_LOGIN_CMD_POP3_AUTH_LOGIN, /* "AUTH LOGIN" */
	MC_LOGIN_CMD_POP3_USER,	      /* "USER <MC_LOGIN_PROBE_USER>", never PASS */
	MC_LOGIN_CMD_IMAP_AUTH_PLAIN, /* "AUTHENTICATE PLAIN", no initial response */
	MC_LOGIN_CMD_IMAP_AUTH_LOGIN, /* "AUTHENTICATE LOGIN" */
	MC_LOGIN_CMD_IMAP_LOGIN,      /* LOGIN: needs a password, never sent (not_probed) */
};

/* What the server answered to one login-probe command. */
enum mc_login_outcome {
	MC_LOGIN_NOT_PROBED = 0, /* not sent (IMAP LOGIN) */
	MC_LOGIN_NO_REPLY,	 /* sent; the connection ended before an answer */
	MC_LOGIN_ACCEPTED,	 /* "+" continuation / "+OK": a credential would be taken now */
	MC_LOGIN_REFUSED_TLS,	 /* refused, saying TLS is needed ([PRIVACYREQUIRED], "TLS", ...) */
	MC_LOGIN_REFUSED,	 /* -ERR / NO for another (or no) reason */
	MC_LOGIN_BAD,		 /* IMAP BAD: command or mechanism not understood */
};

struct mc_login_step {
	enum mc_login_cmd cmd;
	enum mc_login_outcome outcome;
	uint16_t reply_len;
	bool reply_truncated;
	uint8_t reply[MC_LOGIN_REPLY_MAX]; /* raw status line, CRLF stripped */
};

/* A list of capability words, raw server bytes, NUL-separated, `count` items. */
struct mc_caps {
	uint16_t count;
	uint16_t len; /* bytes used in data, including the separators */
	bool truncated;
	char data[MC_CAPS_BYTES];
};

struct mc_cert {
	bool present;
	char subject[MC_CERT_NAME_MAX];
	char issuer[MC_CERT_NAME_MAX];
	uint16_t san_count;  /* entries kept in sans */
	uint16_t san_total;  /* DNS / email / URI / IP names in the certificate */
	bool sans_truncated; /* a name was dropped (more than MC_CERT_SANS_MAX) or cut */
	bool san_nul;	     /* a name held a NUL byte (kept, escaped as \u0000) */
	char sans[MC_CERT_SANS_MAX][MC_CERT_SAN_LEN];
	uint8_t san_len[MC_CERT_SANS_MAX]; /* bytes of sans[i]; 0 = NUL-terminated text */
	int64_t not_before;		   /* Unix seconds */
	int64_t not_after;		   /* Unix seconds */
	bool expired;
	bool self_signed;
	char key_type[16]; /* "RSA", "EC", "ED25519", ... */
	uint32_t key_bits;
	char sig_alg[64];		 /* OpenSSL's long name, e.g. "sha256WithRSAEncryption" */
	char sha256[65];		 /* lowercase hex of the leaf's DER */
	char spki_sha256[65];		 /* lowercase hex of the leaf's SubjectPublicKeyInfo DER */
	char serial[MC_CERT_SERIAL_MAX]; /* lowercase hex, as many digits as the DER holds */
	bool serial_truncated;
	uint16_t chain_len;
	uint8_t chain_hashed;			  /* entries of chain_sha256 (leaf first) */
	char chain_sha256[MC_CERT_CHAIN_MAX][65]; /* every presented certificate's DER */
	bool chain_valid;			  /* verified against the system trust store */
	char chain_error[128]; /* X509_verify_cert_error_string() when not valid */
};

struct mc_tls {
	bool present;	  /* a TLS session was established on the main connection */
	char version[16]; /* "TLSv1.3", ... */
	char cipher[64];  /* OpenSSL cipher name */
	enum mc_tri
	    name_match; /* leaf matches the target's name (X509_check_host); null without one */
	enum mc_tri tls1_0, tls1_1, tls1_2, tls1_3; /* the version matrix */
	enum mc_tri ssl2, ssl3;			    /* hand-built hellos only */
	enum mc_tri legacy[MC_LEGACY_COUNT];	    /* a suite of the family was chosen */
	uint8_t hello_probes;			    /* hand-built hello connections made */
	char hello_error[64];			    /* first protocol violation seen, or "" */
	/* Key exchange and handshake facts of the main session (present only). */
	char kx_group[32];	  /* "X25519", "prime256v1", "ffdhe2048", "DH", "" */
	uint32_t kx_bits;	  /* size of the DH prime / EC group, 0 unknown */
	enum mc_tri secure_reneg; /* RFC 5746 (null for TLS 1.3: no renegotiation) */
	enum mc_tri ems;	  /* RFC 7627 extended master secret */
	enum mc_tri ticket;	  /* a session ticket was issued (RFC 5077 / TLS 1.3 NST) */
	enum mc_tri ocsp_stapled; /* an OCSP response came with the handshake */
	char alpn[32];		  /* protocol the server selected ("imap", "pop3"), or "" */
	char jarm[63];		  /* JARM fingerprint (--jarm), "" when not measured */
	struct mc_cert cert;
};

struct mc_record {
	uint32_t ip; /* host byte order */
	uint16_t port;
	enum mc_proto proto;
	char name[MC_NAME_MAX]; /* the target's name (SNI, name_match), "" when none */
	int64_t time_us;	/* when the probe finished, Unix microseconds (UTC) */

	enum mc_posture posture;
	enum mc_tri cleartext_login; /* a password can be sent before TLS */
	enum mc_evidence cleartext_login_evidence;
	enum mc_tri tls_obsolete; /* SSLv2, SSLv3, TLS 1.0 or 1.1 accepted */

	uint16_t banner_len;
	bool banner_truncated;
	uint8_t banner[MC_BANNER_MAX]; /* raw greeting bytes, CRLF stripped */

	struct mc_caps caps_pre_tls;
	struct mc_caps caps_post_tls;

	enum mc_tri starttls_advertised;
	enum mc_tri starttls_accepted;
	enum mc_tri starttls_injection;

	uint8_t login_steps; /* used entries of login[] */
	struct mc_login_step login[MC_LOGIN_STEPS];

	struct mc_tls tls;

	/* Filled by output/ enrichment; empty strings / 0 when unknown. */
	char country[3];
	uint32_t asn;
	char asn_org[128];

	char error[MC_ERROR_MAX]; /* empty when the probe completed, else "stage: reason" */
};

const char *mc_proto_name(enum mc_proto proto);
const char *mc_posture_name(enum mc_posture posture);
const char *mc_legacy_name(enum mc_legacy f); /* "rc4", "3des", "des", "export", "null", "anon" */
const char *mc_evidence_name(enum mc_evidence evidence);
const char *mc_login_cmd_name(enum mc_login_cmd cmd);
const char *mc_login_outcome_name(enum mc_login_outcome outcome);

/* Append one capability word (raw bytes) to a list; sets truncated on overflow. */
void mc_caps_add(struct mc_caps *caps, const char *word, size_t len);

/* Encode one record as a single JSON object followed by '\n'. Returns the
 * number of bytes written, or 0 if `cap` is too small (nothing useful written). */
size_t mc_record_to_json(const struct mc_record *rec, char *buf, size_t cap);

#endif
