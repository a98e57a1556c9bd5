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
 * no surrogates, at most U+10FFFF), or 0. */
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

/* Where the prescan is, so that what it finds is named by its JSON path
 * like every other error: one frame per open container. */
struct frame {
	char kind;		/* '{' or '[' */
	char want_key;		/* '{': the next string is a member's key */
	char has_key;		/* '{': key holds the current member's key */
	size_t idx;		/* '[': the current element */
	/* '{': the current key, decoded and cut one char past TC_ECHO_MAX, so
	 * that tc_echo marks a longer key with "..." */
	char key[TC_ECHO_MAX + 2];
};

struct track {
	const struct tc_json_rules *rules;
	int depth;
	struct frame f[TC_JSON_DEPTH_MAX];
};

/* out[*o..] += s, as much as fits; a path cut short ends in "...". */
static void
put(char out[TC_JSON_PATH_MAX], size_t *o, const char *s)
{
	size_t n = strlen(s);

	if (*o + n < TC_JSON_PATH_MAX) {
		memcpy(out + *o, s, n + 1);
		*o += n;
		return;
	}
	memcpy(out + *o, s, TC_JSON_PATH_MAX - 1 - *o);
	memcpy(out + TC_JSON_PATH_MAX - 4, "...", 4);
	*o = TC_JSON_PATH_MAX - 1;
}

static void
track_path(const struct track *t, char out[TC_JSON_PATH_MAX])
{
	char e[TC_ECHO_MAX + 4], idx[24];
	size_t o = 0;
	int i;

	out[0] = '\0';
	put(out, &o, t->rules->root);
	for (i = 0; i < t->depth; i++) {
		const struct frame *f = &t->f[i];

		if (f->kind == '[') {
			int r = snprintf(idx, sizeof(idx), "[%zu]", f->idx);

			if (r > 0 && (size_t)r < sizeof(idx))
				put(out, &o, idx);
		} else if (f->has_key) {
			if (o > 0)
				put(out, &o, ".");
			put(out, &o, tc_echo(f->key, e));
		}
	}
	if (o == 0)
		put(out, &o, t->rules->what);
}

/* What a string may not hold. */
enum bad { BAD_NONE, BAD_NUL, BAD_CONTROL, BAD_UTF8 };

static void
key_put(char *key, size_t *k, char c)
{
	if (key != NULL && *k < TC_ECHO_MAX + 1) {
		key[(*k)++] = c;
		key[*k] = '\0';
	}
}

