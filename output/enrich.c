/* enrich.c — adapt to the common MaxMind-format layouts and look up IPv4 addresses.
 *
 * Layouts differ only in where the answer sits in the data record:
 *   country: GeoIP2/GeoLite2 Country and City and DB-IP use country.iso_code
 *            (registered_country.iso_code as a fallback for anycast blocks);
 *            ip-location-db's *-country-mmdb use a flat country_code.
 *   ASN:     GeoLite2-ASN, DB-IP ASN and ip-location-db's asn-mmdb use
 *            autonomous_system_number / autonomous_system_organization;
 *            other converters use asn / as_organization (or as_name, org,
 *            name), sometimes with the number as a string such as "AS15169".
 * At open we read metadata.database_type for the manifest and then probe a
 * handful of addresses for the first layout whose fields are present; at
 * lookup the learned layout is tried first and the others only when it
 * misses, so a database that mixes layouts still answers.
 *
 * Scan output arrives grouped by host (several ports per address), so each
 * handle remembers the last network it resolved and answers repeats without
 * touching the tree. */
#include <arpa/inet.h>
#include <errno.h>
#include <maxminddb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "output/enrich.h"

#define PATHS_MAX 4

struct layout {
	const char *name;
	const char *const *num;	 /* country code, or ASN number */
	const char *const *text; /* ASN organisation (NULL for country) */
};

static const char *const p_cc_iso[] = {"country", "iso_code", NULL};
static const char *const p_cc_reg[] = {"registered_country", "iso_code", NULL};
static const char *const p_cc_flat[] = {"country_code", NULL};
static const char *const p_asn_num[] = {"autonomous_system_number", NULL};
static const char *const p_asn_org[] = {"autonomous_system_organization", NULL};
static const char *const p_asn_short[] = {"asn", NULL};
static const char *const p_as_org[] = {"as_organization", NULL};
static const char *const p_as_name[] = {"as_name", NULL};
static const char *const p_org[] = {"org", NULL};

static const struct layout geo_layouts[] = {
    {"country.iso_code", p_cc_iso, NULL},
    {"country_code", p_cc_flat, NULL},
    {"registered_country.iso_code", p_cc_reg, NULL},
};
static const struct layout asn_layouts[] = {
    {"autonomous_system_number/organization", p_asn_num, p_asn_org},
    {"asn/as_organization", p_asn_short, p_as_org},
    {"asn/as_name", p_asn_short, p_as_name},
    {"asn/org", p_asn_short, p_org},
};

struct out_db {
	MMDB_s mmdb;
	enum out_db_role role;
	const struct layout *layouts;
	size_t nlayouts;
	size_t preferred; /* index of the layout that answered last */
	char path[512];
	/* last answer, for the network it covers */
	bool cached;
	uint32_t net, mask;
	char cc[3];
	uint32_t asn;
	char org[128];
};

static int lookup(struct out_db *db, uint32_t ip, MMDB_entry_s *entry, uint32_t *mask)
{
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(ip)};
	int mmerr = MMDB_SUCCESS;
	MMDB_lookup_result_s r =
	    MMDB_lookup_sockaddr(&db->mmdb, (const struct sockaddr *)&sin, &mmerr);

	if (mmerr != MMDB_SUCCESS)
		return -EIO;
	/* netmask counts bits of the tree's address; IPv6 trees hold IPv4 under ::/96. */
	unsigned bits = r.netmask;
	if (db->mmdb.metadata.ip_version == 6)
		bits = bits >= 96 ? bits - 96 : 32; /* odd tree: cache nothing wider */
	*mask = bits == 0 ? 0 : bits >= 32 ? 0xffffffffu : ~((1u << (32 - bits)) - 1);
	if (!r.found_entry)
		return 0;
	*entry = r.entry;
	return 1;
}

