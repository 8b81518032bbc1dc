/* enrich.h — country and ASN lookups from MaxMind-format databases (internal to output/). */
#ifndef MC_OUT_ENRICH_H
#define MC_OUT_ENRICH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "output/record.h"

enum out_db_role {
	OUT_DB_GEO, /* country */
	OUT_DB_ASN, /* autonomous system number and organisation */
};

struct out_db;

/* What the manifest records about a database. */
struct out_db_info {
	const char *path;
	const char *database_type; /* from the metadata */
	uint64_t build_epoch;
	const char *layout; /* which field layout we matched, e.g. "country.iso_code" */
};

/* Open a database and check it has a layout we can read for `role`. */
int out_db_open(struct out_db **out, const char *path, enum out_db_role role, char *err,
		size_t errlen);
void out_db_close(struct out_db *db);
void out_db_info(const struct out_db *db, struct out_db_info *info);

/* Country of an IPv4 address (host order) into cc[3]; "" when not found. 0 / -errno. */
int out_db_country(struct out_db *db, uint32_t ip, char cc[3]);
/* ASN and organisation; *asn = 0 and org "" when not found. 0 / -errno. */
int out_db_asn(struct out_db *db, uint32_t ip, uint32_t *asn, char *org, size_t orgcap);

/* Fill rec->country / asn / asn_org from whichever databases are non-NULL. */
int out_enrich_record(struct out_db *geo, struct out_db *asn, struct mc_record *rec);

#endif
