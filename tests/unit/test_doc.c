/* test_doc.c: both document schemas, json-c's leniencies closed (RELIABILITY
 * A6, B01-B16, S01/S02/S10/S16), the IMSI document. */
#include <stdlib.h>
#include <string.h>

#include "doc.h"
#include "tap.h"

/* A real ed25519 user certificate (ssh-keygen -s, valid 2026-2040). */
#define CERT "ssh-ed25519-cert-v01@openssh.com AAAAIHNzaC1lZDI1NTE5LWNlcnQtdjAxQG9wZW5zc2guY29tAAAAIAwtuXQTLhYNWHTqRBWoxZopxu5KgBVvyCPxXnCskrdnAAAAIDvnrKSZSb9BRmBp3K52rTGBWWL3CYgNeBmGlnVkTNC5AAAAAAAAAAAAAAABAAAAA2RldgAAAAUAAAABcAAAAABpVbkAAAAAAIOqfoAAAAAAAAAAggAAABVwZXJtaXQtWDExLWZvcndhcmRpbmcAAAAAAAAAF3Blcm1pdC1hZ2VudC1mb3J3YXJkaW5nAAAAAAAAABZwZXJtaXQtcG9ydC1mb3J3YXJkaW5nAAAAAAAAAApwZXJtaXQtcHR5AAAAAAAAAA5wZXJtaXQtdXNlci1yYwAAAAAAAAAAAAAAMwAAAAtzc2gtZWQyNTUxOQAAACAMKj+XjBB5q7pv/92uScD8ZglxZuFYn4KHbuOVLH98ngAAAFMAAAALc3NoLWVkMjU1MTkAAABAlbJGEvbTBK5ZO4ScByyOlazpAaHOTai6iok5zDX2xcKVB/XGpLwPY13sIZ7wDgWy8BIE9NGXimmXIR2+a3NXBQ=="
#define KEYJ "-----BEGIN OPENSSH PRIVATE KEY-----\\nAAAASECRETKEYBYTES\\n-----END OPENSSH PRIVATE KEY-----\\n"
#define KEYB64 "LS0tLS1CRUdJTiBPUEVOU1NIIFBSSVZBVEUgS0VZLS0tLS0KQUFBQVNFQ1JFVEtFWUJZVEVTCi0tLS0tRU5EIE9QRU5TU0ggUFJJVkFURSBLRVktLS0tLQo="
#define ED25519 "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAi1mg3KE2v9z8nlOSzoQpVBS8xBp1uO1B9/EvBpvRUU"

#define TUNNEL "{\"name\":\"inverter-web\"," \
	"\"server\":{\"host\":\"203.0.113.10\",\"port\":22,\"user\":\"tunnel\",\"host_key\":\"" ED25519 "\"}," \
	"\"remote\":{\"bind\":\"127.0.0.1\",\"port\":8080}," \
	"\"target\":{\"host\":\"192.0.2.50\",\"port\":443}," \
	"\"via\":\"dnat\",\"local_port\":10443," \
	"\"private_key\":\"" KEYJ "\"," \
	"\"timeout\":\"1h\",\"keepalive\":{\"interval\":30,\"count\":3}}"
#define TUNNEL2 "{\"name\":\"ssh\",\"server\":{\"host\":\"tunnel.example.com\",\"user\":\"t\"}," \
	"\"remote\":{\"port\":0},\"target\":{\"host\":\"localhost\",\"port\":22},\"private_key\":\"" KEYB64 "\"}"
#define NATIVE "{\"version\":1,\"devices\":{\"edge-0042\":{\"tunnels\":[" TUNNEL "," TUNNEL2 "]}," \
	"\"other\":{\"tunnels\":[{\"name\":\"BAD NAME\"}]}}}"
#define PFP "8080:localhost:22 tunnel@203.0.113.10"
#define SORACOM "{\"ssh\":{\"imsis\":{\"440101234567890\":{\"portForwardParam\":\"" PFP "\"," \
	"\"privateKey\":\"" KEYJ "\"},\"440109999999999\":{\"junk\":1}}}}"

/* s with the first `from` replaced by `to`; heap, caller frees. */
static char *
repl(const char *s, const char *from, const char *to)
{
	const char *at = strstr(s, from);
	size_t n = strlen(s) + strlen(to) + 1;
	char *out = malloc(n);

	if (at == NULL) {
		printf("# repl: '%s' not found\n", from);
		memcpy(out, s, strlen(s) + 1);
		return out;
	}
	memcpy(out, s, (size_t)(at - s));
	memcpy(out + (at - s), to, strlen(to));
	memcpy(out + (at - s) + strlen(to), at + strlen(from), strlen(at + strlen(from)) + 1);
	return out;
}

/* Parsing doc for id fails with a message containing want, never key bytes. */
static void
bad_doc(const char *doc, size_t len, const char *id, const char *want, const char *label)
{
	struct tc_doc_result r;
	struct tc_err err;
	int rc;

	memset(&err, 0, sizeof(err));
	rc = tc_doc_parse(doc, len, id, &r, &err);
	ok(rc < 0 && err.kind == TC_ERR_INVALID && strstr(err.msg, want) != NULL &&
	   strstr(err.msg, "SECRET") == NULL && strstr(err.msg, "QUFBQVNF") == NULL &&
	   r.specs == NULL && r.n == 0, "%s", label);
	if (rc == 0 || strstr(err.msg, want) == NULL)
		printf("#   rc=%d message: %s (wanted '%s')\n", rc, err.msg, want);
	if (rc == 0)
		tc_doc_result_free(&r);
}

