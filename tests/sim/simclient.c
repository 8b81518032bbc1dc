/* simclient.c — mcsim-client: a minimal memif prober, to test mcsim alone.
 *
 * Not a scanner: it walks one CIDR in address order, one port after another,
 * sends one SYN per pair (sequence number = keyed hash of the pair, so
 * replies validate statelessly), resolves the gateway with ARP first, and
 * keeps receiving for a cooldown. Validated SYN-ACKs are deduplicated in a
 * bitmap and printed as IP:PORT; everything it rejects is counted by reason.
 * It exists so mcsim's own tests do not depend on `mailcensus scan`. */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include "sim_frame.h"
#include "sim_options.h"

#define SRC_IP	  0xc6120002u /* 198.18.0.2 */
#define GW_IP	  0xc61200feu /* 198.18.0.254 */
#define SPORT	  40000
#define BURST	  32
#define CLIENT_PX "mcsimc"

struct client {
	uint16_t port;
	struct rte_mempool *pool;
	uint8_t mac[6], gw_mac[6];
	bool have_gw;
	uint64_t key;
	uint32_t first, last;
	const uint16_t *ports;
	uint32_t nports;
	uint8_t *seen; /* bitmap over (address offset * nports + port index) */
	FILE *out;
	uint64_t sent, tx_full, synack, dup, rst, invalid_ack, invalid_src, bad_frame, other;
};

static uint32_t seq_of(const struct client *c, uint32_t addr, uint16_t port)
{
	return (uint32_t)sim_mix64(c->key ^ sim_mix64(((uint64_t)addr << 16) | port));
}

static bool pair_index(const struct client *c, uint32_t addr, uint16_t port, uint64_t *idx)
{
	if (addr < c->first || addr > c->last)
		return false;
	for (uint32_t i = 0; i < c->nports; i++)
		if (c->ports[i] == port) {
			*idx = (uint64_t)(addr - c->first) * c->nports + i;
			return true;
		}
	return false;
}

static void on_reply(struct client *c, const uint8_t *f, size_t len)
{
	struct sim_tcp_view v;
	struct sim_in in;
	uint64_t idx;
	enum sim_in_kind k = sim_frame_parse(f, len, &in);

	if (k == SIM_IN_ARP_OTHER && in.arp_sender_ip == GW_IP) {
		memcpy(c->gw_mac, in.arp_sender_mac, 6);
		c->have_gw = true;
		return;
	}
	if (k == SIM_IN_OTHER || k == SIM_IN_ARP_OTHER || k == SIM_IN_ARP_REQUEST) {
		c->other++;
		return;
	}
	if (!sim_frame_tcp(f, len, &v)) {
		c->bad_frame++;
		return;
	}
	if (v.dst_ip != SRC_IP || v.dport != SPORT || !pair_index(c, v.src_ip, v.sport, &idx)) {
		c->invalid_src++;
		return;
	}
	if (v.ack != seq_of(c, v.src_ip, v.sport) + 1) {
		c->invalid_ack++;
		return;
	}
	if (v.flags & SIM_TCP_RST) {
		c->rst++;
		return;
	}
	if (c->seen[idx / 8] & (1u << (idx % 8))) {
		c->dup++;
		return;
	}
	c->seen[idx / 8] |= (uint8_t)(1u << (idx % 8));
	c->synack++;
	fprintf(c->out, "%u.%u.%u.%u:%u\n", v.src_ip >> 24, (v.src_ip >> 16) & 255,
		(v.src_ip >> 8) & 255, v.src_ip & 255, v.sport);
}

static void poll_rx(struct client *c)
{
	struct rte_mbuf *pkts[BURST];
	uint16_t n = rte_eth_rx_burst(c->port, 0, pkts, BURST);

	for (uint16_t i = 0; i < n; i++)
		on_reply(c, rte_pktmbuf_mtod(pkts[i], const uint8_t *), pkts[i]->data_len);
	if (n)
		rte_pktmbuf_free_bulk(pkts, n);
}

