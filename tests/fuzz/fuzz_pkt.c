/* fuzz_pkt.c — the engine's receive path: pkt_parse() and the one receive
 * rule validate_reply() (engine/validate.h, what engine/rx.c runs on every
 * frame), against a reference written here.
 *
 * Input: a selector byte (which target set, forge or raw, one or several
 * source addresses), a key seed, our source addresses and source-port
 * range, then either raw frame bytes or the fields of a SYN-ACK/RST the
 * harness builds with the right source address and cookie for a target of
 * the set (then xors fuzzer-chosen bytes into it), so the accept path is
 * reached and mutated near its edge.
 *
 * Invariants: pkt_parse() agrees with an independent parser of the RFC 791 /
 * RFC 793 / RFC 826 layouts (kind and every field; a malformed frame leaves
 * the view zero); validate_reply() accepts exactly when the reference rule
 * does: SYN-ACK or RST, to the source address chosen for that target
 * (src_ips[target % n], plain modulo here), destination port and ack - 1
 * equal to the cookie (SipHash-1-3 written out here from the paper), from a
 * probed (address, port); an accepted reply's index maps back to its pair;
 * and the frames the engine sends (pkt_syn_fill, pkt_rst_build) parse back
 * to what was built. */
#include <errno.h>

#include "engine/packet.h"
#include "engine/validate.h"
#include "tests/fuzz/fuzz_util.h"

/* ---- target sets, built once ------------------------------------------- */

struct ref_set {
	const char *cidrs[3];
	size_t ncidrs;
	uint32_t first[3], last[3];
	uint16_t ports[4];
	size_t nports;
};

static const struct ref_set sets[] = {
    {{"198.18.0.0/24"}, 1, {0xc6120000}, {0xc61200ff}, {110, 143, 993, 995}, 4},
    {{"198.18.0.1"}, 1, {0xc6120001}, {0xc6120001}, {143}, 1},
    {{"198.18.5.0/30", "198.19.255.252/30", "198.18.0.128/25"},
     3,
     {0xc6120500, 0xc613fffc, 0xc6120080},
     {0xc6120503, 0xc613ffff, 0xc61200ff},
     {1, 65535, 2, 3},
     4},
};
#define NSETS (sizeof(sets) / sizeof(sets[0]))

static const struct targets *set_targets(size_t i)
{
	static struct targets *built[NSETS];
	struct targets_spec spec = {.cidrs = sets[i].cidrs,
				    .ncidrs = sets[i].ncidrs,
				    .ports = sets[i].ports,
				    .nports = sets[i].nports,
				    .ignore_safe_range = true};
	char err[256];

	if (built[i] == NULL)
		FUZZ_CHECK(targets_build(&built[i], &spec, err, sizeof(err)) == 0, "%s", err);
	return built[i];
}

static bool ref_probed(const struct ref_set *s, uint32_t addr, uint16_t port)
{
	bool in_addr = false, in_port = false;

	for (size_t i = 0; i < s->ncidrs; i++)
		in_addr |= addr >= s->first[i] && addr <= s->last[i];
	for (size_t i = 0; i < s->nports; i++)
		in_port |= s->ports[i] == port;
	return in_addr && in_port;
}

/* ---- reference SipHash-1-3 (Aumasson and Bernstein), byte by byte ------- */

static uint64_t rotl(uint64_t x, int b)
{
	return (x << b) | (x >> (64 - b));
}

static void ref_round(uint64_t v[4])
{
	v[0] += v[1], v[1] = rotl(v[1], 13), v[1] ^= v[0], v[0] = rotl(v[0], 32);
	v[2] += v[3], v[3] = rotl(v[3], 16), v[3] ^= v[2];
	v[0] += v[3], v[3] = rotl(v[3], 21), v[3] ^= v[0];
	v[2] += v[1], v[1] = rotl(v[1], 17), v[1] ^= v[2], v[2] = rotl(v[2], 32);
}

static uint64_t ref_siphash13(uint64_t k0, uint64_t k1, const uint8_t *m, size_t n)
{
	uint64_t v[4] = {k0 ^ 0x736f6d6570736575ull, k1 ^ 0x646f72616e646f6dull,
			 k0 ^ 0x6c7967656e657261ull, k1 ^ 0x7465646279746573ull};
	uint64_t b = (uint64_t)n << 56;
	size_t i = 0;

	for (; i + 8 <= n; i += 8) {
		uint64_t w = 0;
		for (int k = 7; k >= 0; k--)
			w = w << 8 | m[i + (size_t)k];
		v[3] ^= w;
		ref_round(v);
		v[0] ^= w;
	}
	for (size_t k = 0; i + k < n; k++)
		b |= (uint64_t)m[i + k] << (8 * k);
	v[3] ^= b;
	ref_round(v);
	v[0] ^= b;
	v[2] ^= 0xff;
	for (int r = 0; r < 3; r++)
		ref_round(v);
	return v[0] ^ v[1] ^ v[2] ^ v[3];
}

