/* test_checkpoint.c — the TX checkpoint (engine/checkpoint.h): the file
 * round-trips, the parser refuses every damaged or foreign shape, a
 * checkpoint of another scan is refused naming what differs, and the
 * tracker lets a position through only after the reply window and once
 * the consumer stored the hits validated by then. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "engine/checkpoint.h"
#include "engine/cyclic.h"
#include "tests/unit/test.h"

static struct engine_ckpt sample_ckpt(void)
{
	struct engine_ckpt c = {.seed = 42,
				.shard = 1,
				.shards = 3,
				.queues = 2,
				.pairs = 1024,
				.max_targets = 0,
				.written_ns = 1764700000123456789ull};
	c.q[0] = (struct engine_ckpt_queue){.left = 100, .taken = 70};
	c.q[1] = (struct engine_ckpt_queue){.left = 0, .taken = 171};
	return c;
}

static void test_round_trip(void)
{
	struct engine_ckpt c = sample_ckpt(), d;
	char buf[ENGINE_CKPT_MAX], err[160];
	size_t n = engine_ckpt_format(&c, buf, sizeof(buf));

	CHECK(n > 0);
	CHECK_INT_EQ(engine_ckpt_parse(buf, n, &d, err, sizeof(err)), 0);
	CHECK(memcmp(&c, &d, sizeof(c)) == 0);
	CHECK_INT_EQ(engine_ckpt_format(&c, buf, 40), 0); /* too small: no partial text */
	c.queues = ENGINE_MAX_TX_QUEUES;
	for (int q = 0; q < ENGINE_MAX_TX_QUEUES; q++)
		c.q[q] = (struct engine_ckpt_queue){UINT64_MAX, UINT64_MAX};
	c.seed = UINT64_MAX;
	n = engine_ckpt_format(&c, buf, sizeof(buf));
	CHECK(n > 0 && n < 1200); /* the worst case is far below the bound */
	CHECK_INT_EQ(engine_ckpt_parse(buf, n, &d, err, sizeof(err)), 0);
	CHECK(memcmp(&c, &d, sizeof(c)) == 0);
}

/* Replace the first `from` by `to` in a good file and re-sum it. */
static int parse_edited(const char *from, const char *to, bool resum)
{
	struct engine_ckpt c = sample_ckpt(), d;
	char buf[ENGINE_CKPT_MAX], out[ENGINE_CKPT_MAX], err[160];
	size_t n = engine_ckpt_format(&c, buf, sizeof(buf));
	char *at = strstr(buf, from);
	size_t o;

	if (at == NULL)
		return 99;
	o = (size_t)snprintf(out, sizeof(out), "%.*s%s%s", (int)(at - buf), buf, to,
			     at + strlen(from));
	if (resum) { /* a fresh sum over the edited body */
		char *sum = strstr(out, "sum ");
		uint32_t h = 2166136261u;
		if (sum == NULL)
			return 98;
		for (char *p = out; p < sum; p++)
			h = (h ^ (uint8_t)*p) * 16777619u;
		o = (size_t)(sum - out) + (size_t)snprintf(sum, 14, "sum %08x\n", h);
	}
	(void)n;
	return engine_ckpt_parse(out, o, &d, err, sizeof(err));
}

