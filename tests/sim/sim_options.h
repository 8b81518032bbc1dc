/* sim_options.h — mcsim's command line, parsed from one table. */
#ifndef MC_SIM_OPTIONS_H
#define MC_SIM_OPTIONS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "sim_model.h"

#define SIM_MAX_PORTS 64

enum sim_mode {
	SIM_MODE_SERVE,	     /* answer probes on a memif server port */
	SIM_MODE_LIST_OPEN,  /* print the open pairs of a range */
	SIM_MODE_COUNT_OPEN, /* print how many pairs of a range are open, per port */
};

struct sim_options {
	enum sim_mode mode;
	uint64_t seed;
	struct sim_model model;
	/* serve */
	const char *socket_path;
	const char *stats_path;
	const char *file_prefix; /* default mcsim<pid> */
	int cpu;		 /* CPU of the one lcore; -1 = the last allowed CPU */
	uint32_t idle_us;	 /* sleep after a run of empty polls; 0 = busy poll */
	uint16_t queues;	 /* memif rings each way = the client's TX queue count */
	double loss_in, loss_out, dup, late, junk;
	uint32_t delay_ms, late_ms;
	uint32_t delay_slots;
	uint32_t max_runtime_s;
	bool exit_on_disconnect;
	bool progress;
	/* list/count */
	uint32_t range_first, range_last;
	uint16_t ports[SIM_MAX_PORTS];
	uint32_t nports;
	/* EAL words after "--" */
	int npass;
	char **pass;
};

/* 0, 1 for --help (usage printed to stdout), or -EINVAL with a reason. */
int sim_options_parse(struct sim_options *o, int argc, char **argv, char *err, size_t errlen);

void sim_options_usage(FILE *out);

/* "a.b.c.d[/len]" to [first, last], host order. 0 / -EINVAL. */
int sim_parse_cidr(const char *s, uint32_t *first, uint32_t *last);

#endif
