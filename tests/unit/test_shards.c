/* test_shards.c — the JSON reader, encode/decode round trips, and the sink's results
 * directory (rotation, manifest, compressed shards, refusing a used directory). */
#include <errno.h>
#include <fcntl.h>

#include "tests/unit/test.h"
#include "output/json.h"
#include "output/shard.h"
#include "output/sink.h"
#include "output/verify.h"
#include "out_test_util.h"

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

static void put_records(struct out_sink *s, int n)
{
	struct mc_record r;

	for (int i = 0; i < n; i++) {
		memset(&r, 0, sizeof(r));
		r.ip = 0xc6120100u + (uint32_t)i;
		r.port = 143;
		r.proto = MC_PROTO_IMAP;
		CHECK_INT_EQ(out_sink_put(s, &r), 0);
	}
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
	CHECK_INT_EQ(out_verify_dir(res, devnull), 0);

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

	/* a directory that holds a run is refused */
	CHECK_INT_EQ(out_sink_open(&s, &cfg, err, sizeof(err)), -EEXIST);

	/* compressed, with the engine's object kept verbatim */
	snprintf(res, sizeof(res), "%s/zst", dir);
	cfg.compress = true;
	CHECK_INT_EQ(out_sink_open(&s, &cfg, err, sizeof(err)), 0);
	put_records(s, 5);
	meta.engine_json = "{\"rate\":1000}";
	CHECK_INT_EQ(out_sink_close(s, &meta, err, sizeof(err)), 0);
	CHECK_INT_EQ(out_verify_dir(res, devnull), 0);
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

int main(void)
{
	RUN(test_json_reader);
	RUN(test_round_trip);
	RUN(test_sink_dir);
	return test_summary();
}
