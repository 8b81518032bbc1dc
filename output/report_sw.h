/* report_sw.h — software counts of the census report (issue 16; internal
 * to output/): hosts by product and by (product, version) among
 * cleartext-login hosts, and by product among injection-vulnerable hosts. */
#ifndef MC_OUT_REPORT_SW_H
#define MC_OUT_REPORT_SW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define REP_SW_ROWS 32 /* distinct labels kept per list; the rest count as "other" */
#define REP_SW_LEN  64 /* bytes of a product or version label */

struct rep_sw_row {
	char product[REP_SW_LEN];
	char version[REP_SW_LEN]; /* "" in the by-product lists */
	uint64_t hosts;
};

struct rep_sw_list {
	struct rep_sw_row rows[REP_SW_ROWS]; /* most hosts first after rep_sw_finish */
	size_t n;
	uint64_t other; /* hosts of labels beyond REP_SW_ROWS */
};

struct rep_sw_seen; /* (host, list, row) pairs already counted */

struct rep_sw {
	struct rep_sw_list clear_product, clear_version, inject_product;
	struct rep_sw_seen *seen; /* collection state; freed by rep_sw_finish */
};

struct out_json;
struct out_jw;

/* Count one record of a host (parsed NDJSON; `host` is the report's host
 * key). 0 or -ENOMEM. A host counts once per label of each list, whatever
 * its number of ports. */
int rep_sw_count(struct rep_sw *sw, uint64_t host, const struct out_json *rec);

/* Sort each list by hosts (then label) and free the collection state. */
void rep_sw_finish(struct rep_sw *sw);

void rep_sw_text(const struct rep_sw *sw, FILE *out);
/* `"software":{...}` (no separator around it). */
void rep_sw_json(struct out_jw *w, const struct rep_sw *sw);
void rep_sw_html(const struct rep_sw *sw, FILE *out);

#endif
