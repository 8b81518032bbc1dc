/* json.h — a small JSON reader for manifests and shards (internal to output/).
 *
 * Parses one document into nodes allocated from an arena; strings are
 * unescaped, NUL-terminated copies. Reset the arena between documents. */
#ifndef MC_OUT_JSON_H
#define MC_OUT_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum out_json_type {
	OUT_JSON_NULL,
	OUT_JSON_BOOL,
	OUT_JSON_NUMBER,
	OUT_JSON_STRING,
	OUT_JSON_ARRAY,
	OUT_JSON_OBJECT,
};

struct out_json {
	enum out_json_type type;
	const char *key;       /* member name inside an object, else NULL */
	size_t keylen;	       /* its length (a name may hold an escaped NUL) */
	struct out_json *next; /* next item / member */
	struct out_json *child;
	size_t count; /* items / members */
	const char *str;
	size_t len;
	double num;
	bool is_uint; /* num is a non-negative integer that fits u64 exactly */
	uint64_t u;
	bool b;
};

struct out_json_chunk;
struct out_json_arena {
	struct out_json_chunk *head;
};

void out_json_arena_reset(struct out_json_arena *a); /* keep one chunk */
void out_json_arena_free(struct out_json_arena *a);

/* Parse text[0..len) (whitespace around the value is allowed). 0, or -EINVAL
 * / -ENOMEM with "offset N: reason" in err. */
int out_json_parse(struct out_json_arena *a, const char *text, size_t len, struct out_json **root,
		   char *err, size_t errlen);

/* Read the whole of DIR/name (dirfd may be AT_FDCWD), at most 64 MiB, into
 * a malloc'd NUL-terminated buffer. 0, or -errno (-EFBIG when too large). */
int out_read_file(int dirfd, const char *name, char **out, size_t *len);

/* Read DIR/name (at most 64 MiB) and parse it. 0, or -errno with reason. */
int out_json_load(int dirfd, const char *name, struct out_json_arena *a, struct out_json **root,
		  char *err, size_t errlen);

/* Member of an object by name, or NULL (also when obj is NULL or not an
 * object). The whole name must match: "a\u0000b" is not "a". */
const struct out_json *out_json_get(const struct out_json *obj, const char *key);
/* The string of v, or NULL when v is not a string. */
const char *out_json_str(const struct out_json *v);
/* true only for a JSON true. */
bool out_json_true(const struct out_json *v);
/* true only for a JSON false. */
bool out_json_false(const struct out_json *v);
/* A non-negative integer, or `dflt`. */
uint64_t out_json_u64(const struct out_json *v, uint64_t dflt);

#endif
