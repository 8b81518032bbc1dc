/* test_sim_model.c — mcsim's pure parts: model, frames, delay line, options. */
#include <errno.h>
#include <string.h>

#include "tests/unit/test.h"
#include "sim_delay.h"
#include "sim_frame.h"
#include "sim_model.h"
#include "sim_options.h"

static const uint8_t mac_a[6] = {2, 0, 0, 0, 0, 1}, mac_b[6] = {2, 0, 0, 0, 0, 2};

static void test_special(void)
{
	CHECK(sim_is_special(0x0a010203)); /* 10.1.2.3 */
	CHECK(sim_is_special(0xc6130001)); /* 198.19.0.1 */
	CHECK(sim_is_special(0xffffffff)); /* broadcast */
	CHECK(sim_is_special(0x64400000)); /* 100.64.0.0 */
	CHECK(sim_is_special(0x647f0000)); /* 100.127.0.0, inside 100.64/10 */
	CHECK(!sim_is_special(0x01000000));
	CHECK(!sim_is_special(0xdfffffff)); /* 223.255.255.255 */
	CHECK(!sim_is_special(0xc6140000)); /* 198.20.0.0 */
}

static void test_density(void)
{
	struct sim_model m;
	uint64_t open143 = 0, open993 = 0, rst = 0, n = 1u << 24;
	double want143, want993, wantrst;

	sim_model_defaults(&m, 7);
	for (uint32_t a = 0x01000000; a < 0x01000000 + n; a++) {
		open143 += sim_is_open(&m, a, 143);
		open993 += sim_is_open(&m, a, 993);
		rst += sim_answer(&m, a, 143) == SIM_RST;
	}
	want143 = (double)n * 3.3e6 / SIM_ALLOWED_ADDRESSES;
	want993 = (double)n * 2.4e6 / SIM_ALLOWED_ADDRESSES;
	wantrst = (double)n * 0.02;
	fprintf(stderr, "open143 %llu (want %.0f) open993 %llu (want %.0f) rst %llu (want %.0f)\n",
		(unsigned long long)open143, want143, (unsigned long long)open993, want993,
		(unsigned long long)rst, wantrst);
	CHECK(open143 > want143 - 600 && open143 < want143 + 600);
	CHECK(open993 > want993 - 500 && open993 < want993 + 500);
	CHECK(rst > wantrst - 3000 && rst < wantrst + 3000);
	for (uint32_t a = 0x0a000000; a < 0x0a010000; a++)
		CHECK_INT_EQ(sim_answer(&m, a, 143), SIM_SILENT);
}

static void test_seed(void)
{
	struct sim_model a, b, c;
	int same_ab = 1, same_ac = 1;

	sim_model_defaults(&a, 1);
	sim_model_defaults(&b, 1);
	sim_model_defaults(&c, 2);
	for (uint32_t x = 0x05000000; x < 0x05100000; x++) {
		same_ab &= sim_is_open(&a, x, 110) == sim_is_open(&b, x, 110);
		same_ac &= sim_is_open(&a, x, 110) == sim_is_open(&c, x, 110);
	}
	CHECK(same_ab);
	CHECK(!same_ac);
}

static void test_syn_roundtrip(void)
{
	uint8_t f[SIM_FRAME_MAX];
	struct sim_in in;
	size_t len = sim_frame_syn(f, mac_a, mac_b, 0xc6120002, 0x01020304, 40000, 143, 12345);

	CHECK_UINT_EQ(len, 58);
	CHECK_INT_EQ(sim_frame_parse(f, len, &in), SIM_IN_SYN);
	CHECK_UINT_EQ(in.src_ip, 0xc6120002);
	CHECK_UINT_EQ(in.dst_ip, 0x01020304);
	CHECK_UINT_EQ(in.sport, 40000);
	CHECK_UINT_EQ(in.dport, 143);
	CHECK_UINT_EQ(in.seq, 12345);
	CHECK(memcmp(in.src_mac, mac_a, 6) == 0);
	f[len - 1] ^= 1;
	CHECK_INT_EQ(sim_frame_parse(f, len, &in), SIM_IN_BAD_CSUM);
	CHECK_INT_EQ(sim_frame_parse(f, 30, &in), SIM_IN_MALFORMED);
	CHECK_INT_EQ(sim_frame_parse(f, 10, &in), SIM_IN_MALFORMED);
}

