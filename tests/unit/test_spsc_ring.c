/* The hit ring: FIFO order, full ring refuses without blocking, and a
 * producer thread and a consumer thread move a million hits without loss. */
#include <pthread.h>

#include "base/spsc_ring.h"
#include "tests/unit/test.h"

#define STREAM_HITS 1000000u

static void test_fifo_and_full(void)
{
	struct mc_spsc *r = mc_spsc_new(5); /* rounds up to 8 */
	struct mc_hit h = {0}, out = {0};
	unsigned pushed = 0;

	CHECK(r != NULL);
	CHECK_UINT_EQ(r->mask, 7);
	for (unsigned i = 0; i < 10; i++) {
		h.addr = i;
		if (mc_spsc_push(r, &h))
			pushed++;
	}
	CHECK_UINT_EQ(pushed, 8);
	for (unsigned i = 0; i < 8; i++) {
		CHECK(mc_spsc_pop(r, &out));
		CHECK_UINT_EQ(out.addr, i);
	}
	CHECK(!mc_spsc_pop(r, &out));
	CHECK(!mc_spsc_finished(r));
	mc_spsc_close(r);
	CHECK(mc_spsc_finished(r));
	mc_spsc_free(r);
}

static void *producer(void *arg)
{
	struct mc_spsc *r = arg;
	struct mc_hit h = {0};

	for (uint32_t i = 0; i < STREAM_HITS; i++) {
		h.addr = i;
		h.isn = i * 2654435761u;
		while (!mc_spsc_push(r, &h))
			;
	}
	mc_spsc_close(r);
	return NULL;
}

static void test_threads_lose_nothing(void)
{
	struct mc_spsc *r = mc_spsc_new(1024);
	pthread_t t;
	struct mc_hit out = {0};
	uint32_t expect = 0, bad = 0;

	pthread_create(&t, NULL, producer, r);
	while (!mc_spsc_finished(r)) {
		if (!mc_spsc_pop(r, &out))
			continue;
		if (out.addr != expect || out.isn != expect * 2654435761u)
			bad++;
		expect++;
	}
	pthread_join(t, NULL);
	CHECK_UINT_EQ(expect, STREAM_HITS);
	CHECK_UINT_EQ(bad, 0);
	mc_spsc_free(r);
}

int main(void)
{
	RUN(test_fifo_and_full);
	RUN(test_threads_lose_nothing);
	return test_summary();
}
