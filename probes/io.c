/* io.c — the transport under the protocol state machines (see io.h).
 *
 * Every call that could change what we wait for (connect, read, write,
 * handshake step) ends in set_interest(), so epoll always reflects the last
 * thing the socket or OpenSSL asked for: WANT_READ -> EPOLLIN, WANT_WRITE ->
 * EPOLLOUT. Requests from the owner (io_connect, io_send, io_start_tls)
 * never emit events synchronously; events come only from io_loop_poll()
 * (readiness through io_handle(), then the deadline heap), and once the
 * owner returns false from an event the io layer stops touching the
 * connection for this round (the owner may have closed it). */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "probes/io.h"

#define IO_RX_CHUNK    4096
#define IO_LOOP_EVENTS 512
#define IO_READS_MAX   64 /* reads per readiness event; level-triggered epoll calls again */

struct io_lines {
	struct io_conn *c;
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

static void set_interest(struct io_conn *c, uint32_t ev)
{
	struct epoll_event e = {.events = ev, .data.u64 = c->tag};

	if (ev == c->interest)
		return;
	if (epoll_ctl(c->loop->epfd, EPOLL_CTL_MOD, c->fd, &e) == 0)
		c->interest = ev;
}

static void plain_interest(struct io_conn *c)
{
	bool out = c->tx_off < c->tx_len || c->tls_wants_write;

	set_interest(c, EPOLLIN | (out ? EPOLLOUT : 0));
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

/* ---- the loop's deadline heap ---------------------------------------------
 *
 * One min-heap of connections keyed by when they are due: a deferred
 * connect error is due at once (INT64_MIN), a deadline at its time. Each
 * connection knows its index, so a new deadline or a close is O(log n). */

static int64_t heap_key(const struct io_conn *c)
{
	return c->error_pending ? INT64_MIN : c->deadline_ms;
}

static void heap_set(struct io_loop *l, uint32_t i, struct io_conn *c)
{
	l->heap[i] = c;
	c->heap_pos = i;
}

static void heap_up(struct io_loop *l, uint32_t i)
{
	struct io_conn *c = l->heap[i];

	while (i > 0 && heap_key(l->heap[(i - 1) / 2]) > heap_key(c)) {
		heap_set(l, i, l->heap[(i - 1) / 2]);
		i = (i - 1) / 2;
	}
	heap_set(l, i, c);
}

static void heap_down(struct io_loop *l, uint32_t i)
{
	struct io_conn *c = l->heap[i];

	for (;;) {
		uint32_t k = 2 * i + 1;

		if (k >= l->nheap)
			break;
		if (k + 1 < l->nheap && heap_key(l->heap[k + 1]) < heap_key(l->heap[k]))
			k++;
		if (heap_key(l->heap[k]) >= heap_key(c))
			break;
		heap_set(l, i, l->heap[k]);
		i = k;
	}
	heap_set(l, i, c);
}

static bool heap_holds(const struct io_conn *c)
{
	const struct io_loop *l = c->loop;

	return l != NULL && c->heap_pos < l->nheap && l->heap[c->heap_pos] == c;
}

static void heap_remove(struct io_conn *c)
{
	struct io_loop *l = c->loop;
	uint32_t i = c->heap_pos;
	struct io_conn *moved;

	if (!heap_holds(c))
		return;
	c->heap_pos = IO_HEAP_NONE;
	if (--l->nheap == i)
		return;
	moved = l->heap[l->nheap];
	heap_set(l, i, moved);
	heap_up(l, i);
	heap_down(l, moved->heap_pos);
}

/* (Re)queue c under its current key. The heap has a place for every
 * connection the loop was sized for; a connection is in it at most once. */
static void heap_update(struct io_conn *c)
{
	struct io_loop *l = c->loop;

	if (heap_key(c) == INT64_MAX) {
		heap_remove(c);
		return;
	}
	if (!heap_holds(c)) {
		if (l->nheap == l->cap)
			return; /* cannot happen: one entry per connection, cap = connections */
		heap_set(l, l->nheap++, c);
	}
	heap_up(l, c->heap_pos);
	heap_down(l, c->heap_pos);
}

int64_t io_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void io_set_deadline(struct io_conn *c, int64_t at_ms)
{
	c->deadline_ms = at_ms;
	if (c->loop != NULL && c->fd >= 0) /* a closed connection has no deadline */
		heap_update(c);
}

/* ---- connections ------------------------------------------------------------ */

/* A connect that failed before it was in flight: close it now, report it
 * from the loop (IO_EV_ERROR with err set). */
static int connect_failed(struct io_conn *c, int e)
{
	snprintf(c->err, sizeof(c->err), "%s", errno_reason(e));
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	c->state = IO_CONNECTING; /* the owner sees a connect error */
	c->error_pending = true;
	heap_update(c);
	return 0;
}

/* Start a non-blocking connect to sa (IPv4 or IPv6), from src when not 0 (IPv4 only). */
static int io_connect_sa(struct io_conn *c, struct io_loop *l, uint32_t src,
			 const struct sockaddr *sa, socklen_t salen, uint64_t tag, io_event_fn fn,
			 void *owner)
{
	/* RST on close: a census opens millions of short connections and must
	 * not pile up TIME_WAIT sockets and exhaust local ports. */
	struct linger lg = {.l_onoff = 1, .l_linger = 0};
	struct epoll_event e = {.events = EPOLLOUT, .data.u64 = tag};
	int one = 1;

	heap_remove(c); /* a fresh or closed connection is not queued; be sure */
	memset(c, 0, offsetof(struct io_conn, lb));
	probe_linebuf_reset(&c->lb);
	c->loop = l;
	c->fn = fn;
	c->owner = owner;
	c->deadline_ms = INT64_MAX;
	c->heap_pos = IO_HEAP_NONE;
	c->tag = tag;
	c->fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		return connect_failed(c, errno);
	setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (src != 0 && bind_source(c->fd, src) < 0)
		return connect_failed(c, errno);
	if (connect(c->fd, sa, salen) < 0 && errno != EINPROGRESS)
		return connect_failed(c, errno);
	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, c->fd, &e) < 0)
		return connect_failed(c, errno);
	c->interest = EPOLLOUT;
	c->state = IO_CONNECTING;
	return 0;
}

