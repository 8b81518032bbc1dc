/* sim_model.h — the simulated Internet as a pure function of a seed.
 *
 * Nothing about the simulated space is stored. Whether (address, port) is
 * open, answers RST or stays silent, and what its SYN-ACK looks like (ISN,
 * TTL, window, MSS) are all keyed hashes of (seed, address, port), so the
 * server (mcsim) and the ground-truth lister (mcsim --list-open) agree by
 * construction, for any range, without a table. Addresses and ports are host
 * byte order. */
#ifndef MC_SIM_MODEL_H
#define MC_SIM_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Allowed (not special-purpose) IPv4 addresses: what "per 3.70 billion" means. */
#define SIM_ALLOWED_ADDRESSES  3702258432ULL
#define SIM_MAX_PORT_DENSITIES 16

/* Expected open hosts per port over the whole allowed space. */
struct sim_port_density {
	uint16_t port;
	double open_count;
};

struct sim_model {
	uint64_t key;	   /* derived from the seed */
	double density;	   /* multiplier on every open count (1.0 = default) */
	double other_open; /* open count for ports not listed */
	double rst_share;  /* share of the non-open pairs that answer RST */
	struct sim_port_density ports[SIM_MAX_PORT_DENSITIES];
	size_t nports;
	uint32_t open_thresh[SIM_MAX_PORT_DENSITIES]; /* derived by sim_model_finish() */
	uint32_t other_thresh, rst_thresh;
};

/* What a SYN-ACK from an open pair carries. */
struct sim_synack {
	uint32_t isn;
	uint8_t ttl;
	uint16_t window, mss;
};

enum sim_answer {
	SIM_SILENT,
	SIM_OPEN,
	SIM_RST,
};

/* Defaults: 110 ≈ 3.2 M, 143 ≈ 3.3 M, 993 ≈ 2.4 M, 995 ≈ 2.0 M open among the
 * allowed addresses, any other port 1 M; 2% of the rest answer RST. */
void sim_model_defaults(struct sim_model *m, uint64_t seed);

/* Set the key from a seed (sim_model_defaults does this too). */
void sim_model_seed(struct sim_model *m, uint64_t seed);

/* Recompute thresholds after changing density, counts or rst_share.
 * 0, or -EINVAL when a probability leaves [0, 1]. */
int sim_model_finish(struct sim_model *m);

/* True for the IANA special-purpose ranges, where the simulated Internet has
 * no hosts (the same list as the engine's default blocklist). */
bool sim_is_special(uint32_t addr);

enum sim_answer sim_answer(const struct sim_model *m, uint32_t addr, uint16_t port);

static inline bool sim_is_open(const struct sim_model *m, uint32_t addr, uint16_t port)
{
	return sim_answer(m, addr, port) == SIM_OPEN;
}

void sim_synack_params(const struct sim_model *m, uint32_t addr, uint16_t port,
		       struct sim_synack *out);

/* Probability that an allowed address is open on `port`. */
double sim_open_probability(const struct sim_model *m, uint16_t port);

/* splitmix64 finaliser: the mixing step of every decision above. */
static inline uint64_t sim_mix64(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

#endif
