/* sim_options.c — mcsim's options: one table gives name, type, field, help. */
#include "sim_options.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

enum opt_type {
	OPT_FLAG,
	OPT_U32,
	OPT_U64,
	OPT_INT,
	OPT_U16,
	OPT_PROB,
	OPT_DOUBLE,
	OPT_STR,
	OPT_CALL,
};

struct opt {
	const char *name;
	enum opt_type type;
	size_t off;
	int (*call)(struct sim_options *o, const char *arg, char *err, size_t errlen);
	const char *arg, *help;
};

static int opt_list(struct sim_options *o, const char *arg, char *err, size_t errlen);
static int opt_count(struct sim_options *o, const char *arg, char *err, size_t errlen);
static int opt_ports(struct sim_options *o, const char *arg, char *err, size_t errlen);
static int opt_open(struct sim_options *o, const char *arg, char *err, size_t errlen);
static int opt_loss(struct sim_options *o, const char *arg, char *err, size_t errlen);

#define F(field) offsetof(struct sim_options, field)

static const struct opt table[] = {
    {"--socket", OPT_STR, F(socket_path), NULL, "PATH", "memif socket to listen on (server role)"},
    {"--seed", OPT_U64, F(seed), NULL, "N", "seed of the simulated Internet (default 1)"},
    {"--density", OPT_DOUBLE, F(model.density), NULL, "X", "multiply every open count (default 1)"},
    {"--open", OPT_CALL, 0, opt_open, "PORT=COUNT",
     "expected open hosts on PORT over all of IPv4 (repeatable)"},
    {"--other-open", OPT_DOUBLE, F(model.other_open), NULL, "COUNT",
     "open count of ports not set (default 1e6)"},
    {"--rst-share", OPT_PROB, F(model.rst_share), NULL, "P",
     "share of non-open pairs answering RST (default 0.02)"},
    {"--loss", OPT_CALL, 0, opt_loss, "P", "drop probes and replies, each with probability P"},
    {"--loss-in", OPT_PROB, F(loss_in), NULL, "P", "drop probes with probability P"},
    {"--loss-out", OPT_PROB, F(loss_out), NULL, "P", "drop replies with probability P"},
    {"--dup", OPT_PROB, F(dup), NULL, "P", "send a reply twice with probability P"},
    {"--delay-ms", OPT_U32, F(delay_ms), NULL, "MS", "hold each reply 0..MS ms (reorders)"},
    {"--late", OPT_PROB, F(late), NULL, "P", "hold a reply --late-ms instead, probability P"},
    {"--late-ms", OPT_U32, F(late_ms), NULL, "MS", "how late a late reply is (default 5000)"},
    {"--junk", OPT_PROB, F(junk), NULL, "P",
     "per unanswered probe, inject one junk reply with probability P"},
    {"--delay-slots", OPT_U32, F(delay_slots), NULL, "N", "delay line size (default 1048576)"},
    {"--stats", OPT_STR, F(stats_path), NULL, "FILE", "write counters as JSON at exit"},
    {"--progress", OPT_FLAG, F(progress), NULL, NULL, "one status line per second on stderr"},
    {"--exit-on-disconnect", OPT_FLAG, F(exit_on_disconnect), NULL, NULL,
     "exit when the client goes away after having connected"},
    {"--max-runtime", OPT_U32, F(max_runtime_s), NULL, "S", "exit after S seconds"},
    {"--queues", OPT_U16, F(queues), NULL, "N",
     "memif queues, = the client's TX queue count (default 2: scan --tx-queues 1 + ARP)"},
    {"--cpu", OPT_INT, F(cpu), NULL, "N", "CPU for the lcore (default: last allowed CPU)"},
    {"--idle-us", OPT_U32, F(idle_us), NULL, "US", "sleep when idle (default 20; 0 busy-polls)"},
    {"--file-prefix", OPT_STR, F(file_prefix), NULL, "S", "EAL file prefix (default mcsim<pid>)"},
    {"--list-open", OPT_CALL, 0, opt_list, "CIDR", "print the open IP:PORT pairs of CIDR"},
    {"--count-open", OPT_CALL, 0, opt_count, "CIDR", "print open counts per port for CIDR"},
    {"--ports", OPT_CALL, 0, opt_ports, "LIST", "ports for --list/--count-open (default 143)"},
};

#define NOPTS (sizeof(table) / sizeof(table[0]))

