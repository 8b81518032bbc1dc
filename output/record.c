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
