# shellcheck shell=bash
# testnet.d/lib.sh — namespaces, veth, addresses, nftables, up/down/status/env.
# Sourced by scripts/testnet.
#   reads:  name, dir, here, ns_scan, ns_srv, ns_nic and the address plan
#           (KERNEL_IP ENGINE_IP GW_IP SCAN_MAC SRV_MAC RST_IP SILENT_IP
#           RANGE_CIDR NIC_IP NIC_GW_IP NIC_MAC HOSTS) from scripts/testnet;
#           $dir/dovecot/*/run/master.pid, $dir/truth.json, $dir/up.done
#   writes: namespaces $ns_scan, $ns_srv (veth scan0/srv0, addresses, routes),
#           nftables table mailcensus_testnet in $ns_srv, a blackhole route
#           for 198.18.0.0/15 in the root namespace; $dir/nftables.conf,
#           $dir/env, $dir/up.done; `down` removes $dir, the namespaces and
#           /run/dpdk/$name-*; `env` prints shell-quoted exports for eval
# shellcheck disable=SC2154

need_root() {
	if [ "$(id -u)" -ne 0 ]; then
		echo "testnet: must run as root (network namespaces)" >&2
		exit 2
	fi
}

say() { printf 'testnet[%s]: %s\n' "$name" "$*" >&2; }

ns_exists() { ip netns list 2>/dev/null | awk '{print $1}' | grep -qx "$1"; }
in_scan() { ip netns exec "$ns_scan" "$@"; }
in_srv() { ip netns exec "$ns_srv" "$@"; }
in_nic() { ip netns exec "$ns_nic" "$@"; }

# Every process still inside one of our namespaces is ours: stop them all.
kill_ns_pids() { # NS
	local pids
	ns_exists "$1" || return 0
	pids=$(ip netns pids "$1" 2>/dev/null | tr '\n' ' ')
	[ -n "${pids// /}" ] || return 0
	# shellcheck disable=SC2086
	kill $pids 2>/dev/null || true
	for _ in $(seq 40); do
		[ -z "$(ip netns pids "$1" 2>/dev/null)" ] && return 0
		sleep 0.05
	done
	pids=$(ip netns pids "$1" 2>/dev/null | tr '\n' ' ')
	# shellcheck disable=SC2086
	[ -n "${pids// /}" ] && kill -9 $pids 2>/dev/null || true
	for _ in $(seq 40); do
		[ -z "$(ip netns pids "$1" 2>/dev/null)" ] && return 0
		sleep 0.05
	done
}

