/* test_kpath.c — the kernel path's split of received frames (kpath.h): scan
 * replies stay the engine's (and only they can be RST), the grab stage's
 * traffic to the scan address goes to the kernel; and the port split. */
#include <errno.h>

#include "engine/kpath.h"
#include "tests/unit/test.h"

#define SPORT_BASE 32768
#define SPORT_N	   28233       /* 32768-61000, ZMap's and the engine's default */
#define OUR_IP	   0xC6120302u /* 198.18.3.2 */
#define STRANGER   0xC6120303u

struct fixture {
	struct targets *t;
	struct cookie_key key;
	struct validate_ctx c;
};

static void fixture_init(struct fixture *f)
{
	static const char *cidrs[] = {"198.18.1.0/24"};
	static const uint16_t ports[] = {110, 143, 993, 995};
	struct targets_spec spec = {
	    .cidrs = cidrs, .ncidrs = 1, .ports = ports, .nports = 4, .ignore_safe_range = true};
	const uint32_t ips[1] = {OUR_IP};
	char err[256];

	CHECK_INT_EQ(targets_build(&f->t, &spec, err, sizeof(err)), 0);
	cookie_key_for_shard(&f->key, 42, 0, 1);
	CHECK(validate_ctx_init(&f->c, f->t, &f->key, ips, 1, SPORT_BASE, SPORT_N));
}

static struct pkt_view tcp_view(enum pkt_kind kind, uint32_t src, uint16_t sport, uint32_t dst,
				uint16_t dport, uint32_t ack)
{
	return (struct pkt_view){
	    .kind = kind, .src_ip = src, .dst_ip = dst, .sport = sport, .dport = dport, .ack = ack};
}

/* Every probed pair: the reply to our SYN is the scan's; the server's
 * SYN-ACK to a kernel connect() from an ephemeral port (any ISN) is the
 * kernel's, never a scan reply, so the engine never RSTs it. */
static void test_scan_replies_and_grab_synacks(void)
{
	struct fixture f;
	uint64_t scan_ok = 0, rst_ok = 0, grab_to_kernel = 0, grab_as_scan = 0, n = 0;
	uint32_t isn = 12345;

	fixture_init(&f);
	for (uint64_t i = 0; i < targets_pairs(f.t); i++) {
		uint32_t addr;
		uint16_t port;
		uint64_t idx = UINT64_MAX;
		struct cookie ck;
		struct pkt_view v;

		targets_pair(f.t, i, &addr, &port);
		ck = cookie_make(&f.key, OUR_IP, addr, port, SPORT_BASE, SPORT_N);
		v = tcp_view(PKT_TCP_SYNACK, addr, port, OUR_IP, ck.sport, ck.seq + 1);
		scan_ok += kpath_classify(&f.c, &v, &idx) == KPATH_SCAN_SYNACK && idx == i;
		v.kind = PKT_TCP_RST;
		rst_ok += kpath_classify(&f.c, &v, &idx) == KPATH_SCAN_RST && idx == i;
		/* the kernel's connections: ephemeral ports 16384-32767, any ISN */
		for (uint32_t eph = 16384; eph < 32768; eph += 997) {
			enum kpath_class k;
			isn = isn * 1103515245u + 12345u;
			v = tcp_view(PKT_TCP_SYNACK, addr, port, OUR_IP, (uint16_t)eph, isn + 1);
			k = kpath_classify(&f.c, &v, &idx);
			grab_to_kernel += k == KPATH_KERNEL;
			grab_as_scan += k == KPATH_SCAN_SYNACK || k == KPATH_SCAN_RST;
			n++;
		}
		/* even inside --source-ports only the cookie makes a scan reply */
		v = tcp_view(PKT_TCP_SYNACK, addr, port, OUR_IP, ck.sport, ck.seq + 2);
		grab_to_kernel += kpath_classify(&f.c, &v, &idx) == KPATH_KERNEL;
		n++;
	}
	CHECK_UINT_EQ(scan_ok, targets_pairs(f.t));
	CHECK_UINT_EQ(rst_ok, targets_pairs(f.t));
	CHECK_UINT_EQ(grab_as_scan, 0);
	CHECK_UINT_EQ(grab_to_kernel, n);
	targets_free(f.t);
}

