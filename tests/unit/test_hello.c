/* test_hello: the hello grammar (lib/hello.c): what is accepted, and that
 * every kind of hostile or malformed hello is refused with a reason. */
#include <stdio.h>
#include <string.h>

#include "hello.h"
#include "tap.h"

static int
parse(const char *s, struct tc_hello *h, struct tc_err *err)
{
	return tc_hello_parse(s, strlen(s), h, err);
}

static void
refused(const char *s, const char *why_part, const char *desc)
{
	struct tc_hello h;
	struct tc_err err = { TC_OK, "" };
	int r = parse(s, &h, &err);

	ok(r == -1 && err.kind == TC_ERR_INVALID && strstr(err.msg, why_part), "refused: %s", desc);
	if (r != -1 || !strstr(err.msg, why_part))
		printf("#   message: %s\n", err.msg);
}

int
main(void)
{
	struct tc_hello h;
	struct tc_err err;
	char big[700];

	ok(parse("tunnelctl-gate hello 1 tunnel=web target=192.0.2.50:443 expires=0", &h, &err) == 0,
	   "the contract's hello parses");
	is_str(h.tunnel, "web", "tunnel");
	is_str(h.target, "192.0.2.50:443", "target as sent");
	is_str(h.target_host, "192.0.2.50", "target host");
	is_int(h.target_port, 443, "target port");
	is_int(h.expires, 0, "expires=0: no expiry");

	ok(parse("tunnelctl-gate hello 1 expires=1795000000 target=[2001:db8::1]:22 tunnel=inverter_web-2",
		 &h, &err) == 0, "keys in another order, IPv6 target, _ and - in the name");
	is_int(h.expires, 1795000000, "expires parsed");
	is_str(h.target_host, "2001:db8::1", "v6 host without brackets");
	ok(parse("tunnelctl-gate hello 1 tunnel=a target=localhost:22 expires=253402300799", &h, &err) == 0,
	   "a DNS target and the latest expires accepted");

	refused("", "empty", "empty hello");
	refused("tunnelctl-gate hello 2 tunnel=web target=192.0.2.50:443 expires=0", "version", "version 2");
	refused("tunnelctl-gate hello tunnel=web target=192.0.2.50:443 expires=0", "version", "no version");
	refused("tunnelctl-gate hullo 1 tunnel=web target=192.0.2.50:443 expires=0", "not a hello", "wrong verb");
	refused("/usr/sbin/tunnelctl-gate hello 1 tunnel=web target=192.0.2.50:443 expires=0", "not a hello",
		"a path instead of the program name");
	refused("tunnelctl-gate hello 1 tunnel=web target=192.0.2.50:443", "missing", "expires missing");
	refused("tunnelctl-gate hello 1 tunnel=web tunnel=web expires=0", "twice",
		"repeated key");
	refused("tunnelctl-gate hello 1 tunnel=web target=192.0.2.50:443 expires=0 device=edge-9", "more than",
		"a seventh word (another device's name)");
	refused("tunnelctl-gate hello 1 tunnel=web target=192.0.2.50:443 device=edge-9", "unknown key",
		"unknown key device=");
	refused("tunnelctl-gate hello 1 tunnel=Web target=192.0.2.50:443 expires=0", "not a name",
		"upper case name");
	refused("tunnelctl-gate hello 1 tunnel=-web target=192.0.2.50:443 expires=0", "not a name",
		"name starting with -");
	refused("tunnelctl-gate hello 1 tunnel=abcdefghijabcdefghijabcdefghijabc target=192.0.2.50:443 expires=0",
		"not a name", "33-byte name");
	refused("tunnelctl-gate hello 1 tunnel=web;id target=192.0.2.50:443 expires=0", "not a name",
		"; in the name");
	refused("tunnelctl-gate hello 1 tunnel=web target=$(id):443 expires=0", "target", "$() in the target");
	refused("tunnelctl-gate hello 1 tunnel=web target=`id`:443 expires=0", "target", "backticks in the target");
	refused("tunnelctl-gate hello 1 tunnel=web target=192.0.2.50 expires=0", "target", "target without port");
	refused("tunnelctl-gate hello 1 tunnel=web target=192.0.2.50:0 expires=0", "target", "target port 0");
	refused("tunnelctl-gate hello 1 tunnel=web target=-oProxyCommand=x:22 expires=0", "target",
		"target that is an option");
	refused("tunnelctl-gate hello 1 tunnel=web target=192.0.2.50:443 expires=-1", "unix time", "negative expires");
	refused("tunnelctl-gate hello 1 tunnel=web target=192.0.2.50:443 expires=0123", "unix time",
		"leading zero");
	refused("tunnelctl-gate hello 1 tunnel=web target=192.0.2.50:443 expires=253402300800", "unix time",
		"expires after year 9999");
	refused("tunnelctl-gate hello 1 tunnel=web target=192.0.2.50:443 expires=1e9", "unix time",
		"expires not decimal");
	refused("tunnelctl-gate hello 1  tunnel=web target=192.0.2.50:443 expires=0", "one space", "double space");
	refused(" tunnelctl-gate hello 1 tunnel=web target=192.0.2.50:443 expires=0", "one space", "leading space");
	refused("tunnelctl-gate hello 1 tunnel=web target=192.0.2.50:443 expires=0 ", "one space",
		"trailing space");
	refused("tunnelctl-gate hello 1 tunnel=web\ttarget=192.0.2.50:443 expires=0", "control", "a tab");
	refused("tunnelctl-gate hello 1 tunnel=web target=192.0.2.50:443 expires=0\n", "control", "a newline");
	refused("tunnelctl-gate hello 1 tunnel=web target=192.0.2.50:443 expires=0\x1b[31m", "control",
		"an escape sequence");
	refused("tunnelctl-gate hello 1 tunnel=w\xc3\xa9 target=192.0.2.50:443 expires=0", "printable",
		"non-ASCII");
	refused("tunnelctl-gate hello 1 tunnelweb target=192.0.2.50:443 expires=0", "KEY=VALUE", "no =");

	{
		const char nul[] = "tunnelctl-gate hello 1 tunnel=web\0x target=192.0.2.50:443 expires=0";

		err.msg[0] = '\0';
		ok(tc_hello_parse(nul, sizeof(nul) - 1, &h, &err) == -1 && strstr(err.msg, "NUL"),
		   "refused: a NUL byte inside");
	}
	memset(big, 'a', sizeof(big));
	memcpy(big, "tunnelctl-gate hello 1 tunnel=web target=", 41);
	big[sizeof(big) - 1] = '\0';
	refused(big, "longer than 512", "a 699-byte hello");
	/* 512 bytes exactly is the limit, not over it: a long DNS target. */
	{
		char host[300], s[600];
		int n;

		memset(host, 'a', sizeof(host));
		host[0] = 'h';
		for (n = 63; n < 250; n += 64)
			host[n] = '.';
		host[253] = '\0';
		n = snprintf(s, sizeof(s), "tunnelctl-gate hello 1 tunnel=web target=%s:65535 expires=0", host);
		ok(n < 512 && parse(s, &h, &err) == 0, "a 253-byte target host fits (%d bytes)", n);
	}
	refused("tunnelctl-gate hello 1 tunnel=web target=192.0.2.50:443 expires=0 x=1 y=2 z=3", "more than",
		"too many words");
	return tap_done();
}
