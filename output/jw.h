/* jw.h — the bounded JSON text writer of output/ and cli/ (records, manifest,
 * reports, diff, the scan metadata).
 *
 * Writes into a caller's buffer; running out of room sets `overflow` and
 * every later write is a no-op, so callers check once at the end. Strings
 * that came from servers go through out_jw_bytes(), which escapes them
 * exactly: '"' and '\\' are backslash-escaped, every byte below 0x20 and
 * DEL (0x7f) becomes \u00XX, well-formed UTF-8 is copied as is, and every
 * byte that does not belong to a well-formed UTF-8 sequence (stray
 * continuation bytes, overlong forms, surrogates, code points above
 * U+10FFFF, truncated sequences) becomes one \uFFFD. */
#ifndef MC_OUT_JW_H
#define MC_OUT_JW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct out_jw {
	char *p;
	char *end;
	bool overflow;
};

static inline void out_jw_init(struct out_jw *w, char *buf, size_t cap)
{
	w->p = buf;
	w->end = buf + cap;
	w->overflow = false;
}

static inline bool out_jw_room(struct out_jw *w, size_t n)
{
	if (w->overflow || (size_t)(w->end - w->p) < n) {
		w->overflow = true;
		return false;
	}
	return true;
}

static inline void out_jw_raw(struct out_jw *w, const char *s, size_t n)
{
	if (!out_jw_room(w, n))
		return;
	memcpy(w->p, s, n);
	w->p += n;
}

/* s must be a string literal ("" s "" refuses anything else). */
#define out_jw_lit(w, s) out_jw_raw((w), "" s "", sizeof(s) - 1)

static inline void out_jw_u64(struct out_jw *w, uint64_t v)
{
	char tmp[20];
	size_t n = 0;

	do {
		tmp[sizeof(tmp) - 1 - n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	out_jw_raw(w, tmp + sizeof(tmp) - n, n);
}

static inline void out_jw_i64(struct out_jw *w, int64_t v)
{
	if (v < 0) {
		out_jw_lit(w, "-");
		out_jw_u64(w, (uint64_t)0 - (uint64_t)v);
		return;
	}
	out_jw_u64(w, (uint64_t)v);
}

static inline void out_jw_bool(struct out_jw *w, bool v)
{
	if (v)
		out_jw_lit(w, "true");
	else
		out_jw_lit(w, "false");
}

/* "key": for a key that is our own name (no escaping). */
static inline void out_jw_key(struct out_jw *w, const char *key)
{
	out_jw_lit(w, "\"");
	out_jw_raw(w, key, strlen(key));
	out_jw_lit(w, "\":");
}

/* "key":v, then a comma when another member follows. */
static inline void out_jw_member_u64(struct out_jw *w, const char *key, uint64_t v, bool comma)
{
	out_jw_key(w, key);
	out_jw_u64(w, v);
	if (comma)
		out_jw_lit(w, ",");
}

/* Escaped body of a string (no quotes); see the header comment. */
void out_jw_escape(struct out_jw *w, const uint8_t *s, size_t n);

/* A quoted, escaped string from bytes. */
static inline void out_jw_bytes(struct out_jw *w, const void *s, size_t n)
{
	out_jw_lit(w, "\"");
	out_jw_escape(w, s, n);
	out_jw_lit(w, "\"");
}

/* A quoted, escaped string from a NUL-terminated buffer of at most `cap` bytes. */
static inline void out_jw_cstr(struct out_jw *w, const char *s, size_t cap)
{
	out_jw_bytes(w, s, strnlen(s, cap));
}

/* Like out_jw_cstr but an empty string is written as null. */
static inline void out_jw_cstr_or_null(struct out_jw *w, const char *s, size_t cap)
{
	size_t n = strnlen(s, cap);

	if (n == 0)
		out_jw_lit(w, "null");
	else
		out_jw_bytes(w, s, n);
}

/* "YYYY-MM-DDTHH:MM:SS[.ffffff]Z" of Unix microseconds (or seconds when frac is false). */
void out_jw_time(struct out_jw *w, int64_t us, bool frac);

/* Writes one document's text into w (ctx: the caller's data). */
typedef void out_jw_body_fn(struct out_jw *w, const void *ctx);

/* The size of the reports' documents (report, diff): far above what their
 * fixed shape needs. */
#define OUT_JW_DOC_CAP (1u << 20)

/* One whole JSON document: body(w, ctx) writes it into a malloc'd buffer
 * of cap bytes, one of them kept for the NUL. Returns the NUL-terminated
 * text (the caller frees it) and its length in *len unless len is NULL;
 * NULL with errno ENOMEM (no memory) or EOVERFLOW (it did not fit). */
char *out_jw_document(size_t cap, out_jw_body_fn *body, const void *ctx, size_t *len);

#endif
