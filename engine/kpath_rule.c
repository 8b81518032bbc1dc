/* kpath_rule.c — the port split of the kernel path (kpath.h). */
#include "kpath.h"

#include <errno.h>
#include <stdio.h>

int kpath_port_range_parse(const char *text, uint16_t *lo, uint16_t *hi)
{
	unsigned a, b;
	int n = 0;

	if (sscanf(text, "%5u %5u%n", &a, &b, &n) != 2 || a == 0 || a > b || b > 65535)
		return -EINVAL;
	for (const char *p = text + n; *p != '\0'; p++)
		if (*p != '\n' && *p != ' ' && *p != '\t')
			return -EINVAL;
	*lo = (uint16_t)a;
	*hi = (uint16_t)b;
	return 0;
}

bool kpath_ports_overlap(uint16_t first, uint16_t count, uint16_t lo, uint16_t hi)
{
	uint32_t last = (uint32_t)first + count - 1u;

	return count > 0 && first <= hi && last >= lo;
}
