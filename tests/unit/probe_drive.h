/* probe_drive.h — drives a probes/ state machine with scripted server bytes
 * the way the grabber does: bytes -> linebuf -> on_line, requests collected
 * in `sent`, a want_tls answered by a simulated handshake (the rest of that
 * plaintext segment is dropped, as the io layer does). */
#ifndef TEST_PROBE_DRIVE_H
#define TEST_PROBE_DRIVE_H

#include <stdio.h>
#include <string.h>

#include "probes/linebuf.h"
#include "probes/session.h"

struct drive {
	struct mc_record rec;
	struct probe_sess s;
	const struct probe_proto_ops *ops;
	struct probe_linebuf lb;
	char sent[1024];
	size_t sent_len;
	int handshakes;
};

static inline void drive_flush(struct drive *d)
{
	if (d->s.tx_len > 0 && d->sent_len + d->s.tx_len < sizeof(d->sent)) {
		memcpy(d->sent + d->sent_len, d->s.tx, d->s.tx_len);
		d->sent_len += d->s.tx_len;
		d->sent[d->sent_len] = '\0';
	}
	d->s.tx_len = 0;
}

static inline bool drive_line(void *ctx, enum probe_line_kind kind, const char *line, size_t len)
{
	struct drive *d = ctx;

	if (d->s.done)
		return false;
	if (kind == PROBE_LINE_TOO_LONG)
		probe_sess_fail(&d->s, d->ops->stage(&d->s), "line-too-long");
	else
		d->ops->on_line(&d->s, line, len);
	drive_flush(d);
	return !d->s.done && !d->s.want_tls;
}

static inline void drive_start(struct drive *d, enum mc_proto proto, enum probe_mode mode)
{
	memset(d, 0, sizeof(*d));
	d->rec.proto = proto;
	probe_sess_init(&d->s, &d->rec, proto, mode);
	d->ops = probe_proto_lookup(proto);
	probe_linebuf_reset(&d->lb);
	if (d->s.implicit) {
		d->handshakes++;
		d->ops->on_tls_ready(&d->s);
	} else {
		d->ops->start(&d->s);
	}
	drive_flush(d);
}

/* drive_start with the pre-TLS login probe off (--no-login-probe), for tests
 * of other parts of a machine; the probe only starts after the capabilities. */
static inline void drive_start_no_login(struct drive *d, enum mc_proto proto, enum probe_mode mode)
{
	drive_start(d, proto, mode);
	d->s.login_probe = false;
}

/* The login probe's steps as "outcome,outcome,..." for comparisons. */
static inline const char *drive_login(const struct mc_record *rec, char *buf, size_t cap)
{
	size_t o = 0;

	buf[0] = '\0';
	for (uint8_t i = 0; i < rec->login_steps && i < MC_LOGIN_STEPS; i++) {
		int w = snprintf(buf + o, cap - o, "%s%s", i ? "," : "",
				 mc_login_outcome_name(rec->login[i].outcome));

		if (w < 0 || (size_t)w >= cap - o)
			break;
		o += (size_t)w;
	}
	return buf;
}

/* Feed one segment; a STARTTLS accepted inside it completes the simulated
 * handshake and drops the segment's remaining plaintext. */
static inline void drive_feed(struct drive *d, const char *data, size_t len)
{
	if (d->s.done)
		return;
	probe_linebuf_feed(&d->lb, (const uint8_t *)data, len, drive_line, d);
	if (d->s.want_tls && !d->s.done) {
		probe_linebuf_reset(&d->lb);
		d->handshakes++;
		d->ops->on_tls_ready(&d->s);
		drive_flush(d);
	}
}

/* The whole script: plaintext part (split at `cut`), then the TLS part
 * (split at `tcut`). A cut of 0 means one segment. */
static inline void drive_script(struct drive *d, const char *plain, size_t cut, const char *tls,
				size_t tcut)
{
	size_t n = strlen(plain), m = tls ? strlen(tls) : 0;

	if (d->s.implicit) {
		m = n;
		tls = plain;
		tcut = cut;
		n = 0;
	}
	if (cut > n)
		cut = n;
	drive_feed(d, plain, cut);
	if (!d->s.tls_up || d->s.implicit) /* plaintext after the handshake would be TLS */
		drive_feed(d, plain + cut, n - cut);
	if (tls == NULL || !d->s.tls_up)
		return;
	if (tcut > m)
		tcut = m;
	drive_feed(d, tls, tcut);
	drive_feed(d, tls + tcut, m - tcut);
}

/* The capability list as "A|B|C" for comparisons. */
static inline const char *drive_caps(const struct mc_caps *caps, char *buf, size_t cap)
{
	size_t o = 0, off = 0;

	buf[0] = '\0';
	for (uint16_t i = 0; i < caps->count && off < caps->len; i++) {
		const char *item = caps->data + off;
		int w = snprintf(buf + o, cap - o, "%s%s", i ? "|" : "", item);

		if (w < 0 || (size_t)w >= cap - o)
			break;
		o += (size_t)w;
		off += strlen(item) + 1;
	}
	return buf;
}

#endif