static int
hex4(const char *p, unsigned *v)
{
	int i;

	*v = 0;
	for (i = 0; i < 4; i++) {
		char c = p[i];

		*v <<= 4;
		if (c >= '0' && c <= '9')
			*v |= (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			*v |= (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			*v |= (unsigned)(c - 'A' + 10);
		else
			return -1;
	}
	return 0;
}

/* The string whose opening quote is buf[i]: returns the index of its closing
 * quote (len if there is none). The first NUL escape, raw control character
 * or malformed UTF-8 goes to *bad, with the byte or its offset in *badc.
 * With key != NULL the string is decoded into key for a path: non-ASCII as
 * one '?' per UTF-8 byte, as tc_echo shows it, and NUL as '?'. */
static size_t
scan_string(const char *buf, size_t len, size_t i, enum bad *bad, size_t *badc, char *key)
{
	static const char esc_from[] = "bfnrt", esc_to[] = "\b\f\n\r\t";
	size_t k = 0, q;
	unsigned cp;

	if (key != NULL)
		key[0] = '\0';
	for (i++; i < len && buf[i] != '"'; i++) {
		unsigned char c = (unsigned char)buf[i];

		if (c >= 0x80) {
			q = utf8_len((const unsigned char *)buf + i, len - i);
			if (q == 0) {
				if (*bad == BAD_NONE) {
					*bad = BAD_UTF8;
					*badc = i;
				}
				q = 1;
			}
			i += q - 1;
			while (q-- > 0)
				key_put(key, &k, '?');
			continue;
		}
		if (c < 0x20 && *bad == BAD_NONE) {
			*bad = BAD_CONTROL;
			*badc = c;
		}
		if (c != '\\') {
			key_put(key, &k, c == '\0' ? '?' : (char)c);
			continue;
		}
		if (++i >= len)
			break;
		if ((unsigned char)buf[i] < 0x20 && *bad == BAD_NONE) {
			*bad = BAD_CONTROL;	/* a backslash does not make it JSON */
			*badc = (unsigned char)buf[i];
		}
		if ((unsigned char)buf[i] >= 0x80) {
			i--;	/* not an escape; the UTF-8 check above sees it next */
			continue;
		}
		if (buf[i] != 'u') {
			const char *m = strchr(esc_from, buf[i]);

			key_put(key, &k, m != NULL && buf[i] != '\0' ? esc_to[m - esc_from] : buf[i]);
			continue;
		}
		if (i + 4 >= len || hex4(buf + i + 1, &cp) < 0)
			continue;	/* not JSON: json-c refuses it */
		i += 4;
		if (cp == 0 && *bad == BAD_NONE)
			*bad = BAD_NUL;
		if (cp < 0x80) {
			key_put(key, &k, cp == 0 ? '?' : (char)cp);
			continue;
		}
		/* a high surrogate stands for the pair's 4 bytes, a low one for none */
		q = cp < 0x800 ? 2 : (cp >= 0xd800 && cp <= 0xdbff) ? 4 : (cp >= 0xdc00 && cp <= 0xdfff) ? 0 : 3;
		while (q-- > 0)
			key_put(key, &k, '?');
	}
	return i;
}

static int
bad_string(const struct track *t, enum bad bad, size_t c, int is_key, struct tc_err *err)
{
	const char *in = is_key ? "key" : "string";
	char p[TC_JSON_PATH_MAX];

	track_path(t, p);
	if (bad == BAD_NUL)
		return tc_err_set(err, TC_ERR_INVALID, "%s: \\u0000 (NUL) in a %s", p, in);
	if (bad == BAD_UTF8)
		return tc_err_set(err, TC_ERR_INVALID, "%s: is not valid UTF-8 (a %s, byte %zu)", p, in, c);
	return tc_err_set(err, TC_ERR_INVALID, "%s: control character (0x%02zx) in a %s", p, c, in);
}

static int
is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static int
is_letter(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

/* Outside strings, the only words of JSON (and 'e' of exponents). */
static int
known_word(const char *w, size_t n)
{
	return (n == 4 && (memcmp(w, "true", 4) == 0 || memcmp(w, "null", 4) == 0)) ||
	       (n == 5 && memcmp(w, "false", 5) == 0) || (n == 1 && (w[0] == 'e' || w[0] == 'E'));
}

/* A pass over the raw text for what json-c tolerates but JSON does not:
 * NUL bytes, raw control characters in strings, "\\u0000" (json-c keeps it,
 * and a C string would silently end there), single quotes, NaN/Infinity,
 * comments, malformed UTF-8 (json-c's VALIDATE_UTF8 lets overlong forms
 * through), and nesting deeper than the rules allow; each is named by
 * where it is. It also counts ':' outside strings: in JSON that is exactly
 * the number of object members, which the duplicate check compares with
 * the tree. With stop_path != NULL it only finds the path at byte stop, for
 * a message about what json-c found there: 1 and the path in stop_path. */
static int
prescan(const char *buf, size_t len, const struct tc_json_rules *rules, size_t stop,
	char stop_path[TC_JSON_PATH_MAX], size_t *members, struct tc_err *err)
{
	int depth_max = rules->max_depth < TC_JSON_DEPTH_MAX ? rules->max_depth : TC_JSON_DEPTH_MAX;
	char p[TC_JSON_PATH_MAX];
	struct track t;
	size_t i, n = 0;
	int closed = 0;		/* the top-level container has ended */

	t.rules = rules;
	t.depth = 0;
	for (i = 0; i < len; i++) {
		struct frame *top = t.depth > 0 ? &t.f[t.depth - 1] : NULL;
		unsigned char c = (unsigned char)buf[i];
		enum bad bad = BAD_NONE;
		size_t badc = 0;
		int is_key;

		if (stop_path != NULL && i >= stop) {
			track_path(&t, stop_path);
			return 1;
		}
		if (closed && !is_ws((char)c))
			return tc_err_set(err, TC_ERR_INVALID, "%s: trailing data after the JSON value at byte %zu",
					  rules->what, i);
		switch (c) {
		case '"':
			is_key = top != NULL && top->kind == '{' && top->want_key;
			if (is_key) {
				top->want_key = 0;
				top->has_key = 1;
			}
			i = scan_string(buf, len, i, &bad, &badc, is_key ? top->key : NULL);
			if (bad != BAD_NONE)
				return bad_string(&t, bad, badc, is_key, err);
			if (stop_path != NULL && i >= stop) {
				track_path(&t, stop_path);
				return 1;
			}
			break;
		case '{':
		case '[':
			if (t.depth == depth_max) {
				track_path(&t, p);
				return tc_err_set(err, TC_ERR_INVALID, "%s: nesting too deep (more than %d levels)",
						  p, depth_max);
			}
			top = &t.f[t.depth++];
			top->kind = (char)c;
			top->want_key = c == '{';
			top->has_key = 0;
			top->idx = 0;
			break;
		case '}':
		case ']':
			/* a mismatched bracket is json-c's to report, at its place */
			if (top != NULL && top->kind == (c == '}' ? '{' : '[') && --t.depth == 0)
				closed = 1;
			break;
		case ',':
			if (top != NULL && top->kind == '[')
				top->idx++;
			else if (top != NULL) {
				top->want_key = 1;
				top->has_key = 0;
			}
			break;
		case ':':
			n++;
			break;
		default:
			if (is_letter((char)c)) {
				size_t j = i;

				while (j < len && is_letter(buf[j]))
					j++;
				if (known_word(buf + i, j - i)) {
					i = j - 1;
					break;
				}
				track_path(&t, p);
				return tc_err_set(err, TC_ERR_INVALID,
						  "%s: is not valid JSON (bare word at byte %zu)", p, i);
			}
			/* NUL bytes, quotes, comments and non-ASCII outside strings */
			if (c == '\0' || c == '\'' || c == '/' || c >= 0x80) {
				track_path(&t, p);
				return tc_err_set(err, TC_ERR_INVALID, "%s: is not valid JSON (byte %zu)", p, i);
			}
		}
	}
	*members = n;
	if (stop_path == NULL)
		return 0;
	track_path(&t, stop_path);
	return 1;
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

/* ---- duplicate keys ---- */

/* The index just past the string whose opening quote is buf[i]. */
static size_t
skip_string(const char *buf, size_t len, size_t i)
{
	for (i++; i < len && buf[i] != '"'; i++)
		if (buf[i] == '\\')
			i++;
	return i + 1;
}

/* The object whose '{' is buf[at]: its number of members in the text. With
 * dup != NULL, the first of its keys given twice (decoded) is also copied
 * into dup (cut to dupsz), "" if none. */
static size_t
text_members(const char *buf, size_t len, size_t at, char *dup, size_t dupsz)
{
	struct json_object *seen = dup != NULL ? XCHECK(json_object_new_object()) : NULL;
	size_t i = at + 1, n = 0;
	int depth = 1, want_key = 1;

	if (dup != NULL)
		dup[0] = '\0';
	while (i < len && depth > 0) {
		char c = buf[i];

		if (c == '"') {
			size_t end = skip_string(buf, len, i);

			if (depth == 1 && want_key && seen != NULL && dup[0] == '\0') {
				struct json_tokener *tok = XCHECK(json_tokener_new());
				struct json_object *k = json_tokener_parse_ex(tok, buf + i, (int)(end - i));
				const char *ks = k != NULL ? json_object_get_string(k) : "";

				if (json_object_object_get_ex(seen, ks, NULL)) {
					int r = snprintf(dup, dupsz, "%s", ks);

					if (r < 0)	/* a key cut to dupsz is fine: tc_echo marks it */
						memcpy(dup, "?", 2);
				} else
					json_object_object_add(seen, ks, NULL);
				json_object_put(k);
				json_tokener_free(tok);
			}
			if (depth == 1)
				want_key = 0;
			i = end;
			continue;
		}
		if (c == '{' || c == '[')
			depth++;
		else if (c == '}' || c == ']')
			depth--;
		else if (c == ':' && depth == 1)
			n++;
		else if (c == ',' && depth == 1)
			want_key = 1;
		i++;
	}
	json_object_put(seen);
	return n;
}

/* The text's objects, in the order their '{' appear. */
struct dupscan {
	const char *buf;
	size_t len, pos;
};

static size_t
next_object(struct dupscan *ds)
{
	size_t i = ds->pos;

	while (i < ds->len && ds->buf[i] != '{')
		i = ds->buf[i] == '"' ? skip_string(ds->buf, ds->len, i) : i + 1;
	ds->pos = i + 1;
	return i;
}

/* json-c keeps the last of duplicate keys silently, dropping a member (and
 * whatever it held) from the tree. Walking the tree's objects in document
 * order beside the text's, the first object with fewer members in the tree
 * than in the text is the one with the duplicate: everything before it in
 * that order is outside it, so unaffected. -1 with err naming the key's
 * path, or 0 if none was found. Recursion is bounded by the depth limit. */
static int
find_dup(struct json_object *o, struct dupscan *ds, const char *path, struct tc_err *err)
{
	char p[TC_JSON_PATH_MAX], key[TC_ECHO_MAX + 2];
	size_t i, n, at;

	if (json_object_is_type(o, json_type_array)) {
		n = json_object_array_length(o);
		for (i = 0; i < n; i++) {
			tc_json_path_idx(p, path, i);
			if (find_dup(json_object_array_get_idx(o, i), ds, p, err) < 0)
				return -1;
		}
		return 0;
	}
	if (!json_object_is_type(o, json_type_object))
		return 0;
	at = next_object(ds);
	if (at >= ds->len)
		return 0;
	if (text_members(ds->buf, ds->len, at, NULL, 0) != (size_t)json_object_object_length(o)) {
		text_members(ds->buf, ds->len, at, key, sizeof(key));
		tc_json_path(p, path, key);
		return tc_err_set(err, TC_ERR_INVALID, "%s: duplicate key (given more than once in its object)", p);
	}
	json_object_object_foreach(o, k, v) {
		tc_json_path(p, path, k);
		if (find_dup(v, ds, p, err) < 0)
			return -1;
	}
	return 0;
}

static int
check_dups(struct json_object *root, const char *buf, size_t len, size_t text_members_n,
	   const struct tc_json_rules *rules, struct tc_err *err)
{
	struct dupscan ds = { buf, len, 0 };

	if (count_members(root) == text_members_n)
		return 0;
	if (find_dup(root, &ds, rules->root, err) < 0)
		return -1;
	return tc_err_set(err, TC_ERR_INVALID, "%s: an object has a duplicate key", rules->what);
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

/* json-c on the whole text; a top-level number or literal is complete only
 * at the end of input, which json-c learns from a final NUL byte. *o is
 * NULL both on error and for a top-level null. */
static enum json_tokener_error
tokenize(const char *buf, size_t len, int depth, struct json_object **o, size_t *end)
{
	struct json_tokener *tok = XCHECK(json_tokener_new_ex(depth));
	enum json_tokener_error je;

	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	*o = json_tokener_parse_ex(tok, buf, (int)len);
	je = json_tokener_get_error(tok);
	*end = json_tokener_get_parse_end(tok);
	if (*o == NULL && je == json_tokener_continue) {
		*o = json_tokener_parse_ex(tok, "", 1);
		if ((je = json_tokener_get_error(tok)) != json_tokener_success)
			je = json_tokener_continue;	/* a container or string left open */
		*end = len;
	}
	json_tokener_free(tok);
	return je;
}

int
tc_json_parse(const char *buf, size_t len, const struct tc_json_rules *rules,
	      struct json_object **root, struct tc_err *err)
{
	const char *what = rules->what;
	char cap[32], p[TC_JSON_PATH_MAX];
	struct json_object *o;
	enum json_tokener_error je;
	size_t members = 0, end, i;

	if (buf == NULL || len == 0)
		return tc_err_set(err, TC_ERR_INVALID, "%s: is empty", what);
	if (len > rules->max_len)
		return tc_err_set(err, TC_ERR_INVALID, "%s: is larger than %s (%zu bytes)",
				  what, size_text(rules->max_len, cap, sizeof(cap)), len);
	for (i = 0; i < len && is_ws(buf[i]); i++)
		;
	if (i == len)
		return tc_err_set(err, TC_ERR_INVALID, "%s: is empty (only whitespace)", what);
	if (prescan(buf, len, rules, len, NULL, &members, err) < 0)
		return -1;
	/* json-c counts a scalar inside the innermost container as one more
	 * level; the prescan has already refused too many containers. */
	je = tokenize(buf, len, rules->max_depth + 1, &o, &end);
	if (je == json_tokener_continue)
		return tc_err_set(err, TC_ERR_INVALID, "%s: is truncated (JSON ends early)", what);
	if (je != json_tokener_success) {
		prescan(buf, len, rules, end, p, &members, err);
		return tc_err_set(err, TC_ERR_INVALID, "%s: is not valid JSON: %s at byte %zu",
				  p, json_tokener_error_desc(je), end);
	}
	for (; end < len; end++)
		if (!is_ws(buf[end])) {
			json_object_put(o);
			return tc_err_set(err, TC_ERR_INVALID, "%s: trailing data after the JSON value at byte %zu",
					  what, end);
		}
	if (!json_object_is_type(o, json_type_object)) {
		tc_err_set(err, TC_ERR_INVALID, "%s: is %s, expected an object", what, tc_json_type_name(o));
		json_object_put(o);
		return -1;
	}
	if (check_dups(o, buf, len, members, rules, err) < 0) {
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