static void
bad_native(const char *from, const char *to, const char *want)
{
	char *doc = repl(NATIVE, from, to);
	char label[200];

	snprintf(label, sizeof(label), "native %s -> %.60s: %s", from, to, want);
	bad_doc(doc, strlen(doc), "edge-0042", want, label);
	free(doc);
}

static void
good_native(const char *from, const char *to, const char *label, struct tc_doc_result *r)
{
	char *doc = repl(NATIVE, from, to);
	struct tc_err err;
	int rc = tc_doc_parse(doc, strlen(doc), "edge-0042", r, &err);

	ok(rc == 0, "native accepts: %s", label);
	if (rc < 0) {
		printf("#   %s\n", err.msg);
		memset(r, 0, sizeof(*r));
	}
	free(doc);
}

static void
bad_soracom(const char *from, const char *to, const char *want)
{
	char *doc = repl(SORACOM, from, to);
	char label[200];

	snprintf(label, sizeof(label), "soracom %.40s -> %.60s: %s", from, to, want);
	bad_doc(doc, strlen(doc), "440101234567890", want, label);
	free(doc);
}

#define T0 "devices.edge-0042.tunnels[0]."

static void
test_native(void)
{
	struct tc_doc_result r;
	struct tc_err err;
	struct tc_spec *s;

	ok(tc_doc_parse(NATIVE, strlen(NATIVE), "edge-0042", &r, &err) == 0, "native document parses");
	is_int(r.schema, TC_SCHEMA_NATIVE, "native schema recognised");
	is_int(r.has_device, 1, "device present");
	is_int(r.n, 2, "two tunnels");
	s = &r.specs[0];
	is_str(s->name, "inverter-web", "name");
	is_str(s->user, "tunnel", "user");
	is_str(s->host, "203.0.113.10", "host");
	is_int(s->port, 22, "port");
	is_str(s->host_key, ED25519, "host key");
	is_str(s->remote_bind, "127.0.0.1", "bind");
	is_int(s->remote_port, 8080, "remote port");
	is_str(s->target_host, "192.0.2.50", "target host");
	is_int(s->target_port, 443, "target port");
	is_int(s->via, TC_VIA_DNAT, "via dnat");
	is_int(s->local_port, 10443, "local port");
	is_int(s->timeout_s, 3600, "timeout 1h");
	ok(s->keepalive_interval == 30 && s->keepalive_count == 3, "keepalive");
	ok(s->key != NULL && strncmp(s->key, "-----BEGIN OPENSSH", 18) == 0 && s->key_len == strlen(s->key),
	   "key normalised");
	s = &r.specs[1];
	is_str(s->name, "ssh", "second tunnel");
	is_int(s->port, 22, "default server port");
	is_str(s->remote_bind, "127.0.0.1", "default bind");
	is_int(s->remote_port, 0, "remote port 0 allowed");
	is_int(s->via, TC_VIA_DIRECT, "default via direct");
	is_int(s->timeout_s, 0, "default no timeout");
	ok(s->keepalive_interval == 30 && s->keepalive_count == 3, "default keepalive");
	ok(s->host_key[0] == '\0', "default no host key");
	ok(s->key != NULL && strstr(s->key, "SECRETKEYBYTES") != NULL, "base64 key decoded");
	tc_doc_result_free(&r);
	ok(r.specs == NULL && r.n == 0, "result freed");

	ok(tc_doc_parse(NATIVE, strlen(NATIVE), "edge-9999", &r, &err) == 0 && r.has_device == 0 && r.n == 0 &&
	   r.schema == TC_SCHEMA_NATIVE, "device absent: has_device 0");
	tc_doc_result_free(&r);
	ok(tc_doc_parse(NATIVE, strlen(NATIVE), "other", &r, &err) < 0 &&
	   strstr(err.msg, "devices.other.tunnels[0].name: 'BAD NAME' is not a name") != NULL,
	   "other device validated only when it is us");

	good_native("\"timeout\":\"1h\"", "\"timeout\":90", "timeout as integer", &r);
	ok(r.n == 2 && r.specs[0].timeout_s == 90, "integer timeout is seconds");
	tc_doc_result_free(&r);
	good_native("\"timeout\":\"1h\"", "\"timeout\":\"3600\"", "timeout \"3600\" is a duration of 3600 s", &r);
	tc_doc_result_free(&r);
	good_native("\"tunnels\":[" TUNNEL "," TUNNEL2 "]", "\"tunnels\":[]", "empty tunnel list", &r);
	ok(r.has_device == 1 && r.n == 0, "empty list: device present, no tunnels");
	tc_doc_result_free(&r);
	good_native("{\"version\":1,", "\n\t{ \"version\" : 1 ,", "whitespace around tokens", &r);
	tc_doc_result_free(&r);
	good_native("\"other\":{\"tunnels\":[{\"name\":\"BAD NAME\"}]}", "\"other\":{\"tunnels\":[], \"note\":1}",
		    "other device with an unknown key", &r);
	tc_doc_result_free(&r);
	good_native("\"keepalive\":{\"interval\":30,\"count\":3}", "\"keepalive\":{\"count\":5}", "keepalive count only", &r);
	ok(r.n == 2 && r.specs[0].keepalive_interval == 30 && r.specs[0].keepalive_count == 5, "keepalive default interval");
	tc_doc_result_free(&r);
	good_native("\"port\":22,", "\"port\":2222,", "server port 2222", &r);
	tc_doc_result_free(&r);
	/* Defect: a host key with its comment, or an ssh-keyscan line, was refused */
	good_native("\"host_key\":\"" ED25519 "\"", "\"host_key\":\"" ED25519 " root@tunnel-server\\n\"",
		    "host key with its comment (cat host.pub)", &r);
	ok(r.n == 2 && strcmp(r.specs[0].host_key, ED25519) == 0, "the comment is dropped");
	tc_doc_result_free(&r);
	good_native("\"host_key\":\"" ED25519 "\"", "\"host_key\":\"[203.0.113.10]:2222 " ED25519 "\"",
		    "an ssh-keyscan line as host key", &r);
	ok(r.n == 2 && strcmp(r.specs[0].host_key, ED25519) == 0, "the host field is dropped");
	tc_doc_result_free(&r);
	good_native("\"name\":\"inverter-web\"", "\"name\":\"\\u0069nverter-web\"", "\\u escape in a value", &r);
	tc_doc_result_free(&r);
	good_native("\"devices\":{", "\"devices\":{\"\\u0065dge-0042x\":{\"tunnels\":[]},", "escaped key distinct", &r);
	tc_doc_result_free(&r);

	/* required fields */
	bad_native("\"name\":\"inverter-web\",", "", T0 "name: is missing");
	bad_native("\"host\":\"203.0.113.10\",", "", T0 "server.host: is missing");
	bad_native("\"user\":\"tunnel\",", "", T0 "server.user: is missing");
	bad_native("\"bind\":\"127.0.0.1\",\"port\":8080", "\"bind\":\"127.0.0.1\"", T0 "remote.port: is missing");
	bad_native("\"target\":{\"host\":\"192.0.2.50\",", "\"target\":{", T0 "target.host: is missing");
	bad_native("\"port\":443}", "\"x\":1}", T0 "target.x: unknown key");
	bad_native("\"local_port\":10443,", "", T0 "local_port: is missing");
	bad_native("\"server\":{\"host\":\"203.0.113.10\",\"port\":22,\"user\":\"tunnel\",\"host_key\":\"" ED25519 "\"},", "",
		   T0 "server: is missing");
	bad_native("\"tunnels\":[", "\"tunnelz\":[", "devices.edge-0042.tunnelz: unknown key");
	bad_native("{\"version\":1,", "{", "version: is missing");
	/* unknown keys and wrong shapes */
	bad_native("\"via\":\"dnat\"", "\"via\":\"dnat\",\"extra\":1", T0 "extra: unknown key");
	bad_native("\"version\":1,", "\"version\":1,\"x\":{},", "x: unknown key");
	bad_native("\"interval\":30", "\"interval\":30,\"cnt\":3", T0 "keepalive.cnt: unknown key");
	bad_native("\"version\":1", "\"version\":2", "version: 2 is not a supported version");
	bad_native("\"version\":1", "\"version\":\"1\"", "version: is a string");
	bad_doc("{\"version\":1,\"devices\":[]}", 26, "edge-0042", "devices: is an array", "devices as array");
	bad_native("\"other\":{\"tunnels\":[{\"name\":\"BAD NAME\"}]}", "\"other\":[]", "devices.other: is an array");
	bad_native("\"other\":{\"tunnels\":[{\"name\":\"BAD NAME\"}]}", "\"other\":{\"tunnels\":{}}",
		   "devices.other.tunnels: is an object");
	bad_native("\"tunnels\":[" TUNNEL, "\"tunnels\":[[]", T0 "extra" + 200 - 200 == NULL ? "" : "devices.edge-0042.tunnels[0]: is an array");
	/* B08: number types */
	bad_native("\"port\":443", "\"port\":\"443\"", T0 "target.port: is a string");
	bad_native("\"port\":443", "\"port\":\"22abc\"", T0 "target.port: is a string");
	bad_native("\"port\":443", "\"port\":22.9", T0 "target.port: is a non-integer number");
	bad_native("\"port\":443", "\"port\":true", T0 "target.port: is a boolean");
	bad_native("\"port\":443", "\"port\":null", T0 "target.port: is null");
	bad_native("\"port\":443", "\"port\":1e400", T0 "target.port: is a non-integer number");
	bad_native("\"port\":443", "\"port\":99999999999", T0 "target.port: 99999999999 is not a port");
	bad_native("\"port\":443", "\"port\":99999999999999999999999", T0 "target.port:");
	bad_native("\"port\":443", "\"port\":70000", "devices.edge-0042.tunnels[0].target.port: 70000 is not a port");
	bad_native("\"port\":443", "\"port\":0", T0 "target.port: 0 is not a port");
	bad_native("\"port\":443", "\"port\":-1", T0 "target.port: -1 is not a port");
	bad_native("\"port\":443", "\"port\":NaN", "not valid JSON");
	bad_native("\"port\":443", "\"port\":Infinity", "not valid JSON");
	bad_native("\"port\":443", "\"port\":-Infinity", "not valid JSON");
	bad_native("\"port\":22,", "\"port\":65536,", T0 "server.port: 65536 is not a port");
	bad_native("\"port\":8080", "\"port\":-1", T0 "remote.port: -1 is not a port");
	bad_native("\"local_port\":10443", "\"local_port\":0", T0 "local_port: 0 is not a port");
	bad_native("\"via\":\"dnat\",\"local_port\":10443", "\"local_port\":10443", T0 "local_port: is only allowed");
	bad_native("\"via\":\"dnat\"", "\"via\":\"DNAT\"", T0 "via: 'DNAT' is not direct or dnat");
	bad_native("\"via\":\"dnat\"", "\"via\":\"dnatx\"", T0 "via: 'dnatx' is not direct or dnat");
	bad_native("\"via\":\"dnat\"", "\"via\":1", T0 "via: is an integer");
	bad_native("\"host\":\"192.0.2.50\"", "\"host\":\"localhost\"", T0 "target.host: 'localhost' is not an IPv4");
	bad_native("\"host\":\"192.0.2.50\"", "\"host\":\"2001:db8::1\"", "IPv4");
	/* B15: timeout */
	bad_native("\"timeout\":\"1h\"", "\"timeout\":0", T0 "timeout: 0 is not a duration");
	bad_native("\"timeout\":\"1h\"", "\"timeout\":-5", T0 "timeout: -5");
	bad_native("\"timeout\":\"1h\"", "\"timeout\":1000000000000", T0 "timeout: 1000000000000");
	bad_native("\"timeout\":\"1h\"", "\"timeout\":3.5", T0 "timeout: is a non-integer number");
	bad_native("\"timeout\":\"1h\"", "\"timeout\":\"3.5h\"", T0 "timeout: '3.5h' is not a duration");
	bad_native("\"timeout\":\"1h\"", "\"timeout\":\"0s\"", T0 "timeout: '0s'");
	bad_native("\"timeout\":\"1h\"", "\"timeout\":\"400d\"", T0 "timeout: '400d' is longer than 365d");
	bad_native("\"timeout\":\"1h\"", "\"timeout\":null", T0 "timeout: is null");
	bad_native("\"timeout\":\"1h\"", "\"timeout\":true", T0 "timeout: is a boolean");
	bad_native("\"interval\":30", "\"interval\":0", T0 "keepalive.interval: 0");
	bad_native("\"count\":3", "\"count\":101", T0 "keepalive.count: 101");
	bad_native("\"keepalive\":{\"interval\":30,\"count\":3}", "\"keepalive\":[30,3]", T0 "keepalive: is an array");
	/* S01/S02/S10: injection through every string field */
	bad_native("\"name\":\"inverter-web\"", "\"name\":\"-oProxyCommand=touch /tmp/pwn\"", T0 "name: '-oProxyCommand");
	bad_native("\"host\":\"203.0.113.10\"", "\"host\":\"-oProxyCommand=touch /tmp/pwn\"", T0 "server.host: '-oProxyCommand");
	bad_native("\"user\":\"tunnel\"", "\"user\":\"-oProxyCommand=touch /tmp/pwn\"", T0 "server.user: '-oProxyCommand");
	bad_native("\"user\":\"tunnel\"", "\"user\":\"--\"", T0 "server.user: '--'");
	bad_native("\"user\":\"tunnel\"", "\"user\":\"u;id\"", T0 "server.user");
	bad_native("\"bind\":\"127.0.0.1\"", "\"bind\":\"-oProxyCommand=x\"", T0 "remote.bind");
	bad_native("\"bind\":\"127.0.0.1\"", "\"bind\":\"0.0.0.0\"", T0 "remote.bind: '0.0.0.0'");
	bad_native("\"host\":\"192.0.2.50\"", "\"host\":\"-oProxyCommand=x\"", T0 "target.host");
	bad_native("\"host_key\":\"" ED25519 "\"", "\"host_key\":\"-oProxyCommand=x\"", T0 "server.host_key");
	bad_native("\"host_key\":\"" ED25519 "\"", "\"host_key\":\"" ED25519 " extra\\n-oProxyCommand=x\"",
		   T0 "server.host_key: holds more than one line");
	bad_native("\"host_key\":\"" ED25519 "\"", "\"host_key\":\"ssh-dss AAAAB3NzaC1kc3M\"",
		   T0 "server.host_key: 'ssh-dss' is not a supported host key type");
	bad_native("\"timeout\":\"1h\"", "\"timeout\":\"-oProxyCommand=x\"", T0 "timeout");
	bad_native("\"via\":\"dnat\"", "\"via\":\"-oProxyCommand=x\"", T0 "via");
	bad_native("\"private_key\":\"" KEYJ "\"", "\"private_key\":\"-oProxyCommand=x\"", T0 "private_key");
	bad_native("\"host\":\"203.0.113.10\"", "\"host\":\"h;id\"", T0 "server.host: 'h;id'");
	bad_native("\"host\":\"203.0.113.10\"", "\"host\":\"$(id)\"", T0 "server.host: '$(id)'");
	bad_native("\"host\":\"203.0.113.10\"", "\"host\":\"`id`\"", T0 "server.host: '`id`'");
	bad_native("\"host\":\"203.0.113.10\"", "\"host\":\"a\\n[OK] tunnel up\"", T0 "server.host: 'a?[OK] tunnel up'");
	bad_native("\"host\":\"203.0.113.10\"", "\"host\":\"\\u001b[31mred\"", T0 "server.host: '?[31mred'");
	bad_native("\"host\":\"203.0.113.10\"", "\"host\":\"a\tb\"", T0 "server.host: control character (0x09) in a string");
	/* B06: NUL */
	bad_native("\"host\":\"203.0.113.10\"", "\"host\":\"h\\u0000-oProxyCommand=x\"",
		   T0 "server.host: \\u0000 (NUL) in a string");
	bad_native("\"name\":\"inverter-web\"", "\"name\\u0000x\":\"inverter-web\"", T0 "name?x: \\u0000 (NUL) in a key");
	bad_native("\"count\":3", "\"count\":3,\"c\\u0000\":[1,\"\\u0000\"]", T0 "keepalive.c?: \\u0000 (NUL) in a key");
	bad_native("\"tunnels\":[{\"name\":\"BAD NAME\"}]", "\"tunnels\":[{},{\"name\":\"x\\u0000\"}]",
		   "devices.other.tunnels[1].name: \\u0000 (NUL) in a string");
	/* B13/B14: key content */
	bad_native("\"private_key\":\"" KEYJ "\"", "\"private_key\":\"not a key\"", T0 "private_key:");
	bad_native("\"private_key\":\"" KEYJ "\"", "\"private_key\":\"junk" KEYJ "\"", T0 "private_key:");
	bad_native("\"private_key\":\"" KEYJ "\"", "\"private_key\":\"" KEYJ "junk\"", T0 "private_key:");
	bad_native("\"private_key\":\"" KEYJ "\"", "\"private_key\":\"QUFBQVNFQ1JFVA!=\"", T0 "private_key:");
	bad_native("\"private_key\":\"" KEYJ "\"", "\"private_key\":\"QUFBQVNFQ1JFVA=\"", T0 "private_key:");
	bad_native("\"private_key\":\"" KEYJ "\"", "\"private_key\":\"QUFBQVNF Q1JFVA==\"", T0 "private_key:");
	bad_native("\"private_key\":\"" KEYJ "\"", "\"private_key\":\"\"", T0 "private_key: is empty");
	bad_native("\"private_key\":\"" KEYJ "\"", "\"private_key\":123", T0 "private_key: is an integer");
	/* Defect: two tunnels of a device on one server, bind and remote port were
	 * accepted; one of them then retried for its whole life. */
	bad_native("\"tunnels\":[" TUNNEL, "\"tunnels\":[" TUNNEL ",{\"name\":\"again\",\"server\":{\"host\":\"203.0.113.10\","
		   "\"user\":\"other\"},\"remote\":{\"port\":8080},\"target\":{\"host\":\"localhost\",\"port\":22},"
		   "\"private_key\":\"" KEYJ "\"}",
		   "devices.edge-0042.tunnels[1].remote.port: 8080 on 127.0.0.1 of other@203.0.113.10:22 is also used by tunnels[0]");
	bad_native("\"tunnels\":[" TUNNEL, "\"tunnels\":[" TUNNEL ",{\"name\":\"v6\",\"server\":{\"host\":\"2001:db8::10\","
		   "\"user\":\"t\"},\"remote\":{\"port\":9000},\"target\":{\"host\":\"localhost\",\"port\":22},"
		   "\"private_key\":\"" KEYJ "\"},{\"name\":\"v6b\",\"server\":{\"host\":\"2001:0db8:0::10\",\"user\":\"t\"},"
		   "\"remote\":{\"bind\":\"127.0.0.1\",\"port\":9000},\"target\":{\"host\":\"localhost\",\"port\":23},"
		   "\"private_key\":\"" KEYJ "\"}",
		   "devices.edge-0042.tunnels[2].remote.port: 9000 on 127.0.0.1 of t@[2001:0db8:0::10]:22 is also used by tunnels[1]");
	bad_native("\"tunnels\":[" TUNNEL, "\"tunnels\":[" TUNNEL ",{\"name\":\"dnat2\",\"server\":{\"host\":\"198.51.100.7\","
		   "\"user\":\"t\"},\"remote\":{\"port\":1},\"target\":{\"host\":\"192.0.2.51\",\"port\":80},"
		   "\"via\":\"dnat\",\"local_port\":10443,\"private_key\":\"" KEYJ "\"}",
		   "devices.edge-0042.tunnels[1].local_port: 10443 is also used by tunnels[0]");
	good_native("\"tunnels\":[" TUNNEL "," TUNNEL2 "]", "\"tunnels\":[" TUNNEL "," TUNNEL2 ","
		    "{\"name\":\"ssh2\",\"server\":{\"host\":\"TUNNEL.example.com\",\"user\":\"t\"},"
		    "\"remote\":{\"port\":0},\"target\":{\"host\":\"localhost\",\"port\":22},\"private_key\":\"" KEYJ "\"}]",
		    "remote port 0 twice on one server (the server picks two ports)", &r);
	tc_doc_result_free(&r);
	good_native("\"tunnels\":[" TUNNEL "," TUNNEL2 "]", "\"tunnels\":[" TUNNEL ","
		    "{\"name\":\"p\",\"server\":{\"host\":\"203.0.113.10\",\"port\":2222,\"user\":\"t\"},"
		    "\"remote\":{\"port\":8080},\"target\":{\"host\":\"localhost\",\"port\":22},\"private_key\":\"" KEYJ "\"},"
		    "{\"name\":\"b\",\"server\":{\"host\":\"203.0.113.10\",\"user\":\"t\"},"
		    "\"remote\":{\"bind\":\"127.0.0.2\",\"port\":8080},\"target\":{\"host\":\"localhost\",\"port\":22},"
		    "\"private_key\":\"" KEYJ "\"},"
		    "{\"name\":\"h\",\"server\":{\"host\":\"203.0.113.11\",\"user\":\"t\"},"
		    "\"remote\":{\"port\":8080},\"target\":{\"host\":\"localhost\",\"port\":22},\"private_key\":\"" KEYJ "\"}]",
		    "remote port 8080 again on another server port, bind or server", &r);
	ok(r.n == 4, "four tunnels with remote port 8080");
	tc_doc_result_free(&r);
	bad_native("\"tunnels\":[" TUNNEL, "\"tunnels\":[" TUNNEL ",{\"name\":\"again\",\"server\":{\"host\":\"tunnel.example.com\","
		   "\"user\":\"t\"},\"remote\":{\"port\":7},\"target\":{\"host\":\"localhost\",\"port\":22},"
		   "\"private_key\":\"" KEYJ "\"},{\"name\":\"again2\",\"server\":{\"host\":\"Tunnel.Example.COM\",\"port\":22,"
		   "\"user\":\"t\"},\"remote\":{\"port\":7},\"target\":{\"host\":\"localhost\",\"port\":22},"
		   "\"private_key\":\"" KEYJ "\"}",
		   "tunnels[2].remote.port: 7 on 127.0.0.1 of t@Tunnel.Example.COM:22 is also used by tunnels[1]");
	/* duplicate tunnel names; B07 duplicate keys */
	bad_native("\"tunnels\":[" TUNNEL, "\"tunnels\":[" TUNNEL "," TUNNEL,
		   "devices.edge-0042.tunnels[1].name: 'inverter-web' is also the name of tunnels[0]");
	bad_native("\"port\":443", "\"port\":443,\"port\":444", T0 "target.port: duplicate key");
	bad_native("\"port\":443", "\"port\":443,\"\\u0070ort\":444", T0 "target.port: duplicate key");
	bad_native("\"version\":1,", "\"version\":1,\"version\":1,", "version: duplicate key");
	bad_native("\"edge-0042\":{", "\"edge-0042\":{\"tunnels\":[]},\"edge-0042\":{", "devices.edge-0042: duplicate key");
	bad_native("\"other\":{\"tunnels\":[{\"name\":\"BAD NAME\"}]}",
		   "\"other\":{\"tunnels\":[{\"a\":{\"b\":1,\"b\":{\"c\":2}}}]}", "devices.other.tunnels[0].a.b: duplicate key");
	/* B03 trailing garbage, B02 truncation, single quotes, comments */
	bad_native("}}}", "}}}xyz", "document:");
	bad_native("}}}", "}}}}", "document:");
	bad_native("}}}", "}}} {}", "document:");
	bad_native("}}}", "}}", "truncated");
	bad_native("\"version\":1", "'version':1", "not valid JSON");
	bad_native("\"version\":1", "\"version\":1/*c*/", "not valid JSON");
	bad_native("\"version\":1", "\"version\":01", "version: is not valid JSON");
	bad_native("\"version\":1", "\"version\":+1", "version: is not valid JSON");
	bad_native("\"port\":443", "\"port\":443]", T0 "target.port: is not valid JSON");
	bad_native("\"port\":443", "\"port\":NaN", T0 "target.port: is not valid JSON (bare word");
	bad_native("\"port\":443", "\"port\":'x'", T0 "target.port: is not valid JSON (byte");
	bad_native("\"version\":1", "\"version\":1,", "document:");
}

