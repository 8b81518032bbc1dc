/* test_export.c — CSV escaping, Shadowserver severity, the columns and types
 * the exports read off the embedded record schema, and the --asn/--country lists. */
#include <string.h>

#include "tests/unit/test.h"
#include "output/export.h"

static void check_csv(const char *in, size_t n, const char *want)
{
	char buf[256];
	size_t got = out_csv_escape(buf, sizeof(buf), in, n);

	CHECK_UINT_EQ(got, strlen(want));
	buf[got < sizeof(buf) ? got : sizeof(buf) - 1] = '\0';
	CHECK_STR_EQ(buf, want);
}

static void test_csv_escape(void)
{
	check_csv("plain", 5, "plain");
	check_csv("", 0, "");
	check_csv("a,b", 3, "\"a,b\"");
	check_csv("say \"hi\"", 8, "\"say \"\"hi\"\"\"");
	check_csv("two\r\nlines", 10, "\"two\r\nlines\"");
	check_csv("lf\nonly", 7, "\"lf\nonly\"");
	check_csv(" lead", 5, "\" lead\"");
	check_csv("trail ", 6, "\"trail \"");
	check_csv("nul\0x", 5, "nul\xef\xbf\xbdx");		/* NUL -> U+FFFD */
	check_csv("\xc3\xa9t\xc3\xa9", 5, "\xc3\xa9t\xc3\xa9"); /* UTF-8 kept */
	check_csv("tab\there", 8, "tab\there");
	/* a short buffer: nothing past cap, the needed length returned */
	char small[4] = {'x', 'x', 'x', 'x'};
	CHECK_UINT_EQ(out_csv_escape(small, 3, "a,b", 3), 5);
	CHECK(memcmp(small, "\"a,x", 4) == 0);
}

static void test_vulnerable(void)
{
	CHECK(out_ss_vulnerable("no_tls", true, false, false));
	CHECK(out_ss_vulnerable("starttls_optional", true, false, false));
	CHECK(out_ss_vulnerable("starttls_required", false, true, false));
	CHECK(out_ss_vulnerable("implicit_tls", false, false, true));
	CHECK(!out_ss_vulnerable("starttls_required", false, false, false));
	CHECK(!out_ss_vulnerable("implicit_tls", false, false, false));
	CHECK(!out_ss_vulnerable("no_tls", false, false, false)); /* no login offered */
	CHECK(!out_ss_vulnerable("unknown", false, false, false));
}

static const struct export_col *col(const struct export_schema *s, const char *name)
{
	for (size_t i = 0; i < s->ncols; i++)
		if (strcmp(s->cols[i].name, name) == 0)
			return &s->cols[i];
	return NULL;
}

static void test_schema_columns(void)
{
	struct export_schema s;
	char err[256];

	CHECK_INT_EQ(out_export_schema_load(&s, err, sizeof(err)), 0);
	CHECK(s.ncols >= 39);
	CHECK_STR_EQ(s.cols[0].name, "ip");
	for (size_t i = 0; i < s.ncols; i++) /* names are unique */
		for (size_t j = i + 1; j < s.ncols; j++)
			CHECK(strcmp(s.cols[i].name, s.cols[j].name) != 0);
	CHECK_STR_EQ(s.cols[s.ncols - 1].name, "error");
	const struct export_col *c = col(&s, "tls_cert_not_after");
	CHECK(c != NULL && c->type == EXPORT_TIMESTAMP && c->depth == 3);
	CHECK(c != NULL && strcmp(c->path[0], "tls") == 0 && strcmp(c->path[2], "not_after") == 0);
	c = col(&s, "time");
	CHECK(c != NULL && c->type == EXPORT_TIMESTAMP);
	c = col(&s, "port");
	CHECK(c != NULL && c->type == EXPORT_INT);
	c = col(&s, "cleartext_login"); /* $ref to the tri-state definition */
	CHECK(c != NULL && c->type == EXPORT_BOOL && c->description != NULL);
	c = col(&s, "tls_versions_tls1_0");
	CHECK(c != NULL && c->type == EXPORT_BOOL);
	c = col(&s, "capabilities_pre_tls");
	CHECK(c != NULL && c->repeated);
	c = col(&s, "tls_cert_sans");
	CHECK(c != NULL && c->repeated);
	c = col(&s, "login_probe"); /* an array of objects: one JSON cell */
	CHECK(c != NULL && c->repeated && c->depth == 1);
	CHECK(col(&s, "login_probe_command") == NULL);
	c = col(&s, "asn_number");
	CHECK(c != NULL && c->type == EXPORT_INT);
	CHECK(col(&s, "tls_cert") == NULL); /* an object is not a column */
	out_export_schema_free(&s);
}

static void test_filter(void)
{
	struct export_filter f = {0};

	CHECK_INT_EQ(out_export_filter_add(&f, "asn", "64500,AS64501"), 0);
	CHECK_INT_EQ(out_export_filter_add(&f, "asn", "64502"), 0);
	CHECK_UINT_EQ(f.nasns, 3);
	CHECK_UINT_EQ(f.asns[1], 64501);
	CHECK_INT_EQ(out_export_filter_add(&f, "country", "de,FR"), 0);
	CHECK_UINT_EQ(f.ncountries, 2);
	CHECK_STR_EQ(f.countries[0], "DE");
	CHECK(out_export_filter_add(&f, "asn", "x1") != 0);
	CHECK(out_export_filter_add(&f, "asn", "0") != 0);
	CHECK(out_export_filter_add(&f, "country", "DEU") != 0);
}

int main(void)
{
	RUN(test_csv_escape);
	RUN(test_vulnerable);
	RUN(test_schema_columns);
	RUN(test_filter);
	return test_summary();
}
