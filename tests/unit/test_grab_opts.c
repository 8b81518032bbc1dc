/* test_grab_opts.c — reading a grab target list line by line
 * (grab_read_target), the reader `grab FILE` runs. */
#include <errno.h>
#include <stdio.h>

#include "common/test.h"
#include "probes/grab_opts.h"

/* Every result of a list, as "1:ADDR:PORT 0 -22 -7 ..." */
static const char *read_list(const char *text, size_t len)
{
	static char out[512];
	FILE *in = fmemopen((void *)text, len, "r");
	char line[256];
	size_t o = 0;
	uint32_t a;
	uint16_t p;
	int r;

	out[0] = '\0';
	while (in != NULL && (r = grab_read_target(in, line, sizeof(line), &a, &p)) != -ENODATA)
		o += (size_t)snprintf(out + o, sizeof(out) - o, r == 1 ? "%s1:%08x:%u" : "%s%d",
				      o ? " " : "", r == 1 ? a : (unsigned)r, p);
	if (in != NULL)
		fclose(in);
	return out;
}

/* Found while writing fuzz_targets (docs/fuzzing.md): `grab` read its list
 * with fgets() into 256 bytes, so the tail of a longer line came back as a
 * line of its own: a commented-out target after a long comment became a
 * target. Minimised input: '#', 254 'x', "8.8.8.8:110\n". Now the whole
 * line is one over-long line (-E2BIG) and the next line is read as itself. */
static void test_long_line_is_one_line(void)
{
	char text[600];
	int n = snprintf(text, sizeof(text), "#%0254d8.8.8.8:110\n198.18.1.11:143\n", 0);

	CHECK_STR_EQ(read_list(text, (size_t)n), "-7 1:c612010b:143");
	/* 254 bytes and the newline fit; one more does not */
	n = snprintf(text, sizeof(text), "%-254s\n%-255s\n", "198.18.1.10:110", "198.18.1.11:110");
	CHECK_STR_EQ(read_list(text, (size_t)n), "1:c612010a:110 -7");
}

static void test_lines(void)
{
	static const char text[] = "198.18.1.10:143\n"
				   "  198.18.1.11,110  # comment\r\n"
				   "\n"
				   "saddr,sport,ttl,window,isn,time\n"
				   "198.18.16.7,143,64,64240,1,2\n"
				   "not a target\n"
				   "198.18.1.12:993"; /* no newline at the end */

	CHECK_STR_EQ(read_list(text, sizeof(text) - 1),
		     "1:c612010a:143 1:c612010b:110 0 0 1:c6121007:143 -22 1:c612010c:993");
	/* a NUL byte inside a line refuses the line (it would cut the text) */
	CHECK_STR_EQ(read_list("198.18.1.10:143\0x\n198.18.1.10:110\n", 34), "-22 1:c612010a:110");
	CHECK_STR_EQ(read_list("", 0), "");
}

int main(void)
{
	RUN(test_long_line_is_one_line);
	RUN(test_lines);
	return test_summary();
}
