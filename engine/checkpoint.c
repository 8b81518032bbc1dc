/* checkpoint.c — the TX queues' positions on disk, and when they may be
 * written (checkpoint.h).
 *
 * The file:
 *
 *     mailcensus-checkpoint 1
 *     seed 42
 *     shard 0 1
 *     queues 2
 *     pairs 1024
 *     max_targets 0
 *     written 1764700000123456789
 *     q 0 400 120
 *     q 1 401 121
 *     sum 9a3c01fe
 *
 * one "q INDEX LEFT TAKEN" line per queue in order, and "sum" the FNV-1a
 * (32 bits, lowercase hex) of every byte before it. The parser is a state
 * machine over lines that expects exactly this order: every number is
 * decimal without sign or leading zero, at most 20 digits, checked for
 * overflow; a line is at most 127 bytes; nothing may follow the sum line.
 * Anything else is refused, so a damaged checkpoint is an error, never a
 * wrong position. */
#include "engine/checkpoint.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/fileio.h"
#include "engine/cyclic.h"

#define CKPT_MAGIC    "mailcensus-checkpoint"
#define CKPT_LINE_MAX 128

static uint32_t fnv1a(const char *p, size_t n)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < n; i++)
		h = (h ^ (uint8_t)p[i]) * 16777619u;
	return h;
}

size_t engine_ckpt_format(const struct engine_ckpt *c, char *buf, size_t cap)
{
	size_t o = 0;
	int n;

	if (c->queues == 0 || c->queues > ENGINE_MAX_TX_QUEUES)
		return 0;
	n = snprintf(buf, cap,
		     "%s %d\nseed %llu\nshard %u %u\nqueues %u\npairs %llu\nmax_targets %llu\n"
		     "written %llu\n",
		     CKPT_MAGIC, ENGINE_CKPT_VERSION, (unsigned long long)c->seed, c->shard,
		     c->shards, c->queues, (unsigned long long)c->pairs,
		     (unsigned long long)c->max_targets, (unsigned long long)c->written_ns);
	if (n < 0 || (size_t)n >= cap)
		return 0;
	o = (size_t)n;
	for (uint32_t q = 0; q < c->queues; q++) {
		n = snprintf(buf + o, cap - o, "q %u %llu %llu\n", q,
			     (unsigned long long)c->q[q].left, (unsigned long long)c->q[q].taken);
		if (n < 0 || (size_t)n >= cap - o)
			return 0;
		o += (size_t)n;
	}
	n = snprintf(buf + o, cap - o, "sum %08x\n", fnv1a(buf, o));
	if (n < 0 || (size_t)n >= cap - o)
		return 0;
	return o + (size_t)n;
}

/* ---- parser ---------------------------------------------------------------- */

enum ckpt_state {
	CKPT_MAGIC_LINE,
	CKPT_SEED,
	CKPT_SHARD,
	CKPT_QUEUES,
	CKPT_PAIRS,
	CKPT_MAX_TARGETS,
	CKPT_WRITTEN,
	CKPT_QUEUE,
	CKPT_SUM,
	CKPT_END,
};

static const char *const ckpt_state_names[] = {
    [CKPT_MAGIC_LINE] = "header", [CKPT_SEED] = "seed",	  [CKPT_SHARD] = "shard",
    [CKPT_QUEUES] = "queues",	  [CKPT_PAIRS] = "pairs", [CKPT_MAX_TARGETS] = "max_targets",
    [CKPT_WRITTEN] = "written",	  [CKPT_QUEUE] = "q",	  [CKPT_SUM] = "sum",
    [CKPT_END] = "end",
};

struct ckpt_parser {
	enum ckpt_state state;
	uint32_t next_queue;
	struct engine_ckpt *c;
};

static void enter_state(struct ckpt_parser *p, enum ckpt_state st)
{
	p->state = st;
}

/* One unsigned decimal field at *s (no sign, no leading zero, <= 20
 * digits, no overflow), followed by ' ' or the end of the line. */
