/* grab_side.h — what a target needs only beyond its main connection.
 *
 * A grabber slot holds one target from start to record. Its main
 * connection needs the record, the io connection and the protocol session;
 * the extra connections (login step, injection test, hand-built hellos,
 * JARM) also need a scratch record for their sessions, the hello being
 * sent and the JARM run. Those live in a grab_side taken from a per-grabber
 * pool when a target's first extra connection opens and given back with
 * its record, so a slot is ~13 KiB instead of ~28 KiB and the 20,000
 * connections of a grabber waiting on greetings cost ~13 KiB each. The
 * pool grows on demand up to a cap that keeps slots and side states
 * within 16 KiB per slot (grabber.h GRAB_STATE_MAX; a target that finds it
 * exhausted waits) and recycles: after warm-up no target allocates. (The server's answer to a hello
 * lands in the connection's line buffer, unused once the connection is raw.) */
#ifndef PROBE_GRAB_SIDE_H
#define PROBE_GRAB_SIDE_H

#include <stddef.h>
#include <stdint.h>

#include "output/record.h"
#include "probes/jarm.h"
#include "probes/tlshello.h"

#define GRAB_SIDE_HELLO_MAX                                                                        \
	(PROBE_HELLO_MAX > PROBE_JARM_HELLO_MAX ? PROBE_HELLO_MAX : PROBE_JARM_HELLO_MAX)

struct grab_side {
	struct mc_record scratch;   /* what inject/login/hello sessions write */
	struct probe_jarm_run jarm; /* --jarm */
	uint16_t hello_len;
	uint8_t hello[GRAB_SIDE_HELLO_MAX];
};

struct grab_side_pool {
	struct grab_side **free; /* cap entries */
	uint32_t nfree, cap;
	uint32_t allocated; /* grab_side objects made so far (<= cap) */
	uint32_t in_use, peak;
};

/* A pool for at most cap objects. 0 or -ENOMEM. */
int grab_side_pool_init(struct grab_side_pool *p, uint32_t cap);
void grab_side_pool_free(struct grab_side_pool *p);

/* A side (contents undefined), or NULL when memory ran out. */
struct grab_side *grab_side_get(struct grab_side_pool *p);
void grab_side_put(struct grab_side_pool *p, struct grab_side *s);

#endif
