/* io.c — the transport under the protocol state machines (see io.h).
 *
 * Every call that could change what we wait for (connect, read, write,
 * handshake step) ends in set_interest(), so epoll always reflects the last
 * thing the socket or OpenSSL asked for: WANT_READ -> EPOLLIN, WANT_WRITE ->
 * EPOLLOUT. Requests from the owner (io_send, io_start_tls) never emit
 * events synchronously; events come only from io_handle(), and once the
 * owner returns false from an event the io layer stops touching the
 * connection for this round (the owner may have closed it). */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "probes/io.h"

#define IO_RX_CHUNK  4096
#define IO_READS_MAX 64 /* reads per readiness event; level-triggered epoll calls again */

struct io_lines {
	struct io_conn *c;
	io_event_fn fn;
	void *owner;
	bool stopped;
};

const char *io_state_name(enum io_state s)
{
	switch (s) {
	case IO_IDLE:
		return "idle";
	case IO_CONNECTING:
		return "connecting";
	case IO_PLAIN:
		return "plain";
	case IO_TLS_HANDSHAKE:
		return "tls-handshake";
	case IO_TLS:
		return "tls";
	case IO_RAW:
		return "raw";
	case IO_CLOSED:
		return "closed";
	}
	return "unknown";
}

static void set_interest(struct io_conn *c, int epfd, uint32_t ev)
{
	struct epoll_event e = {.events = ev, .data.u64 = c->tag};

	if (ev == c->interest)
		return;
	if (epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &e) == 0)
		c->interest = ev;
}

static void plain_interest(struct io_conn *c, int epfd)
{
	bool out = c->tx_off < c->tx_len || c->tls_wants_write;

	set_interest(c, epfd, EPOLLIN | (out ? EPOLLOUT : 0));
}

static const char *errno_reason(int e)
{
	switch (e) {
	case ECONNREFUSED:
		return "refused";
	case ECONNRESET:
		return "reset";
	case ETIMEDOUT:
		return "connect-timeout";
	case EHOSTUNREACH:
	case ENETUNREACH:
		return "unreachable";
	default:
		return strerror(e);
	}
}

/* Bind to src before connect. IP_BIND_ADDRESS_NO_PORT leaves the port to
 * connect(), which may reuse it towards other destinations: without it
 * every bound socket would hold a port of its own. */
static int bind_source(int fd, uint32_t src)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(src)};
	int one = 1;

	setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one));
	return bind(fd, (struct sockaddr *)&sa, sizeof(sa));
}

int io_connect(struct io_conn *c, int epfd, uint32_t src, uint32_t addr, uint16_t port,
	       uint64_t tag)
{
	struct sockaddr_in sa = {
	    .sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(addr)};
	/* RST on close: a census opens millions of short connections and must
	 * not pile up TIME_WAIT sockets and exhaust local ports. */
	struct linger lg = {.l_onoff = 1, .l_linger = 0};
	struct epoll_event e = {.events = EPOLLOUT, .data.u64 = tag};
	int one = 1;

	memset(c, 0, offsetof(struct io_conn, lb));
	probe_linebuf_reset(&c->lb);
	c->tag = tag;
	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		goto fail;
	setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (src != 0 && bind_source(c->fd, src) < 0)
		goto fail;
	if (connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 && errno != EINPROGRESS)
		goto fail;
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, c->fd, &e) < 0)
		goto fail;
	c->interest = EPOLLOUT;
	c->state = IO_CONNECTING;
	return 0;
fail:
	snprintf(c->err, sizeof(c->err), "%s", errno_reason(errno));
	{
		int e2 = errno;

		io_close(c);
		return -e2;
	}
}

void io_close(struct io_conn *c)
{
	if (c->ssl != NULL)
		SSL_free(c->ssl);
	c->ssl = NULL;
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	c->state = IO_CLOSED;
	c->tx_len = c->tx_off = 0;
}

/* Reason of a failed SSL call; clears OpenSSL's thread error queue. */
static void tls_reason(struct io_conn *c, int ret)
{
	int e = SSL_get_error(c->ssl, ret);
	unsigned long code = ERR_peek_last_error();

	if (code != 0) {
		const char *r = ERR_reason_error_string(code);

		snprintf(c->err, sizeof(c->err), "%s", r ? r : "ssl error");
	} else if (e == SSL_ERROR_ZERO_RETURN || (e == SSL_ERROR_SYSCALL && errno == 0)) {
		snprintf(c->err, sizeof(c->err), "eof");
	} else if (e == SSL_ERROR_SYSCALL) {
		snprintf(c->err, sizeof(c->err), "%s", errno_reason(errno));
	} else {
		snprintf(c->err, sizeof(c->err), "ssl error %d", e);
	}
	ERR_clear_error();
}

