/* test_packet.c — SYN build/fill with independently checked checksums,
 * reply parsing with every truncation, bad checksums, options, ARP. */
#include <stdlib.h>

#include "tests/unit/test.h"
#include "engine/packet.h"

static const uint8_t mac_a[6] = {0x02, 0, 0, 0, 0, 0x0a};
static const uint8_t mac_b[6] = {0x02, 0, 0, 0, 0, 0x0b};

/* Independent Internet checksum: the test's own, not the module's. */
static uint16_t ref_csum(const uint8_t *p, size_t len, uint64_t sum)
{
	for (size_t i = 0; i < len; i++)
		sum += (i % 2 == 0) ? (uint64_t)p[i] << 8 : p[i];
	while (sum > 0xffff)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* Recompute both checksums of an Ethernet/IPv4(IHL 5)/TCP frame with the
 * checksum fields zeroed and compare with what is stored. */
static bool checksums_ok(const uint8_t *frame, size_t len)
{
	uint8_t copy[1600];
	uint8_t *ip = copy + 14, *tcp = copy + 34;
	size_t tcp_len = len - 34;
	uint16_t ip_sum, tcp_sum;
	uint64_t pseudo;

	memcpy(copy, frame, len);
	ip_sum = be16(ip + 10);
	tcp_sum = be16(tcp + 16);
	ip[10] = ip[11] = tcp[16] = tcp[17] = 0;
	pseudo = be16(ip + 12) + be16(ip + 14) + be16(ip + 16) + be16(ip + 18) + 6 + tcp_len;
	return ref_csum(ip, 20, 0) == ip_sum && ref_csum(tcp, tcp_len, pseudo) == tcp_sum;
}

static void test_syn_build(void)
{
	uint8_t frame[PKT_SYN_LEN];
	struct pkt_view v;
	uint32_t rnd = 12345;

	CHECK_UINT_EQ(PKT_SYN_LEN, 58);
	pkt_syn_template(frame, mac_a, mac_b, 0xC6120002u, 64);
	CHECK(checksums_ok(frame, PKT_SYN_LEN));
	for (int i = 0; i < 10000; i++) { /* refill the same frame: incremental from old values */
		uint32_t dst = rnd = rnd * 1103515245u + 12345u, seq = rnd * 2654435761u;
		uint16_t dport = (uint16_t)(rnd >> 7), sport = (uint16_t)(rnd >> 13);

		uint16_t ip_id = (uint16_t)(rnd >> 3);

		if (i == 0)
			dst = 0xFFFFFFFFu, seq = 0xFFFFFFFFu, ip_id = 0xFFFF,
			dport = sport = 0xFFFF; /* all-ones words */
		pkt_syn_fill(frame, dst, dport, sport, seq, ip_id);
		if (!checksums_ok(frame, PKT_SYN_LEN)) {
			CHECK(checksums_ok(frame, PKT_SYN_LEN));
			break;
		}
		CHECK_INT_EQ(pkt_parse(frame, PKT_SYN_LEN, &v), PKT_TCP_OTHER);
		if (v.dst_ip != dst || v.dport != dport || v.sport != sport || v.seq != seq ||
		    v.ip_id != ip_id) {
			CHECK_UINT_EQ(v.dst_ip, dst);
			CHECK_UINT_EQ(v.seq, seq);
			CHECK_UINT_EQ(v.ip_id, ip_id);
			break;
		}
	}
	CHECK(memcmp(frame, mac_b, 6) == 0); /* Ethernet destination is the gateway */
	CHECK(memcmp(v.src_mac, mac_a, 6) == 0);
	CHECK_UINT_EQ(v.src_ip, 0xC6120002u);
	CHECK_UINT_EQ(v.ttl, 64);
	CHECK_UINT_EQ(v.window, 65535);
	CHECK_UINT_EQ(v.mss, 1460);
	CHECK_UINT_EQ(v.tcp_flags, PKT_F_SYN);
	CHECK_UINT_EQ(be16(frame + 14 + 4), v.ip_id); /* IP ID: the last fill's, no constant */
	CHECK_UINT_EQ(be16(frame + 14 + 6), 0x4000);  /* DF */
	CHECK_UINT_EQ(be16(frame + 14 + 2), 44);      /* total length */
}

/* A SYN-ACK (or other segment) from src:sport to dst:dport, with `ipopt`
 * bytes of IPv4 options (multiple of 4) and the TCP options given; returns
 * the frame length. Checksums computed with ref_csum. */
static size_t make_reply(uint8_t *f, uint8_t flags, uint32_t src, uint16_t sport, uint32_t dst,
			 uint16_t dport, uint32_t ack, size_t ipopt, const uint8_t *topt,
			 size_t toptlen)
{
	size_t ihl = 20 + ipopt, thl = 20 + toptlen, total = ihl + thl;
	uint8_t *ip = f + 14, *tcp = f + 14 + ihl;
	uint64_t pseudo;

	memset(f, 0, 14 + total);
	memcpy(f, mac_a, 6);
	memcpy(f + 6, mac_b, 6);
	f[12] = 0x08;
	ip[0] = (uint8_t)(0x40 | ihl / 4);
	ip[2] = (uint8_t)(total >> 8), ip[3] = (uint8_t)total;
	ip[6] = 0x40, ip[8] = 57, ip[9] = 6;
	for (int i = 0; i < 4; i++) {
		ip[12 + i] = (uint8_t)(src >> (24 - 8 * i));
		ip[16 + i] = (uint8_t)(dst >> (24 - 8 * i));
		tcp[4 + i] = (uint8_t)(0x11223344u >> (24 - 8 * i));
		tcp[8 + i] = (uint8_t)(ack >> (24 - 8 * i));
	}
	memset(ip + 20, 1, ipopt); /* NOP options */
	tcp[0] = (uint8_t)(sport >> 8), tcp[1] = (uint8_t)sport;
	tcp[2] = (uint8_t)(dport >> 8), tcp[3] = (uint8_t)dport;
	tcp[12] = (uint8_t)(thl / 4 << 4), tcp[13] = flags;
	tcp[14] = 0x72, tcp[15] = 0x10;
	if (toptlen > 0)
		memcpy(tcp + 20, topt, toptlen);
	uint16_t s = ref_csum(ip, ihl, 0);
	ip[10] = (uint8_t)(s >> 8), ip[11] = (uint8_t)s;
	pseudo = (src >> 16) + (src & 0xffff) + (dst >> 16) + (dst & 0xffff) + 6 + thl;
	s = ref_csum(tcp, thl, pseudo);
	tcp[16] = (uint8_t)(s >> 8), tcp[17] = (uint8_t)s;
	return 14 + total;
}

static const uint8_t mss_opt[] = {1, 1, 2, 4, 0x05, 0xb4, 4, 2}; /* NOP NOP MSS SACK-permitted */

/* The TX path's fill of a fresh template copy: same frame fields, valid
 * checksums (checked independently), for random and all-ones words. */
static void test_syn_fill_fresh(void)
{
	uint8_t tmpl[PKT_SYN_MAX_LEN], frame[PKT_SYN_MAX_LEN], slow[PKT_SYN_MAX_LEN];
	struct pkt_view v;
	uint32_t rnd = 777;

	for (int o = PKT_OPTS_MSS; o <= PKT_OPTS_OS; o++) {
		size_t len = pkt_syn_template_opts(tmpl, mac_a, mac_b, 0xC6120002u, 255,
						   (enum pkt_tcp_opts)o, 0x01020304u);

		CHECK_UINT_EQ(len, o == PKT_OPTS_OS ? PKT_SYN_MAX_LEN : PKT_SYN_LEN);
		CHECK(checksums_ok(tmpl, len));
		for (int i = 0; i < 100000; i++) {
			uint32_t dst = rnd = rnd * 1103515245u + 12345u, seq = rnd * 2654435761u;
			uint16_t dport = (uint16_t)(rnd >> 7), sport = (uint16_t)(rnd >> 13);
			uint16_t ip_id = (uint16_t)(rnd >> 5);

			if (i == 0)
				dst = 0xFFFFFFFFu, seq = 0xFFFFFFFFu,
				dport = sport = ip_id = 0xFFFF;
			if (i == 1)
				dst = 1, seq = 0, dport = sport = 1, ip_id = 0;
			memcpy(frame, tmpl, PKT_SYN_MAX_LEN);
			memcpy(slow, tmpl, PKT_SYN_MAX_LEN);
			pkt_syn_fill_fresh(frame, dst, dport, sport, seq, ip_id);
			pkt_syn_fill(slow, dst, dport, sport, seq, ip_id);
			if (!checksums_ok(frame, len) || memcmp(frame, slow, len) != 0 ||
			    pkt_parse(frame, len, &v) != PKT_TCP_OTHER || v.dst_ip != dst ||
			    v.dport != dport || v.sport != sport || v.seq != seq ||
			    v.ip_id != ip_id) {
				CHECK(checksums_ok(frame, len));
				CHECK(memcmp(frame, slow, len) == 0);
				CHECK_UINT_EQ(v.dst_ip, dst);
				CHECK_UINT_EQ(v.seq, seq);
				CHECK_UINT_EQ(v.ip_id, ip_id);
				break;
			}
		}
	}
}

/* --tcp-options os: Linux's SYN option bytes, in Linux's order, parsed back. */
static void test_os_options(void)
{
	static const uint8_t linux_opts[] = {2,	   4,	 0x05, 0xb4, 4, 2, 8, 10, 0xde, 0xad,
					     0xbe, 0xef, 0,    0,    0, 0, 1, 3,  3,	7};
	uint8_t f[PKT_SYN_MAX_LEN];
	struct pkt_view v;
	size_t len =
	    pkt_syn_template_opts(f, mac_a, mac_b, 0xC6120002u, 64, PKT_OPTS_OS, 0xdeadbeefu);

	pkt_syn_fill(f, 0xC612010Au, 143, 40000, 99, 7);
	CHECK_UINT_EQ(len, 74);
	CHECK(checksums_ok(f, len));
	CHECK(memcmp(f + 54, linux_opts, sizeof(linux_opts)) == 0);
	CHECK_UINT_EQ(f[14 + 20 + 12] >> 4, 10); /* data offset: 40-byte TCP header */
	CHECK_UINT_EQ(be16(f + 14 + 2), 60);	 /* IPv4 total length */
	CHECK_INT_EQ(pkt_parse(f, len, &v), PKT_TCP_OTHER);
	CHECK_UINT_EQ(v.window, PKT_OS_WIN);
	CHECK_UINT_EQ(v.mss, 1460);
	CHECK_UINT_EQ(v.wscale, 7);
	CHECK(v.sack_perm);
	CHECK(v.timestamps);
	CHECK_UINT_EQ(v.tsval, 0xdeadbeefu);
	CHECK_UINT_EQ(pkt_hit_option_flags(&v),
		      MC_HIT_SACK_PERM | MC_HIT_TIMESTAMPS | MC_HIT_WSCALE | 7u << 4);
	/* the MSS-only SYN has none of them */
	len = pkt_syn_template_opts(f, mac_a, mac_b, 0xC6120002u, 64, PKT_OPTS_MSS, 1);
	CHECK_INT_EQ(pkt_parse(f, len, &v), PKT_TCP_OTHER);
	CHECK_UINT_EQ(v.wscale, PKT_NO_WSCALE);
	CHECK(!v.sack_perm && !v.timestamps);
	CHECK_UINT_EQ(pkt_hit_option_flags(&v), 0);
}

/* The TX path's per-destination TSval: a 0-TSval template plus
 * pkt_syn_set_tsval_fresh equals a template built with that TSval. */
static void test_tsval_per_destination(void)
{
	uint8_t zero[PKT_SYN_MAX_LEN], want[PKT_SYN_MAX_LEN], f[PKT_SYN_MAX_LEN];
	struct pkt_view v;
	uint32_t rnd = 99, seen_diff = 0;

	pkt_syn_template_opts(zero, mac_a, mac_b, 0xC6120002u, 64, PKT_OPTS_OS, 0);
	for (int i = 0; i < 10000; i++) {
		uint32_t dst = rnd = rnd * 1103515245u + 12345u;
		uint32_t ts = pkt_os_tsval(0x1234, 0xabcdef01u, dst);

		if (i == 0)
			ts = 0xffffffffu;
		pkt_syn_template_opts(want, mac_a, mac_b, 0xC6120002u, 64, PKT_OPTS_OS, ts);
		pkt_syn_fill_fresh(want, dst, 143, 40000, rnd * 7u, (uint16_t)rnd);
		memcpy(f, zero, sizeof(f));
		pkt_syn_fill_fresh(f, dst, 143, 40000, rnd * 7u, (uint16_t)rnd);
		pkt_syn_set_tsval_fresh(f, ts);
		if (memcmp(f, want, PKT_SYN_MAX_LEN) != 0 || !checksums_ok(f, PKT_SYN_MAX_LEN) ||
		    pkt_parse(f, PKT_SYN_MAX_LEN, &v) != PKT_TCP_OTHER || v.tsval != ts) {
			CHECK(memcmp(f, want, PKT_SYN_MAX_LEN) == 0);
			CHECK(checksums_ok(f, PKT_SYN_MAX_LEN));
			CHECK_UINT_EQ(v.tsval, ts);
			break;
		}
		seen_diff += ts != pkt_os_tsval(0x1234, 0xabcdef01u, dst + 1);
	}
	CHECK(seen_diff > 9990); /* neighbouring hosts get different values */
	CHECK_UINT_EQ(pkt_os_tsval(5, 7, 0xC6120101u), pkt_os_tsval(5, 7, 0xC6120101u));
	CHECK(pkt_os_tsval(5, 7, 0xC6120101u) != pkt_os_tsval(5, 8, 0xC6120101u)); /* keyed */
}

/* SYN-ACK options as servers send them; a garbled option keeps what came before. */
static void test_synack_options(void)
{
	static const uint8_t linux_synack[] = {2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0, 0,
					       0, 9, 0,	   0,	 0, 1, 1, 3,  3, 14};
	static const uint8_t big_ws[] = {1, 3, 3, 200, 0}; /* NOP, WS 200, EOL (+pad) */
	static const uint8_t garbled[] = {4, 2, 3, 9, 1, 1, 1, 1};
	uint8_t f[128];
	struct pkt_view v;
	size_t len =
	    make_reply(f, 0x12, 1, 143, 2, 40000, 5, 0, linux_synack, sizeof(linux_synack));

	CHECK_INT_EQ(pkt_parse(f, len, &v), PKT_TCP_SYNACK);
	CHECK_UINT_EQ(v.mss, 1460);
	CHECK_UINT_EQ(v.wscale, 14);
	CHECK(v.sack_perm && v.timestamps);
	CHECK_UINT_EQ(v.tsval, 9);
	CHECK_UINT_EQ(MC_HIT_WSCALE_SHIFT(pkt_hit_option_flags(&v)), 14);
	uint8_t pad[8] = {0};
	memcpy(pad, big_ws, sizeof(big_ws));
	len = make_reply(f, 0x12, 1, 143, 2, 40000, 5, 0, pad, sizeof(pad));
	CHECK_INT_EQ(pkt_parse(f, len, &v), PKT_TCP_SYNACK);
	CHECK_UINT_EQ(v.wscale, 200);
	CHECK_UINT_EQ(MC_HIT_WSCALE_SHIFT(pkt_hit_option_flags(&v)), 15); /* clamped */
	len = make_reply(f, 0x12, 1, 143, 2, 40000, 5, 0, garbled, sizeof(garbled));
	CHECK_INT_EQ(pkt_parse(f, len, &v), PKT_TCP_SYNACK);
	CHECK(v.sack_perm);
	CHECK_UINT_EQ(v.wscale, PKT_NO_WSCALE); /* length 9 runs past the header: ignored */
	CHECK_UINT_EQ(v.mss, 0);
	/* a repeated option: the first counts (found by fuzz_pkt: MSS 512, then 621) */
	static const uint8_t twice[] = {2, 4, 0x02, 0x00, 2, 4, 0x02, 0x6d, 3, 3, 4, 3, 3, 9, 0, 0};
	len = make_reply(f, 0x12, 1, 143, 2, 40000, 5, 0, twice, sizeof(twice));
	CHECK_INT_EQ(pkt_parse(f, len, &v), PKT_TCP_SYNACK);
	CHECK_UINT_EQ(v.mss, 512);
	CHECK_UINT_EQ(v.wscale, 4);
}

/* The RST that closes a SYN-ACKed connection parses back as sent, with
 * independently valid checksums. */
static void test_rst_build(void)
{
	uint8_t frame[PKT_RST_LEN];
	struct pkt_view v;

	CHECK_UINT_EQ(PKT_RST_LEN, 54);
	CHECK_UINT_EQ(pkt_rst_build(frame, mac_a, mac_b, 0xC6120002u, 0xC612101Fu, 40001, 143,
				    0xDEADBEF0u, 64),
		      PKT_RST_LEN);
	CHECK(checksums_ok(frame, PKT_RST_LEN));
	CHECK_INT_EQ(pkt_parse(frame, PKT_RST_LEN, &v), PKT_TCP_RST);
	CHECK(memcmp(frame, mac_b, 6) == 0);
	CHECK(memcmp(v.src_mac, mac_a, 6) == 0);
	CHECK_UINT_EQ(v.src_ip, 0xC6120002u);
	CHECK_UINT_EQ(v.dst_ip, 0xC612101Fu);
	CHECK_UINT_EQ(v.sport, 40001);
	CHECK_UINT_EQ(v.dport, 143);
	CHECK_UINT_EQ(v.seq, 0xDEADBEF0u);
	CHECK_UINT_EQ(v.tcp_flags, PKT_F_RST);
	CHECK_UINT_EQ(v.ttl, 64);
}

static void test_synack_parse_and_truncation(void)
{
	uint8_t f[128];
	struct pkt_view v;
	size_t len = make_reply(f, 0x12, 0xC612010Au, 143, 0xC6120002u, 40000, 777, 0, mss_opt,
				sizeof(mss_opt));
	size_t not_malformed = 0;

	CHECK_INT_EQ(pkt_parse(f, len, &v), PKT_TCP_SYNACK);
	CHECK_UINT_EQ(v.src_ip, 0xC612010Au);
	CHECK_UINT_EQ(v.dst_ip, 0xC6120002u);
	CHECK_UINT_EQ(v.sport, 143);
	CHECK_UINT_EQ(v.dport, 40000);
	CHECK_UINT_EQ(v.seq, 0x11223344u);
	CHECK_UINT_EQ(v.ack, 777);
	CHECK_UINT_EQ(v.ttl, 57);
	CHECK_UINT_EQ(v.window, 0x7210);
	CHECK_UINT_EQ(v.mss, 1460);
	for (size_t cut = 0; cut < len; cut++) {
		uint8_t *copy = malloc(cut ? cut : 1); /* exact size so ASan sees any over-read */

		memcpy(copy, f, cut);
		not_malformed += pkt_parse(copy, cut, &v) != PKT_MALFORMED;
		free(copy);
	}
	CHECK_UINT_EQ(not_malformed, 0);
	memset(f + len, 0, 6);
	CHECK_INT_EQ(pkt_parse(f, len + 6, &v), PKT_TCP_SYNACK); /* Ethernet padding is ignored */
	/* IPv4 options */
	len = make_reply(f, 0x12, 1, 2, 3, 4, 5, 8, mss_opt, sizeof(mss_opt));
	CHECK_INT_EQ(pkt_parse(f, len, &v), PKT_TCP_SYNACK);
	CHECK_UINT_EQ(v.mss, 1460);
	CHECK_UINT_EQ(v.sport, 2);
	/* RST and other segments */
	len = make_reply(f, 0x14, 1, 2, 3, 4, 5, 0, NULL, 0);
	CHECK_INT_EQ(pkt_parse(f, len, &v), PKT_TCP_RST);
	CHECK_UINT_EQ(v.mss, 0);
	len = make_reply(f, 0x16, 1, 2, 3, 4, 5, 0, NULL, 0); /* SYN+ACK+RST counts as RST */
	CHECK_INT_EQ(pkt_parse(f, len, &v), PKT_TCP_RST);
	len = make_reply(f, 0x10, 1, 2, 3, 4, 5, 0, NULL, 0);
	CHECK_INT_EQ(pkt_parse(f, len, &v), PKT_TCP_OTHER);
}

static void test_bad_checksums_and_headers(void)
{
	uint8_t f[128];
	struct pkt_view v;
	size_t len =
	    make_reply(f, 0x12, 0x01020304u, 143, 0x05060708u, 999, 1, 0, mss_opt, sizeof(mss_opt));

	for (size_t i = 14; i < len; i++) { /* any flipped bit in IP or TCP is caught */
		f[i] ^= 0x04;
		if (pkt_parse(f, len, &v) != PKT_MALFORMED)
			CHECK_INT_EQ(pkt_parse(f, len, &v), PKT_MALFORMED);
		f[i] ^= 0x04;
	}
	CHECK_INT_EQ(pkt_parse(f, len, &v), PKT_TCP_SYNACK);
	f[14 + 9] = 17; /* UDP: fix the IPv4 checksum by hand */
	f[14 + 10] = f[14 + 11] = 0;
	uint16_t s = ref_csum(f + 14, 20, 0);
	f[14 + 10] = (uint8_t)(s >> 8), f[14 + 11] = (uint8_t)s;
	CHECK_INT_EQ(pkt_parse(f, len, &v), PKT_OTHER);
	f[12] = 0x86, f[13] = 0xdd; /* IPv6 */
	CHECK_INT_EQ(pkt_parse(f, len, &v), PKT_OTHER);
	f[12] = 0x81, f[13] = 0x00; /* VLAN tag */
	CHECK_INT_EQ(pkt_parse(f, len, &v), PKT_OTHER);
	/* a data offset beyond the segment, and a garbled option length */
	len = make_reply(f, 0x12, 1, 2, 3, 4, 5, 0, (const uint8_t[]){2, 0, 0, 0}, 4);
	CHECK_INT_EQ(pkt_parse(f, len, &v), PKT_TCP_SYNACK);
	CHECK_UINT_EQ(v.mss, 0);
	len = make_reply(f, 0x12, 1, 2, 3, 4, 5, 0, (const uint8_t[]){1, 1, 2, 9}, 4);
	CHECK_INT_EQ(pkt_parse(f, len, &v), PKT_TCP_SYNACK);
	CHECK_UINT_EQ(v.mss, 0);
}

/* fuzz_pkt bug: a frame whose TCP checksum failed came back MALFORMED with
 * the IPv4 addresses, TTL and source MAC filled in, although packet.h says
 * a malformed frame's fields are zero. Minimised from the harness input
 * 51 51 ff 01 01 00 00 50 02 ff ff ff 00 0e 06 df 00 ff ff ff (a forged
 * SYN-ACK with bytes flipped in its TCP header); here, a SYN-ACK with its
 * TCP checksum broken, and one with its IPv4 checksum broken. */
static void test_malformed_view_is_zero(void)
{
	static const struct pkt_view zero;
	uint8_t f[128];
	struct pkt_view v;
	size_t len = make_reply(f, 0x12, 0xC612010Au, 143, 0xC6120002u, 40000, 777, 0, mss_opt,
				sizeof(mss_opt));

	f[14 + 20 + 16] ^= 0xff; /* TCP checksum */
	CHECK_INT_EQ(pkt_parse(f, len, &v), PKT_MALFORMED);
	CHECK(memcmp(&v, &zero, sizeof(v)) == 0);
	f[14 + 20 + 16] ^= 0xff;
	f[14 + 10] ^= 0xff; /* IPv4 checksum */
	CHECK_INT_EQ(pkt_parse(f, len, &v), PKT_MALFORMED);
	CHECK(memcmp(&v, &zero, sizeof(v)) == 0);
	f[14 + 10] ^= 0xff;
	CHECK_INT_EQ(pkt_parse(f, len, &v), PKT_TCP_SYNACK);
	CHECK_UINT_EQ(v.src_ip, 0xC612010Au);
}

static void test_fragment_is_other(void)
{
	uint8_t f[128];
	struct pkt_view v;
	size_t len = make_reply(f, 0x12, 1, 2, 3, 4, 5, 0, NULL, 0);

	f[14 + 6] = 0x20; /* more fragments */
	f[14 + 10] = f[14 + 11] = 0;
	uint16_t s = ref_csum(f + 14, 20, 0);
	f[14 + 10] = (uint8_t)(s >> 8), f[14 + 11] = (uint8_t)s;
	CHECK_INT_EQ(pkt_parse(f, len, &v), PKT_OTHER);
}

static void test_arp(void)
{
	uint8_t f[PKT_ARP_LEN];
	struct pkt_view v;
	static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

	CHECK_UINT_EQ(pkt_arp_build(f, false, mac_a, 0xC6120002u, NULL, 0xC61200FEu), 60);
	CHECK(memcmp(f, bcast, 6) == 0);
	CHECK_INT_EQ(pkt_parse(f, sizeof(f), &v), PKT_ARP_REQUEST);
	CHECK_UINT_EQ(v.arp_sender_ip, 0xC6120002u);
	CHECK_UINT_EQ(v.arp_target_ip, 0xC61200FEu);
	CHECK(memcmp(v.arp_sender_mac, mac_a, 6) == 0);
	CHECK(memcmp(v.src_mac, mac_a, 6) == 0);
	CHECK_UINT_EQ(pkt_arp_build(f, true, mac_a, 0xC6120002u, mac_b, 0xC61200FEu), 60);
	CHECK(memcmp(f, mac_b, 6) == 0);
	CHECK(memcmp(f + 14 + 18, mac_b, 6) == 0); /* target hardware address */
	CHECK_INT_EQ(pkt_parse(f, sizeof(f), &v), PKT_ARP_REPLY);
	CHECK_UINT_EQ(v.arp_sender_ip, 0xC6120002u);
	CHECK_INT_EQ(pkt_parse(f, 14 + 27, &v), PKT_MALFORMED);
	CHECK_INT_EQ(pkt_parse(f, 14 + 28, &v), PKT_ARP_REPLY);
	f[14 + 4] = 8; /* not Ethernet/IPv4 ARP */
	CHECK_INT_EQ(pkt_parse(f, sizeof(f), &v), PKT_OTHER);
}

static void test_random_bytes_never_crash(void)
{
	uint32_t rnd = 1;
	int kinds[PKT_TCP_OTHER + 1] = {0};

	for (int i = 0; i < 200000; i++) {
		size_t len = (rnd = rnd * 1103515245u + 12345u) % 100;
		uint8_t *f = malloc(len ? len : 1);
		struct pkt_view v;

		for (size_t j = 0; j < len; j++)
			f[j] = (uint8_t)((rnd = rnd * 1103515245u + 12345u) >> 16);
		if (len > 14 && i % 2) { /* make half of them look like IPv4 */
			f[12] = 0x08, f[13] = 0;
			f[14] = 0x45;
		}
		kinds[pkt_parse(f, len, &v)]++;
		free(f);
	}
	CHECK(kinds[PKT_MALFORMED] > 0);
	CHECK(kinds[PKT_OTHER] > 0);
}

int main(void)
{
	RUN(test_syn_build);
	RUN(test_syn_fill_fresh);
	RUN(test_os_options);
	RUN(test_synack_options);
	RUN(test_tsval_per_destination);
	RUN(test_rst_build);
	RUN(test_synack_parse_and_truncation);
	RUN(test_bad_checksums_and_headers);
	RUN(test_malformed_view_is_zero);
	RUN(test_fragment_is_other);
	RUN(test_arp);
	RUN(test_random_bytes_never_crash);
	return test_summary();
}
