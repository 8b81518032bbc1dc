#!/usr/bin/env bash
# mailcensus report: exact numbers from a hand-written shard, text/JSON/HTML from a
# generated enriched run, and the HTML page rendered by headless Chromium (title and
# chart elements in the DOM, screenshot not blank).
set -u
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
GEN="$MC_BUILDDIR/output/mc-bench-output"
work_dir

# 1. exact numbers from our own NDJSON (no manifest: the report lists the shards)
mkdir -p "$work/hand"
rec() { # ip port proto posture cleartext extra-jq
	jq -nc --arg ip "$1" --argjson port "$2" --arg proto "$3" --arg posture "$4" --argjson ct "$5" "
	{ip:\$ip,port:\$port,proto:\$proto,time:\"2026-11-29T05:00:00.000000Z\",posture:\$posture,
	 cleartext_login:\$ct,cleartext_login_evidence:\"behaviour\",tls_obsolete:null,banner:\"+OK\",banner_truncated:false,
	 capabilities:{pre_tls:[],post_tls:[],truncated:false},
	 starttls:{advertised:null,accepted:null,injection:null},
	 tls:{version:null,cipher:null,versions:{tls1_0:null,tls1_1:null,tls1_2:null,tls1_3:null},cert:null},
	 geo:{country:null},asn:{number:null,org:null},error:null} | $6"
}
cert='{subject:"CN=x",issuer:"CN=x",sans:[],not_before:null,not_after:null,expired:false,self_signed:false,key_type:"RSA",key_bits:2048,sig_alg:"x",sha256:"00",chain_len:1,chain_valid:true,chain_error:null}'
{
	rec 198.18.1.10 110 pop3 no_tls true '.geo.country="DE" | .asn={number:64500,org:"Test <Net> A"} | .software={product:"Dovecot",version:null}'
	rec 198.18.1.10 143 imap no_tls true '.geo.country="DE" | .asn={number:64500,org:"Test <Net> A"} | .cleartext_login_evidence="capability" | .software={product:"Dovecot",version:"2.3.19"}'
	rec 198.18.1.11 143 imap starttls_optional true ".geo.country=\"FR\" | .asn={number:64501,org:\"R\"} | del(.cleartext_login_evidence) | .tls.versions.tls1_0=true | .tls_obsolete=true | .tls.cert=($cert | .expired=true) | .starttls={advertised:true,accepted:true,injection:true,injection_result:\"vulnerable\"} | .software={product:\"Cyrus IMAP\",version:\"3.0.8\"}"
	rec 198.18.1.11 993 imaps implicit_tls false ".geo.country=\"FR\" | .tls.cert=($cert | .self_signed=true | .chain_valid=false)"
	rec 198.18.1.12 143 imap starttls_required false '.geo.country="DE"'
	rec 198.18.1.20 110 pop3 unknown null '.error="connect: connection refused"'
} >"$work/hand/shard-00000.ndjson"
"$MC_BIN" report "$work/hand" --format json -o "$work/hand.json" || bad "report --format json"
check_jq targets '[.targets,.unreachable]' '[6,1]' "$work/hand.json"
check_jq services .services 5 "$work/hand.json"
check_jq hosts .hosts 3 "$work/hand.json"
check_jq ports '[.ports[]|[.port,.proto,.services,.hosts]]' '[[110,"pop3",1,1],[143,"imap",3,3],[993,"imaps",1,1]]' "$work/hand.json"
# measured: .10's 110; capability only: .10's 143 and .11's 143 (a record without
# cleartext_login_evidence, written before issue 18, counts as capability only)
check_jq cleartext '.cleartext_login' '{"services":3,"hosts":2,"behaviour":{"services":1,"hosts":1},"capability_only":{"services":2,"hosts":1}}' "$work/hand.json"
check_jq posture_hosts '[.posture[]|.hosts]' '[0,1,1,1,1]' "$work/hand.json"
check_jq tls1_0 '[.tls_versions.tls1_0.accepted,.tls_versions.hosts_tls1_0]' '[1,1]' "$work/hand.json"
check_jq certificates '.certificates' '{"seen":2,"expired":1,"self_signed":1,"invalid_chain":1}' "$work/hand.json"
check_jq injection .starttls.injection 1 "$work/hand.json"
check_jq errors .errors 0 "$work/hand.json"
# software (issue 16): hosts once per label; records without software are "(unidentified)"
check_jq sw_clear '[.software.cleartext_login_by_product.rows[]|[.product,.hosts]]' '[["Cyrus IMAP",1],["Dovecot",1]]' "$work/hand.json"
check_jq sw_clear_ver '[.software.cleartext_login_by_version.rows[]|[.product,.version,.hosts]]' '[["Cyrus IMAP","3.0.8",1],["Dovecot","(unknown)",1],["Dovecot","2.3.19",1]]' "$work/hand.json"
check_jq sw_inject '[.software.injection_vulnerable_by_product.rows[]|[.product,.hosts]]' '[["Cyrus IMAP",1]]' "$work/hand.json"
check_jq top_countries '.top_countries_cleartext' '[{"country":"DE","hosts":1,"hosts_total":2},{"country":"FR","hosts":1,"hosts_total":1}]' "$work/hand.json"
check_jq top_networks '[.top_networks_cleartext[]|[.asn,.org,.hosts]]' '[[64500,"Test <Net> A",1],[64501,"R",1]]' "$work/hand.json"
"$MC_BIN" report "$work/hand" >"$work/hand.txt" && grep -q 'Cleartext login accepted: 3 services on 2 hosts' "$work/hand.txt" &&
	grep -q 'measured by the login probe: 1 services on 1 hosts' "$work/hand.txt" &&
	grep -q 'STARTTLS-injection-vulnerable hosts by software' "$work/hand.txt" &&
	grep -q 'from the capability list only: 2 services on 1 hosts' "$work/hand.txt" &&
	ok "text report" || { bad "text report"; cat "$work/hand.txt"; }
