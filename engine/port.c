/* port.c — the one DPDK port a scan uses: pool, queues, start, link-up.
 *
 * TX queues: one per TX lcore, plus one the RX lcore answers ARP on (not in
 * --dry-run, which has no RX lcore). RX queues: one, except on
 * net_af_packet, whose qpairs sockets share incoming frames by fanout, so the
 * RX lcore must poll every one of them. Checksums are always computed in
 * software (packet.c), so no offload is requested and every driver —
 * af_packet, null, pcap, memif, a real NIC — takes the same frames. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>

#include "engine/runtime.h"

#define PORT_MBUFS     8191
#define PORT_CACHE     256
#define PORT_RX_DESC   1024
#define PORT_TX_DESC   1024
#define PORT_LINK_WAIT 50 /* x 100 ms */

static int pick_port(struct eng_run *r, struct rte_eth_dev_info *info, char *err, size_t errlen)
{
	uint16_t pid;
	int rc;

	if (rte_eth_dev_count_avail() == 0) {
		snprintf(err, errlen,
			 "no usable DPDK port: give --iface IF (af_packet) or a "
			 "device after --, e.g. -- --vdev=net_null0,no-rx=1");
		return -ENODEV;
	}
	RTE_ETH_FOREACH_DEV(pid)
	{
		r->port_id = pid;
		break;
	}
	if (rte_eth_dev_count_avail() > 1)
		snprintf(r->notes, sizeof(r->notes), "%u DPDK ports, using port %u\n",
			 rte_eth_dev_count_avail(), r->port_id);
	rc = rte_eth_dev_info_get(r->port_id, info);
	if (rc != 0) {
		snprintf(err, errlen, "cannot query DPDK port %u: %s", r->port_id, strerror(-rc));
		return rc;
	}
	return 0;
}

static int size_queues(struct eng_run *r, const struct rte_eth_dev_info *info, char *err,
		       size_t errlen)
{
	const struct engine_config *cfg = r->cfg;

	r->nb_txq = (uint16_t)(cfg->tx_queues + (cfg->dry_run ? 0 : 1));
	r->arp_txq = (uint16_t)cfg->tx_queues;
	if (info->max_tx_queues < r->nb_txq) {
		snprintf(err, errlen,
			 "DPDK port %s has %u TX queues, the scan needs %u (--tx-queues plus one "
			 "for ARP replies; for net_af_packet add qpairs=%u)",
			 info->driver_name, info->max_tx_queues, r->nb_txq, r->nb_txq);
		return -EINVAL;
	}
	if (strcmp(info->driver_name, "net_af_packet") == 0)
		r->nb_rxq = info->max_rx_queues;
	else
		r->nb_rxq = info->max_rx_queues > 0 ? 1 : 0;
	if (r->nb_rxq > ENG_MAX_RX_QUEUES)
		r->nb_rxq = ENG_MAX_RX_QUEUES;
	if (r->nb_rxq == 0 && !cfg->dry_run) {
		snprintf(err, errlen, "DPDK port %s cannot receive", info->driver_name);
		return -EINVAL;
	}
	return 0;
}

static int setup_queues(struct eng_run *r, char *err, size_t errlen)
{
	struct rte_eth_conf conf;
	int socket = rte_eth_dev_socket_id(r->port_id);
	int rc;

	memset(&conf, 0, sizeof(conf));
	if (socket < 0)
		socket = (int)rte_socket_id();
	rc = rte_eth_dev_configure(r->port_id, r->nb_rxq, r->nb_txq, &conf);
	for (uint16_t q = 0; rc == 0 && q < r->nb_rxq; q++)
		rc = rte_eth_rx_queue_setup(r->port_id, q, PORT_RX_DESC, (unsigned)socket, NULL,
					    r->pool);
	for (uint16_t q = 0; rc == 0 && q < r->nb_txq; q++)
		rc = rte_eth_tx_queue_setup(r->port_id, q, PORT_TX_DESC, (unsigned)socket, NULL);
	if (rc == 0)
		rc = rte_eth_dev_start(r->port_id);
	if (rc != 0)
		snprintf(err, errlen, "cannot start DPDK port %u: %s", r->port_id, strerror(-rc));
	return rc;
}

