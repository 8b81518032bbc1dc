/* scan_cmd.c — `mailcensus scan`, the whole census in one command.
 *
 * Without --grab this is the engine's scan command as it is (responders to
 * -o). With --grab the engine's hits go straight to the grabber (census.c)
 * and the records to a results directory (-O) or stdout. The grab flags are
 * taken out of argv here, by a table that maps each to the `mailcensus grab`
 * option it stands for (so both commands validate them the same way); the
 * rest goes to the engine unchanged. Three things are added for the
 * manifest: a --seed when none was given (so the manifest can name it), and
 * a metadata file when -m was not given (its JSON goes into the manifest). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "cli/census.h"
#include "cli/commands.h"
#include "engine/engine.h"
#include "engine/scan_options.h"
#include "output/json.h"
#include "probes/grab_opts.h"

#define SCAN_ARGV_EXTRA 4 /* words this file adds to the engine's argv: --seed N -m F */

struct grab_flag {
	const char *scan_name; /* as given to scan, without "--" */
	char short_name;       /* 0 when none */
	const char *grab_name; /* the `grab` option it becomes; NULL: --grab itself */
	const char *arg;       /* value placeholder, NULL for a flag */
	const char *help;
};

static const struct grab_flag grab_flags[] = {
    {"grab", 0, NULL, NULL,
     "probe every responder (banner, STARTTLS, TLS, certificate, posture) as hits arrive"},
    {"results", 'O', "--output", "DIR",
     "results directory: shards + manifest.json (default: NDJSON records on stdout)"},
    {"geo-db", 0, "--geo-db", "FILE", "country mmdb for enrichment (with --asn-db)"},
    {"asn-db", 0, "--asn-db", "FILE", "ASN mmdb for enrichment (with --geo-db)"},
    {"no-enrich", 0, "--no-enrich", NULL, "no enrichment even if databases are named"},
    {"compress", 0, "--compress", NULL, "zstd-compress shards"},
    {"shard-records", 0, "--shard-records", "N",
     "new output shard after N records (k/M suffix; default 1M)"},
    {"shard-bytes", 0, "--shard-bytes", "SIZE",
     "new output shard after SIZE bytes (k/M/G suffix; default 256M)"},
    {"grab-concurrency", 0, "--concurrency", "N", "targets probed at once (default 1000)"},
    {"grab-rate", 0, "--rate", "N", "new probes per second, 0 = unlimited (default 0)"},
    {"grab-connect-timeout", 0, "--connect-timeout", "SEC", "TCP connect timeout (default 5)"},
    {"grab-read-timeout", 0, "--read-timeout", "SEC",
     "longest wait for server bytes, incl. TLS handshakes (default 5)"},
    {"grab-timeout", 0, "--timeout", "SEC", "whole target incl. the version matrix (default 30)"},
    {"ca-file", 0, "--ca-file", "FILE", "extra trust anchors (PEM) for chain verification"},
    {"no-tls-matrix", 0, "--no-tls-matrix", NULL, "skip the TLS 1.0-1.3 version matrix"},
    {"no-injection-test", 0, "--no-injection-test", NULL, "skip the STARTTLS injection test"},
    {"grab-port", 0, "--port", "PORT=PROTO",
     "protocol of a port (pop3|imap|pop3s|imaps), repeatable; default 110=pop3 143=imap "
     "993=imaps 995=pop3s"},
};
#define NGRAB_FLAGS (sizeof(grab_flags) / sizeof(grab_flags[0]))

static void usage(FILE *out)
{
	scan_options_usage(out);
	fprintf(out, "\ncensus (grab every responder while scanning):\n");
	for (size_t i = 0; i < NGRAB_FLAGS; i++) {
		const struct grab_flag *f = &grab_flags[i];
		char left[48];

		snprintf(left, sizeof(left), "%c%c%s--%s%s%s", f->short_name ? '-' : ' ',
			 f->short_name ? f->short_name : ' ', f->short_name ? ", " : "  ",
			 f->scan_name, f->arg ? " " : "", f->arg ? f->arg : "");
		fprintf(out, "  %-30s %s\n", left, f->help);
	}
	fprintf(out, "\nWith --grab, -o is refused (records replace the responder list), and the\n"
		     "manifest in -O DIR carries the scan's metadata (seed, shard, counters).\n");
}

