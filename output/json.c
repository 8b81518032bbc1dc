/* json.c — recursive-descent JSON reader (RFC 8259) into arena-allocated nodes.
 *
 * Strict: it accepts exactly RFC 8259's grammar (no trailing commas, no
 * comments, no control characters inside strings, numbers without leading
 * zeros, "1." or ".5", strings of well-formed UTF-8 only), within two limits
 * RFC 8259 section 9 allows: nesting capped at 64 and numbers of at most 63
 * characters. \u escapes including surrogate pairs are decoded to UTF-8; a
 * lone surrogate escape is rejected (it names no character). Children
 * are singly linked in document order, so no temporary vectors are needed. */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/fileio.h"
#include "base/utf8.h"
#include "output/json.h"

#define CHUNK_MIN (64u << 10)
#define DEPTH_MAX 64

struct out_json_chunk {
	struct out_json_chunk *next;
	size_t used, cap;
	_Alignas(16) char data[];
};

struct parser {
	struct out_json_arena *a;
	const char *s;
	size_t pos, len;
	const char *why;
};

static void *arena_alloc(struct out_json_arena *a, size_t n)
{
	n = (n + 15) & ~(size_t)15;
	struct out_json_chunk *c = a->head;
	if (c == NULL || c->cap - c->used < n) {
		size_t cap = n > CHUNK_MIN ? n : CHUNK_MIN;
		struct out_json_chunk *nc = malloc(sizeof(*nc) + cap);
		if (nc == NULL)
			return NULL;
		nc->next = c;
		nc->used = 0;
		nc->cap = cap;
		a->head = c = nc;
	}
	void *p = c->data + c->used;
	c->used += n;
	return p;
}

void out_json_arena_reset(struct out_json_arena *a)
{
	struct out_json_chunk *c = a->head;

	if (c == NULL)
		return;
	/* keep the oldest (last) chunk: free the rest */
	while (c->next != NULL) {
		struct out_json_chunk *n = c->next;
		free(c);
		c = n;
	}
	c->used = 0;
	a->head = c;
}

void out_json_arena_free(struct out_json_arena *a)
{
	while (a->head != NULL) {
		struct out_json_chunk *n = a->head->next;
		free(a->head);
		a->head = n;
	}
}

static void skip_ws(struct parser *p)
{
	while (p->pos < p->len) {
		char c = p->s[p->pos];
		if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
			break;
		p->pos++;
	}
}

