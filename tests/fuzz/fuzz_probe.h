/* fuzz_probe.h — drives a POP3/IMAP state machine the way the grabber and
 * its io layer do (probes/grabber.c slot_event/apply_requests, probes/io.c
 * read_lines/io_start_tls), for fuzz_probe.c and fuzz_caps.c.
 *
 * One connection: the server's plaintext stream, then (once the session
 * asked for TLS) its stream over TLS. Segments go through the line buffer;
 * every line counts against PROBE_LINES_MAX, an over-long line fails the
 * session; after each event the session's requests are applied: bytes to
 * send are collected, done ends the connection, want_tls stops the
 * plaintext (the rest of it is dropped, as io_start_tls resets the line
 * buffer) and the handshake completes before the first TLS segment. When
 * both streams are exhausted an unfinished session fails with "closed", as
 * conn_failed() records an EOF, and the record is classified. */
#ifndef MC_FUZZ_PROBE_H
#define MC_FUZZ_PROBE_H

#include "probes/classify.h"
#include "probes/linebuf.h"
#include "probes/session.h"
#include "tests/fuzz/fuzz_util.h"

enum fp_phase { FP_PLAIN, FP_HANDSHAKE, FP_TLS, FP_END };

struct fp_conn {
	struct mc_record rec;
	struct probe_sess s;
	const struct probe_proto_ops *ops;
	struct probe_linebuf lb;
	enum fp_phase phase;
	int handshakes;
	char sent[2048];
	size_t sent_len;
	bool sent_overflow;
};

static inline void fp_apply(struct fp_conn *c)
{
	if (c->s.tx_len > 0) {
		if (c->sent_len + c->s.tx_len <= sizeof(c->sent)) {
			memcpy(c->sent + c->sent_len, c->s.tx, c->s.tx_len);
			c->sent_len += c->s.tx_len;
		} else {
			c->sent_overflow = true;
		}
		c->s.tx_len = 0;
	}
	if (c->s.done) {
		c->phase = FP_END;
		return;
	}
	if (c->s.want_tls && c->phase == FP_PLAIN) {
		probe_linebuf_reset(&c->lb);
		c->phase = FP_HANDSHAKE;
	}
}

static inline void fp_tls_ready(struct fp_conn *c)
{
	c->handshakes++;
	c->phase = FP_TLS;
	c->s.tls_up = true;
	c->ops->on_tls_ready(&c->s);
	fp_apply(c);
}

static inline bool fp_line(void *ctx, enum probe_line_kind kind, const char *line, size_t len)
{
	struct fp_conn *c = ctx;
	enum fp_phase before = c->phase;

	if (kind == PROBE_LINE_TOO_LONG)
		probe_sess_fail(&c->s, c->ops->stage(&c->s), "line-too-long");
	else if (++c->s.lines > PROBE_LINES_MAX)
		probe_sess_fail(&c->s, c->ops->stage(&c->s), "too-many-lines");
	else
		c->ops->on_line(&c->s, line, len);
	fp_apply(c);
	return c->phase == before;
}

static inline void fp_start(struct fp_conn *c, enum mc_proto proto, enum probe_mode mode)
{
	memset(c, 0, sizeof(*c));
	c->rec.proto = proto;
	probe_sess_init(&c->s, &c->rec, proto, mode);
	c->ops = probe_proto_lookup(proto);
	FUZZ_CHECK(c->ops != NULL, "no ops for proto %d", proto);
	probe_linebuf_reset(&c->lb);
	if (c->s.implicit) {
		c->phase = FP_HANDSHAKE; /* implicit TLS: the handshake comes first */
		fp_tls_ready(c);
		return;
	}
	c->ops->start(&c->s);
	fp_apply(c);
}

/* One segment of the plaintext (tls false) or TLS (tls true) stream. */
static inline void fp_feed(struct fp_conn *c, const uint8_t *p, size_t n, bool tls)
{
	if (tls && c->phase == FP_HANDSHAKE)
		fp_tls_ready(c);
	if (c->phase != (tls ? FP_TLS : FP_PLAIN) || n == 0)
		return;
	probe_linebuf_feed(&c->lb, p, n, fp_line, c);
}

/* Both streams are over: EOF. */
static inline void fp_finish(struct fp_conn *c)
{
	if (c->phase == FP_HANDSHAKE)
		fp_tls_ready(c); /* a handshake asked for completes (the TLS stream may be empty) */
	if (!c->s.done)
		probe_sess_fail(&c->s, c->ops->stage(&c->s), "closed");
	probe_classify(&c->rec, c->s.tls_up && c->s.mode == PROBE_MODE_MAIN);
}

/* The structure of a capability list: `count` NUL-terminated items fill
 * data[0..len) exactly. */
static inline void fp_check_caps(const struct mc_caps *caps)
{
	size_t items = 0;

	FUZZ_CHECK(caps->len <= MC_CAPS_BYTES, "caps len %u", caps->len);
	FUZZ_CHECK(caps->len == 0 || caps->data[caps->len - 1] == '\0', "last item not ended");
	for (size_t i = 0; i < caps->len; i++)
		items += caps->data[i] == '\0';
	FUZZ_CHECK(items == caps->count, "%zu items, count %u", items, caps->count);
}

#endif