static const struct grab_flag *find_flag(const char *name)
{
	for (size_t i = 0; i < NGRAB_FLAGS; i++) {
		if (name[1] == '-' && strcmp(name + 2, grab_flags[i].scan_name) == 0)
			return &grab_flags[i];
		if (name[1] != '-' && name[2] == '\0' && grab_flags[i].short_name == name[1])
			return &grab_flags[i];
	}
	return NULL;
}

/* The split command line. Both vectors point into argv or into `words`. */
struct split {
	int eargc, gargc;
	char **eargv, **gargv;
	bool grab, help;
	const char *first_census_flag; /* for "add --grab" */
	char words[SCAN_ARGV_EXTRA][PATH_MAX];
	int nwords;
};

/* A word made here, kept as long as the split. */
static char *word(struct split *s, const char *prefix, const char *text)
{
	char *w = s->words[s->nwords++]; /* at most SCAN_ARGV_EXTRA calls */
	snprintf(w, PATH_MAX, "%s%s", prefix, text);
	return w;
}

/* Take the grab flags out of argv (up to `--`; after it everything is the
 * engine's EAL). 0, or -EINVAL with a reason. */
static int split_args(struct split *s, int argc, char **argv, char *err, size_t errlen)
{
	s->eargv = calloc((size_t)argc + SCAN_ARGV_EXTRA + 1, sizeof(char *));
	s->gargv = calloc((size_t)argc + 1, sizeof(char *));
	if (s->eargv == NULL || s->gargv == NULL) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	s->eargv[s->eargc++] = argv[0];
	s->gargv[s->gargc++] = "grab";
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *eq = strncmp(a, "--", 2) == 0 ? strchr(a, '=') : NULL;
		char name[64];
		const struct grab_flag *f;

		if (strcmp(a, "--") == 0) {
			while (i < argc)
				s->eargv[s->eargc++] = argv[i++];
			break;
		}
		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0)
			s->help = true;
		snprintf(name, sizeof(name), "%.*s", eq ? (int)(eq - a) : 63, a);
		f = a[0] == '-' ? find_flag(name) : NULL;
		if (f == NULL) {
			s->eargv[s->eargc++] = argv[i];
			continue;
		}
		if (f->grab_name == NULL) {
			s->grab = true;
			continue;
		}
		if (s->first_census_flag == NULL)
			s->first_census_flag = a;
		s->gargv[s->gargc++] = (char *)f->grab_name;
		if (f->arg == NULL)
			continue;
		if (eq == NULL && i + 1 >= argc) {
			snprintf(err, errlen, "%s needs a value (%s)", name, f->arg);
			return -EINVAL;
		}
		s->gargv[s->gargc++] = eq ? (char *)eq + 1 : argv[++i];
	}
	return 0;
}

/* Insert a word into the engine's argv before its `--`, if any. */
static void engine_arg(struct split *s, char *w)
{
	int at = s->eargc;

	for (int i = 1; i < s->eargc; i++)
		if (strcmp(s->eargv[i], "--") == 0) {
			at = i;
			break;
		}
	memmove(&s->eargv[at + 1], &s->eargv[at], (size_t)(s->eargc - at) * sizeof(char *));
	s->eargv[at] = w;
	s->eargc++;
}