static void
test_limits(void)
{
	char *doc;
	size_t i, n;
	char tunnels[20000];

	bad_doc("", 0, "edge-0042", "document: is empty", "B01 empty body");
	bad_doc("   ", 3, "edge-0042", "document: is empty (only whitespace)", "whitespace body");
	bad_doc("\r\n", 2, "edge-0042", "document: is empty (only whitespace)", "CRLF body");
	bad_doc("{\"ssh\":{\"imsis\":{", 17, "440101234567890", "truncated", "B02 truncated");
	bad_doc("[]", 2, "edge-0042", "document: is an array, expected an object", "top-level array");
	bad_doc("\"x\"", 3, "edge-0042", "document: is a string, expected an object", "top-level string");
	bad_doc("42", 2, "edge-0042", "document: is an integer, expected an object", "top-level number");
	bad_doc("{}", 2, "edge-0042", "is neither SORACOM", "empty object");
	bad_doc("{\"foo\":1}", 9, "edge-0042", "is neither SORACOM", "unknown schema");
	bad_doc("null", 4, "edge-0042", "document: is null, expected an object", "null body");
	bad_doc("null\n", 5, "edge-0042", "document: is null, expected an object", "null body with a newline");
	bad_doc("<html>captive</html>", 20, "edge-0042", "document:", "B16 captive portal page");
	bad_doc("{\"version\":1,\"devices\":{\"h\xff\xfe\":{\"tunnels\":[]}}}", 44, "edge-0042",
		"devices.h??: is not valid UTF-8 (a key, byte 26)", "B05 invalid UTF-8 in a key");
	bad_doc("{\"version\":1,\"devices\":{\"edge-0042\":{\"tunnels\":[{\"name\":\"\xc0\xaf\"}]}}}", 62, "edge-0042",
		"devices.edge-0042.tunnels[0].name: is not valid UTF-8 (a string, byte 57)", "B05 overlong UTF-8");
	bad_doc("{\"version\":1,\xc3\xa9\"devices\":{}}", 28, "edge-0042", "document: is not valid JSON (byte 13)",
		"non-ASCII outside strings");
	bad_doc("{\"version\":1,\0\"devices\":{}}", 27, "edge-0042", "document:", "raw NUL byte");
	bad_doc("{\"version\":1,\"devices\":{}}", 27, "edge-0042", "document:", "length past the NUL terminator");

	/* B04: depth 32 is parsed (then refused by the schema), 33 is refused by the parser */
	doc = malloc(200000);
	for (n = 32; n <= 33; n++) {
		char label[64];

		memcpy(doc, "{\"version\":1,\"devices\":", 23);
		for (i = 0; i < n - 1; i++)
			doc[23 + i] = '[';
		for (i = 0; i < n - 1; i++)
			doc[23 + n - 1 + i] = ']';
		doc[23 + 2 * (n - 1)] = '}';
		snprintf(label, sizeof(label), "depth %zu", n);
		bad_doc(doc, 24 + 2 * (n - 1), "edge-0042", n == 32 ? "devices: is an array" : "nesting too deep", label);
	}
	memset(doc, '[', 100000);
	bad_doc(doc, 100000, "edge-0042", "nesting too deep", "B04 100000 brackets");
	free(doc);

	/* 1 MiB limit: 2 MiB refused before parsing */
	n = 2 * 1024 * 1024;
	doc = malloc(n);
	memset(doc, ' ', n);
	memcpy(doc, "{\"version\":1,\"devices\":{}}", 26);
	bad_doc(doc, n, "edge-0042", "larger than 1 MiB", "2 MiB document");
	bad_doc(doc, TC_DOC_MAX + 1, "edge-0042", "larger than 1 MiB", "1 MiB + 1 document");
	{
		struct tc_doc_result r;
		struct tc_err err;

		ok(tc_doc_parse(doc, TC_DOC_MAX, "edge-0042", &r, &err) == 0 && r.has_device == 0,
		   "exactly 1 MiB (trailing whitespace) accepted");
		tc_doc_result_free(&r);
	}
	free(doc);

	/* 64 tunnels allowed, 65 refused */
	for (n = 64; n <= 65; n++) {
		size_t off = 0;
		int w;

		for (i = 0; i < n; i++) {
			w = snprintf(tunnels + off, sizeof(tunnels) - off,
				     "%s{\"name\":\"t%zu\",\"server\":{\"host\":\"h\",\"user\":\"u\"},\"remote\":{\"port\":0},"
				     "\"target\":{\"host\":\"localhost\",\"port\":22},\"private_key\":\"" KEYJ "\"}",
				     i ? "," : "", i);
			off += (size_t)w;
		}
		doc = malloc(off + 100);
		w = snprintf(doc, off + 100, "{\"version\":1,\"devices\":{\"edge-0042\":{\"tunnels\":[%s]}}}", tunnels);
		if (n == 64) {
			struct tc_doc_result r;
			struct tc_err err;

			ok(tc_doc_parse(doc, (size_t)w, "edge-0042", &r, &err) == 0 && r.n == 64, "64 tunnels accepted");
			tc_doc_result_free(&r);
		} else {
			bad_doc(doc, (size_t)w, "edge-0042", "65 tunnels, at most 64", "65 tunnels refused");
		}
		free(doc);
	}
}