/* Write as much of tx as the socket takes. false on a hard error (err set). */
static bool flush_tx(struct io_conn *c)
{
	while (c->tx_off < c->tx_len) {
		size_t left = (size_t)(c->tx_len - c->tx_off);
		ssize_t n;

		if (c->state == IO_TLS) {
			int r;

			ERR_clear_error();
			r = SSL_write(c->ssl, c->tx + c->tx_off, (int)left);
			c->tls_wants_write = false;
			if (r <= 0) {
				int e = SSL_get_error(c->ssl, r);

				if (e == SSL_ERROR_WANT_WRITE)
					c->tls_wants_write = true;
				if (e == SSL_ERROR_WANT_WRITE || e == SSL_ERROR_WANT_READ)
					return true;
				tls_reason(c, r);
				return false;
			}
			n = r;
		} else {
			n = send(c->fd, c->tx + c->tx_off, left, MSG_NOSIGNAL);
			if (n < 0) {
				if (errno == EAGAIN || errno == EINTR)
					return true;
				snprintf(c->err, sizeof(c->err), "%s", errno_reason(errno));
				return false;
			}
		}
		c->tx_off = (uint16_t)(c->tx_off + n);
	}
	c->tx_off = c->tx_len = 0;
	return true;
}

int io_send(struct io_conn *c, int epfd, const void *data, size_t len)
{
	if (c->tx_off == c->tx_len)
		c->tx_off = c->tx_len = 0;
	if (len > sizeof(c->tx) - c->tx_len)
		return -ENOBUFS;
	memcpy(c->tx + c->tx_len, data, len);
	c->tx_len = (uint16_t)(c->tx_len + len);
	if (c->state == IO_PLAIN || c->state == IO_TLS)
		(void)flush_tx(c); /* a hard error shows up as an event on the next round */
	if (c->state == IO_PLAIN || c->state == IO_TLS)
		plain_interest(c, epfd);
	return 0;
}

int io_start_tls(struct io_conn *c, int epfd, SSL_CTX *ctx)
{
	c->ssl = SSL_new(ctx);
	if (c->ssl == NULL || !SSL_set_fd(c->ssl, c->fd)) {
		snprintf(c->err, sizeof(c->err), "SSL_new failed");
		return -ENOMEM;
	}
	SSL_set_connect_state(c->ssl);
	probe_linebuf_reset(&c->lb); /* plaintext after the STARTTLS reply is dropped */
	c->tx_off = c->tx_len = 0;
	c->state = IO_TLS_HANDSHAKE;
	set_interest(c, epfd, EPOLLOUT); /* the first flight goes out on the next round */
	return 0;
}

static void read_lines(struct io_conn *c, int epfd, io_event_fn fn, void *owner);

int io_start_raw(struct io_conn *c, int epfd, const uint8_t *tx, size_t txlen, uint8_t *rx,
		 size_t rxcap)
{
	if (txlen == 0 || txlen > UINT16_MAX || rxcap == 0 || rxcap > UINT16_MAX) {
		snprintf(c->err, sizeof(c->err), "bad raw buffers");
		return -EINVAL;
	}
	probe_linebuf_reset(&c->lb);
	c->tx_off = c->tx_len = 0;
	c->raw_tx = tx;
	c->raw_tx_len = (uint16_t)txlen;
	c->raw_tx_off = 0;
	c->raw_rx = rx;
	c->raw_rx_cap = (uint16_t)rxcap;
	c->raw_rx_len = 0;
	c->state = IO_RAW;
	set_interest(c, epfd, EPOLLOUT);
	return 0;
}

/* IO_RAW: push our bytes, then collect the server's. */
static void raw_step(struct io_conn *c, int epfd, uint32_t revents, io_event_fn fn, void *owner)
{
	ssize_t n;

	while (c->raw_tx_off < c->raw_tx_len) {
		n = send(c->fd, c->raw_tx + c->raw_tx_off, (size_t)(c->raw_tx_len - c->raw_tx_off),
			 MSG_NOSIGNAL);
		if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
			set_interest(c, epfd, EPOLLOUT);
			return;
		}
		if (n < 0) {
			snprintf(c->err, sizeof(c->err), "%s", errno_reason(errno));
			fn(owner, c, IO_EV_ERROR, NULL, 0);
			return;
		}
		c->raw_tx_off = (uint16_t)(c->raw_tx_off + n);
	}
	set_interest(c, epfd, EPOLLIN);
	if (!(revents & (EPOLLIN | EPOLLHUP | EPOLLERR)))
		return;
	if (c->raw_rx_len >= c->raw_rx_cap) {
		fn(owner, c, IO_EV_RAW, NULL, 0);
		return;
	}
	n = recv(c->fd, c->raw_rx + c->raw_rx_len, (size_t)(c->raw_rx_cap - c->raw_rx_len), 0);
	if (n > 0) {
		c->raw_rx_len = (uint16_t)(c->raw_rx_len + n);
		fn(owner, c, IO_EV_RAW, NULL, 0);
	} else if (n == 0) {
		snprintf(c->err, sizeof(c->err), "eof");
		fn(owner, c, IO_EV_EOF, NULL, 0);
	} else if (errno != EAGAIN && errno != EINTR) {
		snprintf(c->err, sizeof(c->err), "%s", errno_reason(errno));
		fn(owner, c, IO_EV_ERROR, NULL, 0);
	}
}

