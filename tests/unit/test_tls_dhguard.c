/* test_tls_dhguard.c — the DH group guard's parser fed server handshake
 * bytes: ServerHello with a DHE or an ECDHE suite, then ServerKeyExchange
 * with primes of several lengths, whole, byte by byte and split across
 * records; and the group list offered for TLS 1.3. */
#include <openssl/ssl.h>
#include <string.h>

#include "tests/unit/test.h"
#include "probes/tls_dhguard.h"

#define SUITE_DHE_RSA_AES128_GCM   0x009e
#define SUITE_ECDHE_RSA_AES128_GCM 0xc02f

/* A ServerHello (empty session id) and a ServerKeyExchange whose prime is
 * p_len bytes, the first `zeros` of them 0, the next 0x80 | low. Returns
 * the handshake bytes (not yet in records). */
static size_t handshake(uint8_t *out, uint16_t suite, uint32_t p_len, uint32_t zeros)
{
	size_t o = 0;
	uint32_t sh_len = 2 + 32 + 1 + 2 + 1;

	out[o++] = 2; /* ServerHello */
	out[o++] = 0, out[o++] = 0, out[o++] = (uint8_t)sh_len;
	out[o++] = 3, out[o++] = 3;
	memset(out + o, 0x11, 32), o += 32;
	out[o++] = 0; /* session id length */
	out[o++] = (uint8_t)(suite >> 8), out[o++] = (uint8_t)suite;
	out[o++] = 0; /* compression */
	uint32_t ske_len = 2 + p_len + 2 + 1 + 2 + 1;
	out[o++] = 12; /* ServerKeyExchange */
	out[o++] = (uint8_t)(ske_len >> 16), out[o++] = (uint8_t)(ske_len >> 8),
	out[o++] = (uint8_t)ske_len;
	out[o++] = (uint8_t)(p_len >> 8), out[o++] = (uint8_t)p_len;
	memset(out + o, 0, zeros);
	memset(out + o + zeros, 0xc3, p_len - zeros);
	o += p_len;
	out[o++] = 0, out[o++] = 1, out[o++] = 2; /* g */
	out[o++] = 0, out[o++] = 1, out[o++] = 5; /* Ys */
	return o;
}

/* The handshake bytes in TLS records of at most `chunk` body bytes. */
static size_t records(uint8_t *out, const uint8_t *hs, size_t len, size_t chunk)
{
	size_t o = 0;

	for (size_t i = 0; i < len; i += chunk) {
		size_t n = len - i < chunk ? len - i : chunk;
		out[o++] = 22, out[o++] = 3, out[o++] = 3;
		out[o++] = (uint8_t)(n >> 8), out[o++] = (uint8_t)n;
		memcpy(out + o, hs + i, n);
		o += n;
	}
	return o;
}

static uint8_t hs_buf[4096], rec_buf[8192];

/* Feed a stream `step` bytes at a time; the parser's verdict. */
static bool run(SSL *ssl, uint16_t suite, uint32_t p_len, uint32_t zeros, size_t chunk, size_t step,
		uint32_t *bits)
{
	struct probe_dhg_parse p;
	size_t n = records(rec_buf, hs_buf, handshake(hs_buf, suite, p_len, zeros), chunk);
	bool refused = false;

	probe_dhg_parse_init(&p, ssl, PROBE_DH_BITS_DEFAULT);
	for (size_t i = 0; i < n; i += step)
		refused = probe_dhg_parse_feed(&p, rec_buf + i, n - i < step ? n - i : step);
	*bits = p.bits;
	return refused;
}

static void test_verdicts(void)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	SSL *ssl = ctx ? SSL_new(ctx) : NULL;
	uint32_t bits = 0;

	CHECK(ssl != NULL);
	/* 8192-bit prime, DHE suite: refused, whatever the framing */
	CHECK(run(ssl, SUITE_DHE_RSA_AES128_GCM, 1024, 0, 16384, 4096, &bits));
	CHECK_UINT_EQ(bits, 8192);
	CHECK(run(ssl, SUITE_DHE_RSA_AES128_GCM, 1024, 0, 16384, 1, &bits));
	CHECK(run(ssl, SUITE_DHE_RSA_AES128_GCM, 1024, 0, 7, 3, &bits));
	CHECK_UINT_EQ(bits, 8192);
	/* exactly at the limit: accepted; one byte more: refused */
	CHECK(!run(ssl, SUITE_DHE_RSA_AES128_GCM, 512, 0, 16384, 4096, &bits));
	CHECK_UINT_EQ(bits, 4096);
	CHECK(run(ssl, SUITE_DHE_RSA_AES128_GCM, 513, 0, 100, 5, &bits));
	CHECK_UINT_EQ(bits, 4104);
	/* leading zero bytes do not count: 600 bytes of which 100 are zero = 4000 bits */
	CHECK(!run(ssl, SUITE_DHE_RSA_AES128_GCM, 600, 100, 16384, 4096, &bits));
	CHECK_UINT_EQ(bits, 4000);
	/* an ECDHE suite's ServerKeyExchange is not a DH prime */
	CHECK(!run(ssl, SUITE_ECDHE_RSA_AES128_GCM, 1024, 0, 16384, 4096, &bits));
	CHECK_UINT_EQ(bits, 0);
	SSL_free(ssl);
	SSL_CTX_free(ctx);
}

