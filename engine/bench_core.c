/* bench_core.c — microbenchmarks of the engine's pure per-packet logic.
 *
 * Not a test: it prints figures. Modes:
 *   perm-bitmap  walk the whole single-port IPv4 space (0.0.0.0/0 minus the
 *                default blocklist, 3.70 billion targets) across T parts in
 *                T threads, set one bit per address, and check that every
 *                allowed address was produced exactly once and nothing else
 *   perm-rate    permutation indexes per second (cyclic_next alone, and with
 *                targets_pair's index -> (address, port) mapping)
 *   synbuild     complete SYN frames per second into a ring of buffers:
 *                next index, pair, cookie, template copy, fill + checksums
 *   validate     replies per second through pkt_parse + validate_reply on
 *                prepared frames, half of them forged or broken
 * Rates are per second of the measuring thread's CPU time (per core).
 * Nothing is sent anywhere; targets are built with ignore_safe_range. */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <time.h>

#include "cyclic.h"
#include "dedup.h"
#include "packet.h"
#include "targets.h"
#include "validate.h"

#define OUR_IP	    0xC6120002u
#define SPORT_BASE  32768
#define SPORT_N	    28000
#define RING_SLOTS  2048
#define SLOT_BYTES  128
#define MAX_THREADS 16

struct bench_opts {
	uint64_t count; /* packets or indexes to do (0: mode default) */
	uint64_t seed;
	unsigned threads;
};

static uint64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Rates are per second of this thread's CPU time, so that a machine shared
 * with other work still gives a per-core figure; wall time is printed too. */
static uint64_t now_ns(void)
{
	return clock_ns(CLOCK_THREAD_CPUTIME_ID);
}

static double secs_since(uint64_t t0)
{
	return (double)(now_ns() - t0) / 1e9;
}

static struct targets *build_targets(const char *cidr, const uint16_t *ports, size_t nports)
{
	const char *cidrs[] = {cidr};
	struct targets_spec spec = {.cidrs = cidrs,
				    .ncidrs = 1,
				    .ports = ports,
				    .nports = nports,
				    .ignore_safe_range = true};
	struct targets *t = NULL;
	char err[256];

	if (targets_build(&t, &spec, err, sizeof(err)) != 0)
		fprintf(stderr, "bench_engine_core: %s\n", err);
	return t;
}

/* ---- perm-bitmap -------------------------------------------------------- */

struct walk_arg {
	const struct cyclic_group *g;
	const struct targets *t;
	uint64_t *bits;
	uint32_t part, nparts;
	uint64_t produced, dups;
};

static void *walk_part(void *p)
{
	struct walk_arg *a = p;
	struct cyclic_iter it;
	uint64_t idx;

	cyclic_iter_init(&it, a->g, a->part, a->nparts);
	while (cyclic_next(&it, a->g, &idx)) {
		uint32_t addr;
		uint16_t port;
		uint64_t bit, old;

		targets_pair(a->t, idx, &addr, &port);
		bit = UINT64_C(1) << (addr % 64);
		old = __atomic_fetch_or(&a->bits[addr / 64], bit, __ATOMIC_RELAXED);
		a->dups += (old & bit) != 0;
		a->produced++;
	}
	return NULL;
}

/* Every allowed address's bit set, and no other bit: popcount == allowed. */
static bool bitmap_matches(const uint64_t *bits, const struct targets *t)
{
	uint64_t pop = 0;

	for (size_t i = 0; i < targets_nintervals(t); i++) {
		uint32_t first, last;

		targets_interval(t, i, &first, &last);
		for (uint64_t a = first; a <= last; a++)
			if (!(bits[a / 64] >> (a % 64) & 1))
				return false;
	}
	for (uint64_t w = 0; w < (UINT64_C(1) << 32) / 64; w++)
		pop += (uint64_t)__builtin_popcountll(bits[w]);
	return pop == targets_addresses(t);
}

