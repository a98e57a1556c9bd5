/* doc.c: a fetched config document (SORACOM-compatible or native schema) ->
 * this device's validated tunnel specs. Strict on purpose: json-c alone is
 * lenient (trailing garbage, duplicate keys, NaN, coercing getters), so every
 * leniency is closed here, and every value's JSON type is checked before use. */
#include <arpa/inet.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "doc.h"

#define PATH_MAX_LEN 384	/* JSON paths in messages: ids and keys are echoed at most 64 chars */
#define ECHO_MAX TC_ECHO_MAX
#define PFP_MAX 600		/* a legitimate portForwardParam is < 400 chars */

/* ---- messages ---- */

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

/* path + "." + key (or just key at the top). */
static void
path_key(char out[PATH_MAX_LEN], const char *path, const char *key)
{
	char e[ECHO_MAX + 4];

	mark_cut(out, PATH_MAX_LEN, snprintf(out, PATH_MAX_LEN, "%s%s%s", path, path[0] ? "." : "", tc_echo(key, e)));
}

static const char *
type_name(struct json_object *o)
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

static int
want_type(struct json_object *o, enum json_type t, const char *path, const char *what, struct tc_err *err)
{
	if (json_object_is_type(o, t))
		return 0;
	return tc_err_set(err, TC_ERR_INVALID, "%s: is %s, expected %s", path, type_name(o), what);
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
 * bounded by TC_DOC_DEPTH. */
static int
check_dups(struct json_object *root, size_t text_members, const char *what, struct tc_err *err)
{
	if (count_members(root) != text_members)
		return tc_err_set(err, TC_ERR_INVALID, "%s: an object has a duplicate key", what);
	return 0;
}

/* Parse buf[0..len) strictly into an object tree the caller puts. */
static int
parse_strict(const char *buf, size_t len, struct json_object **root, const char *what, struct tc_err *err)
{
	struct json_tokener *tok;
	struct json_object *o;
	enum json_tokener_error je;
	size_t members = 0, end;

	if (buf == NULL || len == 0)
		return tc_err_set(err, TC_ERR_INVALID, "%s: is empty", what);
	if (len > TC_DOC_MAX)
		return tc_err_set(err, TC_ERR_INVALID, "%s: is larger than 1 MiB (%zu bytes)", what, len);
	if (prescan(buf, len, &members, what, err) < 0)
		return -1;
	tok = json_tokener_new_ex(TC_DOC_DEPTH);
	if (tok == NULL)
		return tc_err_set(err, TC_ERR_RUNTIME, "%s: out of memory", what);
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

/* Every key of obj must be in allowed (NULL-terminated). */
static int
only_keys(struct json_object *obj, const char *const *allowed, const char *path, struct tc_err *err)
{
	char p[PATH_MAX_LEN];
	size_t i;

	json_object_object_foreach(obj, k, v) {
		(void)v;
		for (i = 0; allowed[i] != NULL; i++)
			if (strcmp(k, allowed[i]) == 0)
				break;
		if (allowed[i] == NULL) {
			path_key(p, path, k);
			return tc_err_set(err, TC_ERR_INVALID, "%s: unknown key", p);
		}
	}
	return 0;
}

/* *o = obj[key]; 1 if present, 0 if absent and optional, -1 if absent and required. */
static int
member(struct json_object *obj, const char *key, int required, struct json_object **o,
       const char *path, struct tc_err *err)
{
	char p[PATH_MAX_LEN];

	if (json_object_object_get_ex(obj, key, o))
		return 1;
	if (!required)
		return 0;
	path_key(p, path, key);
	return tc_err_set(err, TC_ERR_INVALID, "%s: is missing", p);
}

/* A JSON string without NUL; its bytes (NOT copied) via *s, *n. */
static int
get_string(struct json_object *o, const char **s, size_t *n, const char *path, struct tc_err *err)
{
	if (want_type(o, json_type_string, path, "a string", err) < 0)
		return -1;
	*s = json_object_get_string(o);
	*n = (size_t)json_object_get_string_len(o);
	if (strlen(*s) != *n)
		return tc_err_set(err, TC_ERR_INVALID, "%s: contains a NUL character", path);
	return 0;
}

/* A string field copied into buf, then checked by valid() (may be NULL). */
static int
str_field(struct json_object *obj, const char *key, int required, char *buf, size_t bufsz,
	  int (*valid)(const char *), const char *thing, const char *path, struct tc_err *err)
{
	char p[PATH_MAX_LEN], e[ECHO_MAX + 4];
	struct json_object *o;
	const char *s;
	size_t n;
	int r;

	if ((r = member(obj, key, required, &o, path, err)) <= 0)
		return r;
	path_key(p, path, key);
	if (get_string(o, &s, &n, p, err) < 0)
		return -1;
	if (n >= bufsz || (valid != NULL && !valid(s)))
		return tc_err_set(err, TC_ERR_INVALID, "%s: '%s' is not %s", p, tc_echo(s, e), thing);
	memcpy(buf, s, n + 1);
	return 1;
}

/* An integer field in [lo, hi]; never coerced from another type. */
static int
int_field(struct json_object *obj, const char *key, int required, int64_t lo, int64_t hi,
	  int64_t *out, const char *thing, const char *path, struct tc_err *err)
{
	char p[PATH_MAX_LEN];
	struct json_object *o;
	int64_t v;
	int r;

	if ((r = member(obj, key, required, &o, path, err)) <= 0)
		return r;
	path_key(p, path, key);
	if (!json_object_is_type(o, json_type_int))
		return tc_err_set(err, TC_ERR_INVALID, "%s: is %s, expected %s (a JSON integer %lld-%lld)",
				  p, type_name(o), thing, (long long)lo, (long long)hi);
	v = json_object_get_int64(o);
	if (v < lo || v > hi)
		return tc_err_set(err, TC_ERR_INVALID, "%s: %lld is not %s (%lld-%lld)",
				  p, (long long)v, thing, (long long)lo, (long long)hi);
	*out = v;
	return 1;
}

static int
port_field(struct json_object *obj, const char *key, int required, int allow_zero, uint16_t *port,
	   const char *path, struct tc_err *err)
{
	int64_t v;
	int r = int_field(obj, key, required, allow_zero ? 0 : 1, 65535, &v, "a port", path, err);

	if (r == 1)
		*port = (uint16_t)v;
	return r;
}

static int
obj_field(struct json_object *obj, const char *key, int required, struct json_object **o,
	  const char *const *allowed, char p[PATH_MAX_LEN], const char *path, struct tc_err *err)
{
	int r;

	if ((r = member(obj, key, required, o, path, err)) <= 0)
		return r;
	path_key(p, path, key);
	if (want_type(*o, json_type_object, p, "an object", err) < 0)
		return -1;
	if (allowed != NULL && only_keys(*o, allowed, p, err) < 0)
		return -1;
	return 1;
}

static int
key_field(struct json_object *obj, const char *key, struct tc_spec *s, const char *path, struct tc_err *err)
{
	char p[PATH_MAX_LEN];
	struct json_object *o;
	const char *k;
	size_t n;

	if (member(obj, key, 1, &o, path, err) < 0)
		return -1;
	path_key(p, path, key);
	if (get_string(o, &k, &n, p, err) < 0)
		return -1;
	tc_spec_clear(s);
	return tc_key_normalize(k, n, &s->key, &s->key_len, p, err);
}

/* ---- native schema ---- */

static int
native_server(struct json_object *t, struct tc_spec *s, const char *path, struct tc_err *err)
{
	static const char *const keys[] = { "host", "port", "user", "host_key", NULL };
	char p[PATH_MAX_LEN];
	struct json_object *o;

	if (obj_field(t, "server", 1, &o, keys, p, path, err) < 0)
		return -1;
	if (str_field(o, "host", 1, s->host, sizeof(s->host), tc_valid_host, "a host name or address", p, err) < 0 ||
	    str_field(o, "user", 1, s->user, sizeof(s->user), tc_valid_user, "a user name", p, err) < 0 ||
	    port_field(o, "port", 0, 0, &s->port, p, err) < 0 ||
	    str_field(o, "host_key", 0, s->host_key, sizeof(s->host_key), tc_valid_host_key,
		      "a host key ('TYPE BASE64')", p, err) < 0)
		return -1;
	return 0;
}

static int
native_ends(struct json_object *t, struct tc_spec *s, const char *path, struct tc_err *err)
{
	static const char *const rkeys[] = { "bind", "port", NULL };
	static const char *const tkeys[] = { "host", "port", NULL };
	char p[PATH_MAX_LEN];
	struct json_object *o;

	if (obj_field(t, "remote", 1, &o, rkeys, p, path, err) < 0 ||
	    str_field(o, "bind", 0, s->remote_bind, sizeof(s->remote_bind), tc_valid_host,
		      "an address", p, err) < 0 ||
	    port_field(o, "port", 1, 1, &s->remote_port, p, err) < 0)
		return -1;
	if (obj_field(t, "target", 1, &o, tkeys, p, path, err) < 0 ||
	    str_field(o, "host", 1, s->target_host, sizeof(s->target_host), tc_valid_host,
		      "a host name or address", p, err) < 0 ||
	    port_field(o, "port", 1, 0, &s->target_port, p, err) < 0)
		return -1;
	return 0;
}

static int
native_via(struct json_object *t, struct tc_spec *s, const char *path, struct tc_err *err)
{
	char via[8] = "direct", p[PATH_MAX_LEN];
	int r;

	if (str_field(t, "via", 0, via, sizeof(via), NULL, "direct or dnat", path, err) < 0)
		return -1;
	path_key(p, path, "via");
	if (strcmp(via, "direct") == 0)
		s->via = TC_VIA_DIRECT;
	else if (strcmp(via, "dnat") == 0)
		s->via = TC_VIA_DNAT;
	else
		return tc_err_set(err, TC_ERR_INVALID, "%s: '%s' is not direct or dnat", p, via);
	r = port_field(t, "local_port", s->via == TC_VIA_DNAT, 0, &s->local_port, path, err);
	if (r < 0)
		return -1;
	if (r == 1 && s->via == TC_VIA_DIRECT) {
		path_key(p, path, "local_port");
		return tc_err_set(err, TC_ERR_INVALID, "%s: is only allowed with \"via\": \"dnat\"", p);
	}
	return 0;
}

/* "timeout": a duration string ("1h", "90") or a positive integer of seconds. */
static int
native_timeout(struct json_object *t, struct tc_spec *s, const char *path, struct tc_err *err)
{
	char p[PATH_MAX_LEN];
	struct json_object *o;
	const char *d;
	size_t n;
	int64_t v;

	if (!json_object_object_get_ex(t, "timeout", &o))
		return 0;
	path_key(p, path, "timeout");
	if (json_object_is_type(o, json_type_int))
		return int_field(t, "timeout", 1, 1, 365LL * 86400, &s->timeout_s, "a duration in seconds",
				 path, err) < 0 ? -1 : 0;
	if (!json_object_is_type(o, json_type_string))
		return tc_err_set(err, TC_ERR_INVALID,
				  "%s: is %s, expected a duration (\"90s\", \"30m\", \"2h\", \"1d\") or seconds",
				  p, type_name(o));
	if (get_string(o, &d, &n, p, err) < 0 || tc_parse_duration(d, &v, p, err) < 0)
		return -1;
	s->timeout_s = v;
	return 0;
}

static int
native_keepalive(struct json_object *t, struct tc_spec *s, const char *path, struct tc_err *err)
{
	static const char *const keys[] = { "interval", "count", NULL };
	char p[PATH_MAX_LEN];
	struct json_object *o;
	int64_t v;
	int r;

	if ((r = obj_field(t, "keepalive", 0, &o, keys, p, path, err)) <= 0)
		return r;
	if ((r = int_field(o, "interval", 0, 1, 3600, &v, "an interval in seconds", p, err)) < 0)
		return -1;
	if (r == 1)
		s->keepalive_interval = (unsigned)v;
	if ((r = int_field(o, "count", 0, 1, 100, &v, "a count", p, err)) < 0)
		return -1;
	if (r == 1)
		s->keepalive_count = (unsigned)v;
	return 0;
}

static int
native_tunnel(struct json_object *t, struct tc_spec *s, const char *path, struct tc_err *err)
{
	static const char *const keys[] = { "name", "server", "remote", "target", "via", "local_port",
		"private_key", "timeout", "keepalive", NULL };
	char prefix[PATH_MAX_LEN + 2];

	if (want_type(t, json_type_object, path, "an object", err) < 0 ||
	    only_keys(t, keys, path, err) < 0)
		return -1;
	if (str_field(t, "name", 1, s->name, sizeof(s->name), tc_valid_name,
		      "a name ([a-z0-9][a-z0-9_-]{0,31})", path, err) < 0 ||
	    native_server(t, s, path, err) < 0 || native_ends(t, s, path, err) < 0 ||
	    native_via(t, s, path, err) < 0 || native_timeout(t, s, path, err) < 0 ||
	    native_keepalive(t, s, path, err) < 0 || key_field(t, "private_key", s, path, err) < 0)
		return -1;
	mark_cut(prefix, sizeof(prefix), snprintf(prefix, sizeof(prefix), "%s.", path));
	return tc_spec_validate(s, prefix, err);
}

static int
add_specs(struct tc_doc_result *out, size_t n, struct tc_err *err)
{
	size_t i;

	out->specs = calloc(n ? n : 1, sizeof(*out->specs));
	if (out->specs == NULL)
		return tc_err_set(err, TC_ERR_RUNTIME, "out of memory");
	for (i = 0; i < n; i++)
		tc_spec_init(&out->specs[i]);
	return 0;
}

static int
native_device(struct json_object *dev, struct tc_doc_result *out, const char *path, struct tc_err *err)
{
	static const char *const keys[] = { "tunnels", NULL };
	char p[PATH_MAX_LEN], tp[PATH_MAX_LEN];
	struct json_object *arr;
	size_t i, j, n;

	if (want_type(dev, json_type_object, path, "an object", err) < 0 || only_keys(dev, keys, path, err) < 0)
		return -1;
	if (member(dev, "tunnels", 1, &arr, path, err) < 0)
		return -1;
	path_key(p, path, "tunnels");
	if (want_type(arr, json_type_array, p, "an array", err) < 0)
		return -1;
	n = json_object_array_length(arr);
	if (n > TC_DOC_TUNNELS_MAX)
		return tc_err_set(err, TC_ERR_INVALID, "%s: %zu tunnels, at most %d are allowed",
				  p, n, TC_DOC_TUNNELS_MAX);
	if (add_specs(out, n, err) < 0)
		return -1;
	out->n = n;
	for (i = 0; i < n; i++) {
		mark_cut(tp, sizeof(tp), snprintf(tp, sizeof(tp), "%s[%zu]", p, i));
		if (native_tunnel(json_object_array_get_idx(arr, i), &out->specs[i], tp, err) < 0)
			return -1;
		for (j = 0; j < i; j++)
			if (strcmp(out->specs[j].name, out->specs[i].name) == 0)
				return tc_err_set(err, TC_ERR_INVALID, "%s.name: '%s' is also the name of tunnels[%zu]",
						  tp, out->specs[i].name, j);
	}
	return 0;
}

/* Other devices' entries: only the shape, so their typos do not stop us. */
static int
native_shape(struct json_object *devices, const char *path, struct tc_err *err)
{
	char p[PATH_MAX_LEN], tp[PATH_MAX_LEN];
	struct json_object *arr;

	json_object_object_foreach(devices, k, v) {
		path_key(p, path, k);
		if (want_type(v, json_type_object, p, "an object", err) < 0)
			return -1;
		if (!json_object_object_get_ex(v, "tunnels", &arr))
			continue;
		path_key(tp, p, "tunnels");
		if (want_type(arr, json_type_array, tp, "an array", err) < 0)
			return -1;
	}
	return 0;
}

static int
parse_native(struct json_object *root, const char *id, struct tc_doc_result *out, struct tc_err *err)
{
	static const char *const keys[] = { "version", "devices", NULL };
	char p[PATH_MAX_LEN];
	struct json_object *devices, *dev;
	int64_t version;

	out->schema = TC_SCHEMA_NATIVE;
	if (only_keys(root, keys, "", err) < 0 ||
	    int_field(root, "version", 1, 1, 1, &version, "a supported version", "", err) < 0 ||
	    obj_field(root, "devices", 1, &devices, NULL, p, "", err) < 0 ||
	    native_shape(devices, "devices", err) < 0)
		return -1;
	if (id == NULL || !json_object_object_get_ex(devices, id, &dev))
		return 0;
	out->has_device = 1;
	path_key(p, "devices", id);
	return native_device(dev, out, p, err);
}

/* ---- SORACOM schema ---- */

static int
parse_soracom(struct json_object *root, const char *id, struct tc_doc_result *out, struct tc_err *err)
{
	static const char *const top[] = { "ssh", NULL };
	static const char *const sshk[] = { "imsis", NULL };
	static const char *const devk[] = { "portForwardParam", "privateKey", NULL };
	char p[PATH_MAX_LEN], dp[PATH_MAX_LEN], fp[PATH_MAX_LEN], prefix[PATH_MAX_LEN + 2];
	struct json_object *ssh, *imsis, *dev, *o;
	struct tc_spec *s;
	const char *pfp;
	size_t n;

	out->schema = TC_SCHEMA_SORACOM;
	if (only_keys(root, top, "", err) < 0 ||
	    obj_field(root, "ssh", 1, &ssh, sshk, p, "", err) < 0 ||
	    obj_field(ssh, "imsis", 1, &imsis, NULL, p, "ssh", err) < 0)
		return -1;
	{
		json_object_object_foreach(imsis, k, v) {
			path_key(dp, p, k);
			if (want_type(v, json_type_object, dp, "an object", err) < 0)
				return -1;
		}
	}
	if (id == NULL || !json_object_object_get_ex(imsis, id, &dev))
		return 0;
	out->has_device = 1;
	path_key(dp, p, id);
	if (only_keys(dev, devk, dp, err) < 0 || add_specs(out, 1, err) < 0)
		return -1;
	out->n = 1;
	s = &out->specs[0];
	memcpy(s->name, "ssh", 4);
	if (member(dev, "portForwardParam", 1, &o, dp, err) < 0)
		return -1;
	path_key(fp, dp, "portForwardParam");
	if (get_string(o, &pfp, &n, fp, err) < 0 || tc_parse_pfp(pfp, s, fp, err) < 0)
		return -1;
	if (key_field(dev, "privateKey", s, dp, err) < 0)
		return -1;
	mark_cut(prefix, sizeof(prefix), snprintf(prefix, sizeof(prefix), "%s.", dp));
	return tc_spec_validate(s, prefix, err);
}

int
tc_doc_parse(const char *buf, size_t len, const char *id, struct tc_doc_result *out, struct tc_err *err)
{
	struct json_object *root;
	int r;

	memset(out, 0, sizeof(*out));
	tc_echo(id ? id : "", out->id);
	if (parse_strict(buf, len, &root, "document", err) < 0)
		return -1;
	if (json_object_object_get_ex(root, "ssh", NULL))
		r = parse_soracom(root, id, out, err);
	else if (json_object_object_get_ex(root, "version", NULL) ||
		 json_object_object_get_ex(root, "devices", NULL))
		r = parse_native(root, id, out, err);
	else
		r = tc_err_set(err, TC_ERR_INVALID, "document: is neither SORACOM ({\"ssh\": ...}) "
			       "nor native ({\"version\": 1, \"devices\": ...})");
	json_object_put(root);
	if (r < 0)
		tc_doc_result_free(out);
	return r;
}

void
tc_doc_result_free(struct tc_doc_result *r)
{
	size_t i;

	if (r == NULL)
		return;
	for (i = 0; r->specs != NULL && i < r->n; i++)
		tc_spec_clear(&r->specs[i]);
	free(r->specs);
	memset(r, 0, sizeof(*r));
}

int
tc_doc_imsi(const char *buf, size_t len, char *imsi, size_t imsisz, struct tc_err *err)
{
	struct json_object *root, *o;
	const char *s;
	size_t n, i;
	int r = -1;

	if (parse_strict(buf, len, &root, "subscriber", err) < 0)
		return -1;
	if (member(root, "imsi", 1, &o, "subscriber", err) < 0 ||
	    get_string(o, &s, &n, "subscriber.imsi", err) < 0)
		goto out;
	for (i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			break;
	if (n < 5 || n > 15 || i != n) {
		char e[ECHO_MAX + 4];

		tc_err_set(err, TC_ERR_INVALID, "subscriber.imsi: '%s' is not an IMSI (5-15 digits)", tc_echo(s, e));
		goto out;
	}
	if (n >= imsisz) {
		tc_err_set(err, TC_ERR_INVALID, "subscriber.imsi: no room for %zu digits", n);
		goto out;
	}
	memcpy(imsi, s, n + 1);
	r = 0;
out:
	json_object_put(root);
	return r;
}

/* ---- portForwardParam ---- */

/* Split s at single spaces into at most max tokens (copied into buf).
 * Empty tokens (double, leading or trailing spaces) are an error. */
static int
split_tokens(const char *s, char *buf, size_t bufsz, char **tok, int max)
{
	size_t n = strlen(s), i;
	int nt = 0;

	if (n == 0 || n >= bufsz)
		return -1;
	memcpy(buf, s, n + 1);
	tok[nt++] = buf;
	for (i = 0; i < n; i++) {
		if (buf[i] != ' ')
			continue;
		buf[i] = '\0';
		if (nt == max)
			return -1;
		tok[nt++] = buf + i + 1;
	}
	for (i = 0; i < (size_t)nt; i++)
		if (tok[i][0] == '\0')
			return -1;
	return nt;
}

/* Bracketed IPv6 in BIND/THOST is refused: SORACOM's grammar is colon-split
 * and existing fleets forward to localhost or LAN IPv4 hosts; refusing keeps
 * the parse unambiguous. */
static int
pfp_forward(char *fwd, struct tc_spec *t, const char *what, struct tc_err *err)
{
	char w[PATH_MAX_LEN + 32], e[ECHO_MAX + 4];
	unsigned char a4[4];
	char *part[5];
	int np = 0, i;

	tc_echo(fwd, e);	/* before the split below cuts it up */
	part[np++] = fwd;
	for (; *fwd != '\0'; fwd++)
		if (*fwd == ':') {
			if (np == 4)
				goto bad;
			*fwd = '\0';
			part[np++] = fwd + 1;
		}
	if (np < 3)
		goto bad;
	i = 0;
	if (np == 4) {
		if (!tc_valid_host(part[0]) || strlen(part[0]) >= sizeof(t->remote_bind))
			return tc_err_set(err, TC_ERR_INVALID, "%s: bind address '%s' is not an address",
					  what, tc_echo(part[0], e));
		if (inet_pton(AF_INET, part[0], a4) == 1 && memcmp(a4, "\0\0\0\0", 4) == 0)
			return tc_err_set(err, TC_ERR_INVALID, "%s: bind address '%s' is a wildcard: "
					  "the port would be reachable by every host reaching the server",
					  what, part[0]);
		memcpy(t->remote_bind, part[0], strlen(part[0]) + 1);
		i = 1;
	}
	mark_cut(w, sizeof(w), snprintf(w, sizeof(w), "%s: remote port", what));
	if (tc_parse_port(part[i], 1, &t->remote_port, w, err) < 0)
		return -1;
	if (!tc_valid_host(part[i + 1]) || strlen(part[i + 1]) >= sizeof(t->target_host))
		return tc_err_set(err, TC_ERR_INVALID, "%s: target host '%s' is not a host name or address",
				  what, tc_echo(part[i + 1], e));
	memcpy(t->target_host, part[i + 1], strlen(part[i + 1]) + 1);
	mark_cut(w, sizeof(w), snprintf(w, sizeof(w), "%s: target port", what));
	return tc_parse_port(part[i + 2], 0, &t->target_port, w, err);
bad:
	return tc_err_set(err, TC_ERR_INVALID, "%s: '%s' is not [BIND:]RPORT:THOST:TPORT", what, e);
}

int
tc_parse_pfp(const char *param, struct tc_spec *s, const char *what, struct tc_err *err)
{
	static const char grammar[] = "[BIND:]RPORT:THOST:TPORT [-p PORT] USER@HOST";
	char buf[PFP_MAX + 1], w[PATH_MAX_LEN + 32], e[ECHO_MAX + 4];
	char *tok[4], *dest;
	struct tc_spec t;
	int nt;

	if (param == NULL)
		param = "";
	nt = split_tokens(param, buf, sizeof(buf), tok, 4);
	if (nt != 2 && nt != 4)
		return tc_err_set(err, TC_ERR_INVALID, "%s: '%s' is not %s (single spaces between parts)",
				  what, tc_echo(param, e), grammar);
	tc_spec_init(&t);
	if (pfp_forward(tok[0], &t, what, err) < 0)
		return -1;
	if (nt == 4) {
		if (strcmp(tok[1], "-p") != 0)
			return tc_err_set(err, TC_ERR_INVALID, "%s: '%s' is not -p (%s)",
					  what, tc_echo(tok[1], e), grammar);
		mark_cut(w, sizeof(w), snprintf(w, sizeof(w), "%s: server port", what));
		if (tc_parse_port(tok[2], 0, &t.port, w, err) < 0)
			return -1;
	}
	dest = tok[nt - 1];
	if (strchr(dest, '@') == NULL)
		return tc_err_set(err, TC_ERR_INVALID, "%s: '%s' is not USER@HOST", what, tc_echo(dest, e));
	{
		char *at = strchr(dest, '@');

		*at = '\0';
		if (!tc_valid_user(dest))
			return tc_err_set(err, TC_ERR_INVALID, "%s: user '%s' is not a user name", what, tc_echo(dest, e));
		if (!tc_valid_host(at + 1))
			return tc_err_set(err, TC_ERR_INVALID, "%s: server host '%s' is not a host name or address",
					  what, tc_echo(at + 1, e));
		memcpy(t.user, dest, strlen(dest) + 1);
		memcpy(t.host, at + 1, strlen(at + 1) + 1);
	}
	memcpy(s->user, t.user, sizeof(s->user));
	memcpy(s->host, t.host, sizeof(s->host));
	s->port = t.port;
	memcpy(s->remote_bind, t.remote_bind, sizeof(s->remote_bind));
	s->remote_port = t.remote_port;
	memcpy(s->target_host, t.target_host, sizeof(s->target_host));
	s->target_port = t.target_port;
	s->via = TC_VIA_DIRECT;
	s->local_port = 0;
	return 0;
}
