/* ipv4.h — IPv4 addresses and CIDR blocks as text, in one place.
 *
 * Addresses are uint32_t in host order everywhere in mailcensus. Parsing
 * is strict (inet_pton's dotted quad: four decimal octets, no leading
 * '+', no hex or octal forms) and never reads past the given length. */
#ifndef MC_BASE_IPV4_H
#define MC_BASE_IPV4_H

#include <stddef.h>
#include <stdint.h>

#define MC_IPV4_STRLEN 16 /* "255.255.255.255" and its NUL */

/* The address in s[0..len). 0, or -EINVAL. */
int mc_ipv4_parse(const char *s, size_t len, uint32_t *ip);

/* "A.B.C.D" or "A.B.C.D/N" (N one or two digits, 0..32; host bits are
 * cleared). 0, or -EINVAL. */
int mc_cidr_parse(const char *s, uint32_t *first, uint32_t *last);

/* Dotted quad of ip into buf (MC_IPV4_STRLEN bytes); returns buf. */
char *mc_ipv4_format(uint32_t ip, char *buf);

#endif
