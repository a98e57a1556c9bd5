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
#include "text.h"
#include "spec.h"
#include "xalloc.h"

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
	struct tc_sb b = { 0 };
	size_t i;

	(void)now;
	tc_sb_printf(&b, "%-16s  %-20s  %-16s  %-11s  %-24s  %-15s  %-20s  %s\n", "ID", "DEVICE", "TUNNEL",
		  "PORTS", "TARGET", "CLIENT", "STARTED", "EXPIRES");
	for (i = 0; i < n; i++) {
		char ports[64], st[32], ex[32];

		ports_text(&v[i], ports, sizeof(ports));
		tc_rfc3339(v[i].started_at, st, sizeof(st));
		if (v[i].expires_at)
			tc_rfc3339(v[i].expires_at, ex, sizeof(ex));
		else
			snprintf(ex, sizeof(ex), "never");
		tc_sb_printf(&b, "%-16s  %-20s  %-16s  %-11s  %-24s  %-15s  %-20s  %s\n", v[i].id, v[i].device,
			  v[i].tunnel, ports, v[i].target, v[i].client, st, ex);
	}
	return tc_sb_done(&b);
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
		tc_rfc3339(v[i].started_at, t, sizeof(t));
		json_object_object_add(o, "started_at", XCHECK(json_object_new_string(t)));
		if (v[i].expires_at) {
			tc_rfc3339(v[i].expires_at, t, sizeof(t));
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

int
tc_gate_host(const struct tc_gate_rec *r, const char *domain, char *out, size_t sz)
{
	int w;
	size_t i;

	/* tc_gate_valid_domain is the DNS label grammar: it refuses '_' and
	 * empty labels, so "web_ui" and "a..b" give no name. */
	if (!tc_gate_valid_domain(r->tunnel) || !tc_gate_valid_domain(r->device))
		return -1;
	w = snprintf(out, sz, "%s.%s.%s", r->tunnel, r->device, domain);
	if (w < 0 || (size_t)w >= sz || w > TC_HOST_MAX)
		return -1;
	for (i = 0; out[i]; i++)
		out[i] = (char)tolower((unsigned char)out[i]);
	return 0;
}

/* Whether a session gets a web name and a route: decided once, here, so the
 * page links exactly the names the map routes. */
enum route_kind { ROUTE_OK, ROUTE_NO_PORT, ROUTE_NO_NAME, ROUTE_SUPERSEDED };

struct route {
	enum route_kind kind;
	char host[TC_HOST_MAX + 1];
};

struct route_key {
	const char *host;
	int64_t started;
	size_t idx;
};

static int
cmp_route_key(const void *a, const void *b)
{
	const struct route_key *x = a, *y = b;
	int c = strcmp(x->host, y->host);

	if (c == 0)
		c = (x->started > y->started) - (x->started < y->started);
	if (c == 0)
		c = (x->idx > y->idx) - (x->idx < y->idx);
	return c;
}

/* One route per record (heap array of n, the caller frees). Names are
 * compared in lower case, so devices "Edge-9" and "edge-9" cannot both
 * claim web.edge-9.DOMAIN: of the sessions that share a name, the one that
 * started last (a reconnect while the old session is not yet timed out)
 * has it. */
static struct route *
routes_make(const struct tc_gate_rec *v, size_t n, const char *domain)
{
	struct route *rt = xcalloc(n ? n : 1, sizeof(*rt));
	struct route_key *k = xcalloc(n ? n : 1, sizeof(*k));
	size_t i, nk = 0;

	for (i = 0; i < n; i++) {
		if (v[i].nports == 0)
			rt[i].kind = ROUTE_NO_PORT;
		else if (!domain || tc_gate_host(&v[i], domain, rt[i].host, sizeof(rt[i].host)) < 0)
			rt[i].kind = ROUTE_NO_NAME;
		else
			k[nk++] = (struct route_key){ rt[i].host, v[i].started_at, i };
	}
	qsort(k, nk, sizeof(*k), cmp_route_key);
	for (i = 0; i + 1 < nk; i++)
		if (strcmp(k[i].host, k[i + 1].host) == 0)
			rt[k[i].idx].kind = ROUTE_SUPERSEDED;
	free(k);
	return rt;
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

char *
tc_gate_out_nginx(const struct tc_gate_rec *v, size_t n, const char *domain, char **warn)
{
	struct tc_sb b = { 0 }, w = { 0 };
	struct route *rt = routes_make(v, n, domain);
	size_t i;

	for (i = 0; i < n; i++) {
		char addr[TC_GATE_ADDR_MAX + 2];

		switch (rt[i].kind) {
		case ROUTE_NO_PORT:
			continue;
		case ROUTE_NO_NAME:
			tc_sb_printf(&w, "session %s (%s/%s): no host name: '%s.%s.%s' is not a valid DNS name%s\n",
				  v[i].id, v[i].device, v[i].tunnel, v[i].tunnel, v[i].device, domain,
				  strchr(v[i].tunnel, '_') || strchr(v[i].device, '_') ?
				  " ('_' is not allowed in host names)" : "");
			continue;
		case ROUTE_SUPERSEDED:
			tc_sb_printf(&w, "session %s (%s/%s): left out: a newer session has its name %s\n",
				  v[i].id, v[i].device, v[i].tunnel, rt[i].host);
			continue;
		case ROUTE_OK:
			break;
		}
		upstream_addr(&v[i], addr, sizeof(addr));
		tc_sb_printf(&b, "%s %s://%s:%u;\n", rt[i].host, target_port(&v[i]) == 443 ? "https" : "http",
			  addr, (unsigned)v[i].ports[0]);
	}
	free(rt);
	*warn = tc_sb_done(&w);
	return tc_sb_done(&b);
}

/* Text for an HTML page: & < > " ' escaped, control bytes shown as '?'. */
static void
html_esc_char(struct tc_sb *b, char c)
{
	switch (c) {
	case '&': tc_sb_printf(b, "&amp;"); break;
	case '<': tc_sb_printf(b, "&lt;"); break;
	case '>': tc_sb_printf(b, "&gt;"); break;
	case '"': tc_sb_printf(b, "&quot;"); break;
	case '\'': tc_sb_printf(b, "&#39;"); break;
	default:
		if ((unsigned char)c < 0x20 || c == 0x7f)
			tc_sb_printf(b, "?");
		else
			tc_sb_printf(b, "%c", c);
	}
}

static void
html_esc(struct tc_sb *b, const char *s)
{
	for (; *s; s++)
		html_esc_char(b, *s);
}

/* A host name for the page, with a line break allowed after each dot, so
 * it wraps as tunnel. / device. / domain. (only a label too long for the
 * cell breaks inside itself). */
static void
html_host(struct tc_sb *b, const char *host)
{
	for (; *host; host++) {
		html_esc_char(b, *host);
		if (*host == '.' && host[1])
			tc_sb_printf(b, "<wbr>");
	}
}

/* The zone of tm as people read it: its abbreviation ("CET", "UTC"), or
 * "UTC+04:00" for zones whose abbreviation is only a number ("+04"). With
 * full, a named zone also gets its offset: "CET (UTC+01:00)". */
static void
zone_text(const struct tm *tm, int full, char *buf, size_t sz)
{
	const char *name = tm->tm_zone ? tm->tm_zone : "";
	long off = tm->tm_gmtoff, a = off < 0 ? -off : off;
	char offs[32];
	int named = name[0] != '\0';
	size_t i;

	for (i = 0; name[i]; i++)
		if (!isalpha((unsigned char)name[i]))
			named = 0;
	snprintf(offs, sizeof(offs), "UTC%c%02ld:%02ld", off < 0 ? '-' : '+', a / 3600, a % 3600 / 60);
	if (off == 0 && (!named || strcmp(name, "UTC") == 0 || strcmp(name, "GMT") == 0))
		snprintf(buf, sz, "UTC");
	else if (!named)
		snprintf(buf, sz, "%s", offs);
	else if (full)
		snprintf(buf, sz, "%s (%s)", name, offs);
	else
		snprintf(buf, sz, "%s", name);
}

/* "Wed 18 Nov, 12:06 CET" as HTML: in the server's time zone (TZ), which
 * the operator sets to where the people reading the page are; the year
 * only when it is not now's. A line may break after the comma only (the
 * other spaces are &nbsp;). The buffer holds the date (< 64 bytes) and a
 * zone (< 32). */
#define HUMAN_TIME_MAX 112
static void
human_time(int64_t t, time_t now, char *buf, size_t sz)
{
	time_t tt = (time_t)t;
	char day[64], zone[32];
	struct tm tm, tn;
	int year = !localtime_r(&now, &tn);

	if (!localtime_r(&tt, &tm)) {
		snprintf(buf, sz, "?");
		return;
	}
	if (tm.tm_year != tn.tm_year)
		year = 1;
	if (!strftime(day, sizeof(day), year ? "%a&nbsp;%d&nbsp;%b&nbsp;%Y, %H:%M" : "%a&nbsp;%d&nbsp;%b, %H:%M",
		      &tm)) {
		snprintf(buf, sz, "?");
		return;
	}
	zone_text(&tm, 0, zone, sizeof(zone));
	snprintf(buf, sz, "%s&nbsp;%s", day, zone);
}

static const char *
plural(long long x, const char *one, const char *many)
{
	return x == 1 ? one : many;
}

/* Time left in words, rounded down: "1 hour 5 minutes left". */
static void
human_left(int64_t secs, char *buf, size_t sz)
{
	long long d = secs / 86400, h = secs % 86400 / 3600, m = secs % 3600 / 60;

	if (secs <= 0)
		snprintf(buf, sz, "closing now");
	else if (secs < 60)
		snprintf(buf, sz, "less than a minute left");
	else if (secs < 3600)
		snprintf(buf, sz, "%lld %s left", m, plural(m, "minute", "minutes"));
	else if (secs < 2 * 86400 && m)
		snprintf(buf, sz, "%lld %s %lld %s left", d * 24 + h, plural(d * 24 + h, "hour", "hours"), m,
			 plural(m, "minute", "minutes"));
	else if (secs < 2 * 86400)
		snprintf(buf, sz, "%lld %s left", d * 24 + h, plural(d * 24 + h, "hour", "hours"));
	else if (h)
		snprintf(buf, sz, "%lld days %lld %s left", d, h, plural(h, "hour", "hours"));
	else
		snprintf(buf, sz, "%lld days left", d);
}

/* Less time than this left: the page shows it in red, so whoever works on
 * the device knows to finish or ask for more time. */
#define SOON_S (10 * 60)
/* The page reloads itself this often (no script: a meta refresh), so one
 * left open on a phone stays current; the server regenerates it when the
 * registry changes and every minute (examples/nginx). */
#define REFRESH_S 60

static const char html_head[] =
	"<!DOCTYPE html>\n"
	"<html lang=\"en\">\n"
	"<head>\n"
	"<meta charset=\"utf-8\">\n"
	"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
	"<meta http-equiv=\"refresh\" content=\"%d\">\n"
	"<meta name=\"referrer\" content=\"no-referrer\">\n"
	"<meta name=\"robots\" content=\"noindex, nofollow\">\n"
	"<title>Open maintenance tunnels</title>\n"
	"<style>\n"
	"body { font-family: system-ui, sans-serif; line-height: 1.4; color: #1a1a1a;"
	" max-width: 80em; margin: 1em auto; padding: 0 1em; }\n"
	"h1 { font-size: 1.6em; margin: 0.3em 0; }\n"
	"table { border-collapse: collapse; width: 100%%; }\n"
	"th, td { text-align: left; vertical-align: top; padding: 0.5em 0.7em;"
	" border-bottom: 1px solid #ccc; }\n"
	"th { background: #eef1f4; }\n"
	"a.open { display: inline-block; padding: 0.3em 0.9em; border-radius: 0.3em;"
	" background: #0b5cad; color: #fff; font-weight: bold; text-decoration: none;"
	" white-space: nowrap; }\n"
	"a.open:hover, a.open:focus { background: #084a8c; }\n"
	".host { display: block; margin-top: 0.2em; font-size: 0.85em; color: #555;"
	" overflow-wrap: anywhere; }\n"
	".nw { white-space: nowrap; }\n"
	".brk { overflow-wrap: anywhere; }\n"
	".note { color: #555; }\n"
	".count { font-size: 1.15em; }\n"
	".empty { font-size: 1.3em; margin: 1.5em 0 0.5em; }\n"
	".nolink { color: #666; font-style: italic; }\n"
	".left { display: block; color: #555; }\n"
	".soon { color: #b00020; font-weight: bold; }\n"
	"@media (max-width: 50em) {\n"
	"  thead { display: none; }\n"
	"  table, tbody, tr, td { display: block; }\n"
	"  tr { border: 1px solid #ccc; border-radius: 0.4em; margin: 0 0 1em; padding: 0.4em 0.7em; }\n"
	"  td { border: none; padding: 0.2em 0; overflow-wrap: anywhere; }\n"
	"  .nw { white-space: normal; }\n"
	"  td::before { content: attr(data-label) \": \"; font-weight: bold; color: #444; }\n"
	"  .left { display: inline; }\n"
	"}\n"
	"</style>\n"
	"</head>\n"
	"<body>\n"
	"<h1>Open maintenance tunnels</h1>\n";

/* Values up to this long (ids like edge-0042, tunnel names, 192.0.2.50:443)
 * never wrap on a wide screen, so nothing breaks at a hyphen; longer ones
 * (a 63-byte device id) may wrap anywhere rather than widen the table. */
#define SHORT_MAX 24

static const char *
fit(const char *s)
{
	return strlen(s) <= SHORT_MAX ? "nw" : "brk";
}

/* One cell whose label the narrow (phone) layout shows before the value. */
static void
td_open(struct tc_sb *b, const char *label, const char *cls)
{
	tc_sb_printf(b, "<td data-label=\"%s\"%s%s%s>", label, cls ? " class=\"" : "", cls ? cls : "",
		  cls ? "\"" : "");
}

static void
html_row(struct tc_sb *b, const struct tc_gate_rec *r, const struct route *rt, int links, time_t now)
{
	char ports[64], since[HUMAN_TIME_MAX], until[HUMAN_TIME_MAX], left[64];

	ports_text(r, ports, sizeof(ports));
	human_time(r->started_at, now, since, sizeof(since));
	tc_sb_printf(b, "<tr>");
	td_open(b, "Device", fit(r->device));
	html_esc(b, r->device);
	tc_sb_printf(b, "</td>");
	td_open(b, "Tunnel", fit(r->tunnel));
	html_esc(b, r->tunnel);
	tc_sb_printf(b, "</td>");
	if (links) {
		switch (rt->kind) {
		case ROUTE_OK:
			/* A button-sized target for a finger; the address beneath,
			 * as the browser will show it. */
			td_open(b, "Web page", NULL);
			tc_sb_printf(b, "<a class=\"open\" href=\"https://");
			html_esc(b, rt->host);
			tc_sb_printf(b, "/\" target=\"_blank\" rel=\"noopener noreferrer\" aria-label=\"Open the page of ");
			html_esc(b, r->tunnel);
			tc_sb_printf(b, " on ");
			html_esc(b, r->device);
			tc_sb_printf(b, "\">Open page</a> <span class=\"host\">");
			html_host(b, rt->host);
			tc_sb_printf(b, "</span>");
			break;
		case ROUTE_SUPERSEDED:
			td_open(b, "Web page", "nolink");
			tc_sb_printf(b, "no link: a newer connection of this tunnel has it");
			break;
		case ROUTE_NO_PORT:
			td_open(b, "Web page", "nolink");
			tc_sb_printf(b, "no link: no server port");
			break;
		case ROUTE_NO_NAME:
			td_open(b, "Web page", "nolink");
			tc_sb_printf(b, "no link: this name cannot be a web address");
			break;
		}
		tc_sb_printf(b, "</td>");
	}
	td_open(b, "Closes", NULL);
	if (r->expires_at) {
		int64_t secs = r->expires_at - (int64_t)now;

		human_time(r->expires_at, now, until, sizeof(until));
		human_left(secs, left, sizeof(left));
		tc_sb_printf(b, "<span class=\"t\">%s</span> <span class=\"left%s\">(%s)</span>", until,
			  secs < SOON_S ? " soon" : "", left);
	} else {
		tc_sb_printf(b, "no time limit");
	}
	tc_sb_printf(b, "</td>");
	td_open(b, "Open since", NULL);
	tc_sb_printf(b, "<span class=\"t\">%s</span></td>", since);
	td_open(b, "Reaches (as the device says)", fit(r->target));
	html_esc(b, r->target);
	tc_sb_printf(b, "</td>");
	td_open(b, "Server port", NULL);
	tc_sb_printf(b, "%s</td></tr>\n", ports);
}

char *
tc_gate_out_html(const struct tc_gate_rec *v, size_t n, const char *domain, time_t now)
{
	struct tc_sb b = { 0 };
	struct route *rt;
	char made[HUMAN_TIME_MAX], zone[64];
	struct tm tm;
	size_t i;

	tzset();	/* TZ as it is now, not as it was at the first localtime_r */
	human_time(now, now, made, sizeof(made));
	if (localtime_r(&now, &tm))
		zone_text(&tm, 1, zone, sizeof(zone));
	else
		snprintf(zone, sizeof(zone), "UTC");
	tc_sb_printf(&b, html_head, REFRESH_S);
	tc_sb_printf(&b, "<p class=\"note\">As of %s. Times are in %s. This page reloads itself every "
		      "minute.</p>\n", made, zone);
	if (n == 0) {
		tc_sb_printf(&b, "<p class=\"empty\">No tunnels are open right now.</p>\n"
			      "<p class=\"note\">When a device opens a tunnel, it appears here.</p>\n"
			      "</body>\n</html>\n");
		return tc_sb_done(&b);
	}
	tc_sb_printf(&b, "<p class=\"count\">%zu tunnel%s open.", n, n == 1 ? " is" : "s are");
	if (domain)
		tc_sb_printf(&b, " <b>Open page</b> opens the device's own web page, through its tunnel.</p>\n");
	else
		tc_sb_printf(&b, "</p>\n<p class=\"note\">This list was made without a domain name, so it has "
			      "no links.</p>\n");
	tc_sb_printf(&b, "<table>\n<thead><tr><th>Device</th><th>Tunnel</th>%s<th>Closes</th>"
		      "<th>Open since</th><th>Reaches (as the device says)</th><th>Server port</th></tr>"
		      "</thead>\n<tbody>\n", domain ? "<th>Web page</th>" : "");
	rt = routes_make(v, n, domain);
	for (i = 0; i < n; i++)
		html_row(&b, &v[i], &rt[i], domain != NULL, now);
	free(rt);
	tc_sb_printf(&b, "</tbody>\n</table>\n</body>\n</html>\n");
	return tc_sb_done(&b);
}