#define S0 "ssh.imsis.440101234567890."

static void
test_soracom(void)
{
	struct tc_doc_result r;
	struct tc_err err;
	struct tc_spec *s;

	ok(tc_doc_parse(SORACOM, strlen(SORACOM), "440101234567890", &r, &err) == 0, "SORACOM document parses");
	is_int(r.schema, TC_SCHEMA_SORACOM, "SORACOM schema");
	ok(r.has_device == 1 && r.n == 1, "one tunnel");
	s = &r.specs[0];
	is_str(s->name, "ssh", "tunnel named ssh");
	is_str(s->user, "tunnel", "user");
	is_str(s->host, "203.0.113.10", "host");
	is_int(s->port, 22, "port");
	is_int(s->remote_port, 8080, "remote port");
	is_str(s->remote_bind, "127.0.0.1", "default bind");
	is_str(s->target_host, "localhost", "target");
	is_int(s->target_port, 22, "target port");
	is_int(s->via, TC_VIA_DIRECT, "direct");
	ok(s->host_key[0] == '\0', "no host key (TOFU)");
	ok(s->key != NULL, "key");
	ok(!s->gate && s->certificate[0] == '\0', "no gate, no certificate by default");
	tc_doc_result_free(&r);
	good_native("\"private_key\":\"" KEYJ "\",", "", "no private_key (the device key)", &r);
	ok(r.n == 2 && r.specs[0].key == NULL, "... its spec has no key");
	tc_doc_result_free(&r);
	good_native("\"host\":\"203.0.113.10\",", "\"host\":\"203.0.113.10\",\"gate\":true,", "server.gate true", &r);
	ok(r.n == 2 && r.specs[0].gate == 1, "... gate set");
	tc_doc_result_free(&r);
	good_native("\"name\":\"inverter-web\",", "\"name\":\"inverter-web\",\"certificate\":\"" CERT " dev@x\",",
		    "a certificate with a comment", &r);
	ok(r.n == 2 && strcmp(r.specs[0].certificate, CERT) == 0, "... kept as TYPE BASE64");
	tc_doc_result_free(&r);
	bad_native("\"host\":\"203.0.113.10\",", "\"host\":\"203.0.113.10\",\"gate\":\"yes\",",
		   T0 "server.gate: is a string");
	bad_native("\"name\":\"inverter-web\",", "\"name\":\"inverter-web\",\"certificate\":\"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5\",",
		   T0 "certificate: is not an OpenSSH user certificate");
	bad_native("\"name\":\"inverter-web\",", "\"name\":\"inverter-web\",\"certificate\":\"ssh-ed25519-cert-v01@openssh.com QUFBQQ==\",",
		   T0 "certificate: is not an OpenSSH user certificate");
	ok(tc_doc_parse(SORACOM, strlen(SORACOM), "440100000000000", &r, &err) == 0 && r.has_device == 0 &&
	   r.schema == TC_SCHEMA_SORACOM, "B12 IMSI absent: has_device 0");
	tc_doc_result_free(&r);

	bad_soracom("\"privateKey\":\"" KEYJ "\"", "\"privateKey\":\"x\"", S0 "privateKey:");
	{
		/* No key in the document: the device's own key is used. */
		char *doc = repl(SORACOM, ",\"privateKey\":\"" KEYJ "\"", "");

		ok(tc_doc_parse(doc, strlen(doc), "440101234567890", &r, &err) == 0 && r.n == 1 &&
		   r.specs[0].key == NULL, "soracom without privateKey: accepted, no key (the device key)");
		if (r.n)
			tc_doc_result_free(&r);
		free(doc);
	}
	bad_soracom("\"portForwardParam\":\"" PFP "\",", "", S0 "portForwardParam: is missing");
	bad_soracom("\"portForwardParam\"", "\"portforwardparam\"", S0 "portforwardparam: unknown key");
	bad_soracom(PFP, "8080:localhost:22 tunnel@203.0.113.10 -oProxyCommand=touch /tmp/pwn", S0 "portForwardParam:");
	bad_soracom(PFP, "8080:localhost:22 tunnel@203.0.113.10;id", S0 "portForwardParam:");
	bad_soracom(PFP, "8080:localhost:22 tunnel@$(id)", S0 "portForwardParam:");
	bad_soracom(PFP, "8080:localhost:22 `id`@h", S0 "portForwardParam:");
	bad_soracom(PFP, "8080:localhost:22 tunnel@h\\nid", S0 "portForwardParam:");
	bad_soracom(PFP, "8080:localhost:22\\ttunnel@h", S0 "portForwardParam:");
	bad_soracom(PFP, "0.0.0.0:2222:localhost:22 t@h", S0 "portForwardParam: bind address '0.0.0.0'");
	bad_soracom(PFP, "70000:localhost:22 t@h", S0 "portForwardParam: remote port: '70000' is not a port");
	bad_soracom("\"portForwardParam\":", "\"portForwardParam\":\"9090:localhost:22 t@h\",\"portForwardParam\":",
		    S0 "portForwardParam: duplicate key");
	bad_soracom("\"440109999999999\":{\"junk\":1}", "\"440109999999999\":[]", "ssh.imsis.440109999999999: is an array");
	bad_soracom("{\"ssh\":{", "{\"x\":1,\"ssh\":{", "x: unknown key");
	bad_soracom("{\"imsis\":", "{\"imsi\":", "ssh.imsi: unknown key");
	bad_soracom(PFP, "8080:localhost:22 tunnel@203.0.113.10\\u0000 -oProxyCommand=x",
		    S0 "portForwardParam: \\u0000 (NUL) in a string");
}

