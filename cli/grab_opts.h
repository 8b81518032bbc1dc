/* grab_opts.h — command-line options of `mailcensus grab` (table-driven). */
#ifndef MC_CLI_GRAB_OPTS_H
#define MC_CLI_GRAB_OPTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "base/opts.h"
#include "output/sink.h"
#include "probes/grabber.h"

struct grab_opts {
	struct grab_config grab;
	struct out_sink_config sink;
	const char *input; /* FILE, or "-" / NULL for stdin */
	unsigned workers;  /* grab worker processes; 0 = the command's default */
	const char *user;  /* they run as this user */
	bool no_enrich_flag;
	bool help;
	int verbosity; /* 0 normal, 1 -v, -1 -q */
};

/* Parse argv (argv[0] = "grab"). 0, or -EINVAL with a reason in err. */
int grab_opts_parse(struct grab_opts *o, int argc, char **argv, char *err, size_t errlen);

void grab_opts_usage(FILE *out);

/* For `scan --grab`, which parses the grab options in its own pass:
 * defaults into o; the census flags as an option group filling o (the
 * grab setters under scan's names); the checks after parsing (0 or
 * -EINVAL with a reason). */
void grab_opts_init(struct grab_opts *o);
struct mc_opt_group grab_census_group(struct grab_opts *o);
int grab_opts_finish(struct grab_opts *o, char *err, size_t errlen);

/* One line of a target list: "ADDR:PORT" or "ADDR,PORT", blanks around it
 * and a '#' comment allowed; "ADDR,PORT,more,fields" and the header line
 * "saddr,..." of `scan -o`'s CSV too. 1 with the target, 0 for a blank or comment
 * line, -EINVAL when it does not parse. */
int grab_parse_target(const char *line, uint32_t *addr, uint16_t *port);

/* The same, keeping a name that follows: "ADDR:PORT NAME" or "ADDR,PORT,NAME"
 * (a DNS name: letters, digits, '-', '_', '.'; scan -o's numeric CSV
 * fields are not a name). name is "" when there is none. */
int grab_parse_target_named(const char *line, uint32_t *addr, uint16_t *port, char *name,
			    size_t namecap);

struct mc_ipv6;

/* An IPv6 target line "[ADDR]:PORT" (blanks and a '#' comment allowed
 * after it): 1 with the target, 0 when the line is not bracketed (try
 * grab_parse_target), -EINVAL when it does not parse. */
int grab_parse_target6(const char *line, struct mc_ipv6 *a, uint16_t *port);

#endif
