/* sim_frame.c — parse probes, build replies, ARP and junk for mcsim. */
#include "sim_frame.h"

#include <string.h>

#define ETH_IPV4 0x0800
#define ETH_ARP	 0x0806
#define ETH_IPV6 0x86dd

static const char *const in_names[SIM_IN_KINDS] = {
    [SIM_IN_MALFORMED] = "malformed", [SIM_IN_BAD_CSUM] = "bad_checksum",
    [SIM_IN_OTHER] = "other",	      [SIM_IN_ARP_REQUEST] = "arp_request",
    [SIM_IN_ARP_OTHER] = "arp_other", [SIM_IN_SYN] = "syn",
    [SIM_IN_TCP_OTHER] = "tcp_other",
};

static const char *const out_names[SIM_OUT_KINDS] = {
    [SIM_OUT_SYNACK] = "synack",
    [SIM_OUT_RST] = "rst",
    [SIM_OUT_JUNK_WRONG_ACK] = "junk_wrong_ack",
    [SIM_OUT_JUNK_UNPROBED] = "junk_unprobed_source",
    [SIM_OUT_JUNK_BAD_CSUM] = "junk_bad_checksum",
    [SIM_OUT_JUNK_TRUNCATED] = "junk_truncated",
    [SIM_OUT_JUNK_NON_IPV4] = "junk_non_ipv4",
};

const char *sim_in_kind_name(enum sim_in_kind k)
{
	return (unsigned)k < SIM_IN_KINDS ? in_names[k] : "?";
}

const char *sim_out_kind_name(enum sim_out_kind k)
{
	return (unsigned)k < SIM_OUT_KINDS ? out_names[k] : "?";
}

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

static uint32_t sum16(const uint8_t *p, size_t len, uint32_t sum)
{
	for (; len >= 2; p += 2, len -= 2)
		sum += get16(p);
	if (len)
		sum += (uint32_t)p[0] << 8;
	return sum;
}

static uint16_t fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static uint32_t pseudo_sum(const uint8_t *ip, uint16_t tcp_len)
{
	return sum16(ip + 12, 8, 0) + 6 + tcp_len;
}

/* IPv4 + TCP with every length and both checksums checked. */
static enum sim_in_kind parse_tcp(const uint8_t *f, size_t len, struct sim_tcp_view *v,
				  const uint8_t **tcp_out)
{
	const uint8_t *ip = f + SIM_ETH_LEN, *tcp;
	size_t ihl, tot, thl;

	if (len < SIM_ETH_LEN + SIM_IPV4_LEN || (ip[0] >> 4) != 4)
		return SIM_IN_MALFORMED;
	ihl = (size_t)(ip[0] & 15) * 4;
	tot = get16(ip + 2);
	if (ihl < SIM_IPV4_LEN || tot < ihl || SIM_ETH_LEN + tot > len)
		return SIM_IN_MALFORMED;
	if (fold(sum16(ip, ihl, 0)) != 0)
		return SIM_IN_BAD_CSUM;
	if (ip[9] != 6 || (get16(ip + 6) & 0x3fff) != 0)
		return SIM_IN_OTHER;
	tcp = ip + ihl;
	if (tot - ihl < SIM_TCP_LEN)
		return SIM_IN_MALFORMED;
	thl = (size_t)(tcp[12] >> 4) * 4;
	if (thl < SIM_TCP_LEN || thl > tot - ihl)
		return SIM_IN_MALFORMED;
	if (fold(sum16(tcp, tot - ihl, pseudo_sum(ip, (uint16_t)(tot - ihl)))) != 0)
		return SIM_IN_BAD_CSUM;
	*v = (struct sim_tcp_view){
	    .src_ip = get32(ip + 12),
	    .dst_ip = get32(ip + 16),
	    .sport = get16(tcp),
	    .dport = get16(tcp + 2),
	    .seq = get32(tcp + 4),
	    .ack = get32(tcp + 8),
	    .flags = tcp[13],
	    .window = get16(tcp + 14),
	    .ttl = ip[8],
	};
	/* The first option, if it is MSS, is all a SYN-ACK carries here. */
	if (thl >= SIM_TCP_LEN + 4 && tcp[20] == 2 && tcp[21] == 4)
		v->mss = get16(tcp + 22);
	*tcp_out = tcp;
	return SIM_IN_TCP_OTHER;
}

