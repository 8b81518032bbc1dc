/* hit.h — the only record engine/ and probes/ both know.
 *
 * A hit is one validated SYN-ACK: the (address, port) that answered, the
 * server's initial sequence number, and what the reply looked like. It is
 * fixed-size and copied by value through an mc_spsc ring (spsc_ring.h). */
#ifndef MC_HIT_H
#define MC_HIT_H

#include <stdint.h>

struct mc_hit {
	uint32_t addr;	  /* IPv4 address of the responder, host byte order */
	uint16_t port;	  /* TCP port that answered SYN-ACK, host byte order */
	uint8_t ttl;	  /* IP TTL of the SYN-ACK */
	uint8_t flags;	  /* MC_HIT_* */
	uint32_t isn;	  /* server's initial sequence number */
	uint16_t window;  /* TCP window of the SYN-ACK */
	uint16_t mss;	  /* MSS option of the SYN-ACK, 0 if absent */
	uint64_t time_ns; /* CLOCK_REALTIME when received, nanoseconds */
};

#define MC_HIT_RETRANSMIT 0x01 /* a repeated SYN-ACK; deduplicated hits never carry it */

_Static_assert(sizeof(struct mc_hit) == 24, "mc_hit is a fixed 24-byte wire record");

#endif
