/* record.c: spec.json and run.json, through json-c, written atomically. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "record.h"
#include "state.h"
#include "jsonw.h"
#include "xalloc.h"

#define TC_RECORD_MAX (64 * 1024)

static const char *const state_names[] = {
	[TC_ST_STARTING] = "starting",
	[TC_ST_UP] = "up",
	[TC_ST_RETRYING] = "retrying",
	[TC_ST_EXPIRED] = "expired",
	[TC_ST_FAILED] = "failed",
	[TC_ST_REVOKED] = "revoked",
};

const char *
tc_tstate_name(enum tc_tstate st)
{
	if ((unsigned)st >= sizeof(state_names) / sizeof(state_names[0]))
		return "failed";
	return state_names[st];
}

static int
write_obj(int dirfd, const char *name, json_object *o, struct tc_err *err)
{
	const char *s;
	int r;

	s = XCHECK(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	r = tc_write_atomic(dirfd, name, s, strlen(s), 0600, (uid_t)-1, (gid_t)-1, err);
	json_object_put(o);
	return r;
}

static json_object *
read_obj(int dirfd, const char *name, struct tc_err *err)
{
	json_object *o;
	char *buf;
	size_t len;

	if (tc_read_file(dirfd, name, TC_RECORD_MAX, &buf, &len, err) < 0)
		return NULL;
	o = json_tokener_parse(buf);
	free(buf);
	if (!o || !json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		tc_err_set(err, TC_ERR_RUNTIME, "%s: corrupt", name);
		return NULL;
	}
	return o;
}

static void
get_str(json_object *o, const char *k, char *dst, size_t dstsz)
{
	json_object *v;
	int r;

	dst[0] = '\0';
	if (json_object_object_get_ex(o, k, &v) && json_object_is_type(v, json_type_string)) {
		r = snprintf(dst, dstsz, "%s", json_object_get_string(v));
		if (r < 0 || (size_t)r >= dstsz)
			dst[0] = '\0';
	}
}

static int64_t
get_int(json_object *o, const char *k)
{
	json_object *v;

	if (json_object_object_get_ex(o, k, &v) && json_object_is_type(v, json_type_int))
		return json_object_get_int64(v);
	return 0;
}

int
tc_record_write(int dirfd, const struct tc_record *r, struct tc_err *err)
{
	const struct tc_spec *s = &r->spec;
	json_object *o = XCHECK(json_object_new_object());

	tc_json_add_str(o, "name", s->name);
	tc_json_add_str(o, "user", s->user);
	tc_json_add_str(o, "host", s->host);
	tc_json_add_int(o, "port", s->port);
	tc_json_add_str(o, "host_key", s->host_key);
	tc_json_add_str(o, "remote_bind", s->remote_bind);
	tc_json_add_int(o, "remote_port", s->remote_port);
	tc_json_add_str(o, "target_host", s->target_host);
	tc_json_add_int(o, "target_port", s->target_port);
	tc_json_add_str(o, "via", s->via == TC_VIA_DNAT ? "dnat" : "direct");
	tc_json_add_int(o, "local_port", s->local_port);
	tc_json_add_int(o, "timeout_s", s->timeout_s);
	tc_json_add_int(o, "keepalive_interval", s->keepalive_interval);
	tc_json_add_int(o, "keepalive_count", s->keepalive_count);
	json_object_object_add(o, "gate", XCHECK(json_object_new_boolean(s->gate)));
	tc_json_add_str(o, "certificate", s->certificate);
	tc_json_add_str(o, "origin", r->origin_sync ? "sync" : "start");
	tc_json_add_str(o, "digest", r->digest);
	tc_json_add_str(o, "ssh_digest", r->ssh_digest);
	tc_json_add_str(o, "run_as", r->run_as);
	tc_json_add_str(o, "ssh", r->ssh_path);
	tc_json_add_str(o, "autossh", r->autossh_path);
	return write_obj(dirfd, "spec.json", o, err);
}

int
tc_record_read(int dirfd, struct tc_record *r, struct tc_err *err)
{
	struct tc_spec *s = &r->spec;
	json_object *o;
	char via[16], origin[16];

	memset(r, 0, sizeof(*r));
	tc_spec_init(s);
	o = read_obj(dirfd, "spec.json", err);
	if (!o)
		return -1;
	get_str(o, "name", s->name, sizeof(s->name));
	get_str(o, "user", s->user, sizeof(s->user));
	get_str(o, "host", s->host, sizeof(s->host));
	s->port = (uint16_t)get_int(o, "port");
	get_str(o, "host_key", s->host_key, sizeof(s->host_key));
	get_str(o, "remote_bind", s->remote_bind, sizeof(s->remote_bind));
	s->remote_port = (uint16_t)get_int(o, "remote_port");
	get_str(o, "target_host", s->target_host, sizeof(s->target_host));
	s->target_port = (uint16_t)get_int(o, "target_port");
	get_str(o, "via", via, sizeof(via));
	s->via = strcmp(via, "dnat") == 0 ? TC_VIA_DNAT : TC_VIA_DIRECT;
	s->local_port = (uint16_t)get_int(o, "local_port");
	s->timeout_s = get_int(o, "timeout_s");
	s->keepalive_interval = (unsigned)get_int(o, "keepalive_interval");
	s->keepalive_count = (unsigned)get_int(o, "keepalive_count");
	{
		json_object *v;

		s->gate = json_object_object_get_ex(o, "gate", &v) && json_object_get_boolean(v);
	}
	get_str(o, "certificate", s->certificate, sizeof(s->certificate));
	get_str(o, "origin", origin, sizeof(origin));
	r->origin_sync = strcmp(origin, "sync") == 0;
	get_str(o, "digest", r->digest, sizeof(r->digest));
	get_str(o, "ssh_digest", r->ssh_digest, sizeof(r->ssh_digest));
	get_str(o, "run_as", r->run_as, sizeof(r->run_as));
	get_str(o, "ssh", r->ssh_path, sizeof(r->ssh_path));
	get_str(o, "autossh", r->autossh_path, sizeof(r->autossh_path));
	json_object_put(o);
	if (!tc_valid_name(s->name))
		return tc_err_set(err, TC_ERR_RUNTIME, "spec.json: corrupt (name)");
	return 0;
}

int
tc_run_write(int dirfd, const struct tc_run *r, struct tc_err *err)
{
	json_object *o = XCHECK(json_object_new_object());

	tc_json_add_str(o, "state", tc_tstate_name(r->state));
	tc_json_add_int(o, "pid", r->pid);
	json_object_object_add(o, "starttime", XCHECK(json_object_new_uint64(r->starttime)));
	tc_json_add_int(o, "started_at", r->started_at);
	tc_json_add_int(o, "expires_at", r->expires_at);
	tc_json_add_int(o, "allocated_port", r->allocated_port);
	tc_json_add_int(o, "restarts", r->restarts);
	tc_json_add_str(o, "last_error", r->last_error);
	return write_obj(dirfd, "run.json", o, err);
}

int
tc_run_read(int dirfd, struct tc_run *r, struct tc_err *err)
{
	json_object *o, *v;
	char st[16];
	size_t i;

	memset(r, 0, sizeof(*r));
	o = read_obj(dirfd, "run.json", err);
	if (!o)
		return -1;
	get_str(o, "state", st, sizeof(st));
	r->state = TC_ST_FAILED;
	for (i = 0; i < sizeof(state_names) / sizeof(state_names[0]); i++)
		if (strcmp(st, state_names[i]) == 0)
			r->state = (enum tc_tstate)i;
	r->pid = (pid_t)get_int(o, "pid");
	if (json_object_object_get_ex(o, "starttime", &v))
		r->starttime = json_object_get_uint64(v);
	r->started_at = get_int(o, "started_at");
	r->expires_at = get_int(o, "expires_at");
	r->allocated_port = (unsigned)get_int(o, "allocated_port");
	r->restarts = (unsigned)get_int(o, "restarts");
	get_str(o, "last_error", r->last_error, sizeof(r->last_error));
	json_object_put(o);
	return 0;
}
