/* sim_delay.c — a binary min-heap of held replies, ordered by release time. */
#include "sim_delay.h"

#include <errno.h>
#include <stdlib.h>

int sim_delay_init(struct sim_delay_line *d, size_t cap)
{
	d->n = 0;
	d->cap = cap;
	d->heap = cap ? calloc(cap, sizeof(*d->heap)) : NULL;
	return cap && d->heap == NULL ? -ENOMEM : 0;
}

void sim_delay_free(struct sim_delay_line *d)
{
	free(d->heap);
	d->heap = NULL;
	d->n = d->cap = 0;
}

bool sim_delay_push(struct sim_delay_line *d, uint64_t due, const struct sim_reply *r)
{
	size_t i;

	if (d->n == d->cap)
		return false;
	i = d->n++;
	while (i > 0 && d->heap[(i - 1) / 2].due > due) {
		d->heap[i] = d->heap[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	d->heap[i] = (struct sim_delayed){.due = due, .reply = *r};
	return true;
}

bool sim_delay_pop_due(struct sim_delay_line *d, uint64_t now, struct sim_reply *out)
{
	struct sim_delayed last;
	size_t i = 0;

	if (d->n == 0 || d->heap[0].due > now)
		return false;
	*out = d->heap[0].reply;
	last = d->heap[--d->n];
	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= d->n)
			break;
		if (c + 1 < d->n && d->heap[c + 1].due < d->heap[c].due)
			c++;
		if (d->heap[c].due >= last.due)
			break;
		d->heap[i] = d->heap[c];
		i = c;
	}
	if (d->n > 0)
		d->heap[i] = last;
	return true;
}