static int bench_perm_bitmap(const struct bench_opts *o)
{
	static const uint16_t port[] = {143};
	struct walk_arg args[MAX_THREADS];
	pthread_t th[MAX_THREADS];
	struct cyclic_group g;
	struct targets *t = build_targets("0.0.0.0/0", port, 1);
	uint64_t produced = 0, dups = 0, t0;
	size_t bytes = (UINT64_C(1) << 32) / 8;
	uint64_t *bits;
	struct rusage ru;
	double walk, cpu;
	bool ok;

	if (t == NULL || cyclic_group_init(&g, targets_pairs(t), o->seed) != 0)
		return 1;
	bits = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (bits == MAP_FAILED)
		return 1;
	printf("perm-bitmap: %" PRIu64 " allowed addresses x 1 port, prime %" PRIu64
	       ", generator %" PRIu64 ", %u parts in %u threads\n",
	       targets_pairs(t), g.prime, g.generator, o->threads, o->threads);
	t0 = clock_ns(CLOCK_MONOTONIC);
	for (unsigned i = 0; i < o->threads; i++) {
		args[i] = (struct walk_arg){
		    .g = &g, .t = t, .bits = bits, .part = i, .nparts = o->threads};
		pthread_create(&th[i], NULL, walk_part, &args[i]);
	}
	for (unsigned i = 0; i < o->threads; i++) {
		pthread_join(th[i], NULL);
		produced += args[i].produced;
		dups += args[i].dups;
	}
	walk = (double)(clock_ns(CLOCK_MONOTONIC) - t0) / 1e9;
	getrusage(RUSAGE_SELF, &ru);
	cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	      (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
	ok = dups == 0 && produced == targets_pairs(t) && bitmap_matches(bits, t);
	printf("walk: %.1f s wall, %.1f s CPU (%.1f M targets per CPU-second); produced %" PRIu64
	       ", duplicates %" PRIu64 "\n",
	       walk, cpu, (double)produced / cpu / 1e6, produced, dups);
	printf("every allowed address exactly once: %s\n", ok ? "yes" : "no");
	munmap(bits, bytes);
	targets_free(t);
	return ok ? 0 : 1;
}

/* ---- perm-rate ---------------------------------------------------------- */

static int perm_rate_space(const uint16_t *ports, size_t nports, const struct bench_opts *o)
{
	struct targets *t = build_targets("0.0.0.0/0", ports, nports);
	struct cyclic_group g;
	struct cyclic_iter it;
	uint64_t idx, sum = 0, sum3 = 0, n = o->count ? o->count : 200000000, t0, i, batch[32];
	double s1, s2, s3;
	size_t k;

	if (t == NULL || cyclic_group_init(&g, targets_pairs(t), o->seed) != 0)
		return 1;
	cyclic_iter_init(&it, &g, 0, 1);
	t0 = now_ns();
	for (i = 0; i < n && cyclic_next(&it, &g, &idx); i++)
		sum += idx;
	s1 = secs_since(t0);
	cyclic_iter_init(&it, &g, 0, 1);
	t0 = now_ns();
	for (i = 0; i < n && cyclic_next(&it, &g, &idx); i++) {
		uint32_t addr;
		uint16_t port;

		targets_pair(t, idx, &addr, &port);
		sum += addr + port;
	}
	s2 = secs_since(t0);
	cyclic_iter_init(&it, &g, 0, 1);
	t0 = now_ns();
	for (i = 0; i < n && (k = cyclic_next_bulk(&it, &g, batch, 32)) > 0; i += k)
		sum3 += batch[k - 1];
	s3 = secs_since(t0);
	printf("space %" PRIu64
	       " pairs (%zu port%s x 0.0.0.0/0 minus default blocklist), prime %" PRIu64
	       ", %" PRIu64 " steps\n",
	       targets_pairs(t), nports, nports > 1 ? "s" : "", g.prime, n);
	printf("  cyclic_next:              %6.1f M indexes/s (%.2f ns each)\n",
	       (double)n / s1 / 1e6, s1 * 1e9 / (double)n);
	printf("  cyclic_next+targets_pair: %6.1f M pairs/s   (%.2f ns each)  [checksum %" PRIx64
	       "]\n",
	       (double)n / s2 / 1e6, s2 * 1e9 / (double)n, sum);
	printf("  cyclic_next_bulk (32):    %6.1f M indexes/s (%.2f ns each)\n",
	       (double)i / s3 / 1e6, s3 * 1e9 / (double)i);
	targets_free(t);
	return 0;
}

static int bench_perm_rate(const struct bench_opts *o)
{
	static const uint16_t ports[] = {110, 143, 993, 995};

	printf("perm-rate:\n");
	return perm_rate_space(ports + 1, 1, o) | perm_rate_space(ports, 4, o);
}

/* ---- synbuild ----------------------------------------------------------- */

/* The TX lcore's way (tx.c): per batch of BATCH targets, the indexes in
 * one call, the pairs in one call, the cookies, then the frames. */
static bool synbuild_batched(const struct targets *t, const struct cyclic_group *g,
			     const struct cookie_key *key, const uint8_t *template, uint8_t *ring,
			     uint64_t n)
{
	enum { BATCH = 32 };
	uint64_t idx[BATCH], done = 0, sum = 0, t0;
	uint32_t addr[BATCH], seq[BATCH], src[BATCH];
	uint64_t hash[BATCH];
	uint16_t port[BATCH], sport[BATCH];
	struct cyclic_iter it;
	struct pkt_view v;
	size_t k = 0;
	double s;
	bool ok;

	for (size_t j = 0; j < BATCH; j++)
		src[j] = OUR_IP;
	cyclic_iter_init(&it, g, 0, 1);
	t0 = now_ns();
	while (done < n && (k = cyclic_next_bulk(&it, g, idx, BATCH)) > 0) {
		targets_pair_bulk(t, idx, k, addr, port);
		cookie_hash_bulk(key, src, addr, port, k, hash);
		for (size_t j = 0; j < k; j++) {
			struct cookie c = cookie_from_hash(hash[j], SPORT_BASE, SPORT_N);

			seq[j] = c.seq;
			sport[j] = c.sport;
		}
		for (size_t j = 0; j < k; j++, done++) {
			uint8_t *f = ring + (done % RING_SLOTS) * SLOT_BYTES;

			memcpy(f, template, PKT_SYN_LEN);
			pkt_syn_fill(f, addr[j], port[j], sport[j], seq[j]);
			sum += f[PKT_SYN_LEN - 8];
		}
	}
	s = secs_since(t0);
	ok = pkt_parse(ring + ((done - 1) % RING_SLOTS) * SLOT_BYTES, PKT_SYN_LEN, &v) ==
		 PKT_TCP_OTHER &&
	     cookie_make(key, OUR_IP, v.dst_ip, v.dport, SPORT_BASE, SPORT_N).seq == v.seq;
	printf("  batched %d (as tx.c):   %5.1f M frames/s (%.2f ns each) on 1 core; last frame "
	       "valid: %s [checksum %" PRIx64 "]\n",
	       BATCH, (double)done / s / 1e6, s * 1e9 / (double)done, ok ? "yes" : "no", sum);
	return ok;
}

static int bench_synbuild(const struct bench_opts *o)
{
	static const uint16_t ports[] = {110, 143, 993, 995};
	static const uint8_t mac[6] = {2, 0, 0, 0, 0, 1};
	struct targets *t = build_targets("0.0.0.0/0", ports + 1, 1);
	uint8_t template[PKT_SYN_LEN], *ring = aligned_alloc(64, RING_SLOTS * SLOT_BYTES);
	uint64_t n = o->count ? o->count : 100000000, idx, sum = 0, t0, i;
	struct cyclic_group g;
	struct cyclic_iter it;
	struct cookie_key key;
	struct pkt_view v;
	double s;

	if (t == NULL || ring == NULL || cyclic_group_init(&g, targets_pairs(t), o->seed) != 0)
		return 1;
	cookie_key_from_seed(&key, o->seed);
	pkt_syn_template(template, mac, mac, OUR_IP, 64);
	cyclic_iter_init(&it, &g, 0, 1);
	t0 = now_ns();
	for (i = 0; i < n && cyclic_next(&it, &g, &idx); i++) {
		uint8_t *f = ring + (i % RING_SLOTS) * SLOT_BYTES;
		uint32_t addr;
		uint16_t port;
		struct cookie c;

		targets_pair(t, idx, &addr, &port);
		c = cookie_make(&key, OUR_IP, addr, port, SPORT_BASE, SPORT_N);
		memcpy(f, template, PKT_SYN_LEN); /* as into a fresh mbuf */
		pkt_syn_fill(f, addr, port, c.sport, c.seq);
		sum += f[PKT_SYN_LEN - 8];
	}
	s = secs_since(t0);
	/* spot-check the last frame: parses, checksums valid, cookie matches */
	bool ok = pkt_parse(ring + ((i - 1) % RING_SLOTS) * SLOT_BYTES, PKT_SYN_LEN, &v) ==
		      PKT_TCP_OTHER &&
		  cookie_make(&key, OUR_IP, v.dst_ip, v.dport, SPORT_BASE, SPORT_N).seq == v.seq;
	printf("synbuild: %" PRIu64 " SYN frames (next index, pair, SipHash-1-3 cookie, 58-byte "
	       "template copy, fill + both checksums) into a %d-slot ring\n",
	       i, RING_SLOTS);
	printf("  one at a time:          %5.1f M frames/s (%.2f ns each) on 1 core; last frame "
	       "valid: %s [checksum %" PRIx64 "]\n",
	       (double)i / s / 1e6, s * 1e9 / (double)i, ok ? "yes" : "no", sum);
	ok &= synbuild_batched(t, &g, &key, template, ring, n);
	free(ring);
	targets_free(t);
	return ok ? 0 : 1;
}

/* ---- validate ----------------------------------------------------------- */

#define NFRAMES 4096

/* A reply from (addr, port) to (OUR_IP, dport) with the given flags and ack. */
static void make_reply(uint8_t *f, uint32_t addr, uint16_t port, uint16_t dport, uint32_t ack,
		       uint8_t flags)
{
	static const uint8_t mac[6] = {2, 0, 0, 0, 0, 2};
	uint8_t *tcp = f + PKT_ETH_LEN + PKT_IPV4_LEN;
	const uint16_t tcp_len = PKT_TCP_LEN + PKT_MSS_OPT;
	uint16_t cs;

	pkt_syn_template(f, mac, mac, addr, 57);
	pkt_syn_fill(f, OUR_IP, dport, port, 0x12345678u);
	tcp[13] = flags;
	for (int b = 0; b < 4; b++)
		tcp[8 + b] = (uint8_t)(ack >> (24 - 8 * b));
	tcp[16] = tcp[17] = 0;
	cs = pkt_fold(pkt_sum16(tcp, tcp_len,
				(addr >> 16) + (addr & 0xffff) + (OUR_IP >> 16) +
				    (OUR_IP & 0xffff) + 6 + tcp_len));
	tcp[16] = (uint8_t)(cs >> 8);
	tcp[17] = (uint8_t)cs;
}

/* Frame i: 4 in 8 valid SYN-ACKs, 1 valid RST, 1 wrong ack, 1 wrong port,
 * 1 unprobed source or a broken checksum. Returns how many are valid. */
static unsigned prepare_frames(uint8_t *frames, const struct validate_ctx *c)
{
	unsigned valid = 0;

	for (unsigned i = 0; i < NFRAMES; i++) {
		uint8_t *f = frames + (size_t)i * SLOT_BYTES;
		uint32_t addr;
		uint16_t port;
		struct cookie ck;

		targets_pair(c->targets, (uint64_t)i * 7919 % targets_pairs(c->targets), &addr,
			     &port);
		ck = cookie_make(&c->key, OUR_IP, addr, port, SPORT_BASE, SPORT_N);
		switch (i % 8) {
		case 4:
			make_reply(f, addr, port, ck.sport, ck.seq + 1, PKT_F_RST | PKT_F_ACK);
			valid++;
			break;
		case 5:
			make_reply(f, addr, port, ck.sport, ck.seq + 2, PKT_F_SYN | PKT_F_ACK);
			break;
		case 6:
			make_reply(f, addr, port, (uint16_t)(ck.sport + 1), ck.seq + 1,
				   PKT_F_SYN | PKT_F_ACK);
			break;
		case 7:
			if (i % 16 == 7) {
				addr = 0x0A000000u + i; /* 10/8: blocklisted, never probed */
				ck = cookie_make(&c->key, OUR_IP, addr, port, SPORT_BASE, SPORT_N);
			}
			make_reply(f, addr, port, ck.sport, ck.seq + 1, PKT_F_SYN | PKT_F_ACK);
			if (i % 16 == 15)
				f[PKT_SYN_LEN - 1] ^= 1; /* broken TCP checksum */
			break;
		default:
			make_reply(f, addr, port, ck.sport, ck.seq + 1, PKT_F_SYN | PKT_F_ACK);
			valid++;
		}
	}
	return valid;
}

static int bench_validate(const struct bench_opts *o)
{
	static const uint16_t ports[] = {110, 143, 993, 995};
	struct validate_ctx c = {
	    .src_ips = {OUR_IP}, .nsrc_ips = 1, .sport_first = SPORT_BASE, .sport_count = SPORT_N};
	uint8_t *frames = aligned_alloc(64, (size_t)NFRAMES * SLOT_BYTES);
	uint64_t n = o->count ? o->count : 100000000, counts[3] = {0}, fresh = 0, t0;
	struct dedup *d;
	unsigned valid;
	double s;
	bool ok;

	c.targets = build_targets("0.0.0.0/0", ports, 4);
	if (c.targets == NULL || frames == NULL)
		return 1;
	cookie_key_from_seed(&c.key, o->seed);
	valid = prepare_frames(frames, &c);
	d = dedup_new(targets_pairs(c.targets));
	if (d == NULL)
		return 1;
	n -= n % NFRAMES;
	t0 = now_ns();
	for (uint64_t i = 0; i < n; i++) {
		struct pkt_view v;
		uint64_t idx;
		enum validate_result r;

		pkt_parse(frames + (i % NFRAMES) * SLOT_BYTES, PKT_SYN_LEN, &v);
		r = validate_reply(&c, &v, &idx);
		counts[r]++;
		if (r != VALIDATE_INVALID)
			fresh += !dedup_test_and_set(d, idx);
	}
	s = secs_since(t0);
	ok =
	    counts[VALIDATE_SYNACK] + counts[VALIDATE_RST] == n / NFRAMES * valid && fresh == valid;
	printf("validate: %" PRIu64 " replies (pkt_parse with IPv4+TCP checksums, validate_reply, "
	       "dedup), %u of every %d valid\n",
	       n, valid, NFRAMES);
	printf("  %.1f M replies/s (%.2f ns each) on 1 core; synack %" PRIu64 " rst %" PRIu64
	       " invalid %" PRIu64 "; counts as expected: %s\n",
	       (double)n / s / 1e6, s * 1e9 / (double)n, counts[VALIDATE_SYNACK],
	       counts[VALIDATE_RST], counts[VALIDATE_INVALID], ok ? "yes" : "no");
	dedup_free(d);
	free(frames);
	targets_free((struct targets *)c.targets);
	return ok ? 0 : 1;
}

/* ---- main --------------------------------------------------------------- */

static int usage(void)
{
	fprintf(stderr, "usage: bench_engine_core perm-bitmap|perm-rate|synbuild|validate "
			"[--count N] [--seed S] [--threads T]\n");
	return 2;
}

int main(int argc, char **argv)
{
	struct bench_opts o = {.count = 0, .seed = 1, .threads = 1};

	if (argc < 2)
		return usage();
	for (int i = 2; i + 1 < argc; i += 2) {
		char *end;
		unsigned long long v = strtoull(argv[i + 1], &end, 10);

		if (*end != '\0')
			return usage();
		if (strcmp(argv[i], "--count") == 0)
			o.count = v;
		else if (strcmp(argv[i], "--seed") == 0)
			o.seed = v;
		else if (strcmp(argv[i], "--threads") == 0 && v >= 1 && v <= MAX_THREADS)
			o.threads = (unsigned)v;
		else
			return usage();
	}
	if (argc % 2 != 0)
		return usage();
	if (strcmp(argv[1], "perm-bitmap") == 0)
		return bench_perm_bitmap(&o);
	if (strcmp(argv[1], "perm-rate") == 0)
		return bench_perm_rate(&o);
	if (strcmp(argv[1], "synbuild") == 0)
		return bench_synbuild(&o);
	if (strcmp(argv[1], "validate") == 0)
		return bench_validate(&o);
	return usage();
}
