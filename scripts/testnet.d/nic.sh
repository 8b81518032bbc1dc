# shellcheck shell=bash
# testnet.d/nic.sh — the dedicated-NIC variant: a third namespace whose veth
# end DPDK drives and the kernel does not use (docs/testnet.md, "The NIC
# variant"). Sourced by scripts/testnet after lib.sh (in_nic, in_srv,
# ns_sysctls, kill_ns_pids, tn_status).
#   reads:  dir, ns_nic, ns_srv, NIC_MAC, NIC_SRV_MAC, NIC_GW_IP from
#           scripts/testnet
#   writes: namespace $ns_nic (veth nic0, its peer srv1 $NIC_GW_IP in
#           $ns_srv), nftables table mailcensus_nic in $ns_nic,
#           $dir/nic-nftables.conf; nic-down removes them again
# shellcheck disable=SC2154
#
#   <name>-nic  nic0 (no address)  <-- veth -->  srv1 198.18.3.254/24  <name>-srv
#
# nic0 stands for a NIC bound to vfio-pci: an nftables netdev-ingress rule
# drops every frame before the kernel's stack sees it (af_packet sockets see
# frames earlier, so the engine still receives all of them), nic0 has no
# address and the namespace has no route. The only way for the kernel to
# reach the servers is the engine's kernel path (mailcensus scan --kernel-path
# tap), which makes a tap in this namespace with the engine's address.
# Ephemeral ports 16384-32767 leave the engine its default 32768-61000.

nic_nft_up() {
	cat >"$dir/nic-nftables.conf" <<NFT
table netdev mailcensus_nic {
	chain in {
		type filter hook ingress device "nic0" priority 0; policy drop;
	}
}
NFT
	in_nic nft -f "$dir/nic-nftables.conf"
}

tn_nic_up() {
	if tn_nic_status >/dev/null 2>&1; then
		say "nic variant already up"
		return 0
	fi
	tn_status >/dev/null 2>&1 || { say "the test network is not up (scripts/testnet up)"; return 1; }
	tn_nic_down
	trap 'say "nic-up failed; tearing the variant down"; tn_nic_down' ERR
	ip netns add "$ns_nic"
	ns_sysctls "$ns_nic"
	ip netns exec "$ns_nic" sysctl -qw net.ipv4.ip_local_port_range="16384 32767" >/dev/null
	ip link add nic0 netns "$ns_nic" address "$NIC_MAC" type veth \
		peer name srv1 netns "$ns_srv" address "$NIC_SRV_MAC"
	in_nic ip link set lo up
	in_nic ethtool -K nic0 tx off >/dev/null 2>&1
	in_srv ethtool -K srv1 tx off >/dev/null 2>&1
	in_srv ip addr add "$NIC_GW_IP/24" dev srv1
	nic_nft_up
	in_nic ip link set nic0 up
	in_srv ip link set srv1 up
	trap - ERR
	say "nic variant up: $ns_nic nic0 <-> srv1 $NIC_GW_IP"
}

tn_nic_down() {
	kill_ns_pids "$ns_nic"
	ns_exists "$ns_nic" && ip netns del "$ns_nic"
	if ns_exists "$ns_srv"; then in_srv ip link del srv1 2>/dev/null || true; fi
	rm -f "$dir/nic-nftables.conf"
	return 0
}

tn_nic_status() {
	ns_exists "$ns_nic" && in_nic nft list table netdev mailcensus_nic >/dev/null 2>&1 &&
		in_srv ip -4 addr show dev srv1 up 2>/dev/null | grep -q " $NIC_GW_IP/" &&
		[ -z "$(in_nic ip -4 addr show dev nic0)" ]
}
