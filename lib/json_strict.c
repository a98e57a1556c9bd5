/* json_strict.c: untrusted JSON parsed strictly (json_strict.h). json-c
 * alone is lenient (trailing garbage, duplicate keys, NaN, coercing
 * getters), so every leniency is closed here, and every value's JSON type
 * is checked before use. */
#include <stdio.h>
#include <string.h>

#include "echo.h"
#include "json_strict.h"
#include "xalloc.h"

/* ---- paths and types ---- */

/* A path that did not fit ends in "..." so the message shows it was cut;
 * paths are only ever used in messages. */
static void
mark_cut(char *out, size_t outsz, int r)
{
	if (r < 0)
		out[0] = '\0';
	else if ((size_t)r >= outsz)
		memcpy(out + outsz - 4, "...", 4);
}

void
tc_json_path(char out[TC_JSON_PATH_MAX], const char *path, const char *key)
{
	char e[TC_ECHO_MAX + 4];

	mark_cut(out, TC_JSON_PATH_MAX,
		 snprintf(out, TC_JSON_PATH_MAX, "%s%s%s", path, path[0] ? "." : "", tc_echo(key, e)));
}

void
tc_json_path_idx(char out[TC_JSON_PATH_MAX], const char *path, size_t i)
{
	mark_cut(out, TC_JSON_PATH_MAX, snprintf(out, TC_JSON_PATH_MAX, "%s[%zu]", path, i));
}

const char *
tc_json_type_name(struct json_object *o)
{
	switch (json_object_get_type(o)) {
	case json_type_null: return "null";
	case json_type_boolean: return "a boolean";
	case json_type_double: return "a non-integer number";
	case json_type_int: return "an integer";
	case json_type_object: return "an object";
	case json_type_array: return "an array";
	case json_type_string: return "a string";
	}
	return "unknown";
}

int
tc_json_want(struct json_object *o, enum json_type t, const char *expected, const char *path,
	     struct tc_err *err)
{
	if (json_object_is_type(o, t))
		return 0;
	return tc_err_set(err, TC_ERR_INVALID, "%s: is %s, expected %s", path, tc_json_type_name(o), expected);
}

/* ---- strict parsing ---- */

/* Length of the well-formed UTF-8 sequence at p (RFC 3629: shortest form,
 * no surrogates, at most U+10FFFF), or 0. json-c's VALIDATE_UTF8 lets
 * overlong forms such as C0 AF through. */
static size_t
utf8_len(const unsigned char *p, size_t left)
{
	unsigned char lo = 0x80, hi = 0xbf;
	size_t n, i;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		n = 2;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		n = 3;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		n = 4;
	else
		return 0;
	if (p[0] == 0xe0)
		lo = 0xa0;
	else if (p[0] == 0xed)
		hi = 0x9f;
	else if (p[0] == 0xf0)
		lo = 0x90;
	else if (p[0] == 0xf4)
		hi = 0x8f;
	if (left < n || p[1] < lo || p[1] > hi)
		return 0;
	for (i = 2; i < n; i++)
		if (p[i] < 0x80 || p[i] > 0xbf)
			return 0;
	return n;
}

/* A pass over the raw text for what json-c tolerates but JSON does not:
 * NUL bytes, raw control characters in strings, "\u0000" (json-c keeps it,
 * and a C string would silently end there), single quotes, NaN/Infinity,
 * comments, malformed UTF-8. It also counts ':' outside strings: in JSON that is exactly the
 * number of object members, which check_dups() compares with the tree. */
