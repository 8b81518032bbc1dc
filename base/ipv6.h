/* ipv6.h — IPv6 addresses and prefixes as text (the grab stage's targets;
 * the engine stays IPv4). Addresses are 16 bytes in network order. */
#ifndef MC_BASE_IPV6_H
#define MC_BASE_IPV6_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MC_IPV6_STRLEN 46 /* INET6_ADDRSTRLEN */

struct mc_ipv6 {
	uint8_t b[16];
};

/* The address in s[0..len) (inet_pton's forms, no zone, no brackets). 0, or -EINVAL. */
int mc_ipv6_parse(const char *s, size_t len, struct mc_ipv6 *a);

/* "ADDR/N" (N 0..128) or "ADDR" (/128). 0, or -EINVAL. */
int mc_cidr6_parse(const char *s, struct mc_ipv6 *net, unsigned *prefix);

/* Is a inside net/prefix? */
bool mc_ipv6_in(const struct mc_ipv6 *a, const struct mc_ipv6 *net, unsigned prefix);

/* RFC 5952 text of a into buf (MC_IPV6_STRLEN bytes); returns buf. */
char *mc_ipv6_format(const struct mc_ipv6 *a, char *buf);

#endif
