/* test_enrich.c — country/ASN lookups in every layout, against generated tiny databases. */
#include <errno.h>

#include "tests/unit/test.h"
#include "output/enrich.h"
#include "output/sink.h"
#include "out_test_util.h"

static char dir[PATH_MAX];

static void db_path(char *buf, size_t cap, const char *name)
{
	snprintf(buf, cap, "%s/%s.mmdb", dir, name);
}

static void check_country_db(const char *name, const char *want_type, const char *want_layout)
{
	char path[PATH_MAX + 32], err[512], cc[3];
	struct out_db *db = NULL;
	struct out_db_info info;

	db_path(path, sizeof(path), name);
	int rc = out_db_open(&db, path, OUT_DB_GEO, err, sizeof(err));
	CHECK_INT_EQ(rc, 0);
	if (rc != 0) {
		fprintf(stderr, "%s\n", err);
		return;
	}
	out_db_info(db, &info);
	CHECK_STR_EQ(info.database_type, want_type);
	CHECK_STR_EQ(info.layout, want_layout);
	CHECK(info.build_epoch > 1600000000);
	CHECK_INT_EQ(out_db_country(db, 0xc612010a, cc), 0); /* 198.18.1.10 */
	CHECK_STR_EQ(cc, "DE");
	CHECK_INT_EQ(out_db_country(db, 0xc6121234, cc), 0); /* 198.18.18.52 */
	CHECK_STR_EQ(cc, "FR");
	CHECK_INT_EQ(out_db_country(db, 0xc6130101, cc), 0); /* 198.19.1.1 */
	CHECK_STR_EQ(cc, "US");
	CHECK_INT_EQ(out_db_country(db, 0xcb007105, cc), 0); /* 203.0.113.5 */
	CHECK_STR_EQ(cc, "NL");
	CHECK_INT_EQ(out_db_country(db, 0x08080808, cc), 0); /* not in the db */
	CHECK_STR_EQ(cc, "");
	CHECK_INT_EQ(out_db_country(db, 0xc612010b, cc), 0); /* back to a cached net */
	CHECK_STR_EQ(cc, "DE");
	out_db_close(db);
}

static void test_country_layouts(void)
{
	check_country_db("geolite2-country", "GeoLite2-Country", "country.iso_code");
	check_country_db("city", "GeoIP2-City", "country.iso_code");
	check_country_db("flat-country", "geo-whois-asn-country", "country_code");
}

static void check_asn_db(const char *name, const char *want_layout)
{
	char path[PATH_MAX + 32], err[512], org[128];
	struct out_db *db = NULL;
	struct out_db_info info;
	uint32_t asn;

	db_path(path, sizeof(path), name);
	int rc = out_db_open(&db, path, OUT_DB_ASN, err, sizeof(err));
	CHECK_INT_EQ(rc, 0);
	if (rc != 0) {
		fprintf(stderr, "%s\n", err);
		return;
	}
	out_db_info(db, &info);
	CHECK_STR_EQ(info.layout, want_layout);
	CHECK_INT_EQ(out_db_asn(db, 0xc6121001, &asn, org, sizeof(org)), 0);
	CHECK_UINT_EQ(asn, 64501);
	CHECK_STR_EQ(org, "Range Org \"R\"");
	CHECK_INT_EQ(out_db_asn(db, 0xc6120114, &asn, org, sizeof(org)), 0);
	CHECK_UINT_EQ(asn, 64500);
	CHECK_STR_EQ(org, "Test Net A");
	CHECK_INT_EQ(out_db_asn(db, 0x01010101, &asn, org, sizeof(org)), 0);
	CHECK_UINT_EQ(asn, 0);
	CHECK_STR_EQ(org, "");
	out_db_close(db);
}

static void test_asn_layouts(void)
{
	check_asn_db("geolite2-asn", "autonomous_system_number/organization");
	check_asn_db("asn-short", "asn/as_organization");
}

