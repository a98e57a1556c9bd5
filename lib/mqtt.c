/* mqtt.c: the MQTT config source over libmosquitto: URL and topic checks, one
 * connection attempt at a time driven from the caller's poll() loop, capped
 * backoff, and the one-shot get of sync. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <mosquitto.h>
#include <mqtt_protocol.h>

#include "doc.h"
#include "fdsnap.h"
#include "mqtt.h"
#include "num.h"
#include "spec.h"
#include "xalloc.h"

/* Backoff between attempts: 1 s doubling to 60 s. A device whose broker is
 * down retries about once a minute, which a fleet of thousands can afford. */
#define BACKOFF_MIN_MS		1000u
#define BACKOFF_MAX_MS		60000u
/* A connection that stayed up this long was a success: the next loss starts
 * again at BACKOFF_MIN_MS. A shorter one keeps doubling, so two devices that
 * share an id and keep taking the session from each other slow down. */
#define STABLE_MS		60000
/* An attempt that has no granted subscription after this long is dropped: a
 * SYN into a black hole would otherwise wait for the kernel's ~2 minutes. */
#define ATTEMPT_TIMEOUT_MS	30000
/* The longest poll_setup asks the caller to sleep: a bound on how late any
 * timer here can be noticed should the clock or a caller misbehave. */
#define POLL_MAX_MS		60000
/* MQTT 5 Maximum Packet Size in CONNECT: the broker sends nothing larger, so
 * a huge publication cannot exhaust a small device's memory. Payloads above
 * TC_DOC_MAX but below this arrive and are refused with a message naming the
 * cap; larger ones are dropped by the broker and never arrive. */
#define PACKET_MAX		(2u * TC_DOC_MAX)
/* The first line of mqtt_password_file; MQTT allows 65535 bytes. */
#define PASSWORD_MAX		1024
/* Without mqtt_cafile: the system CA store (Debian's ca-certificates); the
 * directory is also what libmosquitto needs beside a client certificate. */
#define SYSTEM_CA_DIR		"/etc/ssl/certs"
#define CLIENT_ID_PREFIX	"tunnelctl-"
/* SO_RCVLOWAT from a ping to the next read, so that the PINGRESP alone does
 * not wake poll(): the next keepalive wake-up reads it, before libmosquitto
 * looks for it, and an idle client wakes once a keepalive instead of twice.
 * Nothing else may wait below the mark. A PINGRESP is 2 bytes, every other
 * packet a broker sends at least 4, and a PUBLISH of our topic at least
 * 5 + strlen(topic) (MQTT 5, QoS 0, no topic alias: we accept none). A TLS
 * record adds at least 14 bytes to its plaintext (TLS 1.3 with an 8-byte
 * tag), so the mark is at most a PUBLISH's smallest record; capped at 32,
 * it is above a PINGRESP's record with AEAD ciphers (23 to 31 bytes, 24 in
 * TLS 1.3); with CBC the PINGRESP wakes as before. A packet split across
 * segments wakes at its first part (at least the mark), and every read
 * takes the mark down, so its tail is never left below it. An end of file
 * or an error wakes poll() whatever the mark (tcp_poll). */
#define LOWAT_PLAIN		3
#define LOWAT_TLS_MAX		32
#define PUBLISH_MIN_BASE	5
#define TLS_RECORD_MIN_ADD	14
#define SHOWN_MAX		320
#define LIBERR_MAX		256

struct tc_mqtt {
	struct tc_mqtt_url url;
	char topic[TC_MQTT_TOPIC_MAX + 1];
	char client_id[sizeof(CLIENT_ID_PREFIX) + TC_MQTT_ID_MAX];
	char shown[SHOWN_MAX];		/* the source as messages name it */
	char *cafile, *certfile, *keyfile, *username, *password_file;
	unsigned keepalive;
	int one_shot;			/* no retry: the first failure is final */

	struct mosquitto *mosq;		/* NULL between attempts */
	int pairfd[2];			/* libmosquitto's wake-up socketpair, or -1 */
	enum tc_mqtt_state state;
	int64_t due_ms;			/* WAITING: next attempt; else: give up */
	int64_t up_since_ms;		/* when SUBSCRIBED was reached, or 0 */
	/* Keepalive: when the broker was last heard from (0: not since the
	 * last ping was due), so the next wake-up is when the next ping is. */
	int64_t heard_ms;
	int lowat;			/* the low-water mark is up: a ping awaits its answer */
	unsigned backoff_ms;		/* the next wait's upper bound */
	int failed;			/* one-shot: last_error is the answer */
	unsigned events;

	/* Set inside libmosquitto's callbacks, acted on once it has returned
	 * (a client must not be destroyed from its own callback). */
	int cb_fail;
	char cb_why[384];
	int connect_errno;		/* a connection error seen while connecting, or 0 */

	char *msg;			/* the pending document */
	size_t msglen;
	int has_msg;

	char last_error[512];
	char liberr[LIBERR_MAX];	/* libmosquitto's first error line of this attempt */
	struct tc_mqtt_stats st;
	uint64_t rng;
};

static int mosq_ready;

static void
lib_init(void)
{
	if (!mosq_ready) {
		mosquitto_lib_init();
		mosq_ready = 1;
	}
}

const char *
tc_mqtt_version(void)
{
	static char buf[32];
	int a, b, c;

	mosquitto_lib_version(&a, &b, &c);
	if (snprintf(buf, sizeof(buf), "%d.%d.%d", a, b, c) >= (int)sizeof(buf))
		return "unknown";
	return buf;
}

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* --- URL and topic -------------------------------------------------------- */

int
tc_mqtt_is_url(const char *url)
{
	return url != NULL && (strncasecmp(url, "mqtt://", 7) == 0 ||
			       strncasecmp(url, "mqtts://", 8) == 0);
}

/* Strict UTF-8 (no overlong forms, no surrogates, <= U+10FFFF), and no
 * control characters, NUL included. */
