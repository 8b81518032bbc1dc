/* tlsplan.c — the hand-built hello plan of one target.
 *
 * Method. Each hello costs a connection (and, on 110/143, a greeting and a
 * STARTTLS) and yields one answer: the version and the suite the server
 * picked, or a refusal. Servers pick the highest version they share with
 * the client (RFC 5246 E.1, RFC 8446 4.2.1), which lets one answer settle
 * several cells:
 *   - a hello whose best version is X, answered with version v, means v is
 *     accepted and every version between v and X is not;
 *   - a hello offering every suite we know, refused (alert, or the bare FIN
 *     dovecot sends), means no version up to X is accepted: the server had
 *     nothing lower to fall back to;
 *   - the main OpenSSL session's version is the server's best: every
 *     version above it is refused.
 * Legacy families are learned from hellos that offer only legacy suites,
 * at the best version the server accepted up to TLS 1.2: the family of the
 * suite picked is accepted; a refusal means none of the offered families
 * is. Each further legacy hello drops the families already seen.
 *
 * Order, within the budget of connections: the TLS 1.0-1.3 cells first (the
 * version matrix the census has always reported), then one legacy hello,
 * then SSLv3 if still open, then more legacy hellos, then one SSLv2
 * CLIENT-HELLO, only where SSLv3 is accepted (every stack that ever spoke
 * SSLv2 also speaks SSLv3; elsewhere ssl2 stays null). A timeout or an
 * answer that breaks the protocol (a version or suite we did not offer)
 * ends the plan: a server that lies once is not asked again. */
#include <stdio.h>
#include <string.h>

#include "probes/tlsplan.h"

#define PLAN_FULL_OFFER PROBE_FAMS_ALL

static const uint16_t plan_versions[] = {PROBE_SSL3, PROBE_TLS10, PROBE_TLS11, PROBE_TLS12,
					 PROBE_TLS13};
#define PLAN_NVERSIONS (sizeof(plan_versions) / sizeof(plan_versions[0]))

const char *probe_plan_state_name(enum probe_plan_state s)
{
	switch (s) {
	case PLAN_VERSIONS:
		return "versions";
	case PLAN_LEGACY_FIRST:
		return "legacy-first";
	case PLAN_SSL3:
		return "ssl3";
	case PLAN_LEGACY_MORE:
		return "legacy-more";
	case PLAN_SSL2:
		return "ssl2";
	case PLAN_DONE:
		return "done";
	}
	return "unknown";
}

enum mc_tri *probe_plan_cell(struct mc_tls *tls, uint16_t version)
{
	switch (version) {
	case PROBE_SSL2:
		return &tls->ssl2;
	case PROBE_SSL3:
		return &tls->ssl3;
	case PROBE_TLS10:
		return &tls->tls1_0;
	case PROBE_TLS11:
		return &tls->tls1_1;
	case PROBE_TLS12:
		return &tls->tls1_2;
	case PROBE_TLS13:
		return &tls->tls1_3;
	default:
		return NULL;
	}
}

static enum mc_tri cell(const struct mc_tls *tls, uint16_t version)
{
	return *probe_plan_cell((struct mc_tls *)tls, version);
}

/* Set a cell that is still unknown (a measured answer is never overwritten). */
static void settle(struct mc_tls *tls, uint16_t version, enum mc_tri v)
{
	enum mc_tri *c = probe_plan_cell(tls, version);

	if (c != NULL && *c == MC_TRI_UNKNOWN)
		*c = v;
}

bool probe_plan_any_accepted(const struct mc_tls *tls)
{
	if (tls->ssl2 == MC_TRI_YES)
		return true;
	for (size_t i = 0; i < PLAN_NVERSIONS; i++)
		if (cell(tls, plan_versions[i]) == MC_TRI_YES)
			return true;
	return false;
}

static void enter_state(struct probe_plan *p, enum probe_plan_state next)
{
	p->state = next;
}