static int
prescan(const char *buf, size_t len, size_t *members, const char *what, struct tc_err *err)
{
	size_t i, n = 0;

	for (i = 0; i < len;) {
		size_t u = utf8_len((const unsigned char *)buf + i, len - i);

		if (u == 0)
			return tc_err_set(err, TC_ERR_INVALID, "%s: is not valid UTF-8 (byte %zu)", what, i);
		i += u;
	}
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)buf[i];

		if (c == '"') {
			for (i++; i < len && buf[i] != '"'; i++) {
				if ((unsigned char)buf[i] < 0x20)
					return tc_err_set(err, TC_ERR_INVALID,
							  "%s: control character in a string", what);
				if (buf[i] != '\\')
					continue;
				if (i + 5 < len && buf[i + 1] == 'u' && memcmp(buf + i + 2, "0000", 4) == 0)
					return tc_err_set(err, TC_ERR_INVALID,
							  "%s: \\u0000 (NUL) in a string", what);
				i++;
			}
			continue;
		}
		if (c == ':')
			n++;
		else if (c == '\0' || c == '\'' || c == '/')
			return tc_err_set(err, TC_ERR_INVALID, "%s: is not valid JSON (byte %zu)", what, i);
		else if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')) {
			size_t j = i;

			while (j < len && ((buf[j] >= 'A' && buf[j] <= 'Z') || (buf[j] >= 'a' && buf[j] <= 'z')))
				j++;
			if (!((j - i == 4 && (memcmp(buf + i, "true", 4) == 0 || memcmp(buf + i, "null", 4) == 0)) ||
			      (j - i == 5 && memcmp(buf + i, "false", 5) == 0) ||
			      (j - i == 1 && (c == 'e' || c == 'E'))))
				return tc_err_set(err, TC_ERR_INVALID,
						  "%s: is not valid JSON (bare word at byte %zu)", what, i);
			i = j - 1;
		}
	}
	*members = n;
	return 0;
}

static size_t
count_members(struct json_object *o)
{
	size_t n = 0, i, len;

	if (json_object_is_type(o, json_type_object)) {
		json_object_object_foreach(o, k, v) {
			(void)k;
			n += 1 + count_members(v);
		}
	} else if (json_object_is_type(o, json_type_array)) {
		len = json_object_array_length(o);
		for (i = 0; i < len; i++)
			n += count_members(json_object_array_get_idx(o, i));
	}
	return n;
}

/* json-c keeps the last of duplicate keys silently. Each duplicate drops a
 * member (and whatever it held) from the tree, so the tree has fewer members
 * than the text has ':' exactly when some object repeats a key. Recursion is
 * bounded by the depth limit. */
static int
check_dups(struct json_object *root, size_t text_members, const char *what, struct tc_err *err)
{
	if (count_members(root) != text_members)
		return tc_err_set(err, TC_ERR_INVALID, "%s: an object has a duplicate key", what);
	return 0;
}

/* "1 MiB" rather than "1048576". */
static const char *
size_text(size_t n, char *buf, size_t bufsz)
{
	int r;

	if (n > 0 && n % (1024 * 1024) == 0)
		r = snprintf(buf, bufsz, "%zu MiB", n / (1024 * 1024));
	else if (n > 0 && n % 1024 == 0)
		r = snprintf(buf, bufsz, "%zu KiB", n / 1024);
	else
		r = snprintf(buf, bufsz, "%zu bytes", n);
	return r > 0 && (size_t)r < bufsz ? buf : "the limit";
}

int
tc_json_parse(const char *buf, size_t len, const struct tc_json_rules *rules,
	      struct json_object **root, struct tc_err *err)
{
	const char *what = rules->what;
	char cap[32];
	struct json_tokener *tok;
	struct json_object *o;
	enum json_tokener_error je;
	size_t members = 0, end;

	if (buf == NULL || len == 0)
		return tc_err_set(err, TC_ERR_INVALID, "%s: is empty", what);
	if (len > rules->max_len)
		return tc_err_set(err, TC_ERR_INVALID, "%s: is larger than %s (%zu bytes)",
				  what, size_text(rules->max_len, cap, sizeof(cap)), len);
	if (prescan(buf, len, &members, what, err) < 0)
		return -1;
	tok = XCHECK(json_tokener_new_ex(rules->max_depth));
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	o = json_tokener_parse_ex(tok, buf, (int)len);
	je = json_tokener_get_error(tok);
	end = json_tokener_get_parse_end(tok);
	json_tokener_free(tok);
	if (o == NULL) {
		if (je == json_tokener_continue || je == json_tokener_success)
			return tc_err_set(err, TC_ERR_INVALID, "%s: is truncated (JSON ends early)", what);
		return tc_err_set(err, TC_ERR_INVALID, "%s: is not valid JSON: %s at byte %zu",
				  what, json_tokener_error_desc(je), end);
	}
	for (; end < len; end++)
		if (buf[end] != ' ' && buf[end] != '\t' && buf[end] != '\n' && buf[end] != '\r') {
			json_object_put(o);
			return tc_err_set(err, TC_ERR_INVALID, "%s: trailing data after the JSON value at byte %zu",
					  what, end);
		}
	if (!json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		return tc_err_set(err, TC_ERR_INVALID, "%s: is not a JSON object", what);
	}
	if (check_dups(o, members, what, err) < 0) {
		json_object_put(o);
		return -1;
	}
	*root = o;
	return 0;
}

