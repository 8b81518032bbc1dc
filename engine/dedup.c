/* dedup.c — responder bitmap over the target-index space; see dedup.h. */
#include "dedup.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/mman.h>

struct dedup {
	uint64_t n;
	uint64_t *bits;
	size_t bytes;
};

struct dedup *dedup_new(uint64_t n)
{
	struct dedup *d;
	uint64_t words = (n + 63) / 64;

	if (n == 0 || words > SIZE_MAX / 8) {
		errno = EINVAL;
		return NULL;
	}
	d = calloc(1, sizeof(*d));
	if (d == NULL)
		return NULL;
	d->n = n;
	d->bytes = (size_t)words * 8;
	/* anonymous pages read as zero and cost nothing until written */
	d->bits = mmap(NULL, d->bytes, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (d->bits == MAP_FAILED) {
		int e = errno;

		free(d);
		errno = e;
		return NULL;
	}
	return d;
}

bool dedup_test_and_set(struct dedup *d, uint64_t index)
{
	uint64_t *w, bit;

	if (index >= d->n)
		return true;
	w = &d->bits[index / 64];
	bit = UINT64_C(1) << (index % 64);
	if (*w & bit)
		return true;
	*w |= bit;
	return false;
}

size_t dedup_mapped_bytes(const struct dedup *d)
{
	return d->bytes;
}

const void *dedup_bits(const struct dedup *d)
{
	return d->bits;
}

void dedup_free(struct dedup *d)
{
	if (d == NULL)
		return;
	munmap(d->bits, d->bytes);
	free(d);
}