void probe_plan_init(struct probe_plan *p, struct mc_tls *tls, uint16_t main_version,
		     unsigned budget)
{
	memset(p, 0, sizeof(*p));
	p->budget = (uint8_t)(budget > 255 ? 255 : budget);
	tls->hello_probes = 0;
	if (main_version >= PROBE_TLS10 && main_version <= PROBE_TLS13) {
		settle(tls, main_version, MC_TRI_YES);
		for (uint16_t v = main_version + 1; v <= PROBE_TLS13; v++)
			settle(tls, v, MC_TRI_NO);
	}
	enter_state(p, PLAN_VERSIONS);
}

static uint32_t unknown_families(const struct mc_tls *tls)
{
	uint32_t m = 0;

	for (int f = 0; f < MC_LEGACY_COUNT; f++)
		if (tls->legacy[f] == MC_TRI_UNKNOWN)
			m |= PROBE_FAM_BIT(f);
	return m;
}

/* The version a legacy hello offers: the best accepted up to TLS 1.2,
 * else 1.2; 0 when every version up to 1.2 was refused (nothing to ask). */
static uint16_t legacy_version(const struct mc_tls *tls)
{
	bool all_no = true;

	for (size_t i = PLAN_NVERSIONS - 1; i-- > 0;) {
		enum mc_tri c = cell(tls, plan_versions[i]);

		if (c == MC_TRI_YES)
			return plan_versions[i];
		if (c != MC_TRI_NO)
			all_no = false;
	}
	return all_no ? 0 : PROBE_TLS12;
}

/* Fill spec for the current state, or move on. true when spec is ready. */
static bool plan_step(struct probe_plan *p, struct mc_tls *tls, struct probe_hello_spec *spec)
{
	uint16_t v;

	switch (p->state) {
	case PLAN_VERSIONS:
		for (size_t i = PLAN_NVERSIONS; i-- > 1;) { /* 1.3 .. 1.0 */
			if (cell(tls, plan_versions[i]) == MC_TRI_UNKNOWN) {
				spec->version = plan_versions[i];
				spec->families = PLAN_FULL_OFFER;
				return true;
			}
		}
		enter_state(p, PLAN_LEGACY_FIRST);
		return false;
	case PLAN_LEGACY_FIRST:
	case PLAN_LEGACY_MORE:
		v = legacy_version(tls);
		if (v == 0) /* every version up to 1.2 refused a hello offering them all */
			for (int f = 0; f < MC_LEGACY_COUNT; f++)
				if (tls->legacy[f] == MC_TRI_UNKNOWN)
					tls->legacy[f] = MC_TRI_NO;
		if (unknown_families(tls) == 0 || v == 0) {
			enter_state(p, p->state == PLAN_LEGACY_FIRST ? PLAN_SSL3 : PLAN_SSL2);
			return false;
		}
		spec->version = v;
		spec->families = unknown_families(tls);
		return true;
	case PLAN_SSL3:
		if (tls->ssl3 != MC_TRI_UNKNOWN) {
			enter_state(p, PLAN_LEGACY_MORE);
			return false;
		}
		spec->version = PROBE_SSL3;
		spec->families = PLAN_FULL_OFFER;
		return true;
	case PLAN_SSL2:
		if (tls->ssl3 != MC_TRI_YES || tls->ssl2 != MC_TRI_UNKNOWN) {
			enter_state(p, PLAN_DONE);
			return false;
		}
		spec->version = PROBE_SSL2;
		spec->families = 0;
		return true;
	case PLAN_DONE:
		break;
	}
	return false;
}

bool probe_plan_next(struct probe_plan *p, struct mc_tls *tls, struct probe_hello_spec *spec)
{
	/* Every state either yields a hello or moves forward: at most one pass. */
	while (p->state != PLAN_DONE && p->budget > 0) {
		if (plan_step(p, tls, spec)) {
			p->budget--;
			p->cur = *spec;
			return true;
		}
	}
	/* Out of budget: what we never asked about stays null. */
	enter_state(p, PLAN_DONE);
	return false;
}

static void violation(struct probe_plan *p, struct mc_tls *tls, const char *why)
{
	if (tls->hello_error[0] == '\0')
		snprintf(tls->hello_error, sizeof(tls->hello_error), "%s", why);
	enter_state(p, PLAN_DONE);
}

