/* login.c — recording and reading the pre-TLS login probe (see login.h). */
#include <string.h>
#include <strings.h>

#include "probes/login.h"

bool probe_login_begin(struct probe_sess *s, enum mc_login_cmd cmd)
{
	struct mc_record *r = s->rec;
	struct mc_login_step *st;

	if (r->login_steps >= MC_LOGIN_STEPS)
		return false;
	st = &r->login[r->login_steps++];
	memset(st, 0, sizeof(*st));
	st->cmd = cmd;
	st->outcome = MC_LOGIN_NO_REPLY;
	s->login_cancels = 0;
	return true;
}

void probe_login_answer(struct probe_sess *s, enum mc_login_outcome outcome, const char *line,
			size_t len)
{
	struct mc_record *r = s->rec;
	struct mc_login_step *st;

	if (r->login_steps == 0)
		return;
	st = &r->login[r->login_steps - 1];
	st->outcome = outcome;
	st->reply_truncated = len > sizeof(st->reply);
	if (st->reply_truncated)
		len = sizeof(st->reply);
	memcpy(st->reply, line, len);
	st->reply_len = (uint16_t)len;
}

bool probe_login_accepted(const struct probe_sess *s)
{
	for (uint8_t i = 0; i < s->rec->login_steps && i < MC_LOGIN_STEPS; i++)
		if (s->rec->login[i].outcome == MC_LOGIN_ACCEPTED)
			return true;
	return false;
}

enum mc_login_cmd probe_login_current(const struct probe_sess *s)
{
	const struct mc_record *r = s->rec;

	return r->login_steps == 0 ? MC_LOGIN_CMD_NONE : r->login[r->login_steps - 1].cmd;
}

bool probe_login_wants_connection(const struct mc_record *rec)
{
	if (rec->proto != MC_PROTO_POP3 || rec->starttls_accepted != MC_TRI_YES)
		return false;
	for (uint8_t i = 0; i < rec->login_steps && i < MC_LOGIN_STEPS; i++)
		if (rec->login[i].outcome == MC_LOGIN_ACCEPTED ||
		    rec->login[i].cmd == MC_LOGIN_CMD_POP3_USER)
			return false;
	return true;
}

bool probe_login_broke(const struct mc_record *rec)
{
	return strncmp(rec->error, "login: ", 7) == 0 ||
	       strncmp(rec->error, "login-cancel: ", 14) == 0;
}

void probe_login_restart(struct mc_record *rec)
{
	uint32_t ip = rec->ip;
	uint16_t port = rec->port;
	enum mc_proto proto = rec->proto;
	uint8_t n = rec->login_steps < MC_LOGIN_STEPS ? rec->login_steps : MC_LOGIN_STEPS;
	struct mc_login_step steps[MC_LOGIN_STEPS];

	memcpy(steps, rec->login, sizeof(steps));
	memset(rec, 0, sizeof(*rec));
	rec->ip = ip;
	rec->port = port;
	rec->proto = proto;
	rec->login_steps = n;
	memcpy(rec->login, steps, sizeof(steps));
}

void probe_login_merge(struct mc_record *into, const struct mc_record *from)
{
	for (uint8_t i = 0; i < from->login_steps && i < MC_LOGIN_STEPS; i++)
		if (into->login_steps < MC_LOGIN_STEPS)
			into->login[into->login_steps++] = from->login[i];
}

void probe_login_note_unprobed(struct probe_sess *s, enum mc_login_cmd cmd)
{
	if (probe_login_begin(s, cmd))
		s->rec->login[s->rec->login_steps - 1].outcome = MC_LOGIN_NOT_PROBED;
}

bool probe_login_tls_reason(const char *line, size_t len)
{
	static const char *const words[] = {"PRIVACYREQUIRED", "TLS",	    "SSL",	"ENCRYPT",
					    "SECURE",	       "PLAINTEXT", "CLEARTEXT"};

	for (size_t w = 0; w < sizeof(words) / sizeof(words[0]); w++) {
		size_t n = strlen(words[w]);

		for (size_t i = 0; i + n <= len; i++)
			if (strncasecmp(line + i, words[w], n) == 0)
				return true;
	}
	return false;
}

enum mc_login_outcome probe_login_refusal(const char *line, size_t len, enum mc_login_outcome other)
{
	return probe_login_tls_reason(line, len) ? MC_LOGIN_REFUSED_TLS : other;
}
