/* test_census_resume.c — what a resumed census takes over (cli/census_resume.h):
 * the earlier sessions' hit logs are read (every hits.log.N, a log cut
 * before its header counts as empty, a log of another scan is refused),
 * their hits made distinct, those without a record handed out once, and
 * every one of them recognised when the re-sent window finds it again;
 * the engine side loads and checks the checkpoint (none: the beginning;
 * another scan's: refused). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "cli/census_resume.h"
#include "engine/targets.h"
#include "tests/unit/test.h"

static const struct mc_hitlog_id run_id = {.seed = 77, .shard = 0, .shards = 1};

static void write_log(int dirfd, const char *name, const struct mc_hitlog_id *id,
		      const uint32_t *addrs, const uint16_t *ports, int n)
{
	struct mc_hitlog_writer *w = malloc(sizeof(*w));
	char err[200];

	CHECK(w != NULL);
	CHECK_INT_EQ(mc_hitlog_create(w, dirfd, name, id, err, sizeof(err)), 0);
	for (int i = 0; i < n; i++) {
		struct mc_hit h = {.addr = addrs[i], .port = ports[i], .isn = (uint32_t)i};
		CHECK_INT_EQ(mc_hitlog_append(w, &h), 0);
	}
	CHECK_INT_EQ(mc_hitlog_close(w), 0);
	free(w);
}

/* Recorded: 10.0.0.1:143 only. */
static bool recorded(const void *ctx, uint32_t addr, uint16_t port)
{
	(void)ctx;
	return addr == 0x0a000001 && port == 143;
}

static void test_old_logs(void)
{
	char dir[] = "/tmp/test_census_resume.XXXXXX", err[200];
	const uint32_t a1[] = {0x0a000001, 0x0a000002, 0x0a000003};
	const uint16_t p1[] = {143, 110, 993};
	const uint32_t a2[] = {0x0a000002, 0x0a000004}; /* .2:110 found again */
	const uint16_t p2[] = {110, 995};
	struct census_resume cr;
	struct mc_hit h;
	int dirfd, fd, n = 0;
	uint64_t got = 0;

	CHECK(mkdtemp(dir) != NULL);
	dirfd = open(dir, O_RDONLY | O_DIRECTORY);
	write_log(dirfd, "hits.log.1", &run_id, a1, p1, 3);
	write_log(dirfd, "hits.log.2", &run_id, a2, p2, 2);
	write_log(dirfd, "hits.log", &run_id, a2, p2, 1);	    /* the live log: not read */
	fd = openat(dirfd, "hits.log.3", O_CREAT | O_WRONLY, 0644); /* cut before its header */
	close(fd);
	fd = openat(dirfd, "hits.log.07", O_CREAT | O_WRONLY, 0644); /* not a log name */
	close(fd);
	CHECK_INT_EQ(census_resume_load(&cr, dirfd, &run_id, recorded, NULL, err, sizeof(err)), 0);
	CHECK_UINT_EQ(cr.logs, 3);
	CHECK_UINT_EQ(cr.old_hits, 5);
	CHECK_UINT_EQ(cr.nseen, 4);
	CHECK_UINT_EQ(cr.ntodo, 3); /* .1:143 has its record */
	while (census_resume_next(&cr, &h)) {
		CHECK(!recorded(NULL, h.addr, h.port));
		got |= 1ull << (h.addr & 0xff);
		n++;
	}
	CHECK_INT_EQ(n, 3);
	CHECK_UINT_EQ(got, (1ull << 2) | (1ull << 3) | (1ull << 4));
	CHECK(!census_resume_next(&cr, &h)); /* handed out once */
	CHECK(census_resume_seen(&cr, 0x0a000001, 143));
	CHECK(census_resume_seen(&cr, 0x0a000004, 995));
	CHECK(!census_resume_seen(&cr, 0x0a000004, 993));
	census_resume_free(&cr);

	/* a log of another scan is refused, naming it (a second listing of the
	 * same directory descriptor starts from its beginning again) */
	struct mc_hitlog_id other = {.seed = 78, .shard = 0, .shards = 1};
	write_log(dirfd, "hits.log.4", &other, a1, p1, 1);
	CHECK_INT_EQ(census_resume_load(&cr, dirfd, &run_id, recorded, NULL, err, sizeof(err)),
		     -EINVAL);
	CHECK(strstr(err, "hits.log.4") != NULL);
	census_resume_free(&cr);
	for (const char *f =
		 "hits.log.1\0hits.log.2\0hits.log\0hits.log.3\0hits.log.07\0hits.log.4\0";
	     *f; f += strlen(f) + 1)
		unlinkat(dirfd, f, 0);
	close(dirfd);
	CHECK_INT_EQ(rmdir(dir), 0);
}

