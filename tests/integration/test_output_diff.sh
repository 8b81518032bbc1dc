#!/usr/bin/env bash
# mailcensus diff: exact counts for two hand-written censuses with known
# differences; a generated pair (4,000 records, one with --variant) checked
# against an independent Python implementation (diff_check.py); the same answer
# with a tiny sort buffer (many runs, merge passes) and zstd shards; no
# leftovers in the work directory; text, HTML and the --list NDJSON.
set -u
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
GEN="$MC_BUILDDIR/output/mc-bench-output"
work_dir
rec() { # ip port proto posture cleartext tls1_0 tls1_1 country
	jq -nc --arg ip "$1" --argjson port "$2" --arg proto "$3" --arg posture "$4" --argjson ct "$5" \
		--argjson t10 "$6" --argjson t11 "$7" --arg cc "$8" '
	{ip:$ip,port:$port,proto:$proto,time:"2026-11-29T05:00:00.000000Z",posture:$posture,
	 cleartext_login:$ct,tls_obsolete:null,banner:"+OK",banner_truncated:false,
	 capabilities:{pre_tls:[],post_tls:[],truncated:false},
	 starttls:{advertised:null,accepted:null,injection:null},
	 tls:{version:null,cipher:null,versions:{tls1_0:$t10,tls1_1:$t11,tls1_2:null,tls1_3:null},cert:null},
	 geo:{country:$cc},asn:{number:64500,org:"Test Net"},error:null}'
}

# 1. hand-written: A improves one port (no_tls -> starttls_required) but keeps
# a no_tls port (the host is unchanged: its weakest port decides);
# B drops TLS 1.0; C regresses (required -> optional, cleartext opened); D
# disappears (2 ports); E appears; F improves 110 but its 993 starts taking
# TLS 1.1 (service: one improved, one regressed; host: mixed). An unreachable
# target (connect:) and a duplicate record are not services.
mkdir -p "$work/old" "$work/new"
{
	rec 198.18.1.10 110 pop3 no_tls true null null DE
	rec 198.18.1.10 143 imap no_tls true null null DE
	rec 198.18.1.11 143 imap starttls_optional true true false FR
	rec 198.18.1.12 143 imap starttls_required false false false DE
} >"$work/old/shard-00000.ndjson"
{
	rec 198.18.1.13 110 pop3 no_tls true null null US
	rec 198.18.1.13 995 pop3s implicit_tls false false false US
	rec 198.18.1.15 110 pop3 no_tls true null null JP
	rec 198.18.1.15 993 imaps implicit_tls false false false JP
	rec 198.18.1.20 110 pop3 unknown null null null US | jq -c '.error="connect: connection refused"'
} >"$work/old/shard-00001.ndjson"
{
	rec 198.18.1.15 993 imaps implicit_tls false false true JP
	rec 198.18.1.10 143 imap no_tls true null null DE
	rec 198.18.1.10 110 pop3 starttls_required false null null DE
	rec 198.18.1.14 143 imap starttls_optional true false false BR
	rec 198.18.1.12 143 imap starttls_optional true false false DE
	rec 198.18.1.11 143 imap starttls_optional true false false FR
	rec 198.18.1.15 110 pop3 starttls_required false null null JP
	rec 198.18.1.10 143 imap implicit_tls false null null DE
} >"$work/new/shard-00000.ndjson"
mkdir -p "$work/tmp"
"$MC_BIN" diff "$work/old" "$work/new" --format json -o "$work/hand.json" --list "$work/hand.list" \
	--work-dir "$work/tmp" || bad "diff exits 0"
