/* record.c — names of record enums and the capability-list appender. */
#include <string.h>

#include "output/record.h"

const char *mc_proto_name(enum mc_proto proto)
{
	switch (proto) {
	case MC_PROTO_POP3:
		return "pop3";
	case MC_PROTO_IMAP:
		return "imap";
	case MC_PROTO_POP3S:
		return "pop3s";
	case MC_PROTO_IMAPS:
		return "imaps";
	case MC_PROTO_UNKNOWN:
		break;
	}
	return "unknown";
}

const char *mc_posture_name(enum mc_posture posture)
{
	switch (posture) {
	case MC_POSTURE_NO_TLS:
		return "no_tls";
	case MC_POSTURE_STARTTLS_OPTIONAL:
		return "starttls_optional";
	case MC_POSTURE_STARTTLS_REQUIRED:
		return "starttls_required";
	case MC_POSTURE_IMPLICIT_TLS:
		return "implicit_tls";
	case MC_POSTURE_UNKNOWN:
		break;
	}
	return "unknown";
}

const char *mc_legacy_name(enum mc_legacy f)
{
	static const char *const names[MC_LEGACY_COUNT] = {"rc4",    "3des", "des",
							   "export", "null", "anon"};

	return (unsigned)f < MC_LEGACY_COUNT ? names[f] : "unknown";
}

const char *mc_evidence_name(enum mc_evidence evidence)
{
	switch (evidence) {
	case MC_EVIDENCE_CAPABILITY:
		return "capability";
	case MC_EVIDENCE_BEHAVIOUR:
		return "behaviour";
	case MC_EVIDENCE_NONE:
		break;
	}
	return "none";
}

const char *mc_login_cmd_name(enum mc_login_cmd cmd)
{
	switch (cmd) {
	case MC_LOGIN_CMD_POP3_AUTH_PLAIN:
		return "AUTH PLAIN";
	case MC_LOGIN_CMD_POP3_AUTH_LOGIN:
		return "AUTH LOGIN";
	case MC_LOGIN_CMD_POP3_USER:
		return "USER " MC_LOGIN_PROBE_USER;
	case MC_LOGIN_CMD_IMAP_AUTH_PLAIN:
		return "AUTHENTICATE PLAIN";
	case MC_LOGIN_CMD_IMAP_AUTH_LOGIN:
		return "AUTHENTICATE LOGIN";
	case MC_LOGIN_CMD_IMAP_LOGIN:
		return "LOGIN";
	case MC_LOGIN_CMD_NONE:
		break;
	}
	return "none";
}

const char *mc_login_outcome_name(enum mc_login_outcome outcome)
{
	switch (outcome) {
	case MC_LOGIN_NO_REPLY:
		return "no_reply";
	case MC_LOGIN_ACCEPTED:
		return "accepted";
	case MC_LOGIN_REFUSED_TLS:
		return "refused_tls";
	case MC_LOGIN_REFUSED:
		return "refused";
	case MC_LOGIN_BAD:
		return "bad";
	case MC_LOGIN_NOT_PROBED:
		break;
	}
	return "not_probed";
}

void mc_caps_add(struct mc_caps *caps, const char *word, size_t len)
{
	size_t room = sizeof(caps->data) - caps->len;

	if (caps->count == UINT16_MAX || len + 1 > room) {
		caps->truncated = true;
		return;
	}
	memcpy(caps->data + caps->len, word, len);
	caps->data[caps->len + len] = '\0';
	caps->len = (uint16_t)(caps->len + len + 1);
	caps->count++;
}