static size_t build_kind(uint8_t *f, const struct sim_model *m, enum sim_out_kind k, uint32_t noise)
{
	struct sim_reply r = {.from_ip = 0x01020304,
			      .to_ip = 0xc6120002,
			      .from_port = 143,
			      .to_port = 40000,
			      .ack = 12346,
			      .noise = noise,
			      .kind = (uint8_t)k};
	return sim_frame_build(f, &r, m, mac_b, mac_a);
}

static void test_replies(void)
{
	struct sim_model m;
	struct sim_synack p;
	struct sim_tcp_view v;
	uint8_t f[SIM_FRAME_MAX];
	size_t len;

	sim_model_defaults(&m, 3);
	sim_synack_params(&m, 0x01020304, 143, &p);
	len = build_kind(f, &m, SIM_OUT_SYNACK, 0);
	CHECK_UINT_EQ(len, SIM_SYNACK_LEN);
	CHECK(sim_frame_tcp(f, len, &v));
	CHECK_UINT_EQ(v.flags, SIM_TCP_SYN | SIM_TCP_ACK);
	CHECK_UINT_EQ(v.ack, 12346);
	CHECK_UINT_EQ(v.seq, p.isn);
	CHECK_UINT_EQ(v.mss, p.mss);
	CHECK_UINT_EQ(v.window, p.window);
	CHECK_UINT_EQ(v.ttl, p.ttl);
	CHECK(p.ttl > 30);
	CHECK_UINT_EQ(v.src_ip, 0x01020304);
	CHECK_UINT_EQ(v.dport, 40000);
	len = build_kind(f, &m, SIM_OUT_RST, 0);
	CHECK(sim_frame_tcp(f, len, &v));
	CHECK_UINT_EQ(v.flags, SIM_TCP_RST | SIM_TCP_ACK);
	CHECK_UINT_EQ(v.ack, 12346);
	len = build_kind(f, &m, SIM_OUT_JUNK_WRONG_ACK, 0);
	CHECK(sim_frame_tcp(f, len, &v));
	CHECK(v.ack != 12346);
	len = build_kind(f, &m, SIM_OUT_JUNK_UNPROBED, 77);
	CHECK(sim_frame_tcp(f, len, &v));
	CHECK_UINT_EQ(v.src_ip >> 28, 0xf);
	CHECK_UINT_EQ(v.ack, 12346);
	for (uint32_t noise = 0; noise < 64; noise++) {
		len = build_kind(f, &m, SIM_OUT_JUNK_BAD_CSUM, noise);
		CHECK(!sim_frame_tcp(f, len, &v));
		len = build_kind(f, &m, SIM_OUT_JUNK_TRUNCATED, noise);
		CHECK(len >= SIM_ETH_LEN && len < SIM_SYNACK_LEN);
		CHECK(!sim_frame_tcp(f, len, &v));
	}
	len = build_kind(f, &m, SIM_OUT_JUNK_NON_IPV4, 0);
	CHECK(!sim_frame_tcp(f, len, &v));
}

