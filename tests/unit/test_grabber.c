/* test_grabber.c — the io layer and the grabber loop against scripted
 * servers on 127.0.0.1 (loopback only): a POP3 greeting written one byte at
 * a time, a silent IMAP server (greeting timeout), a port that refuses, and
 * a server that resets the connection mid-line. Each target must end in
 * exactly one record with the right error, within its timeouts. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "tests/unit/test.h"
#include "probes/grabber.h"

#define LOOPBACK 0x7f000001u

enum script {
	SCRIPT_POP3_DRIP, /* greeting in 1-byte writes, CAPA, login probe, STLS refused */
	SCRIPT_SILENT,	  /* accept, say nothing */
	SCRIPT_RESET_MID, /* half a line, then RST */
};

struct server {
	int fd;
	uint16_t port;
	enum script script;
	pthread_t thread;
};

struct results {
	int n;
	struct mc_record recs[8];
};

static int listen_any(uint16_t *port)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(LOOPBACK)};
	socklen_t sl = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 8) < 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &sl) < 0)
		return -1;
	*port = ntohs(sa.sin_port);
	return fd;
}

static void read_line(int fd)
{
	char c;

	while (read(fd, &c, 1) == 1 && c != '\n')
		;
}

static void *serve(void *arg)
{
	struct server *srv = arg;
	static const char greet[] = "+OK drip ready\r\n";
	int c = accept(srv->fd, NULL, NULL);
	struct linger lg = {1, 0};

	if (c < 0)
		return NULL;
	switch (srv->script) {
	case SCRIPT_POP3_DRIP:
		for (size_t i = 0; i < sizeof(greet) - 1; i++) {
			(void)!write(c, greet + i, 1);
			usleep(2000);
		}
		read_line(c); /* CAPA */
		(void)!write(c, "+OK\r\nUSER\r\n.\r\n", 14);
		read_line(c); /* AUTH PLAIN */
		(void)!write(c, "-ERR unknown command\r\n", 22);
		read_line(c); /* AUTH LOGIN */
		(void)!write(c, "-ERR unknown command\r\n", 22);
		read_line(c); /* STLS */
		(void)!write(c, "-ERR no TLS here\r\n", 18);
		read_line(c); /* USER, after the refused STLS */
		(void)!write(c, "+OK\r\n", 5);
		read_line(c); /* QUIT */
		break;
	case SCRIPT_SILENT:
		read_line(c); /* until the grabber gives up and closes */
		break;
	case SCRIPT_RESET_MID:
		(void)!write(c, "+OK half a li", 13);
		usleep(50000);
		setsockopt(c, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
		break;
	}
	close(c);
	return NULL;
}

static void on_record(void *ctx, struct mc_record *rec)
{
	struct results *r = ctx;

	if (r->n < 8)
		r->recs[r->n] = *rec;
	r->n++;
}

static const struct mc_record *find(const struct results *r, uint16_t port)
{
	for (int i = 0; i < r->n && i < 8; i++)
		if (r->recs[i].port == port)
			return &r->recs[i];
	return NULL;
}

static void test_scripted_servers(void)
{
	static struct results res;
	struct server srv[3] = {
	    {.script = SCRIPT_POP3_DRIP}, {.script = SCRIPT_SILENT}, {.script = SCRIPT_RESET_MID}};
	struct grab_config cfg;
	struct grabber *g;
	char err[256];
	uint16_t closed_port;
	int closed_fd = listen_any(&closed_port);
	struct timespec t0, t1;
	const struct mc_record *r;

	close(closed_fd); /* nobody listens there now: refused */
	grab_config_defaults(&cfg);
	cfg.concurrency = 4;
	cfg.connect_timeout_ms = 1000;
	cfg.read_timeout_ms = 300;
	cfg.total_timeout_ms = 3000;
	for (int i = 0; i < 3; i++) {
		srv[i].fd = listen_any(&srv[i].port);
		CHECK(srv[i].fd >= 0);
		cfg.ports[cfg.nports].port = srv[i].port;
		cfg.ports[cfg.nports++].proto = i == 1 ? MC_PROTO_IMAP : MC_PROTO_POP3;
		pthread_create(&srv[i].thread, NULL, serve, &srv[i]);
	}
	cfg.ports[cfg.nports].port = closed_port;
	cfg.ports[cfg.nports++].proto = MC_PROTO_IMAP;
	g = grabber_new(&cfg, on_record, &res, err, sizeof(err));
	CHECK(g != NULL);
	if (g == NULL)
		return;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int i = 0; i < 3; i++)
		CHECK_INT_EQ(grabber_add(g, LOOPBACK, srv[i].port), 0);
	CHECK_INT_EQ(grabber_add(g, LOOPBACK, closed_port), 0);
	CHECK_INT_EQ(grabber_add(g, LOOPBACK, 9), 0); /* no protocol configured */
	CHECK_INT_EQ(grabber_finish(g), 0);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	grabber_free(g);
	CHECK(t1.tv_sec - t0.tv_sec < 3);
	CHECK_INT_EQ(res.n, 5);

	r = find(&res, srv[0].port);
	CHECK(r != NULL);
	if (r != NULL) {
		CHECK_STR_EQ(r->error, ""); /* no STARTTLS advertised, none accepted */
		CHECK_UINT_EQ(r->banner_len, 14);
		CHECK_STR_EQ(mc_posture_name(r->posture), "no_tls");
		CHECK_INT_EQ(r->cleartext_login, MC_TRI_YES);
		CHECK_INT_EQ(r->cleartext_login_evidence, MC_EVIDENCE_BEHAVIOUR);
		CHECK_UINT_EQ(r->login_steps, 3);
		CHECK_INT_EQ(r->login[2].cmd, MC_LOGIN_CMD_POP3_USER);
		CHECK_INT_EQ(r->login[2].outcome, MC_LOGIN_ACCEPTED);
		CHECK_UINT_EQ(r->caps_pre_tls.count, 1);
	}
	r = find(&res, srv[1].port);
	CHECK(r != NULL && strcmp(r->error, "greeting: greeting-timeout") == 0);
	r = find(&res, srv[2].port);
	CHECK(r != NULL);
	if (r != NULL)
		CHECK_STR_EQ(r->error, "greeting: reset");
	r = find(&res, closed_port);
	CHECK(r != NULL && strcmp(r->error, "connect: refused") == 0);
	r = find(&res, 9);
	CHECK(r != NULL && strcmp(r->error, "config: unknown-port") == 0);
	for (int i = 0; i < 3; i++) {
		pthread_join(srv[i].thread, NULL);
		close(srv[i].fd);
	}
}

