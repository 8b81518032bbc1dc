/* linebuf.h — splits a byte stream from a server into bounded lines.
 *
 * Bytes arrive in arbitrary segments (one byte at a time, or many lines at
 * once). A line ends at LF; a CR before the LF is dropped. The buffer is a
 * fixed array inside the connection: a line longer than PROBE_LINE_MAX is
 * never stored, it is reported once as "too long" and the rest of it is
 * skipped up to the next LF. NUL bytes are ordinary data (lines carry a
 * length). */
#ifndef PROBE_LINEBUF_H
#define PROBE_LINEBUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PROBE_LINE_MAX 4096

enum probe_line_kind {
	PROBE_LINE_OK,	     /* a complete line, CRLF stripped */
	PROBE_LINE_TOO_LONG, /* the line passed PROBE_LINE_MAX bytes; text is its first bytes */
};

/* Called for every line. Return true to keep going, false to stop: the
 * remaining bytes of the segment are left unconsumed (e.g. before STARTTLS). */
typedef bool (*probe_line_fn)(void *ctx, enum probe_line_kind kind, const char *line, size_t len);

struct probe_linebuf {
	uint32_t len;  /* bytes of the partial line held in buf */
	bool skipping; /* inside an over-long line: drop bytes until LF */
	char buf[PROBE_LINE_MAX];
};

void probe_linebuf_reset(struct probe_linebuf *lb);

/* Feed one segment. Returns the number of bytes consumed (== len unless the
 * callback asked to stop). */
size_t probe_linebuf_feed(struct probe_linebuf *lb, const uint8_t *data, size_t len,
			  probe_line_fn fn, void *ctx);

#endif