static int
topic_chars_ok(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, k, need;
	uint32_t cp;

	while (i < n) {
		if (p[i] < 0x80) {
			if (p[i] < 0x20 || p[i] == 0x7f)
				return 0;
			i++;
			continue;
		}
		if (p[i] >= 0xc2 && p[i] <= 0xdf) {
			need = 1;
			cp = p[i] & 0x1f;
		} else if (p[i] >= 0xe0 && p[i] <= 0xef) {
			need = 2;
			cp = p[i] & 0x0f;
		} else if (p[i] >= 0xf0 && p[i] <= 0xf4) {
			need = 3;
			cp = p[i] & 0x07;
		} else {
			return 0;
		}
		if (n - i <= need)
			return 0;
		for (k = 1; k <= need; k++) {
			if ((p[i + k] & 0xc0) != 0x80)
				return 0;
			cp = (cp << 6) | (p[i + k] & 0x3f);
		}
		if ((need == 2 && cp < 0x800) || (need == 3 && cp < 0x10000) ||
		    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff) ||
		    (cp >= 0x80 && cp <= 0x9f))
			return 0;
		i += need + 1;
	}
	return 1;
}

/* A topic we subscribe to: exactly one topic, never a wildcard filter. */
static int
topic_check(const char *topic, const char *what, struct tc_err *err)
{
	size_t n = strlen(topic);

	if (n == 0)
		return tc_err_set(err, TC_ERR_USAGE, "%s: no topic (mqtt://HOST[:PORT]/TOPIC)", what);
	if (n > TC_MQTT_TOPIC_MAX)
		return tc_err_set(err, TC_ERR_USAGE, "%s: topic longer than %d bytes",
				  what, TC_MQTT_TOPIC_MAX);
	if (strpbrk(topic, "+#") != NULL)
		return tc_err_set(err, TC_ERR_USAGE, "%s: topic has a wildcard ('+' or '#'): "
				  "the source is one topic", what);
	if (!topic_chars_ok(topic, n))
		return tc_err_set(err, TC_ERR_USAGE, "%s: topic is not valid UTF-8 or has "
				  "control characters", what);
	return 0;
}

int
tc_mqtt_url_parse(const char *url, struct tc_mqtt_url *out, struct tc_err *err)
{
	char shown[TC_ECHO_MAX + 4];
	const char *p, *host, *hend, *slash, *port = NULL;
	unsigned long long pv;
	size_t hlen;

	memset(out, 0, sizeof(*out));
	if (url == NULL || !tc_mqtt_is_url(url))
		return tc_err_set(err, TC_ERR_USAGE, "%s: not an mqtt:// or mqtts:// URL",
				  tc_echo(url ? url : "(none)", shown));
	tc_echo(url, shown);
	out->tls = url[4] == 's' || url[4] == 'S';
	p = url + (out->tls ? 8 : 7);
	slash = strchr(p, '/');
	if (slash == NULL)
		return tc_err_set(err, TC_ERR_USAGE, "%s: no topic (mqtt://HOST[:PORT]/TOPIC)", shown);
	if (memchr(p, '@', (size_t)(slash - p)) != NULL)
		return tc_err_set(err, TC_ERR_USAGE, "%s: user info in the URL is not allowed "
				  "(use mqtt_username and mqtt_password_file)", shown);
	if (*p == '[') {
		host = p + 1;
		hend = memchr(host, ']', (size_t)(slash - host));
		if (hend == NULL)
			return tc_err_set(err, TC_ERR_USAGE, "%s: '[' without ']' around an IPv6 address",
					  shown);
		if (hend + 1 != slash && hend[1] != ':')
			return tc_err_set(err, TC_ERR_USAGE, "%s: junk after the IPv6 address", shown);
		if (hend[1] == ':')
			port = hend + 2;
	} else {
		host = p;
		hend = memchr(host, ':', (size_t)(slash - host));
		if (hend != NULL && memchr(hend + 1, ':', (size_t)(slash - hend - 1)) != NULL)
			return tc_err_set(err, TC_ERR_USAGE, "%s: an IPv6 address goes in brackets "
					  "(mqtt://[ADDRESS]:PORT/TOPIC)", shown);
		if (hend != NULL)
			port = hend + 1;
		else
			hend = slash;
	}
	hlen = (size_t)(hend - host);
	if (hlen == 0)
		return tc_err_set(err, TC_ERR_USAGE, "%s: no host", shown);
	if (hlen > TC_MQTT_HOST_MAX)
		return tc_err_set(err, TC_ERR_USAGE, "%s: host name too long", shown);
	memcpy(out->host, host, hlen);
	out->host[hlen] = '\0';
	/* An IPv6 literal only in brackets (its colons would read as a port),
	 * and nothing but an IPv6 literal inside them. */
	if ((*p == '[') != (strchr(out->host, ':') != NULL) || !tc_valid_host(out->host))
		return tc_err_set(err, TC_ERR_USAGE, "%s: bad host (a DNS name, an IPv4 address, "
				  "or an IPv6 address in brackets)", shown);
	out->port = out->tls ? TC_MQTTS_PORT : TC_MQTT_PORT;
	if (port != NULL) {
		char pbuf[8];
		size_t plen = (size_t)(slash - port);

		if (plen == 0 || plen >= sizeof(pbuf))
			return tc_err_set(err, TC_ERR_USAGE, "%s: bad port (1-65535)", shown);
		memcpy(pbuf, port, plen);
		pbuf[plen] = '\0';
		if (tc_parse_uint(pbuf, 65535, &pv) < 0 || pv == 0)
			return tc_err_set(err, TC_ERR_USAGE, "%s: bad port (1-65535)", shown);
		out->port = (unsigned)pv;
	}
	if (strlen(slash + 1) > TC_MQTT_TOPIC_MAX)
		return tc_err_set(err, TC_ERR_USAGE, "%s: topic longer than %d bytes", shown,
				  TC_MQTT_TOPIC_MAX);
	memcpy(out->topic, slash + 1, strlen(slash + 1) + 1);
	return topic_check(out->topic, shown, err);
}

