/* test_gateout: list's formats (lib/gateout.c): the contract's JSON, the
 * HTML page with hostile device-chosen text escaped, and the nginx map
 * with only valid host names. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "gateout.h"
#include "tap.h"

static void
rec(struct tc_gate_rec *r, const char *id, const char *dev, const char *tun, const char *target,
    unsigned port, int64_t started, int64_t expires)
{
	memset(r, 0, sizeof(*r));
	snprintf(r->id, sizeof(r->id), "%s", id);
	snprintf(r->device, sizeof(r->device), "%s", dev);
	snprintf(r->tunnel, sizeof(r->tunnel), "%s", tun);
	snprintf(r->target, sizeof(r->target), "%s", target);
	r->ports[0] = (uint16_t)port;
	r->nports = 1;
	snprintf(r->bind, sizeof(r->bind), "127.0.0.1");
	snprintf(r->client, sizeof(r->client), "198.51.100.2");
	r->started_at = started;
	r->expires_at = expires;
	r->pid = 4242;
}

static int
count(const char *s, const char *needle)
{
	int c = 0;

	for (; (s = strstr(s, needle)) != NULL; s++)
		c++;
	return c;
}

int
main(void)
{
	struct tc_gate_rec v[6];
	char *t, *warn, host[300];
	json_object *o, *s, *x;

	rec(&v[0], "00000000000000a1", "edge-0042", "inverter-web", "192.0.2.50:443", 8080, 1795000000, 1795003600);
	rec(&v[1], "00000000000000a2", "edge-0042", "ssh", "localhost:22", 40001, 1795000000, 0);

	t = tc_gate_out_json(v, 2);
	o = json_tokener_parse(t);
	ok(o && json_object_object_get_ex(o, "sessions", &s) && json_object_array_length(s) == 2, "JSON: two sessions");
	x = json_object_array_get_idx(s, 0);
	ok(json_object_object_length(x) == 10, "JSON: the contract's ten fields");
	is_str(json_object_get_string(json_object_object_get(x, "started_at")), "2026-11-18T11:06:40Z",
	       "started_at in RFC 3339 UTC");
	is_str(json_object_get_string(json_object_object_get(x, "expires_at")), "2026-11-18T12:06:40Z", "expires_at");
	ok(json_object_is_type(json_object_object_get(json_object_array_get_idx(s, 1), "expires_at"), json_type_null),
	   "no expiry: expires_at null");
	ok(json_object_get_int(json_object_array_get_idx(json_object_object_get(x, "ports"), 0)) == 8080, "ports array");
	json_object_put(o);
	free(t);
	t = tc_gate_out_json(v, 0);
	is_str(t, "{\"sessions\":[]}", "JSON: none");
	free(t);

	/* nginx map */
	t = tc_gate_out_nginx(v, 2, "tunnels.example.com", &warn);
	is_str(t, "inverter-web.edge-0042.tunnels.example.com https://127.0.0.1:8080;\n"
		  "ssh.edge-0042.tunnels.example.com http://127.0.0.1:40001;\n",
	       "nginx map: https for a 443 target, http otherwise");
	is_str(warn, "", "no warnings");
	free(t);
	free(warn);

	rec(&v[0], "00000000000000b1", "Edge-9", "web_ui", "192.0.2.50:443", 8081, 1, 0);
	rec(&v[1], "00000000000000b2", "Edge-9", "web", "192.0.2.50:80", 8082, 1, 0);
	rec(&v[2], "00000000000000b3", "Edge-9", "web", "192.0.2.50:80", 8083, 2, 0);
	rec(&v[3], "00000000000000b4", "site_3", "web", "192.0.2.50:80", 8084, 1, 0);
	rec(&v[4], "00000000000000b5", "a..b", "web", "192.0.2.50:80", 8085, 1, 0);
	t = tc_gate_out_nginx(v, 5, "example.com", &warn);
	is_str(t, "web.edge-9.example.com http://127.0.0.1:8083;\n",
	       "nginx map: lower case, newest session per name, no invalid names");
	ok(strstr(warn, "b1") && strstr(warn, "'_' is not allowed"), "warned: '_' in a tunnel name");
	ok(strstr(warn, "b2") && strstr(warn, "newer session"), "warned: superseded session");
	ok(strstr(warn, "b4") && strstr(warn, "b5"), "warned: device ids that are no host names");
	free(t);
	free(warn);
	v[0].bind[0] = '\0';
	snprintf(v[1].bind, sizeof(v[1].bind), "::1");
	t = tc_gate_out_nginx(&v[1], 1, "example.com", &warn);
	is_str(t, "web.edge-9.example.com http://[::1]:8082;\n", "an IPv6-only listener is reached on [::1]");
	free(t);
	free(warn);

	ok(tc_gate_host(&v[1], "example.com", host, sizeof(host)) == 0, "host name");
	ok(tc_gate_valid_domain("tunnels.example.com") && !tc_gate_valid_domain("-x.com") &&
	   !tc_gate_valid_domain("a..b") && !tc_gate_valid_domain("a b") && !tc_gate_valid_domain("x.com/")
	   && !tc_gate_valid_domain(""), "domain grammar");

	/* Names compared in lower case: devices "Edge-9" and "edge-9" are two
	 * ids but one host name, which the later session gets. */
	rec(&v[0], "00000000000000d1", "edge-9", "web", "192.0.2.50:80", 8091, 5, 0);
	rec(&v[1], "00000000000000d2", "Edge-9", "web", "192.0.2.50:80", 8092, 1, 0);
	t = tc_gate_out_nginx(v, 2, "example.com", &warn);
	is_str(t, "web.edge-9.example.com http://127.0.0.1:8091;\n", "nginx map: one line per name, case-folded");
	ok(strstr(warn, "d2") && strstr(warn, "newer session"), "warned: the other session of that name");
	free(t);
	free(warn);
	t = tc_gate_out_html(v, 2, "example.com", 1795000000);
	is_int(count(t, "<a "), 1, "HTML: the name is linked once");
	ok(strstr(t, "<a class=\"open\" href=\"https://web.edge-9.example.com/\""), "HTML: ... by the session the map routes");
	ok(strstr(t, "no link: a newer connection of this tunnel has it"), "HTML: the other row says why it has no link");
	free(t);

	/* HTML: a hostile device chooses its tunnel name (validated) and its
	 * claimed target (validated as HOST:PORT); the page escapes anyway,
	 * and so it does the device id, which comes from the operator. */
	setenv("TZ", "UTC", 1);
	rec(&v[0], "00000000000000c1", "edge-1", "web", "192.0.2.50:443", 8080, 1795000000, 1795003600);
	rec(&v[1], "00000000000000c2", "edge-1", "x", "<script>alert(1)</script>:1", 8081, 1795000000, 0);
	snprintf(v[1].target, sizeof(v[1].target), "<script>\"'&:1");
	rec(&v[2], "00000000000000c3", "<b>dev", "<i>t</i>", "<img src=x onerror=alert(1)>", 8082, 1795000000, 0);
	t = tc_gate_out_html(v, 3, "example.com", 1795000000);
	ok(strstr(t, "<!DOCTYPE html>") && strstr(t, "</html>"), "HTML: a whole page");
	ok(!strstr(t, "<script") && strstr(t, "&lt;script&gt;&quot;&#39;&amp;:1"), "HTML: claimed target escaped");
	ok(!strstr(t, "<b>dev") && !strstr(t, "<i>") && !strstr(t, "<img") && strstr(t, "&lt;b&gt;dev") &&
	   strstr(t, "&lt;i&gt;t&lt;/i&gt;") && strstr(t, "&lt;img src=x onerror=alert(1)&gt;"),
	   "HTML: device id and tunnel name escaped too");
	ok(strstr(t, "<a class=\"open\" href=\"https://web.edge-1.example.com/\" target=\"_blank\" "
		     "rel=\"noopener noreferrer\" aria-label=\"Open the page of web on edge-1\">Open page</a> "
		     "<span class=\"host\">web.<wbr>edge-1.<wbr>example.<wbr>com</span>"),
	   "HTML: link per session, opening in a new tab, its address beside it");
	ok(strstr(t, "<span class=\"t\">Wed&nbsp;18&nbsp;Nov, 12:06&nbsp;UTC</span> <span class=\"left\">(1 hour left)</span>"),
	   "HTML: closing time with time left, zone stated");
	ok(strstr(t, "As of Wed&nbsp;18&nbsp;Nov, 11:06&nbsp;UTC."), "HTML: when the page was made");
	ok(strstr(t, "Times are in UTC."), "HTML: the zone said once for the page");
	ok(strstr(t, "no time limit"), "HTML: no expiry said plainly");
	ok(strstr(t, "3 tunnels are open."), "HTML: how many");
	ok(strstr(t, "<td data-label=\"Device\" class=\"nw\">edge-1</td>"), "HTML: cells carry their label for the phone layout");
	ok(strstr(t, "@media (max-width: 50em)") && strstr(t, "name=\"viewport\""), "HTML: a layout for phones");
	ok(strstr(t, "<meta http-equiv=\"refresh\" content=\"60\">"), "HTML: reloads itself every minute, without script");
	ok(!strstr(t, "src=\"") && !strstr(t, "http://") && !strstr(t, "<link") && !strstr(t, "<script"),
	   "HTML: no external asset, no script");
	ok(strstr(t, "no link: this name cannot be a web address"), "HTML: a name that is no host name gets no link, and says why");
	free(t);

	/* Short values never wrap on a wide screen; a 63-byte id may. */
	rec(&v[4], "00000000000000c5", "gateway-0000000000000000000000000000000000000000000000000000042", "web",
	    "192.0.2.50:80", 8084, 1795000000, 0);
	t = tc_gate_out_html(&v[4], 1, "example.com", 1795000000);
	ok(strstr(t, "<td data-label=\"Device\" class=\"brk\">gateway-") &&
	   strstr(t, "<td data-label=\"Tunnel\" class=\"nw\">web</td>"), "HTML: long values may wrap, short ones do not");
	ok(strstr(t, "<span class=\"host\">web.<wbr>gateway-"), "HTML: the address may wrap after its dots");
	free(t);

	/* The time zone is the server's (TZ), stated; a POSIX TZ string needs no tzdata. */
	setenv("TZ", "CET-1CEST,M3.5.0,M10.5.0/3", 1);
	t = tc_gate_out_html(v, 1, "example.com", 1795000000);
	ok(strstr(t, "Times are in CET (UTC+01:00).") && strstr(t, "Wed&nbsp;18&nbsp;Nov, 13:06&nbsp;CET"),
	   "HTML: times in the server's zone, with its offset");
	free(t);
	setenv("TZ", "<+0530>-5:30", 1);
	t = tc_gate_out_html(v, 1, "example.com", 1795000000);
	ok(strstr(t, "Times are in UTC+05:30.") && strstr(t, "Wed&nbsp;18&nbsp;Nov, 17:36&nbsp;UTC+05:30"),
	   "HTML: a zone without a name is shown by its offset");
	free(t);
	setenv("TZ", "UTC", 1);
	/* The year is shown when it is not the year the page is made in. */
	rec(&v[3], "00000000000000c4", "edge-1", "y", "192.0.2.50:80", 8083, 1795000000, 1830000000);
	t = tc_gate_out_html(&v[3], 1, "example.com", 1795000000);
	ok(strstr(t, "Open since\"><span class=\"t\">Wed&nbsp;18&nbsp;Nov, 11:06&nbsp;UTC</span>") &&
	   strstr(t, "Tue&nbsp;28&nbsp;Dec&nbsp;2027, 13:20&nbsp;UTC"),
	   "HTML: a time in another year shows its year");
	free(t);

	/* Time left in words, singular and plural. */
	{
		static const struct { int64_t left; const char *want; } tl[] = {
			{ 30, "(less than a minute left)" }, { 60, "(1 minute left)" },
			{ 599, "(9 minutes left)" }, { 3600 + 60, "(1 hour 1 minute left)" },
			{ 2 * 3600 + 5 * 60, "(2 hours 5 minutes left)" }, { 47 * 3600, "(47 hours left)" },
			{ 3 * 86400 + 3600, "(3 days 1 hour left)" }, { 3 * 86400, "(3 days left)" },
		};
		size_t j;

		for (j = 0; j < sizeof(tl) / sizeof(tl[0]); j++) {
			rec(&v[0], "00000000000000e1", "edge-1", "web", "192.0.2.50:443", 8080, 1795000000,
			    1795000000 + tl[j].left);
			t = tc_gate_out_html(v, 1, "example.com", 1795000000);
			ok(strstr(t, tl[j].want), "HTML: %lld s left reads '%s'", (long long)tl[j].left, tl[j].want);
			ok(!strstr(t, "left soon") == (tl[j].left >= 600), "HTML: %lld s left %s red",
			   (long long)tl[j].left, tl[j].left < 600 ? "is" : "is not");
			free(t);
		}
	}

	rec(&v[0], "00000000000000c1", "edge-1", "web", "192.0.2.50:443", 8080, 1795000000, 1795003600);
	t = tc_gate_out_html(v, 2, NULL, 1795000000);
	ok(!strstr(t, "<a ") && strstr(t, "no links"), "HTML without --domain: no links, and says so");
	free(t);
	t = tc_gate_out_html(v, 0, "example.com", 1795000000);
	ok(strstr(t, "No tunnels are open right now.") && !strstr(t, "<table"), "HTML: no sessions said plainly");
	free(t);
	t = tc_gate_out_table(v, 1, 1795000000);
	ok(strstr(t, "DEVICE") && strstr(t, "edge-1") && strstr(t, "2026-11-18T12:06:40Z"), "table");
	free(t);
	return tap_done();
}
