/* doc.c: a fetched config document (SORACOM-compatible or native schema) ->
 * this device's validated tunnel specs. The JSON itself is parsed strictly
 * by json_strict.c; this file knows the two schemas. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "doc.h"
#include "json_strict.h"
#include "key.h"
#include "pfp.h"
#include "xalloc.h"

#define PATH_MAX_LEN TC_JSON_PATH_MAX

static const struct tc_json_rules doc_rules = { "document", "", TC_DOC_MAX, TC_DOC_DEPTH };
static const struct tc_json_rules subscriber_rules = { "subscriber", "subscriber", TC_DOC_MAX, TC_DOC_DEPTH };

/* path + ".": the prefix of tc_spec_validate's field names. A path is
 * shorter than PATH_MAX_LEN, so this always fits. */
static void
prefix_of(char out[PATH_MAX_LEN + 2], const char *path)
{
	int r = snprintf(out, PATH_MAX_LEN + 2, "%s.", path);

	if (r < 0 || (size_t)r >= PATH_MAX_LEN + 2)
		out[0] = '\0';
}

static int
port_field(struct json_object *obj, const char *key, int required, int allow_zero, uint16_t *port,
	   const char *path, struct tc_err *err)
{
	int64_t v;
	int r = tc_json_int_field(obj, key, required, allow_zero ? 0 : 1, 65535, &v, "a port", path, err);

	if (r == 1)
		*port = (uint16_t)v;
	return r;
}

/* The private key, optional: without it the device's own key is used. */
static int
key_field(struct json_object *obj, const char *key, struct tc_spec *s, const char *path, struct tc_err *err)
{
	char p[PATH_MAX_LEN];
	struct json_object *o;
	const char *k;
	size_t n;
	int r;

	if ((r = tc_json_member(obj, key, 0, &o, path, err)) <= 0)
		return r;
	tc_json_path(p, path, key);
	if (tc_json_string(o, &k, &n, p, err) < 0)
		return -1;
	tc_spec_clear(s);
	return tc_key_normalize(k, n, &s->key, &s->key_len, p, err);
}

/* server.host_key: as copied from a .pub file or ssh-keyscan, kept as
 * "TYPE BASE64". */
static int
host_key_field(struct json_object *obj, struct tc_spec *s, const char *path, struct tc_err *err)
{
	char p[PATH_MAX_LEN];
	struct json_object *o;
	const char *k;
	size_t n;
	int r;

	if ((r = tc_json_member(obj, "host_key", 0, &o, path, err)) <= 0)
		return r;
	tc_json_path(p, path, "host_key");
	if (tc_json_string(o, &k, &n, p, err) < 0)
		return -1;
	return tc_host_key_normalize(k, s->host_key, p, err);
}

/* "certificate": an OpenSSH user certificate line, kept as "TYPE BASE64". */
static int
cert_field(struct json_object *obj, struct tc_spec *s, const char *path, struct tc_err *err)
{
	char p[PATH_MAX_LEN];
	struct json_object *o;
	const char *k;
	size_t n;
	int r;

	if ((r = tc_json_member(obj, "certificate", 0, &o, path, err)) <= 0)
		return r;
	tc_json_path(p, path, "certificate");
	if (tc_json_string(o, &k, &n, p, err) < 0)
		return -1;
	return tc_cert_normalize(k, s->certificate, p, err);
}

/* ---- native schema ---- */