static int send_frames(struct client *c, struct rte_mbuf **pkts, uint16_t n)
{
	uint16_t done = 0;

	while (done < n) {
		uint16_t k = rte_eth_tx_burst(c->port, 0, pkts + done, (uint16_t)(n - done));
		done = (uint16_t)(done + k);
		if (k == 0) {
			c->tx_full++;
			poll_rx(c);
		}
	}
	return 0;
}

static int resolve_gw(struct client *c)
{
	struct sim_in req = {.arp_sender_ip = GW_IP, .arp_target_ip = SRC_IP};
	uint64_t hz = rte_get_tsc_hz(), end = rte_rdtsc() + 5 * hz;

	while (!c->have_gw && rte_rdtsc() < end) {
		struct rte_mbuf *m = rte_pktmbuf_alloc(c->pool);
		uint8_t *f;
		if (m == NULL)
			return -ENOMEM;
		/* An ARP request is a reply frame with the opcode and target swapped. */
		memset(req.arp_sender_mac, 0xff, 6);
		f = rte_pktmbuf_mtod(m, uint8_t *);
		m->data_len = m->pkt_len = (uint32_t)sim_frame_arp_reply(f, c->mac, &req);
		f[SIM_ETH_LEN + 7] = 1;
		memset(f + SIM_ETH_LEN + 18, 0, 6);
		send_frames(c, &m, 1);
		for (uint64_t t = rte_rdtsc() + hz / 10; rte_rdtsc() < t && !c->have_gw;)
			poll_rx(c);
	}
	return c->have_gw ? 0 : -ETIMEDOUT;
}

/* Send one SYN per pair, at most `rate` per second (0 = as fast as the ring takes). */
static int probe_all(struct client *c, double rate, volatile sig_atomic_t *quit)
{
	uint64_t hz = rte_get_tsc_hz(), start = rte_rdtsc();
	uint64_t total = ((uint64_t)c->last - c->first + 1) * c->nports, i = 0;

	while (i < total && !*quit) {
		struct rte_mbuf *pkts[BURST];
		uint16_t n = BURST;

		if (rate > 0) {
			uint64_t allowed = (uint64_t)((double)(rte_rdtsc() - start) / hz * rate);
			if (allowed <= i) {
				poll_rx(c);
				continue;
			}
			if (allowed - i < n)
				n = (uint16_t)(allowed - i);
		}
		if (total - i < n)
			n = (uint16_t)(total - i);
		if (rte_pktmbuf_alloc_bulk(c->pool, pkts, n) != 0)
			return -ENOMEM;
		for (uint16_t j = 0; j < n; j++, i++) {
			uint32_t addr = c->first + (uint32_t)(i / c->nports);
			uint16_t port = c->ports[i % c->nports];
			uint8_t *f = rte_pktmbuf_mtod(pkts[j], uint8_t *);
			pkts[j]->data_len = pkts[j]->pkt_len = (uint32_t)sim_frame_syn(
			    f, c->mac, c->gw_mac, SRC_IP, addr, SPORT, port, seq_of(c, addr, port));
		}
		send_frames(c, pkts, n);
		c->sent += n;
		poll_rx(c);
	}
	return 0;
}

static int wait_link(struct client *c)
{
	struct rte_eth_link link = {0};

	for (int i = 0; i < 500 && !link.link_status; i++) {
		rte_eth_link_get_nowait(c->port, &link);
		if (!link.link_status)
			usleep(10000);
	}
	return link.link_status ? 0 : -ETIMEDOUT;
}

static int setup(struct client *c)
{
	struct rte_eth_conf conf = {0};
	struct rte_ether_addr mac;
	int rc;

	c->pool = rte_pktmbuf_pool_create("client_pool", 8191, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
					  (int)rte_socket_id());
	if (c->pool == NULL || rte_eth_dev_count_avail() == 0)
		return -ENODEV;
	/* Two TX queues (only the first used), like a default scan, so that
	 * mcsim's default --queues 2 fits both. */
	rc = rte_eth_dev_configure(c->port, 1, 2, &conf);
	if (rc == 0)
		rc = rte_eth_rx_queue_setup(c->port, 0, 1024, 0, NULL, c->pool);
	for (uint16_t q = 0; rc == 0 && q < 2; q++)
		rc = rte_eth_tx_queue_setup(c->port, q, 1024, 0, NULL);
	if (rc == 0)
		rc = rte_eth_dev_start(c->port);
	if (rc == 0)
		rc = rte_eth_macaddr_get(c->port, &mac);
	if (rc == 0)
		memcpy(c->mac, mac.addr_bytes, 6);
	return rc;
}