static bool take_u64(const char **s, const char *end, uint64_t *out)
{
	const char *p = *s;
	uint64_t v = 0;
	size_t digits = 0;

	while (p < end && *p >= '0' && *p <= '9') {
		unsigned d = (unsigned)(*p - '0');
		if (digits == 20 || v > (UINT64_MAX - d) / 10)
			return false;
		if (digits == 1 && v == 0)
			return false; /* a leading zero */
		v = v * 10 + d;
		digits++;
		p++;
	}
	if (digits == 0 || (p < end && *p != ' '))
		return false;
	if (p < end)
		p++;
	*s = p;
	*out = v;
	return true;
}

/* The line's keyword, then exactly n numbers. */
static bool fields(const char *line, const char *end, const char *key, uint64_t *v, int n)
{
	size_t k = strlen(key);

	if ((size_t)(end - line) <= k || memcmp(line, key, k) != 0 || line[k] != ' ')
		return false;
	line += k + 1;
	for (int i = 0; i < n; i++)
		if (!take_u64(&line, end, &v[i]) || (i < n - 1 && line >= end))
			return false;
	return line == end && end[-1] != ' ';
}

static bool u32_ok(uint64_t v)
{
	return v <= UINT32_MAX;
}

/* One line [line, end) (without its newline) in the current state. */
static int parse_line(struct ckpt_parser *p, const char *line, const char *end, uint32_t sum)
{
	struct engine_ckpt *c = p->c;
	uint64_t v[3];

	switch (p->state) {
	case CKPT_MAGIC_LINE:
		if (!fields(line, end, CKPT_MAGIC, v, 1) || v[0] != ENGINE_CKPT_VERSION)
			return -EINVAL;
		enter_state(p, CKPT_SEED);
		return 0;
	case CKPT_SEED:
		if (!fields(line, end, "seed", &c->seed, 1))
			return -EINVAL;
		enter_state(p, CKPT_SHARD);
		return 0;
	case CKPT_SHARD:
		if (!fields(line, end, "shard", v, 2) || !u32_ok(v[1]) || v[1] == 0 || v[0] >= v[1])
			return -EINVAL;
		c->shard = (uint32_t)v[0];
		c->shards = (uint32_t)v[1];
		enter_state(p, CKPT_QUEUES);
		return 0;
	case CKPT_QUEUES:
		if (!fields(line, end, "queues", v, 1) || v[0] == 0 || v[0] > ENGINE_MAX_TX_QUEUES)
			return -EINVAL;
		c->queues = (uint32_t)v[0];
		enter_state(p, CKPT_PAIRS);
		return 0;
	case CKPT_PAIRS:
		if (!fields(line, end, "pairs", &c->pairs, 1) || c->pairs == 0 ||
		    c->pairs >= CYCLIC_MAX_N)
			return -EINVAL;
		enter_state(p, CKPT_MAX_TARGETS);
		return 0;
	case CKPT_MAX_TARGETS:
		if (!fields(line, end, "max_targets", &c->max_targets, 1))
			return -EINVAL;
		enter_state(p, CKPT_WRITTEN);
		return 0;
	case CKPT_WRITTEN:
		if (!fields(line, end, "written", &c->written_ns, 1))
			return -EINVAL;
		enter_state(p, CKPT_QUEUE);
		return 0;
	case CKPT_QUEUE:
		if (!fields(line, end, "q", v, 3) || v[0] != p->next_queue)
			return -EINVAL;
		c->q[p->next_queue].left = v[1];
		c->q[p->next_queue].taken = v[2];
		if (++p->next_queue == c->queues)
			enter_state(p, CKPT_SUM);
		return 0;
	case CKPT_SUM: {
		uint32_t got = 0;
		if ((size_t)(end - line) != 12 || memcmp(line, "sum ", 4) != 0)
			return -EINVAL;
		for (int i = 4; i < 12; i++) {
			char h = line[i];
			if (!((h >= '0' && h <= '9') || (h >= 'a' && h <= 'f')))
				return -EINVAL;
			got = got << 4 | (uint32_t)(h <= '9' ? h - '0' : h - 'a' + 10);
		}
		if (got != sum)
			return -EBADMSG;
		enter_state(p, CKPT_END);
		return 0;
	}
	case CKPT_END:
		break;
	}
	return -EINVAL;
}

