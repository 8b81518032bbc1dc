#!/usr/bin/env bash
# mailcensus export: the flat CSV checked column by column against the records
# with Python's csv module (enriched records and hostile-byte records); the
# Shadowserver IMAP/POP3 CSVs checked row by row; --asn/--country filters against
# counts from jq; the BigQuery schema against record.schema.json; the DuckDB SQL
# loaded into a real DuckDB (npm @duckdb/node-api, installed by setup-deps).
set -u
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
GEN="$MC_BUILDDIR/output/mc-bench-output"
CHECK="$MC_SRCDIR/tests/integration/export_check.py"
SCHEMA="$MC_SRCDIR/output/schema/record.schema.json"
work_dir

mkdir -p "$work/mmdb"
perl "$MC_SRCDIR/scripts/gen-mmdb" demo "$work/mmdb" || bad "gen-mmdb demo"
"$GEN" --records 3000 --dir "$work/run" --geo-db "$work/mmdb/country.mmdb" --asn-db "$work/mmdb/asn.mmdb" \
	--rotate-records 1000 >/dev/null || bad "generate enriched run"
"$GEN" --records 200 --dir "$work/hostile" --hostile --no-enrich --compress >/dev/null || bad "generate hostile run"

# 1. flat CSV
"$MC_BIN" export --format csv "$work/run" "$work/hostile" -o "$work/all.csv" || bad "export csv"
python3 "$CHECK" flat "$SCHEMA" "$work/all.csv" "$work/run" "$work/hostile" || fail=1
"$MC_BIN" export --format columns >"$work/columns.txt" && [ "$(wc -l <"$work/columns.txt")" = \
	"$(head -1 "$work/all.csv" | tr ',' '\n' | wc -l)" ] && ok "--format columns lists every CSV column" ||
	bad "--format columns"

# 2. Shadowserver CSVs
"$MC_BIN" export --format shadowserver-csv "$work/run" "$work/hostile" -o "$work/ss" 2>/dev/null || bad "export shadowserver-csv"
python3 "$CHECK" shadowserver "$work/ss" "$work/run" "$work/hostile" || fail=1

# 3. filters: counts from jq over the shards
all() { cat "$work"/run/shard-*.ndjson; }
de=$(all | jq -s '[.[]|select(.geo.country=="DE")]|length')
ru_or_asn=$(all | jq -s '[.[]|select(.asn.number==64496 or .asn.number==64503)]|length')
both=$(all | jq -s '[.[]|select((.asn.number==64496 or .asn.number==64503) and (.geo.country=="US" or .geo.country=="RU"))]|length')
"$MC_BIN" export --format csv --country de "$work/run" -o "$work/de.csv" || bad "export --country"
python3 "$CHECK" count "$work/de.csv" "$de" || fail=1
"$MC_BIN" export --format csv --asn 64496 --asn AS64503 "$work/run" -o "$work/asn.csv" || bad "export --asn"
python3 "$CHECK" count "$work/asn.csv" "$ru_or_asn" || fail=1
"$MC_BIN" export --format shadowserver-csv --asn 64496,64503 --country US,RU "$work/run" -o "$work/ss-f" 2>/dev/null ||
	bad "shadowserver-csv with filters"
got=$(($(wc -l <"$work/ss-f/scan_imap.csv") + $(wc -l <"$work/ss-f/scan_pop3.csv") - 2))
[ "$got" = "$both" ] && ok "shadowserver-csv --asn --country: $both rows" || bad "filtered shadowserver rows $got, want $both"
[ "$de" -gt 0 ] && [ "$both" -gt 0 ] && [ "$de" -lt 3000 ] && ok "filters select a proper subset ($de, $ru_or_asn, $both of 3000)" ||
	bad "filter subsets degenerate: $de $ru_or_asn $both"
"$MC_BIN" export --format csv --country DEU "$work/run" >/dev/null 2>&1; rc=$?
[ $rc = 2 ] && ok "bad --country exits 2" || bad "bad --country rc=$rc"
"$MC_BIN" export --format shadowserver-csv "$work/run" >/dev/null 2>&1; rc=$?
[ $rc = 2 ] && ok "shadowserver-csv without -o exits 2" || bad "shadowserver-csv without -o rc=$rc"

# 4. schemas from the one JSON Schema
"$MC_BIN" export --format bigquery-schema -o "$work/bq.json" || bad "bigquery-schema"
python3 "$CHECK" bigquery "$SCHEMA" "$work/bq.json" || fail=1
"$MC_BIN" export --format duckdb "$work/run" -o "$work/load.sql" || bad "duckdb"
for p in $(jq -r '.properties|keys[]' "$SCHEMA"); do
	grep -q "'$p': '" "$work/load.sql" || bad "duckdb SQL lacks $p"
done
duck=$MC_SRCDIR/data/npm/node_modules/@duckdb/node-api
if [ ! -d "$duck" ] || ! command -v node >/dev/null; then
	skip "DuckDB (npm @duckdb/node-api) missing: scripts/setup-deps installs it into data/npm"
fi
timeout 120 node "$MC_SRCDIR/tests/integration/duckdb_check.js" "$duck" "$work/load.sql" >"$work/duck.json" 2>"$work/duck.err" ||
	{ bad "DuckDB load"; cat "$work/duck.err"; }
want=$(all | jq -sc '{records: length, cleartext: ([.[]|select(.cleartext_login==true)]|length),
	certs: ([.[]|select(.tls.cert!=null)]|length), tls1_0: ([.[]|select(.tls.versions.tls1_0==true)]|length),
	de: ([.[]|select(.geo.country=="DE")]|length), max_asn: ([.[].asn.number]|max),
	first: ([.[].time]|min|.[0:19]), caps: ([.[].capabilities.pre_tls|length]|add),
	probe_accepted: ([.[]|select((.login_probe|length) > 0 and .login_probe[0].outcome=="accepted")]|length)}')
[ "$(jq -cS . "$work/duck.json")" = "$(echo "$want" | jq -cS .)" ] && ok "DuckDB loads the shards with the generated types: $want" ||
	bad "DuckDB aggregates $(cat "$work/duck.json"), want $want"
exit $fail
