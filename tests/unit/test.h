/* test.h — assertion macros for tests/unit: each failure prints both values.
 *
 * A test program calls its test functions through RUN(); main() returns
 * test_summary(), which is 0 only if every check passed. */
#ifndef MC_TEST_H
#define MC_TEST_H

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static int test_failures;
static int test_checks;

#define TEST_FAIL_AT(...)                                                                          \
	do {                                                                                       \
		test_failures++;                                                                   \
		fprintf(stderr, "%s:%d: ", __FILE__, __LINE__);                                    \
		fprintf(stderr, __VA_ARGS__);                                                      \
		fputc('\n', stderr);                                                               \
	} while (0)

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		test_checks++;                                                                     \
		if (!(cond))                                                                       \
			TEST_FAIL_AT("CHECK(%s) failed", #cond);                                   \
	} while (0)

#define CHECK_INT_EQ(a, b)                                                                         \
	do {                                                                                       \
		long long va_ = (long long)(a), vb_ = (long long)(b);                              \
		test_checks++;                                                                     \
		if (va_ != vb_)                                                                    \
			TEST_FAIL_AT("%s == %s failed: %lld != %lld", #a, #b, va_, vb_);           \
	} while (0)

#define CHECK_UINT_EQ(a, b)                                                                        \
	do {                                                                                       \
		unsigned long long va_ = (unsigned long long)(a), vb_ = (unsigned long long)(b);   \
		test_checks++;                                                                     \
		if (va_ != vb_)                                                                    \
			TEST_FAIL_AT("%s == %s failed: %llu != %llu", #a, #b, va_, vb_);           \
	} while (0)

#define CHECK_STR_EQ(a, b)                                                                         \
	do {                                                                                       \
		const char *sa_ = (a), *sb_ = (b);                                                 \
		test_checks++;                                                                     \
		if (sa_ == NULL || sb_ == NULL || strcmp(sa_, sb_) != 0)                           \
			TEST_FAIL_AT("%s == %s failed: \"%s\" != \"%s\"", #a, #b,                  \
				     sa_ ? sa_ : "(null)", sb_ ? sb_ : "(null)");                  \
	} while (0)

#define RUN(fn)                                                                                    \
	do {                                                                                       \
		int before_ = test_failures;                                                       \
		fn();                                                                              \
		fprintf(stderr, "%s %s\n", test_failures == before_ ? "ok  " : "FAIL", #fn);       \
	} while (0)

static inline int test_summary(void)
{
	fprintf(stderr, "%d checks, %d failed\n", test_checks, test_failures);
	return test_failures == 0 ? 0 : 1;
}

#endif
