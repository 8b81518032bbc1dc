#!/usr/bin/env bash
# test_grab_workers.sh — the grab workers are unprivileged processes, and
# Ctrl-C ends a census in bounded time with a verifiable directory.
#
#  1. A live census (`scan --grab --grab-workers 2`): each worker's
#     /proc/PID/status says Uid not 0, CapEff/CapPrm/CapBnd 0, NoNewPrivs 1,
#     Seccomp 2; the root holds the AF_PACKET socket (DPDK's af_packet
#     port), no worker holds it or any descriptor outside a short list, and
#     the worker's hit log descriptor is read-only. The run then has one
#     record per responder, from both workers' shards, and the manifest's
#     "hits" account for every hit of the log.
#  2. A forbidden system call from a sandboxed worker is refused (the
#     hidden MC_WORKER_SELFTEST hook): socket(AF_UNIX) and open() of a
#     world-readable file fail with EPERM, setresuid(0) fails, execve()
#     kills the worker with SIGSYS and the run fails to start (exit 2);
#     an unknown --user, or one with uid 0, is refused before any fork.
#  3. SIGINT while sending, and SIGINT in the grab tail: root and workers end
#     within --grab-timeout + 2 s, `verify --partial` passes, the manifest
#     says interrupted by SIGINT and accounts for every hit.
set -euo pipefail
# shellcheck source=tests/integration/test_scan_common.sh
. "$(dirname "$0")/test_scan_common.sh"
scan_need_testnet
command -v jq >/dev/null || { echo "SKIP: jq not installed (scripts/setup-deps)"; exit 77; }
work=$(mktemp -d)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || :; done
	rm -rf "$work"
}
trap cleanup EXIT
fails=0
ok() { echo "ok   $*"; }
bad() {
	echo "FAIL $*"
	fails=$((fails + 1))
}
expect() { # expect TEXT CMD...: ok when CMD succeeds
	local what=$1
	shift
	if "$@" >/dev/null; then ok "$what"; else bad "$what"; fi
}
# scan --grab in the scanner namespace, not -q (ip netns exec execs: $! of
# "${census[@]}" ... & is mailcensus itself)
census=(ip netns exec "$MC_NS_SCAN" "$MC_BIN" scan --iface "$MC_SCAN_IF" -S "$MC_ENGINE_IP"
	--gateway-ip "$MC_GW_IP" --grab --no-enrich --ca-file "$MC_CA_CERT")
children() { ps -o pid= --ppid "$1" | tr -d ' '; }
status_field() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }
# hits accounting: logged = records + skipped + abandoned + unread + corrupt
accounted() {
	jq -e '.hits as $h | $h.logged + $h.old_todo == ($h.records + $h.skipped + $h.refound + $h.abandoned + $h.unread + $h.corrupt)
		and $h.records == .records' "$1/manifest.json" >/dev/null
}

# --- 1. a live census -------------------------------------------------------
printf '198.18.16.0/25\n198.18.1.0/27\n' >"$work/allow"
"${census[@]}" -w "$work/allow" -p 110,143,993,995 -r 150 -c 1 --seed 5 --grab-workers 2 \
	--no-tls-matrix --grab-timeout 10 -O "$work/live" 2>"$work/live.err" &
