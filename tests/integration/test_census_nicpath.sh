#!/usr/bin/env bash
# test_census_nicpath.sh — the census on a dedicated NIC: `scan --grab
# --kernel-path tap` in the test network's NIC variant (scripts/testnet
# nic-up), where the scanner's veth end is driven by DPDK (net_af_packet) and
# the kernel neither has an address on it nor sees its frames (netdev-ingress
# drop). The kernel reaches the servers only through the engine's tap.
# Checks: the variant really leaves the kernel no path; the census (targets
# and flags of test_census_testnet.sh) gives exactly its records
# (check_records.py against the ground truth); a capture in the
# server namespace shows every connection opening (SYN) from the scan's
# address, the grab's from kernel ports and none of the grab's connections
# touched by a frame with the engine's TTL (the engine never RSTs them); an
# ICMP echo to the scan address is answered by the kernel through the tap; the
# kernel path's counters in the metadata; the refusals (a port clash, a
# namespace that is not named, a tap device named after --) exit 2 before
# anything is sent.
set -euo pipefail
# shellcheck source=tests/integration/test_scan_common.sh
. "$(dirname "$0")/test_scan_common.sh"
need_testnet
need_cmd tcpdump nft unshare
# the variant is left as it was found: taken down again if this test made it
made_nic=0
"$MC_SRCDIR/scripts/testnet" nic-status || made_nic=1
"$MC_SRCDIR/scripts/testnet" nic-up
eval "$("$MC_SRCDIR/scripts/testnet" env)"
work_dir
capture_pid=
cleanup() {
	[ -n "$capture_pid" ] && kill "$capture_pid" 2>/dev/null && wait "$capture_pid" 2>/dev/null
	[ "$made_nic" = 1 ] && "$MC_SRCDIR/scripts/testnet" nic-down
}
at_exit cleanup

in_nic() { ip netns exec "$MC_NS_NIC" "$@"; }
nic_scan() {
	in_nic "$MC_BIN" scan --iface "$MC_NIC_IF" -S "$MC_NIC_IP" --gateway-ip "$MC_NIC_GW_IP" "$@"
}

# the variant: no kernel address on the NIC, no route, kernel ports below ours
check "the NIC has no kernel address" test -z "$(in_nic ip -4 -o addr show dev "$MC_NIC_IF")"
check "the kernel has no route to the servers" \
	bash -c "! ip netns exec $MC_NS_NIC ip route get 198.18.1.11 >/dev/null 2>&1"
check "kernel ephemeral ports 16384-32767" \
	test "$(in_nic sysctl -n net.ipv4.ip_local_port_range | tr -s '\t ' ' ')" = "16384 32767"

# the targets and flags of the census test (test_census_testnet.sh)
scan_truth_files "$work"
nopen=$(wc -l <"$work/open")
echo "truth: $nopen open pairs"

# every connection opening the servers see, on every interface
ip netns exec "$MC_NS_SRV" tcpdump -i any -nn -U -w "$work/syn.pcap" \
	'tcp[tcpflags] & (tcp-syn|tcp-ack) == tcp-syn and (dst port 110 or dst port 143 or dst port 993 or dst port 995)' \
	2>"$work/tcpdump.err" &
capture_pid=$!
# and every frame coming back from the scan address on the grab's ports
ip netns exec "$MC_NS_SRV" tcpdump -i srv1 -nn -U -w "$work/back.pcap" \
	"src host $MC_NIC_IP and tcp src portrange 16384-32767" 2>"$work/tcpdump2.err" &
capture2_pid=$!
for _ in $(seq 50); do
	grep -q listening "$work/tcpdump.err" && grep -q listening "$work/tcpdump2.err" && break
	sleep 0.1
done

# ICMP to the scan address while the scan runs: answered by the kernel
# through the tap (the engine hands it on; the kernel's reply goes out)
ip netns exec "$MC_NS_SRV" python3 "$MC_SRCDIR/tests/integration/icmp_echo.py" "$MC_NIC_IP" 50 \
	>"$work/echo" 2>&1 &
echo_pid=$!
start=$(date +%s)
rc=0
# (with the progress line: it carries the kernel path's counters)
nic_scan -w "$work/targets" -p 110,143,993,995 -r 20000 -c 3 --seed 42 \
	--kernel-path tap -m "$work/meta.json" \
	--grab -O "$work/res" --ca-file "$MC_CA_CERT" --grab-concurrency 32 \
	--grab-connect-timeout 3 --grab-read-timeout 10 --grab-timeout 60 2>"$work/stderr" || rc=$?
elapsed=$(($(date +%s) - start))
cat "$work/stderr"
echo "scan --grab --kernel-path tap exit $rc after ${elapsed}s"
sleep 0.5
kill "$capture_pid" "$capture2_pid" 2>/dev/null || :
wait "$capture_pid" "$capture2_pid" 2>/dev/null || :
capture_pid=

echo_rc=0
wait "$echo_pid" || echo_rc=$?
check "an ICMP echo to $MC_NIC_IP during the scan was answered ($(cat "$work/echo"))" \
	test "$echo_rc" -eq 0
