/* report.h — the census report from a results directory (internal to output/). */
#ifndef MC_OUT_REPORT_H
#define MC_OUT_REPORT_H

#include <stddef.h>

enum out_report_format {
	OUT_REPORT_TEXT,
	OUT_REPORT_JSON,
	OUT_REPORT_HTML,
};

int out_report_format_parse(const char *name, enum out_report_format *fmt);

/* Read every shard listed in DIR/manifest.json and write the report to
 * `outfile` (NULL = stdout). 0, or -errno with a reason in err. */
int out_report_run(const char *dir, enum out_report_format fmt, const char *outfile, char *err,
		   size_t errlen);

#endif
