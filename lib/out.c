/* out.c: human and JSON output, both from the same data. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "out.h"

/* A growable string; all output is small, so failures return NULL. */
struct sb {
	char *s;
	size_t len, cap;
	int oom;
};

static void __attribute__((format(printf, 2, 3)))
sb_printf(struct sb *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->oom)
		return;
	for (;;) {
		size_t room = b->cap - b->len;

		va_start(ap, fmt);
		n = vsnprintf(b->s ? b->s + b->len : NULL, b->s ? room : 0, fmt, ap);
		va_end(ap);
		if (n < 0) {
			b->oom = 1;
			return;
		}
		if (b->s && (size_t)n < room) {
			b->len += (size_t)n;
			return;
		}
		size_t ncap = (b->cap ? b->cap * 2 : 256) + (size_t)n;
		char *p = realloc(b->s, ncap);
		if (!p) {
			b->oom = 1;
			return;
		}
		b->s = p;
		b->cap = ncap;
	}
}

static char *
sb_done(struct sb *b)
{
	if (b->oom) {
		free(b->s);
		return NULL;
	}
	if (!b->s)
		return strdup("");
	return b->s;
}

static char *
json_done(json_object *o)
{
	char *s;

	if (!o)
		return NULL;
	s = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
	if (!s)
		return NULL;
	return s;
}

/* "?" rather than a wrong date where time_t is narrower than the record's
 * int64 (a 32-bit time_t, which configure warns about, after 2038). */
static void
rfc3339(int64_t t, char *buf, size_t sz)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if ((int64_t)tt != t || !gmtime_r(&tt, &tm) || !strftime(buf, sz, "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(buf, sz, "?");
}

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
	json_object *o = json_object_new_object();
	char buf[TC_HOST_MAX + TC_USER_MAX + 16];
	const char *le = last_error(v);

	json_object_object_add(o, "name", json_object_new_string(s->name));
	json_object_object_add(o, "state", json_object_new_string(state_of(v)));
	json_object_object_add(o, "pid", v->alive ? json_object_new_int64(v->run.pid) : NULL);
	json_object_object_add(o, "origin", json_object_new_string(v->rec.origin_sync ? "sync" : "start"));
	rfc3339(v->run.started_at, buf, sizeof(buf));
	json_object_object_add(o, "started_at", v->run.started_at ? json_object_new_string(buf) : NULL);
	rfc3339(v->run.expires_at, buf, sizeof(buf));
	json_object_object_add(o, "expires_at", v->run.expires_at ? json_object_new_string(buf) : NULL);
	json_object_object_add(o, "remaining_s", v->run.expires_at ?
			       json_object_new_int64(v->run.expires_at > now ? v->run.expires_at - now : 0) : NULL);
	hostport(s->host, s->port, buf, sizeof(buf));
	if (s->user[0]) {
		char full[sizeof(buf) + TC_USER_MAX + 2];

		snprintf(full, sizeof(full), "%s@%s", s->user, buf);
		json_object_object_add(o, "server", json_object_new_string(full));
	} else {
		json_object_object_add(o, "server", json_object_new_string(buf));
	}
	json_object_object_add(o, "remote_bind", json_object_new_string(s->remote_bind));
	json_object_object_add(o, "remote_port", json_object_new_int64(remote_port(v)));
	hostport(s->target_host, s->target_port, buf, sizeof(buf));
	json_object_object_add(o, "target", json_object_new_string(buf));
	json_object_object_add(o, "via", json_object_new_string(s->via == TC_VIA_DNAT ? "dnat" : "direct"));
	json_object_object_add(o, "local_port", s->via == TC_VIA_DNAT ? json_object_new_int64(s->local_port) : NULL);
	json_object_object_add(o, "restarts", json_object_new_int64(v->run.restarts));
	json_object_object_add(o, "last_error", le ? json_object_new_string(le) : NULL);
	return o;
}

char *
tc_out_status(const struct tc_view *v, size_t n, int json, time_t now)
{
	struct sb b = { 0 };
	size_t i;

	if (json) {
		json_object *o = json_object_new_object(), *arr = json_object_new_array();

		for (i = 0; i < n; i++)
			json_object_array_add(arr, status_obj(&v[i], now));
		json_object_object_add(o, "tunnels", arr);
		return json_done(o);
	}
	sb_printf(&b, "%-16s %-9s %-7s %-6s %-28s %-30s %-6s %-9s %s\n", "NAME", "STATE", "PID", "ORIGIN",
		  "SERVER", "TARGET", "RPORT", "REMAINING", "LAST ERROR");
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
		sb_printf(&b, "%-16s %-9s %-7s %-6s %-28s %-30s %-6u %-9s %s\n", s->name, state_of(&v[i]), pid,
			  v[i].rec.origin_sync ? "sync" : "start", server, target, remote_port(&v[i]), rem,
			  le ? le : "-");
	}
	return sb_done(&b);
}

char *
tc_out_sync(const struct tc_action *a, const int *ok, size_t n, int json)
{
	static const char *const words[] = { "started", "restarted", "stopped", "unchanged", "expired" };
	struct sb b = { 0 };
	size_t i, w;

	if (json) {
		json_object *o = json_object_new_object();

		for (w = 0; w < sizeof(words) / sizeof(words[0]); w++) {
			json_object *arr = json_object_new_array();

			for (i = 0; i < n; i++)
				if (ok[i] && strcmp(tc_act_word(a[i].act), words[w]) == 0)
					json_object_array_add(arr, json_object_new_string(a[i].name));
			json_object_object_add(o, words[w], arr);
		}
		return json_done(o);
	}
	for (i = 0; i < n; i++)
		if (ok[i])
			sb_printf(&b, "%s: %s (%s)\n", a[i].name, tc_act_word(a[i].act), a[i].why);
	return sb_done(&b);
}

char *
tc_out_results(const char (*names)[TC_NAME_MAX + 1], const char *const *words, size_t n, int json)
{
	struct sb b = { 0 };
	size_t i;

	if (json) {
		json_object *o = json_object_new_object();

		for (i = 0; i < n; i++) {
			json_object *arr;

			if (!json_object_object_get_ex(o, words[i], &arr)) {
				arr = json_object_new_array();
				json_object_object_add(o, words[i], arr);
			}
			json_object_array_add(arr, json_object_new_string(names[i]));
		}
		return json_done(o);
	}
	for (i = 0; i < n; i++)
		sb_printf(&b, "%s: %s\n", names[i], words[i]);
	return sb_done(&b);
}

char *
tc_out_version(const char *const *keys, const char *const *vals, size_t n, int json)
{
	struct sb b = { 0 };
	size_t i;

	if (json) {
		json_object *o = json_object_new_object();

		for (i = 0; i < n; i++)
			json_object_object_add(o, keys[i], vals[i] ? json_object_new_string(vals[i]) : NULL);
		return json_done(o);
	}
	for (i = 0; i < n; i++)
		sb_printf(&b, "%s %s\n", keys[i], vals[i] ? vals[i] : "(not found)");
	return sb_done(&b);
}

const char *
tc_json_version(void)
{
	return json_c_version();
}