"$MC_BIN" report "$work/nonexistent" >/dev/null 2>&1; rc=$?
[ $rc = 1 ] && ok "missing directory exits 1" || bad "missing directory rc=$rc"
"$MC_BIN" report "$work/hand" --format pdf >/dev/null 2>&1; rc=$?
[ $rc = 2 ] && ok "unknown format exits 2" || bad "unknown format rc=$rc"
# the same records split over two directories (one per shard): hosts with ports in
# both count once, every other number is the single directory's
mkdir -p "$work/split-a" "$work/split-b"
sed -n '1p;3p;5p' "$work/hand/shard-00000.ndjson" >"$work/split-a/shard-00000.ndjson"
sed -n '2p;4p;6p' "$work/hand/shard-00000.ndjson" >"$work/split-b/shard-00000.ndjson"
"$MC_BIN" report "$work/split-a" "$work/split-b" --format json -o "$work/split.json" ||
	bad "report of two directories"
check_jq split_shards .shards 2 "$work/split.json"
[ "$(jq -c 'del(.shards)' "$work/split.json")" = "$(jq -c 'del(.shards)' "$work/hand.json")" ] &&
	ok "two directories report as one (hosts counted once)" ||
	bad "two directories: $(jq -c '[.services,.hosts]' "$work/split.json")"
"$MC_BIN" report "$work/split-a" "$work/nonexistent" >/dev/null 2>&1; rc=$?
[ $rc = 1 ] && ok "a missing second directory exits 1" || bad "missing second directory rc=$rc"

# 2. a generated, enriched run with a manifest
mkdir -p "$work/mmdb"
perl "$MC_SRCDIR/scripts/gen-mmdb" test "$work/mmdb" || bad "gen-mmdb"
"$GEN" --records 4000 --dir "$work/run" --geo-db "$work/mmdb/geolite2-country.mmdb" \
	--asn-db "$work/mmdb/geolite2-asn.mmdb" --rotate-records 1500 >/dev/null || bad "generate run"
"$MC_BIN" report "$work/run" --format json -o "$work/run.json" || bad "report json"
check_jq generated_services .services 4000 "$work/run.json"
check_jq attribution '.run.attribution|length' 2 "$work/run.json"
"$GEN" --records 4000 --dir "$work/run-zst" --compress --geo-db "$work/mmdb/geolite2-country.mmdb" \
	--asn-db "$work/mmdb/geolite2-asn.mmdb" --rotate-records 1500 >/dev/null || bad "generate zstd run"