int engine_ckpt_parse(const char *buf, size_t len, struct engine_ckpt *c, char *err, size_t errlen)
{
	struct ckpt_parser p = {.state = CKPT_MAGIC_LINE, .c = c};
	size_t off = 0;
	unsigned lineno = 0;

	memset(c, 0, sizeof(*c));
	while (off < len && p.state != CKPT_END) {
		const char *line = buf + off, *nl = memchr(line, '\n', len - off);
		int rc;

		lineno++;
		if (nl == NULL || nl - line >= CKPT_LINE_MAX ||
		    memchr(line, '\0', (size_t)(nl - line))) {
			snprintf(err, errlen, "%s: line %u: %s", ENGINE_CKPT_NAME, lineno,
				 nl == NULL ? "no newline" : "too long or a NUL byte");
			return -EINVAL;
		}
		rc = parse_line(&p, line, nl, fnv1a(buf, off));
		if (rc != 0) {
			snprintf(err, errlen, "%s: line %u: %s", ENGINE_CKPT_NAME, lineno,
				 rc == -EBADMSG ? "checksum mismatch (damaged)"
						: ckpt_state_names[p.state]);
			if (rc == -EINVAL)
				snprintf(err + strlen(err), errlen - strlen(err), " line expected");
			memset(c, 0, sizeof(*c));
			return rc;
		}
		off = (size_t)(nl - buf) + 1;
	}
	if (p.state != CKPT_END || off != len) {
		snprintf(err, errlen, "%s: %s", ENGINE_CKPT_NAME,
			 p.state != CKPT_END ? "cut short" : "bytes after the sum line");
		memset(c, 0, sizeof(*c));
		return -EINVAL;
	}
	return 0;
}

int engine_ckpt_load(int dirfd, struct engine_ckpt *c, char *err, size_t errlen)
{
	char *text = NULL;
	size_t len = 0;
	int rc = mc_file_read(dirfd, ENGINE_CKPT_NAME, ENGINE_CKPT_MAX, &text, &len);

	if (rc == -ENOENT)
		return rc;
	if (rc != 0) {
		snprintf(err, errlen, "%s: %s", ENGINE_CKPT_NAME,
			 rc == -EFBIG			 ? "larger than a checkpoint can be"
			 : rc == -EINVAL || rc == -ELOOP ? "not a regular file"
							 : strerror(-rc));
		return rc;
	}
	rc = engine_ckpt_parse(text, len, c, err, errlen);
	free(text);
	return rc;
}

int engine_ckpt_write(int dirfd, const struct engine_ckpt *c, char *err, size_t errlen)
{
	char buf[ENGINE_CKPT_MAX];
	size_t n = engine_ckpt_format(c, buf, sizeof(buf));

	if (n == 0) {
		snprintf(err, errlen, "%s: cannot format", ENGINE_CKPT_NAME);
		return -EINVAL;
	}
	return mc_file_write_atomic(dirfd, ENGINE_CKPT_NAME, buf, n, err, errlen);
}

/* ---- against a configuration ---------------------------------------------- */

static uint64_t queue_limit(const struct engine_config *cfg, uint32_t q)
{
	if (cfg->max_targets == 0)
		return UINT64_MAX;
	return cfg->max_targets / cfg->tx_queues + (q < cfg->max_targets % cfg->tx_queues ? 1 : 0);
}

void engine_ckpt_init(struct engine_ckpt *c, const struct engine_config *cfg, uint64_t pairs)
{
	memset(c, 0, sizeof(*c));
	c->seed = cfg->seed;
	c->shard = cfg->shard;
	c->shards = cfg->shards;
	c->queues = cfg->tx_queues;
	c->pairs = pairs;
	c->max_targets = cfg->max_targets;
}

