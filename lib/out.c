/* out.c: human and JSON output, both from the same data. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "out.h"
#include "text.h"
#include "xalloc.h"

static json_object *
jstr(const char *s)
{
	return XCHECK(json_object_new_string(s));
}

static json_object *
jint(int64_t v)
{
	return XCHECK(json_object_new_int64(v));
}

static json_object *
jobj(void)
{
	return XCHECK(json_object_new_object());
}

static json_object *
jarr(void)
{
	return XCHECK(json_object_new_array());
}

static char *
json_done(json_object *o)
{
	char *s = xstrdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
							   JSON_C_TO_STRING_NOSLASHESCAPE));

	json_object_put(o);
	return s;
}

/* "?" rather than a wrong date where time_t is narrower than the record's
 * int64 (a 32-bit time_t, which configure warns about, after 2038). */
static void
hostport(const char *h, unsigned port, char *buf, size_t sz)
{
	if (strchr(h, ':'))
		snprintf(buf, sz, "[%s]:%u", h, port);
	else
		snprintf(buf, sz, "%s:%u", h, port);
}

static const char *
state_of(const struct tc_view *v)
{
	return tc_tstate_name(v->run.state);
}

static unsigned
remote_port(const struct tc_view *v)
{
	return v->rec.spec.remote_port ? v->rec.spec.remote_port : v->run.allocated_port;
}

static const char *
last_error(const struct tc_view *v)
{
	if (v->rule_missing)
		return "firewall rule missing or route_localnet reset (ruleset flushed? interface re-created?); the next sync restores it";
	return v->run.last_error[0] ? v->run.last_error : NULL;
}

static json_object *
status_obj(const struct tc_view *v, time_t now)
{
	const struct tc_spec *s = &v->rec.spec;
	json_object *o = jobj();
	char buf[TC_HOST_MAX + TC_USER_MAX + 16];
	const char *le = last_error(v);

	json_object_object_add(o, "name", jstr(s->name));
	json_object_object_add(o, "state", jstr(state_of(v)));
	json_object_object_add(o, "pid", v->alive ? jint(v->run.pid) : NULL);
	json_object_object_add(o, "origin", jstr(v->rec.origin_sync ? "sync" : "start"));
	tc_rfc3339(v->run.started_at, buf, sizeof(buf));
	json_object_object_add(o, "started_at", v->run.started_at ? jstr(buf) : NULL);
	tc_rfc3339(v->run.expires_at, buf, sizeof(buf));
	json_object_object_add(o, "expires_at", v->run.expires_at ? jstr(buf) : NULL);
	json_object_object_add(o, "remaining_s", v->run.expires_at ?
			       jint(v->run.expires_at > now ? v->run.expires_at - now : 0) : NULL);
	hostport(s->host, s->port, buf, sizeof(buf));
	if (s->user[0]) {
		char full[sizeof(buf) + TC_USER_MAX + 2];

		snprintf(full, sizeof(full), "%s@%s", s->user, buf);
		json_object_object_add(o, "server", jstr(full));
	} else {
		json_object_object_add(o, "server", jstr(buf));
	}
	json_object_object_add(o, "remote_bind", jstr(s->remote_bind));
	json_object_object_add(o, "remote_port", jint(remote_port(v)));
	hostport(s->target_host, s->target_port, buf, sizeof(buf));
	json_object_object_add(o, "target", jstr(buf));
	json_object_object_add(o, "via", jstr(s->via == TC_VIA_DNAT ? "dnat" : "direct"));
	json_object_object_add(o, "local_port", s->via == TC_VIA_DNAT ? jint(s->local_port) : NULL);
	json_object_object_add(o, "restarts", jint(v->run.restarts));
	json_object_object_add(o, "last_error", le ? jstr(le) : NULL);
	return o;
}

static json_object *
watch_obj(const struct tc_watch_info *w)
{
	json_object *o = jobj();
	char buf[32];

	json_object_object_add(o, "pid", jint(w->pid));
	json_object_object_add(o, "source", jstr(w->source));
	tc_rfc3339(w->last_check_at, buf, sizeof(buf));
	json_object_object_add(o, "last_check_at", w->last_check_at ? jstr(buf) : NULL);
	tc_rfc3339(w->last_change_at, buf, sizeof(buf));
	json_object_object_add(o, "last_change_at", w->last_change_at ? jstr(buf) : NULL);
	json_object_object_add(o, "last_error", w->last_error[0] ? jstr(w->last_error) : NULL);
	return o;
}

