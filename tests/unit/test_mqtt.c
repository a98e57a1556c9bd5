/* test_mqtt.c: the mqtt:// URL and topic parser, the option checks of
 * tc_mqtt_new, the empty-payload rule, and a client's first state (no
 * network: nothing here connects). */
#include "config.h"

#include <poll.h>
#include <stdlib.h>
#include <string.h>

#include "doc.h"
#include "mqtt.h"
#include "source.h"
#include "tap.h"

static int
parses(const char *url, struct tc_mqtt_url *u)
{
	struct tc_err err = { 0 };

	return tc_mqtt_url_parse(url, u, &err);
}

/* Refused with TC_ERR_USAGE and a message containing `want`. */
static void
refused(const char *url, const char *want)
{
	struct tc_mqtt_url u;
	struct tc_err err = { 0 };
	int rc = tc_mqtt_url_parse(url, &u, &err);

	ok(rc < 0 && err.kind == TC_ERR_USAGE && strstr(err.msg, want) != NULL,
	   "refused: %s", err.msg);
}

static void
test_url(void)
{
	struct tc_mqtt_url u;

	ok(parses("mqtt://broker.example.com/tunnelctl/{id}/config", &u) == 0 &&
	   !u.tls && u.port == 1883 && strcmp(u.host, "broker.example.com") == 0 &&
	   strcmp(u.topic, "tunnelctl/{id}/config") == 0, "mqtt:// defaults to 1883");
	ok(parses("mqtts://xxxx-ats.iot.eu-west-1.amazonaws.com/t", &u) == 0 && u.tls &&
	   u.port == 8883, "mqtts:// defaults to 8883");
	ok(parses("MQTTS://h:1/t", &u) == 0 && u.tls && u.port == 1, "scheme in any case, port 1");
	ok(parses("mqtt://h:65535/t", &u) == 0 && u.port == 65535, "port 65535");
	ok(parses("mqtt://192.0.2.7:1884/a/b", &u) == 0 && strcmp(u.host, "192.0.2.7") == 0 &&
	   u.port == 1884 && strcmp(u.topic, "a/b") == 0, "IPv4 literal and port");
	ok(parses("mqtts://[2001:db8::1]:8884/t", &u) == 0 && strcmp(u.host, "2001:db8::1") == 0 &&
	   u.port == 8884, "IPv6 literal in brackets with a port");
	ok(parses("mqtt://[::1]/t", &u) == 0 && strcmp(u.host, "::1") == 0 && u.port == 1883,
	   "IPv6 literal in brackets, default port");
	ok(parses("mqtt://h/a/b/", &u) == 0 && strcmp(u.topic, "a/b/") == 0,
	   "topic taken literally, trailing '/' kept");
	ok(parses("mqtt://h/$aws/things/x/shadow", &u) == 0, "a '$' topic (AWS reserved) is fine");
	ok(parses("mqtt://h/caf\xc3\xa9", &u) == 0, "UTF-8 topic");
	ok(parses("mqtt://h/a%20b?c", &u) == 0 && strcmp(u.topic, "a%20b?c") == 0,
	   "no percent decoding, '?' is part of the topic");

	refused("http://h/t", "not an mqtt");
	refused("mqtt:/h/t", "not an mqtt");
	refused("mqtt://h", "no topic");
	refused("mqtt://h/", "no topic");
	refused("mqtt:///t", "no host");
	refused("mqtt://:1883/t", "no host");
	refused("mqtt://h:/t", "bad port");
	refused("mqtt://h:0/t", "bad port");
	refused("mqtt://h:65536/t", "bad port");
	refused("mqtt://h:01883/t", "bad port");
	refused("mqtt://h:+1/t", "bad port");
	refused("mqtt://h:1x/t", "bad port");
	refused("mqtt://h:99999999999999999999/t", "bad port");
	refused("mqtt://2001:db8::1/t", "in brackets");
	refused("mqtt://[2001:db8::1/t", "without ']'");
	refused("mqtt://[2001:db8::1]x/t", "junk after");
	refused("mqtt://[192.0.2.1]/t", "bad host");
	refused("mqtt://[h]/t", "bad host");
	refused("mqtt://[]/t", "no host");
	refused("mqtt://user:pw@h/t", "user info");
	refused("mqtt://-h/t", "bad host");
	refused("mqtt://h_x/t", "bad host");
	refused("mqtt://h h/t", "bad host");
	refused("mqtt://h/a/+/c", "wildcard");
	refused("mqtt://h/a/#", "wildcard");
	refused("mqtt://h/a\tb", "control");
	refused("mqtt://h/a\x7f", "control");
	refused("mqtt://h/\xc3", "UTF-8");
	refused("mqtt://h/\xc0\xaf", "UTF-8");
	refused("mqtt://h/\xed\xa0\x80", "UTF-8");
	refused("mqtt://h/\xc2\x85", "control");

	char longtopic[TC_MQTT_TOPIC_MAX + 32];
	memcpy(longtopic, "mqtt://h/", 9);
	memset(longtopic + 9, 'a', TC_MQTT_TOPIC_MAX + 1);
	longtopic[9 + TC_MQTT_TOPIC_MAX + 1] = '\0';
	refused(longtopic, "longer than");
	longtopic[9 + TC_MQTT_TOPIC_MAX] = '\0';
	ok(parses(longtopic, &u) == 0, "a topic of exactly %d bytes", TC_MQTT_TOPIC_MAX);

	ok(tc_mqtt_is_url("mqtts://h/t") && tc_mqtt_is_url("MQTT://h/t") &&
	   !tc_mqtt_is_url("https://h/t") && !tc_mqtt_is_url(NULL) && !tc_mqtt_is_url("mqtt:"),
	   "tc_mqtt_is_url");
}