int io_connect(struct io_conn *c, struct io_loop *l, uint32_t src, uint32_t addr, uint16_t port,
	       uint64_t tag, io_event_fn fn, void *owner)
{
	struct sockaddr_in sa = {
	    .sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(addr)};

	return io_connect_sa(c, l, src, (const struct sockaddr *)&sa, sizeof(sa), tag, fn, owner);
}

int io_connect6(struct io_conn *c, struct io_loop *l, const uint8_t addr[16], uint16_t port,
		uint64_t tag, io_event_fn fn, void *owner)
{
	struct sockaddr_in6 sa = {.sin6_family = AF_INET6, .sin6_port = htons(port)};

	memcpy(&sa.sin6_addr, addr, 16);
	return io_connect_sa(c, l, 0, (const struct sockaddr *)&sa, sizeof(sa), tag, fn, owner);
}

void io_close(struct io_conn *c)
{
	heap_remove(c);
	c->error_pending = false;
	c->deadline_ms = INT64_MAX;
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

int io_send(struct io_conn *c, const void *data, size_t len)
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
		plain_interest(c);
	return 0;
}

int io_start_tls(struct io_conn *c, SSL_CTX *ctx)
{
	c->ssl = SSL_new(ctx);
	if (c->ssl == NULL || !SSL_set_fd(c->ssl, c->fd)) {
		snprintf(c->err, sizeof(c->err), "SSL_new failed");
		return -ENOMEM;
	}
	SSL_set_connect_state(c->ssl);
	c->plain_dropped += c->lb.len;
	probe_linebuf_reset(&c->lb); /* plaintext after the STARTTLS reply is dropped */
	c->tx_off = c->tx_len = 0;
	c->state = IO_TLS_HANDSHAKE;
	set_interest(c, EPOLLOUT); /* the first flight goes out on the next round */
	return 0;
}

static void read_lines(struct io_conn *c);

int io_start_raw(struct io_conn *c, const uint8_t *tx, size_t txlen, uint8_t *rx, size_t rxcap)
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
	set_interest(c, EPOLLOUT);
	return 0;
}