/* ---- typed getters ---- */

int
tc_json_only_keys(struct json_object *obj, const char *const *allowed, const char *path, struct tc_err *err)
{
	char p[TC_JSON_PATH_MAX];
	size_t i;

	json_object_object_foreach(obj, k, v) {
		(void)v;
		for (i = 0; allowed[i] != NULL; i++)
			if (strcmp(k, allowed[i]) == 0)
				break;
		if (allowed[i] == NULL) {
			tc_json_path(p, path, k);
			return tc_err_set(err, TC_ERR_INVALID, "%s: unknown key", p);
		}
	}
	return 0;
}

int
tc_json_member(struct json_object *obj, const char *key, int required, struct json_object **o,
	       const char *path, struct tc_err *err)
{
	char p[TC_JSON_PATH_MAX];

	if (json_object_object_get_ex(obj, key, o))
		return 1;
	if (!required)
		return 0;
	tc_json_path(p, path, key);
	return tc_err_set(err, TC_ERR_INVALID, "%s: is missing", p);
}

int
tc_json_string(struct json_object *o, const char **s, size_t *n, const char *path, struct tc_err *err)
{
	if (tc_json_want(o, json_type_string, "a string", path, err) < 0)
		return -1;
	*s = json_object_get_string(o);
	*n = (size_t)json_object_get_string_len(o);
	if (strlen(*s) != *n)
		return tc_err_set(err, TC_ERR_INVALID, "%s: contains a NUL character", path);
	return 0;
}

int
tc_json_str_field(struct json_object *obj, const char *key, int required, char *buf, size_t bufsz,
		  int (*valid)(const char *), const char *thing, const char *path, struct tc_err *err)
{
	char p[TC_JSON_PATH_MAX], e[TC_ECHO_MAX + 4];
	struct json_object *o;
	const char *s;
	size_t n;
	int r;

	if ((r = tc_json_member(obj, key, required, &o, path, err)) <= 0)
		return r;
	tc_json_path(p, path, key);
	if (tc_json_string(o, &s, &n, p, err) < 0)
		return -1;
	if (n >= bufsz || (valid != NULL && !valid(s)))
		return tc_err_set(err, TC_ERR_INVALID, "%s: '%s' is not %s", p, tc_echo(s, e), thing);
	memcpy(buf, s, n + 1);
	return 1;
}

int
tc_json_int_field(struct json_object *obj, const char *key, int required, int64_t lo, int64_t hi,
		  int64_t *out, const char *thing, const char *path, struct tc_err *err)
{
	char p[TC_JSON_PATH_MAX];
	struct json_object *o;
	int64_t v;
	int r;

	if ((r = tc_json_member(obj, key, required, &o, path, err)) <= 0)
		return r;
	tc_json_path(p, path, key);
	if (!json_object_is_type(o, json_type_int))
		return tc_err_set(err, TC_ERR_INVALID, "%s: is %s, expected %s (a JSON integer %lld-%lld)",
				  p, tc_json_type_name(o), thing, (long long)lo, (long long)hi);
	v = json_object_get_int64(o);
	if (v < lo || v > hi)
		return tc_err_set(err, TC_ERR_INVALID, "%s: %lld is not %s (%lld-%lld)",
				  p, (long long)v, thing, (long long)lo, (long long)hi);
	*out = v;
	return 1;
}

int
tc_json_bool_field(struct json_object *obj, const char *key, int required, int *out,
		   const char *path, struct tc_err *err)
{
	char p[TC_JSON_PATH_MAX];
	struct json_object *o;
	int r;

	if ((r = tc_json_member(obj, key, required, &o, path, err)) <= 0)
		return r;
	tc_json_path(p, path, key);
	if (tc_json_want(o, json_type_boolean, "a boolean (true or false)", p, err) < 0)
		return -1;
	*out = json_object_get_boolean(o) ? 1 : 0;
	return 1;
}

int
tc_json_obj_field(struct json_object *obj, const char *key, int required, struct json_object **o,
		  const char *const *allowed, char p[TC_JSON_PATH_MAX], const char *path, struct tc_err *err)
{
	int r;

	if ((r = tc_json_member(obj, key, required, o, path, err)) <= 0)
		return r;
	tc_json_path(p, path, key);
	if (tc_json_want(*o, json_type_object, "an object", p, err) < 0)
		return -1;
	if (allowed != NULL && tc_json_only_keys(*o, allowed, p, err) < 0)
		return -1;
	return 1;
}
