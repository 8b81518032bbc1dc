/* tls_dhguard.c — a filter BIO that reads the server's cleartext handshake.
 *
 * Method. Two nested length-prefixed layers are parsed as the bytes pass:
 * TLS records (type, version, 16-bit length) and, inside handshake records
 * (type 22), handshake messages (type, 24-bit length). Only two messages
 * are looked into: ServerHello (2) for the cipher suite after the session
 * id, and ServerKeyExchange (12) of a DHE suite, which opens with the
 * prime's 16-bit length and the prime; leading zero bytes are skipped to
 * get its real length. Everything else is skipped whole. The parser stops
 * (PROBE_DHG_DONE) at the verdict, at ServerHelloDone (14), at a
 * ChangeCipherSpec or application-data record (encrypted from there on:
 * TLS 1.3), so it costs a few comparisons per record. A malformed stream
 * is OpenSSL's to reject; the guard only ever says no to a long prime. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/obj_mac.h>

#include "probes/tls_dhguard.h"

#define REC_CCS		    20
#define REC_HANDSHAKE	    22
#define REC_APPDATA	    23
#define HS_SERVER_HELLO	    2
#define HS_SERVER_KX	    12
#define HS_SERVER_HELLO_END 14
#define SH_SID_LEN_OFF	    34 /* version (2) + random (32) */

void probe_dhg_parse_init(struct probe_dhg_parse *p, const SSL *ssl, uint32_t max_bits)
{
	memset(p, 0, sizeof(*p));
	p->ssl = ssl;
	p->max_bits = max_bits;
	p->layer = PROBE_DHG_RECORD_HEADER;
}

static bool suite_is_dhe(const struct probe_dhg_parse *p)
{
	const SSL_CIPHER *c;
	int kx;

	if (p->ssl == NULL)
		return true;
	c = SSL_CIPHER_find((SSL *)p->ssl, p->suite);
	kx = c != NULL ? SSL_CIPHER_get_kx_nid(c) : NID_undef;
	return kx == NID_kx_dhe || kx == NID_kx_dhe_psk;
}

static unsigned clz8(uint8_t b)
{
	unsigned n = 0;

	while (n < 8 && !(b & (0x80u >> n)))
		n++;
	return n;
}

/* One byte of a ServerHello or ServerKeyExchange body at offset msg_off. */
static void message_byte(struct probe_dhg_parse *p, uint8_t type, uint8_t b)
{
	uint32_t o = p->msg_off;

	if (type == HS_SERVER_HELLO) {
		if (o == SH_SID_LEN_OFF)
			p->sid_len = b;
		else if (o == SH_SID_LEN_OFF + 1u + p->sid_len)
			p->suite[0] = b;
		else if (o == SH_SID_LEN_OFF + 2u + p->sid_len) {
			p->suite[1] = b;
			p->dhe = suite_is_dhe(p);
		}
		return;
	}
	if (o < 2) { /* ServerKeyExchange (DHE): dh_p's length */
		p->p_len = p->p_len << 8 | b;
		return;
	}
	if (o - 2 >= p->p_len || p->bits != 0)
		return;
	if (b == 0) {
		p->p_zeros++;
		return;
	}
	p->bits = (p->p_len - p->p_zeros) * 8 - clz8(b);
	p->refused = p->bits > p->max_bits;
	p->layer = PROBE_DHG_DONE;
}

/* Handshake-layer bytes (the body of a handshake record). */
static void handshake_bytes(struct probe_dhg_parse *p, const uint8_t *buf, size_t len)
{
	while (len > 0 && p->layer != PROBE_DHG_DONE) {
		if (p->hhdr_len < 4) {
			p->hhdr[p->hhdr_len++] = *buf++;
			len--;
			if (p->hhdr_len == 4) {
				p->msg_left = (uint32_t)p->hhdr[1] << 16 |
					      (uint32_t)p->hhdr[2] << 8 | p->hhdr[3];
				p->msg_off = 0;
				if (p->hhdr[0] == HS_SERVER_HELLO_END)
					p->layer = PROBE_DHG_DONE;
			}
			if (p->hhdr_len == 4 && p->msg_left == 0)
				p->hhdr_len = 0;
			continue;
		}
		uint8_t type = p->hhdr[0];
		bool look = type == HS_SERVER_HELLO || (type == HS_SERVER_KX && p->dhe);
		size_t n = len < p->msg_left ? len : p->msg_left;
		if (look) {
			n = 1;
			message_byte(p, type, *buf);
		}
		buf += n;
		len -= n;
		p->msg_off += (uint32_t)n;
		p->msg_left -= (uint32_t)n;
		if (p->msg_left == 0)
			p->hhdr_len = 0;
	}
}