/* IO_RAW: push our bytes, then collect the server's. */
static void raw_step(struct io_conn *c, uint32_t revents)
{
	ssize_t n;

	while (c->raw_tx_off < c->raw_tx_len) {
		n = send(c->fd, c->raw_tx + c->raw_tx_off, (size_t)(c->raw_tx_len - c->raw_tx_off),
			 MSG_NOSIGNAL);
		if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
			set_interest(c, EPOLLOUT);
			return;
		}
		if (n < 0) {
			snprintf(c->err, sizeof(c->err), "%s", errno_reason(errno));
			c->fn(c->owner, c, IO_EV_ERROR, NULL, 0);
			return;
		}
		c->raw_tx_off = (uint16_t)(c->raw_tx_off + n);
	}
	set_interest(c, EPOLLIN);
	if (!(revents & (EPOLLIN | EPOLLHUP | EPOLLERR)))
		return;
	if (c->raw_rx_len >= c->raw_rx_cap) {
		c->fn(c->owner, c, IO_EV_RAW, NULL, 0);
		return;
	}
	n = recv(c->fd, c->raw_rx + c->raw_rx_len, (size_t)(c->raw_rx_cap - c->raw_rx_len), 0);
	if (n > 0) {
		c->raw_rx_len = (uint16_t)(c->raw_rx_len + n);
		c->fn(c->owner, c, IO_EV_RAW, NULL, 0);
	} else if (n == 0) {
		snprintf(c->err, sizeof(c->err), "eof");
		c->fn(c->owner, c, IO_EV_EOF, NULL, 0);
	} else if (errno != EAGAIN && errno != EINTR) {
		snprintf(c->err, sizeof(c->err), "%s", errno_reason(errno));
		c->fn(c->owner, c, IO_EV_ERROR, NULL, 0);
	}
}

static void handshake_step(struct io_conn *c)
{
	int r;

	ERR_clear_error();
	r = SSL_connect(c->ssl);
	if (r == 1) {
		c->state = IO_TLS;
		plain_interest(c);
		/* Application data may already sit in OpenSSL's buffer. */
		if (c->fn(c->owner, c, IO_EV_TLS_READY, NULL, 0) && c->state == IO_TLS)
			read_lines(c);
		return;
	}
	switch (SSL_get_error(c->ssl, r)) {
	case SSL_ERROR_WANT_READ:
		set_interest(c, EPOLLIN);
		return;
	case SSL_ERROR_WANT_WRITE:
		set_interest(c, EPOLLOUT);
		return;
	default:
		tls_reason(c, r);
		c->fn(c->owner, c, IO_EV_ERROR, NULL, 0);
		return;
	}
}

static bool on_line(void *ctx, enum probe_line_kind kind, const char *line, size_t len)
{
	struct io_lines *l = ctx;
	enum io_event ev = kind == PROBE_LINE_OK ? IO_EV_LINE : IO_EV_LINE_TOO_LONG;

	if (!l->c->fn(l->c->owner, l->c, ev, line, len))
		l->stopped = true;
	return !l->stopped;
}

/* One read from the socket or the TLS session. >0 bytes, 0 nothing now,
 * -1 the connection ended (event already emitted). */
static ssize_t read_some(struct io_conn *c, uint8_t *buf)
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
			plain_interest(c);
			return 0;
		case SSL_ERROR_ZERO_RETURN:
			c->fn(c->owner, c, IO_EV_EOF, NULL, 0);
			return -1;
		default:
			tls_reason(c, r);
			c->fn(c->owner, c, strcmp(c->err, "eof") == 0 ? IO_EV_EOF : IO_EV_ERROR,
			      NULL, 0);
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
		c->fn(c->owner, c, IO_EV_EOF, NULL, 0);
	} else {
		snprintf(c->err, sizeof(c->err), "%s", errno_reason(errno));
		c->fn(c->owner, c, IO_EV_ERROR, NULL, 0);
	}
	return -1;
}

static void read_lines(struct io_conn *c)
{
	uint8_t buf[IO_RX_CHUNK];
	struct io_lines l = {.c = c};

	for (int i = 0; i < IO_READS_MAX; i++) {
		ssize_t n = read_some(c, buf);

		if (n <= 0)
			return;
		size_t used = probe_linebuf_feed(&c->lb, buf, (size_t)n, on_line, &l);

		if (l.stopped) {
			if (c->state ==
			    IO_TLS_HANDSHAKE) /* counted: a server's pipelined plaintext */
				c->plain_dropped += (uint32_t)((size_t)n - used);
			return;
		}
	}
}

