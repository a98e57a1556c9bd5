/* mqtt.h: an MQTT config source (libmosquitto lives behind this header): the
 * payload of a topic's retained message, and of every later message, is the
 * config document. One-shot for `sync`, and a client for `watch` that sits in
 * the caller's poll() loop beside its other descriptors. */
#ifndef TC_MQTT_H
#define TC_MQTT_H

#include <poll.h>
#include <stddef.h>

#include "err.h"

#define TC_MQTT_PORT		1883	/* IANA: MQTT */
#define TC_MQTTS_PORT		8883	/* IANA: MQTT over TLS */
#define TC_MQTT_KEEPALIVE_DEFAULT 300	/* contract: mqtt_keepalive default, seconds */
#define TC_MQTT_WAIT_S		10	/* contract: sync waits this long for the retained message */
#define TC_MQTT_HOST_MAX	253	/* a DNS name; an IPv6 literal is shorter */
/* A topic after {id} is replaced. MQTT allows 65535 bytes; real ones are short. */
#define TC_MQTT_TOPIC_MAX	1024
/* A device id in the client id and the topic: an IMSI, a host name, a serial. */
#define TC_MQTT_ID_MAX		64

/* mqtt://HOST[:PORT]/TOPIC or mqtts://..., parsed strictly. */
struct tc_mqtt_url {
	int tls;				/* mqtts:// */
	char host[TC_MQTT_HOST_MAX + 1];	/* an IPv6 literal without its brackets */
	unsigned port;				/* 1..65535; the scheme's default when absent */
	char topic[TC_MQTT_TOPIC_MAX + 1];	/* as written: {id} not replaced yet */
};

/* 1 if url starts with mqtt:// or mqtts:// (any case), else 0. */
int tc_mqtt_is_url(const char *url);

/* Parse url. The scheme is case-insensitive; HOST is a DNS name, an IPv4
 * literal or an IPv6 literal in brackets; PORT is 1-65535 (no sign, no
 * leading zero); no user info (credentials come from mqtt_username and
 * mqtt_password_file, never from a URL that ends up in logs and argv);
 * TOPIC is everything after the first '/', taken literally (no percent
 * decoding), non-empty, without '+', '#', NUL or control characters, valid
 * UTF-8. Errors: TC_ERR_USAGE naming what is wrong. */
int tc_mqtt_url_parse(const char *url, struct tc_mqtt_url *out, struct tc_err *err);

/* The topic with every "{id}" replaced by id, into out. id is 1..TC_MQTT_ID_MAX
 * printable ASCII characters other than space, '/', '+', '#' (it must stay one
 * topic level and never become a wildcard); it is checked even when the
 * template has no {id}, since it is also the client id. The result is checked
 * as in tc_mqtt_url_parse. Errors: TC_ERR_USAGE. */
int tc_mqtt_topic(const char *tmpl, const char *id, char *out, size_t outsz, struct tc_err *err);

struct tc_mqtt_opts {
	const char *url;		/* mqtt:// or mqtts:// */
	const char *id;			/* device id: {id} in the topic, client id "tunnelctl-ID" */
	/* mqtts only. cafile NULL: the system's CA store. certfile and keyfile
	 * come together (a client certificate, as AWS IoT Core requires); the key
	 * must not be encrypted. Read at every connection attempt, so renewed
	 * files are used from the next (re)connection on. */
	const char *cafile;
	const char *certfile;
	const char *keyfile;
	const char *username;		/* or NULL */
	/* Its first line is the password (without the line end); read at every
	 * attempt; never copied into argv, the environment or a message. */
	const char *password_file;
	unsigned keepalive_s;		/* 0: TC_MQTT_KEEPALIVE_DEFAULT; else 5..65535 */
};

/* --- one-shot, for sync ------------------------------------------------- */

/* Connect, subscribe, wait at most TC_MQTT_WAIT_S seconds (from the start,
 * connection included) for the topic's retained message (or any message),
 * disconnect. *payload is owned by the caller (free()), NUL-terminated, *len
 * excludes the NUL; len 0 is an empty payload ("no entry for this device").
 * No retry: the first failure is the answer. Errors: TC_ERR_USAGE (bad URL,
 * id or option), TC_ERR_FETCH with "URL: why" (no retained message arrived,
 * cannot connect, TLS, authentication, subscription refused, payload over
 * TC_DOC_MAX). */
int tc_mqtt_get(const struct tc_mqtt_opts *o, char **payload, size_t *len, struct tc_err *err);

