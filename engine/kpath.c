/* kpath.c — the kernel path's interface: a net_tap port bridged to the scan
 * port by the RX lcore (rx.c), with the scan's addresses and a source route.
 *
 * Order: refuse what is unsafe or cannot work (a kernel interface outside a
 * named network namespace while the safe range is set; source ports that
 * overlap the kernel's ephemeral ports; a leftover interface of the same
 * name), then create the tap with the port's MAC (so the kernel's frames
 * carry the port's source MAC and frames for the port's MAC are the
 * kernel's own), switch IPv6 off on it (the census is IPv4; no router
 * solicitations on the wire), start it (EAL brings the kernel side up), and
 * add addresses, source rules and the default route (knet.h). Every step
 * has its undo in eng_kpath_close, which is safe on a half-open path. */
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_dev.h>
#include <rte_ethdev.h>
#include <rte_log.h>
#include <rte_mbuf.h>

#include "base/ipv4.h"
#include "base/safety.h"
#include "engine/knet.h"
#include "engine/kpath.h"
#include "engine/runtime.h"

#define KPATH_VDEV	 "net_tap_mc"
#define KPATH_MBUFS	 2047
#define KPATH_RX_DESC	 512 /* net_tap holds one mbuf per descriptor */
#define KPATH_TX_DESC	 512
#define KPATH_PORTS_PROC "/proc/sys/net/ipv4/ip_local_port_range"

static int read_small(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	return 0;
}

/* The kernel's ephemeral ports must not overlap the scan's source ports:
 * a grab connection's SYN-ACK then can never pass for a scan reply. */
static int check_ports(const struct engine_config *cfg, char *err, size_t errlen)
{
	char text[64];
	uint16_t lo, hi;
	unsigned last = (unsigned)cfg->sport_first + cfg->sport_count - 1u;

	if (read_small(KPATH_PORTS_PROC, text, sizeof(text)) != 0 ||
	    kpath_port_range_parse(text, &lo, &hi) != 0) {
		snprintf(err, errlen, "cannot read the kernel's ephemeral ports from %s",
			 KPATH_PORTS_PROC);
		return -EIO;
	}
	if (!kpath_ports_overlap(cfg->sport_first, cfg->sport_count, lo, hi))
		return 0;
	snprintf(err, errlen,
		 "--source-ports %u-%u overlap the kernel's ephemeral ports %u-%u "
		 "(net.ipv4.ip_local_port_range), which the grab stage uses through "
		 "--kernel-path: split them, e.g. sysctl -w net.ipv4.ip_local_port_range='16384 "
		 "32767' and --source-ports 32768-61000",
		 cfg->sport_first, last, lo, hi);
	return -EADDRINUSE;
}

static int make_tap(struct eng_run *r, char *err, size_t errlen)
{
	char args[96];
	const uint8_t *m = r->src_mac;
	int rc;

	snprintf(args, sizeof(args), "iface=%s,mac=%02x:%02x:%02x:%02x:%02x:%02x",
		 ENGINE_KPATH_IFACE, m[0], m[1], m[2], m[3], m[4], m[5]);
	rc = rte_eal_hotplug_add("vdev", KPATH_VDEV, args);
	if (rc != 0) {
		snprintf(err, errlen, "cannot create the kernel path's tap (%s %s): %s", KPATH_VDEV,
			 args, rc < 0 ? strerror(-rc) : "driver refused");
		return rc < 0 ? rc : -ENODEV;
	}
	r->tap_made = true;
	rc = rte_eth_dev_get_port_by_name(KPATH_VDEV, &r->tap_port);
	if (rc != 0)
		snprintf(err, errlen, "tap %s has no DPDK port", KPATH_VDEV);
	return rc;
}

/* Best effort: without IPv6 in this kernel there is nothing to switch off. */
static void ipv6_off(void)
{
	int fd = open("/proc/sys/net/ipv6/conf/" ENGINE_KPATH_IFACE "/disable_ipv6",
		      O_WRONLY | O_CLOEXEC);

	if (fd >= 0) {
		if (write(fd, "1\n", 2) != 2) { /* the tap then sends IPv6 link-local chatter */
		}
		close(fd);
	}
}