char *
tc_out_status(const struct tc_view *v, size_t n, const struct tc_watch_info *watch, int json,
	      time_t now)
{
	struct tc_sb b = { 0 };
	size_t i, w = 16;

	if (json) {
		json_object *o = jobj(), *arr = jarr();

		for (i = 0; i < n; i++)
			json_object_array_add(arr, status_obj(&v[i], now));
		json_object_object_add(o, "tunnels", arr);
		json_object_object_add(o, "watch", watch ? watch_obj(watch) : NULL);
		return json_done(o);
	}
	/* As wide as the longest name (up to 32), so no row shifts. */
	for (i = 0; i < n; i++)
		if (strlen(v[i].rec.spec.name) > w)
			w = strlen(v[i].rec.spec.name);
	tc_sb_printf(&b, "%-*s %-9s %-7s %-6s %-28s %-30s %-6s %-9s %s\n", (int)w, "NAME", "STATE", "PID",
		  "ORIGIN", "SERVER", "TARGET", "RPORT", "REMAINING", "LAST ERROR");
	for (i = 0; i < n; i++) {
		const struct tc_spec *s = &v[i].rec.spec;
		char server[TC_HOST_MAX + TC_USER_MAX + 16], target[TC_HOST_MAX + 32], hp[TC_HOST_MAX + 16];
		char pid[16] = "-", rem[24] = "-";
		const char *le = last_error(&v[i]);

		hostport(s->host, s->port, hp, sizeof(hp));
		snprintf(server, sizeof(server), "%s%s%s", s->user, s->user[0] ? "@" : "", hp);
		hostport(s->target_host, s->target_port, hp, sizeof(hp));
		if (s->via == TC_VIA_DNAT)
			snprintf(target, sizeof(target), "%s via :%u", hp, s->local_port);
		else
			snprintf(target, sizeof(target), "%s", hp);
		if (v[i].alive)
			snprintf(pid, sizeof(pid), "%ld", (long)v[i].run.pid);
		if (v[i].run.expires_at)
			snprintf(rem, sizeof(rem), "%llds",
				 (long long)(v[i].run.expires_at > now ? v[i].run.expires_at - now : 0));
		tc_sb_printf(&b, "%-*s %-9s %-7s %-6s %-28s %-30s %-6u %-9s %s\n", (int)w, s->name, state_of(&v[i]), pid,
			  v[i].rec.origin_sync ? "sync" : "start", server, target, remote_port(&v[i]), rem,
			  le ? le : "-");
	}
	if (watch) {
		char at[32];

		tc_rfc3339(watch->last_check_at, at, sizeof(at));
		tc_sb_printf(&b, "\nwatch: pid %ld, %s, last check %s%s%s\n", (long)watch->pid, watch->source,
			  watch->last_check_at ? at : "not yet", watch->last_error[0] ? ", last error: " : "",
			  watch->last_error);
	}
	return tc_sb_done(&b);
}

char *
tc_out_sync(const struct tc_action *a, const int *ok, size_t n, int json)
{
	static const char *const words[] = { "started", "restarted", "stopped", "unchanged", "expired",
		"revoked" };
	struct tc_sb b = { 0 };
	size_t i, w;

	if (json) {
		json_object *o = jobj();

		for (w = 0; w < sizeof(words) / sizeof(words[0]); w++) {
			json_object *arr = jarr();

			for (i = 0; i < n; i++)
				if (ok[i] && strcmp(tc_act_word(a[i].act), words[w]) == 0)
					json_object_array_add(arr, jstr(a[i].name));
			json_object_object_add(o, words[w], arr);
		}
		return json_done(o);
	}
	for (i = 0; i < n; i++)
		if (ok[i])
			tc_sb_printf(&b, "%s: %s (%s)\n", a[i].name, tc_act_word(a[i].act), a[i].why);
	return tc_sb_done(&b);
}

char *
tc_out_results(const char (*names)[TC_NAME_MAX + 1], const char *const *words, size_t n, int json)
{
	struct tc_sb b = { 0 };
	size_t i;

	if (json) {
		json_object *o = jobj();

		for (i = 0; i < n; i++) {
			json_object *arr;

			if (!json_object_object_get_ex(o, words[i], &arr)) {
				arr = jarr();
				json_object_object_add(o, words[i], arr);
			}
			json_object_array_add(arr, jstr(names[i]));
		}
		return json_done(o);
	}
	for (i = 0; i < n; i++)
		tc_sb_printf(&b, "%s: %s\n", names[i], words[i]);
	return tc_sb_done(&b);
}

char *
tc_out_version(const char *const *keys, const char *const *vals, size_t n, int json)
{
	struct tc_sb b = { 0 };
	size_t i;

	if (json) {
		json_object *o = jobj();

		for (i = 0; i < n; i++)
			json_object_object_add(o, keys[i], vals[i] ? jstr(vals[i]) : NULL);
		return json_done(o);
	}
	for (i = 0; i < n; i++)
		tc_sb_printf(&b, "%s %s\n", keys[i], vals[i] ? vals[i] : "(not found)");
	return tc_sb_done(&b);
}

char *
tc_out_key(const char *path, const char *public_key, const char *fingerprint, int json)
{
	struct tc_sb b = { 0 };

	if (json) {
		json_object *o = jobj();

		json_object_object_add(o, "path", jstr(path));
		json_object_object_add(o, "public_key", jstr(public_key));
		json_object_object_add(o, "fingerprint", jstr(fingerprint));
		return json_done(o);
	}
	tc_sb_printf(&b, "%s\n", public_key);
	return tc_sb_done(&b);
}

const char *
tc_json_version(void)
{
	return json_c_version();
}