/* The census: engine + grabber + sink. Returns the exit status. */
static int census(struct split *s, int argc, char **argv)
{
	struct scan_options *so = malloc(sizeof(*so)); /* 128 KiB of ports */
	struct grab_opts go;
	struct census_grab *c = NULL;
	struct engine_consumer consumer;
	char err[512] = "", cmdline[4096], meta_tmp[] = "/tmp/mailcensus-meta-XXXXXX";
	const char *meta_path;
	char *meta_json = NULL;
	size_t meta_len;
	int status = 2, fd;
	bool made_tmp = false;

	if (so == NULL) {
		fprintf(stderr, "mailcensus scan: out of memory\n");
		return 2;
	}
	if (grab_opts_parse(&go, s->gargc, s->gargv, err, sizeof(err)) != 0 ||
	    scan_options_parse(so, s->eargc, s->eargv, err, sizeof(err)) != 0)
		goto out;
	if (so->output != NULL) {
		snprintf(err, sizeof(err),
			 "-o is the responder list of a scan without --grab; "
			 "with --grab the records go to -O DIR");
		goto out;
	}
	if (so->dry_run != NULL) {
		snprintf(err, sizeof(err), "--dry-run sends nothing: nothing to grab");
		goto out;
	}
	if (!so->seed_set) {
		uint64_t seed;
		char num[24];
		if (getrandom(&seed, sizeof(seed), 0) != sizeof(seed)) {
			snprintf(err, sizeof(err), "cannot draw a random seed: %s",
				 strerror(errno));
			goto out;
		}
		snprintf(num, sizeof(num), "%llu", (unsigned long long)seed);
		engine_arg(s, word(s, "--seed", ""));
		engine_arg(s, word(s, "", num));
		so->seed = seed;
	}
	meta_path = so->metadata;
	if (meta_path == NULL) {
		fd = mkstemp(meta_tmp);
		if (fd < 0) {
			snprintf(err, sizeof(err), "cannot create %s: %s", meta_tmp,
				 strerror(errno));
			goto out;
		}
		close(fd);
		meta_path = meta_tmp;
		made_tmp = true;
		engine_arg(s, word(s, "-m", ""));
		engine_arg(s, word(s, "", meta_tmp));
	}
	signal(SIGPIPE, SIG_IGN);
	grab_fit_fd_limit(&go.grab, 1);
	if (census_grab_open(&c, &go.grab, &go.sink, err, sizeof(err)) != 0)
		goto out;
	census_grab_set_quiet(c, so->quiet);
	consumer = census_grab_consumer(c);
	status = engine_scan_command(s->eargc, s->eargv, &consumer);
	if (status == 2) { /* nothing was sent: leave nothing behind */
		census_grab_discard(c);
		err[0] = '\0'; /* the engine said why */
		goto out;
	}
	/* without it (unreadable) the manifest just has no engine metadata */
	if (out_read_file(AT_FDCWD, meta_path, &meta_json, &meta_len) != 0)
		meta_json = NULL;
	out_command_line(cmdline, sizeof(cmdline), argc, argv);
	{
		struct out_meta m = {.command_line = cmdline,
				     .seed = so->seed,
				     .shard = so->shard,
				     .shards = so->shards,
				     .engine_json = meta_json};
		uint64_t records, failed;

		census_grab_counts(c, &records, &failed);
		if (census_grab_close(c, &m, err, sizeof(err)) != 0) {
			status = 1;
			goto out;
		}
		err[0] = '\0';
		fprintf(stderr, "mailcensus scan: %llu records (%llu with an error) %s%s\n",
			(unsigned long long)records, (unsigned long long)failed,
			go.sink.dir ? "in " : "on stdout", go.sink.dir ? go.sink.dir : "");
	}
out:
	if (err[0] != '\0')
		fprintf(stderr, "mailcensus scan: %s\n", err);
	if (made_tmp)
		unlink(meta_tmp);
	free(meta_json);
	free(so);
	return status;
}

int cmd_scan(int argc, char **argv)
{
	struct split *s = calloc(1, sizeof(*s));
	int status = 2;
	char err[256];

	if (s == NULL || split_args(s, argc, argv, err, sizeof(err)) != 0) {
		fprintf(stderr, "mailcensus scan: %s (try --help)\n", s ? err : "out of memory");
	} else if (s->help) {
		usage(stdout);
		status = 0;
	} else if (!s->grab && s->gargc > 1) {
		fprintf(stderr, "mailcensus scan: %s is a census option: add --grab\n",
			s->first_census_flag);
	} else if (!s->grab) {
		status = engine_scan_command(s->eargc, s->eargv, NULL);
	} else {
		status = census(s, argc, argv);
	}
	if (s != NULL) {
		free(s->eargv);
		free(s->gargv);
	}
	free(s);
	return status;
}