cat "$work"/res/shard-*.ndjson >"$work/records" 2>/dev/null || : >"$work/records"
check "records checked against the ground truth" \
	python3 "$MC_SRCDIR/tests/integration/check_records.py" "$MC_TRUTH" "$work/open" \
	"$work/records" "$rc" "$elapsed"
check "manifest records equal the open pairs ($nopen)" \
	test "$(jq -r .records "$work/res/manifest.json")" -eq "$nopen"

# the capture: every SYN from the scan address; the grab's from kernel ports
tcpdump -r "$work/syn.pcap" -nn 2>/dev/null |
	sed -nE 's/.* IP ([0-9.]+)\.([0-9]+) > ([0-9.]+)\.([0-9]+): Flags \[S\].*/\1 \2 \3:\4/p' >"$work/syns"
nsyn=$(wc -l <"$work/syns")
check "the servers saw SYNs ($nsyn)" test "$nsyn" -gt "$nopen"
check "every SYN the servers saw came from $MC_NIC_IP" \
	test -z "$(awk -v ip="$MC_NIC_IP" '$1 != ip' "$work/syns" | head -3)"
awk '$2 >= 16384 && $2 <= 32767 {print $3}' "$work/syns" | sort -uV >"$work/grab.pairs"
jq -r '"\(.ip):\(.port)"' "$work/records" | sort -uV >"$work/rec.pairs"
check "every record's connection is in the capture, from a kernel port" \
	test -z "$(comm -23 <(sort "$work/rec.pairs") <(sort "$work/grab.pairs"))"
check "the scan's SYNs came from its own ports (32768-61000)" \
	test "$(awk '$2 >= 32768 && $2 <= 61000' "$work/syns" | wc -l)" -ge "$(wc -l <"$work/open")"
# the engine writes TTL 255; the kernel 64: nothing of the engine's on a grab connection
tcpdump -r "$work/back.pcap" -nn -v 2>/dev/null | grep -c 'ttl 255' >"$work/engine.frames" || :
check "no frame of the engine's (TTL 255) on the grab's connections" \
	test "$(cat "$work/engine.frames")" -eq 0
check "the grab's connections crossed the capture ($(tcpdump -r "$work/back.pcap" -nn 2>/dev/null | wc -l) frames)" \
	test "$(tcpdump -r "$work/back.pcap" -nn 2>/dev/null | wc -l)" -gt "$nopen"

m="$work/meta.json"
check "metadata: frames to and from the kernel" \
	test "$(jq '.kernel_path.to_kernel.frames > 0 and .kernel_path.from_kernel.frames > 0' "$m")" = true
check "metadata: no kernel-path drops" \
	test "$(jq '.kernel_path.to_kernel.drops + .kernel_path.from_kernel.drops' "$m")" -eq 0
check "metadata: every hit RST by the engine, nothing more ($(jq .rsts_sent "$m"))" \
	test "$(jq '.rsts_sent == .hits + .duplicates.hits' "$m")" = true
check "metadata: the scan's replies validated (hits $nopen)" test "$(jq .hits "$m")" -eq "$nopen"
check "the summary names the kernel path" grep -q "kernel path mctap0: to the kernel" "$work/stderr"
check "the progress line counts the kernel path" \
	grep -qE '^scan .*; kernel in [0-9]+ \([0-9]+ B\) out [0-9]+ \([0-9]+ B\) drops 0;' "$work/stderr"
check "the tap and its source rule are gone" \
	test -z "$(in_nic ip -o link show mctap0 2>/dev/null)$(in_nic ip rule | grep 28003)"

# refusals, before anything is sent
set +e
nic_scan -q --kernel-path tap --source-ports 20000-40000 198.18.1.11 >/dev/null 2>"$work/e1"
check "source ports overlapping the kernel's: exit 2" test $? -eq 2
check "... saying so" grep -q "overlap the kernel's ephemeral ports 16384-32767" "$work/e1"
unshare -n "$MC_BIN" scan -S "$MC_NIC_IP" --gateway-ip "$MC_NIC_GW_IP" --kernel-path tap -q \
	198.18.1.11 -- --vdev=net_null0,no-rx=1 >/dev/null 2>"$work/e2"
check "a namespace that is not named: exit 2" test $? -eq 2
check "... saying so" grep -q "only inside a named network namespace" "$work/e2"
unshare -n "$MC_BIN" scan -S "$MC_NIC_IP" -G 02:00:00:00:00:01 -q 198.18.1.11 \
	-- --vdev=net_tap0 >/dev/null 2>"$work/e4"
check "a tap named after -- outside a named namespace: exit 2" test $? -eq 2
check "... refused as an EAL device" grep -q "refusing EAL device '--vdev=net_tap0'" "$work/e4"
nic_scan -q --kernel-path tap -G 02:00:00:00:00:01 198.18.1.11 >/dev/null 2>"$work/e3"
check "--kernel-path without --gateway-ip: exit 2" test $? -eq 2
set -e
exit $fail
