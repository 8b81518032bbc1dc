/* mcsim.c — the simulated Internet: serve a memif port, or list its truth.
 *
 * main() only orchestrates: parse options, then either print the ground
 * truth of a range (--list-open, --count-open; no DPDK) or serve probes until
 * told to stop, and write the counters. */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "sim_options.h"
#include "sim_server.h"

/* The one mutable global: set by SIGINT/SIGTERM. */
static volatile sig_atomic_t quit_flag;

static void on_signal(int sig)
{
	(void)sig;
	quit_flag = 1;
}

static void print_addr(FILE *out, uint32_t addr, uint16_t port)
{
	fprintf(out, "%u.%u.%u.%u:%u\n", addr >> 24, (addr >> 16) & 255, (addr >> 8) & 255,
		addr & 255, port);
}

/* Address-major, ports ascending: the order of `sort -V` on IP:PORT lines. */
static int list_open(const struct sim_options *o)
{
	uint64_t addr = o->range_first;

	for (; addr <= o->range_last; addr++)
		for (uint32_t i = 0; i < o->nports; i++)
			if (sim_is_open(&o->model, (uint32_t)addr, o->ports[i]))
				print_addr(stdout, (uint32_t)addr, o->ports[i]);
	return fflush(stdout) == 0 ? 0 : 1;
}

static int count_open(const struct sim_options *o)
{
	uint64_t counts[SIM_MAX_PORTS] = {0}, special = 0, total = 0;

	for (uint64_t addr = o->range_first; addr <= o->range_last; addr++) {
		if (sim_is_special((uint32_t)addr)) {
			special++;
			continue;
		}
		for (uint32_t i = 0; i < o->nports; i++)
			counts[i] += sim_is_open(&o->model, (uint32_t)addr, o->ports[i]);
	}
	printf("{\"addresses\":%" PRIu64 ",\"special\":%" PRIu64 ",\"open\":{",
	       (uint64_t)o->range_last - o->range_first + 1, special);
	for (uint32_t i = 0; i < o->nports; i++) {
		printf("%s\"%u\":%" PRIu64, i ? "," : "", o->ports[i], counts[i]);
		total += counts[i];
	}
	printf("},\"total\":%" PRIu64 "}\n", total);
	return 0;
}

static void write_stats(FILE *f, const struct sim_options *o, const struct sim_counters *c)
{
	uint64_t junk = 0;

	fprintf(f, "{\"seed\":%" PRIu64 ",\"elapsed_s\":%.3f,\"connects\":%" PRIu64, o->seed,
		(double)c->elapsed_ns / 1e9, c->connects);
	fprintf(f, ",\"syn_span_s\":%.3f", (double)c->syn_span_ns / 1e9);
	fprintf(f, ",\"rx_frames\":%" PRIu64 ",\"received\":{", c->rx_frames);
	for (int k = 0; k < SIM_IN_KINDS; k++)
		fprintf(f, "%s\"%s\":%" PRIu64, k ? "," : "", sim_in_kind_name(k), c->in[k]);
	fprintf(f,
		"},\"syn_lost\":%" PRIu64 ",\"answer\":{\"open\":%" PRIu64 ",\"rst\":%" PRIu64
		",\"silent\":%" PRIu64 "}",
		c->syn_lost, c->answer_open, c->answer_rst, c->answer_silent);
	fprintf(f,
		",\"reply_lost\":%" PRIu64 ",\"duplicated\":%" PRIu64 ",\"delayed\":%" PRIu64
		",\"late\":%" PRIu64 ",\"delay_overflow\":%" PRIu64 ",\"pending_at_exit\":%" PRIu64,
		c->reply_lost, c->duplicated, c->delayed, c->late, c->delay_overflow,
		c->pending_at_exit);
	fprintf(f, ",\"sent\":{");
	for (int k = 0; k < SIM_OUT_KINDS; k++) {
		fprintf(f, "%s\"%s\":%" PRIu64, k ? "," : "", sim_out_kind_name(k), c->sent[k]);
		if (k >= SIM_OUT_FIRST_JUNK)
			junk += c->sent[k];
	}
	fprintf(f,
		"},\"junk_sent\":%" PRIu64 ",\"arp_replies\":%" PRIu64 ",\"tx_retries\":%" PRIu64
		",\"tx_dropped\":%" PRIu64 ",\"tx_nombuf\":%" PRIu64 "}\n",
		junk, c->arp_replies, c->tx_retries, c->tx_dropped, c->tx_nombuf);
}

static int serve(const struct sim_options *o)
{
	struct sigaction sa = {.sa_handler = on_signal};
	struct sim_counters c;
	char err[256] = "";
	int rc;

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	rc = sim_serve(o, &quit_flag, &c, err, sizeof(err));
	if (rc != 0)
		fprintf(stderr, "mcsim: %s\n", err);
	write_stats(stderr, o, &c);
	if (o->stats_path) {
		FILE *f = fopen(o->stats_path, "w");
		if (f == NULL) {
			fprintf(stderr, "mcsim: cannot write %s: %s\n", o->stats_path,
				strerror(errno));
			return 1;
		}
		write_stats(f, o, &c);
		if (fclose(f) != 0)
			return 1;
	}
	return rc == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
	struct sim_options o;
	char err[256] = "";
	int rc = sim_options_parse(&o, argc, argv, err, sizeof(err));

	if (rc == 1) {
		sim_options_usage(stdout);
		return 0;
	}
	if (rc != 0) {
		fprintf(stderr, "mcsim: %s\n", err);
		return 2;
	}
	switch (o.mode) {
	case SIM_MODE_LIST_OPEN:
		return list_open(&o);
	case SIM_MODE_COUNT_OPEN:
		return count_open(&o);
	case SIM_MODE_SERVE:
		break;
	}
	return serve(&o);
}