/* --- long-running, for watch ---------------------------------------------
 *
 * The client never blocks for long and never starts a thread: each call does
 * what can be done now. Loop:
 *
 *	timeout = tc_mqtt_poll_setup(m, &pfd);	(pfd.fd is -1 between connections)
 *	... poll() over pfd and the caller's fds with min(timeout, theirs) ...
 *	ev = tc_mqtt_handle(m, pfd.revents);	(also when poll timed out: 0)
 *	if (ev & TC_MQTT_EV_STATE) log the new tc_mqtt_state / tc_mqtt_last_error
 *	if (ev & TC_MQTT_EV_ERROR) log tc_mqtt_last_error (a refused message)
 *	if (tc_mqtt_take(m, &doc, &len)) converge on doc, then free(doc)
 *
 * Connection attempts are made inside tc_mqtt_handle. They do not wait for
 * TCP, TLS or the broker (non-blocking socket), but the host name is resolved
 * with the blocking getaddrinfo(), which waits at most the resolver's
 * timeout × attempts (resolv.conf; 5 s × 2 per server by default) when DNS
 * is unreachable; an IP literal never waits. A lost or failed connection is
 * retried after a capped exponential backoff (1 s doubling to 60 s, each
 * wait drawn from its upper half at random so a fleet spreads out). The
 * backoff starts again at 1 s once a connection has stayed up 60 s. */

struct tc_mqtt;

enum tc_mqtt_state {
	TC_MQTT_WAITING = 1,	/* no connection: the next attempt is due later */
	TC_MQTT_CONNECTING,	/* TCP, TLS, CONNECT sent, waiting for CONNACK */
	TC_MQTT_SUBSCRIBING,	/* connected, waiting for SUBACK */
	TC_MQTT_SUBSCRIBED,	/* messages flow; the retained one comes first */
};

/* What tc_mqtt_handle saw (bits). */
#define TC_MQTT_EV_STATE	1u	/* tc_mqtt_state() changed (a loss sets last_error) */
#define TC_MQTT_EV_MESSAGE	2u	/* a message is waiting for tc_mqtt_take() */
#define TC_MQTT_EV_ERROR	4u	/* a message was refused (over the size cap): see last_error */

/* Check the options (TC_ERR_USAGE: URL, id, topic, keepalive, cert without
 * key) and make a client in state WAITING with its first attempt due at
 * once. Reads no file yet. *out is freed with tc_mqtt_free. */
int tc_mqtt_new(const struct tc_mqtt_opts *o, struct tc_mqtt **out, struct tc_err *err);

/* Disconnect (a DISCONNECT is sent if connected) and free everything. */
void tc_mqtt_free(struct tc_mqtt *m);

/* Fill pfd (fd -1 with no socket; events POLLIN, plus POLLOUT while there is
 * something to send) and return the milliseconds until tc_mqtt_handle must
 * be called even if nothing happens on fd (>= 0). The fd is CLOEXEC; it
 * changes across reconnections: ask again before every poll(). */
int tc_mqtt_poll_setup(struct tc_mqtt *m, struct pollfd *pfd);

/* Do the pending work: read, write, keepalive, time out, start an attempt
 * whose backoff has passed. revents: what poll() said for the fd given by
 * the last tc_mqtt_poll_setup (0 after a timeout). Returns TC_MQTT_EV_* bits. */
unsigned tc_mqtt_handle(struct tc_mqtt *m, short revents);

/* Skip the backoff: the next tc_mqtt_handle (poll_setup returns 0) makes a
 * new attempt; for when the network comes back (the watcher's rtnetlink
 * event). A connection that is up is left alone; one being set up is left to
 * finish. */
void tc_mqtt_reconnect_now(struct tc_mqtt *m);

/* The latest message, if one came since the last take (earlier ones not
 * taken are dropped: only the latest document matters). Same ownership and
 * empty-payload rule as tc_mqtt_get. 1 if one was taken, else 0. */
int tc_mqtt_take(struct tc_mqtt *m, char **payload, size_t *len);

enum tc_mqtt_state tc_mqtt_state(const struct tc_mqtt *m);
const char *tc_mqtt_state_name(enum tc_mqtt_state s);	/* "waiting", ... */

/* Why the last connection failed or was lost, or why the last message was
 * refused, as "URL: why" ("" when nothing went wrong yet). Kept until the
 * next failure; a successful subscription does not clear it. */
const char *tc_mqtt_last_error(const struct tc_mqtt *m);

/* Counters since tc_mqtt_new, for logs and tests. */
struct tc_mqtt_stats {
	unsigned long attempts;		/* connection attempts started */
	unsigned long subscribed;	/* times the subscription was granted */
	unsigned long messages;		/* messages received (taken or dropped) */
	unsigned backoff_ms;		/* the current backoff step */
};
void tc_mqtt_stats(const struct tc_mqtt *m, struct tc_mqtt_stats *st);

/* libmosquitto's version, for `tunnelctl version`. */
const char *tc_mqtt_version(void);

#endif