/* Encrypted from a ChangeCipherSpec on: nothing after it is looked at. */
static void test_stops_when_encrypted(void)
{
	struct probe_dhg_parse p;
	uint8_t ccs[] = {20, 3, 3, 0, 1, 1};
	size_t n;

	probe_dhg_parse_init(&p, NULL, 2048);
	CHECK(!probe_dhg_parse_feed(&p, ccs, sizeof(ccs)));
	CHECK_INT_EQ(p.layer, PROBE_DHG_DONE);
	n = records(rec_buf, hs_buf, handshake(hs_buf, SUITE_DHE_RSA_AES128_GCM, 1024, 0), 16384);
	CHECK(!probe_dhg_parse_feed(&p, rec_buf, n));
}

/* The groups a context's ClientHello offers (supported_groups), read off
 * the wire bytes of a handshake started over memory BIOs. */
static int offered_groups(SSL_CTX *ctx, uint16_t *out, int cap)
{
	SSL *ssl = SSL_new(ctx);
	BIO *rb = BIO_new(BIO_s_mem()), *wb = BIO_new(BIO_s_mem());
	const uint8_t *b;
	int n = 0;

	SSL_set_bio(ssl, rb, wb);
	SSL_connect(ssl); /* wants to read: the ClientHello sits in wb */
	long len = BIO_get_mem_data(wb, (char **)&b);
	size_t o = 5 + 4 + 2 + 32; /* record, handshake header, version, random */
	if (len < (long)o + 1)
		goto out;
	o += 1 + b[o];				 /* session id */
	o += 2 + (size_t)(b[o] << 8 | b[o + 1]); /* cipher suites */
	o += 1 + b[o];				 /* compression */
	size_t end = o + 2 + (size_t)(b[o] << 8 | b[o + 1]);
	for (o += 2; o + 4 <= end && end <= (size_t)len;) {
		unsigned type = b[o] << 8 | b[o + 1], elen = b[o + 2] << 8 | b[o + 3];
		if (type == 10) /* supported_groups: a 2-byte list length, then the groups */
			for (size_t i = o + 6; i + 2 <= o + 4 + elen && n < cap; i += 2)
				out[n++] = (uint16_t)(b[i] << 8 | b[i + 1]);
		o += 4 + elen;
	}
out:
	SSL_free(ssl);
	return n;
}

/* The RFC 7919 groups above the limit are not offered (TLS 1.3 would
 * otherwise let the server pick ffdhe8192). */
static void test_groups(void)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	uint16_t g[32];
	bool has4096 = false, has_bigger = false, has_x25519 = false;
	int n;

	CHECK_INT_EQ(probe_dhguard_ctx(ctx, 4096), 0);
	n = offered_groups(ctx, g, 32);
	CHECK(n > 0);
	for (int i = 0; i < n; i++) {
		has_x25519 |= g[i] == 0x001d;
		has4096 |= g[i] == 0x0102;
		has_bigger |= g[i] == 0x0103 || g[i] == 0x0104; /* ffdhe6144, ffdhe8192 */
	}
	CHECK(has_x25519);
	CHECK(has4096);
	CHECK(!has_bigger);
	CHECK_INT_EQ(probe_dhguard_ctx(ctx, 8192), 0);
	n = offered_groups(ctx, g, 32);
	has_bigger = false;
	for (int i = 0; i < n; i++)
		has_bigger |= g[i] == 0x0104;
	CHECK(has_bigger);
	SSL_CTX_free(ctx);
}

int main(void)
{
	RUN(test_verdicts);
	RUN(test_stops_when_encrypted);
	RUN(test_groups);
	return test_summary();
}
