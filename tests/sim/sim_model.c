/* sim_model.c — open/RST/silent and SYN-ACK fields as keyed hashes.
 *
 * Method. Each decision hashes (key, address, port, salt) with two rounds of
 * the splitmix64 finaliser, a bijective 64-bit mixer with full avalanche, so
 * neighbouring addresses are independent and the open set looks like a
 * uniform random sample. A pair is open when the top 32 bits of the salt-0
 * hash fall below the port's threshold, threshold = P(open) * 2^32 with
 * P(open) = expected open count / allowed addresses (3,702,258,432); the
 * special-purpose ranges hold no hosts at all. A non-open pair answers RST
 * when an independent (salt-1) hash falls below rst_share * 2^32. The ISN,
 * TTL, window and MSS of a SYN-ACK come from a salt-2 hash, so a host
 * answers every repeated SYN with the same fields, like a real stack would
 * for a retransmitted SYN it still remembers. */
#include "sim_model.h"

#include <errno.h>

static const struct sim_port_density default_ports[] = {
    {.port = 110, .open_count = 3.2e6},
    {.port = 143, .open_count = 3.3e6},
    {.port = 993, .open_count = 2.4e6},
    {.port = 995, .open_count = 2.0e6},
};

/* The IANA special-purpose list, as (first address, prefix length). */
static const struct {
	uint32_t base;
	uint8_t len;
} special[] = {
    {0x00000000, 8},  {0x0a000000, 8},	{0x64400000, 10}, {0x7f000000, 8},  {0xa9fe0000, 16},
    {0xac100000, 12}, {0xc0000000, 24}, {0xc0000200, 24}, {0xc0586300, 24}, {0xc0a80000, 16},
    {0xc6120000, 15}, {0xc6336400, 24}, {0xcb007100, 24}, {0xe0000000, 4},  {0xf0000000, 4},
};

void sim_model_defaults(struct sim_model *m, uint64_t seed)
{
	*m = (struct sim_model){
	    .density = 1.0,
	    .other_open = 1.0e6,
	    .rst_share = 0.02,
	};
	sim_model_seed(m, seed);
	for (size_t i = 0; i < sizeof(default_ports) / sizeof(default_ports[0]); i++)
		m->ports[m->nports++] = default_ports[i];
	(void)sim_model_finish(m);
}

void sim_model_seed(struct sim_model *m, uint64_t seed)
{
	m->key = sim_mix64(seed ^ 0x6d6373696d2d7631ULL); /* "mcsim-v1" */
}

static int thresh_of(double p, uint32_t *out)
{
	double t;

	if (!(p >= 0.0 && p <= 1.0))
		return -EINVAL;
	t = p * 4294967296.0;
	*out = t >= 4294967295.0 ? UINT32_MAX : (uint32_t)t;
	return 0;
}

int sim_model_finish(struct sim_model *m)
{
	int rc;

	for (size_t i = 0; i < m->nports; i++) {
		rc = thresh_of(m->ports[i].open_count * m->density / SIM_ALLOWED_ADDRESSES,
			       &m->open_thresh[i]);
		if (rc != 0)
			return rc;
	}
	rc = thresh_of(m->other_open * m->density / SIM_ALLOWED_ADDRESSES, &m->other_thresh);
	if (rc != 0)
		return rc;
	return thresh_of(m->rst_share, &m->rst_thresh);
}

bool sim_is_special(uint32_t addr)
{
	for (size_t i = 0; i < sizeof(special) / sizeof(special[0]); i++)
		if ((addr >> (32 - special[i].len)) == (special[i].base >> (32 - special[i].len)))
			return true;
	return false;
}

static inline uint32_t pair_hash(const struct sim_model *m, uint32_t addr, uint16_t port,
				 uint32_t salt)
{
	uint64_t x = ((uint64_t)addr << 32) | ((uint64_t)port << 8) | salt;
	return (uint32_t)(sim_mix64(m->key ^ sim_mix64(x)) >> 32);
}

static uint32_t open_thresh_of(const struct sim_model *m, uint16_t port)
{
	for (size_t i = 0; i < m->nports; i++)
		if (m->ports[i].port == port)
			return m->open_thresh[i];
	return m->other_thresh;
}

enum sim_answer sim_answer(const struct sim_model *m, uint32_t addr, uint16_t port)
{
	if (sim_is_special(addr))
		return SIM_SILENT;
	if (pair_hash(m, addr, port, 0) < open_thresh_of(m, port))
		return SIM_OPEN;
	if (pair_hash(m, addr, port, 1) < m->rst_thresh)
		return SIM_RST;
	return SIM_SILENT;
}

void sim_synack_params(const struct sim_model *m, uint32_t addr, uint16_t port,
		       struct sim_synack *out)
{
	static const uint8_t initial_ttl[8] = {64, 64, 64, 64, 64, 128, 128, 255};
	static const uint16_t windows[8] = {65535, 64240, 29200, 28960, 14600, 5840, 8192, 16384};
	static const uint16_t msses[8] = {1460, 1460, 1460, 1460, 1400, 1440, 1380, 536};
	uint64_t x = ((uint64_t)addr << 32) | ((uint64_t)port << 8) | 2;
	uint64_t h = sim_mix64(m->key ^ sim_mix64(x));

	out->isn = (uint32_t)h;
	out->ttl = (uint8_t)(initial_ttl[(h >> 32) & 7] - 5 - ((h >> 35) & 15));
	out->window = windows[(h >> 40) & 7];
	out->mss = msses[(h >> 43) & 7];
}

double sim_open_probability(const struct sim_model *m, uint16_t port)
{
	return (double)open_thresh_of(m, port) / 4294967296.0;
}
