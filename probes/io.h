/* io.h — one non-blocking connection, plaintext or TLS, driven by epoll.
 *
 * The io layer owns the socket, the SSL object, the receive line buffer and
 * a small transmit buffer. It turns readiness into events for its owner:
 * connected, tls-ready, line, line-too-long, eof, error. OpenSSL's
 * WANT_READ / WANT_WRITE become epoll interest changes here and nowhere
 * else. STARTTLS is a request (io_start_tls); plaintext that the server sent
 * after the line that triggered it is discarded. */
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
	IO_EV_EOF,   /* orderly close by the server (err says where: "eof") */
	IO_EV_ERROR, /* connect failure, reset, TLS failure; err holds the reason */
	IO_EV_RAW,   /* IO_RAW: more server bytes in raw_rx (or raw_rx is full) */
};

struct io_conn;

/* Receives every event; returns false to stop delivery of further lines
 * from the current read (the owner closed the connection or asked for TLS). */
typedef bool (*io_event_fn)(void *owner, struct io_conn *c, enum io_event ev, const char *line,
			    size_t len);

struct io_conn {
	int fd;
	enum io_state state;
	uint32_t interest; /* epoll events currently registered */
	bool tls_wants_write;
	SSL *ssl;
	uint64_t tag; /* epoll data: the owner's slot */
	uint16_t tx_len, tx_off;
	char tx[IO_TX_MAX];
	char err[IO_ERR_MAX];
	/* IO_RAW: buffers owned by the caller (io_start_raw) */
	const uint8_t *raw_tx;
	uint8_t *raw_rx;
	uint16_t raw_tx_len, raw_tx_off;
	uint16_t raw_rx_len, raw_rx_cap;
	struct probe_linebuf lb;
};

const char *io_state_name(enum io_state s);

/* Start a non-blocking connect and register with epfd; from source address
 * src (host order; the port stays the kernel's choice) unless src is 0.
 * 0 or -errno (err set). */
int io_connect(struct io_conn *c, int epfd, uint32_t src, uint32_t addr, uint16_t port,
	       uint64_t tag);

/* Queue bytes and try to send them now. 0 or -ENOBUFS when they do not fit. */
int io_send(struct io_conn *c, int epfd, const void *data, size_t len);

/* Begin a TLS handshake on the connection (after STARTTLS, or at once for
 * implicit TLS). Drops buffered plaintext. Result arrives as TLS_READY or ERROR. */
int io_start_tls(struct io_conn *c, int epfd, SSL_CTX *ctx);

/* Switch the connection to raw bytes (after STARTTLS, or at once for
 * implicit TLS): send tx[0..txlen), then deliver IO_EV_RAW each time the
 * server's bytes grow rx (up to rxcap). Drops buffered plaintext. Both
 * buffers must outlive the connection. */
int io_start_raw(struct io_conn *c, int epfd, const uint8_t *tx, size_t txlen, uint8_t *rx,
		 size_t rxcap);

/* Handle epoll readiness for this connection. */
void io_handle(struct io_conn *c, int epfd, uint32_t revents, io_event_fn fn, void *owner);

/* Close the socket (RST, no TIME_WAIT) and free the SSL object. */
void io_close(struct io_conn *c);

#endif
