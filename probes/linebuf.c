/* linebuf.c — bounded line assembly (see linebuf.h). */
#include <string.h>

#include "probes/linebuf.h"

void probe_linebuf_reset(struct probe_linebuf *lb)
{
	lb->len = 0;
	lb->skipping = false;
}

static bool deliver(struct probe_linebuf *lb, probe_line_fn fn, void *ctx)
{
	size_t n = lb->len;

	if (n > 0 && lb->buf[n - 1] == '\r')
		n--;
	lb->len = 0;
	return fn(ctx, PROBE_LINE_OK, lb->buf, n);
}

size_t probe_linebuf_feed(struct probe_linebuf *lb, const uint8_t *data, size_t len,
			  probe_line_fn fn, void *ctx)
{
	size_t i = 0;

	while (i < len) {
		const uint8_t *nl = memchr(data + i, '\n', len - i);
		size_t chunk = nl ? (size_t)(nl - (data + i)) : len - i;

		if (lb->skipping) {
			i += chunk;
			if (nl) {
				lb->skipping = false;
				i++;
			}
			continue;
		}
		if (chunk > sizeof(lb->buf) - lb->len) {
			size_t room = sizeof(lb->buf) - lb->len;

			memcpy(lb->buf + lb->len, data + i, room);
			lb->len = 0;
			lb->skipping = true;
			i += chunk;
			if (nl) {
				lb->skipping = false;
				i++;
			}
			if (!fn(ctx, PROBE_LINE_TOO_LONG, lb->buf, sizeof(lb->buf)))
				return i;
			continue;
		}
		memcpy(lb->buf + lb->len, data + i, chunk);
		lb->len += (uint32_t)chunk;
		i += chunk;
		if (!nl)
			break;
		i++;
		if (!deliver(lb, fn, ctx))
			return i;
	}
	return i;
}