/* ---- a STARTTLS-injection-vulnerable POP3 server over real TLS ---------- */

static SSL_CTX *server_ctx(void)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
	EVP_PKEY *key = EVP_EC_gen("P-256");
	X509 *crt = X509_new();
	X509_NAME *name = X509_NAME_new();

	X509_set_version(crt, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(crt), 1);
	X509_gmtime_adj(X509_getm_notBefore(crt), 0);
	X509_gmtime_adj(X509_getm_notAfter(crt), 3600);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)"inject.test",
				   -1, -1, 0);
	X509_set_subject_name(crt, name);
	X509_set_issuer_name(crt, name);
	X509_set_pubkey(crt, key);
	X509_sign(crt, key, EVP_sha256());
	SSL_CTX_use_certificate(ctx, crt);
	SSL_CTX_use_PrivateKey(ctx, key);
	X509_NAME_free(name);
	X509_free(crt);
	EVP_PKEY_free(key);
	return ctx;
}

struct inject_server {
	int fd;
	uint16_t port;
	int conns;
	pthread_t thread;
};

/* One connection: plaintext lines until STLS (the login probe's USER is
 * accepted, other commands refused); a pipelined line that came with STLS
 * is kept and answered over TLS (the bug being tested for). */
static void inject_conn(int c, SSL_CTX *ctx)
{
	char buf[512];
	size_t have = 0;
	bool pending = false;
	SSL *ssl;

	(void)!write(c, "+OK vulnerable\r\n", 16);
	for (;;) {
		ssize_t n = read(c, buf + have, sizeof(buf) - 1 - have);
		char *nl;

		if (n <= 0)
			return;
		have += (size_t)n;
		buf[have] = '\0';
		while ((nl = strstr(buf, "\r\n")) != NULL) {
			bool stls = strncmp(buf, "STLS", 4) == 0;

			if (strncmp(buf, "CAPA", 4) == 0)
				(void)!write(c, "+OK\r\nUSER\r\nSTLS\r\n.\r\n", 20);
			else if (strncmp(buf, "USER ", 5) == 0)
				(void)!write(c, "+OK\r\n", 5);
			else if (!stls)
				(void)!write(c, "-ERR unknown command\r\n", 22);
			have -= (size_t)(nl + 2 - buf);
			memmove(buf, nl + 2, have + 1);
			if (stls) {
				pending = have > 0;
				(void)!write(c, "+OK go\r\n", 8);
				goto tls;
			}
		}
	}
tls:
	ssl = SSL_new(ctx);
	SSL_set_fd(ssl, c);
	if (SSL_accept(ssl) == 1) {
		if (pending)
			SSL_write(ssl, "-ERR unknown command\r\n", 22);
		while (SSL_read(ssl, buf, sizeof(buf)) > 0)
			SSL_write(ssl, "+OK\r\nUSER\r\n.\r\n", 14);
	}
	SSL_free(ssl);
}