/* Our SYN to (dst, dport): sequence number and source port. */
static void ref_cookie(const struct cookie_key *k, uint32_t our, uint32_t dst, uint16_t dport,
		       uint16_t sfirst, uint16_t scount, uint32_t *seq, uint16_t *sport)
{
	uint8_t m[10];
	uint64_t h;

	for (int i = 0; i < 4; i++) {
		m[i] = (uint8_t)(our >> (8 * i));
		m[4 + i] = (uint8_t)(dst >> (8 * i));
	}
	m[8] = (uint8_t)dport;
	m[9] = (uint8_t)(dport >> 8);
	h = ref_siphash13(k->k0, k->k1, m, sizeof(m));
	*seq = (uint32_t)h;
	*sport = (uint16_t)(sfirst + (uint16_t)(((h >> 32) * scount) >> 32));
}

/* ---- reference frame parser -------------------------------------------- */

static uint32_t be(const uint8_t *p, size_t n)
{
	uint32_t v = 0;

	for (size_t i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

/* One's complement sum of the bytes (odd length padded with a zero byte). */
static uint32_t ones_sum(const uint8_t *p, size_t n, uint32_t sum)
{
	for (size_t i = 0; i < n; i += 2)
		sum += (uint32_t)p[i] << 8 | (i + 1 < n ? p[i + 1] : 0);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return sum;
}

static void ref_tcp(const uint8_t *t, size_t tl, struct pkt_view *v)
{
	size_t doff, i;
	uint32_t ps;

	if (tl < 20 || (doff = (size_t)(t[12] >> 4) * 4) < 20 || doff > tl) {
		v->kind = PKT_MALFORMED;
		return;
	}
	ps = (v->src_ip >> 16) + (v->src_ip & 0xffff) + (v->dst_ip >> 16) + (v->dst_ip & 0xffff) +
	     6 + (uint32_t)tl;
	if (ones_sum(t, tl, ps) != 0xffff) {
		v->kind = PKT_MALFORMED;
		return;
	}
	v->sport = (uint16_t)be(t, 2);
	v->dport = (uint16_t)be(t + 2, 2);
	v->seq = be(t + 4, 4);
	v->ack = be(t + 8, 4);
	v->tcp_flags = t[13];
	v->window = (uint16_t)be(t + 14, 2);
	for (i = 20; i < doff && t[i] != 0;) { /* options: the first well-formed MSS */
		if (t[i] == 1) {
			i++;
			continue;
		}
		if (i + 1 >= doff || t[i + 1] < 2 || i + t[i + 1] > doff)
			break;
		if (t[i] == 2 && t[i + 1] == 4) {
			v->mss = (uint16_t)be(t + i + 2, 2);
			break;
		}
		i += t[i + 1];
	}
	if (t[13] & 0x04)
		v->kind = PKT_TCP_RST;
	else if ((t[13] & 0x12) == 0x12)
		v->kind = PKT_TCP_SYNACK;
	else
		v->kind = PKT_TCP_OTHER;
}

static void ref_parse(const uint8_t *f, size_t len, struct pkt_view *v)
{
	const uint8_t *ip = f + 14, *arp = f + 14;
	size_t ihl, total;

	memset(v, 0, sizeof(*v));
	if (len < 14) {
		v->kind = PKT_MALFORMED;
		return;
	}
	memcpy(v->src_mac, f + 6, 6);
	if (be(f + 12, 2) == 0x0806) {
		if (len - 14 < 28) {
			v->kind = PKT_MALFORMED;
		} else if (be(arp, 2) != 1 || be(arp + 2, 2) != 0x0800 || arp[4] != 6 ||
			   arp[5] != 4 || (be(arp + 6, 2) != 1 && be(arp + 6, 2) != 2)) {
			v->kind = PKT_OTHER;
		} else {
			v->kind = be(arp + 6, 2) == 1 ? PKT_ARP_REQUEST : PKT_ARP_REPLY;
			memcpy(v->arp_sender_mac, arp + 8, 6);
			v->arp_sender_ip = be(arp + 14, 4);
			v->arp_target_ip = be(arp + 24, 4);
		}
	} else if (be(f + 12, 2) != 0x0800) {
		v->kind = PKT_OTHER;
	} else if (len - 14 < 20 || ip[0] >> 4 != 4 || (ihl = (size_t)(ip[0] & 15) * 4) < 20 ||
		   (total = be(ip + 2, 2)) < ihl || total > len - 14 ||
		   ones_sum(ip, ihl, 0) != 0xffff) {
		v->kind = PKT_MALFORMED;
	} else {
		v->ttl = ip[8];
		v->src_ip = be(ip + 12, 4);
		v->dst_ip = be(ip + 16, 4);
		if ((be(ip + 6, 2) & 0x3fff) != 0 || ip[9] != 6)
			v->kind = PKT_OTHER;
		else
			ref_tcp(ip + ihl, total - ihl, v);
	}
	if (v->kind == PKT_MALFORMED)
		memset(v, 0, sizeof(*v)); /* packet.h: fields not applicable are zero */
}

static void check_view(const struct pkt_view *a, const struct pkt_view *b)
{
	FUZZ_CHECK(a->kind == b->kind, "kind %d, reference %d", a->kind, b->kind);
	FUZZ_CHECK(a->src_ip == b->src_ip && a->dst_ip == b->dst_ip && a->ttl == b->ttl,
		   "IPv4 fields differ");
	FUZZ_CHECK(a->sport == b->sport && a->dport == b->dport && a->seq == b->seq &&
		       a->ack == b->ack && a->tcp_flags == b->tcp_flags && a->window == b->window,
		   "TCP fields differ");
	FUZZ_CHECK(a->mss == b->mss, "mss %u, reference %u", a->mss, b->mss);
	FUZZ_CHECK(memcmp(a->src_mac, b->src_mac, 6) == 0, "source MAC differs");
	FUZZ_CHECK(a->arp_sender_ip == b->arp_sender_ip && a->arp_target_ip == b->arp_target_ip &&
		       memcmp(a->arp_sender_mac, b->arp_sender_mac, 6) == 0,
		   "ARP fields differ");
}

/* ---- building a reply with the right cookie ---------------------------- */

static void put_be(uint8_t *p, uint32_t v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * (n - 1 - i)));
}

