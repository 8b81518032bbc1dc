/* packet.c — SYN frames built from a template, replies parsed defensively.
 *
 * Checksums are done in software because af_packet has no offload. The
 * template carries checksums valid for zero IP ID, destination, ports and
 * sequence; a fill changes exactly six 16-bit words of TCP-covered data
 * (destination address twice counted: in the IPv4 header and the TCP pseudo
 * header) plus the IP ID (IPv4 checksum only), and
 * updates both checksums with RFC 1624's HC' = ~(~HC + ~m + m'), reading the
 * old words from the frame. That costs a handful of adds and no pass over
 * the packet. The parser reads nothing it has not length-checked first, and
 * recomputes both checksums over the received bytes. */
#include "packet.h"

#include <string.h>

#define ETH_TYPE_IPV4 0x0800
#define ETH_TYPE_ARP  0x0806
#define IP_PROTO_TCP  6
#define OFF_IP	      PKT_ETH_LEN
#define OFF_TCP	      (PKT_ETH_LEN + PKT_IPV4_LEN)
#define ARP_BODY_LEN  28

static inline uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* One's-complement sum of p[0..len) as native-order 16-bit words, folded to
 * 16 bits. The sum is byte-order independent (RFC 1071 section 2(B)): a
 * byte swap of the folded result gives the sum of the big-endian words. */
static inline uint32_t sum_native(const uint8_t *p, size_t len)
{
	uint64_t acc = 0;
	size_t i = 0;

	for (; i + 4 <= len; i += 4) {
		uint32_t w;

		memcpy(&w, p + i, 4);
		acc += w;
	}
	if (i + 2 <= len) {
		uint16_t w;

		memcpy(&w, p + i, 2);
		acc += w;
		i += 2;
	}
	if (i < len) { /* odd trailing byte: the first byte of a zero-padded word */
		uint8_t pad[2] = {p[i], 0};
		uint16_t w;

		memcpy(&w, pad, 2);
		acc += w;
	}
	acc = (acc & 0xffffffffu) + (acc >> 32);
	acc = (acc & 0xffffffffu) + (acc >> 32);
	acc = (acc & 0xffff) + (acc >> 16);
	acc = (acc & 0xffff) + (acc >> 16);
	return (uint32_t)acc;
}

static inline uint32_t to_be_sum(uint32_t native)
{
	uint16_t w = (uint16_t)native, be;
	uint8_t b[2];

	memcpy(b, &w, 2);
	be = (uint16_t)(b[0] << 8 | b[1]);
	return be;
}

uint32_t pkt_sum16(const uint8_t *p, size_t len, uint32_t sum)
{
	return sum + to_be_sum(sum_native(p, len));
}