static void *inject_serve(void *arg)
{
	struct inject_server *srv = arg;
	SSL_CTX *ctx = server_ctx();

	for (int i = 0; i < srv->conns; i++) {
		int c = accept(srv->fd, NULL, NULL);

		if (c < 0)
			break;
		inject_conn(c, ctx);
		close(c);
	}
	SSL_CTX_free(ctx);
	return NULL;
}

/* The plan's trace: every phase transition, in order. */
struct trace {
	int n;
	char lines[8][96];
};

static void on_trace(void *ctx, const char *line)
{
	struct trace *t = ctx;

	if (t->n < 8)
		snprintf(t->lines[t->n], sizeof(t->lines[0]), "%s", line);
	t->n++;
}

static void test_tls_and_injection(void)
{
	static struct results res;
	static struct trace tr;
	char want[96];
	struct inject_server srv = {.conns = 3}; /* main + login probe's USER + injection test */
	struct grab_config cfg;
	struct grabber *g;
	char err[256];
	const struct mc_record *r = &res.recs[0];

	srv.fd = listen_any(&srv.port);
	CHECK(srv.fd >= 0);
	pthread_create(&srv.thread, NULL, inject_serve, &srv);
	grab_config_defaults(&cfg);
	cfg.concurrency = 2;
	cfg.read_timeout_ms = 2000;
	cfg.tls_matrix = false;
	cfg.ports[0].port = srv.port;
	cfg.ports[0].proto = MC_PROTO_POP3;
	cfg.nports = 1;
	cfg.trace = on_trace;
	cfg.trace_ctx = &tr;
	g = grabber_new(&cfg, on_record, &res, err, sizeof(err));
	CHECK(g != NULL);
	if (g == NULL)
		return;
	CHECK_INT_EQ(grabber_add(g, LOOPBACK, srv.port), 0);
	CHECK_INT_EQ(grabber_finish(g), 0);
	grabber_free(g);
	pthread_join(srv.thread, NULL);
	close(srv.fd);
	CHECK_INT_EQ(res.n, 1);
	CHECK_STR_EQ(r->error, "");
	CHECK_INT_EQ(r->starttls_advertised, MC_TRI_YES);
	CHECK_INT_EQ(r->starttls_accepted, MC_TRI_YES);
	CHECK_INT_EQ(r->starttls_injection, MC_TRI_YES);
	CHECK_STR_EQ(mc_posture_name(r->posture), "starttls_optional");
	/* AUTH PLAIN, AUTH LOGIN refused on the main connection; USER +OK on its own */
	CHECK_INT_EQ(r->cleartext_login_evidence, MC_EVIDENCE_BEHAVIOUR);
	CHECK_UINT_EQ(r->login_steps, 3);
	CHECK_INT_EQ(r->login[2].cmd, MC_LOGIN_CMD_POP3_USER);
	CHECK_INT_EQ(r->login[2].outcome, MC_LOGIN_ACCEPTED);
	CHECK_UINT_EQ(r->banner_len, 14); /* "+OK vulnerable": the main connection's greeting */
	CHECK_STR_EQ(r->tls.version, "TLSv1.3");
	CHECK(r->tls.cert.present);
	CHECK(r->tls.cert.self_signed);
	CHECK(!r->tls.cert.chain_valid);
	CHECK_STR_EQ(r->tls.cert.key_type, "EC");
	CHECK_UINT_EQ(r->tls.cert.key_bits, 256);
	CHECK_STR_EQ(r->tls.cert.subject, "CN=inject.test");
	CHECK_UINT_EQ(strlen(r->tls.cert.sha256), 64);
	CHECK_UINT_EQ(r->caps_post_tls.count, 1);
	CHECK_INT_EQ(r->tls.tls1_3, MC_TRI_YES);
	CHECK_INT_EQ(r->tls.tls1_0, MC_TRI_UNKNOWN); /* matrix off */
	/* main, the USER step on its own connection, injection, done (no matrix) */
	CHECK_INT_EQ(tr.n, 4);
	snprintf(want, sizeof(want), "slot 0 127.0.0.1:%u FREE -> MAIN", srv.port);
	CHECK_STR_EQ(tr.lines[0], want);
	snprintf(want, sizeof(want), "slot 0 127.0.0.1:%u MAIN -> LOGIN", srv.port);
	CHECK_STR_EQ(tr.lines[1], want);
	snprintf(want, sizeof(want), "slot 0 127.0.0.1:%u LOGIN -> INJECT", srv.port);
	CHECK_STR_EQ(tr.lines[2], want);
	snprintf(want, sizeof(want), "slot 0 127.0.0.1:%u INJECT -> DONE", srv.port);
	CHECK_STR_EQ(tr.lines[3], want);
}