void sim_options_usage(FILE *out)
{
	fprintf(out, "usage: mcsim --socket PATH [OPTIONS] [-- EAL-ARGS]\n"
		     "       mcsim --list-open CIDR --ports LIST [--seed N ...]\n"
		     "       mcsim --count-open CIDR --ports LIST [--seed N ...]\n\n"
		     "A simulated IPv4 Internet behind a DPDK net_memif server port: answers\n"
		     "ARP and SYNs statelessly; open pairs are a keyed hash of the seed.\n\n");
	for (size_t i = 0; i < NOPTS; i++) {
		char left[48];
		snprintf(left, sizeof(left), "%s%s%s", table[i].name, table[i].arg ? " " : "",
			 table[i].arg ? table[i].arg : "");
		fprintf(out, "  %-26s %s\n", left, table[i].help);
	}
}

int sim_parse_cidr(const char *s, uint32_t *first, uint32_t *last)
{
	char buf[32], *slash, *end;
	struct in_addr a;
	long bits = 32;
	uint32_t mask;

	if (strlen(s) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, s);
	slash = strchr(buf, '/');
	if (slash != NULL) {
		*slash = '\0';
		bits = strtol(slash + 1, &end, 10);
		if (end == slash + 1 || *end != '\0' || bits < 0 || bits > 32)
			return -EINVAL;
	}
	if (inet_pton(AF_INET, buf, &a) != 1)
		return -EINVAL;
	mask = bits == 0 ? 0 : ~(uint32_t)0 << (32 - bits);
	*first = ntohl(a.s_addr) & mask;
	*last = *first | ~mask;
	return 0;
}

static int range_mode(struct sim_options *o, enum sim_mode mode, const char *arg, char *err,
		      size_t errlen)
{
	o->mode = mode;
	if (sim_parse_cidr(arg, &o->range_first, &o->range_last) != 0) {
		snprintf(err, errlen, "bad CIDR '%s'", arg);
		return -EINVAL;
	}
	return 0;
}

static int opt_list(struct sim_options *o, const char *arg, char *err, size_t errlen)
{
	return range_mode(o, SIM_MODE_LIST_OPEN, arg, err, errlen);
}

static int opt_count(struct sim_options *o, const char *arg, char *err, size_t errlen)
{
	return range_mode(o, SIM_MODE_COUNT_OPEN, arg, err, errlen);
}

static int parse_port(const char *s, char **end, uint16_t *port)
{
	unsigned long v = strtoul(s, end, 10);

	if (*end == s || v == 0 || v > 65535)
		return -EINVAL;
	*port = (uint16_t)v;
	return 0;
}

/* "110,143,993-995": kept in ascending order so listings sort like `sort -V`. */
static int opt_ports(struct sim_options *o, const char *arg, char *err, size_t errlen)
{
	bool seen[65536] = {false};
	const char *p = arg;
	char *end;
	uint16_t a, b;

	o->nports = 0;
	for (;;) {
		if (parse_port(p, &end, &a) != 0)
			goto bad;
		b = a;
		if (*end == '-' && (parse_port(end + 1, &end, &b) != 0 || b < a))
			goto bad;
		for (uint32_t v = a; v <= b; v++)
			seen[v] = true;
		if (*end == '\0')
			break;
		if (*end != ',')
			goto bad;
		p = end + 1;
	}
	for (uint32_t v = 1; v < 65536; v++) {
		if (!seen[v])
			continue;
		if (o->nports == SIM_MAX_PORTS) {
			snprintf(err, errlen, "more than %d ports in '%s'", SIM_MAX_PORTS, arg);
			return -EINVAL;
		}
		o->ports[o->nports++] = (uint16_t)v;
	}
	return 0;
bad:
	snprintf(err, errlen, "bad port list '%s'", arg);
	return -EINVAL;
}

static int opt_open(struct sim_options *o, const char *arg, char *err, size_t errlen)
{
	struct sim_model *m = &o->model;
	char *end;
	uint16_t port;
	double count;
	size_t i;

	if (parse_port(arg, &end, &port) != 0 || *end != '=')
		goto bad;
	count = strtod(end + 1, &end);
	if (*end != '\0' || !(count >= 0))
		goto bad;
	for (i = 0; i < m->nports && m->ports[i].port != port; i++)
		;
	if (i == SIM_MAX_PORT_DENSITIES) {
		snprintf(err, errlen, "too many --open ports (max %d)", SIM_MAX_PORT_DENSITIES);
		return -EINVAL;
	}
	m->ports[i] = (struct sim_port_density){.port = port, .open_count = count};
	if (i == m->nports)
		m->nports++;
	return 0;
bad:
	snprintf(err, errlen, "bad --open '%s' (want PORT=COUNT)", arg);
	return -EINVAL;
}

