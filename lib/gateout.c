/* gateout.c: list's formats (table, JSON, HTML, nginx map), built from the
 * records in one place. Device-chosen text (tunnel, claimed target) is
 * HTML-escaped on the page and never becomes part of a host name unless
 * it is a valid DNS label. */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "gateout.h"
#include "spec.h"
#include "xalloc.h"

struct sb {
	char *s;
	size_t len, cap;
};

static void __attribute__((format(printf, 2, 3)))
sb_printf(struct sb *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		size_t room = b->cap - b->len;

		va_start(ap, fmt);
		n = vsnprintf(b->s ? b->s + b->len : NULL, b->s ? room : 0, fmt, ap);
		va_end(ap);
		if (n < 0)
			tc_oom();	/* only an encoding error: none of our formats has one */
		if (b->s && (size_t)n < room) {
			b->len += (size_t)n;
			return;
		}
		b->cap = (b->cap ? b->cap * 2 : 1024) + (size_t)n;
		b->s = xrealloc(b->s, b->cap);
	}
}

static char *
sb_done(struct sb *b)
{
	return b->s ? b->s : xstrdup("");
}

void
tc_gate_rfc3339(int64_t t, char *buf, size_t sz)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (!gmtime_r(&tt, &tm) || !strftime(buf, sz, "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(buf, sz, "?");
}

static void
ports_text(const struct tc_gate_rec *r, char *buf, size_t sz)
{
	size_t i, off = 0;

	buf[0] = '\0';
	for (i = 0; i < r->nports && off < sz; i++) {
		int w = snprintf(buf + off, sz - off, "%s%u", i ? "," : "", (unsigned)r->ports[i]);

		if (w < 0 || (size_t)w >= sz - off)
			break;
		off += (size_t)w;
	}
}

char *
tc_gate_out_table(const struct tc_gate_rec *v, size_t n, time_t now)
{
	struct sb b = { 0 };
	size_t i;

	(void)now;
	sb_printf(&b, "%-16s  %-20s  %-16s  %-11s  %-24s  %-15s  %-20s  %s\n", "ID", "DEVICE", "TUNNEL",
		  "PORTS", "TARGET", "CLIENT", "STARTED", "EXPIRES");
	for (i = 0; i < n; i++) {
		char ports[64], st[32], ex[32];

		ports_text(&v[i], ports, sizeof(ports));
		tc_gate_rfc3339(v[i].started_at, st, sizeof(st));
		if (v[i].expires_at)
			tc_gate_rfc3339(v[i].expires_at, ex, sizeof(ex));
		else
			snprintf(ex, sizeof(ex), "never");
		sb_printf(&b, "%-16s  %-20s  %-16s  %-11s  %-24s  %-15s  %-20s  %s\n", v[i].id, v[i].device,
			  v[i].tunnel, ports, v[i].target, v[i].client, st, ex);
	}
	return sb_done(&b);
}

char *
tc_gate_out_json(const struct tc_gate_rec *v, size_t n)
{
	json_object *root = XCHECK(json_object_new_object());
	json_object *arr = XCHECK(json_object_new_array());
	char *text;
	size_t i, j;

	json_object_object_add(root, "sessions", arr);
	for (i = 0; i < n; i++) {
		json_object *o = XCHECK(json_object_new_object());
		json_object *ports = XCHECK(json_object_new_array());
		char t[32];

		json_object_object_add(o, "id", XCHECK(json_object_new_string(v[i].id)));
		json_object_object_add(o, "device", XCHECK(json_object_new_string(v[i].device)));
		json_object_object_add(o, "tunnel", XCHECK(json_object_new_string(v[i].tunnel)));
		json_object_object_add(o, "target", XCHECK(json_object_new_string(v[i].target)));
		for (j = 0; j < v[i].nports; j++)
			json_object_array_add(ports, XCHECK(json_object_new_int(v[i].ports[j])));
		json_object_object_add(o, "ports", ports);
		json_object_object_add(o, "bind", XCHECK(json_object_new_string(v[i].bind)));
		json_object_object_add(o, "client", XCHECK(json_object_new_string(v[i].client)));
		tc_gate_rfc3339(v[i].started_at, t, sizeof(t));
		json_object_object_add(o, "started_at", XCHECK(json_object_new_string(t)));
		if (v[i].expires_at) {
			tc_gate_rfc3339(v[i].expires_at, t, sizeof(t));
			json_object_object_add(o, "expires_at", XCHECK(json_object_new_string(t)));
		} else {
			json_object_object_add(o, "expires_at", NULL);
		}
		json_object_object_add(o, "pid", XCHECK(json_object_new_int64(v[i].pid)));
		json_object_array_add(arr, o);
	}
	text = xstrdup(json_object_to_json_string_ext(root, JSON_C_TO_STRING_PLAIN));
	json_object_put(root);
	return text;
}

int
tc_gate_valid_domain(const char *s)
{
	size_t i, lstart = 0, len;

	if (!s || !s[0])
		return 0;
	len = strlen(s);
	if (len > TC_GATE_DOMAIN_MAX)
		return 0;
	for (i = 0; i <= len; i++) {
		if (i < len && s[i] != '.') {
			if (!isalnum((unsigned char)s[i]) && s[i] != '-')
				return 0;
			continue;
		}
		if (i - lstart < 1 || i - lstart > 63 || s[lstart] == '-' || s[i - 1] == '-')
			return 0;
		lstart = i + 1;
	}
	return 1;
}

/* Labels of letters, digits and inner hyphens, 1-63 bytes each. */
static int
valid_labels(const char *s)
{
	return tc_gate_valid_domain(s);
}

int
tc_gate_host(const struct tc_gate_rec *r, const char *domain, char *out, size_t sz)
{
	int w;
	size_t i;

	if (strchr(r->tunnel, '_') || !valid_labels(r->tunnel) || !valid_labels(r->device))
		return -1;
	w = snprintf(out, sz, "%s.%s.%s", r->tunnel, r->device, domain);
	if (w < 0 || (size_t)w >= sz || w > TC_HOST_MAX)
		return -1;
	for (i = 0; out[i]; i++)
		out[i] = (char)tolower((unsigned char)out[i]);
	return 0;
}

/* The address nginx reaches a session's port on. */
static void
upstream_addr(const struct tc_gate_rec *r, char *buf, size_t sz)
{
	if (r->bind[0] == '\0' || strcmp(r->bind, "0.0.0.0") == 0)
		snprintf(buf, sz, "127.0.0.1");
	else if (strcmp(r->bind, "::") == 0)
		snprintf(buf, sz, "[::1]");
	else if (strchr(r->bind, ':'))
		snprintf(buf, sz, "[%s]", r->bind);
	else
		snprintf(buf, sz, "%s", r->bind);
}

static int
target_port(const struct tc_gate_rec *r)
{
	char host[TC_HOST_MAX + 1];
	uint16_t port;

	if (tc_parse_hostport(r->target, host, sizeof(host), &port, "target", NULL) < 0)
		return 0;
	return port;
}

/* 1 when a later record (same device and tunnel, sorted by start) takes this
 * one's host name: the map holds one line per name, the newest session's. */
static int
superseded(const struct tc_gate_rec *v, size_t n, size_t i)
{
	return i + 1 < n && strcmp(v[i].device, v[i + 1].device) == 0 &&
	       strcmp(v[i].tunnel, v[i + 1].tunnel) == 0;
}

char *
tc_gate_out_nginx(const struct tc_gate_rec *v, size_t n, const char *domain, char **warn)
{
	struct sb b = { 0 }, w = { 0 };
	size_t i;

	for (i = 0; i < n; i++) {
		char host[TC_HOST_MAX + 2], addr[TC_GATE_ADDR_MAX + 2];

		if (v[i].nports == 0)
			continue;
		if (tc_gate_host(&v[i], domain, host, sizeof(host)) < 0) {
			sb_printf(&w, "session %s (%s/%s): no host name: '%s.%s.%s' is not a valid DNS name%s\n",
				  v[i].id, v[i].device, v[i].tunnel, v[i].tunnel, v[i].device, domain,
				  strchr(v[i].tunnel, '_') ? " ('_' is not allowed in host names)" : "");
			continue;
		}
		if (superseded(v, n, i)) {
			sb_printf(&w, "session %s (%s/%s): left out: a newer session of the same tunnel has its name\n",
				  v[i].id, v[i].device, v[i].tunnel);
			continue;
		}
		upstream_addr(&v[i], addr, sizeof(addr));
		sb_printf(&b, "%s %s://%s:%u;\n", host, target_port(&v[i]) == 443 ? "https" : "http", addr,
			  (unsigned)v[i].ports[0]);
	}
	*warn = sb_done(&w);
	return sb_done(&b);
}

/* Text for an HTML page: & < > " ' escaped. */
static void
html_esc(struct sb *b, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '&': sb_printf(b, "&amp;"); break;
		case '<': sb_printf(b, "&lt;"); break;
		case '>': sb_printf(b, "&gt;"); break;
		case '"': sb_printf(b, "&quot;"); break;
		case '\'': sb_printf(b, "&#39;"); break;
		default:
			if ((unsigned char)*s < 0x20 || *s == 0x7f)
				sb_printf(b, "?");
			else
				sb_printf(b, "%c", *s);
		}
	}
}