/* ---- 10,000 targets whose connect fails at once ------------------------ */

#define REFUSED_TARGETS 10000
#define NOT_OURS	0xc6120001u /* 198.18.0.1: bind fails, no packet leaves */

struct depth {
	int n, bad;
	uintptr_t sp_min, sp_max;
	int to_main, main_to_done, other; /* trace lines */
};

/* Every failing target's plan: FREE -> MAIN, MAIN -> DONE, nothing else. */
static void on_depth_trace(void *ctx, const char *line)
{
	struct depth *d = ctx;

	if (strstr(line, " FREE -> MAIN") != NULL)
		d->to_main++;
	else if (strstr(line, " MAIN -> DONE") != NULL)
		d->main_to_done++;
	else
		d->other++;
}

static void on_refused(void *ctx, struct mc_record *rec)
{
	struct depth *d = ctx;
	volatile char here = 0;
	uintptr_t sp = (uintptr_t)&here;

	d->n++;
	if (strcmp(rec->error, "connect: Cannot assign requested address") != 0)
		d->bad++;
	if (d->sp_min == 0 || sp < d->sp_min)
		d->sp_min = sp;
	if (sp > d->sp_max)
		d->sp_max = sp;
}

/* Every connect fails before a packet exists (the source address is not
 * ours). Each failure reaches the grabber from its loop: no record comes
 * out of grabber_add() for a target it just started, and the records of
 * all 10,000 targets are delivered at one stack depth. */
