/* session.c — helpers shared by the protocol state machines. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "probes/session.h"

const struct probe_proto_ops *probe_proto_lookup(enum mc_proto proto)
{
	switch (proto) {
	case MC_PROTO_POP3:
	case MC_PROTO_POP3S:
		return &probe_pop3_ops;
	case MC_PROTO_IMAP:
	case MC_PROTO_IMAPS:
		return &probe_imap_ops;
	case MC_PROTO_UNKNOWN:
		break;
	}
	return NULL;
}

void probe_sess_init(struct probe_sess *s, struct mc_record *rec, enum mc_proto proto,
		     enum probe_mode mode)
{
	memset(s, 0, sizeof(*s));
	s->rec = rec;
	s->proto = proto;
	s->mode = mode;
	s->implicit = proto == MC_PROTO_POP3S || proto == MC_PROTO_IMAPS;
	s->login_probe = true;
}

void probe_sess_send(struct probe_sess *s, const char *text)
{
	size_t n = strlen(text);

	if (n > sizeof(s->tx) - s->tx_len) {
		probe_sess_fail(s, PROBE_STAGE_INTERNAL, "request-too-long");
		return;
	}
	memcpy(s->tx + s->tx_len, text, n);
	s->tx_len += n;
}

const char *probe_stage_name(enum probe_stage st)
{
	static const char *const names[] = {
	    [PROBE_STAGE_CONFIG] = "config",
	    [PROBE_STAGE_CONNECT] = "connect",
	    [PROBE_STAGE_GREETING] = "greeting",
	    [PROBE_STAGE_CAPA] = "capa",
	    [PROBE_STAGE_CAPA_TLS] = "capa-tls",
	    [PROBE_STAGE_CAPABILITY] = "capability",
	    [PROBE_STAGE_CAPABILITY_TLS] = "capability-tls",
	    [PROBE_STAGE_ID] = "id",
	    [PROBE_STAGE_ID_TLS] = "id-tls",
	    [PROBE_STAGE_LOGIN] = "login",
	    [PROBE_STAGE_LOGIN_CANCEL] = "login-cancel",
	    [PROBE_STAGE_QUIT] = "quit",
	    [PROBE_STAGE_STARTTLS] = "starttls",
	    [PROBE_STAGE_TLS_HANDSHAKE] = "tls-handshake",
	    [PROBE_STAGE_TLS] = "tls",
	    [PROBE_STAGE_DONE] = "done",
	    [PROBE_STAGE_INTERNAL] = "internal",
	};

	if ((unsigned)st >= sizeof(names) / sizeof(names[0]) || names[st] == NULL)
		return "unknown";
	return names[st];
}

void probe_sess_fail(struct probe_sess *s, enum probe_stage stage, const char *reason)
{
	if (s->rec->error[0] == '\0')
		snprintf(s->rec->error, sizeof(s->rec->error), "%s: %s", probe_stage_name(stage),
			 reason);
	s->done = true;
}

void probe_sess_banner(struct probe_sess *s, const char *line, size_t len)
{
	struct mc_record *r = s->rec;

	if (len > sizeof(r->banner)) {
		len = sizeof(r->banner);
		r->banner_truncated = true;
	}
	memcpy(r->banner, line, len);
	r->banner_len = (uint16_t)len;
}

bool probe_starts_with(const char *line, size_t len, const char *prefix)
{
	size_t n = strlen(prefix);

	return len >= n && strncasecmp(line, prefix, n) == 0;
}

bool probe_caps_has(const struct mc_caps *caps, const char *word)
{
	size_t off = 0;

	for (uint16_t i = 0; i < caps->count && off < caps->len; i++) {
		const char *item = caps->data + off;
		size_t n = strnlen(item, caps->len - off);

		if (strcasecmp(item, word) == 0)
			return true;
		off += n + 1;
	}
	return false;
}

void probe_caps_add(struct mc_caps *caps, const char *word, size_t len)
{
	char buf[MC_CAPS_BYTES];

	if (len > sizeof(buf))
		len = sizeof(buf); /* longer than the whole list: mc_caps_add truncates */
	for (size_t i = 0; i < len; i++)
		buf[i] = word[i] == '\0' ? (char)0xff : word[i];
	mc_caps_add(caps, buf, len);
}
