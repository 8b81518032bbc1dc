/* fuzz_util.h — what every libFuzzer harness in tests/fuzz/ shares.
 *
 * FUZZ_CHECK aborts with a message when an invariant of the code under test
 * does not hold (libFuzzer then saves the input as a crash). fuzz_in hands
 * out the fuzzer's bytes field by field. fuzz_json_check() is a strict
 * RFC 8259 reference written independently of output/json.c: it accepts a
 * document exactly when the grammar does (UTF-8 well-formed, no lone
 * surrogate escapes), within the two limits output/json.c documents
 * (nesting 64, numbers of at most 63 characters), and writes a canonical
 * form of the value so a harness can compare it with another reader's. */
#ifndef MC_FUZZ_UTIL_H
#define MC_FUZZ_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>

#define FUZZ_CHECK(cond, ...)                                                                      \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "%s:%d: invariant failed: %s: ", __FILE__, __LINE__,       \
				#cond);                                                            \
			fprintf(stderr, __VA_ARGS__);                                              \
			fputc('\n', stderr);                                                       \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

/* The fuzzer's bytes, consumed from the front. */
struct fuzz_in {
	const uint8_t *p;
	size_t n;
};

static inline uint8_t fuzz_u8(struct fuzz_in *in)
{
	uint8_t v = 0;

	if (in->n > 0) {
		v = in->p[0];
		in->p++;
		in->n--;
	}
	return v;
}

static inline uint16_t fuzz_u16(struct fuzz_in *in)
{
	return (uint16_t)(fuzz_u8(in) | fuzz_u8(in) << 8);
}

static inline uint32_t fuzz_u32(struct fuzz_in *in)
{
	return (uint32_t)fuzz_u16(in) | (uint32_t)fuzz_u16(in) << 16;
}

/* Up to `max` bytes from the front. */
static inline size_t fuzz_take(struct fuzz_in *in, size_t max, const uint8_t **out)
{
	size_t n = in->n < max ? in->n : max;

	*out = in->p;
	in->p += n;
	in->n -= n;
	return n;
}

/* The scratch directory to remove at exit (one per harness process). */
static char fuzz_scratch_path[64];

static inline void fuzz_scratch_remove(void)
{
	char cmd[96];

	if (fuzz_scratch_path[0] != '\0' && strchr(fuzz_scratch_path, '\'') == NULL) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fuzz_scratch_path);
		if (system(cmd) != 0)
			fprintf(stderr, "could not remove %s\n", fuzz_scratch_path);
	}
}

/* A scratch directory for a harness's files, made once: on tmpfs
 * (/dev/shm) when the machine has one, so fsync and file churn cost no
 * disk; else in /tmp; removed at exit. dir (cap >= 48) gets its path;
 * returns an O_DIRECTORY descriptor. */
static inline int fuzz_scratch_dir(char *dir, size_t cap, const char *name)
{
	int fd;

	snprintf(dir, cap, "%s/%s.XXXXXX", access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp",
		 name);
	FUZZ_CHECK(mkdtemp(dir) != NULL, "mkdtemp %s", dir);
	snprintf(fuzz_scratch_path, sizeof(fuzz_scratch_path), "%s", dir);
	atexit(fuzz_scratch_remove);
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	FUZZ_CHECK(fd >= 0, "open %s", dir);
	return fd;
}

/* ---- strict JSON reference -------------------------------------------- */

#define FUZZ_JSON_DEPTH_MAX  64
#define FUZZ_JSON_NUMBER_MAX 63

struct fuzz_json {
	const uint8_t *s;
	size_t pos, len;
	char *out; /* canonical form, or NULL */
	size_t out_len, out_cap;
};

