/* grab_side.c — the pool of per-target extra-connection state (grab_side.h). */
#include <errno.h>
#include <stdlib.h>

#include "probes/grab_side.h"

int grab_side_pool_init(struct grab_side_pool *p, uint32_t cap)
{
	p->free = calloc(cap, sizeof(*p->free));
	p->cap = cap;
	p->nfree = p->allocated = p->in_use = p->peak = 0;
	return p->free != NULL ? 0 : -ENOMEM;
}

void grab_side_pool_free(struct grab_side_pool *p)
{
	for (uint32_t i = 0; i < p->nfree; i++)
		free(p->free[i]);
	free(p->free);
	p->free = NULL;
	p->nfree = 0;
}

struct grab_side *grab_side_get(struct grab_side_pool *p)
{
	struct grab_side *s = NULL;

	if (p->nfree > 0)
		s = p->free[--p->nfree];
	else if (p->allocated < p->cap && (s = malloc(sizeof(*s))) != NULL)
		p->allocated++;
	if (s != NULL && ++p->in_use > p->peak)
		p->peak = p->in_use;
	return s;
}

void grab_side_put(struct grab_side_pool *p, struct grab_side *s)
{
	if (s == NULL)
		return;
	p->free[p->nfree++] = s; /* never more than allocated <= cap */
	p->in_use--;
}