/* Copy a string value; numbers become decimal text. */
static bool get_text(MMDB_entry_s *e, const char *const *path, char *dst, size_t cap)
{
	MMDB_entry_data_s d;

	if (MMDB_aget_value(e, &d, path) != MMDB_SUCCESS || !d.has_data)
		return false;
	if (d.type == MMDB_DATA_TYPE_UTF8_STRING) {
		size_t n = d.data_size < cap - 1 ? d.data_size : cap - 1;
		memcpy(dst, d.utf8_string, n);
		dst[n] = '\0';
		return true;
	}
	if (d.type == MMDB_DATA_TYPE_UINT32 || d.type == MMDB_DATA_TYPE_UINT16) {
		snprintf(dst, cap, "%u", d.type == MMDB_DATA_TYPE_UINT32 ? d.uint32 : d.uint16);
		return true;
	}
	return false;
}

static bool get_number(MMDB_entry_s *e, const char *const *path, uint32_t *out)
{
	MMDB_entry_data_s d;

	if (MMDB_aget_value(e, &d, path) != MMDB_SUCCESS || !d.has_data)
		return false;
	switch (d.type) {
	case MMDB_DATA_TYPE_UINT32:
		*out = d.uint32;
		return true;
	case MMDB_DATA_TYPE_UINT16:
		*out = d.uint16;
		return true;
	case MMDB_DATA_TYPE_UINT64:
		*out = (uint32_t)d.uint64;
		return d.uint64 <= UINT32_MAX;
	case MMDB_DATA_TYPE_INT32:
		*out = (uint32_t)d.int32;
		return d.int32 >= 0;
	case MMDB_DATA_TYPE_UTF8_STRING: { /* "AS15169" or "15169" */
		const char *s = d.utf8_string;
		size_t n = d.data_size, i = 0;
		uint64_t v = 0;
		if (n >= 2 && (s[0] == 'A' || s[0] == 'a') && (s[1] == 'S' || s[1] == 's'))
			i = 2;
		if (i == n)
			return false;
		for (; i < n; i++) {
			if (s[i] < '0' || s[i] > '9' || v > UINT32_MAX / 10)
				return false;
			v = v * 10 + (uint64_t)(s[i] - '0');
		}
		*out = (uint32_t)v;
		return v <= UINT32_MAX;
	}
	default:
		return false;
	}
}

/* A country code as the record schema has it (^[A-Z0-9]{2}$): two ASCII
 * letters or digits, uppercased in place ("de" is DE); false for anything
 * else a database may hold ("\xc3\xa9" is two bytes, "A-", "D\0"). */
static bool country_code(char *cc)
{
	if (strlen(cc) != 2)
		return false;
	for (int i = 0; i < 2; i++) {
		char c = cc[i];
		if (c >= 'a' && c <= 'z')
			cc[i] = (char)(c - 'a' + 'A');
		else if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')))
			return false;
	}
	return true;
}

/* Try one layout on an entry; fills the cache fields. */
static bool try_layout(struct out_db *db, const struct layout *l, MMDB_entry_s *e)
{
	if (db->role == OUT_DB_GEO) {
		char cc[8];
		if (!get_text(e, l->num, cc, sizeof(cc)) || !country_code(cc))
			return false;
		memcpy(db->cc, cc, 3);
		return true;
	}
	uint32_t asn;
	if (!get_number(e, l->num, &asn))
		return false;
	db->asn = asn;
	if (!get_text(e, l->text, db->org, sizeof(db->org)))
		db->org[0] = '\0';
	return true;
}

/* Resolve ip into the cache fields. */
static int resolve(struct out_db *db, uint32_t ip)
{
	MMDB_entry_s e;
	uint32_t mask = 0;

	if (db->cached && (ip & db->mask) == db->net)
		return 0;
	int rc = lookup(db, ip, &e, &mask);
	if (rc < 0)
		return rc;
	db->cc[0] = '\0';
	db->asn = 0;
	db->org[0] = '\0';
	if (rc == 1 && !try_layout(db, &db->layouts[db->preferred], &e)) {
		for (size_t i = 0; i < db->nlayouts; i++) {
			if (i != db->preferred && try_layout(db, &db->layouts[i], &e)) {
				db->preferred = i;
				break;
			}
		}
	}
	db->cached = true;
	db->mask = mask;
	db->net = ip & mask;
	return 0;
}

/* Walk the search tree depth-first, trying each data record we meet (up to a
 * bound) until a layout answers; false if none does. */
