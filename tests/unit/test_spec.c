/* test_spec.c: field validators, parsers, validate, digest, sha256. */
#include <stdlib.h>
#include <string.h>

#include "sha256.h"
#include "spec.h"
#include "tap.h"

#define ED25519 "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAi1mg3KE2v9z8nlOSzoQpVBS8xBp1uO1B9/EvBpvRUU"
#define PEM "-----BEGIN OPENSSH PRIVATE KEY-----\nAAAASECRETKEYBYTES\n-----END OPENSSH PRIVATE KEY-----\n"

static void
test_sha256(void)
{
	char hex[65];
	char *big;
	struct tc_sha256 c;
	unsigned char d[32];
	int i;

	tc_sha256_hex("", 0, hex);
	is_str(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", "sha256 empty");
	tc_sha256_hex("abc", 3, hex);
	is_str(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", "sha256 abc");
	tc_sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 56, hex);
	is_str(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1", "sha256 two blocks (56 bytes)");
	big = malloc(1000000);
	memset(big, 'a', 1000000);
	tc_sha256_hex(big, 1000000, hex);
	is_str(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0", "sha256 million a");
	/* the same, fed in odd pieces */
	tc_sha256_init(&c);
	for (i = 0; i < 1000000; i += 7)
		tc_sha256_update(&c, big + i, (size_t)(1000000 - i < 7 ? 1000000 - i : 7));
	tc_sha256_final(&c, d);
	ok(d[0] == 0xcd && d[31] == 0xd0, "sha256 incremental matches one-shot");
	free(big);
}

static void
test_names(void)
{
	ok(tc_valid_name("a"), "name a");
	ok(tc_valid_name("inverter-web_2"), "name with - and _");
	ok(tc_valid_name("0abc"), "name starting with digit");
	ok(tc_valid_name("abcdefghijabcdefghijabcdefghij12"), "name of 32");
	ok(!tc_valid_name("abcdefghijabcdefghijabcdefghij123"), "name of 33");
	ok(!tc_valid_name(""), "empty name");
	ok(!tc_valid_name("-x"), "name starting with -");
	ok(!tc_valid_name("_x"), "name starting with _");
	ok(!tc_valid_name("Ab"), "uppercase name");
	ok(!tc_valid_name("a.b"), "name with dot");
	ok(!tc_valid_name("../x"), "name traversal");
	ok(!tc_valid_name("a b"), "name with space");
	ok(!tc_valid_name(NULL), "NULL name");
}

static void
test_hosts(void)
{
	static const char *good[] = { "localhost", "example.com", "a-b.example.com", "192.0.2.50",
		"203.0.113.10", "::1", "2001:db8::1", "x", "a1", "1a.example", "xn--bcher-kva.example",
		"::ffff:192.0.2.1", "EXAMPLE.COM" };
	static const char *bad[] = { "", "-oProxyCommand=touch /tmp/pwn", "-h", "h;id", "$(id)", "`id`",
		"a..b", ".a", "a.", "a-.b", "a.-b", "a b", "a\nb", "a\tb", "h:22", "[::1]", "fe80::1%eth0",
		"127.1", "999.1.1.1", "0x7f000001", "1.2.3.04", "256.1.1.1", "01.2.3.4", "a_b.example",
		"a\n[OK] tunnel up", "\x1b[31m", "exa\xc3\xa9mple", "*", "user@host", "a/b" };
	char label64[80], long254[300];
	size_t i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		ok(tc_valid_host(good[i]), "host valid: %s", good[i]);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ok(!tc_valid_host(bad[i]), "host invalid #%zu", i);
	memset(label64, 'a', 64);
	label64[64] = '\0';
	ok(!tc_valid_host(label64), "64-char label");
	label64[63] = '\0';
	ok(tc_valid_host(label64), "63-char label");
	/* 253 = 63+1+63+1+63+1+61 */
	memset(long254, 'a', sizeof(long254));
	long254[63] = long254[127] = long254[191] = '.';
	long254[253] = '\0';
	ok(tc_valid_host(long254), "253-char name");
	long254[253] = 'a';
	long254[254] = '\0';
	ok(!tc_valid_host(long254), "254-char name");
	ok(!tc_valid_host(NULL), "NULL host");
}

static void
test_same_host(void)
{
	ok(tc_same_host("203.0.113.10", "203.0.113.10"), "same IPv4");
	ok(!tc_same_host("203.0.113.10", "203.0.113.11"), "other IPv4");
	ok(tc_same_host("2001:db8::1", "2001:0db8:0:0::1"), "IPv6 written two ways");
	ok(!tc_same_host("2001:db8::1", "2001:db8::2"), "other IPv6");
	ok(tc_same_host("Tunnel.Example.com", "tunnel.example.COM"), "names differ only in case");
	ok(!tc_same_host("tunnel.example.com", "tunnel2.example.com"), "other name");
	ok(!tc_same_host("localhost", "127.0.0.1"), "a name is not an address (no DNS)");
	ok(!tc_same_host("127.0.0.1", "::ffff:127.0.0.1"), "IPv4 and IPv4-mapped IPv6 differ");
}

static void
test_users(void)
{
	ok(tc_valid_user("tunnel"), "user tunnel");
	ok(tc_valid_user("Tun.nel_1-x"), "user with . _ -");
	ok(tc_valid_user("_svc"), "user starting with _");
	ok(tc_valid_user("abcdefghijabcdefghijabcdefghij12"), "user of 32");
	ok(!tc_valid_user("abcdefghijabcdefghijabcdefghij123"), "user of 33");
	ok(!tc_valid_user(""), "empty user");
	ok(!tc_valid_user("-oProxyCommand=x"), "user starting with -");
	ok(!tc_valid_user("u;id"), "user with ;");
	ok(!tc_valid_user("u@h"), "user with @");
	ok(!tc_valid_user("u h"), "user with space");
	ok(!tc_valid_user("u\n"), "user with newline");
	ok(!tc_valid_user("$(id)"), "user with $()");
	ok(!tc_valid_user("--"), "user --");
}

static void
test_ifnames(void)
{
	ok(tc_valid_ifname("wwan0"), "ifname wwan0");
	ok(tc_valid_ifname("enp0s20f0u2i4"), "ifname enp0s20f0u2i4 (13)");
	ok(tc_valid_ifname("ppp0.100_a-b"), "ifname with . _ -");
	ok(tc_valid_ifname("abcdefghijklmno"), "ifname of 15");
	ok(!tc_valid_ifname("abcdefghijklmnop"), "ifname of 16 (IFNAMSIZ)");
	ok(!tc_valid_ifname(""), "empty ifname");
	ok(!tc_valid_ifname(NULL), "NULL ifname");
	ok(!tc_valid_ifname("."), "ifname .");
	ok(!tc_valid_ifname(".."), "ifname ..");
	ok(!tc_valid_ifname("-x"), "ifname starting with -");
	ok(!tc_valid_ifname("a/b"), "ifname with /");
	ok(!tc_valid_ifname("eth0:1"), "ifname with :");
	ok(!tc_valid_ifname("if!eth0"), "ifname with ! (curl's prefix)");
	ok(!tc_valid_ifname("eth 0"), "ifname with space");
	ok(!tc_valid_ifname("eth0\n"), "ifname with newline");
}

static void
test_ports(void)
{
	struct tc_err err;
	uint16_t p = 0;

	ok(tc_parse_port("22", 0, &p, "--x", &err) == 0 && p == 22, "port 22");
	ok(tc_parse_port("65535", 0, &p, "--x", &err) == 0 && p == 65535, "port 65535");
	ok(tc_parse_port("1", 0, &p, "--x", &err) == 0 && p == 1, "port 1");
	ok(tc_parse_port("0", 1, &p, "--x", &err) == 0 && p == 0, "port 0 allowed");
	ok(tc_parse_port("0", 0, &p, "--x", &err) < 0, "port 0 refused");
	ok(tc_parse_port("65536", 0, &p, "--x", &err) < 0, "port 65536");
	ok(tc_parse_port("-1", 0, &p, "--x", &err) < 0, "port -1");
	ok(tc_parse_port("+22", 0, &p, "--x", &err) < 0, "port +22");
	ok(tc_parse_port(" 22", 0, &p, "--x", &err) < 0, "port with space");
	ok(tc_parse_port("22 ", 0, &p, "--x", &err) < 0, "port with trailing space");
	ok(tc_parse_port("22abc", 0, &p, "--x", &err) < 0, "port 22abc");
	ok(tc_parse_port("022", 0, &p, "--x", &err) < 0, "port with leading zero");
	ok(tc_parse_port("100000", 0, &p, "--x", &err) < 0, "port of 6 digits");
	ok(tc_parse_port("", 0, &p, "--x", &err) < 0, "empty port");
	ok(tc_parse_port("0x16", 0, &p, "--x", &err) < 0, "hex port");
	ok(tc_parse_port("99999999999", 0, &p, "--remote-port", &err) < 0, "huge port");
	is_str(err.msg, "--remote-port: '99999999999' is not a port (1-65535)", "port message");
	is_int(err.kind, TC_ERR_INVALID, "port error kind");
}

static void
test_durations(void)
{
	struct tc_err err;
	int64_t s = -1;

	ok(tc_parse_duration("90", &s, "--timeout", &err) == 0 && s == 90, "duration 90");
	ok(tc_parse_duration("90s", &s, "--timeout", &err) == 0 && s == 90, "duration 90s");
	ok(tc_parse_duration("30m", &s, "--timeout", &err) == 0 && s == 1800, "duration 30m");
	ok(tc_parse_duration("2h", &s, "--timeout", &err) == 0 && s == 7200, "duration 2h");
	ok(tc_parse_duration("1d", &s, "--timeout", &err) == 0 && s == 86400, "duration 1d");
	ok(tc_parse_duration("365d", &s, "--timeout", &err) == 0 && s == 31536000, "duration 365d");
	ok(tc_parse_duration("366d", &s, "--timeout", &err) < 0, "duration 366d");
	ok(tc_parse_duration("1000000000000", &s, "--timeout", &err) < 0, "duration 10^12");
	ok(tc_parse_duration("99999999999999999999999999", &s, "--timeout", &err) < 0, "duration overflow");
	ok(tc_parse_duration("0", &s, "--timeout", &err) < 0, "duration 0");
	ok(tc_parse_duration("0s", &s, "--timeout", &err) < 0, "duration 0s");
	ok(tc_parse_duration("-5", &s, "--timeout", &err) < 0, "duration -5");
	ok(tc_parse_duration("3.5", &s, "--timeout", &err) < 0, "duration 3.5");
	ok(tc_parse_duration("1hm", &s, "--timeout", &err) < 0, "duration 1hm");
	ok(tc_parse_duration("h", &s, "--timeout", &err) < 0, "duration h");
	ok(tc_parse_duration("", &s, "--timeout", &err) < 0, "duration empty");
	ok(tc_parse_duration(" 1h", &s, "--timeout", &err) < 0, "duration with space");
	ok(tc_parse_duration("1H", &s, "--timeout", &err) < 0, "duration 1H");
	ok(tc_parse_duration("090s", &s, "--timeout", &err) < 0, "duration with a leading zero (num.h's rule)");
	ok(tc_parse_duration("00", &s, "--timeout", &err) < 0, "duration 00");
	ok(tc_parse_duration("+5", &s, "--timeout", &err) < 0, "duration +5");
	ok(tc_parse_duration("31536000", &s, "--timeout", &err) == 0 && s == 31536000, "duration 31536000 (365d in s)");
	ok(tc_parse_duration("31536001", &s, "--timeout", &err) < 0 && strstr(err.msg, "longer than 365d") != NULL,
	   "duration 31536001 is longer than 365d");
	ok(tc_parse_duration("5x", &s, "--timeout", &err) < 0, "duration 5x");
	is_str(err.msg, "--timeout: '5x' is not a duration (90, 90s, 30m, 2h, 1d)", "duration message");
}

static void
test_hostport(void)
{
	struct tc_err err;
	char h[TC_HOST_MAX + 1], u[TC_USER_MAX + 1], small[4];
	uint16_t p;

	ok(tc_parse_hostport("192.0.2.50:443", h, sizeof(h), &p, "--target", &err) == 0 &&
	   strcmp(h, "192.0.2.50") == 0 && p == 443, "hostport v4");
	ok(tc_parse_hostport("localhost:22", h, sizeof(h), &p, "--target", &err) == 0 &&
	   strcmp(h, "localhost") == 0 && p == 22, "hostport name");
	ok(tc_parse_hostport("[2001:db8::1]:8443", h, sizeof(h), &p, "--target", &err) == 0 &&
	   strcmp(h, "2001:db8::1") == 0 && p == 8443, "hostport v6");
	ok(tc_parse_hostport("2001:db8::1:22", h, sizeof(h), &p, "--target", &err) < 0, "bare v6 refused");
	ok(tc_parse_hostport("localhost", h, sizeof(h), &p, "--target", &err) < 0, "hostport without port");
	ok(tc_parse_hostport("localhost:", h, sizeof(h), &p, "--target", &err) < 0, "hostport empty port");
	ok(tc_parse_hostport(":22", h, sizeof(h), &p, "--target", &err) < 0, "hostport empty host");
	ok(tc_parse_hostport("localhost:0", h, sizeof(h), &p, "--target", &err) < 0, "hostport port 0");
	ok(tc_parse_hostport("[localhost]:22", h, sizeof(h), &p, "--target", &err) < 0, "brackets around name");
	ok(tc_parse_hostport("[::1]22", h, sizeof(h), &p, "--target", &err) < 0, "v6 without colon");
	ok(tc_parse_hostport("[::1:22", h, sizeof(h), &p, "--target", &err) < 0, "v6 unclosed");
	ok(tc_parse_hostport("-oProxyCommand=x:22", h, sizeof(h), &p, "--target", &err) < 0, "option host");
	ok(tc_parse_hostport("localhost:22", small, sizeof(small), &p, "--target", &err) < 0, "host buffer too small");

	ok(tc_parse_server("tunnel@203.0.113.10", u, sizeof(u), h, sizeof(h), &p, "--server", &err) == 0 &&
	   strcmp(u, "tunnel") == 0 && strcmp(h, "203.0.113.10") == 0 && p == 22, "server user@host");
	ok(tc_parse_server("203.0.113.10:2222", u, sizeof(u), h, sizeof(h), &p, "--server", &err) == 0 &&
	   u[0] == '\0' && p == 2222, "server host:port");
	ok(tc_parse_server("t@[2001:db8::1]:2222", u, sizeof(u), h, sizeof(h), &p, "--server", &err) == 0 &&
	   strcmp(h, "2001:db8::1") == 0 && p == 2222, "server v6 with port");
	ok(tc_parse_server("t@[2001:db8::1]", u, sizeof(u), h, sizeof(h), &p, "--server", &err) == 0 &&
	   p == 22, "server v6 default port");
	ok(tc_parse_server("@h", u, sizeof(u), h, sizeof(h), &p, "--server", &err) < 0, "server empty user");
	ok(tc_parse_server("u@", u, sizeof(u), h, sizeof(h), &p, "--server", &err) < 0, "server empty host");
	ok(tc_parse_server("-oProxyCommand=x@h", u, sizeof(u), h, sizeof(h), &p, "--server", &err) < 0,
	   "server option user");
	ok(tc_parse_server("u@-oProxyCommand=x", u, sizeof(u), h, sizeof(h), &p, "--server", &err) < 0,
	   "server option host");
	ok(tc_parse_server("u@h@i", u, sizeof(u), h, sizeof(h), &p, "--server", &err) < 0, "server two @");
	ok(tc_parse_server("u@h:0", u, sizeof(u), h, sizeof(h), &p, "--server", &err) < 0, "server port 0");
	ok(tc_parse_server("u@h:99999", u, sizeof(u), h, sizeof(h), &p, "--server", &err) < 0, "server port big");
	ok(tc_parse_server("u h@h", u, sizeof(u), h, sizeof(h), &p, "--server", &err) < 0, "server user space");
	ok(strstr(err.msg, "--server") == err.msg, "server message names the option");
}

static void
test_keepalive(void)
{
	struct tc_err err;
	unsigned i = 0, c = 0;

	ok(tc_parse_keepalive("30", &i, &c, "--keepalive", &err) == 0 && i == 30 && c == 3, "keepalive 30");
	ok(tc_parse_keepalive("10,5", &i, &c, "--keepalive", &err) == 0 && i == 10 && c == 5, "keepalive 10,5");
	ok(tc_parse_keepalive("3600,100", &i, &c, "--keepalive", &err) == 0, "keepalive maxima");
	ok(tc_parse_keepalive("3601", &i, &c, "--keepalive", &err) < 0, "keepalive 3601");
	ok(tc_parse_keepalive("0", &i, &c, "--keepalive", &err) < 0, "keepalive 0");
	ok(tc_parse_keepalive("30,0", &i, &c, "--keepalive", &err) < 0, "keepalive count 0");
	ok(tc_parse_keepalive("30,101", &i, &c, "--keepalive", &err) < 0, "keepalive count 101");
	ok(tc_parse_keepalive("30,", &i, &c, "--keepalive", &err) < 0, "keepalive empty count");
	ok(tc_parse_keepalive(",3", &i, &c, "--keepalive", &err) < 0, "keepalive empty interval");
	ok(tc_parse_keepalive("30,3,3", &i, &c, "--keepalive", &err) < 0, "keepalive three parts");
	ok(tc_parse_keepalive("30 ,3", &i, &c, "--keepalive", &err) < 0, "keepalive space");
	ok(tc_parse_keepalive("", &i, &c, "--keepalive", &err) < 0, "keepalive empty");
}

static void
fill(struct tc_spec *s)
{
	tc_spec_init(s);
	memcpy(s->name, "inverter-web", 13);
	memcpy(s->user, "tunnel", 7);
	memcpy(s->host, "203.0.113.10", 13);
	s->remote_port = 8080;
	memcpy(s->target_host, "192.0.2.50", 11);
	s->target_port = 443;
	s->key = strdup(PEM);
	s->key_len = strlen(PEM);
}

#define BAD(mut, want) do { \
	struct tc_spec s_; struct tc_err e_; \
	fill(&s_); mut; memset(&e_, 0, sizeof(e_)); \
	ok(tc_spec_validate(&s_, "devices.edge-0042.tunnels[0].", &e_) < 0 && \
	   strstr(e_.msg, want) != NULL && strstr(e_.msg, "SECRET") == NULL, "validate rejects: %s", want); \
	if (strstr(e_.msg, want) == NULL) printf("#   message: %s\n", e_.msg); \
	tc_spec_clear(&s_); \
} while (0)

static void
test_validate(void)
{
	struct tc_spec s, t;
	struct tc_err err;
	char d1[TC_DIGEST_HEX], d2[TC_DIGEST_HEX], d3[TC_DIGEST_HEX];

	tc_spec_init(&s);
	is_int(s.port, 22, "default port");
	is_str(s.remote_bind, "127.0.0.1", "default bind");
	is_int(s.keepalive_interval, 30, "default keepalive interval");
	is_int(s.keepalive_count, 3, "default keepalive count");
	is_int(s.via, TC_VIA_DIRECT, "default via");
	ok(s.key == NULL && s.timeout_s == 0, "no key, no timeout");

	fill(&s);
	ok(tc_spec_validate(&s, "", &err) == 0, "filled spec is valid");
	s.remote_port = 0;
	ok(tc_spec_validate(&s, "", &err) == 0, "remote port 0 valid");
	s.via = TC_VIA_DNAT;
	s.local_port = 10443;
	ok(tc_spec_validate(&s, "", &err) == 0, "dnat spec valid");
	memcpy(s.host_key, ED25519, sizeof(ED25519));
	ok(tc_spec_validate(&s, "", &err) == 0, "pinned host key valid");
	s.user[0] = '\0';
	ok(tc_spec_validate(&s, "", &err) == 0, "empty user valid");

	tc_spec_move(&t, &s);
	ok(s.key == NULL && t.key != NULL && s.port == 22, "move leaves source initialised");
	tc_spec_clear(&t);
	ok(t.key == NULL && t.key_len == 0, "clear frees the key");

	BAD(memcpy(s_.name, "Bad", 4), "devices.edge-0042.tunnels[0].name: 'Bad' is not a name");
	BAD(memcpy(s_.user, "-oX", 4), "server.user: '-oX' is not a user name");
	BAD(memcpy(s_.host, "-oProxyCommand=touch", 21), "server.host: '-oProxyCommand=touch'");
	BAD(memcpy(s_.host, "a\n[OK] x", 9), "server.host: 'a?[OK] x'");
	BAD(memcpy(s_.host, "\x1b[31m", 6), "server.host: '?[31m'");
	BAD(s_.host[0] = '\0', "server.host: ''");
	BAD(s_.port = 0, "server.port: 0 is not a port");
	BAD(memcpy(s_.host_key, "ssh-ed25519 AAAA", 17), "server.host_key");
	BAD(memcpy(s_.remote_bind, "*", 2), "remote.bind");
	BAD(memcpy(s_.remote_bind, "0.0.0.0", 8), "remote.bind: '0.0.0.0'");
	BAD(memcpy(s_.remote_bind, "::", 3), "remote.bind: '::'");
	BAD(memcpy(s_.target_host, "h;id", 5), "target.host: 'h;id'");
	BAD(s_.target_port = 0, "target.port: 0 is not a port");
	BAD((s_.via = TC_VIA_DNAT, s_.local_port = 0), "local_port: 0 is not a port");
	BAD(s_.local_port = 10443, "local_port: 10443 is only allowed with via dnat");
	BAD((s_.via = TC_VIA_DNAT, s_.local_port = 1, memcpy(s_.target_host, "localhost", 10)),
	    "target.host: 'localhost' is not an IPv4 address");
	BAD((s_.via = TC_VIA_DNAT, s_.local_port = 1, memcpy(s_.target_host, "2001:db8::1", 12)),
	    "table 'ip tunnelctl'");
	BAD(s_.timeout_s = -1, "timeout: -1");
	BAD(s_.keepalive_interval = 0, "keepalive.interval: 0");
	BAD(s_.keepalive_interval = 3601, "keepalive.interval: 3601");
	BAD(s_.keepalive_count = 0, "keepalive.count: 0");
	BAD(s_.keepalive_count = 101, "keepalive.count: 101");
	BAD(s_.key_len = 0, "private_key: is empty");
	BAD(memset(s_.host, 'a', sizeof(s_.host)), "server.host: ''");
	{
		char longv[200];

		memset(longv, 'x', sizeof(longv) - 1);
		longv[sizeof(longv) - 1] = '\0';
		longv[0] = '-';
		BAD(memcpy(s_.host, longv, sizeof(longv)), "xxx...' is not");
	}

	/* digest */
	fill(&s);
	fill(&t);
	tc_spec_digest(&s, 0, d1);
	tc_spec_digest(&t, 0, d2);
	is_int(strlen(d1), 64, "digest is 64 hex");
	is_str(d1, d2, "equal specs, equal digests");
	t.key[40] = 'B';
	tc_spec_digest(&t, 0, d2);
	ok(strcmp(d1, d2) != 0, "key change changes digest");
	t.key[40] = 'S';
	t.timeout_s = 60;
	tc_spec_digest(&t, 0, d2);
	ok(strcmp(d1, d2) != 0, "timeout change changes digest");
	t.timeout_s = 0;
	/* field boundaries: "ab"+"c" vs "a"+"bc" */
	memcpy(s.user, "ab", 3);
	memcpy(s.host, "c", 2);
	memcpy(t.user, "a", 2);
	memcpy(t.host, "bc", 3);
	tc_spec_digest(&s, 0, d1);
	tc_spec_digest(&t, 0, d2);
	ok(strcmp(d1, d2) != 0, "digest is unambiguous across fields");
	tc_spec_clear(&s);
	tc_spec_clear(&t);

	fill(&s);
	fill(&t);
	s.via = t.via = TC_VIA_DNAT;
	s.local_port = t.local_port = 10443;
	t.target_port = 444;
	tc_spec_digest(&s, 1, d1);
	tc_spec_digest(&t, 1, d2);
	is_str(d1, d2, "ssh_only digest ignores dnat target");
	tc_spec_digest(&s, 0, d1);
	tc_spec_digest(&t, 0, d3);
	ok(strcmp(d1, d3) != 0, "full digest sees dnat target");
	s.via = t.via = TC_VIA_DIRECT;
	s.local_port = t.local_port = 0;
	tc_spec_digest(&s, 1, d1);
	tc_spec_digest(&t, 1, d2);
	ok(strcmp(d1, d2) != 0, "ssh_only digest sees direct target");
	tc_spec_clear(&s);
	tc_spec_clear(&t);
}

int
main(void)
{
	test_sha256();
	test_names();
	test_hosts();
	test_same_host();
	test_users();
	test_ifnames();
	test_ports();
	test_durations();
	test_hostport();
	test_keepalive();
	test_validate();
	return tap_done();
}