"$MC_BIN" report "$work/run-zst" --format json -o "$work/run-zst.json" || bad "report zstd"
[ "$(jq -c 'del(.run)' "$work/run.json")" = "$(jq -c 'del(.run)' "$work/run-zst.json")" ] &&
	ok "zstd shards give the same report" || bad "zstd report differs"
"$MC_BIN" report "$work/run" --format html -o "$work/report.html" || bad "report html"
grep -q 'http[s]*://' <(sed 's/xmlns="http:\/\/www.w3.org\/2000\/svg"//g' "$work/report.html") &&
	bad "HTML references a URL" || ok "HTML has no external URL"
grep -qi '<script' "$work/report.html" && bad "HTML has a script" || ok "HTML has no script"

# 3. the world map: scripts/topo2map on a tiny TopoJSON (exact output), then a run
# enriched by the demo databases (scripts/gen-mmdb demo) with the map beside them
cat >"$work/topo.json" <<'TOPO'
{"type":"Topology","transform":{"scale":[1,1],"translate":[-180,-85]},
 "arcs":[[[180,85],[10,0],[0,10],[-10,0],[0,-10]],[[200,85],[5,0],[0,5],[-5,0],[0,-5]],[[100,100],[20,0],[0,20],[-20,0],[0,-20]]],
 "objects":{"countries":{"type":"GeometryCollection","geometries":[
  {"type":"Polygon","id":"276","arcs":[[0]]},{"type":"MultiPolygon","id":"250","arcs":[[[1]],[[-1]]]},
  {"type":"Polygon","id":"840","arcs":[[2]]},{"type":"Polygon","id":"999","arcs":[[1]]}]}}}
TOPO
echo '[["DE","DEU","276"],["FR","FRA","250"],["US","USA","840"]]' >"$work/codes.json"
python3 "$MC_SRCDIR/scripts/topo2map" "$work/topo.json" "$work/codes.json" "tiny test map" >"$work/map.tsv" || bad "topo2map"
printf '%s\n' '# viewBox 0 0 960 379' '# source: tiny test map' \
	'DE	M480,224L507,224L507,198L480,198L480,224Z' \
	'FR	M533,224L547,224L547,211L533,211L533,224ZM480,224L480,198L507,198L507,224L480,224Z' \
	'US	M267,184L320,184L320,131L267,131L267,184Z' >"$work/map.want"
cmp -s "$work/map.tsv" "$work/map.want" && ok "topo2map: projected paths, numeric ids to alpha-2, reversed arcs, unknown id dropped" ||
	{ bad "topo2map output"; diff "$work/map.want" "$work/map.tsv"; }
mkdir -p "$work/demo-geo"
perl "$MC_SRCDIR/scripts/gen-mmdb" demo "$work/demo-geo" || bad "gen-mmdb demo"
cp "$work/map.tsv" "$work/demo-geo/world-map.tsv"
"$GEN" --records 2000 --dir "$work/demo" --geo-db "$work/demo-geo/country.mmdb" --asn-db "$work/demo-geo/asn.mmdb" >/dev/null ||
	bad "generate demo-enriched run"
"$MC_BIN" report "$work/demo" --format json -o "$work/demo.json" || bad "report json (demo)"
"$MC_BIN" report "$work/demo" --format html -o "$work/map.html" || bad "report html (demo)"
us=$(jq '.countries[]|select(.country=="US").cleartext_hosts' "$work/demo.json")
us_all=$(jq '.countries[]|select(.country=="US").hosts' "$work/demo.json")
want_us=$(cat "$work"/demo/shard-*.ndjson | jq -s '[.[]|select(.geo.country=="US" and .cleartext_login==true)|.ip]|unique|length')
[ "$us" = "$want_us" ] && [ "$us" -gt 0 ] && ok "US cleartext-login hosts = $us (jq over the shards)" || bad "US cleartext hosts $us, want $want_us"
grep -q "<path class=\"country c[0-9]\" id=\"cc-US\" data-hosts=\"$us\"" "$work/map.html" &&
	ok "map: US shaded with its $us hosts" || bad "map: no US path with data-hosts=$us"
