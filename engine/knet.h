/* knet.h — the few rtnetlink requests the kernel path needs: an address on
 * the tap, a source rule and a default route in a table of its own.
 *
 * The routing is source-based so that nothing else on the machine changes:
 *   ip addr add S/32 dev TAP
 *   ip rule add from S/32 lookup KNET_TABLE pref KNET_RULE_PREF
 *   ip route add default via GW dev TAP onlink table KNET_TABLE
 * Only sockets bound to the scan address (the grab stage binds to it) leave
 * through the tap; the management interface keeps its routes. The routes and
 * addresses go with the interface; the rules are deleted explicitly. Each
 * call is one request with an acknowledgement: 0 or -errno. */
#ifndef MC_ENGINE_KNET_H
#define MC_ENGINE_KNET_H

#include <stdbool.h>
#include <stdint.h>

#define KNET_TABLE     28003u /* 0x6d63, "mc" */
#define KNET_RULE_PREF 28003u

/* Add ip/32 (host order) to the interface. */
int knet_addr_add(int ifindex, uint32_t ip);

/* Add (or delete) "from ip/32 lookup KNET_TABLE pref KNET_RULE_PREF". */
int knet_rule(bool add, uint32_t ip);

/* "default via gw dev ifindex onlink table KNET_TABLE". */
int knet_route_default(int ifindex, uint32_t gw);

#endif