# Stop every dovecot master at once (TERM, then KILL after ~3 s), then any
# process left in our namespaces, then the namespaces and the state files.
tn_down() {
	local f pid alive pids=()
	if [ -d "$dir" ]; then
		for f in "$dir"/dovecot/*/run/master.pid; do
			[ -e "$f" ] || continue
			pid=$(cat "$f" 2>/dev/null || true)
			if [ -n "$pid" ] && kill "$pid" 2>/dev/null; then pids+=("$pid"); fi
		done
		for _ in $(seq 60); do
			alive=0
			for pid in "${pids[@]}"; do
				if kill -0 "$pid" 2>/dev/null; then alive=1; fi
			done
			[ $alive -eq 0 ] && break
			sleep 0.05
		done
		for pid in "${pids[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
	fi
	kill_ns_pids "$ns_nic"
	kill_ns_pids "$ns_srv"
	kill_ns_pids "$ns_scan"
	ns_exists "$ns_nic" && ip netns del "$ns_nic"
	ns_exists "$ns_srv" && ip netns del "$ns_srv"
	ns_exists "$ns_scan" && ip netns del "$ns_scan"
	rm -rf "$dir"
	# DPDK runtime dirs of programs run against this network use file
	# prefixes starting with "<name>-" (docs/testnet.md).
	rm -rf "/run/dpdk/$name-"* 2>/dev/null || true
	rmdir "$here/.testnet" 2>/dev/null || true
	return 0
}

ns_sysctls() { # NS
	ip netns exec "$1" sysctl -qw \
		net.ipv4.ip_forward=0 \
		net.ipv4.conf.all.forwarding=0 \
		net.ipv4.conf.default.forwarding=0 \
		net.ipv6.conf.all.disable_ipv6=1 \
		net.ipv6.conf.default.disable_ipv6=1 \
		net.core.somaxconn=16384 \
		net.ipv4.tcp_max_syn_backlog=16384 \
		net.ipv4.ip_local_port_range="10000 65000" >/dev/null
}

# The two namespaces and the veth pair between them, created inside them.
net_up() {
	local h ip
	ip netns add "$ns_scan"
	ip netns add "$ns_srv"
	ns_sysctls "$ns_scan"
	ns_sysctls "$ns_srv"
	ip link add scan0 netns "$ns_scan" address "$SCAN_MAC" type veth \
		peer name srv0 netns "$ns_srv" address "$SRV_MAC"
	in_scan ip link set lo up
	in_srv ip link set lo up
	in_scan ethtool -K scan0 tx off >/dev/null 2>&1
	in_srv ethtool -K srv0 tx off >/dev/null 2>&1
	in_scan ip addr add "$KERNEL_IP/24" dev scan0
	in_srv ip addr add "$GW_IP/24" dev srv0
	in_scan ip link set scan0 up
	in_srv ip link set srv0 up
	in_scan ip route add 198.18.0.0/15 via "$GW_IP" dev scan0
	for h in "${HOSTS[@]}"; do
		ip=${h#* }
		in_srv ip addr add "$ip/32" dev lo
	done
	in_srv ip addr add "$RST_IP/32" dev lo
	in_srv ip addr add "$SILENT_IP/32" dev lo
	in_srv ip route add local "$RANGE_CIDR" dev lo
	nft_up
}

# nftables in the server namespace: the silent host's packets vanish before
# conntrack would see them (priority -300, stateless).
nft_up() {
	cat >"$dir/nftables.conf" <<NFT
table ip mailcensus_testnet {
	chain pre {
		type filter hook prerouting priority -300; policy accept;
		ip daddr $SILENT_IP drop
	}
}
NFT
	in_srv nft -f "$dir/nftables.conf"
}

# One `export NAME=VALUE` a line, VALUE quoted by printf %q: a checkout
# path with spaces or shell metacharacters survives eval "$(scripts/testnet
# env)" (test_testnet_env).
tn_env() {
	local kv
	for kv in \
		MC_TESTNET="$name" \
		MC_NS_SCAN="$ns_scan" \
		MC_NS_SRV="$ns_srv" \
		MC_SCAN_IF=scan0 \
		MC_SCAN_MAC="$SCAN_MAC" \
		MC_KERNEL_IP="$KERNEL_IP" \
		MC_ENGINE_IP="$ENGINE_IP" \
		MC_GW_IP="$GW_IP" \
		MC_GW_MAC="$SRV_MAC" \
		MC_TRUTH="$dir/truth.json" \
		MC_TESTNET_DIR="$dir" \
		MC_CA_CERT="$dir/certs/ca.pem" \
		MC_NS_NIC="$ns_nic" \
		MC_NIC_IF=nic0 \
		MC_NIC_IP="$NIC_IP" \
		MC_NIC_GW_IP="$NIC_GW_IP" \
		MC_NIC_MAC="$NIC_MAC" \
		MAILCENSUS_SAFE_RANGE=198.18.0.0/15; do
		printf 'export %s=%q\n' "${kv%%=*}" "${kv#*=}"
	done
}

# Prints one line per part; returns 0 only if everything is up.
tn_status() {
	local ok=0 inst pid
	if ns_exists "$ns_scan" && ns_exists "$ns_srv"; then
		echo "namespaces  $ns_scan $ns_srv: present"
	else
		echo "namespaces  $ns_scan $ns_srv: MISSING"
		return 1
	fi
	if in_scan ip -4 addr show dev scan0 up 2>/dev/null | grep -q " $KERNEL_IP/" &&
		in_srv ip -4 addr show dev srv0 up 2>/dev/null | grep -q " $GW_IP/"; then
		echo "veth        scan0 $KERNEL_IP <-> srv0 $GW_IP: up"
	else
		echo "veth        scan0/srv0: DOWN or unaddressed"
		ok=1
	fi
	if in_srv nft list table ip mailcensus_testnet >/dev/null 2>&1; then
		echo "nftables    silent $SILENT_IP, rst $RST_IP: loaded"
	else
		echo "nftables    MISSING"
		ok=1
	fi
	for inst in $(dovecot_instances); do
		pid=$(cat "$dir/dovecot/$inst/run/master.pid" 2>/dev/null || true)
		if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
			printf 'dovecot     %-6s %-16s pid %s: running\n' "$inst" "$(dovecot_describe "$inst")" "$pid"
		else
			printf 'dovecot     %-6s: NOT RUNNING\n' "$inst"
			ok=1
		fi
	done
	if [ -f "$dir/truth.json" ]; then
		echo "truth       $dir/truth.json"
	else
		echo "truth       MISSING"
		ok=1
	fi
	[ -f "$dir/up.done" ] || ok=1
	return $ok
}

# A safety net in the root namespace: the test range is a blackhole there,
# so a scan or grab started by mistake outside the project's namespaces
# cannot send a packet for 198.18.0.0/15 off this machine (the namespaces
# have routing tables of their own and are not affected). Left in place:
# it is harmless and protects every later run.
root_blackhole() {
	ip route replace blackhole 198.18.0.0/15
}

tn_up() {
	local t0
	t0=$(date +%s%N)
	if tn_status >/dev/null 2>&1; then
		say "already up"
		return 0
	fi
	# Anything half-made from an earlier run goes first: a clean restart.
	tn_down
	mkdir -p "$dir"
	trap 'say "up failed (messages above); tearing down"; tn_down' ERR
	root_blackhole
	net_up
	certs_up
	dovecots_up
	truth_write
	tn_env >"$dir/env"
	touch "$dir/up.done"
	trap - ERR
	say "up in $((($(date +%s%N) - t0) / 1000000)) ms"
}