static void
test_topic(void)
{
	struct tc_err err = { 0 };
	char out[TC_MQTT_TOPIC_MAX + 1], small[12];

	ok(tc_mqtt_topic("tunnelctl/{id}/config", "440101234567890", out, sizeof(out), &err) == 0 &&
	   strcmp(out, "tunnelctl/440101234567890/config") == 0, "{id} replaced");
	ok(tc_mqtt_topic("{id}/{id}", "edge-1", out, sizeof(out), &err) == 0 &&
	   strcmp(out, "edge-1/edge-1") == 0, "every {id} replaced");
	ok(tc_mqtt_topic("fleet/config", "edge-1", out, sizeof(out), &err) == 0 &&
	   strcmp(out, "fleet/config") == 0, "no {id}: the topic as is");
	ok(tc_mqtt_topic("{ID}/{id", "e", out, sizeof(out), &err) == 0 &&
	   strcmp(out, "{ID}/{id") == 0, "only the exact {id} is a placeholder");
	ok(tc_mqtt_topic("t/{id}", "a.b_c-D:9@x", out, sizeof(out), &err) == 0,
	   "printable ids are fine");
	ok(tc_mqtt_topic("t/{id}", "a+b", out, sizeof(out), &err) < 0 && err.kind == TC_ERR_USAGE &&
	   strstr(err.msg, "--id") != NULL, "id with '+' refused: %s", err.msg);
	ok(tc_mqtt_topic("t/{id}", "#", out, sizeof(out), &err) < 0, "id '#' refused");
	ok(tc_mqtt_topic("t/{id}", "a/b", out, sizeof(out), &err) < 0,
	   "id with '/' refused (it would be two topic levels)");
	ok(tc_mqtt_topic("t/{id}", "", out, sizeof(out), &err) < 0, "empty id refused");
	ok(tc_mqtt_topic("t/{id}", NULL, out, sizeof(out), &err) < 0, "no id refused");
	ok(tc_mqtt_topic("t/{id}", "a b", out, sizeof(out), &err) < 0, "id with a space refused");
	ok(tc_mqtt_topic("t/{id}", "a\nb", out, sizeof(out), &err) < 0,
	   "id with a line feed refused");
	ok(tc_mqtt_topic("t/{id}", "caf\xc3\xa9", out, sizeof(out), &err) < 0,
	   "non-ASCII id refused (it is also the client id)");
	ok(tc_mqtt_topic("fleet", "a+b", out, sizeof(out), &err) < 0,
	   "a bad id is refused even without {id} (client id)");
	char id[TC_MQTT_ID_MAX + 2];
	memset(id, 'i', sizeof(id) - 1);
	id[sizeof(id) - 1] = '\0';
	ok(tc_mqtt_topic("t/{id}", id, out, sizeof(out), &err) < 0, "id over %d chars refused",
	   TC_MQTT_ID_MAX);
	id[TC_MQTT_ID_MAX] = '\0';
	ok(tc_mqtt_topic("t/{id}", id, out, sizeof(out), &err) == 0, "id of %d chars fine",
	   TC_MQTT_ID_MAX);
	ok(tc_mqtt_topic("t/{id}/x", "edge-0042", small, sizeof(small), &err) < 0 &&
	   strstr(err.msg, "longer than") != NULL, "result over the buffer refused: %s", err.msg);
	ok(tc_mqtt_topic("t/{id}", "edge", small, sizeof(small), &err) == 0 &&
	   strcmp(small, "t/edge") == 0, "result that fits a small buffer");
}

