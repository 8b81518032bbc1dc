/* packet.h — the frames the engine sends and receives, as plain bytes.
 *
 * A SYN is Ethernet + IPv4 (DF, no options) + TCP SYN with a TCP option set
 * chosen per scan (enum pkt_tcp_opts): one MSS option (1460) and window
 * 65535, or what Linux sends (MSS, SACK-permitted, timestamps, NOP, window
 * scale 7; window 64240). The IP ID is per probe, derived from the
 * validation hash (cookie.h), never a constant: ZMap's constant 54321 was a
 * filter's easy target (ZMap issue #798). pkt_syn_template() writes every
 * constant byte once; pkt_syn_fill() writes the per-probe fields and fixes
 * both checksums incrementally (RFC 1624) from whatever the frame held
 * before, so it works on a fresh template copy or a previously filled frame.
 * pkt_parse() checks every length before it reads a header and verifies the
 * IPv4 and TCP checksums. No DPDK types here. Addresses and ports are host
 * byte order at the API; the frame is network byte order. */
#ifndef MC_ENGINE_PACKET_H
#define MC_ENGINE_PACKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/hit.h"

#define PKT_ETH_LEN	14
#define PKT_IPV4_LEN	20
#define PKT_TCP_LEN	20
#define PKT_MSS_OPT	4
#define PKT_SYN_LEN	(PKT_ETH_LEN + PKT_IPV4_LEN + PKT_TCP_LEN + PKT_MSS_OPT) /* 58 */
#define PKT_OS_OPTS	20 /* MSS 4, SACK-permitted 2, timestamps 10, NOP 1, window scale 3 */
#define PKT_SYN_MAX_LEN (PKT_ETH_LEN + PKT_IPV4_LEN + PKT_TCP_LEN + PKT_OS_OPTS) /* 74 */
#define PKT_ARP_LEN	60 /* 42 bytes of ARP, zero-padded to the Ethernet minimum */
#define PKT_RST_LEN	(PKT_ETH_LEN + PKT_IPV4_LEN + PKT_TCP_LEN) /* 54 */
#define PKT_SYN_MSS	1460
#define PKT_SYN_WIN	65535
#define PKT_OS_WIN	64240 /* Linux's SYN window for MSS 1460 */
#define PKT_OS_WSCALE	7

/* The TCP options of our SYNs. */
enum pkt_tcp_opts {
	PKT_OPTS_MSS, /* MSS 1460 only, window 65535 (58-byte frame) */
	PKT_OPTS_OS,  /* Linux's set: MSS 1460, SACK-permitted, timestamps (TSval given,
			 TSecr 0), NOP, window scale 7; window 64240 (74-byte frame) */
};

/* Write the constant parts of a SYN into frame[0..len) and return len
 * (PKT_SYN_LEN for PKT_OPTS_MSS, PKT_SYN_MAX_LEN for PKT_OPTS_OS): MACs,
 * source address, TTL, flags, options; IP ID, destination, ports and
 * sequence zero, checksums valid for those zeros. `tsval` is the
 * timestamp option's value (PKT_OPTS_OS only; 0 when each frame gets its
 * own with pkt_syn_set_tsval_fresh, as the TX path does). */
size_t pkt_syn_template_opts(uint8_t *frame, const uint8_t src_mac[6], const uint8_t dst_mac[6],
			     uint32_t src_ip, uint8_t ttl, enum pkt_tcp_opts opts, uint32_t tsval);

/* pkt_syn_template_opts() with PKT_OPTS_MSS, into frame[0..PKT_SYN_LEN). */
void pkt_syn_template(uint8_t *frame, const uint8_t src_mac[6], const uint8_t dst_mac[6],
		      uint32_t src_ip, uint8_t ttl);

/* Set IP ID, destination address, ports and sequence number of a SYN frame
 * built by pkt_syn_template*() (or filled before) and fix the IPv4 and TCP
 * checksums. */
void pkt_syn_fill(uint8_t *frame, uint32_t dst_ip, uint16_t dport, uint16_t sport, uint32_t seq,
		  uint16_t ip_id);

