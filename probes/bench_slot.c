/* bench_slot.c — the grabber's state per connection, by type size.
 *
 * Prints the bytes of one slot (every connection) and of one side state
 * (a target's extra connections: grab_side.h), from the grabber itself;
 * scripts/bench-conns puts them beside the RSS measured per connection. */
#include <stdio.h>

#include "probes/grabber.h"

int main(void)
{
	struct grab_config cfg;
	struct grab_mem mem;
	char err[256];

	grab_config_defaults(&cfg);
	cfg.concurrency = 1;
	struct grabber *g = grabber_new(&cfg, NULL, NULL, err, sizeof(err));
	if (g == NULL) {
		fprintf(stderr, "mc-bench-slot: %s\n", err);
		return 1;
	}
	grabber_get_mem(g, &mem);
	printf("grabber state: slot %zu B (%.1f KiB, every connection); side %zu B (%.1f KiB, "
	       "while a target runs its extra connections); both %.1f KiB\n",
	       mem.slot_bytes, mem.slot_bytes / 1024.0, mem.side_bytes, mem.side_bytes / 1024.0,
	       (mem.slot_bytes + mem.side_bytes) / 1024.0);
	grabber_free(g);
	return 0;
}