[ "$(grep -c '<path class="country' "$work/map.html")" = 3 ] && ok "map: one path per country of the map file" || bad "map path count"
grep -q 'class="country c0" id="cc-FR" data-hosts="0"' "$work/map.html" && ok "map: a country without hosts is drawn empty" || bad "map: FR"
grep -q "<td>US</td><td>$us</td><td>[0-9.]*%</td><td>$us_all</td>" "$work/map.html" &&
	ok "country share table: US $us of $us_all mail hosts" || bad "country share table"
grep -q 'id="asn-shares"' "$work/map.html" && grep -q '<td>AS64496 Demo Backbone</td>' "$work/map.html" &&
	ok "network share table" || bad "network share table"
headline=$(jq -r .headline "$work/demo.json")
[ "$headline" = "$(jq -r '"\(.posture.no_tls.hosts) hosts offer POP3/IMAP without TLS; \(.tls_versions.hosts_obsolete) accept TLS 1.0/1.1."' "$work/demo.json")" ] &&
	grep -qF "$headline" "$work/map.html" && ok "headline: $headline" || bad "headline '$headline'"
grep -q 'id="demo-geo"' "$work/map.html" && "$MC_BIN" report "$work/demo" | grep -q 'demo database' &&
	ok "the report says the countries are demo data" || bad "no demo-data note"
grep -q 'id="map-source">Map: tiny test map' "$work/map.html" && ok "the map names its source" || bad "map source"
"$MC_BIN" report "$work/run" --format html -o "$work/nomap.html" && grep -q 'id="no-map"' "$work/nomap.html" &&
	! grep -q 'id="demo-geo"' "$work/nomap.html" && ok "without map data: a note, no map" || bad "no-map note"
"$MC_BIN" report "$work/run" --format html --map "$work/map.tsv" -o "$work/map2.html" &&
	[ "$(grep -c '<path class="country' "$work/map2.html")" = 3 ] && ok "--map FILE" || bad "--map FILE"

# 4. headless Chromium renders them
need_cmd chromium # a skip here fails if a check above failed
chrome=(chromium --headless --no-sandbox --disable-gpu --no-first-run --disable-background-networking
	--disable-component-update --disable-sync --user-data-dir="$work/chrome")
timeout 120 "${chrome[@]}" --dump-dom "file://$work/report.html" >"$work/dom.html" 2>"$work/chrome.log"
grep -q '<title>mailcensus report</title>' "$work/dom.html" && ok "title in the DOM" || bad "no title in the DOM dump"
charts=$(grep -o '<svg class="chart"' "$work/dom.html" | wc -l)
bars=$(grep -o '<rect class="bar"' "$work/dom.html" | wc -l)
[ "$charts" -ge 5 ] && [ "$bars" -ge 10 ] && ok "$charts charts, $bars bars in the DOM" || bad "charts=$charts bars=$bars"
timeout 120 "${chrome[@]}" --window-size=1000,1600 --screenshot="$work/report.png" "file://$work/report.html" >>"$work/chrome.log" 2>&1
if [ -s "$work/report.png" ]; then
	python3 "$MC_SRCDIR/tests/integration/png_check.py" "$work/report.png" && ok "screenshot is not blank" || bad "screenshot blank"
else
	bad "no screenshot"; tail -5 "$work/chrome.log"
fi
timeout 120 "${chrome[@]}" --dump-dom "file://$work/map.html" >"$work/map-dom.html" 2>>"$work/chrome.log"
paths=$(grep -o '<path class="country c[0-9]*" id="cc-[A-Z][A-Z]"' "$work/map-dom.html" | wc -l)
grep -q '<svg class="map" id="world-map"' "$work/map-dom.html" && [ "$paths" = 3 ] &&
	ok "map in the DOM: svg#world-map with $paths country paths" || bad "map DOM: $paths paths"
timeout 120 "${chrome[@]}" --window-size=1000,2600 --screenshot="$work/map.png" "file://$work/map.html" >>"$work/chrome.log" 2>&1
[ -s "$work/map.png" ] && python3 "$MC_SRCDIR/tests/integration/png_check.py" "$work/map.png" &&
	ok "map page screenshot is not blank" || bad "map page screenshot"
exit $fail
