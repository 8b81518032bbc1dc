/* fuzz_shard.c — the shard reader (plain and zstd) and `verify`'s manifest
 * checks (output/shard_read.c, output/verify.c), on a results directory the
 * harness writes for each input.
 *
 * Byte 0: bit 0 zstd shard; bit 1 the fuzzer writes the manifest too (else
 * the harness writes the manifest a correct run would); bit 2 the shard
 * text is compressed here into a valid zstd frame first (then bit 3 cuts
 * its last bytes off), so the reader's zstd paths see real frames. Then the
 * manifest (u16 length + bytes, with bit 1) and the shard file bytes.
 *
 * Invariants: the reader's lines are exactly the reference's (the decoded
 * text cut at each '\n', a last piece without one flagged unterminated);
 * its totals are the file's size and SHA-256 and the decoded length; a zstd
 * file that is not a complete sequence of frames is an error, not a short
 * read; with the correct manifest, verify finds no problem exactly when
 * every line is a JSON object (strict reference) and the last line ends,
 * and with any manifest it returns a count or -EINVAL, never crashes; the
 * walk that report, diff and export share (out_results_each) hands over
 * every line that is JSON and counts the others. */
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <unistd.h>
#include <zstd.h>

#include "output/results.h"
#include "output/shard.h"
#include "output/verify.h"
#include "tests/fuzz/fuzz_util.h"

#define DECODED_MAX (1u << 20) /* larger decoded text is skipped by the reference */

/* Whole-file zstd decode: 0 ok, -1 corrupt, -2 incomplete, -3 too large. */
static int ref_unzstd(const uint8_t *in, size_t n, uint8_t *out, size_t *outlen)
{
	ZSTD_DCtx *z = ZSTD_createDCtx();
	ZSTD_inBuffer zi = {in, n, 0};
	ZSTD_outBuffer zo = {out, DECODED_MAX, 0};
	size_t last = 0;
	int rc = 0;

	FUZZ_CHECK(z != NULL, "ZSTD_createDCtx");
	while (zi.pos < zi.size) {
		size_t before_in = zi.pos, before_out = zo.pos;
		last = ZSTD_decompressStream(z, &zo, &zi);
		if (ZSTD_isError(last)) {
			rc = -1;
			break;
		}
		if (zo.pos == zo.size) {
			rc = -3;
			break;
		}
		if (zi.pos == before_in && zo.pos == before_out)
			break;
	}
	if (rc == 0 && last != 0)
		rc = -2;
	ZSTD_freeDCtx(z);
	*outlen = zo.pos;
	return rc;
}

static bool write_file(int dirfd, const char *name, const void *d, size_t n)
{
	int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	bool ok = fd >= 0 && write(fd, d, n) == (ssize_t)n;

	if (fd >= 0)
		close(fd);
	return ok;
}

static void sha256_hex(const uint8_t *d, size_t n, char hex[65])
{
	unsigned char md[32];
	unsigned len = 0;

	FUZZ_CHECK(EVP_Digest(d, n, md, &len, EVP_sha256(), NULL) == 1, "sha256");
	out_hex(hex, md, 32);
}

/* What out_results_each() (report, diff, export) handed over. */
struct walked {
	size_t manifests, records, bad, shards;
};

static int on_manifest(void *ctx, const struct out_json *m)
{
	(void)m;
	((struct walked *)ctx)->manifests++;
	return 0;
}

static int on_record(void *ctx, const struct out_json *rec)
{
	FUZZ_CHECK(rec != NULL, "a NULL record");
	((struct walked *)ctx)->records++;
	return 0;
}

static void on_bad(void *ctx)
{
	((struct walked *)ctx)->bad++;
}

static void on_shard(void *ctx)
{
	((struct walked *)ctx)->shards++;
}

