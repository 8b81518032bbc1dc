/* responders.c — write the hits of a scan as CSV or NDJSON lines.
 *
 * A plain thread (not a DPDK lcore) pops the ring; when it is empty it naps a
 * millisecond, so it costs nothing while the scan has few responders. */
#include "base/ipv4.h"
#include "cli/responders.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int responders_open(struct responders *w, const char *path, enum scan_output_format format,
		    char *err, size_t errlen)
{
	memset(w, 0, sizeof(*w));
	w->format = format;
	if (strcmp(path, "-") == 0) {
		w->to_stdout = true;
		w->f = stdout;
	} else {
		if (snprintf(w->path, sizeof(w->path), "%s", path) >= (int)sizeof(w->path) ||
		    snprintf(w->tmp, sizeof(w->tmp), "%s.tmp.%ld", path, (long)getpid()) >=
			(int)sizeof(w->tmp)) {
			snprintf(err, errlen, "output path too long");
			return -ENAMETOOLONG;
		}
		/* never through a planted link, never over a file that is there */
		int fd = open(w->tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
		w->f = fd >= 0 ? fdopen(fd, "w") : NULL;
		if (w->f == NULL) {
			if (fd >= 0)
				close(fd);
			int rc = -errno;
			snprintf(err, errlen, "cannot write %s: %s", w->tmp, strerror(errno));
			return rc;
		}
	}
	if (format == SCAN_OUT_CSV)
		fputs("saddr,sport,ttl,window,isn,time\n", w->f);
	return 0;
}

static void write_hit(struct responders *w, const struct mc_hit *h)
{
	char ip[MC_IPV4_STRLEN];
	double t = (double)h->time_ns / 1e9;

	mc_ipv4_format(h->addr, ip);
	if (w->format == SCAN_OUT_CSV)
		fprintf(w->f, "%s,%u,%u,%u,%" PRIu32 ",%.6f\n", ip, h->port, h->ttl, h->window,
			h->isn, t);
	else
		fprintf(w->f,
			"{\"saddr\":\"%s\",\"sport\":%u,\"ttl\":%u,\"window\":%u,\"mss\":%u,"
			"\"isn\":%" PRIu32 ",\"time\":%.6f}\n",
			ip, h->port, h->ttl, h->window, h->mss, h->isn, t);
	w->written++;
}

static void *writer_main(void *arg)
{
	struct responders *w = arg;
	struct mc_hit h;
	const struct timespec nap = {.tv_sec = 0, .tv_nsec = 1000000};

	for (;;) {
		if (mc_spsc_pop(w->ring, &h))
			write_hit(w, &h);
		else if (mc_spsc_finished(w->ring))
			break;
		else
			nanosleep(&nap, NULL);
	}
	if (fflush(w->f) != 0 || ferror(w->f))
		w->error = -EIO;
	return NULL;
}

static int start(void *ctx, struct mc_spsc *ring)
{
	struct responders *w = ctx;
	int rc;

	w->ring = ring;
	rc = pthread_create(&w->thread, NULL, writer_main, w);
	if (rc != 0)
		return -rc;
	w->running = true;
	return 0;
}

static int finish(void *ctx)
{
	struct responders *w = ctx;

	if (w->running)
		pthread_join(w->thread, NULL);
	w->running = false;
	return w->error;
}

struct engine_consumer responders_consumer(struct responders *w)
{
	return (struct engine_consumer){.ctx = w, .start = start, .finish = finish};
}

int responders_close(struct responders *w, bool keep, char *err, size_t errlen)
{
	int rc = 0;

	if (w->f == NULL || w->to_stdout)
		return w->f != NULL && fflush(w->f) != 0 ? -EIO : 0;
	if (fclose(w->f) != 0 && keep) {
		rc = -EIO;
		snprintf(err, errlen, "cannot write %s", w->tmp);
	}
	w->f = NULL;
	if (keep && rc == 0 && rename(w->tmp, w->path) != 0) {
		rc = -errno;
		snprintf(err, errlen, "cannot rename %s: %s", w->tmp, strerror(errno));
	}
	if (!keep || rc != 0)
		unlink(w->tmp);
	return rc;
}