int engine_ckpt_check(const struct engine_ckpt *c, const struct engine_config *cfg, uint64_t pairs,
		      char *err, size_t errlen)
{
	struct cyclic_group g;
	const char *what = NULL;

	if (c->seed != cfg->seed)
		what = "seed";
	else if (c->shard != cfg->shard || c->shards != cfg->shards)
		what = "shard";
	else if (c->queues != cfg->tx_queues)
		what = "number of TX queues (--tx-queues)";
	else if (c->pairs != pairs)
		what = "target space (addresses x ports)";
	else if (c->max_targets != cfg->max_targets)
		what = "--max-targets";
	if (what != NULL) {
		snprintf(err, errlen,
			 "%s: the %s differs from this scan's: the checkpoint belongs to another "
			 "scan; refused",
			 ENGINE_CKPT_NAME, what);
		return -EINVAL;
	}
	if (cyclic_group_init(&g, pairs, cfg->seed) != 0) {
		snprintf(err, errlen, "%s: target space too large", ENGINE_CKPT_NAME);
		return -EINVAL;
	}
	for (uint32_t q = 0; q < c->queues; q++) {
		uint32_t part = cfg->shard * cfg->tx_queues + q,
			 nparts = cfg->shards * cfg->tx_queues;
		if (c->q[q].left > cyclic_part_positions(&g, part, nparts) ||
		    c->q[q].taken > queue_limit(cfg, q) || c->q[q].taken > pairs) {
			snprintf(err, errlen, "%s: queue %u's position is not one of this scan's",
				 ENGINE_CKPT_NAME, q);
			return -EINVAL;
		}
	}
	return 0;
}

uint64_t engine_ckpt_taken(const struct engine_ckpt *c)
{
	uint64_t n = 0;

	for (uint32_t q = 0; q < c->queues && q < ENGINE_MAX_TX_QUEUES; q++)
		n += c->q[q].taken;
	return n;
}

/* ---- the tracker ----------------------------------------------------------- */

void engine_ckpt_tracker_init(struct engine_ckpt_tracker *t, uint32_t queues, uint64_t window_ns)
{
	memset(t, 0, offsetof(struct engine_ckpt_tracker, s));
	t->queues = queues;
	t->window_ns = window_ns < 1000000000u ? 1000000000u : window_ns;
	/* the FIFO holds two windows of samples */
	t->every_ns = t->window_ns / (ENGINE_CKPT_SAMPLES / 2);
	if (t->every_ns < 100000000u)
		t->every_ns = 100000000u;
}

void engine_ckpt_tracker_sample(struct engine_ckpt_tracker *t, uint64_t now_ns,
				const struct engine_ckpt_queue *q)
{
	struct engine_ckpt_sample *s;

	if ((t->len > 0 && now_ns - t->last_t_ns < t->every_ns) || t->len == ENGINE_CKPT_SAMPLES)
		return;
	s = &t->s[(t->head + t->len) % ENGINE_CKPT_SAMPLES];
	s->t_ns = now_ns;
	s->marked = false;
	s->need = 0;
	memcpy(s->q, q, t->queues * sizeof(*q));
	t->len++;
	t->last_t_ns = now_ns;
}

bool engine_ckpt_tracker_advance(struct engine_ckpt_tracker *t, uint64_t now_ns, uint64_t validated,
				 uint64_t dropped, uint64_t durable)
{
	bool changed = false;

	for (uint32_t i = 0; i < t->len; i++) {
		struct engine_ckpt_sample *s = &t->s[(t->head + i) % ENGINE_CKPT_SAMPLES];
		if (s->marked)
			continue;
		if (now_ns - s->t_ns < t->window_ns)
			break; /* samples are in time order */
		s->marked = true;
		s->need = validated > dropped ? validated - dropped : 0;
	}
	while (t->len > 0) {
		struct engine_ckpt_sample *s = &t->s[t->head];
		if (!s->marked || s->need > durable)
			break;
		memcpy(t->best, s->q, t->queues * sizeof(*s->q));
		t->best_t_ns = s->t_ns;
		t->have_best = true;
		changed = true;
		t->head = (t->head + 1) % ENGINE_CKPT_SAMPLES;
		t->len--;
	}
	return changed;
}