/* pkt_syn_fill() for a frame that is a fresh copy of the template (its IP
 * ID, destination, ports and sequence still zero): writes the five fields
 * and both checksums, reading back only the template's two checksums (RFC
 * 1624 with old values known to be zero). Any option set: the fields sit at
 * fixed offsets. Inline: it is the TX loop's per-frame work. */
static inline void pkt_syn_fill_fresh(uint8_t *frame, uint32_t dst_ip, uint16_t dport,
				      uint16_t sport, uint32_t seq, uint16_t ip_id)
{
	uint8_t *ip = frame + PKT_ETH_LEN, *tcp = frame + PKT_ETH_LEN + PKT_IPV4_LEN;
	uint32_t dip = (dst_ip >> 16) + (dst_ip & 0xffff);
	uint32_t dtcp = dip + sport + dport + (seq >> 16) + (seq & 0xffff);
	uint32_t ic = (uint32_t)(uint16_t) ~(ip[10] << 8 | ip[11]) + dip + ip_id;
	uint32_t tc = (uint32_t)(uint16_t) ~(tcp[16] << 8 | tcp[17]) + dtcp;
	uint32_t be_dst = __builtin_bswap32(dst_ip), be_seq = __builtin_bswap32(seq);
	uint32_t be_ports = (uint32_t)__builtin_bswap16(sport) | (uint32_t)__builtin_bswap16(dport)
								     << 16;

	ic = (ic & 0xffff) + (ic >> 16);
	ic = (ic & 0xffff) + (ic >> 16);
	tc = (tc & 0xffff) + (tc >> 16);
	tc = (tc & 0xffff) + (tc >> 16);
	ip[4] = (uint8_t)(ip_id >> 8);
	ip[5] = (uint8_t)ip_id;
	__builtin_memcpy(ip + 16, &be_dst, 4);
	__builtin_memcpy(tcp, &be_ports, 4);
	__builtin_memcpy(tcp + 4, &be_seq, 4);
	ip[10] = (uint8_t)(~ic >> 8);
	ip[11] = (uint8_t)~ic;
	tcp[16] = (uint8_t)(~tc >> 8);
	tcp[17] = (uint8_t)~tc;
}

/* Where the timestamp option's TSval sits in a PKT_OPTS_OS SYN. */
#define PKT_OS_TSVAL_OFF (PKT_ETH_LEN + PKT_IPV4_LEN + PKT_TCP_LEN + 8)

/* Set the TSval of a PKT_OPTS_OS SYN whose template carried TSval 0 (after
 * pkt_syn_fill_fresh or before it: the TCP checksum is updated
 * incrementally, RFC 1624, old value known to be zero). */
static inline void pkt_syn_set_tsval_fresh(uint8_t *frame, uint32_t tsval)
{
	uint8_t *tcp = frame + PKT_ETH_LEN + PKT_IPV4_LEN, *ts = frame + PKT_OS_TSVAL_OFF;
	uint32_t tc =
	    (uint32_t)(uint16_t) ~(tcp[16] << 8 | tcp[17]) + (tsval >> 16) + (tsval & 0xffff);
	uint32_t be = __builtin_bswap32(tsval);

	tc = (tc & 0xffff) + (tc >> 16);
	tc = (tc & 0xffff) + (tc >> 16);
	__builtin_memcpy(ts, &be, 4);
	tcp[16] = (uint8_t)(~tc >> 8);
	tcp[17] = (uint8_t)~tc;
}

/* A Linux-like TSval for destination dst: Linux adds a per-(source,
 * destination) random offset to its millisecond clock (since 4.10), so
 * every host sees its own value; here a keyed 32-bit mix of dst (murmur3's
 * finaliser) plus a per-run base. */
static inline uint32_t pkt_os_tsval(uint32_t base, uint32_t key, uint32_t dst)
{
	uint32_t x = dst ^ key;

	x ^= x >> 16;
	x *= 0x85ebca6bu;
	x ^= x >> 13;
	x *= 0xc2b2ae35u;
	x ^= x >> 16;
	return base + x;
}