static bool full_offer(const struct probe_plan *p)
{
	return p->cur.families == PLAN_FULL_OFFER;
}

static void refused(struct probe_plan *p, struct mc_tls *tls)
{
	uint16_t x = p->cur.version;

	if (x == PROBE_SSL2) {
		settle(tls, PROBE_SSL2, MC_TRI_NO);
	} else if (full_offer(p)) {
		for (size_t i = 0; i < PLAN_NVERSIONS; i++)
			if (plan_versions[i] <= x)
				settle(tls, plan_versions[i], MC_TRI_NO);
	} else {
		for (int f = 0; f < MC_LEGACY_COUNT; f++)
			if (p->cur.families & PROBE_FAM_BIT(f))
				tls->legacy[f] =
				    tls->legacy[f] == MC_TRI_UNKNOWN ? MC_TRI_NO : tls->legacy[f];
	}
}

static void chosen(struct probe_plan *p, struct mc_tls *tls, const struct probe_hello_result *r)
{
	uint16_t x = p->cur.version, v = r->version;
	uint32_t fams = probe_suite_families(r->suite);

	if (x == PROBE_SSL2) { /* an SSLv3/TLS answer to SSLv2: SSLv2 is not spoken */
		settle(tls, PROBE_SSL2, MC_TRI_NO);
		return;
	}
	if (v < PROBE_SSL3 || v > x) {
		violation(p, tls, "version-not-offered");
		return;
	}
	if (!(fams & p->cur.families)) {
		violation(p, tls, "suite-not-offered");
		return;
	}
	if ((v == PROBE_TLS13) != (fams == PROBE_FAM_BIT(PROBE_FAM_TLS13))) {
		violation(p, tls, "suite-version-mismatch");
		return;
	}
	settle(tls, v, MC_TRI_YES);
	if (full_offer(p))
		for (size_t i = 0; i < PLAN_NVERSIONS; i++)
			if (plan_versions[i] > v && plan_versions[i] <= x)
				settle(tls, plan_versions[i], MC_TRI_NO);
	for (int f = 0; f < MC_LEGACY_COUNT; f++)
		if (fams & PROBE_FAM_BIT(f))
			tls->legacy[f] = MC_TRI_YES;
}

static void answered(struct probe_plan *p, struct mc_tls *tls, const struct probe_hello_result *r)
{
	switch (r->kind) {
	case PROBE_HELLO_ALERT:
		refused(p, tls);
		break;
	case PROBE_HELLO_SERVER_HELLO:
	case PROBE_HELLO_RETRY:
		chosen(p, tls, r);
		break;
	case PROBE_HELLO_SSL2:
		if (p->cur.version != PROBE_SSL2)
			violation(p, tls, "ssl2-answer-to-tls-hello");
		else
			settle(tls, PROBE_SSL2,
			       r->version == PROBE_SSL2 && r->ssl2_ciphers > 0 ? MC_TRI_YES
									       : MC_TRI_NO);
		break;
	case PROBE_HELLO_MALFORMED:
		violation(p, tls, r->why ? r->why : "malformed");
		break;
	case PROBE_HELLO_NEED_MORE:
		violation(p, tls, "truncated");
		break;
	}
}

void probe_plan_answer(struct probe_plan *p, struct mc_tls *tls, enum probe_plan_outcome how,
		       const struct probe_hello_result *res)
{
	tls->hello_probes++;
	switch (how) {
	case PLAN_ANSWERED:
		answered(p, tls, res);
		break;
	case PLAN_REFUSED:
		refused(p, tls);
		break;
	case PLAN_TIMEOUT:
	case PLAN_LOST:
		enter_state(p, PLAN_DONE);
		return;
	}
	if (p->state == PLAN_LEGACY_FIRST)
		enter_state(p, PLAN_SSL3);
	else if (p->state == PLAN_SSL3)
		enter_state(p, PLAN_LEGACY_MORE);
	else if (p->state == PLAN_SSL2)
		enter_state(p, PLAN_DONE);
}