static int
id_ok(const char *id)
{
	size_t i;

	if (id == NULL || id[0] == '\0' || strlen(id) > TC_MQTT_ID_MAX)
		return 0;
	for (i = 0; id[i] != '\0'; i++)
		if (id[i] <= 0x20 || id[i] >= 0x7f || id[i] == '/' || id[i] == '+' || id[i] == '#')
			return 0;
	return 1;
}

int
tc_mqtt_topic(const char *tmpl, const char *id, char *out, size_t outsz, struct tc_err *err)
{
	char shown[TC_ECHO_MAX + 4];
	const char *p, *hit;
	size_t o = 0, n, idlen;

	if (!id_ok(id))
		return tc_err_set(err, TC_ERR_USAGE, "--id %s: not usable in an MQTT topic and "
				  "client id (1-%d printable ASCII characters, no space, '/', "
				  "'+' or '#')", tc_echo(id ? id : "(none)", shown), TC_MQTT_ID_MAX);
	idlen = strlen(id);
	for (p = tmpl; (hit = strstr(p, "{id}")) != NULL || *p != '\0'; p = hit + 4) {
		n = hit != NULL ? (size_t)(hit - p) : strlen(p);
		if (o + n + (hit != NULL ? idlen : 0) >= outsz)
			return tc_err_set(err, TC_ERR_USAGE, "topic %s: longer than %zu bytes "
					  "with {id} replaced", tc_echo(tmpl, shown), outsz - 1);
		memcpy(out + o, p, n);
		o += n;
		if (hit == NULL)
			break;
		memcpy(out + o, id, idlen);
		o += idlen;
	}
	if (outsz == 0)
		return tc_err_set(err, TC_ERR_USAGE, "topic: no room");
	out[o] = '\0';
	return topic_check(out, "topic", err);
}

/* --- descriptors ------------------------------------------------------------ */

static void
set_cloexec(int fd)
{
	int f = fcntl(fd, F_GETFD);

	if (f >= 0 && !(f & FD_CLOEXEC))
		fcntl(fd, F_SETFD, f | FD_CLOEXEC);
}

/* libmosquitto writes a byte into its socketpair for every packet it queues
 * (to wake its own select() loop, which we do not run): read them away so
 * the pair's buffer does not fill. */
static void
drain_pair(struct tc_mqtt *m)
{
	char buf[256];

	for (int i = 0; i < 2; i++)
		if (m->pairfd[i] >= 0)
			while (recv(m->pairfd[i], buf, sizeof(buf), MSG_DONTWAIT) > 0)
				;
}

/* --- errors ----------------------------------------------------------------- */