check_jq services .services '{"unchanged":1,"improved":3,"regressed":2,"mixed":0,"appeared":1,"disappeared":2}' "$work/hand.json"
check_jq hosts .hosts '{"unchanged":1,"improved":1,"regressed":1,"mixed":1,"appeared":1,"disappeared":1}' "$work/hand.json"
check_jq service_reasons '.service_reasons|[.posture_up,.posture_down,.cleartext_closed,.cleartext_opened,.tls1_0_dropped,.tls1_1_added]' '[2,1,2,1,1,1]' "$work/hand.json"
check_jq host_reasons '.host_reasons|[.posture_up,.posture_down,.cleartext_closed,.cleartext_opened,.tls1_0_dropped,.tls1_1_added]' '[1,1,1,1,1,1]' "$work/hand.json"
check_jq sides '[.old.services,.old.hosts,.old.unreachable,.new.services,.new.hosts,.new.duplicates]' '[8,5,1,7,5,1]' "$work/hand.json"
check_jq headline_counts '[.old.hosts_no_tls,.new.hosts_no_tls,.old.hosts_cleartext,.new.hosts_cleartext,.old.hosts_obsolete_tls,.new.hosts_obsolete_tls]' '[3,1,4,4,1,1]' "$work/hand.json"
check_jq posture_no_tls_to_required '.posture[]|select(.from=="no_tls" and .to=="starttls_required").services' 2 "$work/hand.json"
check_jq host_posture '[.host_posture[]|[.from,.to,.hosts]]' '[["absent","starttls_optional",1],["no_tls","absent",1],["no_tls","no_tls",1],["no_tls","starttls_required",1],["starttls_optional","starttls_optional",1],["starttls_required","starttls_optional",1]]' "$work/hand.json"
check_jq countries '[.countries[]|[.country,.improved,.regressed,.mixed,.appeared,.disappeared]]' '[["BR",0,0,0,1,0],["DE",0,1,0,0,0],["FR",1,0,0,0,0],["JP",0,0,1,0,0],["US",0,0,0,0,1]]' "$work/hand.json"
check_jq networks '[.networks[]|[.asn,.org,.improved,.regressed,.mixed,.appeared,.disappeared]]' '[[64500,"Test Net",1,1,1,1,1]]' "$work/hand.json"
[ "$(wc -l <"$work/hand.list")" = 13 ] && ok "--list: 8 changed services + 5 changed hosts" || bad "--list has $(wc -l <"$work/hand.list") lines"
[ "$(jq -c 'select(.scope=="service" and .ip=="198.18.1.10" and .port==110)' "$work/hand.list")" = \
	'{"scope":"service","ip":"198.18.1.10","port":110,"change":"improved","reasons":["posture_up","cleartext_closed"],"old_posture":"no_tls","new_posture":"starttls_required"}' ] &&
	ok "--list line for 198.18.1.10:110" || bad "--list line for 198.18.1.10:110"
[ -z "$(ls -A "$work/tmp")" ] && ok "work directory left empty" || bad "leftovers: $(ls -A "$work/tmp")"
python3 "$MC_SRCDIR/tests/integration/diff_check.py" "$work/old" "$work/new" "$work/hand.json" >"$work/check-hand.txt" &&
	ok "independent recomputation agrees (hand-written)" || { bad "independent recomputation (hand-written)"; cat "$work/check-hand.txt"; }
"$MC_BIN" diff "$work/old" "$work/new" >"$work/hand.txt" && grep -Eq '^improved +3 +1$' "$work/hand.txt" &&
	ok "text output" || { bad "text output"; cat "$work/hand.txt"; }
"$MC_BIN" diff "$work/old" "$work/new" --format html -o "$work/hand.html" &&
	grep -q '<table id="changes">' "$work/hand.html" && ! grep -qi '<script' "$work/hand.html" &&
	ok "HTML output (tables, no script)" || bad "HTML output"
"$MC_BIN" diff "$work/old" >/dev/null 2>&1; rc=$?
[ $rc = 2 ] && ok "one directory: usage, exit 2" || bad "one directory rc=$rc"
"$MC_BIN" diff "$work/old" "$work/nonexistent" >/dev/null 2>&1; rc=$?
[ $rc = 1 ] && ok "missing directory exits 1" || bad "missing directory rc=$rc"

# 2. generated: 4,000 records (old: plain, 3 shards; new: --variant, zstd)
mkdir -p "$work/mmdb"
perl "$MC_SRCDIR/scripts/gen-mmdb" demo "$work/mmdb" || bad "gen-mmdb demo"
"$GEN" --records 4000 --dir "$work/gen-old" --geo-db "$work/mmdb/country.mmdb" --asn-db "$work/mmdb/asn.mmdb" \
	--rotate-records 1500 >/dev/null || bad "generate old"
"$GEN" --records 4000 --dir "$work/gen-new" --variant 3 --compress --geo-db "$work/mmdb/country.mmdb" \
	--asn-db "$work/mmdb/asn.mmdb" >/dev/null || bad "generate new"
"$MC_BIN" diff "$work/gen-old" "$work/gen-new" --format json -o "$work/gen.json" || bad "diff generated"
python3 "$MC_SRCDIR/tests/integration/diff_check.py" "$work/gen-old" "$work/gen-new" "$work/gen.json" >"$work/check-gen.txt" &&
	ok "independent recomputation agrees (generated, $(jq .old.services "$work/gen.json") vs $(jq .new.services "$work/gen.json") services)" ||
	{ bad "independent recomputation (generated)"; cat "$work/check-gen.txt"; }
[ "$(jq '.services.improved > 0 and .services.regressed > 0 and .services.appeared > 0 and .services.disappeared > 0' "$work/gen.json")" = true ] &&
	ok "the generated pair has every kind of change" || bad "generated pair lacks a kind of change"
"$MC_BIN" diff "$work/gen-old" "$work/gen-new" --format json --sort-mem 1 -o "$work/gen1.json" || bad "diff --sort-mem 1"
strip='del(.sort_memory_bytes, .old.sort_runs, .new.sort_runs, .old.merge_passes, .new.merge_passes)'
[ "$(jq -cS "$strip" "$work/gen.json")" = "$(jq -cS "$strip" "$work/gen1.json")" ] &&
	ok "same answer with --sort-mem 1" || bad "--sort-mem 1 differs"
exit $fail