/* "22 Nov 2026, 10:00 UTC": what people read, not what programs parse. */
static void
human_time(int64_t t, char *buf, size_t sz)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (!gmtime_r(&tt, &tm) || !strftime(buf, sz, "%d %b %Y, %H:%M UTC", &tm))
		snprintf(buf, sz, "?");
}

static void
human_left(int64_t secs, char *buf, size_t sz)
{
	if (secs <= 0)
		snprintf(buf, sz, "closing now");
	else if (secs < 120)
		snprintf(buf, sz, "%lld seconds left", (long long)secs);
	else if (secs < 2 * 3600)
		snprintf(buf, sz, "%lld minutes left", (long long)(secs / 60));
	else if (secs < 2 * 86400)
		snprintf(buf, sz, "%lld hours %lld minutes left", (long long)(secs / 3600),
			 (long long)(secs % 3600 / 60));
	else
		snprintf(buf, sz, "%lld days left", (long long)(secs / 86400));
}

static const char html_head[] =
	"<!DOCTYPE html>\n"
	"<html lang=\"en\">\n"
	"<head>\n"
	"<meta charset=\"utf-8\">\n"
	"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
	"<title>Open maintenance tunnels</title>\n"
	"<style>\n"
	"body { font-family: sans-serif; margin: 2em; color: #222; }\n"
	"table { border-collapse: collapse; }\n"
	"th, td { text-align: left; padding: 0.4em 0.8em; border-bottom: 1px solid #ccc; }\n"
	"th { background: #f0f0f0; }\n"
	".note { color: #555; }\n"
	"</style>\n"
	"</head>\n"
	"<body>\n"
	"<h1>Open maintenance tunnels</h1>\n";