static int opt_loss(struct sim_options *o, const char *arg, char *err, size_t errlen)
{
	char *end;
	double p = strtod(arg, &end);

	if (end == arg || *end != '\0' || !(p >= 0.0 && p <= 1.0)) {
		snprintf(err, errlen, "bad probability '%s' for --loss", arg);
		return -EINVAL;
	}
	o->loss_in = o->loss_out = p;
	return 0;
}

static int set_value(struct sim_options *o, const struct opt *d, const char *arg, char *err,
		     size_t errlen)
{
	char *base = (char *)o + d->off, *end;
	unsigned long long u;
	double x;

	errno = 0;
	switch (d->type) {
	case OPT_FLAG:
		*(bool *)(void *)base = true;
		return 0;
	case OPT_STR:
		*(const char **)(void *)base = arg;
		return 0;
	case OPT_CALL:
		return d->call(o, arg, err, errlen);
	case OPT_U32:
	case OPT_U64:
		u = strtoull(arg, &end, 0);
		if (end == arg || *end != '\0' || errno != 0 || arg[0] == '-' ||
		    (d->type == OPT_U32 && u > UINT32_MAX))
			break;
		if (d->type == OPT_U32)
			*(uint32_t *)(void *)base = (uint32_t)u;
		else
			*(uint64_t *)(void *)base = u;
		return 0;
	case OPT_U16:
		u = strtoull(arg, &end, 10);
		if (end == arg || *end != '\0' || u < 1 || u > 16)
			break;
		*(uint16_t *)(void *)base = (uint16_t)u;
		return 0;
	case OPT_INT:
		u = strtoull(arg, &end, 10);
		if (end == arg || *end != '\0' || u > 1023)
			break;
		*(int *)(void *)base = (int)u;
		return 0;
	case OPT_PROB:
	case OPT_DOUBLE:
		x = strtod(arg, &end);
		if (end == arg || *end != '\0' || !(x >= 0.0) || (d->type == OPT_PROB && x > 1.0))
			break;
		*(double *)(void *)base = x;
		return 0;
	}
	snprintf(err, errlen, "bad value '%s' for %s", arg, d->name);
	return -EINVAL;
}

static void set_defaults(struct sim_options *o)
{
	*o = (struct sim_options){
	    .mode = SIM_MODE_SERVE,
	    .seed = 1,
	    .cpu = -1,
	    .idle_us = 20,
	    .queues = 2,
	    .late_ms = 5000,
	    .delay_slots = 1u << 20,
	    .ports = {143},
	    .nports = 1,
	};
	sim_model_defaults(&o->model, 1);
}

static const struct opt *find_opt(const char *word, size_t len)
{
	for (size_t i = 0; i < NOPTS; i++)
		if (strlen(table[i].name) == len && strncmp(table[i].name, word, len) == 0)
			return &table[i];
	return NULL;
}

int sim_options_parse(struct sim_options *o, int argc, char **argv, char *err, size_t errlen)
{
	set_defaults(o);
	for (int i = 1; i < argc; i++) {
		const char *w = argv[i], *eq = strchr(w, '='), *arg = NULL;
		const struct opt *d;
		int rc;

		if (strcmp(w, "--") == 0) {
			o->npass = argc - i - 1;
			o->pass = argv + i + 1;
			break;
		}
		if (strcmp(w, "--help") == 0 || strcmp(w, "-h") == 0)
			return 1;
		d = find_opt(w, eq ? (size_t)(eq - w) : strlen(w));
		if (d == NULL) {
			snprintf(err, errlen, "unknown option '%s' (try --help)", w);
			return -EINVAL;
		}
		if (d->type != OPT_FLAG) {
			if (eq == NULL && i + 1 == argc) {
				snprintf(err, errlen, "%s needs a value", d->name);
				return -EINVAL;
			}
			arg = eq ? eq + 1 : argv[++i];
		}
		rc = set_value(o, d, arg, err, errlen);
		if (rc != 0)
			return rc;
	}
	sim_model_seed(&o->model, o->seed);
	if (sim_model_finish(&o->model) != 0) {
		snprintf(err, errlen, "an open count times --density exceeds the address space");
		return -EINVAL;
	}
	if (o->mode == SIM_MODE_SERVE && o->socket_path == NULL) {
		snprintf(err, errlen, "--socket PATH is required (or --list-open/--count-open)");
		return -EINVAL;
	}
	return 0;
}