static size_t forge(struct fuzz_in *in, const struct validate_ctx *c, uint8_t *f, size_t cap)
{
	uint64_t pairs = targets_pairs(c->targets);
	uint32_t addr, seq;
	uint16_t port, sport, csum;
	uint8_t flags = fuzz_u8(in), nopt = fuzz_u8(in) % 11;
	size_t tl = 20 + 4 * (size_t)nopt, total = 20 + tl, len = 14 + total;

	FUZZ_CHECK(len <= cap, "frame too big");
	targets_pair(c->targets, fuzz_u32(in) % pairs, &addr, &port);
	uint32_t our = c->src_ips[addr % c->nsrc_ips];

	ref_cookie(&c->key, our, addr, port, c->sport_first, c->sport_count, &seq, &sport);
	memset(f, 0, len);
	put_be(f + 12, 0x0800, 2);
	f[14] = 0x45;
	put_be(f + 16, (uint32_t)total, 2);
	f[22] = 64;
	f[23] = 6;
	put_be(f + 26, addr, 4);
	put_be(f + 30, our, 4);
	put_be(f + 24, ~ones_sum(f + 14, 20, 0) & 0xffff, 2);
	put_be(f + 34, port, 2);
	put_be(f + 36, sport, 2);
	put_be(f + 38, fuzz_u32(in), 4);
	put_be(f + 42, seq + 1, 4);
	f[46] = (uint8_t)((tl / 4) << 4);
	f[47] = flags & 1 ? 0x14 : 0x12; /* RST+ACK or SYN+ACK */
	put_be(f + 48, fuzz_u16(in), 2);
	for (size_t i = 54; i < len; i++)
		f[i] = fuzz_u8(in);
	csum = (uint16_t)~ones_sum(f + 34, tl,
				   (addr >> 16) + (addr & 0xffff) + (our >> 16) + (our & 0xffff) +
				       6 + (uint32_t)tl);
	put_be(f + 50, csum, 2);
	/* then the fuzzer's damage: (position, xor) pairs */
	for (int k = 0; k < 4 && in->n >= 2; k++) {
		uint8_t pos = fuzz_u8(in), x = fuzz_u8(in);
		f[pos % len] ^= x;
	}
	return len;
}