enum pkt_kind {
	PKT_MALFORMED,	 /* truncated, inconsistent lengths, or a bad checksum */
	PKT_OTHER,	 /* not IPv4/ARP, not TCP, a fragment, or ARP we do not speak */
	PKT_ARP_REQUEST, /* Ethernet/IPv4 ARP request */
	PKT_ARP_REPLY,	 /* Ethernet/IPv4 ARP reply */
	PKT_TCP_SYNACK,	 /* SYN and ACK set, RST clear */
	PKT_TCP_RST,	 /* RST set */
	PKT_TCP_OTHER,	 /* any other TCP segment */
};

/* What pkt_parse() found. Fields not applicable to the kind are zero. */
struct pkt_view {
	enum pkt_kind kind;
	uint32_t src_ip, dst_ip; /* IPv4 */
	uint16_t sport, dport;	 /* TCP */
	uint32_t seq, ack;	 /* TCP */
	uint8_t ttl;		 /* IPv4 */
	uint16_t ip_id;		 /* IPv4 */
	uint16_t window, mss;	 /* TCP; mss 0 when there is no MSS option */
	uint8_t wscale;		 /* TCP window scale option, PKT_NO_WSCALE when absent */
	bool sack_perm;		 /* TCP SACK-permitted option present */
	bool timestamps;	 /* TCP timestamps option present */
	uint32_t tsval;		 /* its TSval (0 without the option) */
	uint8_t src_mac[6];	 /* Ethernet source, for every kind but MALFORMED */
	uint32_t arp_sender_ip, arp_target_ip;
	uint8_t arp_sender_mac[6];
	uint8_t tcp_flags; /* PKT_F_* bits */
};

#define PKT_NO_WSCALE 0xff

#define PKT_F_FIN 0x01
#define PKT_F_SYN 0x02
#define PKT_F_RST 0x04
#define PKT_F_PSH 0x08
#define PKT_F_ACK 0x10

/* The SYN-ACK's TCP options as the MC_HIT_* option bits of a hit's flags
 * (base/hit.h): SACK-permitted, timestamps, window scale and its shift. */
static inline uint8_t pkt_hit_option_flags(const struct pkt_view *v)
{
	uint8_t f = 0;

	if (v->sack_perm)
		f |= MC_HIT_SACK_PERM;
	if (v->timestamps)
		f |= MC_HIT_TIMESTAMPS;
	if (v->wscale != PKT_NO_WSCALE)
		f = (uint8_t)(f | MC_HIT_WSCALE | (v->wscale < 15 ? v->wscale : 15) << 4);
	return f;
}

/* Classify frame[0..len) and fill *v; returns v->kind. Never reads past len. */
enum pkt_kind pkt_parse(const uint8_t *frame, size_t len, struct pkt_view *v);

/* Build the RST that closes a half-open connection we answered with nothing:
 * from src_ip:sport to dst_ip:dport, sequence number `seq` (the SYN-ACK's
 * acknowledgement number), no ACK. Returns PKT_RST_LEN. */
size_t pkt_rst_build(uint8_t *frame, const uint8_t src_mac[6], const uint8_t dst_mac[6],
		     uint32_t src_ip, uint32_t dst_ip, uint16_t sport, uint16_t dport, uint32_t seq,
		     uint8_t ttl);

/* Build an ARP frame into frame[0..PKT_ARP_LEN) and return PKT_ARP_LEN.
 * Request (reply false): Ethernet broadcast, "who has dst_ip tell src_ip",
 * dst_mac ignored (may be NULL). Reply: to dst_mac, "src_ip is at src_mac". */
size_t pkt_arp_build(uint8_t *frame, bool reply, const uint8_t src_mac[6], uint32_t src_ip,
		     const uint8_t dst_mac[6], uint32_t dst_ip);

/* Internet checksum helpers (RFC 1071), exported for tests. */
uint32_t pkt_sum16(const uint8_t *p, size_t len, uint32_t sum); /* add big-endian 16-bit words */
uint16_t pkt_fold(uint32_t sum);				/* fold carries and complement */

#endif
