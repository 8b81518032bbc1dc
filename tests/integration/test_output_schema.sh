#!/usr/bin/env bash
# Records written by the real sink validate against output/schema/record.schema.json
# (realistic records, enriched; and records whose every server-supplied field is
# hostile bytes), parse with Python's strict json, and the validator rejects a
# record that breaks the schema.
set -u
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
GEN="$MC_BUILDDIR/output/mc-bench-output"
SCHEMA="$MC_SRCDIR/output/schema/record.schema.json"
VALIDATE="$MC_SRCDIR/tests/integration/schema_validate.py"
work_dir

mkdir -p "$work/mmdb" && perl "$MC_SRCDIR/scripts/gen-mmdb" test "$work/mmdb" || bad "gen-mmdb"
"$GEN" --records 5000 --dir "$work/real" --geo-db "$work/mmdb/city.mmdb" \
	--asn-db "$work/mmdb/asn-short.mmdb" >/dev/null || bad "generate realistic records"
python3 "$VALIDATE" "$SCHEMA" "$work"/real/shard-*.ndjson && ok "realistic enriched records validate" || bad "realistic records"
[ "$(jq -r 'select(.ip|startswith("198.18.1.")) | .geo.country' "$work"/real/shard-*.ndjson | sort -u | tr '\n' ' ')" = "DE " ] &&
	ok "enriched country present" || bad "enriched country"

"$GEN" --records 512 --dir "$work/hostile" --no-enrich --hostile >/dev/null || bad "generate hostile records"
python3 "$VALIDATE" "$SCHEMA" "$work"/hostile/shard-*.ndjson && ok "hostile records validate (strict UTF-8, strict JSON)" || bad "hostile records"
"$MC_BIN" verify "$work/hostile" >/dev/null && ok "hostile shards verify" || bad "hostile shards verify"
"$GEN" --records 512 --dir "$work/hostile-zst" --no-enrich --hostile --compress >/dev/null || bad "generate hostile zstd"
zstd -dc "$work"/hostile-zst/shard-*.zst >"$work/hostile-zst.ndjson"
python3 "$VALIDATE" "$SCHEMA" "$work/hostile-zst.ndjson" >/dev/null && ok "hostile zstd records validate" || bad "hostile zstd"
jq -e . "$work"/hostile/shard-*.ndjson >/dev/null && ok "jq reads every record" || bad "jq"

# the validator is not a rubber stamp
head -1 "$work"/real/shard-00000.ndjson | jq -c '.port = "143"' >"$work/broken1.ndjson"
head -1 "$work"/real/shard-00000.ndjson | jq -c '.extra = 1 | del(.error)' >"$work/broken2.ndjson"
head -1 "$work"/real/shard-00000.ndjson | jq -c '.posture = "maybe"' >"$work/broken3.ndjson"
for b in 1 2 3; do
	python3 "$VALIDATE" "$SCHEMA" "$work/broken$b.ndjson" >"$work/broken$b.out" &&
		bad "validator accepted broken record $b" || ok "validator rejects broken record $b: $(head -1 "$work/broken$b.out")"
done
exit $fail