static int
new_fails(const struct tc_mqtt_opts *o, const char *want)
{
	struct tc_mqtt *m = NULL;
	struct tc_err err = { 0 };
	int rc = tc_mqtt_new(o, &m, &err);

	if (rc == 0)
		tc_mqtt_free(m);
	return rc < 0 && m == NULL && err.kind == TC_ERR_USAGE && strstr(err.msg, want) != NULL;
}

static void
test_new(void)
{
	struct tc_mqtt_opts o = { .url = "mqtts://127.0.0.1/t/{id}", .id = "edge-1" };
	struct tc_mqtt_stats st;
	struct tc_err err = { 0 };
	struct tc_mqtt *m;
	struct pollfd pfd;
	char *doc;
	size_t len;

	ok(tc_mqtt_new(&o, &m, &err) == 0, "a client for a good URL and id");
	ok(tc_mqtt_state(m) == TC_MQTT_WAITING && strcmp(tc_mqtt_state_name(tc_mqtt_state(m)),
							  "waiting") == 0, "it starts waiting");
	ok(tc_mqtt_poll_setup(m, &pfd) == 0 && pfd.fd == -1,
	   "its first attempt is due at once, no socket yet");
	ok(tc_mqtt_take(m, &doc, &len) == 0, "no message before any connection");
	ok(strcmp(tc_mqtt_last_error(m), "") == 0, "no error yet");
	tc_mqtt_stats(m, &st);
	ok(st.attempts == 0 && st.backoff_ms == 1000, "no attempt made, backoff at 1 s");
	tc_mqtt_free(m);
	tc_mqtt_free(NULL);

	o.keepalive_s = 4;
	ok(new_fails(&o, "mqtt_keepalive"), "keepalive 4 s refused");
	o.keepalive_s = 65536;
	ok(new_fails(&o, "mqtt_keepalive"), "keepalive 65536 s refused");
	o.keepalive_s = 5;
	ok(tc_mqtt_new(&o, &m, &err) == 0, "keepalive 5 s accepted");
	tc_mqtt_free(m);
	o.keepalive_s = 0;
	o.certfile = "/c.pem";
	ok(new_fails(&o, "go together"), "a certificate without a key refused");
	o.certfile = NULL;
	o.keyfile = "/k.pem";
	ok(new_fails(&o, "go together"), "a key without a certificate refused");
	o.keyfile = NULL;
	o.url = "mqtt://127.0.0.1/t";
	o.cafile = "/ca.pem";
	ok(new_fails(&o, "needs mqtts"), "a CA file with plain mqtt:// refused");
	o.cafile = NULL;
	o.url = "mqtt://127.0.0.1/t/#";
	ok(new_fails(&o, "wildcard"), "a wildcard topic refused");
	o.url = "mqtt://127.0.0.1/t/{id}";
	o.id = "x+y";
	ok(new_fails(&o, "--id"), "a bad id refused");
}

static void
test_payload(void)
{
	struct tc_doc_result doc;
	struct tc_err err = { 0 };
	const char *native = "{\"version\": 1, \"devices\": {\"other\": {\"tunnels\": []}}}";

	ok(tc_source_parse_mqtt("", 0, "edge-1", &doc, &err) == 0 && !doc.has_device &&
	   doc.n == 0, "an empty payload is a valid 'no entry for this device'");
	tc_doc_result_free(&doc);
	ok(tc_source_parse_mqtt(native, strlen(native), "edge-1", &doc, &err) == 0 &&
	   !doc.has_device, "a document without this device: no entry");
	tc_doc_result_free(&doc);
	ok(tc_source_parse_mqtt("{", 1, "edge-1", &doc, &err) < 0 && err.kind == TC_ERR_INVALID,
	   "a broken payload is invalid like a broken body");
	ok(tc_source_parse_mqtt(" ", 1, "edge-1", &doc, &err) < 0 && err.kind == TC_ERR_INVALID,
	   "a blank (non-empty) payload is invalid");
}

int
main(void)
{
	test_url();
	test_topic();
	test_new();
	test_payload();
	return tap_done();
}
