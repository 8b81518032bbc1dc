/* test_shards.c — the JSON reader, encode/decode round trips, and the sink's results
 * directory (rotation, manifest, compressed shards, refusing a used directory),
 * resuming a killed run and the seal timer. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tests/unit/test.h"
#include "output/json.h"
#include "output/resume_dir.h"
#include "output/shard.h"
#include "output/sink.h"
#include "output/verify.h"
#include "out_test_util.h"

/* A slow disk for test_seal_off_loop: this executable's fsync and
 * fdatasync take the place of libc's and sleep first while the delay is
 * set (process-wide because fsync is). */
static atomic_int fsync_delay_ms;

static void disk_delay(void)
{
	int ms = atomic_load(&fsync_delay_ms);
	struct timespec ts = {0, (long)ms * 1000000L};

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

static struct out_json *parse(struct out_json_arena *a, const char *text, int *rc)
{
	struct out_json *v = NULL;
	char err[128];

	*rc = out_json_parse(a, text, strlen(text), &v, err, sizeof(err));
	return v;
}

static void test_json_reader(void)
{
	struct out_json_arena a = {0};
	int rc;
	struct out_json *v =
	    parse(&a,
		  " {\"a\":[1,2.5,-3,true,false,null],\"s\":\"x\\u00e9\\ud83d\\udce7\\n\\\"\","
		  "\"big\":18446744073709551615,\"o\":{}} ",
		  &rc);

	CHECK_INT_EQ(rc, 0);
	CHECK_INT_EQ(v->type, OUT_JSON_OBJECT);
	CHECK_UINT_EQ(v->count, 4);
	const struct out_json *arr = out_json_get(v, "a");
	CHECK_UINT_EQ(arr->count, 6);
	CHECK_UINT_EQ(out_json_u64(arr->child, 0), 1);
	CHECK(arr->child->next->num == 2.5);
	CHECK(!arr->child->next->is_uint);
	CHECK(!arr->child->next->next->is_uint);
	CHECK(out_json_true(arr->child->next->next->next));
	CHECK_STR_EQ(out_json_str(out_json_get(v, "s")), "x\xc3\xa9\xf0\x9f\x93\xa7\n\"");
	CHECK_UINT_EQ(out_json_u64(out_json_get(v, "big"), 0), UINT64_MAX);
	CHECK(out_json_get(v, "missing") == NULL);
	static const char *const bad[] = {
	    "",
	    "{",
	    "[1,]",
	    "{\"a\":1,}",
	    "{\"a\" 1}",
	    "\"\\ud800\"",
	    "\"\\x\"",
	    "\"a\nb\"",
	    "tru",
	    "1 2",
	    "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		out_json_arena_reset(&a);
		parse(&a, bad[i], &rc);
		if (rc != -EINVAL)
			fprintf(stderr, "accepted bad JSON #%zu: %s\n", i, bad[i]);
		CHECK_INT_EQ(rc, -EINVAL);
	}
	out_json_arena_free(&a);
}

/* Every byte value through the encoder and back through the reader. */
static void test_round_trip(void)
{
	static char line[MC_RECORD_JSON_MAX];
	struct out_json_arena a = {0};
	struct mc_record r;
	int rc;

	memset(&r, 0, sizeof(r));
	for (int i = 0; i < 256; i++)
		r.banner[i] = (uint8_t)i;
	r.banner_len = 256;
	size_t n = mc_record_to_json(&r, line, sizeof(line));
	CHECK(n > 0);
	line[n - 1] = '\0';
	struct out_json *v = parse(&a, line, &rc);
	CHECK_INT_EQ(rc, 0);
	const struct out_json *b = out_json_get(v, "banner");
	/* 128 ASCII bytes come back as they were, 128 high bytes as U+FFFD each */
	CHECK_UINT_EQ(b->len, 128 + 128 * 3);
	CHECK(memcmp(b->str, r.banner, 128) == 0);
	CHECK(memcmp(b->str + 128, "\xef\xbf\xbd", 3) == 0);
	out_json_arena_free(&a);
}

static void put_records_from(struct out_sink *s, int from, int n)
{
	struct mc_record r;

	for (int i = from; i < from + n; i++) {
		memset(&r, 0, sizeof(r));
		r.ip = 0xc6120100u + (uint32_t)i;
		if (i == 6) { /* one IPv6 record (grab's [ADDR]:PORT targets): 2001:db8::6 */
			static const uint8_t a6[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 6};

			r.ip = 0;
			r.ipv6 = true;
			memcpy(r.ip6, a6, 16);
		}
		r.port = 143;
		r.proto = MC_PROTO_IMAP;
		CHECK_INT_EQ(out_sink_put(s, &r), 0);
	}
}

static void put_records(struct out_sink *s, int n)
{
	put_records_from(s, 0, n);
}

static void test_sink_dir(void)
{
	char dir[PATH_MAX], res[PATH_MAX + 8], err[512];
	struct out_sink *s = NULL;

	CHECK_INT_EQ(out_test_tmpdir(dir, sizeof(dir)), 0);
	snprintf(res, sizeof(res), "%s/res", dir);
	struct out_sink_config cfg = {.dir = res, .no_enrich = true, .rotate_records = 4};
	CHECK_INT_EQ(out_sink_open(&s, &cfg, err, sizeof(err)), 0);
	put_records(s, 10);
	struct out_meta meta = {
	    .command_line = "test \"quoted\"", .seed = 7, .shards = 1, .engine_json = "not json {"};
	CHECK_INT_EQ(out_sink_close(s, &meta, err, sizeof(err)), 0);
	FILE *devnull = fopen("/dev/null", "w");
	bool complete = false;
	CHECK_INT_EQ(out_verify_dir(res, &complete, devnull), 0);
	CHECK(complete);

	int dirfd = open(res, O_RDONLY | O_DIRECTORY);
	struct out_json_arena a = {0};
	struct out_json *m = NULL;
	CHECK_INT_EQ(out_json_load(dirfd, "manifest.json", &a, &m, err, sizeof(err)), 0);
	CHECK_UINT_EQ(out_json_u64(out_json_get(m, "records"), 0), 10);
	CHECK_UINT_EQ(out_json_get(m, "files")->count, 3);
	CHECK_STR_EQ(out_json_str(out_json_get(m, "command_line")), "test \"quoted\"");
	CHECK_STR_EQ(out_json_str(out_json_get(m, "engine")), "not json {");
	CHECK(out_json_true(out_json_get(m, "complete")));
	out_json_arena_free(&a);
	close(dirfd);

	/* a directory that holds a run is refused, and the reason names resume */
	CHECK_INT_EQ(out_sink_open(&s, &cfg, err, sizeof(err)), -EEXIST);
	CHECK(strstr(err, "mailcensus resume") != NULL);
	/* so is a complete run given to resume */
	cfg.resume = true;
	CHECK_INT_EQ(out_sink_open(&s, &cfg, err, sizeof(err)), -EALREADY);
	cfg.resume = false;

	/* compressed, with the engine's object kept verbatim */
	snprintf(res, sizeof(res), "%s/zst", dir);
	cfg.compress = true;
	CHECK_INT_EQ(out_sink_open(&s, &cfg, err, sizeof(err)), 0);
	put_records(s, 5);
	meta.engine_json = "{\"rate\":1000}";
	CHECK_INT_EQ(out_sink_close(s, &meta, err, sizeof(err)), 0);
	CHECK_INT_EQ(out_verify_dir(res, &complete, devnull), 0);
	dirfd = open(res, O_RDONLY | O_DIRECTORY);
	CHECK_INT_EQ(out_json_load(dirfd, "manifest.json", &a, &m, err, sizeof(err)), 0);
	CHECK_UINT_EQ(out_json_u64(out_json_get(out_json_get(m, "engine"), "rate"), 0), 1000);
	CHECK_STR_EQ(out_json_str(out_json_get(out_json_get(m, "files")->child, "name")),
		     "shard-00000.ndjson.zst");
	out_json_arena_free(&a);
	close(dirfd);
	fclose(devnull);
	out_test_rmrf(dir);
}

/* The manifest's state and its list of shards, read back. */
static void manifest_facts(const char *res, char *state, size_t cap, size_t *nfiles,
			   uint64_t *records)
{
	int dirfd = open(res, O_RDONLY | O_DIRECTORY);
	struct out_json_arena a = {0};
	struct out_json *m = NULL;
	char err[256];

	CHECK_INT_EQ(out_json_load(dirfd, "manifest.json", &a, &m, err, sizeof(err)), 0);
	snprintf(state, cap, "%s", out_json_str(out_json_get(m, "state")) ?: "(none)");
	*nfiles = out_json_get(m, "files") ? out_json_get(m, "files")->count : 0;
	*records = out_json_u64(out_json_get(m, "records"), UINT64_MAX);
	out_json_arena_free(&a);
	close(dirfd);
}

/* A child process writes `n` records and dies without closing the sink (a
 * kill -9 as far as the directory can tell). With `keep_first_manifest`,
 * the manifest of the first seal is put back afterwards: the directory then
 * looks as if the kill came between the last shard's rename and its
 * manifest rewrite. */
static void killed_run(const struct out_sink_config *cfg, int n, bool keep_first_manifest)
{
	pid_t pid = fork();

	if (pid == 0) {
		struct out_sink *s = NULL;
		char err[512], first[PATH_MAX + 32], saved[PATH_MAX + 32];
		if (out_sink_open(&s, cfg, err, sizeof(err)) != 0)
			_exit(3);
		put_records_from(s, 0, 4); /* first seal (rotate_records = 4) */
		if (out_sink_sync(s) != 0) /* sealed by the sealer thread before the "kill" */
			_exit(5);
		snprintf(first, sizeof(first), "%s/manifest.json", cfg->dir);
		snprintf(saved, sizeof(saved), "%s/../first-manifest", cfg->dir);
		if (keep_first_manifest && link(first, saved) != 0)
			_exit(4);
		put_records_from(s, 4, n - 4);
		if (out_sink_sync(s) != 0)
			_exit(5);
		_exit(0);
	}
	int status = 0;
	waitpid(pid, &status, 0);
	CHECK_INT_EQ(WEXITSTATUS(status), 0);
}

static void test_resume_dir(void)
{
	char dir[PATH_MAX], res[PATH_MAX + 8], saved[PATH_MAX + 32], err[512], state[32];
	struct out_sink *s = NULL;
	size_t nfiles;
	uint64_t records;
	bool complete = true;
	FILE *devnull = fopen("/dev/null", "w");

	CHECK_INT_EQ(out_test_tmpdir(dir, sizeof(dir)), 0);
	snprintf(res, sizeof(res), "%s/res", dir);
	struct out_sink_config cfg = {.dir = res, .no_enrich = true, .rotate_records = 4};

	/* killed with 10 records: 8 sealed and listed, 2 in a leftover .tmp */
	killed_run(&cfg, 10, false);
	manifest_facts(res, state, sizeof(state), &nfiles, &records);
	CHECK_STR_EQ(state, "running");
	CHECK_UINT_EQ(nfiles, 2);
	CHECK_UINT_EQ(records, 8);
	CHECK_INT_EQ(out_verify_dir(res, &complete, devnull), 0); /* intact ... */
	CHECK(!complete);					  /* ... but not complete */
	/* a fresh run refuses it; resume takes it over */
	CHECK_INT_EQ(out_sink_open(&s, &cfg, err, sizeof(err)), -EEXIST);
	cfg.resume = true;
	CHECK_INT_EQ(out_sink_open(&s, &cfg, err, sizeof(err)), 0);
	CHECK_UINT_EQ(out_sink_recorded_count(s), 8);
	CHECK(out_sink_recorded(s, 0xc6120100u + 7, 143));
	CHECK(!out_sink_recorded(s, 0xc6120100u + 8, 143));
	CHECK(!out_sink_recorded(s, 0xc6120100u + 7, 110));
	/* the IPv6 record is keyed as one, and only as one */
	static const uint8_t six[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 6};
	static const uint8_t seven[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 7};
	CHECK(out_sink_recorded6(s, six, 143));
	CHECK(!out_sink_recorded6(s, six, 110));
	CHECK(!out_sink_recorded6(s, seven, 143));
	CHECK(!out_sink_recorded(s, 0xc6120100u + 6, 143));
	CHECK_INT_EQ(
	    faccessat(open(res, O_RDONLY | O_DIRECTORY), "shard-00002.ndjson.tmp", F_OK, 0), -1);
	out_sink_set_interrupted(s, SIGTERM);
	out_sink_set_counts(s, 100, 7); /* a census session's engine counters */
	put_records_from(s, 20, 1);
	CHECK_INT_EQ(out_sink_close(s, NULL, err, sizeof(err)), 0);
	manifest_facts(res, state, sizeof(state), &nfiles, &records);
	CHECK_STR_EQ(state, "interrupted");
	CHECK_INT_EQ(out_verify_dir(res, &complete, devnull), 0);
	CHECK(!complete);
	{ /* history: the killed session with its last manifest's figures, then this one */
		int dirfd = open(res, O_RDONLY | O_DIRECTORY);
		struct out_json_arena a = {0};
		struct out_json *m = NULL;
		CHECK_INT_EQ(out_json_load(dirfd, "manifest.json", &a, &m, err, sizeof(err)), 0);
		const struct out_json *h = out_json_get(m, "history"),
				      *t = out_json_get(m, "totals");
		CHECK(h != NULL && h->type == OUT_JSON_ARRAY && h->count == 2);
		if (h != NULL && h->count == 2) {
			const struct out_json *h0 = h->child, *h1 = h->child->next;
			CHECK_STR_EQ(out_json_str(out_json_get(h0, "state")), "killed");
			CHECK_UINT_EQ(out_json_u64(out_json_get(h0, "records"), 0), 8);
			CHECK(out_json_get(h0, "sent")->type == OUT_JSON_NULL); /* a grab session */
			CHECK(out_json_get(h0, "ended")->type == OUT_JSON_NULL);
			CHECK_STR_EQ(out_json_str(out_json_get(h1, "state")), "interrupted");
			CHECK_UINT_EQ(out_json_u64(out_json_get(h1, "records"), 0), 1);
			CHECK_UINT_EQ(out_json_u64(out_json_get(h1, "sent"), 0), 100);
			CHECK_UINT_EQ(out_json_u64(out_json_get(h1, "hits"), 0), 7);
			CHECK(out_json_str(out_json_get(h1, "ended")) != NULL);
		}
		CHECK_UINT_EQ(out_json_u64(out_json_get(t, "sessions"), 0), 2);
		CHECK_UINT_EQ(out_json_u64(out_json_get(t, "records"), 0), 9);
		CHECK_UINT_EQ(out_json_u64(out_json_get(t, "sent"), 0), 100);
		out_json_arena_free(&a);
		close(dirfd);
	}
	out_test_rmrf(dir);

	/* killed between a shard's rename and the manifest rewrite: adopted */
	CHECK_INT_EQ(out_test_tmpdir(dir, sizeof(dir)), 0);
	snprintf(res, sizeof(res), "%s/res", dir);
	cfg.resume = false;
	killed_run(&cfg, 8, true);
	snprintf(saved, sizeof(saved), "%s/first-manifest", dir);
	char man[PATH_MAX + 32];
	snprintf(man, sizeof(man), "%s/manifest.json", res);
	CHECK_INT_EQ(rename(saved, man), 0);
	manifest_facts(res, state, sizeof(state), &nfiles, &records);
	CHECK_UINT_EQ(nfiles, 1);
	CHECK_INT_EQ(out_verify_dir(res, &complete, devnull), 0); /* a note, not a problem */
	cfg.resume = true;
	CHECK_INT_EQ(out_sink_open(&s, &cfg, err, sizeof(err)), 0);
	CHECK_UINT_EQ(out_sink_recorded_count(s), 8);
	CHECK_INT_EQ(out_sink_close(s, NULL, err, sizeof(err)), 0);
	manifest_facts(res, state, sizeof(state), &nfiles, &records);
	CHECK_STR_EQ(state, "complete");
	CHECK_UINT_EQ(nfiles, 2);
	CHECK_UINT_EQ(records, 8);
	CHECK_INT_EQ(out_verify_dir(res, &complete, devnull), 0);
	CHECK(complete);
	out_test_rmrf(dir);
	fclose(devnull);
}

/* fuzz_resume: a manifest that lists a shard twice was taken over, the
 * shard kept twice (the next manifest listed it twice, its records counted
 * twice). Minimised input: a running run's manifest with its first
 * files[] entry repeated. */
static void test_resume_listed_twice(void)
{
	char dir[PATH_MAX], res[PATH_MAX + 8], man[PATH_MAX + 32], err[512];
	struct out_sink *s = NULL;
	static char text[1 << 16], out[1 << 16];

	CHECK_INT_EQ(out_test_tmpdir(dir, sizeof(dir)), 0);
	snprintf(res, sizeof(res), "%s/res", dir);
	snprintf(man, sizeof(man), "%s/manifest.json", res);
	struct out_sink_config cfg = {.dir = res, .no_enrich = true, .rotate_records = 4};
	killed_run(&cfg, 10, false);
	FILE *f = fopen(man, "r");
	size_t n = f ? fread(text, 1, sizeof(text) - 1, f) : 0;
	if (f)
		fclose(f);
	text[n] = '\0';
	char *first = strstr(text, "\"files\":[");
	char *end = first ? strchr(first, '}') : NULL;
	CHECK(first != NULL && end != NULL);
	if (first == NULL || end == NULL)
		return;
	first += 9; /* the first entry: first .. end */
	int len = snprintf(out, sizeof(out), "%.*s%.*s,%s", (int)(first - text), text,
			   (int)(end + 1 - first), first, first);
	f = fopen(man, "w");
	CHECK(f != NULL && fwrite(out, 1, (size_t)len, f) == (size_t)len);
	if (f)
		fclose(f);
	cfg.resume = true;
	CHECK_INT_EQ(out_sink_open(&s, &cfg, err, sizeof(err)), -EINVAL);
	CHECK(strstr(err, "shard-00000.ndjson is listed twice in the manifest") != NULL);
	out_test_rmrf(dir);
}

/* fuzz_resume: the sweep listed the directory through dup(dirfd), which
 * shares the descriptor's offset, so a second open on the same descriptor
 * adopted nothing and left the temporaries. Killed between a shard's
 * rename and the manifest rewrite, opened twice: the same shard adopted. */
static void test_resume_same_fd_twice(void)
{
	char dir[PATH_MAX], res[PATH_MAX + 8], saved[PATH_MAX + 32], man[PATH_MAX + 32], err[512];
	struct out_resume_dir rd;

	CHECK_INT_EQ(out_test_tmpdir(dir, sizeof(dir)), 0);
	snprintf(res, sizeof(res), "%s/res", dir);
	struct out_sink_config cfg = {.dir = res, .no_enrich = true, .rotate_records = 4};
	killed_run(&cfg, 8, true);
	snprintf(saved, sizeof(saved), "%s/first-manifest", dir);
	snprintf(man, sizeof(man), "%s/manifest.json", res);
	CHECK_INT_EQ(rename(saved, man), 0);
	int fd = open(res, O_RDONLY | O_DIRECTORY);
	for (int pass = 0; pass < 2; pass++) {
		CHECK_INT_EQ(out_resume_dir_open(&rd, fd, false, err, sizeof(err)), 0);
		CHECK_UINT_EQ(rd.adopted, 1);
		CHECK_UINT_EQ(rd.ninfos, 2);
		CHECK_UINT_EQ(rd.nkeys, 8);
		out_resume_dir_free(&rd);
	}
	close(fd);
	out_test_rmrf(dir);
}

/* fuzz_resume: a manifest listing shard-4294967295 made next_index wrap to
 * 0, so the resumed run would have sealed over shard-00000. Minimised
 * input: a running run's first shard renamed to that index. */
static void test_resume_index_max(void)
{
	char dir[PATH_MAX], res[PATH_MAX + 8], man[PATH_MAX + 32], a[PATH_MAX + 32],
	    b[PATH_MAX + 40], err[512];
	struct out_sink *s = NULL;
	static char text[1 << 16], out[1 << 16];

	CHECK_INT_EQ(out_test_tmpdir(dir, sizeof(dir)), 0);
	snprintf(res, sizeof(res), "%s/res", dir);
	snprintf(man, sizeof(man), "%s/manifest.json", res);
	struct out_sink_config cfg = {.dir = res, .no_enrich = true, .rotate_records = 4};
	killed_run(&cfg, 6, false); /* one sealed shard listed, two records in a temporary */
	snprintf(a, sizeof(a), "%s/shard-00000.ndjson", res);
	snprintf(b, sizeof(b), "%s/shard-4294967295.ndjson", res);
	CHECK_INT_EQ(rename(a, b), 0);
	FILE *f = fopen(man, "r");
	size_t n = f ? fread(text, 1, sizeof(text) - 1, f) : 0;
	if (f)
		fclose(f);
	text[n] = '\0';
	char *at = strstr(text, "shard-00000.ndjson");
	CHECK(at != NULL);
	if (at == NULL)
		return;
	int len = snprintf(out, sizeof(out), "%.*sshard-4294967295.ndjson%s", (int)(at - text),
			   text, at + strlen("shard-00000.ndjson"));
	f = fopen(man, "w");
	CHECK(f != NULL && fwrite(out, 1, (size_t)len, f) == (size_t)len);
	if (f)
		fclose(f);
	cfg.resume = true;
	CHECK_INT_EQ(out_sink_open(&s, &cfg, err, sizeof(err)), -EINVAL);
	CHECK(strstr(err, "shard-4294967295.ndjson: no shard can follow it") != NULL);
	out_test_rmrf(dir);
}

/* The seal timer: a record reaches a sealed, listed shard within seal_every
 * seconds even when no other record follows. */
static void test_seal_timer(void)
{
	char dir[PATH_MAX], res[PATH_MAX + 8], err[512], state[32];
	struct out_sink *s = NULL;
	size_t nfiles;
	uint64_t records;

	CHECK_INT_EQ(out_test_tmpdir(dir, sizeof(dir)), 0);
	snprintf(res, sizeof(res), "%s/res", dir);
	char *words[] = {"-o", "res", "targets"};
	struct out_meta meta = {.command = "grab",
				.cwd = "/work",
				.argc = 3,
				.argv = words,
				.targets_path = "/work/targets",
				.targets_sha256 = "ab12"};
	struct out_sink_config cfg = {
	    .dir = res, .no_enrich = true, .seal_every_s = 1, .meta = &meta};
	CHECK_INT_EQ(out_sink_open(&s, &cfg, err, sizeof(err)), 0);
	manifest_facts(res, state, sizeof(state), &nfiles, &records); /* written at open */
	CHECK_STR_EQ(state, "running");
	CHECK_UINT_EQ(nfiles, 0);
	/* ... with what resume needs, from the first manifest on */
	struct out_resume r;
	CHECK_INT_EQ(out_resume_load(res, &r, err, sizeof(err)), 0);
	CHECK_INT_EQ(r.state, OUT_RUN_RUNNING);
	CHECK_STR_EQ(r.command, "grab");
	CHECK_STR_EQ(r.cwd, "/work");
	CHECK_INT_EQ(r.argc, 3);
	CHECK_STR_EQ(r.argv[2], "targets");
	CHECK_STR_EQ(r.targets_sha256, "ab12");
	out_resume_free(&r);
	put_records(s, 3);
	usleep(2500 * 1000);
	manifest_facts(res, state, sizeof(state), &nfiles, &records);
	CHECK_UINT_EQ(nfiles, 1);
	CHECK_UINT_EQ(records, 3);
	CHECK_INT_EQ(out_sink_close(s, NULL, err, sizeof(err)), 0);
	out_test_rmrf(dir);
}

static int64_t mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* 400 records, one a millisecond, 50 to a shard, on a disk whose fsync
 * takes 10 ms (a seal: about four of them); the longest out_sink_put() in microseconds. */
static int64_t paced_run(const char *res, bool seal_inline)
{
	struct out_sink_config cfg = {
	    .dir = res, .no_enrich = true, .rotate_records = 50, .seal_inline = seal_inline};
	struct out_sink *s = NULL;
	struct mc_record r;
	char err[512];
	int64_t worst = 0, start;

	CHECK_INT_EQ(out_sink_open(&s, &cfg, err, sizeof(err)), 0);
	if (s == NULL)
		return -1;
	memset(&r, 0, sizeof(r));
	r.port = 143;
	r.proto = MC_PROTO_IMAP;
	start = mono_us();
	for (int i = 0; i < 400; i++) {
		int64_t due = start + i * 1000, now = mono_us();
		if (due > now)
			usleep((useconds_t)(due - now));
		r.ip = 0xc6120000u + (uint32_t)i;
		int64_t t0 = mono_us();
		CHECK_INT_EQ(out_sink_put(s, &r), 0);
		if (mono_us() - t0 > worst)
			worst = mono_us() - t0;
	}
	CHECK_INT_EQ(out_sink_close(s, NULL, err, sizeof(err)), 0);
	return worst;
}

/* Every record, once, in put order across the shards. */
static void check_order(const char *res, int n)
{
	int dirfd = open(res, O_RDONLY | O_DIRECTORY), next = 0;
	char name[OUT_SHARD_NAME_MAX], err[256], want[40];

	for (uint32_t i = 0; next < n && i < 64; i++) {
		struct out_shard_reader *rd = NULL;
		char *line;
		size_t len;

		out_shard_name(name, sizeof(name), i, false);
		CHECK_INT_EQ(out_shard_reader_open(&rd, dirfd, name, err, sizeof(err)), 0);
		if (rd == NULL)
			break;
		while (out_shard_reader_next(rd, &line, &len, err, sizeof(err)) == 1) {
			snprintf(want, sizeof(want), "\"ip\":\"198.18.%d.%d\"", next >> 8,
				 next & 255);
			CHECK(strstr(line, want) != NULL);
			next++;
		}
		out_shard_reader_close(rd);
	}
	CHECK_INT_EQ(next, n);
	close(dirfd);
}

/* Sealing (three fsyncs and a manifest rewrite a shard) happens off the
 * caller's thread: with a 10 ms fsync, the old inline seal blocks a put for
 * 30 ms and more, the sealer thread not at all. Both directories verify and
 * hold every record in order. */
static void test_seal_off_loop(void)
{
	char dir[PATH_MAX], res[2][PATH_MAX + 8];
	int64_t worst[2];
	bool complete = false;
	FILE *devnull = fopen("/dev/null", "w");

	CHECK_INT_EQ(out_test_tmpdir(dir, sizeof(dir)), 0);
	atomic_store(&fsync_delay_ms, 10);
	for (int k = 0; k < 2; k++) {
		snprintf(res[k], sizeof(res[k]), "%s/%s", dir, k == 0 ? "inline" : "sealer");
		worst[k] = paced_run(res[k], k == 0);
	}
	atomic_store(&fsync_delay_ms, 0);
	fprintf(stderr, "longest put while sealing (fsync 10 ms): inline %.1f ms, sealer %.3f ms\n",
		worst[0] / 1e3, worst[1] / 1e3);
	CHECK(worst[0] >= 30000); /* the comparison measures what it should */
	CHECK(worst[1] < 10000);  /* no fsync on the put path */
	for (int k = 0; k < 2; k++) {
		CHECK_INT_EQ(out_verify_dir(res[k], &complete, devnull), 0);
		CHECK(complete);
		check_order(res[k], 400);
	}
	fclose(devnull);
	out_test_rmrf(dir);
}

int main(void)
{
	RUN(test_json_reader);
	RUN(test_round_trip);
	RUN(test_sink_dir);
	RUN(test_resume_dir);
	RUN(test_resume_listed_twice);
	RUN(test_resume_index_max);
	RUN(test_resume_same_fd_twice);
	RUN(test_seal_timer);
	RUN(test_seal_off_loop);
	return test_summary();
}