static void
set_error(struct tc_mqtt *m, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
set_error(struct tc_mqtt *m, const char *fmt, ...)
{
	char why[448];
	va_list ap;

	va_start(ap, fmt);
	if (vsnprintf(why, sizeof(why), fmt, ap) >= (int)sizeof(why))
		memcpy(why + sizeof(why) - 4, "...", 4);
	va_end(ap);
	if (snprintf(m->last_error, sizeof(m->last_error), "%s: %s", m->shown, why) >=
	    (int)sizeof(m->last_error))
		memcpy(m->last_error + sizeof(m->last_error) - 4, "...", 4);
}

/* A printable copy of a string the broker or OpenSSL sent. */
static void
printable(const char *in, char *out, size_t outsz)
{
	size_t o = 0;

	for (; in != NULL && *in != '\0' && o + 1 < outsz; in++)
		out[o++] = (*in >= 0x20 && *in < 0x7f) ? *in : '?';
	out[o] = '\0';
}

/* " (broker says: ...)" from an MQTT 5 reason string property, or "". */
static void
reason_prop(const mosquitto_property *props, char *out, size_t outsz)
{
	char *s = NULL, clean[160];

	out[0] = '\0';
	if (props == NULL ||
	    mosquitto_property_read_string(props, MQTT_PROP_REASON_STRING, &s, false) == NULL ||
	    s == NULL)
		return;
	printable(s, clean, sizeof(clean));
	free(s);
	if (snprintf(out, outsz, " (broker says: %s)", clean) >= (int)outsz)
		out[0] = '\0';
}

/* OpenSSL's reason from libmosquitto's log line "OpenSSL Error[0]:
 * error:0A000086:SSL routines::certificate verify failed", as advice. */
static void
tls_why(const char *line, const char *phase, char *out, size_t outsz)
{
	const char *r = strrchr(line, ':');
	char reason[128];

	printable(r != NULL ? r + 1 : line, reason, sizeof(reason));
	if (strstr(reason, "unexpected eof") != NULL)
		snprintf(out, outsz, "%s: the broker closed the connection (TLS: %s)",
			 phase, reason);
	else if (strstr(reason, "certificate verify failed") != NULL)
		snprintf(out, outsz, "TLS: the broker's certificate is not trusted (%s; "
			 "check mqtt_cafile / --cacert and the host name)", reason);
	else if (strstr(reason, "certificate required") != NULL)
		snprintf(out, outsz, "TLS: the broker requires a client certificate (%s; "
			 "set mqtt_certfile and mqtt_keyfile)", reason);
	else if (strstr(reason, "unknown ca") != NULL || strstr(reason, "bad certificate") != NULL ||
		 strstr(reason, "certificate unknown") != NULL ||
		 strstr(reason, "certificate revoked") != NULL ||
		 strstr(reason, "certificate expired") != NULL)
		snprintf(out, outsz, "TLS: the broker refused the client certificate (%s; "
			 "check mqtt_certfile and mqtt_keyfile)", reason);
	else
		snprintf(out, outsz, "TLS: %s", reason);
}

/* --- libmosquitto callbacks ---------------------------------------------------- */

static void
cb_fail(struct tc_mqtt *m, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
cb_fail(struct tc_mqtt *m, const char *fmt, ...)
{
	va_list ap;

	if (m->cb_fail)
		return;
	va_start(ap, fmt);
	if (vsnprintf(m->cb_why, sizeof(m->cb_why), fmt, ap) >= (int)sizeof(m->cb_why))
		memcpy(m->cb_why + sizeof(m->cb_why) - 4, "...", 4);
	va_end(ap);
	m->cb_fail = 1;
}

static void
set_state(struct tc_mqtt *m, enum tc_mqtt_state s)
{
	if (m->state != s) {
		m->state = s;
		m->events |= TC_MQTT_EV_STATE;
	}
}

static void
on_log(struct mosquitto *mosq, void *obj, int level, const char *str)
{
	struct tc_mqtt *m = obj;

	(void)mosq;
	if ((level & MOSQ_LOG_ERR) && m->liberr[0] == '\0')
		printable(str, m->liberr, sizeof(m->liberr));
}

static void
on_connect(struct mosquitto *mosq, void *obj, int rc, int flags, const mosquitto_property *props)
{
	struct tc_mqtt *m = obj;
	char says[200];
	int mrc;

	(void)flags;
	reason_prop(props, says, sizeof(says));
	switch (rc) {
	case 0:
		break;
	case MQTT_RC_BAD_USERNAME_OR_PASSWORD:
		cb_fail(m, "authentication failed: bad user name or password "
			"(mqtt_username, mqtt_password_file)%s", says);
		return;
	case MQTT_RC_NOT_AUTHORIZED:
		cb_fail(m, "authentication failed: the broker refused client id %s%s%s: "
			"not authorized (check mqtt_username and mqtt_password_file, or "
			"the client certificate)%s", m->client_id,
			m->username ? " as user " : "", m->username ? m->username : "", says);
		return;
	case MQTT_RC_UNSUPPORTED_PROTOCOL_VERSION:
		cb_fail(m, "connection refused: the broker does not speak MQTT 5%s", says);
		return;
	case MQTT_RC_CLIENTID_NOT_VALID:
		cb_fail(m, "connection refused: client id %s not accepted%s", m->client_id, says);
		return;
	default:
		cb_fail(m, "connection refused by the broker: %s (reason code 0x%02x)%s",
			mosquitto_reason_string(rc), (unsigned)rc, says);
		return;
	}
	/* QoS 1: a document published while the link was up is not lost to
	 * one dropped packet; duplicates are harmless (converging is idempotent). */
	mrc = mosquitto_subscribe_v5(mosq, NULL, m->topic, 1, 0, NULL);
	if (mrc != MOSQ_ERR_SUCCESS) {
		cb_fail(m, "subscribe: %s", mosquitto_strerror(mrc));
		return;
	}
	set_state(m, TC_MQTT_SUBSCRIBING);
}

/* The mark up (see LOWAT_PLAIN) or down (1 byte, the default). m->lowat
 * says it is up; when setsockopt refuses, it stays down and every packet
 * wakes poll(), the PINGRESP included. */
static void
lowat_mark(struct tc_mqtt *m, int up)
{
	int v = 1, fd = mosquitto_socket(m->mosq);

	if (up) {
		v = LOWAT_PLAIN;
		if (m->url.tls) {
			v = PUBLISH_MIN_BASE + (int)strlen(m->topic) + TLS_RECORD_MIN_ADD;
			if (v > LOWAT_TLS_MAX)
				v = LOWAT_TLS_MAX;
		}
	}
	m->lowat = fd >= 0 && setsockopt(fd, SOL_SOCKET, SO_RCVLOWAT, &v, sizeof(v)) == 0 && up;
}

/* A keepalive has passed since the broker was last heard from (or since
 * the last ping): libmosquitto's rule for a ping, as in poll_setup. */
static int
ping_due(const struct tc_mqtt *m)
{
	return m->heard_ms && now_ms() >= m->heard_ms + (int64_t)m->keepalive * 1000;
}

/* Bytes waiting in the socket below the low-water mark (a PINGRESP), which
 * poll() does not report. */
static int
unread(const struct tc_mqtt *m)
{
	int n = 0;

	return m->lowat && ioctl(mosquitto_socket(m->mosq), FIONREAD, &n) == 0 && n > 0;
}

static void
on_subscribe(struct mosquitto *mosq, void *obj, int mid, int n, const int *granted,
	     const mosquitto_property *props)
{
	struct tc_mqtt *m = obj;
	char says[200];

	(void)mosq;
	(void)mid;
	reason_prop(props, says, sizeof(says));
	/* MQTT 5: a reason code >= 0x80 (0x87 not authorized) refuses it. */
	if (n < 1 || granted[0] >= 0x80) {
		int code = n < 1 ? 0x80 : granted[0];

		cb_fail(m, "subscription to %s refused by the broker: %s (reason code "
			"0x%02x; its ACL or policy does not let client id %s read this "
			"topic)%s", m->topic, mosquitto_reason_string(code), (unsigned)code,
			m->client_id, says);
		return;
	}
	m->st.subscribed++;
	m->up_since_ms = now_ms();
	set_state(m, TC_MQTT_SUBSCRIBED);
}

static void
on_message(struct mosquitto *mosq, void *obj, const struct mosquitto_message *msg,
	   const mosquitto_property *props)
{
	struct tc_mqtt *m = obj;
	size_t len;

	(void)mosq;
	(void)props;
	if (msg->topic == NULL || strcmp(msg->topic, m->topic) != 0)
		return;
	m->st.messages++;
	len = msg->payloadlen > 0 ? (size_t)msg->payloadlen : 0;
	if (len > TC_DOC_MAX) {
		set_error(m, "message of %zu bytes refused: over the size cap (%d bytes)",
			  len, TC_DOC_MAX);
		m->events |= TC_MQTT_EV_ERROR;
		if (m->one_shot)
			cb_fail(m, "message of %zu bytes refused: over the size cap (%d bytes)",
				len, TC_DOC_MAX);
		return;
	}
	free(m->msg);
	m->msg = xmalloc(len + 1);
	if (len > 0)
		memcpy(m->msg, msg->payload, len);
	m->msg[len] = '\0';
	m->msglen = len;
	m->has_msg = 1;
	m->events |= TC_MQTT_EV_MESSAGE;
}

static void
on_disconnect(struct mosquitto *mosq, void *obj, int rc, const mosquitto_property *props)
{
	struct tc_mqtt *m = obj;
	char says[200];

	(void)mosq;
	/* Reason codes of a broker's DISCONNECT are >= 0x80; below are
	 * libmosquitto's own MOSQ_ERR_* (described where the loop call failed). */
	if (rc < 0x80)
		return;
	reason_prop(props, says, sizeof(says));
	if (rc == MQTT_RC_SESSION_TAKEN_OVER)
		cb_fail(m, "the broker closed the connection: session taken over (another "
			"client connected with client id %s: two devices with one id?)%s",
			m->client_id, says);
	else
		cb_fail(m, "the broker closed the connection: %s (reason code 0x%02x)%s",
			mosquitto_reason_string(rc), (unsigned)rc, says);
}

/* --- one attempt ----------------------------------------------------------------- */

static void
close_conn(struct tc_mqtt *m)
{
	if (m->mosq == NULL)
		return;
	if (m->state == TC_MQTT_SUBSCRIBING || m->state == TC_MQTT_SUBSCRIBED)
		mosquitto_disconnect(m->mosq);
	mosquitto_destroy(m->mosq);
	m->mosq = NULL;
	m->pairfd[0] = m->pairfd[1] = -1;
	m->lowat = 0;
}

static unsigned
rnd(struct tc_mqtt *m)
{
	/* xorshift64: jitter only, not security */
	m->rng ^= m->rng << 13;
	m->rng ^= m->rng >> 7;
	m->rng ^= m->rng << 17;
	return (unsigned)(m->rng >> 32);
}

/* The attempt failed or the connection was lost: last_error says why. */
static void
lost(struct tc_mqtt *m)
{
	int64_t now = now_ms();
	unsigned wait;

	close_conn(m);
	m->heard_ms = 0;
	m->events |= TC_MQTT_EV_STATE;
	if (m->one_shot) {
		m->failed = 1;
		set_state(m, TC_MQTT_WAITING);
		return;
	}
	if (m->up_since_ms != 0 && now - m->up_since_ms >= STABLE_MS)
		m->backoff_ms = BACKOFF_MIN_MS;
	m->up_since_ms = 0;
	wait = m->backoff_ms / 2 + rnd(m) % (m->backoff_ms / 2 + 1);
	m->due_ms = now + wait;
	m->backoff_ms = m->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : m->backoff_ms * 2;
	set_state(m, TC_MQTT_WAITING);
}

/* The file can be opened for reading now: so its problem is named here,
 * rather than as libmosquitto's bare "invalid arguments". */
static int
file_ok(struct tc_mqtt *m, const char *what, const char *path)
{
	char shown[TC_ECHO_MAX + 4];
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);

	if (fd >= 0) {
		close(fd);
		return 0;
	}
	set_error(m, "%s %s: %s", what, tc_echo(path, shown), strerror(errno));
	return -1;
}

/* The first line of the password file, into pw (NUL-terminated). */
static int
read_password(struct tc_mqtt *m, char *pw, size_t pwsz)
{
	char shown[TC_ECHO_MAX + 4];
	size_t len = 0;
	ssize_t n;
	int fd;

	fd = open(m->password_file, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		set_error(m, "mqtt_password_file %s: %s",
			  tc_echo(m->password_file, shown), strerror(errno));
		return -1;
	}
	while (len + 1 < pwsz) {
		n = read(fd, pw + len, pwsz - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
		if (memchr(pw, '\n', len) != NULL)
			break;
	}
	close(fd);
	pw[len] = '\0';
	pw[strcspn(pw, "\n")] = '\0';
	len = strlen(pw);
	if (len > 0 && pw[len - 1] == '\r')
		pw[--len] = '\0';
	if (len == 0) {
		set_error(m, "mqtt_password_file %s: the first line is empty",
			  tc_echo(m->password_file, shown));
		return -1;
	}
	if (len == pwsz - 1 && strchr(pw, '\n') == NULL) {
		explicit_bzero(pw, pwsz);
		set_error(m, "mqtt_password_file %s: the first line is longer than %zu bytes",
			  tc_echo(m->password_file, shown), pwsz - 2);
		return -1;
	}
	return 0;
}

/* Anything that libmosquitto refused to set up, before any I/O. */
static int
setup_fail(struct tc_mqtt *m, const char *what, int rc)
{
	set_error(m, "%s: %s", what, m->liberr[0] ? m->liberr : mosquitto_strerror(rc));
	return -1;
}

static int
mosq_setup(struct tc_mqtt *m)
{
	struct mosquitto *mosq = m->mosq;
	mosquitto_property *props = NULL;
	int rc;

	mosquitto_int_option(mosq, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V5);
	mosquitto_log_callback_set(mosq, on_log);
	mosquitto_connect_v5_callback_set(mosq, on_connect);
	mosquitto_subscribe_v5_callback_set(mosq, on_subscribe);
	mosquitto_message_v5_callback_set(mosq, on_message);
	mosquitto_disconnect_v5_callback_set(mosq, on_disconnect);
	if (m->url.tls) {
		const char *ca = m->cafile, *capath = NULL;

		if ((ca != NULL && file_ok(m, "mqtt_cafile", ca) < 0) ||
		    (m->certfile != NULL && file_ok(m, "mqtt_certfile", m->certfile) < 0) ||
		    (m->keyfile != NULL && file_ok(m, "mqtt_keyfile", m->keyfile) < 0))
			return -1;
		if (ca == NULL) {
			mosquitto_int_option(mosq, MOSQ_OPT_TLS_USE_OS_CERTS, 1);
			capath = SYSTEM_CA_DIR;
		}
		/* No password callback would let OpenSSL prompt on the terminal
		 * for an encrypted key: refuse one instead. */
		rc = mosquitto_tls_set(mosq, ca, capath, m->certfile, m->keyfile, NULL);
		if (rc != MOSQ_ERR_SUCCESS)
			return setup_fail(m, "TLS setup", rc);
		rc = mosquitto_tls_opts_set(mosq, 1, "tlsv1.2", NULL);
		if (rc != MOSQ_ERR_SUCCESS)
			return setup_fail(m, "TLS setup", rc);
	}
	if (m->username != NULL || m->password_file != NULL) {
		char pw[PASSWORD_MAX + 2];

		if (m->password_file != NULL && read_password(m, pw, sizeof(pw)) < 0)
			return -1;
		rc = mosquitto_username_pw_set(mosq, m->username,
					       m->password_file != NULL ? pw : NULL);
		explicit_bzero(pw, sizeof(pw));
		if (rc != MOSQ_ERR_SUCCESS)
			return setup_fail(m, "user name and password", rc);
	}
	/* libmosquitto 2.0 has no asynchronous connect with MQTT 5 properties:
	 * mosquitto_connect_bind_v5() keeps them for later connects and only
	 * then checks its arguments, so an invalid keepalive (1) stores them
	 * and returns before connecting; mosquitto_connect_bind_async() then
	 * sends them. Should a later version stop keeping them, only the cap
	 * is lost: on_message still refuses a payload over TC_DOC_MAX. */
	if (mosquitto_property_add_int32(&props, MQTT_PROP_MAXIMUM_PACKET_SIZE, PACKET_MAX) !=
	    MOSQ_ERR_SUCCESS)
		tc_oom();
	mosquitto_connect_bind_v5(mosq, m->url.host, (int)m->url.port, 1, NULL, props);
	mosquitto_property_free_all(&props);
	return 0;
}

/* Why a loop call (rc, errno e) or the connect call failed, unless a
 * callback or libmosquitto's log already said more. */
static void
describe(struct tc_mqtt *m, int rc, int e, const char *phase)
{
	char why[300];

	if (m->cb_fail) {
		set_error(m, "%s", m->cb_why);
		return;
	}
	if (strstr(m->liberr, "OpenSSL") != NULL) {
		tls_why(m->liberr, phase, why, sizeof(why));
		set_error(m, "%s", why);
		return;
	}
	if (strstr(m->liberr, "Unable to load") != NULL) {
		const char *l = m->liberr;

		if (strncmp(l, "Error: ", 7) == 0)
			l += 7;
		set_error(m, "TLS: %s (mqtt_certfile, mqtt_keyfile: an unencrypted PEM "
			  "certificate and the key that belongs to it)", l);
		return;
	}
	/* A handshake the broker ended with an alert that OpenSSL did not
	 * queue (it arrived while libmosquitto was already writing CONNECT):
	 * the usual cause is the client certificate. */
	if (m->url.tls && m->state == TC_MQTT_CONNECTING && rc == MOSQ_ERR_ERRNO &&
	    (e == EPROTO || e == ECONNRESET || e == EPIPE)) {
		if (m->certfile == NULL)
			set_error(m, "TLS: the broker ended the handshake (%s): it may require a "
				  "client certificate (set mqtt_certfile and mqtt_keyfile)", strerror(e));
		else
			set_error(m, "TLS: the broker ended the handshake (%s): it may have refused "
				  "the client certificate (check mqtt_certfile and mqtt_keyfile)",
				  strerror(e));
		return;
	}
	switch (rc) {
	case MOSQ_ERR_ERRNO:
		if (e == 0)
			set_error(m, "%s: the connection was closed", phase);
		else if (e == ECONNREFUSED)
			set_error(m, "cannot connect to %s port %u: connection refused",
				  m->url.host, m->url.port);
		else
			set_error(m, "%s: %s", phase, strerror(e));
		break;
	case MOSQ_ERR_EAI:
		set_error(m, "cannot resolve %s: %s", m->url.host, gai_strerror(e));
		break;
	case MOSQ_ERR_CONN_LOST:
		set_error(m, "%s: the broker closed the connection", phase);
		break;
	case MOSQ_ERR_KEEPALIVE:
		set_error(m, "no answer from the broker within the keepalive (%u s)", m->keepalive);
		break;
	case MOSQ_ERR_TLS:
		set_error(m, "TLS failed (%s)", m->liberr[0] ? m->liberr : "no detail");
		break;
	default:
		set_error(m, "%s: %s", phase, mosquitto_strerror(rc));
		break;
	}
}

static void
start_attempt(struct tc_mqtt *m)
{
	struct tc_fdsnap snap;
	int rc, e, fd;

	m->liberr[0] = '\0';
	m->cb_fail = 0;
	m->connect_errno = 0;
	m->st.attempts++;
	tc_fdsnap_take(&snap);
	/* Clean start, no session kept (MQTT 5 session expiry 0, the default):
	 * nothing queues for an absent device; at every subscription the broker
	 * sends the retained message, the only one that matters. */
	m->mosq = XCHECK(mosquitto_new(m->client_id, true, m));
	m->pairfd[0] = m->pairfd[1] = -1;
	/* Its wake-up socketpair: not exposed, so found as what it opened. */
	if (tc_fdsnap_cloexec_new(&snap, m->pairfd, 2) != 2)
		m->pairfd[0] = m->pairfd[1] = -1;
	m->due_ms = now_ms() + ATTEMPT_TIMEOUT_MS;
	set_state(m, TC_MQTT_CONNECTING);
	if (mosq_setup(m) < 0) {
		lost(m);
		return;
	}
	errno = 0;
	rc = mosquitto_connect_bind_async(m->mosq, m->url.host, (int)m->url.port,
					  (int)m->keepalive, NULL);
	e = errno;
	fd = mosquitto_socket(m->mosq);
	if (fd >= 0)
		set_cloexec(fd);
	if (rc != MOSQ_ERR_SUCCESS || fd < 0) {
		describe(m, rc, e, "connect");
		lost(m);
		return;
	}
	/* With TLS, libmosquitto starts the handshake at once; when the TCP
	 * connection is refused meanwhile, OpenSSL's write takes the socket's
	 * error and libmosquitto ignores it. Kept to name a hang-up later. */
	if (e == ECONNREFUSED || e == ENETUNREACH || e == EHOSTUNREACH || e == ETIMEDOUT)
		m->connect_errno = e;
}

/* --- public: long-running ------------------------------------------------------------ */

static char *
dup_opt(const char *s)
{
	return s != NULL && s[0] != '\0' ? xstrdup(s) : NULL;
}

static int
mqtt_new(const struct tc_mqtt_opts *o, int one_shot, struct tc_mqtt **out, struct tc_err *err)
{
	struct tc_mqtt *m;
	uint64_t seed = 0;
	int n;

	*out = NULL;
	m = xcalloc(1, sizeof(*m));
	m->pairfd[0] = m->pairfd[1] = -1;
	if (tc_mqtt_url_parse(o->url, &m->url, err) < 0 ||
	    tc_mqtt_topic(m->url.topic, o->id, m->topic, sizeof(m->topic), err) < 0)
		goto bad;
	if (o->keepalive_s != 0 && (o->keepalive_s < 5 || o->keepalive_s > 65535)) {
		tc_err_set(err, TC_ERR_USAGE, "mqtt_keepalive %u: not 5-65535 seconds",
			   o->keepalive_s);
		goto bad;
	}
	if ((o->certfile != NULL && o->certfile[0]) != (o->keyfile != NULL && o->keyfile[0])) {
		tc_err_set(err, TC_ERR_USAGE, "mqtt_certfile and mqtt_keyfile go together "
			   "(a client certificate and its key)");
		goto bad;
	}
	if (!m->url.tls && ((o->certfile && o->certfile[0]) || (o->cafile && o->cafile[0]))) {
		tc_err_set(err, TC_ERR_USAGE, "%s: a CA or client certificate needs mqtts://",
			   o->url);
		goto bad;
	}
	n = snprintf(m->client_id, sizeof(m->client_id), CLIENT_ID_PREFIX "%s", o->id);
	if (n < 0 || (size_t)n >= sizeof(m->client_id)) {
		tc_err_set(err, TC_ERR_USAGE, "--id: too long for a client id");
		goto bad;
	}
	/* The host as given, brackets back around an IPv6 literal. */
	n = snprintf(m->shown, sizeof(m->shown), "%s://%s%s%s:%u/%s", m->url.tls ? "mqtts" : "mqtt",
		     strchr(m->url.host, ':') ? "[" : "", m->url.host,
		     strchr(m->url.host, ':') ? "]" : "", m->url.port, m->topic);
	if (n < 0 || (size_t)n >= sizeof(m->shown))
		memcpy(m->shown + sizeof(m->shown) - 4, "...", 4);
	m->cafile = dup_opt(o->cafile);
	m->certfile = dup_opt(o->certfile);
	m->keyfile = dup_opt(o->keyfile);
	m->username = dup_opt(o->username);
	m->password_file = dup_opt(o->password_file);
	m->keepalive = o->keepalive_s != 0 ? o->keepalive_s : TC_MQTT_KEEPALIVE_DEFAULT;
	m->one_shot = one_shot;
	m->backoff_ms = BACKOFF_MIN_MS;
	m->state = TC_MQTT_WAITING;
	m->due_ms = now_ms();
	if (getrandom(&seed, sizeof(seed), GRND_NONBLOCK) != (ssize_t)sizeof(seed))
		seed = (uint64_t)now_ms() ^ ((uint64_t)getpid() << 32);
	m->rng = seed != 0 ? seed : 0x9e3779b97f4a7c15ull;
	lib_init();
	*out = m;
	return 0;
bad:
	free(m);
	return -1;
}

int
tc_mqtt_new(const struct tc_mqtt_opts *o, struct tc_mqtt **out, struct tc_err *err)
{
	return mqtt_new(o, 0, out, err);
}

void
tc_mqtt_free(struct tc_mqtt *m)
{
	if (m == NULL)
		return;
	close_conn(m);
	free(m->msg);
	free(m->cafile);
	free(m->certfile);
	free(m->keyfile);
	free(m->username);
	free(m->password_file);
	free(m);
}

int
tc_mqtt_poll_setup(struct tc_mqtt *m, struct pollfd *pfd)
{
	int64_t now = now_ms(), left, cap = POLL_MAX_MS;

	pfd->fd = -1;
	pfd->events = 0;
	pfd->revents = 0;
	if (m->failed)
		return POLL_MAX_MS;
	left = m->due_ms - now;
	if (m->mosq != NULL) {
		pfd->fd = mosquitto_socket(m->mosq);
		pfd->events = POLLIN | (mosquitto_want_write(m->mosq) ? POLLOUT : 0);
		if (m->state == TC_MQTT_SUBSCRIBED) {
			/* Keepalive work: libmosquitto pings once nothing was heard
			 * for a keepalive (whole seconds of CLOCK_MONOTONIC, as
			 * here), and counts a ping as heard. So the wake-up is
			 * then: one a period, the PINGRESP waiting below the
			 * low-water mark until that wake-up reads it. Without the
			 * mark (or before a first packet was heard), four checks a
			 * keepalive find the ping due at most a quarter late,
			 * inside the broker's 1.5 × keepalive, and a missing
			 * PINGRESP. */
			left = m->heard_ms ? m->heard_ms + (int64_t)m->keepalive * 1000 - now :
					     (int64_t)m->keepalive * 1000 / 4;
			/* Nothing else is due: no wake-up before that (a
			 * keepalive is at most 65535 s, within an int of ms). */
			cap = (int64_t)m->keepalive * 1000;
		}
	}
	if (left < 0)
		left = 0;
	return left > cap ? (int)cap : (int)left;
}

/* After a loop call: act on what the callbacks recorded or on a failure. */
static void
after_call(struct tc_mqtt *m, int rc, int e, const char *phase)
{
	if (m->mosq == NULL)
		return;
	if (m->cb_fail || rc != MOSQ_ERR_SUCCESS || mosquitto_socket(m->mosq) < 0) {
		describe(m, rc, e, phase);
		lost(m);
	}
}

unsigned
tc_mqtt_handle(struct tc_mqtt *m, short revents)
{
	const char *phase;
	unsigned ev;
	int rc, e;

	if (m->mosq != NULL) {
		phase = m->state == TC_MQTT_CONNECTING ? "connecting" :
			m->state == TC_MQTT_SUBSCRIBING ? "subscribing" : "connection lost";
		int waiting = unread(m);
		int due = m->state == TC_MQTT_SUBSCRIBED && ping_due(m);

		/* POLLOUT too: during the TLS handshake only the read call
		 * advances it (libmosquitto's loop_write waits for it). */
		if ((revents & (POLLIN | POLLOUT | POLLHUP | POLLERR)) || waiting) {
			errno = 0;
			rc = mosquitto_loop_read(m->mosq, 1);
			e = errno;
			after_call(m, rc, e, phase);
			if (m->mosq != NULL && ((revents & POLLIN) || waiting)) {
				m->heard_ms = now_ms();
				if (m->lowat)
					lowat_mark(m, 0);
			}
		}
		if (m->mosq != NULL && (revents & POLLOUT)) {
			errno = 0;
			rc = mosquitto_loop_write(m->mosq, 1);
			e = errno;
			after_call(m, rc, e, phase);
		}
		if (m->mosq != NULL) {
			errno = 0;
			rc = mosquitto_loop_misc(m->mosq);
			e = errno;
			after_call(m, rc, e, phase);
			/* The ping was due and went out now (libmosquitto counts
			 * the next keepalive from it): the mark goes up and its
			 * answer is read at the next wake-up. Without the mark,
			 * quarter checks until the answer wakes us. */
			if (m->mosq != NULL && due) {
				lowat_mark(m, 1);
				m->heard_ms = m->lowat ? now_ms() : 0;
			} else if (ping_due(m)) {
				m->heard_ms = 0;
			}
		}
		/* A hung-up socket that libmosquitto did not give up (a refused
		 * connection during the TLS handshake) would wake poll() at once
		 * forever: it is lost. */
		if (m->mosq != NULL && (revents & (POLLHUP | POLLERR))) {
			int soerr = 0;
			socklen_t sl = sizeof(soerr);

			getsockopt(mosquitto_socket(m->mosq), SOL_SOCKET, SO_ERROR, &soerr, &sl);
			describe(m, MOSQ_ERR_ERRNO, soerr != 0 ? soerr : m->connect_errno, phase);
			lost(m);
		}
		if (m->mosq != NULL)
			drain_pair(m);
		if (m->mosq != NULL && m->state != TC_MQTT_SUBSCRIBED && now_ms() >= m->due_ms) {
			set_error(m, "%s: no answer from the broker within %d s", phase,
				  (int)((m->one_shot ? TC_MQTT_WAIT_S * 1000 : ATTEMPT_TIMEOUT_MS) / 1000));
			lost(m);
		}
	}
	if (m->mosq == NULL && !m->failed && now_ms() >= m->due_ms)
		start_attempt(m);
	ev = m->events;
	m->events = 0;
	return ev;
}

void
tc_mqtt_reconnect_now(struct tc_mqtt *m)
{
	if (m->mosq == NULL && !m->failed) {
		m->due_ms = now_ms();
		m->backoff_ms = BACKOFF_MIN_MS;
	}
}

int
tc_mqtt_take(struct tc_mqtt *m, char **payload, size_t *len)
{
	if (!m->has_msg)
		return 0;
	*payload = m->msg;
	*len = m->msglen;
	m->msg = NULL;
	m->msglen = 0;
	m->has_msg = 0;
	return 1;
}

enum tc_mqtt_state
tc_mqtt_state(const struct tc_mqtt *m)
{
	return m->state;
}

const char *
tc_mqtt_state_name(enum tc_mqtt_state s)
{
	switch (s) {
	case TC_MQTT_WAITING: return "waiting";
	case TC_MQTT_CONNECTING: return "connecting";
	case TC_MQTT_SUBSCRIBING: return "subscribing";
	case TC_MQTT_SUBSCRIBED: return "subscribed";
	}
	return "unknown";
}

const char *
tc_mqtt_last_error(const struct tc_mqtt *m)
{
	return m->last_error;
}

void
tc_mqtt_stats(const struct tc_mqtt *m, struct tc_mqtt_stats *st)
{
	*st = m->st;
	st->backoff_ms = m->backoff_ms;
}

/* --- public: one-shot ------------------------------------------------------------------ */

int
tc_mqtt_get(const struct tc_mqtt_opts *o, char **payload, size_t *len, struct tc_err *err)
{
	struct tc_mqtt *m;
	struct pollfd pfd;
	int64_t deadline;
	int timeout, ret = -1;

	*payload = NULL;
	*len = 0;
	if (mqtt_new(o, 1, &m, err) < 0)
		return -1;
	deadline = now_ms() + TC_MQTT_WAIT_S * 1000;
	tc_mqtt_handle(m, 0);
	/* The whole exchange, connection included, ends by the deadline. */
	m->due_ms = deadline;
	for (;;) {
		if (tc_mqtt_take(m, payload, len)) {
			ret = 0;
			break;
		}
		if (m->failed) {
			tc_err_set(err, TC_ERR_FETCH, "%s", m->last_error);
			break;
		}
		if (now_ms() >= deadline) {
			if (m->state == TC_MQTT_SUBSCRIBED)
				tc_err_set(err, TC_ERR_FETCH, "%s: no retained message arrived within "
					   "%d s (nothing retained on the topic, a retained message "
					   "over %u bytes, or an ACL that lets client id %s subscribe "
					   "but not read it)", m->shown, TC_MQTT_WAIT_S, PACKET_MAX,
					   m->client_id);
			else
				tc_err_set(err, TC_ERR_FETCH, "%s: %s: no answer from the broker "
					   "within %d s", m->shown, tc_mqtt_state_name(m->state),
					   TC_MQTT_WAIT_S);
			break;
		}
		timeout = tc_mqtt_poll_setup(m, &pfd);
		if (deadline - now_ms() < timeout)
			timeout = (int)(deadline - now_ms());
		if (timeout < 0)
			timeout = 0;
		if (poll(&pfd, pfd.fd >= 0 ? 1 : 0, timeout) < 0 && errno != EINTR) {
			tc_err_set(err, TC_ERR_RUNTIME, "poll: %s", strerror(errno));
			break;
		}
		tc_mqtt_handle(m, pfd.revents);
	}
	tc_mqtt_free(m);
	return ret;
}
