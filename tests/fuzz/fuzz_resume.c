/* fuzz_resume.c — what `mailcensus resume` reads of a results directory
 * (out_resume_dir_open() in output/resume_dir.c: the manifest, the listed
 * shards re-read and compared, leftovers swept, unlisted whole shards
 * adopted, record keys collected), on a directory the harness writes on
 * tmpfs for each input.
 *
 * Byte 0 bit 0: raw mode, the manifest's bytes and one shard's bytes come
 * from the input. Otherwise the harness writes a run from the input: up to
 * five shards (plain or zstd) with their indexes and records (address, port,
 * IPv4 or IPv6 text), the first L of them listed in a manifest of a state
 * (running, interrupted, failed, complete, or the old "complete": true),
 * maybe a listed entry twice, a listed shard with a byte changed, a
 * "compress" that disagrees, and leftover temporaries.
 *
 * Invariants: the result is 0, -EALREADY exactly for a complete run, or
 * another -errno, always with a one-line reason; on success the keys are
 * sorted and distinct, has() answers for them, no shard is listed twice,
 * every shard name is this run's (plain or .zst) and the next index is
 * above every shard's (it must not wrap), and no temporary file is left.
 * For the written runs the reference says more: refused exactly when a
 * listed shard changed, a record has no port 1..65535, an unlisted shard
 * lies below the listed ones, "compress" disagrees, an entry is listed
 * twice or a shard's index is 2^32 - 1 (the next would wrap to 0); otherwise the shards kept are
 * the listed ones in order, then the unlisted ones by index, the keys are exactly the records'
 * (IPv6 through out_resume_key6), and next_index is one above the highest index. */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <unistd.h>
#include <zstd.h>

#include "output/resume_dir.h"
#include "tests/fuzz/fuzz_util.h"

#define SHARDS_MAX 5
#define RECS_MAX   6

static char dir[64];
static int scratch_fd = -1;

