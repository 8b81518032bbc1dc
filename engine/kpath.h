/* kpath.h — the kernel path ("exception path"): which received frames are the
 * scan's and which belong to the kernel, and the port split between them.
 *
 * When DPDK owns the NIC the kernel has no way out, so the grab stage's TCP
 * connections (and the kernel's ARP and ICMP for the scan address) would go
 * elsewhere or nowhere. With `--kernel-path tap` the engine makes a kernel
 * interface (DPDK's net_tap) carrying the scan's source address and bridges
 * it to the port: what the kernel sends goes out on the port, and every
 * received frame for the scan address that is not a validated scan reply
 * goes to the kernel. The split is one classification, run by the RX lcore
 * for every frame, built on the one receive rule (validate_reply):
 *
 *   - a SYN-ACK or RST that validate_reply accepts is the scan's (it is
 *     counted, deduplicated, and a SYN-ACK is RST by the engine);
 *   - an ARP request for one of our addresses is answered by the engine
 *     (and seen by the kernel too, when it has a path);
 *   - any other IPv4 frame or ARP reply addressed to one of our addresses
 *     is the kernel's: the grab stage's SYN-ACKs (their ack is the kernel's
 *     ISN + 1, not our cookie, and their destination port is a kernel
 *     ephemeral port, outside --source-ports), its data segments, ICMP;
 *   - everything else is invalid (malformed, or a failed reply to a
 *     stranger's address) or other (not for us).
 *
 * So the engine never RSTs a grab connection: its RST rule applies only to
 * frames validate_reply accepted. The cookie makes a collision unlikely
 * (2^-32 per segment); disjoint port ranges make it impossible, which is why
 * the engine refuses a --source-ports range that overlaps the kernel's
 * ephemeral ports (kpath_ports_overlap). No DPDK types here. */
#ifndef MC_ENGINE_KPATH_H
#define MC_ENGINE_KPATH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "packet.h"
#include "validate.h"

enum kpath_class {
	KPATH_SCAN_SYNACK, /* validated SYN-ACK: an open port; *index set */
	KPATH_SCAN_RST,	   /* validated RST: a closed port; *index set */
	KPATH_ARP_REQUEST, /* ARP request for one of our addresses: the engine answers */
	KPATH_KERNEL,	   /* to one of our addresses, not scan traffic: the kernel's */
	KPATH_INVALID,	   /* malformed, or a SYN-ACK/RST that failed the rule */
	KPATH_OTHER,	   /* not for us, or not a protocol we speak */
};

/* Is ip (host order) one of the scan's source addresses? */
static inline bool kpath_is_ours(const struct validate_ctx *c, uint32_t ip)
{
	for (uint32_t i = 0; i < c->nsrc_ips; i++)
		if (c->src_ips[i] == ip)
			return true;
	return false;
}

/* Classify a frame pkt_parse() has parsed into v. */
static inline enum kpath_class kpath_classify(const struct validate_ctx *c,
					      const struct pkt_view *v, uint64_t *index)
{
	switch (v->kind) {
	case PKT_TCP_SYNACK:
	case PKT_TCP_RST:
		switch (validate_reply(c, v, index)) {
		case VALIDATE_SYNACK:
			return KPATH_SCAN_SYNACK;
		case VALIDATE_RST:
			return KPATH_SCAN_RST;
		case VALIDATE_INVALID:
			break;
		}
		return kpath_is_ours(c, v->dst_ip) ? KPATH_KERNEL : KPATH_INVALID;
	case PKT_ARP_REQUEST:
		return kpath_is_ours(c, v->arp_target_ip) ? KPATH_ARP_REQUEST : KPATH_OTHER;
	case PKT_ARP_REPLY:
		return kpath_is_ours(c, v->arp_target_ip) ? KPATH_KERNEL : KPATH_OTHER;
	case PKT_TCP_OTHER:
	case PKT_OTHER: /* IPv4 but not TCP (ICMP, UDP) or a fragment: dst_ip is set */
		return v->dst_ip != 0 && kpath_is_ours(c, v->dst_ip) ? KPATH_KERNEL : KPATH_OTHER;
	case PKT_MALFORMED:
		break;
	}
	return KPATH_INVALID;
}

/* Parse /proc/sys/net/ipv4/ip_local_port_range's text ("32768\t60999\n")
 * into [*lo, *hi]. 0, or -EINVAL. */
int kpath_port_range_parse(const char *text, uint16_t *lo, uint16_t *hi);

/* Do the scan's source ports [first, first+count) and the kernel's
 * ephemeral ports [lo, hi] share a port? */
bool kpath_ports_overlap(uint16_t first, uint16_t count, uint16_t lo, uint16_t hi);

#endif