/* Data, FIN, ICMP, ARP: the kernel's when addressed to us; not ours otherwise. */
static void test_other_traffic(void)
{
	struct fixture f;
	uint64_t idx;
	struct pkt_view v;
	struct cookie ck;

	fixture_init(&f);
	v = tcp_view(PKT_TCP_OTHER, 0xC612010Bu, 143, OUR_IP, 20000, 1);
	CHECK_INT_EQ(kpath_classify(&f.c, &v, &idx), KPATH_KERNEL);
	v.dst_ip = STRANGER;
	CHECK_INT_EQ(kpath_classify(&f.c, &v, &idx), KPATH_OTHER);
	/* the engine's own SYNs, echoed by af_packet: to the server */
	v = tcp_view(PKT_TCP_OTHER, OUR_IP, 40000, 0xC612010Bu, 143, 0);
	CHECK_INT_EQ(kpath_classify(&f.c, &v, &idx), KPATH_OTHER);
	/* ICMP (parsed as OTHER with addresses set); non-IPv4 OTHER has none */
	v = (struct pkt_view){.kind = PKT_OTHER, .src_ip = 0xC61200FEu, .dst_ip = OUR_IP};
	CHECK_INT_EQ(kpath_classify(&f.c, &v, &idx), KPATH_KERNEL);
	v = (struct pkt_view){.kind = PKT_OTHER};
	CHECK_INT_EQ(kpath_classify(&f.c, &v, &idx), KPATH_OTHER);
	v = (struct pkt_view){.kind = PKT_ARP_REQUEST, .arp_target_ip = OUR_IP};
	CHECK_INT_EQ(kpath_classify(&f.c, &v, &idx), KPATH_ARP_REQUEST);
	v.arp_target_ip = STRANGER;
	CHECK_INT_EQ(kpath_classify(&f.c, &v, &idx), KPATH_OTHER);
	v = (struct pkt_view){.kind = PKT_ARP_REPLY, .arp_target_ip = OUR_IP};
	CHECK_INT_EQ(kpath_classify(&f.c, &v, &idx), KPATH_KERNEL);
	v.arp_target_ip = STRANGER;
	CHECK_INT_EQ(kpath_classify(&f.c, &v, &idx), KPATH_OTHER);
	/* a failed reply to a stranger stays invalid, as does a malformed frame */
	ck = cookie_make(&f.key, STRANGER, 0xC612010Bu, 143, SPORT_BASE, SPORT_N);
	v = tcp_view(PKT_TCP_SYNACK, 0xC612010Bu, 143, STRANGER, ck.sport, ck.seq + 1);
	CHECK_INT_EQ(kpath_classify(&f.c, &v, &idx), KPATH_INVALID);
	v = (struct pkt_view){.kind = PKT_MALFORMED, .dst_ip = OUR_IP};
	CHECK_INT_EQ(kpath_classify(&f.c, &v, &idx), KPATH_INVALID);
	targets_free(f.t);
}

/* A real RST frame built by packet.c and parsed back: the scan's when its
 * sequence is our cookie's ack, the kernel's otherwise. */
static void test_parsed_frames(void)
{
	struct fixture f;
	uint8_t frame[PKT_RST_LEN];
	const uint8_t mac[6] = {2, 0, 0, 0, 0, 1};
	struct pkt_view v;
	struct cookie ck;
	uint64_t idx;

	fixture_init(&f);
	ck = cookie_make(&f.key, OUR_IP, 0xC612010Bu, 143, SPORT_BASE, SPORT_N);
	pkt_rst_build(frame, mac, mac, 0xC612010Bu, OUR_IP, 143, ck.sport, ck.seq + 1, 64);
	pkt_parse(frame, sizeof(frame), &v);
	/* a bare RST carries no ACK; validate_reply reads v.ack */
	v.ack = ck.seq + 1;
	CHECK_INT_EQ(kpath_classify(&f.c, &v, &idx), KPATH_SCAN_RST);
	pkt_rst_build(frame, mac, mac, 0xC612010Bu, OUR_IP, 143, 20001, 7, 64);
	pkt_parse(frame, sizeof(frame), &v);
	CHECK_INT_EQ(kpath_classify(&f.c, &v, &idx), KPATH_KERNEL);
	targets_free(f.t);
}

static void test_port_split(void)
{
	uint16_t lo = 0, hi = 0;

	CHECK_INT_EQ(kpath_port_range_parse("32768\t60999\n", &lo, &hi), 0);
	CHECK_UINT_EQ(lo, 32768);
	CHECK_UINT_EQ(hi, 60999);
	CHECK_INT_EQ(kpath_port_range_parse("16384 32767", &lo, &hi), 0);
	CHECK_UINT_EQ(lo, 16384);
	CHECK_INT_EQ(kpath_port_range_parse("", &lo, &hi), -EINVAL);
	CHECK_INT_EQ(kpath_port_range_parse("5 3", &lo, &hi), -EINVAL);
	CHECK_INT_EQ(kpath_port_range_parse("0 10", &lo, &hi), -EINVAL);
	CHECK_INT_EQ(kpath_port_range_parse("1 70000", &lo, &hi), -EINVAL);
	CHECK_INT_EQ(kpath_port_range_parse("1 2 3", &lo, &hi), -EINVAL);
	/* the defaults clash: ZMap's 32768-61000 and Linux's 32768-60999 */
	CHECK(kpath_ports_overlap(SPORT_BASE, SPORT_N, 32768, 60999));
	CHECK(!kpath_ports_overlap(SPORT_BASE, SPORT_N, 16384, 32767));
	CHECK(kpath_ports_overlap(SPORT_BASE, SPORT_N, 16384, 32768));
	CHECK(kpath_ports_overlap(SPORT_BASE, SPORT_N, 61000, 65000));
	CHECK(!kpath_ports_overlap(SPORT_BASE, SPORT_N, 61001, 65535));
	CHECK(!kpath_ports_overlap(65535, 1, 1024, 65534));
	CHECK(kpath_ports_overlap(65535, 1, 1024, 65535));
	CHECK(!kpath_ports_overlap(1000, 0, 0, 65535));
}

int main(void)
{
	RUN(test_scan_replies_and_grab_synacks);
	RUN(test_other_traffic);
	RUN(test_parsed_frames);
	RUN(test_port_split);
	return test_summary();
}