static inline void fj_put(struct fuzz_json *j, const void *b, size_t n)
{
	if (j->out == NULL)
		return;
	if (j->out_len + n > j->out_cap) {
		size_t cap = (j->out_len + n) * 2 + 64;
		char *o = realloc(j->out, cap);

		FUZZ_CHECK(o != NULL, "out of memory");
		j->out = o;
		j->out_cap = cap;
	}
	memcpy(j->out + j->out_len, b, n);
	j->out_len += n;
}

static inline void fj_ws(struct fuzz_json *j)
{
	while (j->pos < j->len && (j->s[j->pos] == ' ' || j->s[j->pos] == '\t' ||
				   j->s[j->pos] == '\n' || j->s[j->pos] == '\r'))
		j->pos++;
}

/* Code point of the UTF-8 sequence at s[0..n), its length in *len; -1 if
 * not well-formed (decoded from first principles, not by table). */
static inline long fj_utf8(const uint8_t *s, size_t n, size_t *len)
{
	long cp;
	size_t k;

	if (s[0] < 0x80) {
		*len = 1;
		return s[0];
	}
	if ((s[0] & 0xe0) == 0xc0) {
		k = 2;
		cp = s[0] & 0x1f;
	} else if ((s[0] & 0xf0) == 0xe0) {
		k = 3;
		cp = s[0] & 0x0f;
	} else if ((s[0] & 0xf8) == 0xf0) {
		k = 4;
		cp = s[0] & 0x07;
	} else {
		return -1;
	}
	if (n < k)
		return -1;
	for (size_t i = 1; i < k; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return -1;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((k == 2 && cp < 0x80) || (k == 3 && cp < 0x800) || (k == 4 && cp < 0x10000) ||
	    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return -1;
	*len = k;
	return cp;
}

static inline void fj_put_cp(struct fuzz_json *j, long cp)
{
	uint8_t b[4];
	size_t n;

	if (cp < 0x80) {
		b[0] = (uint8_t)cp;
		n = 1;
	} else if (cp < 0x800) {
		b[0] = (uint8_t)(0xc0 | cp >> 6);
		b[1] = (uint8_t)(0x80 | (cp & 0x3f));
		n = 2;
	} else if (cp < 0x10000) {
		b[0] = (uint8_t)(0xe0 | cp >> 12);
		b[1] = (uint8_t)(0x80 | (cp >> 6 & 0x3f));
		b[2] = (uint8_t)(0x80 | (cp & 0x3f));
		n = 3;
	} else {
		b[0] = (uint8_t)(0xf0 | cp >> 18);
		b[1] = (uint8_t)(0x80 | (cp >> 12 & 0x3f));
		b[2] = (uint8_t)(0x80 | (cp >> 6 & 0x3f));
		b[3] = (uint8_t)(0x80 | (cp & 0x3f));
		n = 4;
	}
	fj_put(j, b, n);
}

/* Canonical string body: every byte as two hex digits (so NULs compare too). */
static inline void fj_put_hexbytes(struct fuzz_json *j, const uint8_t *b, size_t n)
{
	static const char hex[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		char h[2] = {hex[b[i] >> 4], hex[b[i] & 15]};
		fj_put(j, h, 2);
	}
}

static inline int fj_hex4(struct fuzz_json *j)
{
	int v = 0;

	if (j->len - j->pos < 4)
		return -1;
	for (int i = 0; i < 4; i++) {
		uint8_t c = j->s[j->pos++];
		int d = c >= '0' && c <= '9'   ? c - '0'
			: c >= 'a' && c <= 'f' ? c - 'a' + 10
			: c >= 'A' && c <= 'F' ? c - 'A' + 10
					       : -1;
		if (d < 0)
			return -1;
		v = v << 4 | d;
	}
	return v;
}

#define FJ_PUT(c)                                                                                  \
	do {                                                                                       \
		if (dec != NULL)                                                                   \
			dec[n] = (c);                                                              \
		n++;                                                                               \
	} while (0)

static inline bool fj_string(struct fuzz_json *j)
{
	/* decoded bytes are kept only when a canonical form is wanted */
	uint8_t scratch[4], *dec = j->out != NULL ? malloc(j->len - j->pos + 4) : NULL;
	size_t n = 0;
	bool ok = false;

	FUZZ_CHECK(dec != NULL || j->out == NULL, "out of memory");
	j->pos++; /* the opening quote */
	for (;;) {
		size_t k;
		long cp;

		if (j->pos >= j->len)
			goto out;
		if (j->s[j->pos] == '"') {
			j->pos++;
			break;
		}
		if (j->s[j->pos] < 0x20)
			goto out;
		if (j->s[j->pos] != '\\') {
			cp = fj_utf8(j->s + j->pos, j->len - j->pos, &k);
			if (cp < 0)
				goto out;
			if (dec != NULL)
				memcpy(dec + n, j->s + j->pos, k);
			n += k;
			j->pos += k;
			continue;
		}
		if (++j->pos >= j->len)
			goto out;
		switch (j->s[j->pos++]) {
		case '"':
			FJ_PUT('"');
			break;
		case '\\':
			FJ_PUT('\\');
			break;
		case '/':
			FJ_PUT('/');
			break;
		case 'b':
			FJ_PUT('\b');
			break;
		case 'f':
			FJ_PUT('\f');
			break;
		case 'n':
			FJ_PUT('\n');
			break;
		case 'r':
			FJ_PUT('\r');
			break;
		case 't':
			FJ_PUT('\t');
			break;
		case 'u': {
			int hi = fj_hex4(j), lo;
			struct fuzz_json tmp;

			if (hi < 0 || (hi >= 0xdc00 && hi <= 0xdfff))
				goto out;
			cp = hi;
			if (hi >= 0xd800 && hi <= 0xdbff) {
				if (j->len - j->pos < 2 || j->s[j->pos] != '\\' ||
				    j->s[j->pos + 1] != 'u')
					goto out;
				j->pos += 2;
				lo = fj_hex4(j);
				if (lo < 0xdc00 || lo > 0xdfff)
					goto out;
				cp = 0x10000 + ((long)(hi - 0xd800) << 10) + (lo - 0xdc00);
			}
			tmp = (struct fuzz_json){.out = (char *)(dec != NULL ? dec : scratch),
						 .out_len = dec != NULL ? n : 0,
						 .out_cap =
						     dec != NULL ? j->len - j->pos + 4 + n : 4};
			fj_put_cp(&tmp, cp);
			n = dec != NULL ? tmp.out_len : n + tmp.out_len;
			break;
		}
		default:
			goto out;
		}
	}
	if (dec != NULL) {
		fj_put(j, "s", 1);
		fj_put_hexbytes(j, dec, n);
		fj_put(j, ";", 1);
	}
	ok = true;
out:
	free(dec);
	return ok;
}

static inline bool fj_number(struct fuzz_json *j)
{
	size_t start = j->pos;
	bool integral = true;
	char tmp[FUZZ_JSON_NUMBER_MAX + 1], canon[64];
	const uint8_t *s = j->s;

	if (j->pos < j->len && s[j->pos] == '-') {
		integral = false;
		j->pos++;
	}
	if (j->pos >= j->len || s[j->pos] < '0' || s[j->pos] > '9')
		return false;
	if (s[j->pos] == '0') {
		j->pos++;
	} else {
		while (j->pos < j->len && s[j->pos] >= '0' && s[j->pos] <= '9')
			j->pos++;
	}
	if (j->pos < j->len && s[j->pos] == '.') {
		integral = false;
		j->pos++;
		if (j->pos >= j->len || s[j->pos] < '0' || s[j->pos] > '9')
			return false;
		while (j->pos < j->len && s[j->pos] >= '0' && s[j->pos] <= '9')
			j->pos++;
	}
	if (j->pos < j->len && (s[j->pos] == 'e' || s[j->pos] == 'E')) {
		integral = false;
		j->pos++;
		if (j->pos < j->len && (s[j->pos] == '+' || s[j->pos] == '-'))
			j->pos++;
		if (j->pos >= j->len || s[j->pos] < '0' || s[j->pos] > '9')
			return false;
		while (j->pos < j->len && s[j->pos] >= '0' && s[j->pos] <= '9')
			j->pos++;
	}
	if (j->pos - start > FUZZ_JSON_NUMBER_MAX)
		return false;
	memcpy(tmp, s + start, j->pos - start);
	tmp[j->pos - start] = '\0';
	/* integers that fit u64 exactly are compared as integers */
	if (integral &&
	    (strlen(tmp) < 20 || (strlen(tmp) == 20 && strcmp(tmp, "18446744073709551615") <= 0)))
		snprintf(canon, sizeof(canon), "u%s;", tmp);
	else
		snprintf(canon, sizeof(canon), "n%a;", strtod(tmp, NULL));
	fj_put(j, canon, strlen(canon));
	return true;
}

static inline bool fj_value(struct fuzz_json *j, int depth);

static inline bool fj_container(struct fuzz_json *j, int depth, bool object)
{
	uint8_t close = object ? '}' : ']';

	fj_put(j, object ? "{" : "[", 1);
	j->pos++;
	fj_ws(j);
	if (j->pos < j->len && j->s[j->pos] == close) {
		j->pos++;
		fj_put(j, object ? "}" : "]", 1);
		return true;
	}
	for (;;) {
		fj_ws(j);
		if (object) {
			if (j->pos >= j->len || j->s[j->pos] != '"' || !fj_string(j))
				return false;
			fj_ws(j);
			if (j->pos >= j->len || j->s[j->pos] != ':')
				return false;
			j->pos++;
		}
		if (!fj_value(j, depth + 1))
			return false;
		fj_ws(j);
		if (j->pos < j->len && j->s[j->pos] == ',') {
			j->pos++;
			fj_put(j, ",", 1);
			continue;
		}
		if (j->pos < j->len && j->s[j->pos] == close) {
			j->pos++;
			fj_put(j, object ? "}" : "]", 1);
			return true;
		}
		return false;
	}
}

static inline bool fj_word(struct fuzz_json *j, const char *w)
{
	size_t n = strlen(w);

	if (j->len - j->pos < n || memcmp(j->s + j->pos, w, n) != 0)
		return false;
	j->pos += n;
	fj_put(j, w, n);
	fj_put(j, ";", 1);
	return true;
}

static inline bool fj_value(struct fuzz_json *j, int depth)
{
	if (depth > FUZZ_JSON_DEPTH_MAX)
		return false;
	fj_ws(j);
	if (j->pos >= j->len)
		return false;
	switch (j->s[j->pos]) {
	case '{':
		return fj_container(j, depth, true);
	case '[':
		return fj_container(j, depth, false);
	case '"':
		return fj_string(j);
	case 't':
		return fj_word(j, "true");
	case 'f':
		return fj_word(j, "false");
	case 'n':
		return fj_word(j, "null");
	default:
		return fj_number(j);
	}
}

/* Is text[0..len) one valid JSON document? With canon != NULL, *canon gets
 * a malloc'd canonical form (caller frees) when it is. */
static inline bool fuzz_json_check(const void *text, size_t len, char **canon, size_t *canon_len)
{
	struct fuzz_json j = {.s = text, .len = len};
	bool ok;

	if (canon != NULL) {
		j.out = malloc(64);
		FUZZ_CHECK(j.out != NULL, "out of memory");
		j.out_cap = 64;
	}
	ok = fj_value(&j, 0);
	if (ok) {
		fj_ws(&j);
		ok = j.pos == j.len;
	}
	if (canon != NULL) {
		if (ok) {
			*canon = j.out;
			*canon_len = j.out_len;
		} else {
			free(j.out);
		}
	}
	return ok;
}

#endif
