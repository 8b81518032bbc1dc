#include "census.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "probes/grabber.h"

struct census_grab {
	struct out_sink *sink;
	struct grabber *grabber;
	struct mc_spsc *ring;
	pthread_t thread;
	bool thread_started;
	int run_rc;	  /* grabber_run_ring() result */
	uint64_t records; /* accepted by the sink */
	uint64_t refused; /* records the sink could not take */
	int sink_rc;	  /* first sink failure, 0 if none */
	bool quiet;	  /* no "waiting for the grabber" line */
	char sink_err[256];
};

/* Grabber thread: every finished target goes to the sink. After the first
 * sink failure the sink refuses the rest; they are counted, not lost
 * silently, and the failure ends the command with an error. */
static void on_record(void *ctx, struct mc_record *rec)
{
	struct census_grab *c = ctx;
	int rc = out_sink_put(c->sink, rec);

	if (rc == 0) {
		c->records++;
		return;
	}
	c->refused++;
	if (c->sink_rc == 0) {
		c->sink_rc = rc;
		snprintf(c->sink_err, sizeof(c->sink_err), "%s", out_sink_strerror(c->sink));
		grabber_stop(c->grabber);
	}
}

/* A resumed census re-sends the scan; hits that already have a record are
 * not grabbed twice. */
static bool skip_recorded(void *ctx, uint32_t addr, uint16_t port)
{
	const struct census_grab *c = ctx;

	return out_sink_recorded(c->sink, addr, port);
}

int census_grab_open(struct census_grab **out, const struct grab_config *gcfg,
		     const struct out_sink_config *scfg, char *err, size_t errlen)
{
	struct census_grab *c = calloc(1, sizeof(*c));
	struct grab_config g = *gcfg;
	int rc;

	if (c == NULL) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	rc = out_sink_open(&c->sink, scfg, err, errlen);
	if (rc != 0) {
		free(c);
		return rc;
	}
	if (scfg->resume) {
		g.skip = skip_recorded;
		g.skip_ctx = c;
	}
	c->grabber = grabber_new(&g, on_record, c, err, errlen);
	if (c->grabber == NULL) {
		out_sink_discard(c->sink);
		free(c);
		return -EINVAL;
	}
	*out = c;
	return 0;
}

static void *grab_thread(void *arg)
{
	struct census_grab *c = arg;

	c->run_rc = grabber_run_ring(c->grabber, c->ring);
	return NULL;
}

static int consumer_start(void *ctx, struct mc_spsc *ring)
{
	struct census_grab *c = ctx;
	int rc;

	c->ring = ring;
	rc = pthread_create(&c->thread, NULL, grab_thread, c);
	if (rc != 0)
		return -rc;
	c->thread_started = true;
	return 0;
}

static int consumer_finish(void *ctx)
{
	struct census_grab *c = ctx;

	if (c->thread_started) {
		if (!c->quiet)
			fprintf(stderr, "mailcensus scan: sending and cooldown done; the grabber "
					"finishes the targets it holds (bounded by the grab "
					"timeouts)\n");
		pthread_join(c->thread, NULL);
		c->thread_started = false;
	}
	if (c->sink_rc != 0)
		return c->sink_rc;
	return c->run_rc;
}

void census_grab_set_interrupted(struct census_grab *c, int signo)
{
	out_sink_set_interrupted(c->sink, signo);
}

void census_grab_set_quiet(struct census_grab *c, bool quiet)
{
	c->quiet = quiet;
}

struct engine_consumer census_grab_consumer(struct census_grab *c)
{
	return (struct engine_consumer){
	    .ctx = c, .start = consumer_start, .finish = consumer_finish};
}

void census_grab_counts(const struct census_grab *c, uint64_t *records, uint64_t *failed)
{
	struct grab_stats st;

	grabber_get_stats(c->grabber, &st);
	*records = c->records;
	*failed = st.targets_failed;
}

void census_grab_discard(struct census_grab *c)
{
	if (c->thread_started)
		consumer_finish(c);
	grabber_free(c->grabber);
	out_sink_discard(c->sink);
	free(c);
}

int census_grab_close(struct census_grab *c, const struct out_meta *meta, char *err, size_t errlen)
{
	int rc;

	if (c->thread_started)
		consumer_finish(c);
	grabber_free(c->grabber);
	rc = out_sink_close(c->sink, meta, err, errlen);
	if (c->sink_rc != 0) {
		snprintf(err, errlen, "results: %s (%llu records not written)", c->sink_err,
			 (unsigned long long)c->refused);
		rc = c->sink_rc;
	} else if (rc == 0 && c->run_rc != 0) {
		snprintf(err, errlen, "grabber: %s", strerror(-c->run_rc));
		rc = c->run_rc;
	}
	free(c);
	return rc;
}
