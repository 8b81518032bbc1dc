/* io.h — non-blocking connections, plaintext or TLS, and the loop that
 * drives them (epoll, deadlines, deferred errors).
 *
 * The io layer owns the socket, the SSL object, the receive line buffer and
 * a small transmit buffer. It turns readiness into events for its owner:
 * connected, tls-ready, line, line-too-long, eof, error, timeout. OpenSSL's
 * WANT_READ / WANT_WRITE become epoll interest changes here and nowhere
 * else. STARTTLS is a request (io_start_tls); plaintext that the server sent
 * after the line that triggered it is discarded.
 *
 * Every event comes from io_loop_poll(), never from a request: a connect
 * that fails at once (socket, bind or connect itself) is queued and
 * delivered as IO_EV_ERROR by the next poll, so an owner that opens its
 * next connection from an error event never recurses (libuv's delayed
 * connect error). Each connection may carry one deadline (io_set_deadline);
 * the loop keeps them in a min-heap and delivers IO_EV_TIMEOUT when one
 * passes (OpenSMTPD's ioev timeouts). */
#ifndef PROBE_IO_H
#define PROBE_IO_H

#include <openssl/ssl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "probes/linebuf.h"

#define IO_TX_MAX  256
#define IO_ERR_MAX 96

enum io_state {
	IO_IDLE,
	IO_CONNECTING,
	IO_PLAIN,
	IO_TLS_HANDSHAKE,
	IO_TLS,
	IO_RAW, /* our own bytes (a hand-built hello) out, the server's raw bytes in */
	IO_CLOSED,
};

enum io_event {
	IO_EV_CONNECTED,
	IO_EV_TLS_READY,
	IO_EV_LINE,
	IO_EV_LINE_TOO_LONG,
	IO_EV_EOF,     /* orderly close by the server (err says where: "eof") */
	IO_EV_ERROR,   /* connect failure, reset, TLS failure; err holds the reason */
	IO_EV_RAW,     /* IO_RAW: more server bytes in raw_rx (or raw_rx is full) */
	IO_EV_TIMEOUT, /* the deadline passed; the connection is still open (one-shot) */
};

struct io_conn;
struct io_loop;

/* Receives every event; returns false to stop delivery of further lines
 * from the current read (the owner closed the connection or asked for TLS). */
typedef bool (*io_event_fn)(void *owner, struct io_conn *c, enum io_event ev, const char *line,
			    size_t len);

struct io_conn {
	/* the loop's: owner, deadline heap position, deferred error */
	struct io_loop *loop;
	io_event_fn fn;
	void *owner;
	int64_t deadline_ms; /* io_now_ms() clock; INT64_MAX: none */
	uint32_t heap_pos;   /* index in loop->heap, IO_HEAP_NONE when not queued */
	bool error_pending;  /* a failed connect waits for the loop to report it */

	int fd;
	enum io_state state;
	uint32_t interest; /* epoll events currently registered */
	bool tls_wants_write;
	SSL *ssl;
	uint64_t tag; /* epoll data: the owner's slot */
	uint16_t tx_len, tx_off;
	char tx[IO_TX_MAX];
	char err[IO_ERR_MAX];
	uint32_t plain_dropped; /* plaintext bytes after the line that started TLS (EAST) */
	/* IO_RAW: buffers owned by the caller (io_start_raw) */
	const uint8_t *raw_tx;
	uint8_t *raw_rx;
	uint16_t raw_tx_len, raw_tx_off;
	uint16_t raw_rx_len, raw_rx_cap;
	struct probe_linebuf lb;
};

#define IO_HEAP_NONE UINT32_MAX

/* Map an epoll tag back to its connection, or NULL when the connection it
 * named has since been closed (the owner's generation check). */
typedef struct io_conn *(*io_resolve_fn)(void *ctx, uint64_t tag);

struct io_loop {
	int epfd;
	io_resolve_fn resolve;
	void *resolve_ctx;
	struct io_conn **heap; /* min-heap on the due time: deferred errors, then deadlines */
	uint32_t nheap, cap;
	/* Optional: told the thread CPU time each socket event of c cost, io
	 * work (TLS handshake steps) and callbacks together, after it ran
	 * (resolve_ctx; the grabber's CPU budget per target). */
	void (*charge)(void *ctx, struct io_conn *c, int64_t cpu_ns);
};

const char *io_state_name(enum io_state s);

/* The loop's clock: CLOCK_MONOTONIC in milliseconds. */
int64_t io_now_ms(void);

/* A loop for at most max_conns connections open at once. 0 or -errno. */
int io_loop_init(struct io_loop *l, uint32_t max_conns, io_resolve_fn resolve, void *ctx);
void io_loop_free(struct io_loop *l);

/* Wait up to timeout_ms (less when a deadline or a deferred error is due)
 * for readiness, then deliver every event that is due. 0 or -errno. */
int io_loop_poll(struct io_loop *l, int timeout_ms);

/* Start a non-blocking connect and register with the loop; from source
 * address src (host order; the port stays the kernel's choice) unless src
 * is 0. Events go to fn(owner, ...). Always 0: a failure (err set) arrives
 * as IO_EV_ERROR from the next io_loop_poll(). The connection must be idle
 * or closed. */
int io_connect(struct io_conn *c, struct io_loop *l, uint32_t src, uint32_t addr, uint16_t port,
	       uint64_t tag, io_event_fn fn, void *owner);

/* io_connect() to an IPv6 address (16 bytes, network order). */
int io_connect6(struct io_conn *c, struct io_loop *l, const uint8_t addr[16], uint16_t port,
		uint64_t tag, io_event_fn fn, void *owner);

/* Deliver IO_EV_TIMEOUT once io_now_ms() reaches at_ms (INT64_MAX: never).
 * Replaces the previous deadline; one-shot. */
void io_set_deadline(struct io_conn *c, int64_t at_ms);

/* Queue bytes and try to send them now. 0 or -ENOBUFS when they do not fit. */
int io_send(struct io_conn *c, const void *data, size_t len);

/* Begin a TLS handshake on the connection (after STARTTLS, or at once for
 * implicit TLS). Drops buffered plaintext. Result arrives as TLS_READY or ERROR. */
int io_start_tls(struct io_conn *c, SSL_CTX *ctx);

/* Switch the connection to raw bytes (after STARTTLS, or at once for
 * implicit TLS): send tx[0..txlen), then deliver IO_EV_RAW each time the
 * server's bytes grow rx (up to rxcap). Drops buffered plaintext. Both
 * buffers must outlive the connection. */
int io_start_raw(struct io_conn *c, const uint8_t *tx, size_t txlen, uint8_t *rx, size_t rxcap);

/* Handle epoll readiness for this connection (io_loop_poll's). */
void io_handle(struct io_conn *c, uint32_t revents);

/* Close the socket (RST, no TIME_WAIT) and free the SSL object; drops the
 * deadline and any undelivered error. */
void io_close(struct io_conn *c);

#endif