static bool is_object(const uint8_t *l, size_t n)
{
	size_t i = 0;

	while (i < n && strchr(" \t\r\n", l[i]) != NULL && l[i] != '\0')
		i++;
	return i < n && l[i] == '{' && fuzz_json_check(l, n, NULL, NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char dir[64];
	static int dirfd = -1;
	static FILE *sink;
	static uint8_t text[DECODED_MAX], packed[1 << 17];
	struct fuzz_in in = {data, size};
	uint8_t flags = fuzz_u8(&in);
	bool zst = flags & 1;
	const char *name = zst ? "shard-00000.ndjson.zst" : "shard-00000.ndjson";
	const uint8_t *man = NULL, *file;
	size_t nman = 0, nfile, ntext = 0, lines = 0, got_lines = 0, off = 0, json_lines = 0;
	int zrc = 0, rc, problems;
	bool all_objects = true, unterminated, got_unterminated, complete = false;
	struct out_shard_reader *r = NULL;
	char err[512], sha[65], want_sha[65], manifest[1024];
	uint64_t bytes = 0, raw = 0;
	char *line;
	size_t len;

	if (dirfd < 0) {
		dirfd = fuzz_scratch_dir(dir, sizeof(dir), "fuzz_shard");
		sink = fopen("/dev/null", "w");
		FUZZ_CHECK(dirfd >= 0 && sink != NULL, "scratch directory");
	}
	if (flags & 2)
		nman = fuzz_take(&in, fuzz_u16(&in), &man);
	nfile = fuzz_take(&in, SIZE_MAX, &file);
	if (zst && (flags & 4)) { /* a real frame of the fuzzer's text */
		size_t z = ZSTD_compress(packed, sizeof(packed), file, nfile, 1);
		FUZZ_CHECK(!ZSTD_isError(z), "ZSTD_compress");
		if ((flags & 8) && z > 0)
			z -= 1 + flags % z;
		file = packed;
		nfile = z;
	}
	unlinkat(dirfd, "shard-00000.ndjson", 0);
	unlinkat(dirfd, "shard-00000.ndjson.zst", 0);
	FUZZ_CHECK(write_file(dirfd, name, file, nfile), "write shard");

	/* reference decode */
	if (zst) {
		zrc = ref_unzstd(file, nfile, text, &ntext);
	} else {
		memcpy(text, file, nfile < DECODED_MAX ? nfile : DECODED_MAX);
		ntext = nfile < DECODED_MAX ? nfile : DECODED_MAX;
		zrc = nfile <= DECODED_MAX ? 0 : -3;
	}
	if (zrc == -3)
		return 0;
	unterminated = ntext > 0 && text[ntext - 1] != '\n';

	/* the reader */
	FUZZ_CHECK(out_shard_reader_open(&r, dirfd, name, err, sizeof(err)) == 0, "%s", err);
	while ((rc = out_shard_reader_next(r, &line, &len, err, sizeof(err))) == 1) {
		const uint8_t *nl = memchr(text + off, '\n', ntext - off);
		size_t want = nl ? (size_t)(nl - (text + off)) : ntext - off;
		FUZZ_CHECK(off < ntext || zrc != 0, "a line beyond the decoded text");
		if (zrc == 0) {
			FUZZ_CHECK(len == want && memcmp(line, text + off, len) == 0 &&
				       line[len] == '\0',
				   "line %zu differs", got_lines);
			off += want + (nl != NULL);
		}
		got_lines++;
	}
	got_unterminated = out_shard_reader_unterminated(r);
	out_shard_reader_totals(r, &bytes, &raw, sha);
	out_shard_reader_close(r);
	if (zrc != 0) {
		FUZZ_CHECK(rc < 0, "a %s zstd file read without error (%zu lines)",
			   zrc == -1 ? "corrupt" : "truncated", got_lines);
		return 0;
	}
	FUZZ_CHECK(rc == 0, "reader error on a good file: %s", err);
	FUZZ_CHECK(off == ntext, "reader stopped at %zu of %zu bytes", off, ntext);
	FUZZ_CHECK(got_unterminated == unterminated, "unterminated %d", got_unterminated);
	sha256_hex(file, nfile, want_sha);
	FUZZ_CHECK(bytes == nfile && raw == ntext && strcmp(sha, want_sha) == 0,
		   "totals: %llu/%zu bytes, %llu/%zu decoded, %s/%s", (unsigned long long)bytes,
		   nfile, (unsigned long long)raw, ntext, sha, want_sha);

	/* verify against a manifest */
	for (size_t p = 0; p < ntext;) {
		const uint8_t *nl = memchr(text + p, '\n', ntext - p);
		size_t n = nl ? (size_t)(nl - (text + p)) : ntext - p;
		all_objects &= is_object(text + p, n);
		json_lines += fuzz_json_check(text + p, n, NULL, NULL);
		lines++;
		p += n + 1;
	}
	if (flags & 2) {
		FUZZ_CHECK(write_file(dirfd, "manifest.json", man, nman), "write manifest");
	} else {
		int n = snprintf(manifest, sizeof(manifest),
				 "{\"format\":\"mailcensus-results/1\",\"complete\":true,"
				 "\"records\":%zu,\"files\":[{\"name\":\"%s\",\"records\":%zu,"
				 "\"bytes\":%zu,\"sha256\":\"%s\"}]}",
				 lines, name, lines, nfile, want_sha);
		FUZZ_CHECK(write_file(dirfd, "manifest.json", manifest, (size_t)n), "manifest");
	}
	problems = out_verify_dir(dir, &complete, sink);
	FUZZ_CHECK((flags & 2) || problems < 0 || complete, "a complete run read as incomplete");
	{ /* the walk report, diff and export share */
		static const struct out_results_cb cb = {.manifest = on_manifest,
							 .record = on_record,
							 .bad_line = on_bad,
							 .shard = on_shard};
		struct walked w = {0};
		bool no_manifest = true;
		int wrc = out_results_each(dir, &cb, &w, &no_manifest, err, sizeof(err));

		FUZZ_CHECK(wrc <= 0 && !no_manifest, "walk %d", wrc);
		if (!(flags & 2)) {
			FUZZ_CHECK(wrc == 0 && w.manifests == 1 && w.shards == 1, "walk %d: %s",
				   wrc, err);
			FUZZ_CHECK(w.records == json_lines && w.records + w.bad == lines,
				   "walk: %zu records, %zu bad; reference %zu JSON of %zu lines",
				   w.records, w.bad, json_lines, lines);
		}
	}
	FUZZ_CHECK(problems >= 0 || problems == -EINVAL, "verify returned %d", problems);
	if (!(flags & 2))
		FUZZ_CHECK((problems == 0) == (all_objects && !unterminated),
			   "verify: %d problems; every line an object %d, unterminated %d",
			   problems, all_objects, unterminated);
	return 0;
}
