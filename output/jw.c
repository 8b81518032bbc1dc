/* jw.c — a whole JSON document in one buffer (jw.h): the allocation, the
 * overflow check and the NUL that the report, the diff and the scan
 * metadata would otherwise each repeat. The writer itself never allocates. */
#include <errno.h>
#include <stdlib.h>

#include "output/jw.h"

char *out_jw_document(size_t cap, out_jw_body_fn *body, const void *ctx, size_t *len)
{
	char *buf = cap > 0 ? malloc(cap) : NULL;
	struct out_jw w;

	if (buf == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	out_jw_init(&w, buf, cap - 1);
	body(&w, ctx);
	if (w.overflow) {
		free(buf);
		errno = EOVERFLOW;
		return NULL;
	}
	*w.p = '\0';
	if (len != NULL)
		*len = (size_t)(w.p - buf);
	return buf;
}
