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
	s->desc = probe_proto_lookup(proto) != NULL ? probe_proto_lookup(proto)->desc : NULL;
}

struct mc_caps *probe_sess_caps(struct probe_sess *s)
{
	return s->tls_up ? &s->rec->caps_post_tls : &s->rec->caps_pre_tls;
}

static enum mc_tri tri(bool b)
{
	return b ? MC_TRI_YES : MC_TRI_NO;
}

void probe_sess_after_capa(struct probe_sess *s)
{
	const struct probe_proto_desc *d = s->desc;
	struct mc_record *r = s->rec;

	if (s->tls_up) {
		if (s->mode == PROBE_MODE_INJECT && r->starttls_injection == MC_TRI_UNKNOWN)
			r->starttls_injection = MC_TRI_NO;
		if (s->implicit) /* measured over TLS; accepted stays unknown (not tried) */
			r->starttls_advertised =
			    tri(probe_caps_has(&r->caps_post_tls, d->stls_word));
		d->enter(s, d->st_done);
		return;
	}
	r->starttls_advertised = tri(probe_caps_has(&r->caps_pre_tls, d->stls_word));
	if (s->login_probe && s->mode == PROBE_MODE_MAIN)
		d->login_next(s);
	else
		d->enter(s, d->st_starttls);
}

void probe_sess_starttls_answer(struct probe_sess *s, bool accepted)
{
	const struct probe_proto_desc *d = s->desc;

	s->rec->starttls_accepted = tri(accepted);
	if (accepted) {
		d->enter(s, d->st_tls_handshake);
		return;
	}
	/* not advertised: refusal is the answer (posture no_tls), not a failure */
	if (s->rec->starttls_advertised == MC_TRI_YES)
		probe_sess_fail(s, PROBE_STAGE_STARTTLS, "starttls-refused");
	if (!s->done && d->login_after_refusal && s->login_probe && s->mode == PROBE_MODE_MAIN)
		d->login_next(s); /* USER, on this plaintext connection */
	else
		d->enter(s, d->st_done);
}

void probe_sess_on_tls_ready(struct probe_sess *s)
{
	const struct probe_proto_desc *d = s->desc;

	s->tls_up = true;
	s->want_tls = false;
	s->id_asked = false; /* IMAP asks ID again over TLS: the answer may differ */
	if (s->implicit)
		d->enter(s, d->st_greeting);
	else if (s->mode == PROBE_MODE_MATRIX)
		d->enter(s, d->st_done);
	else
		d->enter(s, d->st_capa);
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
