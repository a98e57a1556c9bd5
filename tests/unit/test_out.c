/* test_out.c: lib/out.c, the whole stdout contract: the status table and
 * JSON (every field of the contract, its type and its null cases), the sync
 * report, the start/stop/restart results and version, human and JSON. */
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "out.h"
#include "tap.h"

#define NOW 1795600000	/* 2026-11-25T09:46:40Z */

static void
view(struct tc_view *v, const char *name)
{
	memset(v, 0, sizeof(*v));
	tc_spec_init(&v->rec.spec);
	snprintf(v->rec.spec.name, sizeof(v->rec.spec.name), "%s", name);
	strcpy(v->rec.spec.user, "tunnel");
	strcpy(v->rec.spec.host, "203.0.113.10");
	v->rec.spec.remote_port = 8080;
	strcpy(v->rec.spec.target_host, "192.0.2.50");
	v->rec.spec.target_port = 443;
	v->rec.origin_sync = 1;
	v->run.state = TC_ST_UP;
	v->run.pid = 4242;
	v->run.started_at = NOW - 88;
	v->run.expires_at = NOW + 3512;
	v->alive = 1;
}

static json_object *
parsed(char *text)
{
	json_object *o = json_tokener_parse(text);

	free(text);
	return o;
}

static const char *
sget(json_object *o, const char *k)
{
	json_object *v;

	return json_object_object_get_ex(o, k, &v) && json_object_is_type(v, json_type_string) ?
	       json_object_get_string(v) : NULL;
}

static int
is_null(json_object *o, const char *k)
{
	json_object *v;

	return json_object_object_get_ex(o, k, &v) && v == NULL;
}

static long long
iget(json_object *o, const char *k)
{
	json_object *v;

	return json_object_object_get_ex(o, k, &v) && json_object_is_type(v, json_type_int) ?
	       json_object_get_int64(v) : -999;
}

static void
status_json(void)
{
	static const char *const keys[] = { "name", "state", "pid", "origin", "started_at", "expires_at",
		"remaining_s", "server", "remote_bind", "remote_port", "target", "via", "local_port",
		"restarts", "last_error" };
	struct tc_view v[3];
	json_object *o, *arr, *t;
	size_t i;

	view(&v[0], "inverter-web");
	v[0].rec.spec.via = TC_VIA_DNAT;
	v[0].rec.spec.local_port = 10443;
	view(&v[1], "dyn");
	v[1].rec.spec.remote_port = 0;
	v[1].run.allocated_port = 40001;
	v[1].run.expires_at = 0;
	v[1].rec.origin_sync = 0;
	v[1].rec.spec.user[0] = '\0';
	strcpy(v[1].rec.spec.target_host, "2001:db8::5");
	v[1].rec.spec.target_port = 22;
	v[1].run.restarts = 3;
	strcpy(v[1].run.last_error, "Connection refused");
	view(&v[2], "dead");
	v[2].alive = 0;
	v[2].run.state = TC_ST_FAILED;
	v[2].rule_missing = 1;

	o = parsed(tc_out_status(v, 3, NULL, 1, NOW));
	ok(o && json_object_object_get_ex(o, "tunnels", &arr) && json_object_array_length(arr) == 3,
	   "status --json: {\"tunnels\": [3 objects]}");
	if (!o)
		return;
	t = json_object_array_get_idx(arr, 0);
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		ok(json_object_object_get_ex(t, keys[i], NULL), "status JSON has %s", keys[i]);
	is_int(json_object_object_length(t), sizeof(keys) / sizeof(keys[0]), "and nothing else");
	is_str(sget(t, "name"), "inverter-web", "name");
	is_str(sget(t, "state"), "up", "state");
	is_int(iget(t, "pid"), 4242, "pid is the supervisor's");
	is_str(sget(t, "origin"), "sync", "origin sync");
	is_str(sget(t, "started_at"), "2026-11-25T09:45:12Z", "started_at in UTC RFC 3339");
	is_str(sget(t, "expires_at"), "2026-11-25T10:45:12Z", "expires_at in UTC RFC 3339");
	is_int(iget(t, "remaining_s"), 3512, "remaining_s");
	is_str(sget(t, "server"), "tunnel@203.0.113.10:22", "server USER@HOST:PORT");
	is_str(sget(t, "remote_bind"), "127.0.0.1", "remote_bind");
	is_int(iget(t, "remote_port"), 8080, "remote_port");
	is_str(sget(t, "target"), "192.0.2.50:443", "target");
	is_str(sget(t, "via"), "dnat", "via dnat");
	is_int(iget(t, "local_port"), 10443, "local_port of a dnat tunnel");
	is_int(iget(t, "restarts"), 0, "restarts");
	ok(is_null(t, "last_error"), "last_error null when none");

	t = json_object_array_get_idx(arr, 1);
	is_int(iget(t, "remote_port"), 40001, "remote_port 0: the allocated one");
	ok(is_null(t, "expires_at") && is_null(t, "remaining_s"), "no timeout: expires_at and remaining_s null");
	is_str(sget(t, "origin"), "start", "origin start");
	is_str(sget(t, "server"), "203.0.113.10:22", "server without a user");
	is_str(sget(t, "target"), "[2001:db8::5]:22", "an IPv6 target in brackets");
	ok(is_null(t, "local_port"), "local_port null for direct");
	is_str(sget(t, "last_error"), "Connection refused", "last_error");
	is_int(iget(t, "restarts"), 3, "restarts counted");

	t = json_object_array_get_idx(arr, 2);
	ok(is_null(t, "pid"), "pid null when the supervisor is not alive");
	is_str(sget(t, "state"), "failed", "failed state");
	ok(sget(t, "last_error") && strstr(sget(t, "last_error"), "firewall rule missing"),
	   "a missing rule is reported in last_error");
	json_object_put(o);

	o = parsed(tc_out_status(NULL, 0, NULL, 1, NOW));
	ok(o && json_object_object_get_ex(o, "tunnels", &arr) && json_object_array_length(arr) == 0,
	   "no tunnels: {\"tunnels\": []}");
	json_object_put(o);
	v[0].run.expires_at = NOW - 5;
	o = parsed(tc_out_status(v, 1, NULL, 1, NOW));
	json_object_object_get_ex(o, "tunnels", &arr);
	is_int(iget(json_object_array_get_idx(arr, 0), "remaining_s"), 0, "remaining_s never negative");
	json_object_put(o);
}