root=$!
pids+=("$root")
sleep 1.5
mapfile -t ws < <(children "$root")
expect "census has 2 worker processes (${ws[*]:-none})" test "${#ws[@]}" -eq 2
packet_inodes=$(awk 'NR > 1 { print $NF }' "/proc/$root/net/packet" | sort -u)
socket_inodes() { # the inodes of PID's sockets
	for f in /proc/"$1"/fd/*; do readlink "$f"; done 2>/dev/null | sed -n 's/^socket:\[\([0-9]*\)\]$/\1/p' | sort -u
}
expect "the root holds an AF_PACKET socket (the engine's port)" \
	test -n "$(comm -12 <(socket_inodes "$root") <(echo "$packet_inodes"))"
for w in "${ws[@]}"; do
	read -r ruid euid suid fsuid < <(awk '$1 == "Uid:" { print $2, $3, $4, $5 }' "/proc/$w/status")
	expect "worker $w: uids $ruid/$euid/$suid/$fsuid, none 0" \
		test "$ruid" -ne 0 -a "$euid" -ne 0 -a "$suid" -ne 0 -a "$fsuid" -ne 0
	for cap in CapEff CapPrm CapInh CapBnd CapAmb; do
		v=$(status_field "$w" "$cap")
		expect "worker $w: $cap $v" test "$v" = 0000000000000000
	done
	expect "worker $w: NoNewPrivs $(status_field "$w" NoNewPrivs)" test "$(status_field "$w" NoNewPrivs)" = 1
	expect "worker $w: Seccomp $(status_field "$w" Seccomp) (filter)" test "$(status_field "$w" Seccomp)" = 2
	expect "worker $w: no AF_PACKET socket" \
		test -z "$(comm -12 <(socket_inodes "$w") <(echo "$packet_inodes"))"
	# every descriptor past stdio: the results directory, the hit log, its
	# own shards, epoll, sockets (control socket, TCP to servers)
	odd=$(for f in /proc/"$w"/fd/*; do [ "${f##*/}" -gt 2 ] && readlink "$f"; done 2>/dev/null |
		grep -v -e "^$work/live\$" \
			-e "^$work/live/hits.log\$" -e "^$work/live/shard-[0-9]*\.ndjson\.tmp\$" \
			-e '^anon_inode:\[eventpoll\]$' -e '^socket:' || :)
	expect "worker $w: no descriptor outside the list${odd:+ (has: $odd)}" test -z "$odd"
	for f in /proc/"$w"/fd/*; do
		[ "$(readlink "$f")" = "$work/live/hits.log" ] || continue
		flags=$(awk '$1 == "flags:" { print $2 }' "/proc/$w/fdinfo/${f##*/}")
		expect "worker $w: hit log descriptor read-only (flags $flags)" test $((8#$flags & 3)) -eq 0
	done
done
rc=0
wait "$root" || rc=$?
expect "census exit 0" test "$rc" -eq 0
m=$work/live/manifest.json
expect "verify passes" "$MC_BIN" verify "$work/live"
cat "$work"/live/shard-*.ndjson | jq -r '"\(.ip):\(.port)"' | sort >"$work/live.pairs"
expect "one record per responder ($(wc -l <"$work/live.pairs") records, $(jq .hits.logged "$m") hits)" \
	test "$(sort -u "$work/live.pairs" | wc -l)" -eq "$(jq .hits.logged "$m")" -a \
	"$(wc -l <"$work/live.pairs")" -eq "$(jq .hits.logged "$m")" -a "$(jq .hits.logged "$m")" -gt 100
expect "manifest hits: $(jq -c .hits "$m"), all accounted for, nothing abandoned or unread" \
	jq -e '.hits.workers == 2 and .hits.unread == 0 and .hits.abandoned == 0 and .engine.drops.ring == 0' "$m"
expect "manifest hits add up" accounted "$work/live"
expect "shards are the root's, the directory's owner and mode restored" \
	test -z "$(find "$work/live" \( ! -user root -o ! -group root \))" -a "$(stat -c %a "$work/live")" = 755

# --- 2. forbidden system calls -----------------------------------------------
printf '198.18.16.1:143\n' >"$work/one"
for t in unix open setuid; do
	MC_WORKER_SELFTEST=$t ip netns exec "$MC_NS_SCAN" "$MC_BIN" grab --grab-workers 1 \
		--no-enrich "$work/one" >/dev/null 2>"$work/st.$t" || :
	expect "selftest $t: $(grep selftest "$work/st.$t")" grep -q "selftest $t: EPERM" "$work/st.$t"
done
rc=0
hook="exec"
MC_WORKER_SELFTEST=$hook ip netns exec "$MC_NS_SCAN" "$MC_BIN" grab --grab-workers 1 --no-enrich \
	-o "$work/exec" "$work/one" >/dev/null 2>"$work/st.exec" || rc=$?
expect "execve kills the worker: exit $rc, $(head -c 120 "$work/st.exec")" \
	test "$rc" -eq 2 -a -n "$(grep 'killed by SIGSYS' "$work/st.exec")"

for u in nosuchuser root; do
	rc=0
	"$MC_BIN" grab --user "$u" --no-enrich "$work/one" >/dev/null 2>"$work/user.$u" || rc=$?
	expect "--user $u refused up front: exit $rc, $(head -c 90 "$work/user.$u")" \
		test "$rc" -eq 2 -a -n "$(grep -e 'no such user' -e 'never runs as root' "$work/user.$u")"
done

# --- 3. Ctrl-C ------------------------------------------------------------------
# interrupt PHASE DIR ARGS...: start a census, SIGINT it (while sending: once
# the first progress line counts SYNs sent; in the grab tail: once the
# sending and cooldown are done), time the end
interrupt() {
	local phase=$1 dir=$2 t0 t1 rc=0 w
	shift 2
	"${census[@]}" "$@" -O "$dir" 2>"$dir.err" &
	local pid=$!
	pids+=("$pid")
	if [ "$phase" = sending ]; then # once the progress line shows SYNs sent
		for _ in $(seq 200); do
			grep -q 'sent [1-9]' "$dir.err" 2>/dev/null && break
			sleep 0.05
		done
	else
		for _ in $(seq 200); do
			grep -q 'sending and cooldown done' "$dir.err" 2>/dev/null && break
			sleep 0.05
		done
		sleep 0.5
	fi
	mapfile -t ws < <(children "$pid")
	t0=$(date +%s%N)
	kill -INT "$pid"
	wait "$pid" || rc=$?
	t1=$(date +%s%N)
	local ms=$(((t1 - t0) / 1000000)) alive=""
	for w in "${ws[@]}"; do kill -0 "$w" 2>/dev/null && alive="$alive $w"; done
	expect "SIGINT $phase: ended in $ms ms (bound $((grab_timeout + 2)) s), exit $rc, workers gone" \
		test "$ms" -le $(((grab_timeout + 2) * 1000)) -a -z "$alive" -a "${#ws[@]}" -eq 2
	expect "SIGINT $phase: verify --partial passes" "$MC_BIN" verify --partial "$dir"
	expect "SIGINT $phase: manifest $(jq -r '[.state, .signal] | join(" ")' "$dir/manifest.json")" \
		jq -e '.state == "interrupted" and .signal == "SIGINT"' "$dir/manifest.json"
	expect "SIGINT $phase: hits $(jq -c .hits "$dir/manifest.json") all accounted for" accounted "$dir"
}
grab_timeout=4
printf '198.18.16.0/22\n' >"$work/range"
interrupt sending "$work/int1" -w "$work/range" -p 143 -r 300 -c 1 --grab-workers 2 \
	--grab-timeout "$grab_timeout" --no-tls-matrix
expect "SIGINT sending: the scan was cut short ($(jq .hits.logged "$work/int1/manifest.json") of 1024 found)" \
	jq -e '.hits.logged < 1024' "$work/int1/manifest.json"
# a grab stage far slower than the scan: the tail lasts many seconds
interrupt tail "$work/int2" -w "$work/range" -p 143 -r 20000 -c 1 --grab-workers 2 \
	--grab-concurrency 2 --grab-rate 20 --grab-timeout "$grab_timeout" --no-tls-matrix
expect "the tail was interrupted with hits left to grab" \
	jq -e '.hits.unread + .hits.abandoned > 0' "$work/int2/manifest.json"

[ "$fails" -eq 0 ] || { echo "$fails failed"; exit 1; }
echo "all passed"