static void test_refusals(void)
{
	CHECK_INT_EQ(parse_edited("seed 42", "seed 43", false), -EBADMSG);
	CHECK_INT_EQ(parse_edited("seed 42", "seed 43", true), 0);
	CHECK_INT_EQ(parse_edited("seed 42", "seed 042", true), -EINVAL);
	CHECK_INT_EQ(parse_edited("seed 42", "seed +42", true), -EINVAL);
	CHECK_INT_EQ(parse_edited("seed 42", "seed 18446744073709551616", true), -EINVAL);
	CHECK_INT_EQ(parse_edited("seed 42", "seed 42 ", true), -EINVAL);
	CHECK_INT_EQ(parse_edited("checkpoint 1", "checkpoint 2", true), -EINVAL);
	CHECK_INT_EQ(parse_edited("shard 1 3", "shard 3 3", true), -EINVAL);
	CHECK_INT_EQ(parse_edited("shard 1 3", "shard 0 0", true), -EINVAL);
	CHECK_INT_EQ(parse_edited("queues 2", "queues 17", true), -EINVAL);
	CHECK_INT_EQ(parse_edited("queues 2", "queues 3", true), -EINVAL); /* a q line short */
	CHECK_INT_EQ(parse_edited("queues 2", "queues 1", true), -EINVAL); /* one q line extra */
	CHECK_INT_EQ(parse_edited("q 1 0", "q 0 0", true), -EINVAL);	   /* out of order */
	CHECK_INT_EQ(parse_edited("pairs 1024", "pairs 0", true), -EINVAL);
	CHECK_INT_EQ(parse_edited("pairs 1024\n", "pairs 1024\nextra 1\n", true), -EINVAL);
	CHECK_INT_EQ(parse_edited("max_targets 0\n", "", true), -EINVAL);
	{ /* bytes after the sum; a missing final newline */
		struct engine_ckpt c = sample_ckpt(), d;
		char buf[ENGINE_CKPT_MAX], err[160];
		size_t n = engine_ckpt_format(&c, buf, sizeof(buf));
		buf[n] = 'x';
		CHECK_INT_EQ(engine_ckpt_parse(buf, n + 1, &d, err, sizeof(err)), -EINVAL);
		CHECK_INT_EQ(engine_ckpt_parse(buf, n - 1, &d, err, sizeof(err)), -EINVAL);
		CHECK_INT_EQ(engine_ckpt_parse(buf, 0, &d, err, sizeof(err)), -EINVAL);
		CHECK(strstr(err, "cut short") != NULL);
	}
}

static void test_check_against_config(void)
{
	struct engine_config cfg = {.seed = 42, .shard = 1, .shards = 3, .tx_queues = 2};
	struct engine_ckpt c;
	struct cyclic_group g;
	char err[200] = "";

	engine_ckpt_init(&c, &cfg, 1024);
	CHECK_INT_EQ(cyclic_group_init(&g, 1024, 42), 0);
	c.q[0].left = cyclic_part_positions(&g, 2, 6);
	c.q[1].left = 0;
	c.q[1].taken = 170;
	CHECK_INT_EQ(engine_ckpt_check(&c, &cfg, 1024, err, sizeof(err)), 0);
	CHECK_INT_EQ(engine_ckpt_check(&c, &cfg, 1028, err, sizeof(err)), -EINVAL);
	CHECK(strstr(err, "target space") != NULL);
	cfg.tx_queues = 1;
	CHECK_INT_EQ(engine_ckpt_check(&c, &cfg, 1024, err, sizeof(err)), -EINVAL);
	CHECK(strstr(err, "--tx-queues") != NULL);
	cfg.tx_queues = 2;
	cfg.seed = 7;
	CHECK_INT_EQ(engine_ckpt_check(&c, &cfg, 1024, err, sizeof(err)), -EINVAL);
	CHECK(strstr(err, "seed") != NULL);
	cfg.seed = 42;
	c.q[0].left++; /* beyond the part */
	CHECK_INT_EQ(engine_ckpt_check(&c, &cfg, 1024, err, sizeof(err)), -EINVAL);
	c.q[0].left--;
	cfg.max_targets = 100;
	c.max_targets = 100;
	CHECK_INT_EQ(engine_ckpt_check(&c, &cfg, 1024, err, sizeof(err)), -EINVAL); /* 170 > 50 */
	CHECK_UINT_EQ(engine_ckpt_taken(&c), 170);
}