static int start_tap(struct eng_run *r, char *err, size_t errlen)
{
	struct rte_eth_conf conf;
	int rc;

	r->kpool = rte_pktmbuf_pool_create("mc_kpool", KPATH_MBUFS, 64, 0,
					   RTE_MBUF_DEFAULT_BUF_SIZE, (int)rte_socket_id());
	if (r->kpool == NULL) {
		snprintf(err, errlen, "cannot create the tap's mbuf pool: %s",
			 rte_strerror(rte_errno));
		return -ENOMEM;
	}
	memset(&conf, 0, sizeof(conf));
	rc = rte_eth_dev_configure(r->tap_port, 1, 1, &conf);
	if (rc == 0)
		rc = rte_eth_rx_queue_setup(r->tap_port, 0, KPATH_RX_DESC,
					    (unsigned)rte_socket_id(), NULL, r->kpool);
	if (rc == 0)
		rc = rte_eth_tx_queue_setup(r->tap_port, 0, KPATH_TX_DESC,
					    (unsigned)rte_socket_id(), NULL);
	if (rc == 0)
		rc = rte_eth_dev_start(r->tap_port);
	if (rc != 0) {
		snprintf(err, errlen, "cannot start the tap %s: %s", ENGINE_KPATH_IFACE,
			 strerror(-rc));
		return rc;
	}
	r->tap_started = true;
	return 0;
}

/* Addresses, one source rule per address, the default route. */
static int route_tap(struct eng_run *r, char *err, size_t errlen)
{
	const struct engine_config *cfg = r->cfg;
	int ifindex = (int)if_nametoindex(ENGINE_KPATH_IFACE), rc = 0;
	char ip[MC_IPV4_STRLEN] = "";
	const char *step = "";

	if (ifindex == 0) {
		snprintf(err, errlen, "tap %s vanished", ENGINE_KPATH_IFACE);
		return -ENODEV;
	}
	for (uint32_t i = 0; rc == 0 && i < cfg->nsrc_ips; i++) {
		mc_ipv4_format(cfg->src_ips[i], ip);
		step = "ip addr add";
		rc = knet_addr_add(ifindex, cfg->src_ips[i]);
		if (rc == 0) {
			step = "ip rule add from";
			rc = knet_rule(true, cfg->src_ips[i]);
		}
		if (rc == 0)
			r->nrules = i + 1;
	}
	if (rc == 0) {
		step = "ip route add default via";
		mc_ipv4_format(cfg->gw_ip, ip);
		rc = knet_route_default(ifindex, cfg->gw_ip);
	}
	if (rc != 0)
		snprintf(err, errlen, "kernel path: %s %s (dev %s, table %u, pref %u) failed: %s%s",
			 step, ip, ENGINE_KPATH_IFACE, KNET_TABLE, KNET_RULE_PREF, strerror(-rc),
			 rc == -EEXIST ? " (left by a killed scan? ip rule del pref 28003)" : "");
	return rc;
}

int eng_kpath_check(const struct engine_config *cfg, char *err, size_t errlen)
{
	if (getenv(MC_SAFE_RANGE_ENV) != NULL && !eng_in_named_netns()) {
		snprintf(err, errlen,
			 "refusing to create the kernel interface %s while %s is set: only inside "
			 "a named network namespace (ip netns exec NS ...)",
			 ENGINE_KPATH_IFACE, MC_SAFE_RANGE_ENV);
		return -EPERM;
	}
	if (if_nametoindex(ENGINE_KPATH_IFACE) != 0) {
		snprintf(err, errlen,
			 "interface %s exists already (another scan with --kernel-path in this "
			 "network namespace?)",
			 ENGINE_KPATH_IFACE);
		return -EEXIST;
	}
	return check_ports(cfg, err, errlen);
}

int eng_kpath_open(struct eng_run *r, char *err, size_t errlen)
{
	int rc = eng_kpath_check(r->cfg, err, errlen); /* again: time has passed */
	int level = rte_log_get_global_level();

	/* net_tap logs at error level what it does without (the multiq qdisc,
	 * rte_flow): below --log-level info, keep that out of the scan's stderr */
	if (level < (int)RTE_LOG_INFO)
		rte_log_set_level_pattern("pmd.net.tap*", RTE_LOG_CRIT);
	if (rc == 0)
		rc = make_tap(r, err, errlen);
	if (rc == 0)
		ipv6_off();
	if (rc == 0)
		rc = start_tap(r, err, errlen);
	if (rc == 0)
		rc = route_tap(r, err, errlen);
	return rc;
}

void eng_kpath_close(struct eng_run *r)
{
	for (uint32_t i = 0; i < r->nrules; i++)
		knet_rule(false, r->cfg->src_ips[i]);
	r->nrules = 0;
	if (r->tap_started) {
		rte_eth_dev_stop(r->tap_port);
		r->tap_started = false;
	}
	if (r->tap_made) {
		rte_eth_dev_close(r->tap_port);
		rte_eal_hotplug_remove("vdev", KPATH_VDEV);
		r->tap_made = false;
	}
	rte_mempool_free(r->kpool);
	r->kpool = NULL;
}