bool probe_dhg_parse_feed(struct probe_dhg_parse *p, const uint8_t *buf, size_t len)
{
	while (len > 0 && p->layer != PROBE_DHG_DONE) {
		if (p->layer == PROBE_DHG_RECORD_HEADER) {
			p->rhdr[p->rhdr_len++] = *buf++;
			len--;
			if (p->rhdr_len < 5)
				continue;
			p->rhdr_len = 0;
			p->rec_left = (uint16_t)(p->rhdr[3] << 8 | p->rhdr[4]);
			if (p->rhdr[0] == REC_CCS || p->rhdr[0] == REC_APPDATA)
				p->layer = PROBE_DHG_DONE; /* encrypted from here on */
			else if (p->rec_left > 0)
				p->layer = PROBE_DHG_RECORD_BODY;
			continue;
		}
		size_t n = len < p->rec_left ? len : p->rec_left;
		if (p->rhdr[0] == REC_HANDSHAKE)
			handshake_bytes(p, buf, n);
		buf += n;
		len -= n;
		p->rec_left = (uint16_t)(p->rec_left - n);
		if (p->rec_left == 0 && p->layer == PROBE_DHG_RECORD_BODY)
			p->layer = PROBE_DHG_RECORD_HEADER;
	}
	return p->refused;
}

/* ---- the filter BIO ----------------------------------------------------- */

struct probe_dhguard {
	BIO_METHOD *method;
	int type; /* BIO_method_type() of our filters */
	uint32_t max_bits;
};

static int guard_create(BIO *b)
{
	BIO_set_data(b, NULL);
	BIO_set_init(b, 1);
	return 1;
}

static int guard_destroy(BIO *b)
{
	free(BIO_get_data(b));
	BIO_set_data(b, NULL);
	return 1;
}

static int guard_read(BIO *b, char *out, int outl)
{
	struct probe_dhg_parse *p = BIO_get_data(b);
	BIO *next = BIO_next(b);
	int n;

	if (next == NULL || p == NULL)
		return -1;
	if (p->refused)
		return -1;
	BIO_clear_retry_flags(b);
	n = BIO_read(next, out, outl);
	BIO_copy_next_retry(b);
	if (n > 0 && probe_dhg_parse_feed(p, (const uint8_t *)out, (size_t)n)) {
		BIO_clear_retry_flags(b);
		return -1; /* the handshake ends before OpenSSL sees the prime */
	}
	return n;
}

static int guard_write(BIO *b, const char *in, int inl)
{
	BIO *next = BIO_next(b);
	int n;

	if (next == NULL)
		return -1;
	BIO_clear_retry_flags(b);
	n = BIO_write(next, in, inl);
	BIO_copy_next_retry(b);
	return n;
}

static long guard_ctrl(BIO *b, int cmd, long larg, void *parg)
{
	BIO *next = BIO_next(b);

	return next != NULL ? BIO_ctrl(next, cmd, larg, parg) : 0;
}

struct probe_dhguard *probe_dhguard_new(uint32_t max_bits)
{
	struct probe_dhguard *g = calloc(1, sizeof(*g));

	if (g == NULL)
		return NULL;
	g->max_bits = max_bits;
	g->type = BIO_get_new_index() | BIO_TYPE_FILTER;
	g->method = BIO_meth_new(g->type, "mailcensus dh guard");
	if (g->method == NULL || !BIO_meth_set_create(g->method, guard_create) ||
	    !BIO_meth_set_destroy(g->method, guard_destroy) ||
	    !BIO_meth_set_read(g->method, guard_read) ||
	    !BIO_meth_set_write(g->method, guard_write) ||
	    !BIO_meth_set_ctrl(g->method, guard_ctrl)) {
		probe_dhguard_free(g);
		return NULL;
	}
	return g;
}

void probe_dhguard_free(struct probe_dhguard *g)
{
	if (g == NULL)
		return;
	BIO_meth_free(g->method);
	free(g);
}

int probe_dhguard_ctx(SSL_CTX *ctx, uint32_t max_bits)
{
	static const struct {
		uint32_t bits;
		const char *name;
	} ffdhe[] = {{2048, "ffdhe2048"},
		     {3072, "ffdhe3072"},
		     {4096, "ffdhe4096"},
		     {6144, "ffdhe6144"},
		     {8192, "ffdhe8192"}};
	char list[160] = "X25519:P-256:X448:P-521:P-384";
	size_t o = strlen(list);

	for (size_t i = 0; i < sizeof(ffdhe) / sizeof(ffdhe[0]); i++)
		if (ffdhe[i].bits <= max_bits)
			o += (size_t)snprintf(list + o, sizeof(list) - o, ":%s", ffdhe[i].name);
	return SSL_CTX_set1_groups_list(ctx, list) == 1 ? 0 : -EINVAL;
}

int probe_dhguard_attach(const struct probe_dhguard *g, SSL *ssl)
{
	BIO *sock = SSL_get_rbio(ssl);
	BIO *f;
	struct probe_dhg_parse *p;

	if (sock == NULL)
		return -EINVAL;
	f = BIO_new(g->method);
	p = malloc(sizeof(*p));
	if (f == NULL || p == NULL) {
		BIO_free(f);
		free(p);
		return -ENOMEM;
	}
	probe_dhg_parse_init(p, ssl, g->max_bits);
	BIO_set_data(f, p);
	BIO_up_ref(sock);
	BIO_push(f, sock);
	SSL_set0_rbio(ssl, f); /* drops SSL's own reference to sock */
	return 0;
}

bool probe_dhguard_refused(const struct probe_dhguard *g, SSL *ssl)
{
	BIO *f = ssl != NULL ? SSL_get_rbio(ssl) : NULL;
	const struct probe_dhg_parse *p;

	if (f == NULL || BIO_method_type(f) != g->type)
		return false;
	p = BIO_get_data(f);
	return p != NULL && p->refused;
}