static void write_file(const char *name, const void *d, size_t n)
{
	int fd = openat(scratch_fd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	FUZZ_CHECK(fd >= 0 && write(fd, d, n) == (ssize_t)n, "write %s", name);
	close(fd);
}

/* Empty the scratch directory; true when a temporary was still there. */
static bool clean(void)
{
	int fd = openat(scratch_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC); /* own offset */
	DIR *d = fdopendir(fd);
	struct dirent *e;
	bool tmp = false;

	FUZZ_CHECK(d != NULL, "opendir");
	rewinddir(d);
	while ((e = readdir(d)) != NULL) {
		size_t n = strlen(e->d_name);
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		tmp |= (n > 4 && strcmp(e->d_name + n - 4, ".tmp") == 0) ||
		       strncmp(e->d_name, "manifest.json.tmp", 17) == 0 ||
		       strcmp(e->d_name, "manifest.json.reserve") == 0;
		unlinkat(scratch_fd, e->d_name, 0);
	}
	closedir(d);
	return tmp;
}

static void sha256_hex(const uint8_t *d, size_t n, char hex[65])
{
	unsigned char md[32];
	unsigned len = 0;

	FUZZ_CHECK(EVP_Digest(d, n, md, &len, EVP_sha256(), NULL) == 1, "sha256");
	for (int i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
}

/* What holds for any successful open. */
static void check_result(const struct out_resume_dir *rd, bool compress)
{
	for (size_t i = 0; i + 1 < rd->nkeys; i++)
		FUZZ_CHECK(rd->keys[i] < rd->keys[i + 1], "keys not sorted and distinct at %zu", i);
	for (size_t i = 0; i < rd->nkeys; i++) {
		uint64_t k = rd->keys[i];
		if (!(k >> 63))
			FUZZ_CHECK(out_resume_dir_has(rd, (uint32_t)(k >> 16), (uint16_t)k),
				   "has() misses key %zu", i);
	}
	for (size_t i = 0; i < rd->ninfos; i++) {
		unsigned idx = 0;
		char want[OUT_SHARD_NAME_MAX];
		FUZZ_CHECK(sscanf(rd->infos[i].name, "shard-%u", &idx) == 1, "name %s",
			   rd->infos[i].name);
		out_shard_name(want, sizeof(want), idx, compress);
		FUZZ_CHECK(strcmp(want, rd->infos[i].name) == 0, "name %s not this run's",
			   rd->infos[i].name);
		FUZZ_CHECK(rd->next_index > idx, "next index %u not above shard %u", rd->next_index,
			   idx);
		for (size_t j = 0; j < i; j++)
			FUZZ_CHECK(strcmp(rd->infos[j].name, rd->infos[i].name) != 0,
				   "%s kept twice", rd->infos[i].name);
	}
	FUZZ_CHECK(rd->loaded, "not loaded");
}

/* As the sink does: a descriptor of its own for the directory (the sweep
 * lists it through a dup(), which shares the directory offset). */
static int open_dir(struct out_resume_dir *rd, bool compress, char *err, size_t errlen)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	FUZZ_CHECK(fd >= 0, "open %s", dir);
	int rc = out_resume_dir_open(rd, fd, compress, err, errlen);
	close(fd);

	FUZZ_CHECK(rc <= 0, "rc %d", rc);
	if (rc != 0) {
		size_t n = strnlen(err, errlen);
		FUZZ_CHECK(n > 0 && n < errlen && memchr(err, '\n', n) == NULL,
			   "reason '%s' (rc %d)", err, rc);
	}
	return rc;
}

static void raw(struct fuzz_in *in, uint8_t flags)
{
	struct out_resume_dir rd;
	const uint8_t *m, *s;
	size_t nm = fuzz_take(in, fuzz_u16(in), &m), ns = fuzz_take(in, SIZE_MAX, &s);
	bool compress = flags & 2;
	char err[512] = "";
	int rc;

	write_file("manifest.json", m, nm);
	write_file(compress ? "shard-00000.ndjson.zst" : "shard-00000.ndjson", s, ns);
	if (flags & 4)
		write_file("shard-00001.ndjson.tmp", s, ns);
	rc = open_dir(&rd, compress, err, sizeof(err));
	if (rc == 0) {
		check_result(&rd, compress);
		FUZZ_CHECK(!clean(), "a temporary survived the resume");
	}
	out_resume_dir_free(&rd);
}

struct shard {
	uint32_t index;
	size_t nrecs;
	uint64_t keys[RECS_MAX];
	bool bad; /* a record without a valid port */
	char name[OUT_SHARD_NAME_MAX];
	size_t bytes, records;
	char sha[65];
};

/* One record line; returns its key (or sets *bad). */
static size_t record_line(struct fuzz_in *in, char *line, size_t cap, uint64_t *key, bool *bad)
{
	uint8_t kind = fuzz_u8(in);
	uint32_t ip = fuzz_u32(in);
	uint32_t port = kind & 1 ? fuzz_u16(in) : 1 + fuzz_u8(in) % 200; /* mostly valid */

	if (kind & 2) { /* grab's IPv6 target */
		uint8_t a6[16] = {0x20, 0x01, 0x0d, 0xb8};
		char text[INET6_ADDRSTRLEN];
		memcpy(a6 + 12, &ip, 4);
		inet_ntop(AF_INET6, a6, text, sizeof(text));
		*key = out_resume_key6(a6, (uint16_t)port);
		*bad |= port == 0;
		return (size_t)snprintf(line, cap, "{\"ip\":\"%s\",\"port\":%u,\"x\":%u}\n", text,
					port, kind);
	}
	*key = (uint64_t)ip << 16 | (port & 0xffff);
	*bad |= port == 0;
	return (size_t)snprintf(line, cap, "{\"ip\":\"%u.%u.%u.%u\",\"port\":%u}\n", ip >> 24,
				ip >> 16 & 255, ip >> 8 & 255, ip & 255, port);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static void structured(struct fuzz_in *in, uint8_t flags)
{
	static const char *const states[] = {"running", "interrupted", "failed", "complete"};
	static struct shard sh[SHARDS_MAX];
	static char text[RECS_MAX * 128], packed[RECS_MAX * 128 + 64], manifest[4096];
	static uint64_t want_keys[SHARDS_MAX * RECS_MAX];
	struct out_resume_dir rd;
	bool compress = flags & 2, dup_entry = flags & 8, changed = flags & 16,
	     disagree = flags & 32, leftovers = flags & 64;
	uint8_t st = fuzz_u8(in);
	size_t nsh = 0, nlisted, nwant = 0, mo = 0;
	uint64_t next = 0, max_listed = 0; /* 64 bits: an index must not wrap */
	bool any_listed = false, refuse = false;
	char err[512] = "", state[48];

	for (size_t want = fuzz_u8(in) % (SHARDS_MAX + 1); nsh < want && in->n > 0;) {
		struct shard *s = &sh[nsh];
		uint8_t b = fuzz_u8(in);
		size_t n = 0;
		s->index = b & 0x80 ? fuzz_u32(in) : b & 0x7f;
		bool again = false;
		for (size_t i = 0; i < nsh; i++)
			again |= sh[i].index == s->index;
		s->nrecs = fuzz_u8(in) % (RECS_MAX + 1);
		s->bad = false;
		for (size_t r = 0; r < s->nrecs; r++)
			n += record_line(in, text + n, sizeof(text) - n, &s->keys[r], &s->bad);
		if (again)
			continue; /* one file per index */
		out_shard_name(s->name, sizeof(s->name), s->index, compress);
		const void *file = text;
		size_t nfile = n;
		if (compress) {
			nfile = ZSTD_compress(packed, sizeof(packed), text, n, 1);
			FUZZ_CHECK(!ZSTD_isError(nfile), "zstd");
			file = packed;
		}
		s->bytes = nfile;
		s->records = s->nrecs;
		sha256_hex(file, nfile, s->sha);
		write_file(s->name, file, nfile);
		nsh++;
	}
	nlisted = nsh ? fuzz_u8(in) % (nsh + 1) : 0;
	dup_entry = dup_entry && nlisted > 0;
	changed = changed && nlisted > 0;

	/* the manifest */
	if (st & 4) /* a manifest from before "state" */
		snprintf(state, sizeof(state), "\"complete\":%s", st & 1 ? "true" : "false");
	else
		snprintf(state, sizeof(state), "\"state\":\"%s\"", states[st & 3]);
	mo += (size_t)snprintf(manifest + mo, sizeof(manifest) - mo,
			       "{\"format\":\"mailcensus-results/1\",%s,\"compress\":%s,"
			       "\"started\":\"2026-12-02T00:00:00.000000Z\",\"sessions\":%u,"
			       "\"files\":[",
			       state, (compress != disagree) ? "true" : "false", st >> 4);
	for (size_t i = 0; i < nlisted + dup_entry; i++) {
		const struct shard *s = &sh[i < nlisted ? i : 0];
		mo += (size_t)snprintf(manifest + mo, sizeof(manifest) - mo,
				       "%s{\"name\":\"%s\",\"records\":%zu,\"bytes\":%zu,"
				       "\"sha256\":\"%s\"}",
				       i ? "," : "", s->name, s->records, s->bytes, s->sha);
	}
	mo += (size_t)snprintf(manifest + mo, sizeof(manifest) - mo, "]}");
	write_file("manifest.json", manifest, mo);
	if (changed) { /* one byte of a listed shard, after the manifest named its hash */
		const struct shard *s = &sh[fuzz_u8(in) % nlisted];
		uint8_t x = fuzz_u8(in) | 1;
		int fd = openat(scratch_fd, s->name, O_RDWR | O_APPEND | O_CLOEXEC);
		FUZZ_CHECK(fd >= 0 && write(fd, &x, 1) == 1, "change %s", s->name);
		close(fd);
	}
	if (leftovers) {
		write_file("shard-00003.ndjson.tmp", "x", 1);
		write_file("manifest.json.tmp.42", "{", 1);
		write_file("manifest.json.reserve", "", 0);
	}

	/* the reference */
	bool complete = (st & 4) ? (st & 1) : (st & 3) == 3;
	for (size_t i = 0; i < nsh; i++) /* no shard can follow 2^32 - 1 */
		refuse |= sh[i].index == UINT32_MAX;
	for (size_t i = 0; i < nlisted; i++) {
		refuse |= sh[i].bad;
		if (!any_listed || sh[i].index > max_listed)
			max_listed = sh[i].index;
		any_listed = true;
	}
	next = any_listed ? max_listed + 1 : 0;
	uint64_t below = next; /* an unlisted shard under a listed index is refused */
	for (size_t i = nlisted; i < nsh; i++) {
		refuse |= sh[i].bad || sh[i].index < below;
		if ((uint64_t)sh[i].index + 1 > next)
			next = (uint64_t)sh[i].index + 1;
	}
	refuse |= changed || disagree || dup_entry;

	int rc = open_dir(&rd, compress, err, sizeof(err));
	if (complete) {
		FUZZ_CHECK(rc == -EALREADY, "a complete run: rc %d (%s)", rc, err);
		out_resume_dir_free(&rd);
		clean();
		return;
	}
	FUZZ_CHECK((rc != 0) == refuse, "rc %d (%s), reference %s", rc, err,
		   refuse ? "refuses" : "accepts");
	if (rc == 0) {
		check_result(&rd, compress);
		FUZZ_CHECK(!clean(), "a temporary survived the resume");
		FUZZ_CHECK(rd.ninfos == nsh && rd.adopted == nsh - nlisted,
			   "%zu shards (%zu adopted), %zu written, %zu listed", rd.ninfos,
			   rd.adopted, nsh, nlisted);
		FUZZ_CHECK(rd.next_index == next, "next index %u, want %llu", rd.next_index,
			   (unsigned long long)next);
		FUZZ_CHECK(rd.sessions == (uint32_t)(st >> 4) + 1, "sessions %u", rd.sessions);
		for (size_t i = 0; i < nlisted; i++)
			FUZZ_CHECK(strcmp(rd.infos[i].name, sh[i].name) == 0 &&
				       rd.infos[i].records == sh[i].records &&
				       rd.infos[i].bytes == sh[i].bytes &&
				       strcmp(rd.infos[i].sha256, sh[i].sha) == 0,
				   "listed shard %zu", i);
		for (size_t i = 0; i < nsh; i++)
			for (size_t r = 0; r < sh[i].nrecs; r++)
				want_keys[nwant++] = sh[i].keys[r];
		qsort(want_keys, nwant, sizeof(want_keys[0]), cmp_u64);
		size_t o = 0;
		for (size_t i = 0; i < nwant; i++)
			if (o == 0 || want_keys[o - 1] != want_keys[i])
				want_keys[o++] = want_keys[i];
		FUZZ_CHECK(rd.nkeys == o &&
			       (o == 0 || memcmp(rd.keys, want_keys, o * sizeof(uint64_t)) == 0),
			   "%zu keys, reference %zu", rd.nkeys, o);
	}
	out_resume_dir_free(&rd);
	clean();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = {data, size};
	uint8_t flags = fuzz_u8(&in);

	if (scratch_fd < 0)
		scratch_fd = fuzz_scratch_dir(dir, sizeof(dir), "fuzz_resume");
	clean();
	if (flags & 1)
		raw(&in, flags);
	else
		structured(&in, flags);
	clean();
	return 0;
}