static void
imsi_case(const char *doc, const char *want_imsi, const char *label)
{
	char imsi[16] = "";
	struct tc_err err;
	int rc = tc_doc_imsi(doc, strlen(doc), imsi, sizeof(imsi), &err);

	if (want_imsi)
		ok(rc == 0 && strcmp(imsi, want_imsi) == 0, "imsi: %s", label);
	else
		ok(rc < 0 && err.kind == TC_ERR_INVALID && imsi[0] == '\0', "imsi refused: %s", label);
	if ((rc == 0) != (want_imsi != NULL))
		printf("#   rc=%d %s\n", rc, rc ? err.msg : imsi);
}

static void
test_imsi(void)
{
	char small[8];
	struct tc_err err;

	imsi_case("{\"imsi\":\"440101234567890\",\"msisdn\":\"81012345678\",\"tags\":{\"name\":\"x\"},\"speedClass\":\"s1.standard\"}",
		  "440101234567890", "with SORACOM's other keys");
	imsi_case("{\"imsi\":\"12345\"}", "12345", "5 digits");
	imsi_case("{\"imsi\":440101234567890}", NULL, "JSON number");
	imsi_case("{\"imsi\":\"4401012345678901\"}", NULL, "16 digits");
	imsi_case("{\"imsi\":\"1234\"}", NULL, "4 digits");
	imsi_case("{\"imsi\":\"../../x\"}", NULL, "path traversal");
	imsi_case("{\"imsi\":\"\\u0664\\u0664\\u0660\\u0661\\u0660\"}", NULL, "unicode digits");
	imsi_case("{\"imsi\":\"44010123456789 \"}", NULL, "trailing space");
	imsi_case("{\"msisdn\":\"1\"}", NULL, "missing");
	imsi_case("{\"imsi\":null}", NULL, "null");
	imsi_case("{\"imsi\":\"440101234567890\",\"imsi\":\"440109999999999\"}", NULL, "duplicate");
	imsi_case("{\"imsi\":\"440101234567890\"}x", NULL, "trailing garbage");
	imsi_case("{\"imsi\":\"440101234567890\"", NULL, "truncated");
	ok(tc_doc_imsi("{\"imsi\":\"440101234567890\"}", 26, small, sizeof(small), &err) < 0, "imsi buffer too small");
	ok(tc_doc_imsi("", 0, small, sizeof(small), &err) < 0, "imsi empty body");
}

int
main(void)
{
	test_native();
	test_limits();
	test_soracom();
	test_imsi();
	return tap_done();
}