static volatile sig_atomic_t quit_flag;

static void on_signal(int sig)
{
	(void)sig;
	quit_flag = 1;
}

static void report(const struct client *c, double secs)
{
	fprintf(stderr,
		"{\"sent\":%" PRIu64 ",\"tx_full\":%" PRIu64 ",\"synack\":%" PRIu64
		",\"dup\":%" PRIu64 ",\"rst\":%" PRIu64 ",\"invalid_ack\":%" PRIu64
		",\"invalid_src\":%" PRIu64 ",\"bad_frame\":%" PRIu64 ",\"other\":%" PRIu64
		",\"seconds\":%.3f}\n",
		c->sent, c->tx_full, c->synack, c->dup, c->rst, c->invalid_ack, c->invalid_src,
		c->bad_frame, c->other, secs);
}

/* usage: mcsim-client SOCKET CIDR PORTS RATE COOLDOWN_MS OUTFILE */
int main(int argc, char **argv)
{
	struct client c = {0};
	struct sim_options o;
	char err[200], vdev[300], prefix[64];
	char *eal[] = {
	    "mcsim-client",	   "--no-huge",	   "-m",   "256", "--no-pci", "--no-telemetry",
	    "--log-level=warning", "--lcores=0@0", prefix, vdev,  NULL};
	char *popts[] = {"x",	    "--list-open",	    argv[argc > 2 ? 2 : 0],
			 "--ports", argv[argc > 3 ? 3 : 0], NULL};
	uint64_t t0, cooldown;
	int rc;

	if (argc != 7 || sim_options_parse(&o, 5, popts, err, sizeof(err)) != 0) {
		fprintf(stderr, "usage: mcsim-client SOCKET CIDR PORTS RATE COOLDOWN_MS OUTFILE\n");
		return 2;
	}
	snprintf(vdev, sizeof(vdev), "--vdev=net_memif0,role=client,socket=%s,socket-abstract=no",
		 argv[1]);
	snprintf(prefix, sizeof(prefix), "--file-prefix=" CLIENT_PX "%d", (int)getpid());
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	c.first = o.range_first;
	c.last = o.range_last;
	c.ports = o.ports;
	c.nports = o.nports;
	c.key = sim_mix64((uint64_t)getpid());
	c.seen = calloc(((uint64_t)c.last - c.first + 1) * c.nports / 8 + 1, 1);
	c.out = fopen(argv[6], "w");
	if (c.seen == NULL || c.out == NULL || rte_eal_init(10, eal) < 0)
		return 2;
	rc = setup(&c);
	if (rc == 0)
		rc = wait_link(&c);
	if (rc == 0)
		rc = resolve_gw(&c);
	t0 = rte_rdtsc();
	if (rc == 0)
		rc = probe_all(&c, atof(argv[4]), &quit_flag);
	cooldown = rte_rdtsc() + strtoull(argv[5], NULL, 10) * rte_get_tsc_hz() / 1000;
	while (rc == 0 && !quit_flag && rte_rdtsc() < cooldown)
		poll_rx(&c);
	report(&c, (double)(rte_rdtsc() - t0) / rte_get_tsc_hz());
	fclose(c.out);
	free(c.seen);
	rte_eth_dev_stop(c.port);
	rte_eth_dev_close(c.port);
	rte_eal_cleanup();
	snprintf(vdev, sizeof(vdev), "rm -rf /var/run/dpdk/" CLIENT_PX "%d", (int)getpid());
	if (system(vdev) != 0)
		rc = rc ? rc : -EIO;
	if (rc != 0)
		fprintf(stderr, "mcsim-client: %s\n", strerror(-rc));
	return rc == 0 ? 0 : 1;
}