static int wait_link(struct eng_run *r, const char *driver, char *err, size_t errlen)
{
	struct rte_eth_link link;

	for (int i = 0; i < PORT_LINK_WAIT && !eng_quit_requested(); i++) {
		memset(&link, 0, sizeof(link));
		if (rte_eth_link_get_nowait(r->port_id, &link) == 0 &&
		    link.link_status == RTE_ETH_LINK_UP)
			return 0;
		rte_delay_us_sleep(100 * 1000);
	}
	snprintf(err, errlen, "link of DPDK port %u (%s) still down after %d s", r->port_id, driver,
		 PORT_LINK_WAIT / 10);
	return -ENETDOWN;
}

int eng_port_setup(struct eng_run *r, char *err, size_t errlen)
{
	struct rte_eth_dev_info info;
	struct rte_ether_addr mac;
	char name[RTE_MEMPOOL_NAMESIZE];
	int rc;

	rc = pick_port(r, &info, err, errlen);
	if (rc == 0)
		rc = size_queues(r, &info, err, errlen);
	if (rc != 0)
		return rc;
	snprintf(name, sizeof(name), "mc_pool%u", r->port_id);
	r->pool = rte_pktmbuf_pool_create(name, PORT_MBUFS, PORT_CACHE, 0,
					  RTE_MBUF_DEFAULT_BUF_SIZE, (int)rte_socket_id());
	if (r->pool == NULL) {
		snprintf(err, errlen, "cannot create mbuf pool: %s (more memory: -- -m 512)",
			 rte_strerror(rte_errno));
		return -ENOMEM;
	}
	rc = setup_queues(r, err, errlen);
	if (rc == 0 && !r->cfg->dry_run)
		rc = wait_link(r, info.driver_name, err, errlen);
	if (rc == 0)
		rc = rte_eth_macaddr_get(r->port_id, &mac);
	if (rc == 0)
		memcpy(r->src_mac, mac.addr_bytes, 6);
	return rc;
}

void eng_port_close(struct eng_run *r)
{
	rte_eth_dev_stop(r->port_id);
	rte_eth_dev_close(r->port_id);
	rte_mempool_free(r->pool);
	r->pool = NULL;
}

void eng_port_counters(const struct eng_run *r, struct engine_result *res)
{
	struct rte_eth_stats st;
	struct rte_eth_dev_info info;

	if (rte_eth_stats_get(r->port_id, &st) == 0) {
		res->imissed = st.imissed;
		res->rx_nombuf = st.rx_nombuf;
		res->oerrors = st.oerrors;
		res->ierrors = st.ierrors;
	}
	if (r->cfg->iface != NULL)
		res->iface_rx_dropped = eng_iface_rx_dropped(r->cfg->iface) - r->iface_dropped0;
	if (rte_eth_dev_info_get(r->port_id, &info) == 0)
		snprintf(res->driver, sizeof(res->driver), "%s", info.driver_name);
}

/* The kernel drops frames for an af_packet port before DPDK sees them when
 * its softirq backlog overflows (busy lcores starve ksoftirqd): that count
 * is only in the interface's statistics. */
uint64_t eng_iface_rx_dropped(const char *iface)
{
	char path[128];
	unsigned long long v = 0;
	FILE *f;

	if (snprintf(path, sizeof(path), "/sys/class/net/%s/statistics/rx_dropped", iface) >=
	    (int)sizeof(path))
		return 0;
	f = fopen(path, "r");
	if (f == NULL)
		return 0;
	if (fscanf(f, "%llu", &v) != 1)
		v = 0;
	fclose(f);
	return v;
}
