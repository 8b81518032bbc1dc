#!/usr/bin/env bash
# End to end on the test network: `mailcensus grab -o DIR` over every named host
# and 64 addresses of the range (4 ports each) with generated geo/ASN databases;
# then `verify` passes, every real record validates against the schema, and the
# report's numbers equal the ground truth (open services per port, services per
# posture, cleartext-login hosts, TLS 1.0 acceptance, top countries).
# Uses the network the runner brought up (instance $MC_TESTNET, default mc).
set -uo pipefail
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
cd "$MC_SRCDIR" || exit 1
need_root "network namespaces"
need_testnet
work_dir

# targets: named hosts + 198.18.16.0-63, ports 110 143 993 995
jq -r '.hosts[].ip' "$MC_TRUTH" >"$work/ips"
for i in $(seq 0 63); do echo "198.18.16.$i"; done >>"$work/ips"
while read -r ip; do for p in 110 143 993 995; do echo "$ip:$p"; done; done <"$work/ips" >"$work/targets"
# expected per target from the truth (range addresses take the range's ports)
jq -c --rawfile ips "$work/ips" '. as $t | [.hosts[] | {ip, ports}] +
	[$ips | split("\n")[] | select(startswith("198.18.16.")) | {ip: ., ports: $t.ranges[0].ports}]' \
	"$MC_TRUTH" >"$work/expect.json"
jq -c '[.[] | .ip as $ip | .ports | to_entries[] | select(.value.state == "open") | {ip: $ip, port: (.key|tonumber)} + .value]' \
	"$work/expect.json" >"$work/open.json"

mkdir -p "$work/mmdb" && perl scripts/gen-mmdb test "$work/mmdb" || bad "gen-mmdb"
ip netns exec "$MC_NS_SCAN" env MAILCENSUS_SAFE_RANGE=198.18.0.0/15 "$MC_BIN" grab -q -o "$work/res" \
	--geo-db "$work/mmdb/geolite2-country.mmdb" --asn-db "$work/mmdb/geolite2-asn.mmdb" \
	--ca-file "$MC_CA_CERT" --connect-timeout 2 --read-timeout 3 --timeout 20 "$work/targets"
rc=$?
[ $rc = 0 ] && ok "grab -o exits 0 ($(wc -l <"$work/targets") targets)" || bad "grab exit status $rc"
"$MC_BIN" verify "$work/res" >"$work/verify" && ok "verify: $(tail -1 "$work/verify")" || { bad "verify"; cat "$work/verify"; }
python3 tests/integration/schema_validate.py output/schema/record.schema.json "$work"/res/shard-* >"$work/schema" &&
	ok "real records validate: $(tail -1 "$work/schema")" || { bad "schema"; head "$work/schema"; }
"$MC_BIN" report "$work/res" --format json -o "$work/report.json" || bad "report"

cmp_num() { # NAME GOT WANT
	[ "$2" = "$3" ] && ok "$1: $2" || bad "$1: report $2, truth $3"
}
cmp_num targets "$(jq .targets "$work/report.json")" "$(wc -l <"$work/targets")"
cmp_num "open services" "$(jq .services "$work/report.json")" "$(jq length "$work/open.json")"
for p in 110 143 993 995; do
	cmp_num "services on $p" "$(jq "[.ports[] | select(.port == $p) | .services] | add // 0" "$work/report.json")" \
		"$(jq "[.[] | select(.port == $p)] | length" "$work/open.json")"
done
for posture in no_tls starttls_optional starttls_required implicit_tls; do
	cmp_num "services $posture" "$(jq ".posture.$posture.services" "$work/report.json")" \
		"$(jq "[.[] | select(.posture == \"$posture\")] | length" "$work/open.json")"
done
cmp_num "cleartext-login hosts" "$(jq .cleartext_login.hosts "$work/report.json")" \
	"$(jq '[.[] | select(.cleartext_login == true) | .ip] | unique | length' "$work/open.json")"
cmp_num "services accepting TLS 1.0" "$(jq .tls_versions.tls1_0.accepted "$work/report.json")" \
	"$(jq '[.[] | select(.tls_versions.tls1_0 == true)] | length' "$work/open.json")"
cmp_num "top countries" "$(jq -c '[.top_countries_cleartext[] | .country]' "$work/report.json")" '["FR","DE"]'
"$MC_BIN" report "$work/res" --format html -o "$work/report.html" && [ -s "$work/report.html" ] && ok "HTML report written" || bad "HTML report"
exit $fail
