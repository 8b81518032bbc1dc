// duckdb_check.js MODULE SQL — load records with the SQL of `mailcensus export
// --format duckdb` into DuckDB (the @duckdb/node-api npm package, which ships
// the engine) and print one JSON line of aggregates for the test to compare.
'use strict';
const fs = require('fs');
const { DuckDBInstance } = require(process.argv[2]);

(async () => {
	const db = await DuckDBInstance.create(':memory:');
	const con = await db.connect();
	await con.run(fs.readFileSync(process.argv[3], 'utf8'));
	const r = await con.runAndReadAll(
		"SELECT count(*) AS records, count(*) FILTER (WHERE cleartext_login) AS cleartext, " +
		"count(tls.cert.sha256) AS certs, count(*) FILTER (WHERE tls.versions.tls1_0) AS tls1_0, " +
		"count(*) FILTER (WHERE geo.country = 'DE') AS de, max(asn.number) AS max_asn, " +
		"strftime(min(time), '%Y-%m-%dT%H:%M:%S') AS first, " +
		"sum(len(capabilities.pre_tls)) AS caps, " +
		"count(*) FILTER (WHERE len(login_probe) > 0 AND login_probe[1].outcome = 'accepted') AS probe_accepted " +
		"FROM records");
	const row = r.getRowObjectsJson()[0];
	for (const k of Object.keys(row)) if (/^[0-9]+$/.test(row[k])) row[k] = Number(row[k]);
	console.log(JSON.stringify(row));
})().catch((e) => { console.error(e.message); process.exit(1); });