static void handshake_step(struct io_conn *c, int epfd, io_event_fn fn, void *owner)
{
	int r;

	ERR_clear_error();
	r = SSL_connect(c->ssl);
	if (r == 1) {
		c->state = IO_TLS;
		plain_interest(c, epfd);
		/* Application data may already sit in OpenSSL's buffer. */
		if (fn(owner, c, IO_EV_TLS_READY, NULL, 0) && c->state == IO_TLS)
			read_lines(c, epfd, fn, owner);
		return;
	}
	switch (SSL_get_error(c->ssl, r)) {
	case SSL_ERROR_WANT_READ:
		set_interest(c, epfd, EPOLLIN);
		return;
	case SSL_ERROR_WANT_WRITE:
		set_interest(c, epfd, EPOLLOUT);
		return;
	default:
		tls_reason(c, r);
		fn(owner, c, IO_EV_ERROR, NULL, 0);
		return;
	}
}

static bool on_line(void *ctx, enum probe_line_kind kind, const char *line, size_t len)
{
	struct io_lines *l = ctx;
	enum io_event ev = kind == PROBE_LINE_OK ? IO_EV_LINE : IO_EV_LINE_TOO_LONG;

	if (!l->fn(l->owner, l->c, ev, line, len))
		l->stopped = true;
	return !l->stopped;
}

/* One read from the socket or the TLS session. >0 bytes, 0 nothing now,
 * -1 the connection ended (event already emitted). */
static ssize_t read_some(struct io_conn *c, int epfd, uint8_t *buf, io_event_fn fn, void *owner)
{
	ssize_t n;

	if (c->state == IO_TLS) {
		int r;

		ERR_clear_error();
		r = SSL_read(c->ssl, buf, IO_RX_CHUNK);
		if (r > 0)
			return r;
		switch (SSL_get_error(c->ssl, r)) {
		case SSL_ERROR_WANT_READ:
			return 0;
		case SSL_ERROR_WANT_WRITE:
			c->tls_wants_write = true;
			plain_interest(c, epfd);
			return 0;
		case SSL_ERROR_ZERO_RETURN:
			fn(owner, c, IO_EV_EOF, NULL, 0);
			return -1;
		default:
			tls_reason(c, r);
			fn(owner, c, strcmp(c->err, "eof") == 0 ? IO_EV_EOF : IO_EV_ERROR, NULL, 0);
			return -1;
		}
	}
	n = recv(c->fd, buf, IO_RX_CHUNK, 0);
	if (n > 0)
		return n;
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (n == 0) {
		snprintf(c->err, sizeof(c->err), "eof");
		fn(owner, c, IO_EV_EOF, NULL, 0);
	} else {
		snprintf(c->err, sizeof(c->err), "%s", errno_reason(errno));
		fn(owner, c, IO_EV_ERROR, NULL, 0);
	}
	return -1;
}

static void read_lines(struct io_conn *c, int epfd, io_event_fn fn, void *owner)
{
	uint8_t buf[IO_RX_CHUNK];
	struct io_lines l = {.c = c, .fn = fn, .owner = owner};

	for (int i = 0; i < IO_READS_MAX; i++) {
		ssize_t n = read_some(c, epfd, buf, fn, owner);

		if (n <= 0)
			return;
		probe_linebuf_feed(&c->lb, buf, (size_t)n, on_line, &l);
		if (l.stopped)
			return;
	}
}

static void connect_done(struct io_conn *c, int epfd, io_event_fn fn, void *owner)
{
	int soerr = 0;
	socklen_t sl = sizeof(soerr);

	if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0)
		soerr = errno;
	if (soerr != 0) {
		snprintf(c->err, sizeof(c->err), "%s", errno_reason(soerr));
		fn(owner, c, IO_EV_ERROR, NULL, 0);
		return;
	}
	c->state = IO_PLAIN;
	plain_interest(c, epfd);
	fn(owner, c, IO_EV_CONNECTED, NULL, 0);
}

void io_handle(struct io_conn *c, int epfd, uint32_t revents, io_event_fn fn, void *owner)
{
	switch (c->state) {
	case IO_CONNECTING:
		connect_done(c, epfd, fn, owner);
		return;
	case IO_TLS_HANDSHAKE:
		handshake_step(c, epfd, fn, owner);
		return;
	case IO_RAW:
		raw_step(c, epfd, revents, fn, owner);
		return;
	case IO_PLAIN:
	case IO_TLS:
		if ((revents & EPOLLOUT) && (c->tx_off < c->tx_len || c->tls_wants_write)) {
			c->tls_wants_write = false;
			if (!flush_tx(c)) {
				fn(owner, c, IO_EV_ERROR, NULL, 0);
				return;
			}
			plain_interest(c, epfd);
		}
		if ((revents & (EPOLLIN | EPOLLHUP | EPOLLERR)) || c->state == IO_TLS)
			read_lines(c, epfd, fn, owner);
		return;
	case IO_IDLE:
	case IO_CLOSED:
		return;
	}
}
