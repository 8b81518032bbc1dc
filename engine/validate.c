/* validate.c — setting up the receive rule's context (validate.h). */
#include "validate.h"

#include <string.h>

bool validate_ctx_init(struct validate_ctx *c, const struct targets *targets,
		       const struct cookie_key *key, const uint32_t *src_ips, uint32_t nsrc_ips,
		       uint16_t sport_first, uint16_t sport_count)
{
	if (nsrc_ips == 0 || nsrc_ips > VALIDATE_MAX_SRC_IPS)
		return false;
	memset(c, 0, sizeof(*c));
	c->targets = targets;
	c->key = *key;
	memcpy(c->src_ips, src_ips, nsrc_ips * sizeof(src_ips[0]));
	c->nsrc_ips = nsrc_ips;
	c->src_magic = nsrc_ips > 1 ? UINT64_MAX / nsrc_ips + 1 : 0;
	c->sport_first = sport_first;
	c->sport_count = sport_count;
	return true;
}
