/* test_dedup.c — first seen / seen again, bounds, and a sparse 2^34-bit map
 * that only touches the pages written. */
#include <errno.h>
#include <sys/mman.h>
#include <unistd.h>

#include "tests/unit/test.h"
#include "engine/dedup.h"

static void test_first_and_second(void)
{
	struct dedup *d = dedup_new(1000);

	CHECK(d != NULL);
	for (uint64_t i = 0; i < 1000; i += 3)
		CHECK(!dedup_test_and_set(d, i));
	for (uint64_t i = 0; i < 1000; i++)
		CHECK_INT_EQ(dedup_test_and_set(d, i), i % 3 == 0);
	for (uint64_t i = 0; i < 1000; i++)
		CHECK(dedup_test_and_set(d, i));
	CHECK(dedup_test_and_set(d, 1000)); /* out of range counts as seen */
	dedup_free(d);
	errno = 0;
	CHECK(dedup_new(0) == NULL);
	CHECK_INT_EQ(errno, EINVAL);
}

/* Resident pages of the bitmap, from mincore(). */
static size_t resident_pages(const struct dedup *d)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE), len = dedup_mapped_bytes(d), count = 0;
	size_t npages = (len + page - 1) / page;
	unsigned char vec[4096];

	for (size_t off = 0; off < npages; off += sizeof(vec)) {
		size_t n = npages - off < sizeof(vec) ? npages - off : sizeof(vec);

		if (mincore((char *)dedup_bits(d) + off * page, n * page, vec) != 0)
			return (size_t)-1;
		for (size_t i = 0; i < n; i++)
			count += vec[i] & 1;
	}
	return count;
}

static void test_sparse_2_34(void)
{
	const uint64_t n = UINT64_C(1) << 34; /* 4 ports x all of IPv4 */
	struct dedup *d = dedup_new(n);
	uint64_t stride = n / 1000;

	CHECK(d != NULL);
	if (d == NULL)
		return;
	CHECK_UINT_EQ(dedup_mapped_bytes(d), n / 8); /* 2 GiB of address space */
	for (uint64_t i = 0; i < 1000; i++)
		CHECK(!dedup_test_and_set(d, i * stride + 17));
	for (uint64_t i = 0; i < 1000; i++) {
		CHECK(dedup_test_and_set(d, i * stride + 17));
		CHECK(!dedup_test_and_set(d, i * stride + 18));
	}
	CHECK(!dedup_test_and_set(d, n - 1));
	CHECK(dedup_test_and_set(d, n - 1));
	/* 1001 pages written; allow the kernel some read-around, far below 524288 pages */
	size_t res = resident_pages(d);
	CHECK(res >= 1001);
	CHECK(res < 20000);
	fprintf(stderr, "2^34-bit map: %zu of %zu pages resident\n", res,
		dedup_mapped_bytes(d) / (size_t)sysconf(_SC_PAGESIZE));
	dedup_free(d);
}

int main(void)
{
	RUN(test_first_and_second);
	RUN(test_sparse_2_34);
	return test_summary();
}