static void connect_done(struct io_conn *c)
{
	int soerr = 0;
	socklen_t sl = sizeof(soerr);

	if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0)
		soerr = errno;
	if (soerr != 0) {
		snprintf(c->err, sizeof(c->err), "%s", errno_reason(soerr));
		c->fn(c->owner, c, IO_EV_ERROR, NULL, 0);
		return;
	}
	c->state = IO_PLAIN;
	plain_interest(c);
	c->fn(c->owner, c, IO_EV_CONNECTED, NULL, 0);
}

void io_handle(struct io_conn *c, uint32_t revents)
{
	switch (c->state) {
	case IO_CONNECTING:
		connect_done(c);
		return;
	case IO_TLS_HANDSHAKE:
		handshake_step(c);
		return;
	case IO_RAW:
		raw_step(c, revents);
		return;
	case IO_PLAIN:
	case IO_TLS:
		if ((revents & EPOLLOUT) && (c->tx_off < c->tx_len || c->tls_wants_write)) {
			c->tls_wants_write = false;
			if (!flush_tx(c)) {
				c->fn(c->owner, c, IO_EV_ERROR, NULL, 0);
				return;
			}
			plain_interest(c);
		}
		if ((revents & (EPOLLIN | EPOLLHUP | EPOLLERR)) || c->state == IO_TLS)
			read_lines(c);
		return;
	case IO_IDLE:
	case IO_CLOSED:
		return;
	}
}

/* ---- the loop ---------------------------------------------------------------- */

int io_loop_init(struct io_loop *l, uint32_t max_conns, io_resolve_fn resolve, void *ctx)
{
	memset(l, 0, sizeof(*l));
	l->epfd = -1;
	l->heap = calloc(max_conns > 0 ? max_conns : 1, sizeof(*l->heap));
	if (l->heap == NULL)
		return -ENOMEM;
	l->cap = max_conns;
	l->resolve = resolve;
	l->resolve_ctx = ctx;
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (l->epfd < 0) {
		int e = errno;

		io_loop_free(l);
		return -e;
	}
	return 0;
}

void io_loop_free(struct io_loop *l)
{
	if (l->epfd >= 0)
		close(l->epfd);
	l->epfd = -1;
	free(l->heap);
	l->heap = NULL;
	l->nheap = l->cap = 0;
}

/* Deliver what is due: deferred connect errors first (key INT64_MIN), then
 * passed deadlines. At most as many as were queued when the pass began, so
 * an owner that keeps failing (each error opens a connection that fails at
 * once) still lets the next epoll_wait run. */
static void loop_expire(struct io_loop *l, int64_t now)
{
	for (uint32_t n = l->nheap; n > 0 && l->nheap > 0 && heap_key(l->heap[0]) <= now; n--) {
		struct io_conn *c = l->heap[0];
		bool err = c->error_pending;

		heap_remove(c);
		c->error_pending = false;
		if (!err)
			c->deadline_ms = INT64_MAX; /* one-shot */
		c->fn(c->owner, c, err ? IO_EV_ERROR : IO_EV_TIMEOUT, NULL, 0);
	}
}

static int64_t thread_cpu_ns(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) != 0)
		return 0;
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int io_loop_poll(struct io_loop *l, int timeout_ms)
{
	struct epoll_event evs[IO_LOOP_EVENTS];
	int n;

	if (l->nheap > 0) {
		int64_t key = heap_key(l->heap[0]), now = io_now_ms();

		if (key <= now)
			timeout_ms = 0;
		else if (key - now < timeout_ms)
			timeout_ms = (int)(key - now);
	}
	n = epoll_wait(l->epfd, evs, IO_LOOP_EVENTS, timeout_ms);
	if (n < 0 && errno != EINTR)
		return -errno;
	for (int i = 0; i < n; i++) {
		struct io_conn *c = l->resolve(l->resolve_ctx, evs[i].data.u64);

		if (c == NULL || c->fd < 0)
			continue;
		if (l->charge == NULL) {
			io_handle(c, evs[i].events);
			continue;
		}
		int64_t t0 = thread_cpu_ns();
		io_handle(c, evs[i].events);
		l->charge(l->resolve_ctx, c, thread_cpu_ns() - t0);
	}
	loop_expire(l, io_now_ms());
	return 0;
}