static void test_write_load(void)
{
	char dir[] = "/tmp/test_checkpoint.XXXXXX", path[64], err[200];
	struct engine_ckpt c = sample_ckpt(), d;
	int dirfd;

	CHECK(mkdtemp(dir) != NULL);
	dirfd = open(dir, O_RDONLY | O_DIRECTORY);
	CHECK_INT_EQ(engine_ckpt_load(dirfd, &d, err, sizeof(err)), -ENOENT);
	CHECK_INT_EQ(engine_ckpt_write(dirfd, &c, err, sizeof(err)), 0);
	CHECK_INT_EQ(engine_ckpt_load(dirfd, &d, err, sizeof(err)), 0);
	CHECK(memcmp(&c, &d, sizeof(c)) == 0);
	/* a symlink is refused, not followed */
	snprintf(path, sizeof(path), "%s/%s", dir, ENGINE_CKPT_NAME);
	unlink(path);
	CHECK_INT_EQ(symlinkat("/dev/zero", dirfd, ENGINE_CKPT_NAME), 0);
	CHECK(engine_ckpt_load(dirfd, &d, err, sizeof(err)) < 0);
	unlink(path);
	close(dirfd);
	rmdir(dir);
}

static void test_tracker(void)
{
	static struct engine_ckpt_tracker t;
	struct engine_ckpt_queue q[1];
	const uint64_t s = 1000000000u;

	engine_ckpt_tracker_init(&t, 1, 3 * s); /* a 3 s reply window */
	CHECK_UINT_EQ(t.every_ns, 100000000u);
	for (uint64_t i = 0; i < 10; i++) { /* positions 1000 - 10 i at i seconds */
		q[0] = (struct engine_ckpt_queue){.left = 1000 - 10 * i, .taken = 10 * i};
		engine_ckpt_tracker_sample(&t, i * s, q);
	}
	CHECK_UINT_EQ(t.len, 10);
	/* at 2.9 s no window has passed */
	CHECK(!engine_ckpt_tracker_advance(&t, 2 * s + 9 * s / 10, 5, 0, 100));
	CHECK(!t.have_best);
	/* at 4 s samples 0 and 1 are marked with 7 hits validated; 6 stored: none */
	CHECK(!engine_ckpt_tracker_advance(&t, 4 * s, 7, 0, 6));
	/* more hits validated since do not raise the marks' need (7) */
	CHECK(!engine_ckpt_tracker_advance(&t, 4 * s, 9, 0, 6));
	CHECK(engine_ckpt_tracker_advance(&t, 4 * s, 9, 0, 7));
	CHECK_UINT_EQ(t.best[0].left, 990); /* sample 1 (1 s), the newest eligible */
	CHECK_UINT_EQ(t.len, 8);
	/* at 6 s: samples 2 and 3 marked with 20; stored 20 - 2 drops */
	CHECK(engine_ckpt_tracker_advance(&t, 6 * s, 20, 2, 18));
	CHECK_UINT_EQ(t.best[0].left, 970);
	CHECK_UINT_EQ(t.best_t_ns, 3 * s);
	/* a sample offered too soon is not taken; a full FIFO drops the new one */
	engine_ckpt_tracker_sample(&t, 9 * s + 1, q);
	CHECK_UINT_EQ(t.len, 6);
	for (uint64_t i = 0; t.len < ENGINE_CKPT_SAMPLES; i++)
		engine_ckpt_tracker_sample(&t, 10 * s + i * s, q);
	q[0].left = 1;
	engine_ckpt_tracker_sample(&t, 100000 * s, q);
	CHECK_UINT_EQ(t.len, ENGINE_CKPT_SAMPLES);
	CHECK(engine_ckpt_tracker_advance(&t, 200000 * s, 100, 0, 100));
	CHECK_UINT_EQ(t.len, 0);
	CHECK_UINT_EQ(t.best[0].left, 910); /* the last one taken, not the dropped 1 */
}

int main(void)
{
	RUN(test_round_trip);
	RUN(test_refusals);
	RUN(test_check_against_config);
	RUN(test_write_load);
	RUN(test_tracker);
	return test_summary();
}