static inline uint16_t fold(uint32_t sum)
{
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

uint16_t pkt_fold(uint32_t sum)
{
	return fold(sum);
}

/* Sum of the TCP pseudo header. */
static uint32_t pseudo_sum(uint32_t src, uint32_t dst, uint16_t tcp_len)
{
	return (src >> 16) + (src & 0xffff) + (dst >> 16) + (dst & 0xffff) + IP_PROTO_TCP + tcp_len;
}

/* Ethernet + IPv4 header (no options, DF, IP ID ip_id) with its checksum,
 * for a TCP segment of tcp_len bytes. */
static void eth_ipv4_header(uint8_t *frame, const uint8_t src_mac[6], const uint8_t dst_mac[6],
			    uint32_t src_ip, uint32_t dst_ip, uint8_t ttl, uint16_t tcp_len,
			    uint16_t ip_id)
{
	uint8_t *ip = frame + OFF_IP;

	memcpy(frame, dst_mac, 6);
	memcpy(frame + 6, src_mac, 6);
	put16(frame + 12, ETH_TYPE_IPV4);
	ip[0] = 0x45; /* IPv4, 20-byte header */
	put16(ip + 2, PKT_IPV4_LEN + tcp_len);
	put16(ip + 4, ip_id);
	put16(ip + 6, 0x4000); /* DF */
	ip[8] = ttl;
	ip[9] = IP_PROTO_TCP;
	put32(ip + 12, src_ip);
	put32(ip + 16, dst_ip);
	put16(ip + 10, pkt_fold(pkt_sum16(ip, PKT_IPV4_LEN, 0)));
}

size_t pkt_rst_build(uint8_t *frame, const uint8_t src_mac[6], const uint8_t dst_mac[6],
		     uint32_t src_ip, uint32_t dst_ip, uint16_t sport, uint16_t dport, uint32_t seq,
		     uint8_t ttl)
{
	uint8_t *tcp = frame + OFF_TCP;

	/* the IP ID varies with the segment (no constant to filter on) */
	uint16_t ip_id =
	    (uint16_t)((seq ^ (seq >> 16)) * 0x9e37u ^ dst_ip ^ (dst_ip >> 16) ^ dport);

	memset(frame, 0, PKT_RST_LEN);
	eth_ipv4_header(frame, src_mac, dst_mac, src_ip, dst_ip, ttl, PKT_TCP_LEN, ip_id);
	put16(tcp, sport);
	put16(tcp + 2, dport);
	put32(tcp + 4, seq);
	tcp[12] = (uint8_t)((PKT_TCP_LEN / 4) << 4);
	tcp[13] = PKT_F_RST;
	put16(tcp + 16,
	      pkt_fold(pkt_sum16(tcp, PKT_TCP_LEN, pseudo_sum(src_ip, dst_ip, PKT_TCP_LEN))));
	return PKT_RST_LEN;
}

size_t pkt_syn_template_opts(uint8_t *frame, const uint8_t src_mac[6], const uint8_t dst_mac[6],
			     uint32_t src_ip, uint8_t ttl, enum pkt_tcp_opts opts, uint32_t tsval)
{
	uint8_t *tcp = frame + OFF_TCP, *o = tcp + PKT_TCP_LEN;
	const uint16_t olen = opts == PKT_OPTS_OS ? PKT_OS_OPTS : PKT_MSS_OPT;
	const uint16_t tcp_len = PKT_TCP_LEN + olen;

	memset(frame, 0, PKT_ETH_LEN + PKT_IPV4_LEN + tcp_len);
	/* IP ID, destination, ports and sequence stay zero: pkt_syn_fill*() add them */
	eth_ipv4_header(frame, src_mac, dst_mac, src_ip, 0, ttl, tcp_len, 0);
	tcp[12] = (uint8_t)((tcp_len / 4) << 4);
	tcp[13] = PKT_F_SYN;
	put16(tcp + 14, opts == PKT_OPTS_OS ? PKT_OS_WIN : PKT_SYN_WIN);
	o[0] = 2; /* MSS option: kind 2, length 4 */
	o[1] = 4;
	put16(o + 2, PKT_SYN_MSS);
	if (opts == PKT_OPTS_OS) { /* Linux's order: MSS, SACK_PERM, TS, NOP, WS */
		o[4] = 4;	   /* SACK-permitted */
		o[5] = 2;
		o[6] = 8; /* timestamps: TSval, TSecr 0 */
		o[7] = 10;
		put32(o + 8, tsval);
		o[16] = 1; /* NOP */
		o[17] = 3; /* window scale */
		o[18] = 3;
		o[19] = PKT_OS_WSCALE;
	}
	put16(tcp + 16, pkt_fold(pkt_sum16(tcp, tcp_len, pseudo_sum(src_ip, 0, tcp_len))));
	return PKT_ETH_LEN + PKT_IPV4_LEN + tcp_len;
}

void pkt_syn_template(uint8_t *frame, const uint8_t src_mac[6], const uint8_t dst_mac[6],
		      uint32_t src_ip, uint8_t ttl)
{
	pkt_syn_template_opts(frame, src_mac, dst_mac, src_ip, ttl, PKT_OPTS_MSS, 0);
}

/* Replace the 16-bit word at p by v, adding ~old + new into *delta. */
static inline void swap16(uint8_t *p, uint16_t v, uint32_t *delta)
{
	*delta += (uint16_t)~get16(p) + (uint32_t)v;
	put16(p, v);
}

void pkt_syn_fill(uint8_t *frame, uint32_t dst_ip, uint16_t dport, uint16_t sport, uint32_t seq,
		  uint16_t ip_id)
{
	uint8_t *ip = frame + OFF_IP, *tcp = frame + OFF_TCP;
	uint32_t dip = 0, dtcp, did = 0;

	swap16(ip + 16, (uint16_t)(dst_ip >> 16), &dip);
	swap16(ip + 18, (uint16_t)dst_ip, &dip);
	dtcp = dip;		     /* the destination is in the pseudo header too */
	swap16(ip + 4, ip_id, &did); /* the IP ID is not */
	dip += did;
	swap16(tcp + 0, sport, &dtcp);
	swap16(tcp + 2, dport, &dtcp);
	swap16(tcp + 4, (uint16_t)(seq >> 16), &dtcp);
	swap16(tcp + 6, (uint16_t)seq, &dtcp);
	put16(ip + 10, fold((uint16_t)~get16(ip + 10) + dip));
	put16(tcp + 16, fold((uint16_t)~get16(tcp + 16) + dtcp));
}

/* The options of a TCP header with hlen bytes (already length-checked):
 * MSS (0 if absent), window scale, SACK-permitted, timestamps. The first
 * occurrence of an option counts (a repeat is ignored, as the MSS reader
 * before always did); a garbled option ends the walk, what was read before
 * it stays. */
static void tcp_options(const uint8_t *tcp, size_t hlen, struct pkt_view *v)
{
	size_t i = PKT_TCP_LEN;
	bool have_mss = false, have_ws = false, have_ts = false;

	v->wscale = PKT_NO_WSCALE;
	while (i < hlen) {
		uint8_t kind = tcp[i];

		if (kind == 0) /* end of options */
			break;
		if (kind == 1) { /* no-op */
			i++;
			continue;
		}
		if (i + 1 >= hlen || tcp[i + 1] < 2 || i + tcp[i + 1] > hlen)
			break;
		if (kind == 2 && tcp[i + 1] == 4 && !have_mss) {
			v->mss = get16(tcp + i + 2);
			have_mss = true;
		} else if (kind == 3 && tcp[i + 1] == 3 && !have_ws) {
			v->wscale = tcp[i + 2];
			have_ws = true;
		} else if (kind == 4 && tcp[i + 1] == 2) {
			v->sack_perm = true;
		} else if (kind == 8 && tcp[i + 1] == 10 && !have_ts) {
			v->timestamps = true;
			v->tsval = get32(tcp + i + 2);
			have_ts = true;
		}
		i += tcp[i + 1];
	}
}

static enum pkt_kind parse_tcp(const uint8_t *tcp, size_t tcp_len, struct pkt_view *v)
{
	size_t hlen;

	if (tcp_len < PKT_TCP_LEN)
		return PKT_MALFORMED;
	hlen = (size_t)(tcp[12] >> 4) * 4;
	if (hlen < PKT_TCP_LEN || hlen > tcp_len)
		return PKT_MALFORMED;
	if (fold(pseudo_sum(v->src_ip, v->dst_ip, (uint16_t)tcp_len) +
		 to_be_sum(sum_native(tcp, tcp_len))))
		return PKT_MALFORMED;
	v->sport = get16(tcp);
	v->dport = get16(tcp + 2);
	v->seq = get32(tcp + 4);
	v->ack = get32(tcp + 8);
	v->tcp_flags = tcp[13];
	v->window = get16(tcp + 14);
	tcp_options(tcp, hlen, v);
	if (v->tcp_flags & PKT_F_RST)
		return PKT_TCP_RST;
	if ((v->tcp_flags & (PKT_F_SYN | PKT_F_ACK)) == (PKT_F_SYN | PKT_F_ACK))
		return PKT_TCP_SYNACK;
	return PKT_TCP_OTHER;
}

static enum pkt_kind parse_ipv4(const uint8_t *ip, size_t len, struct pkt_view *v)
{
	size_t ihl, total;

	if (len < PKT_IPV4_LEN || (ip[0] >> 4) != 4)
		return PKT_MALFORMED;
	ihl = (size_t)(ip[0] & 0x0f) * 4;
	total = get16(ip + 2);
	if (ihl < PKT_IPV4_LEN || ihl > total || total > len) /* bytes beyond total are padding */
		return PKT_MALFORMED;
	if (fold(to_be_sum(sum_native(ip, ihl))) != 0)
		return PKT_MALFORMED;
	v->ttl = ip[8];
	v->ip_id = get16(ip + 4);
	v->src_ip = get32(ip + 12);
	v->dst_ip = get32(ip + 16);
	if ((get16(ip + 6) & 0x3fff) != 0 || ip[9] != IP_PROTO_TCP) /* fragment, or not TCP */
		return PKT_OTHER;
	return parse_tcp(ip + ihl, total - ihl, v);
}

static enum pkt_kind parse_arp(const uint8_t *arp, size_t len, struct pkt_view *v)
{
	uint16_t op;

	if (len < ARP_BODY_LEN)
		return PKT_MALFORMED;
	if (get16(arp) != 1 || get16(arp + 2) != ETH_TYPE_IPV4 || arp[4] != 6 || arp[5] != 4)
		return PKT_OTHER;
	op = get16(arp + 6);
	if (op != 1 && op != 2)
		return PKT_OTHER;
	memcpy(v->arp_sender_mac, arp + 8, 6);
	v->arp_sender_ip = get32(arp + 14);
	v->arp_target_ip = get32(arp + 24);
	return op == 1 ? PKT_ARP_REQUEST : PKT_ARP_REPLY;
}

enum pkt_kind pkt_parse(const uint8_t *frame, size_t len, struct pkt_view *v)
{
	uint16_t type;

	memset(v, 0, sizeof(*v));
	if (len < PKT_ETH_LEN) {
		v->kind = PKT_MALFORMED;
		return v->kind;
	}
	memcpy(v->src_mac, frame + 6, 6);
	type = get16(frame + 12);
	if (type == ETH_TYPE_IPV4)
		v->kind = parse_ipv4(frame + PKT_ETH_LEN, len - PKT_ETH_LEN, v);
	else if (type == ETH_TYPE_ARP)
		v->kind = parse_arp(frame + PKT_ETH_LEN, len - PKT_ETH_LEN, v);
	else
		v->kind = PKT_OTHER;
	if (v->kind == PKT_MALFORMED) /* packet.h: no field of a malformed frame is meaningful */
		memset(v, 0, sizeof(*v));
	return v->kind;
}

size_t pkt_arp_build(uint8_t *frame, bool reply, const uint8_t src_mac[6], uint32_t src_ip,
		     const uint8_t dst_mac[6], uint32_t dst_ip)
{
	static const uint8_t broadcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
	uint8_t *arp = frame + PKT_ETH_LEN;

	memset(frame, 0, PKT_ARP_LEN);
	memcpy(frame, reply ? dst_mac : broadcast, 6);
	memcpy(frame + 6, src_mac, 6);
	put16(frame + 12, ETH_TYPE_ARP);
	put16(arp, 1); /* Ethernet */
	put16(arp + 2, ETH_TYPE_IPV4);
	arp[4] = 6;
	arp[5] = 4;
	put16(arp + 6, reply ? 2 : 1);
	memcpy(arp + 8, src_mac, 6);
	put32(arp + 14, src_ip);
	if (reply) /* a request leaves the target hardware address zero */
		memcpy(arp + 18, dst_mac, 6);
	put32(arp + 24, dst_ip);
	return PKT_ARP_LEN;
}
