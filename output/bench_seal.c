/* bench_seal.c — how long out_sink_put() blocks while shards are sealed.
 *
 * The same paced stream of records goes into two results directories in one
 * run: one sink seals on the caller's thread (seal_inline, the output stage
 * before issue 11) and one hands full shards to its sealer thread. For
 * every put we take the wall time it blocked; the longest one is the
 * longest an event loop calling the sink would have stalled. The disk of a
 * test VM is fast, so --fsync-ms adds a delay to every fsync/fdatasync of
 * the process (the function below takes the place of libc's for this
 * executable) to stand in for a loaded or networked disk; 0 = the real
 * disk only. */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "output/sink.h"
#include "output/verify.h"

/* The simulated disk latency: process-wide because fsync() is. */
static atomic_int fsync_delay_ms;

static void disk_delay(void)
{
	int ms = atomic_load(&fsync_delay_ms);
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};

	if (ms > 0)
		nanosleep(&ts, NULL);
}

int fsync(int fd)
{
	disk_delay();
	return (int)syscall(SYS_fsync, fd);
}

int fdatasync(int fd)
{
	disk_delay();
	return (int)syscall(SYS_fdatasync, fd);
}

static int64_t mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

struct run_result {
	int64_t max_us, p99_us, total_us;
	uint64_t shards;
	int rc;
};

/* One paced run into dir; lat holds n put latencies afterwards. */
static void run(const char *dir, bool inline_seal, uint64_t n, uint64_t rotate, int interval_us,
		int64_t *lat, struct run_result *out)
{
	struct out_sink_config cfg = {
	    .dir = dir, .no_enrich = true, .rotate_records = rotate, .seal_inline = inline_seal};
	struct out_sink *s = NULL;
	struct mc_record r;
	char err[512];
	int64_t start = mono_us();

	memset(out, 0, sizeof(*out));
	out->rc = out_sink_open(&s, &cfg, err, sizeof(err));
	if (out->rc != 0) {
		fprintf(stderr, "mc-bench-seal: %s\n", err);
		return;
	}
	memset(&r, 0, sizeof(r));
	r.port = 143;
	r.proto = MC_PROTO_IMAP;
	r.banner_len = 300; /* about the size of a plaintext record */
	memset(r.banner, 'b', r.banner_len);
	for (uint64_t i = 0; i < n && out->rc == 0; i++) {
		int64_t due = start + (int64_t)i * interval_us, now = mono_us();
		if (due > now)
			usleep((useconds_t)(due - now));
		r.ip = 0xc6120000u + (uint32_t)i;
		int64_t t0 = mono_us();
		out->rc = out_sink_put(s, &r);
		lat[i] = mono_us() - t0;
	}
	out->rc = out_sink_close(s, NULL, err, sizeof(err));
	if (out->rc != 0)
		fprintf(stderr, "mc-bench-seal: %s\n", err);
	out->total_us = mono_us() - start;
	out->shards = (n + rotate - 1) / rotate;
	qsort(lat, n, sizeof(*lat), cmp_i64);
	out->max_us = lat[n - 1];
	out->p99_us = lat[n * 99 / 100];
}

int main(int argc, char **argv)
{
	const char *dir = NULL;
	uint64_t n = 2000, rotate = 100;
	int interval_us = 500, opt;
	char path[2][4096];
	struct run_result res[2];
	FILE *devnull = fopen("/dev/null", "w");

	while ((opt = getopt(argc, argv, "d:n:r:i:f:")) != -1) {
		switch (opt) {
		case 'd':
			dir = optarg;
			break;
		case 'n':
			n = strtoull(optarg, NULL, 10);
			break;
		case 'r':
			rotate = strtoull(optarg, NULL, 10);
			break;
		case 'i':
			interval_us = atoi(optarg);
			break;
		case 'f':
			atomic_store(&fsync_delay_ms, atoi(optarg));
			break;
		default:
			fprintf(stderr, "usage: mc-bench-seal -d DIR [-n records] [-r records per "
					"shard] [-i µs between records] [-f fsync delay ms]\n");
			return 2;
		}
	}
	if (dir == NULL || n == 0 || rotate == 0 || interval_us < 0 || devnull == NULL) {
		fprintf(stderr, "mc-bench-seal: -d DIR is required; counts must be > 0\n");
		return 2;
	}
	int64_t *lat = calloc(n, sizeof(*lat));
	if (lat == NULL)
		return 1;
	for (int k = 0; k < 2; k++) {
		bool complete = false;
		snprintf(path[k], sizeof(path[k]), "%s/%s", dir, k == 0 ? "inline" : "sealer");
		run(path[k], k == 0, n, rotate, interval_us, lat, &res[k]);
		if (res[k].rc != 0 || out_verify_dir(path[k], &complete, devnull) != 0 ||
		    !complete) {
			fprintf(stderr, "mc-bench-seal: %s did not verify\n", path[k]);
			return 1;
		}
	}
	printf(
	    "records %llu, %llu per shard (%llu seals), one put every %d us, fsync delay %d ms\n",
	    (unsigned long long)n, (unsigned long long)rotate, (unsigned long long)res[0].shards,
	    interval_us, atomic_load(&fsync_delay_ms));
	printf("%-28s %12s %12s\n", "longest out_sink_put() stall", "inline seal", "sealer thread");
	printf("%-28s %9.3f ms %9.3f ms\n", "max", res[0].max_us / 1e3, res[1].max_us / 1e3);
	printf("%-28s %9.3f ms %9.3f ms\n", "p99", res[0].p99_us / 1e3, res[1].p99_us / 1e3);
	printf("%-28s %9.3f s  %9.3f s\n", "run time", res[0].total_us / 1e6,
	       res[1].total_us / 1e6);
	printf("max stall ratio inline/sealer: %.1fx (both directories verify)\n",
	       res[1].max_us > 0 ? (double)res[0].max_us / (double)res[1].max_us : 0.0);
	free(lat);
	fclose(devnull);
	return 0;
}
