/* test_linebuf.c — bounded line assembly. */
#include <stdlib.h>

#include "tests/unit/test.h"
#include "probes/linebuf.h"

struct got {
	int lines, too_long;
	char last[64];
	size_t last_len;
	int stop_after;
};

static bool collect(void *ctx, enum probe_line_kind kind, const char *line, size_t len)
{
	struct got *g = ctx;

	if (kind == PROBE_LINE_TOO_LONG) {
		g->too_long++;
	} else {
		g->lines++;
		g->last_len = len;
		memcpy(g->last, line, len < sizeof(g->last) ? len : sizeof(g->last));
	}
	return g->stop_after == 0 || g->lines + g->too_long < g->stop_after;
}

static void test_crlf_lf_nul(void)
{
	struct probe_linebuf lb;
	struct got g = {0};
	static const uint8_t in[] = "a\r\nbb\n\x00x\r\r\npartial";

	probe_linebuf_reset(&lb);
	CHECK_UINT_EQ(probe_linebuf_feed(&lb, in, sizeof(in) - 1, collect, &g), sizeof(in) - 1);
	CHECK_INT_EQ(g.lines, 3);
	CHECK_UINT_EQ(g.last_len, 3); /* NUL, 'x', CR (only the last CR is stripped) */
	CHECK_UINT_EQ(lb.len, 7);
	probe_linebuf_feed(&lb, (const uint8_t *)"\r\n", 2, collect, &g);
	CHECK_UINT_EQ(g.last_len, 7);
}

static void test_exact_and_over(void)
{
	struct probe_linebuf lb;
	struct got g = {0};
	uint8_t *big = malloc(PROBE_LINE_MAX + 2);

	memset(big, 'x', PROBE_LINE_MAX);
	big[PROBE_LINE_MAX] = '\r';
	big[PROBE_LINE_MAX + 1] = '\n';
	probe_linebuf_reset(&lb);
	/* PROBE_LINE_MAX bytes + CR does not fit: too long */
	probe_linebuf_feed(&lb, big, PROBE_LINE_MAX + 2, collect, &g);
	CHECK_INT_EQ(g.too_long, 1);
	/* PROBE_LINE_MAX - 1 bytes + CR fits exactly */
	big[PROBE_LINE_MAX - 1] = '\r';
	big[PROBE_LINE_MAX] = '\n';
	probe_linebuf_feed(&lb, big, PROBE_LINE_MAX + 1, collect, &g);
	CHECK_INT_EQ(g.lines, 1);
	CHECK_UINT_EQ(g.last_len, PROBE_LINE_MAX - 1);
	free(big);
}

static void test_megabyte_line_in_pieces(void)
{
	struct probe_linebuf lb;
	struct got g = {0};
	static uint8_t chunk[1000];

	memset(chunk, 'y', sizeof(chunk));
	probe_linebuf_reset(&lb);
	for (int i = 0; i < 1048; i++)
		probe_linebuf_feed(&lb, chunk, sizeof(chunk), collect, &g);
	CHECK_INT_EQ(g.too_long, 1);
	probe_linebuf_feed(&lb, (const uint8_t *)"tail\r\nok\r\n", 10, collect, &g);
	CHECK_INT_EQ(g.too_long, 1);
	CHECK_INT_EQ(g.lines, 1);
	CHECK_UINT_EQ(g.last_len, 2);
}

static void test_stop(void)
{
	struct probe_linebuf lb;
	struct got g = {.stop_after = 1};
	static const uint8_t in[] = "+OK begin\r\n\x16\x03\x01 tls bytes\n";

	probe_linebuf_reset(&lb);
	CHECK_UINT_EQ(probe_linebuf_feed(&lb, in, sizeof(in) - 1, collect, &g), 11);
	CHECK_INT_EQ(g.lines, 1);
}

int main(void)
{
	RUN(test_crlf_lf_nul);
	RUN(test_exact_and_over);
	RUN(test_megabyte_line_in_pieces);
	RUN(test_stop);
	return test_summary();
}
