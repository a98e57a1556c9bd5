/* json_strict.h: untrusted JSON parsed strictly over json-c, and typed
 * getters whose messages name the value by its JSON path
 * ("devices.edge-0042.tunnels[1].target.port: 70000 is not a port").
 * For lib/ modules only: json-c types appear in this interface. */
#ifndef TC_JSON_STRICT_H
#define TC_JSON_STRICT_H

#include <json-c/json.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

/* A JSON path in a message: keys are echoed at most TC_ECHO_MAX chars each,
 * and a path that does not fit ends in "...". */
#define TC_JSON_PATH_MAX 384
/* The deepest nesting any rules may allow: the parser tracks the path of
 * every open container to name where a problem is. */
#define TC_JSON_DEPTH_MAX 64

/* What one kind of document may be. */
struct tc_json_rules {
	const char *what;	/* names the whole document in messages: "document" */
	const char *root;	/* path prefix of its members: "" or e.g. "subscriber" */
	size_t max_len;		/* longer input is refused before parsing */
	int max_depth;		/* deeper nesting is refused (1 = a flat object); at most TC_JSON_DEPTH_MAX */
};

/* Parse buf[0..len) (not NUL-terminated necessarily) into *root, which must
 * be a JSON object; the caller json_object_put()s it. Strict: valid UTF-8
 * (shortest forms, no surrogates), no NUL (raw or \u0000), no raw control
 * characters in strings, no duplicate keys, no comments, single quotes,
 * NaN/Infinity or trailing data. 0 or -1 (TC_ERR_INVALID). A problem inside
 * the document is named by its JSON path ("a.b[2]: \u0000 (NUL) in a
 * string", "a.b: duplicate key ..."); one with the whole of it by
 * rules->what ("document: is null, expected an object"). */
int tc_json_parse(const char *buf, size_t len, const struct tc_json_rules *rules,
		  struct json_object **root, struct tc_err *err);

/* out = path "." key (just key when path is ""), key echoed safely. */
void tc_json_path(char out[TC_JSON_PATH_MAX], const char *path, const char *key);
/* out = path "[" i "]". */
void tc_json_path_idx(char out[TC_JSON_PATH_MAX], const char *path, size_t i);
/* "null", "a boolean", "an integer", "a non-integer number", "a string",
 * "an object", "an array". */
const char *tc_json_type_name(struct json_object *o);

/* The getters below return -1 with err set (TC_ERR_INVALID, the message
 * starting with the value's path), 0 when an optional member is absent, and
 * 1 (or 0 for the ones without an optional member) on success. */

/* o has JSON type t, described as `expected` ("an object") otherwise. */
int tc_json_want(struct json_object *o, enum json_type t, const char *expected,
		 const char *path, struct tc_err *err);
/* Every key of obj is in allowed (NULL-terminated). */
int tc_json_only_keys(struct json_object *obj, const char *const *allowed, const char *path,
		      struct tc_err *err);
/* *o = obj[key]; 1 if present, 0 if absent and optional, -1 if absent and required. */
int tc_json_member(struct json_object *obj, const char *key, int required, struct json_object **o,
		   const char *path, struct tc_err *err);
/* o is a string; its bytes (not copied, owned by o) via *s, *n. */
int tc_json_string(struct json_object *o, const char **s, size_t *n, const char *path,
		   struct tc_err *err);
/* obj[key] is a string shorter than bufsz, accepted by valid() (may be NULL),
 * copied into buf; `thing` says what it should be ("a user name"). */
int tc_json_str_field(struct json_object *obj, const char *key, int required, char *buf, size_t bufsz,
		      int (*valid)(const char *), const char *thing, const char *path,
		      struct tc_err *err);
/* obj[key] is a JSON integer in [lo, hi]; never coerced from another type. */
int tc_json_int_field(struct json_object *obj, const char *key, int required, int64_t lo, int64_t hi,
		      int64_t *out, const char *thing, const char *path, struct tc_err *err);
/* obj[key] is a JSON boolean. */
int tc_json_bool_field(struct json_object *obj, const char *key, int required, int *out,
		       const char *path, struct tc_err *err);
/* obj[key] is an object whose keys are all in allowed (NULL: any keys);
 * its path goes to p. */
int tc_json_obj_field(struct json_object *obj, const char *key, int required, struct json_object **o,
		      const char *const *allowed, char p[TC_JSON_PATH_MAX], const char *path,
		      struct tc_err *err);

#endif
