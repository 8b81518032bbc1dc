/* test_io.c — the io loop on loopback: a connect that fails at once is
 * reported by the loop, never from io_connect(); a chain of 10,000 such
 * failures, each opening the next connection from its error event, runs
 * at one stack depth; deadlines arrive as IO_EV_TIMEOUT in deadline order
 * and a closed connection's deadline never fires.
 *
 * The immediate failure: binding to a source address this machine does not
 * own (198.18.0.1, the test range) fails with EADDRNOTAVAIL before any
 * packet exists. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tests/unit/test.h"
#include "probes/io.h"

#define LOOPBACK    0x7f000001u
#define NOT_OURS    0xc6120001u /* 198.18.0.1 */
#define CHAIN_LEN   10000
#define NCONN	    3
#define STACK_SLACK 1024 /* bytes the callback's frame may move between calls */

struct owner {
	struct io_loop *loop;
	struct io_conn conns[NCONN];
	int events[NCONN][IO_EV_TIMEOUT + 1];
	int order[8], norder; /* which connection timed out, in order */
	int chain_left;	      /* chain test: reconnects still to make */
	uintptr_t sp_min, sp_max;
};

static struct io_conn *resolve(void *ctx, uint64_t tag)
{
	struct owner *o = ctx;

	return tag < NCONN ? &o->conns[tag] : NULL;
}

static bool on_event(void *ctx, struct io_conn *c, enum io_event ev, const char *line, size_t len)
{
	struct owner *o = ctx;
	int i = (int)(c - o->conns);
	volatile char here = 0;
	uintptr_t sp = (uintptr_t)&here;

	(void)line;
	(void)len;
	o->events[i][ev]++;
	if (o->sp_min == 0 || sp < o->sp_min)
		o->sp_min = sp;
	if (sp > o->sp_max)
		o->sp_max = sp;
	if (ev == IO_EV_TIMEOUT && o->norder < 8)
		o->order[o->norder++] = i;
	if (ev == IO_EV_ERROR && o->chain_left > 0) {
		o->chain_left--;
		io_close(c);
		io_connect(c, o->loop, NOT_OURS, LOOPBACK, 9, (uint64_t)i, on_event, o);
	}
	return false;
}

static void test_connect_error_from_loop(void)
{
	static struct owner o;
	struct io_loop l;

	CHECK_INT_EQ(io_loop_init(&l, NCONN, resolve, &o), 0);
	o.loop = &l;
	CHECK_INT_EQ(io_connect(&o.conns[0], &l, NOT_OURS, LOOPBACK, 9, 0, on_event, &o), 0);
	CHECK_INT_EQ(o.events[0][IO_EV_ERROR], 0); /* not from io_connect itself */
	CHECK_INT_EQ(io_loop_poll(&l, 1000), 0);
	CHECK_INT_EQ(o.events[0][IO_EV_ERROR], 1);
	CHECK_STR_EQ(o.conns[0].err, "Cannot assign requested address");
	CHECK_INT_EQ(o.conns[0].state, IO_CONNECTING); /* the owner records a connect error */
	io_close(&o.conns[0]);
	CHECK_INT_EQ(io_loop_poll(&l, 0), 0);
	CHECK_INT_EQ(o.events[0][IO_EV_ERROR], 1); /* delivered once */
	io_loop_free(&l);
}

/* Each error event opens the next connection, which fails at once: with
 * errors delivered from io_connect this would recurse CHAIN_LEN deep. */
static void test_failure_chain_flat(void)
{
	static struct owner o;
	struct io_loop l;
	int polls = 0;

	CHECK_INT_EQ(io_loop_init(&l, NCONN, resolve, &o), 0);
	o.loop = &l;
	o.chain_left = CHAIN_LEN - 1;
	io_connect(&o.conns[0], &l, NOT_OURS, LOOPBACK, 9, 0, on_event, &o);
	while (o.events[0][IO_EV_ERROR] < CHAIN_LEN && polls++ < 4 * CHAIN_LEN)
		CHECK_INT_EQ(io_loop_poll(&l, 100), 0);
	CHECK_INT_EQ(o.events[0][IO_EV_ERROR], CHAIN_LEN);
	CHECK(o.sp_max - o.sp_min < STACK_SLACK);
	if (o.sp_max - o.sp_min >= STACK_SLACK)
		fprintf(stderr, "stack moved %zu bytes\n", (size_t)(o.sp_max - o.sp_min));
	io_close(&o.conns[0]);
	io_loop_free(&l);
}

static int listen_loopback(uint16_t *port)
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

/* Three connections to a listener that never speaks: deadlines +150, +30
 * and +90 ms fire in deadline order, as TIMEOUT events on open
 * connections; a fourth deadline on a connection closed first never fires. */
static void test_deadlines(void)
{
	static struct owner o;
	static const int64_t after[NCONN] = {150, 30, 90};
	struct io_loop l;
	uint16_t port = 0;
	int lfd = listen_loopback(&port), polls = 0;
	int64_t t0;

	CHECK(lfd >= 0);
	CHECK_INT_EQ(io_loop_init(&l, NCONN, resolve, &o), 0);
	o.loop = &l;
	for (int i = 0; i < NCONN; i++)
		io_connect(&o.conns[i], &l, 0, LOOPBACK, port, (uint64_t)i, on_event, &o);
	while (o.events[0][IO_EV_CONNECTED] + o.events[1][IO_EV_CONNECTED] +
		       o.events[2][IO_EV_CONNECTED] <
		   NCONN &&
	       polls++ < 100)
		io_loop_poll(&l, 100);
	t0 = io_now_ms();
	for (int i = 0; i < NCONN; i++) {
		io_set_deadline(&o.conns[i], t0 + 10); /* replaced just below */
		io_set_deadline(&o.conns[i], t0 + after[i]);
	}
	io_close(&o.conns[1]); /* its deadline goes with it */
	io_connect(&o.conns[1], &l, 0, LOOPBACK, port, 1, on_event, &o);
	io_set_deadline(&o.conns[1], t0 + after[1]);
	polls = 0;
	while (o.norder < NCONN && polls++ < 200)
		io_loop_poll(&l, 100);
	CHECK_INT_EQ(o.norder, NCONN);
	CHECK_INT_EQ(o.order[0], 1);
	CHECK_INT_EQ(o.order[1], 2);
	CHECK_INT_EQ(o.order[2], 0);
	CHECK(io_now_ms() - t0 >= after[0]);
	CHECK(io_now_ms() - t0 < after[0] + 1000);
	for (int i = 0; i < NCONN; i++) {
		CHECK(o.conns[i].fd >= 0); /* a timeout does not close */
		CHECK_INT_EQ(o.events[i][IO_EV_TIMEOUT], 1);
		io_close(&o.conns[i]);
	}
	io_set_deadline(&o.conns[0], t0); /* closed: no deadline, no event */
	io_loop_poll(&l, 20);
	CHECK_INT_EQ(o.events[0][IO_EV_TIMEOUT], 1);
	io_loop_free(&l);
	close(lfd);
}

int main(void)
{
	RUN(test_connect_error_from_loop);
	RUN(test_failure_chain_flat);
	RUN(test_deadlines);
	return test_summary();
}
