/* ipv4.c — IPv4 text in one place (ipv4.h). */
#include "base/ipv4.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int mc_ipv4_parse(const char *s, size_t len, uint32_t *ip)
{
	char buf[MC_IPV4_STRLEN];
	struct in_addr a;

	if (len == 0 || len >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, s, len);
	buf[len] = '\0';
	if (inet_pton(AF_INET, buf, &a) != 1)
		return -EINVAL;
	*ip = ntohl(a.s_addr);
	return 0;
}

int mc_cidr_parse(const char *s, uint32_t *first, uint32_t *last)
{
	const char *slash = strchr(s, '/');
	size_t alen = slash ? (size_t)(slash - s) : strlen(s);
	unsigned long bits = 32;
	uint32_t addr, mask;

	if (mc_ipv4_parse(s, alen, &addr) != 0)
		return -EINVAL;
	if (slash != NULL) {
		char *end;

		if (slash[1] < '0' || slash[1] > '9' || strlen(slash + 1) > 2)
			return -EINVAL;
		bits = strtoul(slash + 1, &end, 10);
		if (*end != '\0' || bits > 32)
			return -EINVAL;
	}
	mask = bits == 0 ? 0 : ~(uint32_t)0 << (32 - bits);
	*first = addr & mask;
	*last = *first | ~mask;
	return 0;
}

char *mc_ipv4_format(uint32_t ip, char *buf)
{
	snprintf(buf, MC_IPV4_STRLEN, "%u.%u.%u.%u", ip >> 24, (ip >> 16) & 255u, (ip >> 8) & 255u,
		 ip & 255u);
	return buf;
}