/* The frames we send parse back to what we built. */
static void check_sent_frames(const struct pkt_view *reply)
{
	static const uint8_t mac_a[6] = {2, 0, 0, 0, 0, 1}, mac_b[6] = {2, 0, 0, 0, 0, 2};
	uint8_t f[PKT_SYN_LEN];
	struct pkt_view v;

	uint16_t ip_id = (uint16_t)(reply->ack ^ (reply->ack >> 16));

	pkt_syn_template(f, mac_a, mac_b, reply->dst_ip, 64);
	pkt_syn_fill(f, reply->src_ip, reply->sport, reply->dport, reply->ack - 1, ip_id);
	FUZZ_CHECK(pkt_parse(f, sizeof(f), &v) == PKT_TCP_OTHER, "our SYN parses as %d", v.kind);
	FUZZ_CHECK(v.src_ip == reply->dst_ip && v.dst_ip == reply->src_ip &&
		       v.sport == reply->dport && v.dport == reply->sport &&
		       v.seq == reply->ack - 1 && v.mss == PKT_SYN_MSS &&
		       v.tcp_flags == PKT_F_SYN && v.ip_id == ip_id,
		   "our SYN does not parse back");
	FUZZ_CHECK(pkt_rst_build(f, mac_a, mac_b, reply->dst_ip, reply->src_ip, reply->dport,
				 reply->sport, reply->ack, 64) == PKT_RST_LEN,
		   "RST length");
	FUZZ_CHECK(pkt_parse(f, PKT_RST_LEN, &v) == PKT_TCP_RST, "our RST parses as %d", v.kind);
	FUZZ_CHECK(v.src_ip == reply->dst_ip && v.dst_ip == reply->src_ip &&
		       v.sport == reply->dport && v.dport == reply->sport && v.seq == reply->ack,
		   "our RST does not parse back");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = {data, size};
	uint8_t sel = fuzz_u8(&in), frame[PKT_ETH_LEN + 0xffff];
	const struct ref_set *set = &sets[(sel >> 1) % NSETS];
	struct validate_ctx c;
	struct cookie_key key;
	struct pkt_view v, ref;
	const uint8_t *raw;
	size_t len;
	uint64_t index = UINT64_MAX;
	uint32_t want_seq, src_ips[VALIDATE_MAX_SRC_IPS], nsrc = 1;
	uint16_t want_sport, sport_first, sport_count;
	bool want;

	cookie_key_from_seed(&key, fuzz_u8(&in));
	src_ips[0] = 0xc6120002; /* 198.18.0.2, the test network's engine address */
	if (sel & 0x80) {	 /* several source addresses, chosen by the fuzzer */
		nsrc = 1 + fuzz_u8(&in) % VALIDATE_MAX_SRC_IPS;
		for (uint32_t i = 0; i < nsrc; i++)
			src_ips[i] = fuzz_u32(&in);
	}
	sport_first = fuzz_u16(&in);
	sport_count = (uint16_t)(fuzz_u8(&in) % 64 + 1);
	if (sport_first > 65535 - sport_count)
		sport_first = (uint16_t)(65535 - sport_count);
	FUZZ_CHECK(validate_ctx_init(&c, set_targets((size_t)(set - sets)), &key, src_ips, nsrc,
				     sport_first, sport_count),
		   "validate_ctx_init refused %u sources", nsrc);
	if (sel & 1) {
		len = forge(&in, &c, frame, sizeof(frame));
		raw = frame;
	} else {
		len = fuzz_take(&in, sizeof(frame), &raw);
	}
	FUZZ_CHECK(pkt_parse(raw, len, &v) == v.kind, "return value and view differ");
	ref_parse(raw, len, &ref);
	check_view(&v, &ref);

	ref_cookie(&key, ref.dst_ip, ref.src_ip, ref.sport, sport_first, sport_count, &want_seq,
		   &want_sport);
	want = (ref.kind == PKT_TCP_SYNACK || ref.kind == PKT_TCP_RST) &&
	       ref.dst_ip == src_ips[ref.src_ip % nsrc] && ref.dport == want_sport &&
	       ref.ack - 1 == want_seq && ref_probed(set, ref.src_ip, ref.sport);
	switch (validate_reply(&c, &v, &index)) {
	case VALIDATE_INVALID:
		FUZZ_CHECK(!want, "a valid reply was refused");
		break;
	case VALIDATE_SYNACK:
	case VALIDATE_RST: {
		uint32_t a;
		uint16_t p;

		FUZZ_CHECK(want, "accepted without a valid source, cookie or target");
		FUZZ_CHECK(index < targets_pairs(c.targets), "index %llu out of range",
			   (unsigned long long)index);
		targets_pair(c.targets, index, &a, &p);
		FUZZ_CHECK(a == v.src_ip && p == v.sport, "index does not map back to the pair");
		check_sent_frames(&v);
		break;
	}
	}
	/* the source choice the transmit side shares: plain modulo */
	FUZZ_CHECK(validate_source_index(&c, ref.src_ip) == ref.src_ip % nsrc,
		   "source index of %08x", ref.src_ip);
	return 0;
}