char *
tc_gate_out_html(const struct tc_gate_rec *v, size_t n, const char *domain, time_t now)
{
	struct sb b = { 0 };
	char made[64];
	size_t i;

	human_time(now, made, sizeof(made));
	sb_printf(&b, "%s", html_head);
	sb_printf(&b, "<p class=\"note\">This list was made on %s. All times are in UTC. "
		      "Time left is counted from then.</p>\n", made);
	if (n == 0) {
		sb_printf(&b, "<p>No tunnels are open right now.</p>\n</body>\n</html>\n");
		return sb_done(&b);
	}
	if (!domain)
		sb_printf(&b, "<p class=\"note\">Links are not shown: this page was made without a "
			      "domain name for them.</p>\n");
	sb_printf(&b, "<p>%zu tunnel%s open.</p>\n<table>\n<tr><th>Device</th><th>Tunnel</th>"
		      "<th>Reaches (as the device says)</th><th>Server port</th><th>Open since</th>"
		      "<th>Closes</th>%s</tr>\n", n, n == 1 ? " is" : "s are", domain ? "<th>Link</th>" : "");
	for (i = 0; i < n; i++) {
		char ports[64], since[64], until[64], left[64], host[TC_HOST_MAX + 2];

		ports_text(&v[i], ports, sizeof(ports));
		human_time(v[i].started_at, since, sizeof(since));
		sb_printf(&b, "<tr><td>");
		html_esc(&b, v[i].device);
		sb_printf(&b, "</td><td>");
		html_esc(&b, v[i].tunnel);
		sb_printf(&b, "</td><td>");
		html_esc(&b, v[i].target);
		sb_printf(&b, "</td><td>%s</td><td>%s</td><td>", ports, since);
		if (v[i].expires_at) {
			human_time(v[i].expires_at, until, sizeof(until));
			human_left(v[i].expires_at - (int64_t)now, left, sizeof(left));
			sb_printf(&b, "%s (%s)", until, left);
		} else {
			sb_printf(&b, "no time limit");
		}
		sb_printf(&b, "</td>");
		if (domain) {
			if (tc_gate_host(&v[i], domain, host, sizeof(host)) == 0) {
				sb_printf(&b, "<td><a href=\"https://");
				html_esc(&b, host);
				sb_printf(&b, "/\">");
				html_esc(&b, host);
				sb_printf(&b, "</a></td>");
			} else {
				sb_printf(&b, "<td>no link (the name cannot be a web address)</td>");
			}
		}
		sb_printf(&b, "</tr>\n");
	}
	sb_printf(&b, "</table>\n</body>\n</html>\n");
	return sb_done(&b);
}