static void test_refusals(void)
{
	char path[PATH_MAX + 32], err[512];
	struct out_db *db = NULL;

	db_path(path, sizeof(path), "nothing");
	CHECK_INT_EQ(out_db_open(&db, path, OUT_DB_GEO, err, sizeof(err)), -EINVAL);
	CHECK(strstr(err, "Nothing-Useful") != NULL);
	CHECK_INT_EQ(out_db_open(&db, path, OUT_DB_ASN, err, sizeof(err)), -EINVAL);
	/* a country database is not an ASN database */
	db_path(path, sizeof(path), "geolite2-country");
	CHECK_INT_EQ(out_db_open(&db, path, OUT_DB_ASN, err, sizeof(err)), -EINVAL);
	CHECK(out_db_open(&db, "/nonexistent/x.mmdb", OUT_DB_GEO, err, sizeof(err)) < 0);
	CHECK(strstr(err, "/nonexistent/x.mmdb") != NULL);
	/* not an mmdb at all */
	CHECK(out_db_open(&db, "/etc/hostname", OUT_DB_GEO, err, sizeof(err)) < 0);

	/* the sink: enrichment without databases is an error unless no_enrich */
	struct out_sink *s = NULL;
	struct out_sink_config cfg = {0};
	CHECK_INT_EQ(out_sink_open(&s, &cfg, err, sizeof(err)), -EINVAL);
	CHECK(strstr(err, "--no-enrich") != NULL);
	cfg.geo_db = "/nonexistent/geo.mmdb";
	cfg.asn_db = "/nonexistent/asn.mmdb";
	CHECK(out_sink_open(&s, &cfg, err, sizeof(err)) < 0);
	CHECK(strstr(err, "/nonexistent/geo.mmdb") != NULL);
}

static void test_enrich_record(void)
{
	char geo_path[PATH_MAX + 32], asn_path[PATH_MAX + 32], err[512];
	struct out_db *geo = NULL, *asn = NULL;
	struct mc_record rec;

	db_path(geo_path, sizeof(geo_path), "geolite2-country");
	db_path(asn_path, sizeof(asn_path), "geolite2-asn");
	CHECK_INT_EQ(out_db_open(&geo, geo_path, OUT_DB_GEO, err, sizeof(err)), 0);
	CHECK_INT_EQ(out_db_open(&asn, asn_path, OUT_DB_ASN, err, sizeof(err)), 0);
	memset(&rec, 0, sizeof(rec));
	rec.ip = 0xcb007101;
	CHECK_INT_EQ(out_enrich_record(geo, asn, &rec), 0);
	CHECK_STR_EQ(rec.country, "NL");
	CHECK_UINT_EQ(rec.asn, 64503);
	CHECK_STR_EQ(rec.asn_org, "Doc Net");
	out_db_close(geo);
	out_db_close(asn);
}

/* Open finding 1 of docs/fuzzing.md (fuzz_record's schema check): any
 * 2-byte country value was taken, so "\xc3\xa9" (é) or "U-" from a crafted
 * database became a record's country against the schema's ^[A-Z0-9]{2}$.
 * Lowercase is normalised, anything else is no country. */
static void test_odd_country_codes(void)
{
	static const struct {
		uint32_t ip;
		const char *want;
	} cases[] = {
	    {0xc612010a, "DE"},			    /* "de" */
	    {0xc6121234, ""},			    /* "\xc3\xa9" */
	    {0xc6130101, ""},			    /* "U-" */
	    {0xcb007105, "NL"}, {0xc0000201, "X1"}, /* "x1" */
	    {0xc612010b, "DE"},			    /* cached */
	};
	char path[PATH_MAX + 32], err[512], cc[3];
	struct out_db *db = NULL;

	db_path(path, sizeof(path), "odd-country");
	int rc = out_db_open(&db, path, OUT_DB_GEO, err, sizeof(err));
	CHECK_INT_EQ(rc, 0);
	if (rc != 0) {
		fprintf(stderr, "%s\n", err);
		return;
	}
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(cc, 'Z', sizeof(cc));
		CHECK_INT_EQ(out_db_country(db, cases[i].ip, cc), 0);
		CHECK_STR_EQ(cc, cases[i].want);
	}
	out_db_close(db);
}

int main(void)
{
	if (out_test_tmpdir(dir, sizeof(dir)) != 0 || out_test_gen_mmdb(dir) != 0) {
		fprintf(stderr, "cannot generate the test databases (scripts/gen-mmdb needs "
				"libmaxmind-db-writer-perl, see scripts/setup-deps)\n");
		return 1;
	}
	RUN(test_country_layouts);
	RUN(test_asn_layouts);
	RUN(test_refusals);
	RUN(test_enrich_record);
	RUN(test_odd_country_codes);
	out_test_rmrf(dir);
	return test_summary();
}