static enum sim_in_kind parse_arp(const uint8_t *f, size_t len, struct sim_in *v)
{
	const uint8_t *a = f + SIM_ETH_LEN;

	if (len < SIM_ETH_LEN + 28)
		return SIM_IN_MALFORMED;
	if (get16(a) != 1 || get16(a + 2) != ETH_IPV4 || a[4] != 6 || a[5] != 4)
		return SIM_IN_ARP_OTHER;
	memcpy(v->arp_sender_mac, a + 8, 6);
	v->arp_sender_ip = get32(a + 14);
	v->arp_target_ip = get32(a + 24);
	return get16(a + 6) == 1 ? SIM_IN_ARP_REQUEST : SIM_IN_ARP_OTHER;
}

enum sim_in_kind sim_frame_parse(const uint8_t *f, size_t len, struct sim_in *v)
{
	struct sim_tcp_view t;
	const uint8_t *tcp;
	enum sim_in_kind k;

	memset(v, 0, sizeof(*v));
	if (len < SIM_ETH_LEN)
		return SIM_IN_MALFORMED;
	memcpy(v->src_mac, f + 6, 6);
	if (get16(f + 12) == ETH_ARP)
		return parse_arp(f, len, v);
	if (get16(f + 12) != ETH_IPV4)
		return SIM_IN_OTHER;
	k = parse_tcp(f, len, &t, &tcp);
	if (k != SIM_IN_TCP_OTHER)
		return k;
	v->src_ip = t.src_ip;
	v->dst_ip = t.dst_ip;
	v->sport = t.sport;
	v->dport = t.dport;
	v->seq = t.seq;
	if ((t.flags & (SIM_TCP_SYN | SIM_TCP_ACK | SIM_TCP_RST | SIM_TCP_FIN)) == SIM_TCP_SYN)
		return SIM_IN_SYN;
	return SIM_IN_TCP_OTHER;
}

bool sim_frame_tcp(const uint8_t *frame, size_t len, struct sim_tcp_view *v)
{
	const uint8_t *tcp;

	if (len < SIM_ETH_LEN || get16(frame + 12) != ETH_IPV4)
		return false;
	return parse_tcp(frame, len, v, &tcp) == SIM_IN_TCP_OTHER;
}

/* Ethernet + IPv4 + TCP header with checksums; opt_len bytes of options
 * (MSS only) follow the fixed TCP header. Returns the frame length. */
static size_t build_tcp(uint8_t *f, const uint8_t src_mac[6], const uint8_t dst_mac[6],
			const struct sim_tcp_view *t, uint16_t ip_id)
{
	uint8_t *ip = f + SIM_ETH_LEN, *tcp = ip + SIM_IPV4_LEN;
	uint16_t tcp_len = (uint16_t)(SIM_TCP_LEN + (t->mss ? 4 : 0));

	memcpy(f, dst_mac, 6);
	memcpy(f + 6, src_mac, 6);
	put16(f + 12, ETH_IPV4);
	memset(ip, 0, SIM_IPV4_LEN + tcp_len);
	ip[0] = 0x45;
	put16(ip + 2, (uint16_t)(SIM_IPV4_LEN + tcp_len));
	put16(ip + 4, ip_id);
	put16(ip + 6, 0x4000);
	ip[8] = t->ttl;
	ip[9] = 6;
	put32(ip + 12, t->src_ip);
	put32(ip + 16, t->dst_ip);
	put16(ip + 10, fold(sum16(ip, SIM_IPV4_LEN, 0)));
	put16(tcp, t->sport);
	put16(tcp + 2, t->dport);
	put32(tcp + 4, t->seq);
	put32(tcp + 8, t->ack);
	tcp[12] = (uint8_t)((tcp_len / 4) << 4);
	tcp[13] = t->flags;
	put16(tcp + 14, t->window);
	if (t->mss) {
		tcp[20] = 2;
		tcp[21] = 4;
		put16(tcp + 22, t->mss);
	}
	put16(tcp + 16, fold(sum16(tcp, tcp_len, pseudo_sum(ip, tcp_len))));
	return SIM_ETH_LEN + SIM_IPV4_LEN + tcp_len;
}

