#!/usr/bin/env bash
# test_grab_ipv6 — `mailcensus grab` with IPv6 targets ("[ADDR]:PORT" lines)
# in the test network. The test adds its own veth pair between the scanner
# and server namespaces with IPv6 on it only (2001:db8:1::1 / ::2, no DAD,
# no route beyond the /64; scan0 and the engine stay IPv4) and starts GNU
# Mailutils imap4d on [2001:db8:1::2]:143. Asserts:
#   - the record of [2001:db8:1::2]:143: ip in RFC 5952 text, banner,
#     software, posture, no error; a closed IPv6 port is "connect: refused";
#   - the records validate against output/schema/record.schema.json;
#   - an address outside the IPv6 safe range (2001:db8::/32 while
#     MAILCENSUS_SAFE_RANGE names no IPv6 prefix) is refused with exit 2;
#   - `mailcensus report` counts the IPv6 host once over its two ports.
# Uses the network the runner brought up (instance $MC_TESTNET, default mc).
set -uo pipefail
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
cd "$MC_SRCDIR" || exit 1
SCAN6=2001:db8:1::1
SRV6=2001:db8:1::2

need_root "network namespaces"
need_cmd python3
imap4d=$(command -v imap4d || echo /usr/sbin/imap4d)
[ -x "$imap4d" ] || skip "GNU Mailutils imap4d not installed (scripts/setup-deps: mailutils-imap4d)"
[ -x "$MC_BIN" ] || skip "no mailcensus binary at $MC_BIN"
need_testnet

work_dir
if6=g6s$$
mupid=
cleanup() {
	if [ -n "$mupid" ]; then
		kill "$mupid" 2>/dev/null
		wait "$mupid" 2>/dev/null
	fi
	ip netns exec "$MC_NS_SCAN" ip link del "$if6" 2>/dev/null
}
at_exit cleanup

# IPv6 on a pair of our own: new interfaces take the namespace's default
# disable_ipv6, so it is 0 only while the pair is created.
for ns in "$MC_NS_SCAN" "$MC_NS_SRV"; do
	old=$(ip netns exec "$ns" sysctl -n net.ipv6.conf.default.disable_ipv6)
	echo "$old" >"$work/v6default.$ns"
	ip netns exec "$ns" sysctl -qw net.ipv6.conf.default.disable_ipv6=0
done
ip link add "$if6" netns "$MC_NS_SCAN" type veth peer name "${if6}p" netns "$MC_NS_SRV"
rc=$?
for ns in "$MC_NS_SCAN" "$MC_NS_SRV"; do
	ip netns exec "$ns" sysctl -qw net.ipv6.conf.default.disable_ipv6="$(cat "$work/v6default.$ns")"
done
[ "$rc" -eq 0 ] || die "cannot create the IPv6 veth pair"
ip netns exec "$MC_NS_SCAN" ip addr add "$SCAN6/64" dev "$if6" nodad || die "scan address"
ip netns exec "$MC_NS_SRV" ip addr add "$SRV6/64" dev "${if6}p" nodad || die "server address"
ip netns exec "$MC_NS_SCAN" ip link set "$if6" up
ip netns exec "$MC_NS_SRV" ip link set "${if6}p" up

cat >"$work/imap4d.conf" <<CONF
logging { syslog no; };
pidfile $work/imap4d.pid;
server "[$SRV6]:143" { tls-mode false; };
CONF
ip netns exec "$MC_NS_SRV" "$imap4d" --config-file="$work/imap4d.conf" --daemon --foreground \
	</dev/null >"$work/imap4d.log" 2>&1 &
mupid=$!
wait_for "$mupid" srv_listening "[$SRV6]" 143 || die "imap4d is not listening: $(cat "$work/imap4d.log")"

# outside the IPv6 safe range: refused before any connection
echo "[2001:db9::1]:143" >"$work/outside"
ip netns exec "$MC_NS_SCAN" "$MC_BIN" grab "$work/outside" >/dev/null 2>"$work/outside.err"
rc=$?
[ "$rc" -eq 2 ] && grep -q "refused: target 2001:db9::1 is outside" "$work/outside.err" ||
	die "an address outside 2001:db8::/32 was not refused (exit $rc: $(cat "$work/outside.err"))"
say "ok   [2001:db9::1]:143 refused (exit 2)"

printf '[%s]:143\n[%s]:110  # closed\n198.18.1.10:143\n' "$SRV6" "$SRV6" >"$work/targets"
ip netns exec "$MC_NS_SCAN" "$MC_BIN" grab --ca-file "$MC_CA_CERT" --no-tls-matrix --read-timeout 5 \
	--timeout 20 -o "$work/res" "$work/targets" 2>"$work/stderr"
rc=$?
[ "$rc" -eq 0 ] || die "grab exited $rc: $(cat "$work/stderr")"
python3 tests/integration/schema_validate.py output/schema/record.schema.json "$work"/res/shard-* \
	>"$work/schema" || die "schema: $(cat "$work/schema")"
say "ok   records validate against the schema"
"$MC_BIN" report "$work/res" --format json -o "$work/report.json" || die "report"

python3 - "$work/res" "$work/report.json" "$SRV6" <<'PY'
import glob, json, sys
res, report, srv6 = sys.argv[1:4]
recs = {}
for f in glob.glob(res + "/shard-*"):
    for line in open(f):
        r = json.loads(line)
        recs[f"{r['ip']}:{r['port']}"] = r
fails = 0
def check(ok, what):
    global fails
    fails += not ok
    print(("ok   " if ok else "FAIL ") + what)
r = recs.get(f"{srv6}:143")
check(r is not None and r["banner"] == "* OK IMAP4rev1" and r["error"] is None
      and r["posture"] == "no_tls" and (r["software"] or {}).get("product") == "GNU Mailutils",
      f"[{srv6}]:143 grabbed: {r and (r['banner'], r['posture'], r['error'])}")
r = recs.get(f"{srv6}:110")
check(r is not None and r["error"] == "connect: refused", f"[{srv6}]:110 closed: {r and r['error']}")
check("198.18.1.10:143" in recs, "the IPv4 target in the same list")
rep = json.load(open(report))
check(rep["hosts"] == 2 and rep["unreadable_lines"] == 0,
      f"report: 2 hosts (IPv6 counted once), no unreadable line ({rep['hosts']}, {rep['unreadable_lines']})")
check(rep["cleartext_login"]["hosts"] == 2, f"report: 2 cleartext-login hosts ({rep['cleartext_login']})")
sys.exit(1 if fails else 0)
PY
