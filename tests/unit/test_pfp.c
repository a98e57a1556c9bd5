/* test_pfp.c: SORACOM's portForwardParam grammar, and every hostile value
 * refused with a message naming the part (RELIABILITY S01/S02/S16). */
#include <string.h>

#include "pfp.h"
#include "tap.h"

static void
pfp_ok(const char *p, const char *bind, unsigned rport, const char *th, unsigned tport, unsigned port,
       const char *user, const char *host)
{
	struct tc_spec s;
	struct tc_err err;
	int rc;

	tc_spec_init(&s);
	rc = tc_parse_pfp(p, &s, "pfp", &err);
	ok(rc == 0 && strcmp(s.remote_bind, bind) == 0 && s.remote_port == rport &&
	   strcmp(s.target_host, th) == 0 && s.target_port == tport && s.port == port &&
	   strcmp(s.user, user) == 0 && strcmp(s.host, host) == 0, "pfp accepts '%s'", p);
	if (rc < 0)
		printf("#   %s\n", err.msg);
}

static void
pfp_bad(const char *p, const char *want)
{
	struct tc_spec s;
	struct tc_err err;
	char label[128];
	size_t i;
	int rc;

	/* TAP labels must stay on one line */
	for (i = 0; p[i] != '\0' && i < sizeof(label) - 1; i++)
		label[i] = (p[i] >= 0x20 && p[i] < 0x7f) ? p[i] : '?';
	label[i] = '\0';
	tc_spec_init(&s);
	memset(&err, 0, sizeof(err));
	rc = tc_parse_pfp(p, &s, "portForwardParam", &err);
	ok(rc < 0 && strstr(err.msg, want) != NULL && strncmp(err.msg, "portForwardParam: ", 18) == 0 &&
	   s.host[0] == '\0', "pfp refuses '%s'", label);
	if (rc == 0 || strstr(err.msg, want) == NULL)
		printf("#   rc=%d %s\n", rc, err.msg);
}