/* The junk variants start from the correct SYN-ACK and spoil one thing. */
static size_t spoil(uint8_t *f, size_t len, const struct sim_reply *r)
{
	uint8_t *ip = f + SIM_ETH_LEN;

	switch ((enum sim_out_kind)r->kind) {
	case SIM_OUT_JUNK_BAD_CSUM:
		if (r->noise & 1)
			ip[10] ^= 0x5a; /* IPv4 header checksum */
		else
			ip[SIM_IPV4_LEN + 17] ^= 0xa5; /* TCP checksum */
		return len;
	case SIM_OUT_JUNK_TRUNCATED:
		return SIM_ETH_LEN + r->noise % (len - SIM_ETH_LEN);
	case SIM_OUT_JUNK_NON_IPV4:
		put16(f + 12, ETH_IPV6);
		return len;
	default:
		return len;
	}
}

size_t sim_frame_build(uint8_t *frame, const struct sim_reply *r, const struct sim_model *m,
		       const uint8_t src_mac[6], const uint8_t dst_mac[6])
{
	struct sim_synack p;
	struct sim_tcp_view t = {
	    .src_ip = r->from_ip,
	    .dst_ip = r->to_ip,
	    .sport = r->from_port,
	    .dport = r->to_port,
	    .ack = r->ack,
	};
	size_t len;

	sim_synack_params(m, r->from_ip, r->from_port, &p);
	t.ttl = p.ttl;
	if (r->kind == SIM_OUT_RST) {
		t.flags = SIM_TCP_RST | SIM_TCP_ACK;
		return build_tcp(frame, src_mac, dst_mac, &t, (uint16_t)p.isn);
	}
	t.flags = SIM_TCP_SYN | SIM_TCP_ACK;
	t.seq = p.isn;
	t.window = p.window;
	t.mss = p.mss;
	if (r->kind == SIM_OUT_JUNK_WRONG_ACK)
		t.ack = r->ack + 1 + (r->noise & 0x7fffffff);
	else if (r->kind == SIM_OUT_JUNK_UNPROBED)
		t.src_ip = 0xf0000000u | (r->noise & 0x0fffffffu);
	len = build_tcp(frame, src_mac, dst_mac, &t, (uint16_t)(p.isn >> 16));
	return spoil(frame, len, r);
}

size_t sim_frame_arp_reply(uint8_t *frame, const uint8_t our_mac[6], const struct sim_in *req)
{
	uint8_t *a = frame + SIM_ETH_LEN;

	memset(frame, 0, SIM_ARP_LEN);
	memcpy(frame, req->arp_sender_mac, 6);
	memcpy(frame + 6, our_mac, 6);
	put16(frame + 12, ETH_ARP);
	put16(a, 1);
	put16(a + 2, ETH_IPV4);
	a[4] = 6;
	a[5] = 4;
	put16(a + 6, 2);
	memcpy(a + 8, our_mac, 6);
	put32(a + 14, req->arp_target_ip);
	memcpy(a + 18, req->arp_sender_mac, 6);
	put32(a + 24, req->arp_sender_ip);
	return SIM_ARP_LEN;
}

size_t sim_frame_syn(uint8_t *frame, const uint8_t src_mac[6], const uint8_t dst_mac[6],
		     uint32_t src_ip, uint32_t dst_ip, uint16_t sport, uint16_t dport, uint32_t seq)
{
	struct sim_tcp_view t = {
	    .src_ip = src_ip,
	    .dst_ip = dst_ip,
	    .sport = sport,
	    .dport = dport,
	    .seq = seq,
	    .flags = SIM_TCP_SYN,
	    .window = 65535,
	    .mss = 1460,
	    .ttl = 64,
	};

	return build_tcp(frame, src_mac, dst_mac, &t, 54321);
}
