#include "safety.h"

#include "base/ipv4.h"
#include "base/ipv6.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SAFE_MAX_RANGES 16

struct safe_range {
	uint32_t first, last;
};

bool mc_safe_allows(uint32_t first, uint32_t last, char *why, size_t whylen)
{
	const char *env = getenv(MC_SAFE_RANGE_ENV);
	struct safe_range ranges[SAFE_MAX_RANGES];
	char list[512], *tok, *save = NULL;
	int n = 0;
	uint64_t cur = first;

	if (env == NULL || *env == '\0')
		return true;
	if (strlen(env) >= sizeof(list)) {
		snprintf(why, whylen, "%s is too long", MC_SAFE_RANGE_ENV);
		return false;
	}
	strcpy(list, env);
	for (tok = strtok_r(list, ", ", &save); tok != NULL; tok = strtok_r(NULL, ", ", &save)) {
		struct mc_ipv6 net6;
		unsigned prefix;

		if (strchr(tok, ':') != NULL && mc_cidr6_parse(tok, &net6, &prefix) == 0)
			continue; /* an IPv6 prefix: mc_safe_allows6's */
		if (n == SAFE_MAX_RANGES ||
		    mc_cidr_parse(tok, &ranges[n].first, &ranges[n].last) != 0) {
			snprintf(why, whylen, "%s=%s does not parse as CIDR list",
				 MC_SAFE_RANGE_ENV, env);
			return false;
		}
		n++;
	}
	/* Walk the interval forward, jumping over whichever safe range covers `cur`. */
	while (cur <= last) {
		int i;
		for (i = 0; i < n; i++)
			if (cur >= ranges[i].first && cur <= ranges[i].last)
				break;
		if (i == n) {
			char text[MC_IPV4_STRLEN];
			snprintf(why, whylen, "target %s is outside %s=%s",
				 mc_ipv4_format((uint32_t)cur, text), MC_SAFE_RANGE_ENV, env);
			return false;
		}
		cur = (uint64_t)ranges[i].last + 1;
	}
	return true;
}

bool mc_safe_allows6(const struct mc_ipv6 *a, char *why, size_t whylen)
{
	const char *env = getenv(MC_SAFE_RANGE_ENV);
	char list[512], *tok, *save = NULL, text[MC_IPV6_STRLEN];
	bool any6 = false;

	if (env == NULL || *env == '\0')
		return true;
	if (strlen(env) >= sizeof(list)) {
		snprintf(why, whylen, "%s is too long", MC_SAFE_RANGE_ENV);
		return false;
	}
	strcpy(list, env);
	for (tok = strtok_r(list, ", ", &save); tok != NULL; tok = strtok_r(NULL, ", ", &save)) {
		struct mc_ipv6 net;
		unsigned prefix;

		if (strchr(tok, ':') == NULL)
			continue;
		if (mc_cidr6_parse(tok, &net, &prefix) != 0) {
			snprintf(why, whylen, "%s=%s does not parse as CIDR list",
				 MC_SAFE_RANGE_ENV, env);
			return false;
		}
		any6 = true;
		if (mc_ipv6_in(a, &net, prefix))
			return true;
	}
	if (!any6) {
		static const struct mc_ipv6 doc = {{0x20, 0x01, 0x0d, 0xb8}};

		if (mc_ipv6_in(a, &doc, 32))
			return true;
	}
	snprintf(why, whylen, "target %s is outside %s=%s%s", mc_ipv6_format(a, text),
		 MC_SAFE_RANGE_ENV, env, any6 ? "" : " (IPv6: 2001:db8::/32)");
	return false;
}
