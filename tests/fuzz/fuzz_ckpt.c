/* fuzz_ckpt.c — the engine's TX checkpoint file (engine/checkpoint.c), read
 * back by every census resume from the results directory.
 *
 * Byte 0: bit 0 the file is made by engine_ckpt_format() from a checkpoint
 * built of the input's bytes, then one byte (at a fuzz-chosen offset, to a
 * fuzz-chosen value) may be changed; otherwise the input bytes are the
 * file.
 *
 * Invariants: the parser never reads outside the file (ASan); what it
 * accepts is within the documented bounds (1..16 queues, shard < shards,
 * 0 < pairs < 2^48) and is canonical: engine_ckpt_format() of the parsed
 * checkpoint gives back exactly the accepted bytes (so no second spelling
 * of a number, no extra space or line is ever accepted, and a file whose
 * checksum does not cover its bytes never is); a formatted checkpoint
 * parses back to itself; a formatted one with one byte changed is refused
 * (the checksum or the shape); engine_ckpt_check() against a
 * configuration built of the same bytes decides without crashing, and
 * accepts the checkpoint of its own configuration. */
#include <errno.h>

#include "engine/checkpoint.h"
#include "tests/fuzz/fuzz_util.h"

static void checked(const char *buf, size_t n)
{
	struct engine_ckpt c;
	char err[256], again[ENGINE_CKPT_MAX];
	int rc = engine_ckpt_parse(buf, n, &c, err, sizeof(err));
	size_t m;

	FUZZ_CHECK(rc == 0 || rc == -EINVAL || rc == -EBADMSG, "rc %d", rc);
	if (rc != 0)
		return;
	FUZZ_CHECK(c.queues >= 1 && c.queues <= ENGINE_MAX_TX_QUEUES, "queues %u", c.queues);
	FUZZ_CHECK(c.shards >= 1 && c.shard < c.shards, "shard %u of %u", c.shard, c.shards);
	FUZZ_CHECK(c.pairs >= 1 && c.pairs < (UINT64_C(1) << 48), "pairs");
	m = engine_ckpt_format(&c, again, sizeof(again));
	FUZZ_CHECK(m == n && memcmp(again, buf, n) == 0,
		   "accepted bytes are not canonical (%zu/%zu)", m, n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = {data, size};
	uint8_t mode = fuzz_u8(&in);
	char buf[ENGINE_CKPT_MAX], err[256];
	const uint8_t *rest;
	size_t n;

	if (!(mode & 1)) {
		n = fuzz_take(&in, sizeof(buf), &rest);
		memcpy(buf, rest, n);
		checked(buf, n);
		return 0;
	}
	/* a checkpoint of a small scan made of the input's bytes */
	struct engine_config cfg = {.seed = fuzz_u32(&in),
				    .shards = 1 + fuzz_u8(&in) % 4,
				    .tx_queues = 1 + fuzz_u8(&in) % ENGINE_MAX_TX_QUEUES,
				    .max_targets = fuzz_u8(&in)};
	uint64_t pairs = 1 + fuzz_u16(&in);
	struct engine_ckpt c, d;
	uint16_t at = fuzz_u16(&in);
	uint8_t to = fuzz_u8(&in);

	cfg.shard = fuzz_u8(&in) % cfg.shards;
	engine_ckpt_init(&c, &cfg, pairs);
	FUZZ_CHECK(engine_ckpt_check(&c, &cfg, pairs, err, sizeof(err)) == 0,
		   "its own configuration's checkpoint refused: %s", err);
	for (uint32_t q = 0; q < c.queues; q++) {
		c.q[q].left = fuzz_u16(&in);
		c.q[q].taken = fuzz_u16(&in);
	}
	c.written_ns = (uint64_t)fuzz_u32(&in) << 30;
	n = engine_ckpt_format(&c, buf, sizeof(buf));
	FUZZ_CHECK(n > 0, "format");
	FUZZ_CHECK(engine_ckpt_parse(buf, n, &d, err, sizeof(err)) == 0 &&
		       memcmp(&c, &d, sizeof(c)) == 0,
		   "a formatted checkpoint does not read back: %s", err);
	(void)engine_ckpt_check(&d, &cfg, pairs, err, sizeof(err)); /* decides, never crashes */
	if (mode & 2) {
		char was = buf[at % n];
		buf[at % n] = (char)to;
		if (buf[at % n] != was)
			FUZZ_CHECK(engine_ckpt_parse(buf, n, &d, err, sizeof(err)) != 0,
				   "one byte changed at %u (%02x -> %02x) was accepted",
				   at % (unsigned)n, (uint8_t)was, to);
	}
	checked(buf, n);
	return 0;
}