static void
test_pfp(void)
{
	pfp_ok("8080:localhost:22 tunnel@203.0.113.10", "127.0.0.1", 8080, "localhost", 22, 22, "tunnel", "203.0.113.10");
	pfp_ok("127.0.0.1:8080:192.0.2.50:443 -p 2222 t@srv.example.com", "127.0.0.1", 8080, "192.0.2.50", 443,
	       2222, "t", "srv.example.com");
	pfp_ok("0:localhost:22 t@h", "127.0.0.1", 0, "localhost", 22, 22, "t", "h");
	pfp_ok("8080:localhost:22 t@2001:db8::1", "127.0.0.1", 8080, "localhost", 22, 22, "t", "2001:db8::1");
	pfp_ok("65535:localhost:65535 t@h", "127.0.0.1", 65535, "localhost", 65535, 22, "t", "h");
	/* Defect: SORACOM's form could not say IPv6, though ssh and the native
	 * schema can: bracketed literals in BIND, THOST and the server host. */
	pfp_ok("8080:[::1]:22 t@h", "127.0.0.1", 8080, "::1", 22, 22, "t", "h");
	pfp_ok("[::1]:8080:[2001:db8::5]:22 t@h", "::1", 8080, "2001:db8::5", 22, 22, "t", "h");
	pfp_ok("8080:localhost:22 user@[2001:db8::1]", "127.0.0.1", 8080, "localhost", 22, 22, "user", "2001:db8::1");
	pfp_ok("[2001:db8::7]:0:192.0.2.50:443 -p 2222 t@[2001:db8::1]", "2001:db8::7", 0, "192.0.2.50", 443, 2222,
	       "t", "2001:db8::1");
	pfp_ok("127.0.0.1:8080:[::ffff:192.0.2.1]:22 t@h", "127.0.0.1", 8080, "::ffff:192.0.2.1", 22, 22, "t", "h");

	pfp_bad("", "is not");
	pfp_bad("8080:localhost:22", "is not");
	pfp_bad("8080:localhost:22 h", "is not USER@HOST");
	pfp_bad("8080:localhost:22  t@h", "single spaces");
	pfp_bad(" 8080:localhost:22 t@h", "single spaces");
	pfp_bad("8080:localhost:22 t@h ", "single spaces");
	pfp_bad("8080:localhost:22\tt@h", "is not");
	pfp_bad("8080:localhost:22 t@h\n", "server host");
	pfp_bad("8080:localhost:22\nt@h", "is not");
	pfp_bad("2222:localhost:22 u@h -oProxyCommand=touch /tmp/pwn", "'u@h' is not -p");
	pfp_bad("2222:localhost:22 u@h -oProxyCommand=x", "is not [BIND");
	pfp_bad("2222:localhost:22 -oProxyCommand=x u@h", "single spaces");
	pfp_bad("2222:localhost:22 -p 22 -oProxyCommand=x@h", "user '-oProxyCommand=x'");
	pfp_bad("2222:localhost:22 -o 22 u@h", "is not -p");
	pfp_bad("2222:localhost:22 -p 0 u@h", "server port: '0'");
	pfp_bad("2222:localhost:22 -p -1 u@h", "server port");
	pfp_bad("2222:localhost:22 -p 22x u@h", "server port");
	pfp_bad("*:2222:localhost:22 u@h", "bind address '*'");
	pfp_bad(":2222:localhost:22 u@h", "bind address ''");
	pfp_bad("[::]:2222:localhost:22 u@h", "bind address '::' is a wildcard");
	pfp_bad("[0:0::0]:2222:localhost:22 u@h", "bind address '0:0::0' is a wildcard");
	pfp_bad("8080:::1:22 u@h", "an IPv6 address goes in brackets");
	pfp_bad("2001:db8::5:8080:localhost:22 u@h", "an IPv6 address goes in brackets");
	pfp_bad("8080:[localhost]:22 u@h", "target host '[localhost]': brackets are for IPv6 addresses only");
	pfp_bad("[127.0.0.1]:8080:localhost:22 u@h", "bind address '[127.0.0.1]': brackets are for IPv6 addresses only");
	pfp_bad("8080:[::1:22 u@h", "is not [BIND:]RPORT");
	pfp_bad("8080:[::1]22 u@h", "is not [BIND:]RPORT");
	pfp_bad("8080:[::1]:[22] u@h", "is not [BIND:]RPORT");
	pfp_bad("[8080]:localhost:22 u@h", "is not [BIND:]RPORT");
	pfp_bad("8080:[]:22 u@h", "target host '[]'");
	pfp_bad("8080:[-oProxyCommand=x]:22 u@h", "target host '[-oProxyCommand=x]'");
	pfp_bad("8080:[::1;id]:22 u@h", "target host '[::1;id]'");
	pfp_bad("8080:[fe80::1%eth0]:22 u@h", "target host '[fe80::1%eth0]'");
	pfp_bad("8080:[::1]]:22 u@h", "is not [BIND:]RPORT");
	pfp_bad("8080:[[::1]]:22 u@h", "is not [BIND:]RPORT");
	pfp_bad("8080:localhost:22 u@[localhost]", "server host '[localhost]': brackets are for IPv6 addresses only");
	pfp_bad("8080:localhost:22 u@[::1", "server host '[::1'");
	pfp_bad("8080:localhost:22 u@[::1]:22", "server host '[::1]:22'");
	pfp_bad("8080:localhost:22 u@[-oProxyCommand=x]", "server host '[-oProxyCommand=x]'");
	pfp_bad("8080:localhost:22 u@[::1]x", "server host '[::1]x'");
	pfp_bad("0.0.0.0:2222:localhost:22 u@h", "bind address '0.0.0.0' is a wildcard");
	pfp_bad("::1:2222:localhost:22 u@h", "an IPv6 address goes in brackets");
	pfp_bad("-1:localhost:22 u@h", "remote port");
	pfp_bad("65536:localhost:22 u@h", "remote port: '65536'");
	pfp_bad("2222:localhost:0 u@h", "target port: '0'");
	pfp_bad("2222:localhost:22x u@h", "target port");
	pfp_bad("2222:-oProxyCommand=x:22 u@h", "target host '-oProxyCommand=x'");
	pfp_bad("2222:h;id:22 u@h", "target host 'h;id'");
	pfp_bad("2222:localhost u@h", "is not [BIND:]RPORT");
	pfp_bad("a:b:c:d:e u@h", "is not [BIND:]RPORT");
	pfp_bad("2222:localhost:22 u@", "server host ''");
	pfp_bad("2222:localhost:22 @h", "user ''");
	pfp_bad("2222:localhost:22 u@-oProxyCommand=x", "server host '-oProxyCommand=x'");
	pfp_bad("2222:localhost:22 u@h;id", "server host 'h;id'");
	pfp_bad("2222:localhost:22 u@$(id)", "server host '$(id)'");
	pfp_bad("2222:localhost:22 u@`id`", "server host '`id`'");
	pfp_bad("2222:localhost:22 --@h", "user '--'");
	pfp_bad("2222:localhost:22 -M 1", "is not [BIND");
	pfp_bad("2222:localhost:22 -f u@h", "is not");
	pfp_bad("-R 2222:localhost:22 u@h", "is not");
	pfp_bad("2222:localhost:22 -- u@h", "is not");
}

int
main(void)
{
	test_pfp();
	return tap_done();
}
