/* test_json.c — output/json.c accepts exactly RFC 8259: the inputs the
 * fuzz_json harness found accepted before the reader was made strict (each
 * the minimised reproducer, docs/fuzzing.md), and their valid neighbours. */
#include <errno.h>

#include "tests/unit/test.h"
#include "output/json.h"

static int parse_n(const char *text, size_t len, struct out_json **v)
{
	static struct out_json_arena a;
	char err[128];

	out_json_arena_reset(&a);
	return out_json_parse(&a, text, len, v, err, sizeof(err));
}

static int parse(const char *text, struct out_json **v)
{
	return parse_n(text, strlen(text), v);
}

/* fuzz_json bug 1: leading zeros, "1." and friends were accepted (strtod
 * decided what a number is). Minimised reproducer: "01". */
static void test_number_grammar(void)
{
	static const char *const bad[] = {
	    "01", "-01",  "00",	  "1.",	  "-1.",	"1.e5", ".5",  "-",  "1e",	 "1e+",
	    "+1", "0x10", "1.5.", "[01]", "{\"a\":1.}", "--1",	"-.5", "1E", "Infinity", "NaN"};
	static const char *const good[] = {"0",	      "-0",   "10",  "1.5",
					   "-0.5e-3", "1E+2", "0e0", "[0,1,-2]"};
	struct out_json *v;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int rc = parse(bad[i], &v);
		if (rc != -EINVAL)
			TEST_FAIL_AT("'%s' accepted (rc %d)", bad[i], rc);
		test_checks++;
	}
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		int rc = parse(good[i], &v);
		if (rc != 0)
			TEST_FAIL_AT("'%s' rejected (rc %d)", good[i], rc);
		test_checks++;
	}
	CHECK_INT_EQ(parse("18446744073709551615", &v), 0);
	CHECK(v->is_uint);
	CHECK_UINT_EQ(v->u, UINT64_MAX);
	CHECK_INT_EQ(parse("18446744073709551616", &v), 0);
	CHECK(!v->is_uint);
	CHECK_INT_EQ(parse("1e3", &v), 0);
	CHECK(!v->is_uint);
	CHECK(v->num == 1000.0);
	CHECK_INT_EQ(parse("-0.5e-3", &v), 0);
	CHECK(v->num == -0.0005);
}

/* fuzz_json bug 2: bytes that are not UTF-8 were copied into strings.
 * Minimised reproducer: "\"\xff\"" (3 bytes). */
static void test_string_utf8(void)
{
	static const char *const bad[] = {
	    "\"\xff\"",		    /* not a lead byte */
	    "\"\x80\"",		    /* stray continuation */
	    "\"\xc0\xaf\"",	    /* overlong '/' */
	    "\"\xe0\x80\xaf\"",	    /* overlong, 3 bytes */
	    "\"\xed\xa0\x80\"",	    /* UTF-16 surrogate encoded as UTF-8 */
	    "\"\xf4\x90\x80\x80\"", /* above U+10FFFF */
	    "\"\xe2\x82\"",	    /* truncated by the closing quote */
	    "{\"k\xfe\":1}",	    /* in a member name */
	    "\"\\ud800\"",	    /* lone high surrogate escape */
	    "\"\\udc00\"",	    /* lone low surrogate escape */
	};
	struct out_json *v;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int rc = parse(bad[i], &v);
		if (rc != -EINVAL)
			TEST_FAIL_AT("string %zu accepted (rc %d)", i, rc);
		test_checks++;
	}
	CHECK_INT_EQ(parse("\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x93\xa7\"", &v), 0);
	CHECK_UINT_EQ(v->len, 14);
	CHECK(memcmp(v->str, "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x93\xa7", 14) == 0);
	CHECK_INT_EQ(parse("\"\\ud83d\\udce7\"", &v), 0);
	CHECK_STR_EQ(v->str, "\xf0\x9f\x93\xa7");
}

/* The limits the reader documents: nesting 64, numbers of 63 characters. */
static void test_limits(void)
{
	char deep[200], num[80];
	struct out_json *v;

	memset(deep, '[', 65);
	memset(deep + 65, ']', 65);
	CHECK_INT_EQ(parse_n(deep, 130, &v), 0);
	memset(deep, '[', 66);
	memset(deep + 66, ']', 66);
	CHECK_INT_EQ(parse_n(deep, 132, &v), -EINVAL);
	memset(num, '7', 63);
	CHECK_INT_EQ(parse_n(num, 63, &v), 0);
	memset(num, '7', 64);
	CHECK_INT_EQ(parse_n(num, 64, &v), -EINVAL);
}

/* Open finding 3 of docs/fuzzing.md (fuzz_json's tree comparison skipped it):
 * a member name with an escaped NUL was compared with strcmp(), so
 * {"a\u0000b":1} answered a lookup of "a". Minimised input: {"a\u0000b":1}. */
static void test_nul_in_member_name(void)
{
	struct out_json *v;

	CHECK_INT_EQ(parse("{\"a\\u0000b\":1}", &v), 0);
	CHECK(out_json_get(v, "a") == NULL);
	CHECK_UINT_EQ(v->child->keylen, 3);
	CHECK(memcmp(v->child->key, "a\0b", 4) == 0);
	/* the name without a NUL still matches, and a later exact name is found */
	CHECK_INT_EQ(parse("{\"a\\u0000\":1,\"a\":2}", &v), 0);
	CHECK_UINT_EQ(out_json_u64(out_json_get(v, "a"), 0), 2);
	CHECK_INT_EQ(parse("{\"ab\":1,\"a\":3}", &v), 0);
	CHECK_UINT_EQ(out_json_u64(out_json_get(v, "a"), 0), 3);
	CHECK(out_json_get(v, "abc") == NULL);
}

int main(void)
{
	RUN(test_number_grammar);
	RUN(test_string_utf8);
	RUN(test_limits);
	RUN(test_nul_in_member_name);
	return test_summary();
}