static void test_engine_side(void)
{
	char dir[] = "/tmp/test_census_resume.XXXXXX", err[200], note[160];
	const uint16_t ports[] = {110, 143, 993, 995};
	const char *cidr = "198.18.4.0/24";
	struct targets_spec spec = {.cidrs = &cidr,
				    .ncidrs = 1,
				    .ports = ports,
				    .nports = 4,
				    .no_default_blocklist = true,
				    .ignore_safe_range = true};
	struct targets *t = NULL;
	struct engine_config cfg = {.seed = 77, .shards = 1, .tx_queues = 1};
	struct engine_ckpt ck, written;
	int dirfd;

	CHECK(mkdtemp(dir) != NULL);
	dirfd = open(dir, O_RDONLY | O_DIRECTORY);
	CHECK_INT_EQ(targets_build(&t, &spec, err, sizeof(err)), 0);
	cfg.targets = t;
	/* no directory: no checkpoint; a fresh run: checkpoint on, from the start */
	CHECK_INT_EQ(
	    census_resume_engine(&cfg, -1, false, &ck, note, sizeof(note), err, sizeof(err)), 0);
	CHECK(!cfg.checkpoint);
	CHECK_INT_EQ(
	    census_resume_engine(&cfg, dirfd, false, &ck, note, sizeof(note), err, sizeof(err)), 0);
	CHECK(cfg.checkpoint && cfg.checkpoint_dirfd == dirfd && cfg.resume_from == NULL);
	/* a resume without a checkpoint starts from the beginning, saying so */
	CHECK_INT_EQ(
	    census_resume_engine(&cfg, dirfd, true, &ck, note, sizeof(note), err, sizeof(err)), 0);
	CHECK(cfg.resume_from == NULL && strstr(note, "from the beginning") != NULL);
	/* with one: restarts there */
	engine_ckpt_init(&written, &cfg, targets_pairs(t));
	written.q[0] = (struct engine_ckpt_queue){.left = 10, .taken = 1000};
	CHECK_INT_EQ(engine_ckpt_write(dirfd, &written, err, sizeof(err)), 0);
	CHECK_INT_EQ(
	    census_resume_engine(&cfg, dirfd, true, &ck, note, sizeof(note), err, sizeof(err)), 0);
	CHECK(cfg.resume_from == &ck && ck.q[0].taken == 1000 && strstr(note, "1000") != NULL);
	/* another seed: refused */
	cfg.resume_from = NULL;
	cfg.seed = 78;
	CHECK_INT_EQ(
	    census_resume_engine(&cfg, dirfd, true, &ck, note, sizeof(note), err, sizeof(err)),
	    -EINVAL);
	CHECK(strstr(err, "seed") != NULL && cfg.resume_from == NULL);
	targets_free(t);
	unlinkat(dirfd, ENGINE_CKPT_NAME, 0);
	close(dirfd);
	CHECK_INT_EQ(rmdir(dir), 0);
}

int main(void)
{
	RUN(test_old_logs);
	RUN(test_engine_side);
	return test_summary();
}