static void test_arp(void)
{
	uint8_t req[SIM_ARP_LEN] = {0}, rep[SIM_ARP_LEN];
	uint8_t arp[] = {0,   1,  8, 0, 6, 4, 0, 1, 2, 0, 0,   0,  0, 1,
			 198, 18, 0, 2, 0, 0, 0, 0, 0, 0, 198, 18, 0, 254};
	struct sim_in in, back;

	memset(req, 0xff, 6);
	memcpy(req + 6, mac_a, 6);
	req[12] = 8;
	req[13] = 6;
	memcpy(req + 14, arp, sizeof(arp));
	CHECK_INT_EQ(sim_frame_parse(req, sizeof(req), &in), SIM_IN_ARP_REQUEST);
	CHECK_UINT_EQ(in.arp_target_ip, 0xc61200fe);
	CHECK_UINT_EQ(sim_frame_arp_reply(rep, mac_b, &in), SIM_ARP_LEN);
	CHECK_INT_EQ(sim_frame_parse(rep, sizeof(rep), &back), SIM_IN_ARP_OTHER);
	CHECK_UINT_EQ(back.arp_sender_ip, 0xc61200fe);
	CHECK_UINT_EQ(back.arp_target_ip, 0xc6120002);
	CHECK(memcmp(back.arp_sender_mac, mac_b, 6) == 0);
	CHECK(memcmp(rep, mac_a, 6) == 0);
}

static void test_delay_line(void)
{
	struct sim_delay_line d;
	struct sim_rng rng = {.state = 5};
	struct sim_reply r = {0}, out;
	uint64_t last = 0;
	int n = 0;

	CHECK_INT_EQ(sim_delay_init(&d, 1000), 0);
	for (int i = 0; i < 1000; i++) {
		r.ack = (uint32_t)(sim_rng_next(&rng) % 100000);
		CHECK(sim_delay_push(&d, r.ack, &r));
	}
	CHECK(!sim_delay_push(&d, 1, &r));
	CHECK(!sim_delay_pop_due(&d, 0, &out) || out.ack == 0);
	while (sim_delay_pop_due(&d, UINT64_MAX, &out)) {
		CHECK(out.ack >= last);
		last = out.ack;
		n++;
	}
	CHECK(n >= 999);
	sim_delay_free(&d);
}

static void test_options(void)
{
	struct sim_options o;
	char err[200];
	char *ok[] = {"mcsim",	"--list-open", "1.2.3.0/24", "--ports=995,110,143-143",
		      "--open", "143=1e7",     "--seed",     "9",
		      "--loss", "0.01",	       NULL};
	char *bad1[] = {"mcsim", "--socket", "/x", "--dup", "1.5", NULL};
	char *bad2[] = {"mcsim", "--ports", "0", NULL};
	char *bad3[] = {"mcsim", "--bogus", NULL};
	char *pass[] = {"mcsim", "--socket", "/x", "--", "--log-level=debug", NULL};

	CHECK_INT_EQ(sim_options_parse(&o, 10, ok, err, sizeof(err)), 0);
	CHECK_INT_EQ(o.mode, SIM_MODE_LIST_OPEN);
	CHECK_UINT_EQ(o.range_first, 0x01020300);
	CHECK_UINT_EQ(o.range_last, 0x010203ff);
	CHECK_UINT_EQ(o.nports, 3);
	CHECK_UINT_EQ(o.ports[0], 110);
	CHECK_UINT_EQ(o.ports[2], 995);
	CHECK_UINT_EQ(o.seed, 9);
	CHECK(o.loss_in == 0.01 && o.loss_out == 0.01);
	CHECK(sim_open_probability(&o.model, 143) > 0.0026 &&
	      sim_open_probability(&o.model, 143) < 0.0028);
	CHECK_INT_EQ(sim_options_parse(&o, 5, bad1, err, sizeof(err)), -EINVAL);
	CHECK_INT_EQ(sim_options_parse(&o, 3, bad2, err, sizeof(err)), -EINVAL);
	CHECK_INT_EQ(sim_options_parse(&o, 2, bad3, err, sizeof(err)), -EINVAL);
	CHECK_INT_EQ(sim_options_parse(&o, 5, pass, err, sizeof(err)), 0);
	CHECK_INT_EQ(o.npass, 1);
}

int main(void)
{
	RUN(test_special);
	RUN(test_density);
	RUN(test_seed);
	RUN(test_syn_roundtrip);
	RUN(test_replies);
	RUN(test_arp);
	RUN(test_delay_line);
	RUN(test_options);
	return test_summary();
}
