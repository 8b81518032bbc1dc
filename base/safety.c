#include "safety.h"

#include "base/ipv4.h"

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
