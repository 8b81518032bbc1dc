/* out_test_util.h — helpers shared by the output/ unit tests. */
#ifndef MC_OUT_TEST_UTIL_H
#define MC_OUT_TEST_UTIL_H

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The source tree: $MC_SRCDIR, else what meson-info.json of our build dir says
 * (the test binary lives in BUILD/tests/unit/). */
static inline int out_test_srcdir(char *buf, size_t cap)
{
	const char *env = getenv("MC_SRCDIR");
	char exe[PATH_MAX], info[PATH_MAX + 64], text[4096];

	if (env != NULL) {
		snprintf(buf, cap, "%s", env);
		return 0;
	}
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0)
		return -1;
	exe[n] = '\0';
	for (int up = 0; up < 3; up++) {
		char *slash = strrchr(exe, '/');
		if (slash == NULL)
			return -1;
		*slash = '\0';
	}
	snprintf(info, sizeof(info), "%s/meson-info/meson-info.json", exe);
	FILE *f = fopen(info, "r");
	if (f == NULL)
		return -1;
	size_t got = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	text[got] = '\0';
	char *src = strstr(text, "\"source\": \"");
	if (src == NULL)
		return -1;
	src += strlen("\"source\": \"");
	char *end = strchr(src, '"');
	if (end == NULL || (size_t)(end - src) >= cap)
		return -1;
	memcpy(buf, src, (size_t)(end - src));
	buf[end - src] = '\0';
	return 0;
}

/* A fresh temporary directory. */
static inline int out_test_tmpdir(char *buf, size_t cap)
{
	snprintf(buf, cap, "/tmp/mc-test-XXXXXX");
	return mkdtemp(buf) == NULL ? -1 : 0;
}

/* Generate the tiny test databases (scripts/gen-mmdb test DIR). */
static inline int out_test_gen_mmdb(const char *dir)
{
	char src[PATH_MAX], cmd[2 * PATH_MAX + 64];

	if (out_test_srcdir(src, sizeof(src)) != 0)
		return -1;
	snprintf(cmd, sizeof(cmd), "perl '%s/scripts/gen-mmdb' test '%s'", src, dir);
	return system(cmd) == 0 ? 0 : -1;
}

static inline void out_test_rmrf(const char *dir)
{
	char cmd[PATH_MAX + 16];

	if (strncmp(dir, "/tmp/mc-test-", 13) != 0)
		return;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
}

#endif
