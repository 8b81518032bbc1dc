/* report.c — placeholder until the report lands. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "output/report.h"

int out_report_format_parse(const char *name, enum out_report_format *fmt)
{
	static const char *const names[] = {"text", "json", "html"};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (strcmp(name, names[i]) == 0) {
			*fmt = (enum out_report_format)i;
			return 0;
		}
	}
	return -EINVAL;
}

int out_report_run(const char *dir, enum out_report_format fmt, const char *outfile, char *err,
		   size_t errlen)
{
	(void)dir;
	(void)fmt;
	(void)outfile;
	snprintf(err, errlen, "not built yet");
	return -ENOSYS;
}
