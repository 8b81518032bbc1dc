/* ipv6.c — IPv6 text forms via inet_pton/inet_ntop (RFC 5952 output). */
#include "base/ipv6.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

int mc_ipv6_parse(const char *s, size_t len, struct mc_ipv6 *a)
{
	char buf[MC_IPV6_STRLEN];

	if (len == 0 || len >= sizeof(buf) || memchr(s, '\0', len) != NULL)
		return -EINVAL;
	memcpy(buf, s, len);
	buf[len] = '\0';
	return inet_pton(AF_INET6, buf, a->b) == 1 ? 0 : -EINVAL;
}

int mc_cidr6_parse(const char *s, struct mc_ipv6 *net, unsigned *prefix)
{
	const char *slash = strchr(s, '/');
	size_t alen = slash != NULL ? (size_t)(slash - s) : strlen(s);
	char *end = NULL;
	unsigned long p = 128;

	if (mc_ipv6_parse(s, alen, net) != 0)
		return -EINVAL;
	if (slash != NULL) {
		if (slash[1] < '0' || slash[1] > '9')
			return -EINVAL;
		p = strtoul(slash + 1, &end, 10);
		if (*end != '\0' || p > 128 || end - (slash + 1) > 3)
			return -EINVAL;
	}
	*prefix = (unsigned)p;
	return 0;
}

bool mc_ipv6_in(const struct mc_ipv6 *a, const struct mc_ipv6 *net, unsigned prefix)
{
	unsigned full = prefix / 8, rest = prefix % 8;

	if (prefix > 128 || memcmp(a->b, net->b, full) != 0)
		return false;
	if (rest == 0)
		return true;
	uint8_t mask = (uint8_t)(0xff << (8 - rest));
	return (a->b[full] & mask) == (net->b[full] & mask);
}

char *mc_ipv6_format(const struct mc_ipv6 *a, char *buf)
{
	if (inet_ntop(AF_INET6, a->b, buf, MC_IPV6_STRLEN) == NULL)
		buf[0] = '\0';
	return buf;
}