static int hex4(const char *s, unsigned *out)
{
	unsigned v = 0;

	for (int i = 0; i < 4; i++) {
		char c = s[i];
		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v |= (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v |= (unsigned)(c - 'A' + 10);
		else
			return -1;
	}
	*out = v;
	return 0;
}

static size_t put_utf8(char *d, unsigned cp)
{
	if (cp < 0x80) {
		d[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		d[0] = (char)(0xc0 | cp >> 6);
		d[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		d[0] = (char)(0xe0 | cp >> 12);
		d[1] = (char)(0x80 | (cp >> 6 & 0x3f));
		d[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	d[0] = (char)(0xf0 | cp >> 18);
	d[1] = (char)(0x80 | (cp >> 12 & 0x3f));
	d[2] = (char)(0x80 | (cp >> 6 & 0x3f));
	d[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

static size_t utf8_len(const char *str, size_t n)
{
	return mc_utf8_len((const uint8_t *)str, n);
}

/* A \u escape at p->pos (just after the 'u'), possibly a surrogate pair. */
static int parse_u_escape(struct parser *p, unsigned *cp)
{
	if (p->len - p->pos < 4 || hex4(p->s + p->pos, cp) != 0)
		return -1;
	p->pos += 4;
	if (*cp >= 0xdc00 && *cp <= 0xdfff)
		return -1;
	if (*cp >= 0xd800 && *cp <= 0xdbff) {
		unsigned lo;
		if (p->len - p->pos < 6 || p->s[p->pos] != '\\' || p->s[p->pos + 1] != 'u' ||
		    hex4(p->s + p->pos + 2, &lo) != 0 || lo < 0xdc00 || lo > 0xdfff)
			return -1;
		p->pos += 6;
		*cp = 0x10000 + ((*cp - 0xd800) << 10) + (lo - 0xdc00);
	}
	return 0;
}

/* A string at p->pos (on the opening quote); decoded into the arena. */
static int parse_string(struct parser *p, const char **out, size_t *outlen)
{
	size_t start = ++p->pos, end = start;

	while (end < p->len && p->s[end] != '"')
		end += p->s[end] == '\\' ? 2 : 1;
	if (end >= p->len) {
		p->why = "unterminated string";
		return -EINVAL;
	}
	char *d = arena_alloc(p->a, end - start + 1); /* decoding never grows */
	size_t n = 0;
	if (d == NULL)
		return -ENOMEM;
	while (p->pos < end) {
		unsigned char c = (unsigned char)p->s[p->pos++];
		if (c < 0x20) {
			p->why = "control character in string";
			return -EINVAL;
		}
		if (c >= 0x80) {
			size_t u = utf8_len(p->s + p->pos - 1, end - (p->pos - 1));
			if (u == 0) {
				p->pos--;
				p->why = "invalid UTF-8 in string";
				return -EINVAL;
			}
			memcpy(d + n, p->s + p->pos - 1, u);
			n += u;
			p->pos += u - 1;
			continue;
		}
		if (c != '\\') {
			d[n++] = (char)c;
			continue;
		}
		char e = p->s[p->pos++];
		const char *simple = strchr("\"\\/bfnrt", e);
		if (e != '\0' && simple != NULL) {
			d[n++] = "\"\\/\b\f\n\r\t"[simple - "\"\\/bfnrt"];
		} else if (e == 'u') {
			unsigned cp;
			if (parse_u_escape(p, &cp) != 0) {
				p->why = "bad \\u escape";
				return -EINVAL;
			}
			n += put_utf8(d + n, cp);
		} else {
			p->why = "bad escape";
			return -EINVAL;
		}
	}
	d[n] = '\0';
	p->pos = end + 1;
	*out = d;
	*outlen = n;
	return 0;
}

static int parse_value(struct parser *p, struct out_json *v, int depth);

/* Length of the RFC 8259 number at s[0..len): -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?,
 * or 0 when the text there is not one (leading zeros, "1.", ".5", "1e", "+1"). */
static size_t number_len(const char *s, size_t len, bool *integral)
{
	size_t i = 0, d;

	*integral = true;
	if (i < len && s[i] == '-') {
		*integral = false;
		i++;
	}
	if (i < len && s[i] == '0') {
		i++;
	} else {
		for (d = i; i < len && s[i] >= '0' && s[i] <= '9'; i++)
			;
		if (i == d)
			return 0;
	}
	if (i < len && s[i] == '.') {
		*integral = false;
		for (d = ++i; i < len && s[i] >= '0' && s[i] <= '9'; i++)
			;
		if (i == d)
			return 0;
	}
	if (i < len && (s[i] == 'e' || s[i] == 'E')) {
		*integral = false;
		i++;
		if (i < len && (s[i] == '+' || s[i] == '-'))
			i++;
		for (d = i; i < len && s[i] >= '0' && s[i] <= '9'; i++)
			;
		if (i == d)
			return 0;
	}
	return i;
}

static int parse_number(struct parser *p, struct out_json *v)
{
	bool integral, overflow = false;
	size_t n = number_len(p->s + p->pos, p->len - p->pos, &integral);
	uint64_t u = 0;
	char tmp[64];

	if (n == 0) {
		p->why = "bad number";
		return -EINVAL;
	}
	if (n >= sizeof(tmp)) {
		p->why = "number too long";
		return -EINVAL;
	}
	memcpy(tmp, p->s + p->pos, n);
	tmp[n] = '\0';
	for (size_t i = 0; integral && i < n; i++) {
		uint64_t d = (uint64_t)(tmp[i] - '0');
		if (u > (UINT64_MAX - d) / 10)
			overflow = true;
		u = u * 10 + d;
	}
	p->pos += n;
	v->type = OUT_JSON_NUMBER;
	v->num = strtod(tmp, NULL);
	v->is_uint = integral && !overflow;
	v->u = u;
	return 0;
}

static int parse_container(struct parser *p, struct out_json *v, int depth, bool object)
{
	struct out_json **tail = &v->child;
	char close = object ? '}' : ']';

	v->type = object ? OUT_JSON_OBJECT : OUT_JSON_ARRAY;
	p->pos++;
	skip_ws(p);
	if (p->pos < p->len && p->s[p->pos] == close) {
		p->pos++;
		return 0;
	}
	for (;;) {
		struct out_json *item = arena_alloc(p->a, sizeof(*item));
		if (item == NULL)
			return -ENOMEM;
		memset(item, 0, sizeof(*item));
		skip_ws(p);
		if (object) {
			if (p->pos >= p->len || p->s[p->pos] != '"') {
				p->why = "expected a member name";
				return -EINVAL;
			}
			int rc = parse_string(p, &item->key, &item->keylen);
			if (rc != 0)
				return rc;
			skip_ws(p);
			if (p->pos >= p->len || p->s[p->pos] != ':') {
				p->why = "expected ':'";
				return -EINVAL;
			}
			p->pos++;
		}
		int rc = parse_value(p, item, depth + 1);
		if (rc != 0)
			return rc;
		*tail = item;
		tail = &item->next;
		v->count++;
		skip_ws(p);
		if (p->pos < p->len && p->s[p->pos] == ',') {
			p->pos++;
			continue;
		}
		if (p->pos < p->len && p->s[p->pos] == close) {
			p->pos++;
			return 0;
		}
		p->why = object ? "expected ',' or '}'" : "expected ',' or ']'";
		return -EINVAL;
	}
}

static int parse_word(struct parser *p, const char *word, size_t n)
{
	if (p->len - p->pos < n || memcmp(p->s + p->pos, word, n) != 0) {
		p->why = "unexpected character";
		return -EINVAL;
	}
	p->pos += n;
	return 0;
}

static int parse_value(struct parser *p, struct out_json *v, int depth)
{
	if (depth > DEPTH_MAX) {
		p->why = "nested too deeply";
		return -EINVAL;
	}
	skip_ws(p);
	if (p->pos >= p->len) {
		p->why = "unexpected end";
		return -EINVAL;
	}
	switch (p->s[p->pos]) {
	case '{':
		return parse_container(p, v, depth, true);
	case '[':
		return parse_container(p, v, depth, false);
	case '"':
		v->type = OUT_JSON_STRING;
		return parse_string(p, &v->str, &v->len);
	case 't':
		v->type = OUT_JSON_BOOL;
		v->b = true;
		return parse_word(p, "true", 4);
	case 'f':
		v->type = OUT_JSON_BOOL;
		return parse_word(p, "false", 5);
	case 'n':
		v->type = OUT_JSON_NULL;
		return parse_word(p, "null", 4);
	default:
		return parse_number(p, v);
	}
}

int out_json_parse(struct out_json_arena *a, const char *text, size_t len, struct out_json **root,
		   char *err, size_t errlen)
{
	struct parser p = {.a = a, .s = text, .len = len};
	struct out_json *v = arena_alloc(a, sizeof(*v));
	int rc;

	if (v == NULL) {
		rc = -ENOMEM;
		p.why = "out of memory";
		goto fail;
	}
	memset(v, 0, sizeof(*v));
	rc = parse_value(&p, v, 0);
	if (rc == 0) {
		skip_ws(&p);
		if (p.pos != p.len) {
			p.why = "trailing characters";
			rc = -EINVAL;
		}
	}
	if (rc != 0)
		goto fail;
	*root = v;
	return 0;
fail:
	if (rc == -ENOMEM)
		p.why = "out of memory";
	snprintf(err, errlen, "offset %zu: %s", p.pos, p.why ? p.why : "invalid JSON");
	return rc;
}

const struct out_json *out_json_get(const struct out_json *obj, const char *key)
{
	if (obj == NULL || obj->type != OUT_JSON_OBJECT)
		return NULL;
	size_t n = strlen(key);

	for (const struct out_json *m = obj->child; m != NULL; m = m->next)
		if (m->keylen == n && memcmp(m->key, key, n) == 0)
			return m;
	return NULL;
}

const char *out_json_str(const struct out_json *v)
{
	return v != NULL && v->type == OUT_JSON_STRING ? v->str : NULL;
}

bool out_json_true(const struct out_json *v)
{
	return v != NULL && v->type == OUT_JSON_BOOL && v->b;
}

bool out_json_false(const struct out_json *v)
{
	return v != NULL && v->type == OUT_JSON_BOOL && !v->b;
}

uint64_t out_json_u64(const struct out_json *v, uint64_t dflt)
{
	return v != NULL && v->type == OUT_JSON_NUMBER && v->is_uint ? v->u : dflt;
}

#define LOAD_MAX (64u << 20)

int out_read_file(int dirfd, const char *name, char **out, size_t *len)
{
	return mc_file_read(dirfd, name, LOAD_MAX, out, len);
}

int out_json_load(int dirfd, const char *name, struct out_json_arena *a, struct out_json **root,
		  char *err, size_t errlen)
{
	char *text = NULL, perr[128];
	size_t len = 0;
	int rc = out_read_file(dirfd, name, &text, &len);

	if (rc != 0) {
		snprintf(err, errlen, "%s: %s", name, strerror(-rc));
		return rc;
	}
	rc = out_json_parse(a, text, len, root, perr, sizeof(perr));
	if (rc != 0)
		snprintf(err, errlen, "%s: invalid JSON (%s)", name, perr);
	free(text);
	return rc;
}