static int
native_server(struct json_object *t, struct tc_spec *s, const char *path, struct tc_err *err)
{
	static const char *const keys[] = { "host", "port", "user", "host_key", "gate", NULL };
	char p[PATH_MAX_LEN];
	struct json_object *o;

	if (tc_json_obj_field(t, "server", 1, &o, keys, p, path, err) < 0)
		return -1;
	if (tc_json_str_field(o, "host", 1, s->host, sizeof(s->host), tc_valid_host,
			      "a host name or address", p, err) < 0 ||
	    tc_json_str_field(o, "user", 1, s->user, sizeof(s->user), tc_valid_user,
			      "a user name", p, err) < 0 ||
	    port_field(o, "port", 0, 0, &s->port, p, err) < 0 ||
	    host_key_field(o, s, p, err) < 0 ||
	    tc_json_bool_field(o, "gate", 0, &s->gate, p, err) < 0)
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

	if (tc_json_obj_field(t, "remote", 1, &o, rkeys, p, path, err) < 0 ||
	    tc_json_str_field(o, "bind", 0, s->remote_bind, sizeof(s->remote_bind), tc_valid_host,
			      "an address", p, err) < 0 ||
	    port_field(o, "port", 1, 1, &s->remote_port, p, err) < 0)
		return -1;
	if (tc_json_obj_field(t, "target", 1, &o, tkeys, p, path, err) < 0 ||
	    tc_json_str_field(o, "host", 1, s->target_host, sizeof(s->target_host), tc_valid_host,
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

	if (tc_json_str_field(t, "via", 0, via, sizeof(via), NULL, "direct or dnat", path, err) < 0)
		return -1;
	tc_json_path(p, path, "via");
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
		tc_json_path(p, path, "local_port");
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
	tc_json_path(p, path, "timeout");
	if (json_object_is_type(o, json_type_int))
		return tc_json_int_field(t, "timeout", 1, 1, 365LL * 86400, &s->timeout_s,
					 "a duration in seconds", path, err) < 0 ? -1 : 0;
	if (!json_object_is_type(o, json_type_string))
		return tc_err_set(err, TC_ERR_INVALID,
				  "%s: is %s, expected a duration (\"90s\", \"30m\", \"2h\", \"1d\") or seconds",
				  p, tc_json_type_name(o));
	if (tc_json_string(o, &d, &n, p, err) < 0 || tc_parse_duration(d, &v, p, err) < 0)
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

	if ((r = tc_json_obj_field(t, "keepalive", 0, &o, keys, p, path, err)) <= 0)
		return r;
	if ((r = tc_json_int_field(o, "interval", 0, 1, TC_KEEPALIVE_INTERVAL_MAX, &v,
				   "an interval in seconds", p, err)) < 0)
		return -1;
	if (r == 1)
		s->keepalive_interval = (unsigned)v;
	if ((r = tc_json_int_field(o, "count", 0, 1, TC_KEEPALIVE_COUNT_MAX, &v, "a count", p, err)) < 0)
		return -1;
	if (r == 1)
		s->keepalive_count = (unsigned)v;
	return 0;
}

static int
native_tunnel(struct json_object *t, struct tc_spec *s, const char *path, struct tc_err *err)
{
	static const char *const keys[] = { "name", "server", "remote", "target", "via", "local_port",
		"private_key", "certificate", "timeout", "keepalive", NULL };
	char prefix[PATH_MAX_LEN + 2];

	if (tc_json_want(t, json_type_object, "an object", path, err) < 0 ||
	    tc_json_only_keys(t, keys, path, err) < 0)
		return -1;
	if (tc_json_str_field(t, "name", 1, s->name, sizeof(s->name), tc_valid_name,
			      "a name ([a-z0-9][a-z0-9_-]{0,31})", path, err) < 0 ||
	    native_server(t, s, path, err) < 0 || native_ends(t, s, path, err) < 0 ||
	    native_via(t, s, path, err) < 0 || native_timeout(t, s, path, err) < 0 ||
	    native_keepalive(t, s, path, err) < 0 || key_field(t, "private_key", s, path, err) < 0 ||
	    cert_field(t, s, path, err) < 0)
		return -1;
	prefix_of(prefix, path);
	return tc_spec_validate(s, prefix, err);
}

static void
add_specs(struct tc_doc_result *out, size_t n)
{
	size_t i;

	out->specs = xcalloc(n ? n : 1, sizeof(*out->specs));
	for (i = 0; i < n; i++)
		tc_spec_init(&out->specs[i]);
}

/* user@host:port, [v6]:port, for a message. */
static const char *
server_text(const struct tc_spec *s, char *buf, size_t bufsz)
{
	int v6 = strchr(s->host, ':') != NULL;
	int r = snprintf(buf, bufsz, "%s%s%s%s%s:%u", s->user, s->user[0] ? "@" : "", v6 ? "[" : "", s->host,
			 v6 ? "]" : "", (unsigned)s->port);

	return r > 0 && (size_t)r < bufsz ? buf : s->host;
}

/* Tunnel i of a device against the ones before it: a name, a dnat local
 * port or a remote listen (server host and port, bind, remote port) used
 * twice would make one of them fail for as long as both run: the server
 * or the local firewall can give the port to only one. Remote port 0 is
 * the server's to choose, so it never clashes. */
static int
device_clash(const struct tc_spec *specs, size_t i, const char *tp, struct tc_err *err)
{
	const struct tc_spec *t = &specs[i], *u;
	char srv[TC_USER_MAX + TC_HOST_MAX + 12];
	size_t j;

	for (j = 0; j < i; j++) {
		u = &specs[j];
		if (strcmp(u->name, t->name) == 0)
			return tc_err_set(err, TC_ERR_INVALID, "%s.name: '%s' is also the name of tunnels[%zu]",
					  tp, t->name, j);
		if (t->via == TC_VIA_DNAT && u->via == TC_VIA_DNAT && t->local_port == u->local_port)
			return tc_err_set(err, TC_ERR_INVALID, "%s.local_port: %u is also used by tunnels[%zu]",
					  tp, (unsigned)t->local_port, j);
		if (t->remote_port != 0 && t->remote_port == u->remote_port && t->port == u->port &&
		    tc_same_host(t->host, u->host) && tc_same_host(t->remote_bind, u->remote_bind))
			return tc_err_set(err, TC_ERR_INVALID, "%s.remote.port: %u on %s of %s is also used by tunnels[%zu]",
					  tp, (unsigned)t->remote_port, t->remote_bind,
					  server_text(t, srv, sizeof(srv)), j);
	}
	return 0;
}

static int
native_device(struct json_object *dev, struct tc_doc_result *out, const char *path, struct tc_err *err)
{
	static const char *const keys[] = { "tunnels", NULL };
	char p[PATH_MAX_LEN], tp[PATH_MAX_LEN];
	struct json_object *arr;
	size_t i, n;

	if (tc_json_want(dev, json_type_object, "an object", path, err) < 0 ||
	    tc_json_only_keys(dev, keys, path, err) < 0)
		return -1;
	if (tc_json_member(dev, "tunnels", 1, &arr, path, err) < 0)
		return -1;
	tc_json_path(p, path, "tunnels");
	if (tc_json_want(arr, json_type_array, "an array", p, err) < 0)
		return -1;
	n = json_object_array_length(arr);
	if (n > TC_DOC_TUNNELS_MAX)
		return tc_err_set(err, TC_ERR_INVALID, "%s: %zu tunnels, at most %d are allowed",
				  p, n, TC_DOC_TUNNELS_MAX);
	add_specs(out, n);
	out->n = n;
	for (i = 0; i < n; i++) {
		tc_json_path_idx(tp, p, i);
		if (native_tunnel(json_object_array_get_idx(arr, i), &out->specs[i], tp, err) < 0 ||
		    device_clash(out->specs, i, tp, err) < 0)
			return -1;
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
		tc_json_path(p, path, k);
		if (tc_json_want(v, json_type_object, "an object", p, err) < 0)
			return -1;
		if (!json_object_object_get_ex(v, "tunnels", &arr))
			continue;
		tc_json_path(tp, p, "tunnels");
		if (tc_json_want(arr, json_type_array, "an array", tp, err) < 0)
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
	if (tc_json_only_keys(root, keys, "", err) < 0 ||
	    tc_json_int_field(root, "version", 1, 1, 1, &version, "a supported version", "", err) < 0 ||
	    tc_json_obj_field(root, "devices", 1, &devices, NULL, p, "", err) < 0 ||
	    native_shape(devices, "devices", err) < 0)
		return -1;
	if (id == NULL || !json_object_object_get_ex(devices, id, &dev))
		return 0;
	out->has_device = 1;
	tc_json_path(p, "devices", id);
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
	if (tc_json_only_keys(root, top, "", err) < 0 ||
	    tc_json_obj_field(root, "ssh", 1, &ssh, sshk, p, "", err) < 0 ||
	    tc_json_obj_field(ssh, "imsis", 1, &imsis, NULL, p, "ssh", err) < 0)
		return -1;
	{
		json_object_object_foreach(imsis, k, v) {
			tc_json_path(dp, p, k);
			if (tc_json_want(v, json_type_object, "an object", dp, err) < 0)
				return -1;
		}
	}
	if (id == NULL || !json_object_object_get_ex(imsis, id, &dev))
		return 0;
	out->has_device = 1;
	tc_json_path(dp, p, id);
	if (tc_json_only_keys(dev, devk, dp, err) < 0)
		return -1;
	add_specs(out, 1);
	out->n = 1;
	s = &out->specs[0];
	memcpy(s->name, "ssh", 4);
	if (tc_json_member(dev, "portForwardParam", 1, &o, dp, err) < 0)
		return -1;
	tc_json_path(fp, dp, "portForwardParam");
	if (tc_json_string(o, &pfp, &n, fp, err) < 0 || tc_parse_pfp(pfp, s, fp, err) < 0)
		return -1;
	if (key_field(dev, "privateKey", s, dp, err) < 0)
		return -1;
	prefix_of(prefix, dp);
	return tc_spec_validate(s, prefix, err);
}

int
tc_doc_parse(const char *buf, size_t len, const char *id, struct tc_doc_result *out, struct tc_err *err)
{
	struct json_object *root;
	int r;

	memset(out, 0, sizeof(*out));
	tc_echo(id ? id : "", out->id);
	if (tc_json_parse(buf, len, &doc_rules, &root, err) < 0)
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

	if (tc_json_parse(buf, len, &subscriber_rules, &root, err) < 0)
		return -1;
	if (tc_json_member(root, "imsi", 1, &o, "subscriber", err) < 0 ||
	    tc_json_string(o, &s, &n, "subscriber.imsi", err) < 0)
		goto out;
	for (i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			break;
	if (n < 5 || n > 15 || i != n) {
		char e[TC_ECHO_MAX + 4];

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
