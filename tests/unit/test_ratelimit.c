/* test_ratelimit.c — the token bucket on a fake clock: exact counts over
 * simulated seconds, fractional rates, bounded bursts, unlimited mode. */
#include "tests/unit/test.h"
#include "engine/ratelimit.h"

/* Take `want` at every `step` ticks for `ticks` ticks; total granted. */
static uint64_t run(struct tbucket *b, uint64_t from, uint64_t ticks, uint64_t step, uint32_t want)
{
	uint64_t total = 0;

	for (uint64_t now = from; now <= from + ticks; now += step)
		total += tbucket_take(b, now, want);
	return total;
}

static void test_exact_counts(void)
{
	struct tbucket b;

	tbucket_init(&b, 1000, 1000000, 32);	   /* 1000/s on a 1 MHz clock */
	CHECK_UINT_EQ(tbucket_take(&b, 0, 10), 0); /* starts empty */
	CHECK_UINT_EQ(run(&b, 0, 3000000, 100, 1), 3000);
	tbucket_init(&b, 1000, 1000000, 32);
	CHECK_UINT_EQ(run(&b, 0, 3000004, 7, 64), 3000); /* odd step (7 x 428572), batches */
	/* fractional: 2.5/s on 3 GHz over 10 s */
	tbucket_init(&b, 2.5, UINT64_C(3000000000), 4);
	CHECK_UINT_EQ(run(&b, 0, UINT64_C(30000000000), 3000000, 8), 25);
	/* 3/s on 1 GHz: cost not a whole number of ticks; fractions carry over */
	tbucket_init(&b, 3, UINT64_C(1000000000), 4);
	CHECK_UINT_EQ(run(&b, 0, UINT64_C(10000000000), 1000000, 1), 30);
	/* high rate: 10 Mpps on 2.5 GHz, batches of 32 every 1000 ticks, 1 s */
	tbucket_init(&b, 1e7, UINT64_C(2500000000), 64);
	CHECK_UINT_EQ(run(&b, 0, UINT64_C(2500000000), 1000, 32), 10000000);
}

static void test_bursts_bounded(void)
{
	struct tbucket b;

	tbucket_init(&b, 1000, 1000000, 50);
	tbucket_reset(&b, 5000000000u); /* a counter that does not start at 0 */
	CHECK_UINT_EQ(tbucket_take(&b, 5000000000u, 1000), 0);
	/* after a 10 s stall only the burst comes out, then the rate again */
	CHECK_UINT_EQ(tbucket_take(&b, 5010000000u, 100000), 50);
	CHECK_UINT_EQ(tbucket_take(&b, 5010000000u, 100000), 0);
	CHECK_UINT_EQ(tbucket_take(&b, 5010001000u, 100000), 1);
	CHECK_UINT_EQ(tbucket_take(&b, 5010001999u, 100000), 0);
	CHECK_UINT_EQ(tbucket_take(&b, 5010002000u, 100000), 1);
	/* a clock that goes backwards grants nothing extra */
	CHECK_UINT_EQ(tbucket_take(&b, 5000000000u, 100000), 0);
	/* huge elapsed time does not overflow */
	CHECK_UINT_EQ(tbucket_take(&b, UINT64_MAX, 100000), 50);
}

static void test_unlimited(void)
{
	struct tbucket b;

	tbucket_init(&b, 0, 1000000, 1);
	CHECK_UINT_EQ(tbucket_take(&b, 0, 12345), 12345);
	CHECK_UINT_EQ(tbucket_take(&b, 0, 7), 7);
}

int main(void)
{
	RUN(test_exact_counts);
	RUN(test_bursts_bounded);
	RUN(test_unlimited);
	return test_summary();
}