static void test_immediate_failures(void)
{
	struct depth d = {0};
	struct grab_config cfg;
	struct grab_stats st;
	struct grabber *g;
	char err[256];

	grab_config_defaults(&cfg);
	cfg.concurrency = 64;
	cfg.source_ips[0] = NOT_OURS;
	cfg.nsource_ips = 1;
	cfg.trace = on_depth_trace;
	cfg.trace_ctx = &d;
	g = grabber_new(&cfg, on_refused, &d, err, sizeof(err));
	CHECK(g != NULL);
	if (g == NULL)
		return;
	CHECK_INT_EQ(grabber_add(g, LOOPBACK, 110), 0);
	CHECK_INT_EQ(d.n, 0); /* started, failed, but not reported from inside the call */
	for (int i = 1; i < REFUSED_TARGETS; i++)
		CHECK_INT_EQ(grabber_add(g, LOOPBACK + (uint32_t)(i % 250), 110), 0);
	CHECK_INT_EQ(grabber_finish(g), 0);
	grabber_get_stats(g, &st);
	grabber_free(g);
	CHECK_INT_EQ(d.n, REFUSED_TARGETS);
	CHECK_INT_EQ(d.bad, 0);
	CHECK_UINT_EQ(st.targets_failed, REFUSED_TARGETS);
	CHECK_UINT_EQ(st.connections, REFUSED_TARGETS);
	CHECK(d.sp_max - d.sp_min < 4096);
	CHECK_INT_EQ(d.to_main, REFUSED_TARGETS);
	CHECK_INT_EQ(d.main_to_done, REFUSED_TARGETS);
	CHECK_INT_EQ(d.other, 0);
}

/* Two targets on one side state (concurrency 4: the pool may hold one
 * within GRAB_STATE_MAX per slot, grabber.h): the second target waits for the
 * first one's side state before its login and injection connections, and
 * both records come out whole. */
static void test_side_state_wait(void)
{
	static struct results res;
	struct inject_server srv = {.conns = 6}; /* two targets, three connections each */
	struct grab_config cfg;
	struct grab_mem mem;
	struct grabber *g;
	char err[256];

	srv.fd = listen_any(&srv.port);
	CHECK(srv.fd >= 0);
	pthread_create(&srv.thread, NULL, inject_serve, &srv);
	grab_config_defaults(&cfg);
	cfg.concurrency = 4;
	cfg.read_timeout_ms = 3000;
	cfg.tls_matrix = false;
	cfg.ports[0].port = srv.port;
	cfg.ports[0].proto = MC_PROTO_POP3;
	cfg.nports = 1;
	g = grabber_new(&cfg, on_record, &res, err, sizeof(err));
	CHECK(g != NULL);
	if (g == NULL)
		return;
	CHECK_INT_EQ(grabber_add(g, LOOPBACK, srv.port), 0);
	CHECK_INT_EQ(grabber_add(g, LOOPBACK, srv.port), 0);
	CHECK_INT_EQ(grabber_finish(g), 0);
	grabber_get_mem(g, &mem);
	grabber_free(g);
	pthread_join(srv.thread, NULL);
	close(srv.fd);
	CHECK_UINT_EQ(mem.sides_cap, 1);
	CHECK_UINT_EQ(mem.sides_peak, 1);
	CHECK(mem.side_waits >= 1);
	CHECK(mem.slot_bytes * 4 + mem.side_bytes * mem.sides_cap <= 4 * GRAB_STATE_MAX);
	CHECK_INT_EQ(res.n, 2);
	for (int i = 0; i < 2 && i < res.n; i++) {
		const struct mc_record *r = &res.recs[i];
		CHECK_STR_EQ(r->error, "");
		CHECK_INT_EQ(r->starttls_injection, MC_TRI_YES);
		CHECK_UINT_EQ(r->login_steps, 3);
		CHECK_INT_EQ(r->login[2].outcome, MC_LOGIN_ACCEPTED);
	}
}

int main(void)
{
	RUN(test_immediate_failures);
	RUN(test_tls_and_injection);
	RUN(test_side_state_wait);
	RUN(test_scripted_servers);
	return test_summary();
}