static bool learn_layout(struct out_db *db)
{
	uint32_t stack[256];
	size_t top = 0, visited = 0;

	stack[top++] = 0;
	while (top > 0 && visited++ < 200000) {
		MMDB_search_node_s node;
		if (MMDB_read_node(&db->mmdb, stack[--top], &node) != MMDB_SUCCESS)
			return false;
		uint8_t types[2] = {node.right_record_type, node.left_record_type};
		uint64_t recs[2] = {node.right_record, node.left_record};
		MMDB_entry_s entries[2] = {node.right_record_entry, node.left_record_entry};
		for (int i = 0; i < 2; i++) {
			if (types[i] == MMDB_RECORD_TYPE_SEARCH_NODE && top < 256) {
				stack[top++] = (uint32_t)recs[i];
			} else if (types[i] == MMDB_RECORD_TYPE_DATA) {
				for (size_t l = 0; l < db->nlayouts; l++) {
					if (try_layout(db, &db->layouts[l], &entries[i])) {
						db->preferred = l;
						return true;
					}
				}
			}
		}
	}
	return false;
}

int out_db_open(struct out_db **out, const char *path, enum out_db_role role, char *err,
		size_t errlen)
{
	const char *what = role == OUT_DB_GEO ? "country" : "ASN";
	struct out_db *db = calloc(1, sizeof(*db));

	if (db == NULL) {
		snprintf(err, errlen, "%s database: out of memory", what);
		return -ENOMEM;
	}
	int status = MMDB_open(path, MMDB_MODE_MMAP, &db->mmdb);
	if (status != MMDB_SUCCESS) {
		int e = status == MMDB_IO_ERROR && errno != 0 ? errno : EINVAL;
		snprintf(err, errlen, "%s database %s: %s%s%s", what, path, MMDB_strerror(status),
			 status == MMDB_IO_ERROR ? ": " : "",
			 status == MMDB_IO_ERROR ? strerror(e) : "");
		free(db);
		return -e;
	}
	db->role = role;
	db->layouts = role == OUT_DB_GEO ? geo_layouts : asn_layouts;
	db->nlayouts = role == OUT_DB_GEO ? sizeof(geo_layouts) / sizeof(geo_layouts[0])
					  : sizeof(asn_layouts) / sizeof(asn_layouts[0]);
	snprintf(db->path, sizeof(db->path), "%s", path);
	if (!learn_layout(db)) {
		snprintf(err, errlen,
			 "%s database %s (type %s): no IPv4 record has a %s field we know "
			 "(e.g. %s)",
			 what, path, db->mmdb.metadata.database_type, what, db->layouts[0].name);
		MMDB_close(&db->mmdb);
		free(db);
		return -EINVAL;
	}
	*out = db;
	return 0;
}

void out_db_close(struct out_db *db)
{
	if (db == NULL)
		return;
	MMDB_close(&db->mmdb);
	free(db);
}

void out_db_info(const struct out_db *db, struct out_db_info *info)
{
	info->path = db->path;
	info->database_type =
	    db->mmdb.metadata.database_type ? db->mmdb.metadata.database_type : "";
	info->build_epoch = db->mmdb.metadata.build_epoch;
	info->layout = db->layouts[db->preferred].name;
}

int out_db_country(struct out_db *db, uint32_t ip, char cc[3])
{
	int rc = resolve(db, ip);

	memcpy(cc, rc == 0 ? db->cc : "", rc == 0 ? 3 : 1);
	return rc;
}

int out_db_asn(struct out_db *db, uint32_t ip, uint32_t *asn, char *org, size_t orgcap)
{
	int rc = resolve(db, ip);

	*asn = rc == 0 ? db->asn : 0;
	size_t n = rc == 0 ? strnlen(db->org, orgcap - 1) : 0;
	memcpy(org, db->org, n);
	org[n] = '\0';
	return rc;
}

int out_enrich_record(struct out_db *geo, struct out_db *asn, struct mc_record *rec)
{
	int rc = 0;

	if (rec->ipv6)
		return 0; /* the databases are looked up by IPv4 address: left empty */
	if (geo != NULL)
		rc = out_db_country(geo, rec->ip, rec->country);
	if (asn != NULL && rc == 0)
		rc = out_db_asn(asn, rec->ip, &rec->asn, rec->asn_org, sizeof(rec->asn_org));
	return rc;
}
