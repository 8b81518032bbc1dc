/* sim_frame.h — the frames mcsim reads and writes, as plain bytes.
 *
 * No DPDK types: frames are byte buffers so the parse and build code can be
 * unit-tested without EAL. Addresses and ports are host byte order at the API,
 * network byte order in the frame. Every length is checked before a header is
 * read. */
#ifndef MC_SIM_FRAME_H
#define MC_SIM_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sim_model.h"

#define SIM_ETH_LEN    14
#define SIM_IPV4_LEN   20
#define SIM_TCP_LEN    20
#define SIM_SYNACK_LEN (SIM_ETH_LEN + SIM_IPV4_LEN + SIM_TCP_LEN + 4) /* with MSS option */
#define SIM_RST_LEN    (SIM_ETH_LEN + SIM_IPV4_LEN + SIM_TCP_LEN)
#define SIM_ARP_LEN    60
#define SIM_FRAME_MAX  64

enum sim_in_kind {
	SIM_IN_MALFORMED, /* truncated or inconsistent lengths */
	SIM_IN_BAD_CSUM,  /* IPv4 or TCP checksum wrong */
	SIM_IN_OTHER,	  /* not IPv4 TCP or ARP, or an IPv4 fragment */
	SIM_IN_ARP_REQUEST,
	SIM_IN_ARP_OTHER, /* ARP reply or ARP we do not speak */
	SIM_IN_SYN,	  /* TCP with SYN set and ACK, RST, FIN clear */
	SIM_IN_TCP_OTHER,
	SIM_IN_KINDS,
};

const char *sim_in_kind_name(enum sim_in_kind k);

struct sim_in {
	uint8_t src_mac[6];
	uint32_t src_ip, dst_ip;
	uint16_t sport, dport;
	uint32_t seq;
	uint32_t arp_sender_ip, arp_target_ip;
	uint8_t arp_sender_mac[6];
};

enum sim_in_kind sim_frame_parse(const uint8_t *frame, size_t len, struct sim_in *v);

/* What mcsim sends. Junk kinds are replies a scanner must reject. */
enum sim_out_kind {
	SIM_OUT_SYNACK,
	SIM_OUT_RST,
	SIM_OUT_JUNK_WRONG_ACK, /* SYN-ACK from the probed pair, ack != seq + 1 */
	SIM_OUT_JUNK_UNPROBED,	/* SYN-ACK with the right ack, from a 240/4 address */
	SIM_OUT_JUNK_BAD_CSUM,	/* right SYN-ACK, IPv4 or TCP checksum broken */
	SIM_OUT_JUNK_TRUNCATED, /* right SYN-ACK cut short (14..57 bytes) */
	SIM_OUT_JUNK_NON_IPV4,	/* right SYN-ACK bytes under the IPv6 ethertype */
	SIM_OUT_KINDS,
};

#define SIM_OUT_FIRST_JUNK SIM_OUT_JUNK_WRONG_ACK
#define SIM_JUNK_KINDS	   (SIM_OUT_KINDS - SIM_OUT_FIRST_JUNK)

const char *sim_out_kind_name(enum sim_out_kind k);

/* One reply, small enough to sit in the delay line by value. `from` is the
 * probed pair, `to` the prober; ack is the probe's seq + 1; `noise` feeds
 * the junk variants (which address, which checksum, how short). */
struct sim_reply {
	uint32_t from_ip, to_ip;
	uint16_t from_port, to_port;
	uint32_t ack;
	uint32_t noise;
	uint8_t kind; /* enum sim_out_kind */
};

/* Write the reply's frame into frame[0..SIM_FRAME_MAX); returns its length. */
size_t sim_frame_build(uint8_t *frame, const struct sim_reply *r, const struct sim_model *m,
		       const uint8_t src_mac[6], const uint8_t dst_mac[6]);

/* "req->arp_target_ip is at our_mac", to the requester; returns SIM_ARP_LEN. */
size_t sim_frame_arp_reply(uint8_t *frame, const uint8_t our_mac[6], const struct sim_in *req);

/* Build a SYN (test clients): returns its length (58, with an MSS option). */
size_t sim_frame_syn(uint8_t *frame, const uint8_t src_mac[6], const uint8_t dst_mac[6],
		     uint32_t src_ip, uint32_t dst_ip, uint16_t sport, uint16_t dport,
		     uint32_t seq);

/* Parse a reply for test clients: flags, seq/ack, addresses. False when the
 * frame is not a well-formed IPv4 TCP segment with good checksums. */
struct sim_tcp_view {
	uint32_t src_ip, dst_ip, seq, ack;
	uint16_t sport, dport, window, mss;
	uint8_t flags, ttl;
};
bool sim_frame_tcp(const uint8_t *frame, size_t len, struct sim_tcp_view *v);

#define SIM_TCP_FIN 0x01
#define SIM_TCP_SYN 0x02
#define SIM_TCP_RST 0x04
#define SIM_TCP_ACK 0x10

#endif
