#include "safety.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SAFE_MAX_RANGES 16

struct safe_range {
	uint32_t first, last;
};

static int parse_cidr(const char *text, struct safe_range *out)
{
	char buf[64];
	char *slash, *end;
	struct in_addr a;
	long bits = 32;
	uint32_t base, mask;

	if (strlen(text) >= sizeof(buf))
		return -1;
	strcpy(buf, text);
	slash = strchr(buf, '/');
	if (slash != NULL) {
		*slash = '\0';
		if (slash[1] < '0' || slash[1] > '9') /* no sign, no blank: "/-0" is not "/0" */
			return -1;
		bits = strtol(slash + 1, &end, 10);
		if (*end != '\0' || bits < 0 || bits > 32 || end == slash + 1)
			return -1;
	}
	if (inet_pton(AF_INET, buf, &a) != 1)
		return -1;
	base = ntohl(a.s_addr);
	mask = bits == 0 ? 0 : ~(uint32_t)0 << (32 - bits);
	out->first = base & mask;
	out->last = out->first | ~mask;
	return 0;
}

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
		if (n == SAFE_MAX_RANGES || parse_cidr(tok, &ranges[n]) != 0) {
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
			struct in_addr a = {.s_addr = htonl((uint32_t)cur)};
			char text[INET_ADDRSTRLEN];
			inet_ntop(AF_INET, &a, text, sizeof(text));
			snprintf(why, whylen, "target %s is outside %s=%s", text, MC_SAFE_RANGE_ENV,
				 env);
			return false;
		}
		cur = (uint64_t)ranges[i].last + 1;
	}
	return true;
}