static void
status_table(void)
{
	struct tc_view v[2];
	char *s, *row;

	view(&v[0], "web");
	view(&v[1], "abcdefghijklmnopqrstuvwxyz012345");
	s = tc_out_status(v, 2, NULL, 0, NOW);
	ok(strncmp(s, "NAME", 4) == 0, "the table starts with its header");
	row = strstr(s, "\nweb ");
	ok(row != NULL, "a row per tunnel");
	ok(row && strstr(row, " up ") && strstr(row, "sync") && strstr(row, "tunnel@203.0.113.10:22") &&
	   strstr(row, "192.0.2.50:443") && strstr(row, "3512s"), "the row has state, origin, server, target, remaining");
	{
		const char *hdr_state = strstr(s, "STATE");
		const char *long_row = strstr(s, "\nabcdefghijklmnopqrstuvwxyz012345 ");
		const char *long_state = long_row ? strstr(long_row, " up ") : NULL;

		ok(hdr_state && long_state && (hdr_state - s) == (long_state + 1 - (long_row + 1)),
		   "a 32-character name does not shift its row");
	}
	free(s);
	s = tc_out_status(NULL, 0, NULL, 0, NOW);
	ok(strncmp(s, "NAME", 4) == 0 && strchr(s, '\n') == s + strlen(s) - 1, "no tunnels: the header only");
	free(s);
}

static void
sync_report(void)
{
	static const char *const words[] = { "started", "restarted", "stopped", "unchanged", "expired",
		"revoked" };
	struct tc_action a[4];
	int okv[4] = { 1, 1, 0, 1 };
	json_object *o, *arr;
	char *s;
	size_t i;

	memset(a, 0, sizeof(a));
	strcpy(a[0].name, "web"), a[0].act = TC_ACT_START, a[0].why = "not running";
	strcpy(a[1].name, "db"), a[1].act = TC_ACT_UPDATE, a[1].why = "target changed";
	strcpy(a[2].name, "bad"), a[2].act = TC_ACT_START, a[2].why = "not running";
	strcpy(a[3].name, "old"), a[3].act = TC_ACT_STOP, a[3].why = "no longer in the document";
	s = tc_out_sync(a, okv, 4, 0);
	is_str(s, "web: started (not running)\ndb: restarted (target changed)\nold: stopped (no longer in the document)\n",
	       "sync: one line per tunnel, failures left out (they were logged)");
	free(s);
	o = parsed(tc_out_sync(a, okv, 4, 1));
	ok(o != NULL, "sync --json parses");
	for (i = 0; o && i < sizeof(words) / sizeof(words[0]); i++)
		ok(json_object_object_get_ex(o, words[i], &arr) && json_object_is_type(arr, json_type_array),
		   "sync --json has the array %s", words[i]);
	json_object_object_get_ex(o, "restarted", &arr);
	ok(arr && json_object_array_length(arr) == 1 &&
	   strcmp(json_object_get_string(json_object_array_get_idx(arr, 0)), "db") == 0,
	   "a rule update is reported restarted");
	json_object_object_get_ex(o, "started", &arr);
	ok(arr && json_object_array_length(arr) == 1, "the failed start is not listed");
	json_object_put(o);
	s = tc_out_sync(a, okv, 0, 0);
	is_str(s, "", "nothing to do: nothing printed");
	free(s);
}

static void
results_and_version(void)
{
	char names[3][TC_NAME_MAX + 1] = { "a", "b", "c" };
	const char *words[3] = { "stopped", "not running", "stopped" };
	const char *keys[2] = { "tunnelctl", "autossh" }, *vals[2] = { "0.1.0", NULL };
	json_object *o, *arr;
	char *s;

	s = tc_out_results((const char (*)[TC_NAME_MAX + 1])names, words, 3, 0);
	is_str(s, "a: stopped\nb: not running\nc: stopped\n", "results: NAME: WORD lines");
	free(s);
	o = parsed(tc_out_results((const char (*)[TC_NAME_MAX + 1])names, words, 3, 1));
	ok(o && json_object_object_get_ex(o, "stopped", &arr) && json_object_array_length(arr) == 2,
	   "results --json: names merged under their word");
	ok(o && json_object_object_get_ex(o, "not running", &arr) && json_object_array_length(arr) == 1,
	   "results --json: \"not running\" for an unknown name");
	json_object_put(o);
	s = tc_out_version(keys, vals, 2, 0);
	is_str(s, "tunnelctl 0.1.0\nautossh (not found)\n", "version: a line per part, (not found)");
	free(s);
	o = parsed(tc_out_version(keys, vals, 2, 1));
	ok(o && sget(o, "tunnelctl") && is_null(o, "autossh"), "version --json: a missing part is null");
	json_object_put(o);
}

int
main(void)
{
	status_json();
	status_table();
	sync_report();
	results_and_version();
	return tap_done();
}
