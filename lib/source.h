/* source.h: where this device's tunnels come from: a URL + id, or the
 * SORACOM metadata service. Fetches (conditionally, with a cache in the
 * state dir) and parses; nothing else. */
#ifndef TC_SOURCE_H
#define TC_SOURCE_H

#include "doc.h"
#include "err.h"

struct tc_source {
	const char *url;		/* --source; NULL with soracom */
	const char *id;			/* --id; NULL with soracom */
	const char *soracom;		/* BASE URL, or NULL */
	const char *cacert;		/* https; and mqtts when mqtt_cafile is NULL */
	const char *interface;		/* fetch only through this interface, or NULL */
	/* watch: keep libcurl's handle, connection and DNS cache for the next
	 * load (its sockets are CLOEXEC); tc_fetch_cleanup() ends them. sync
	 * (0): closed before tunnels start. */
	int keep_connection;
	/* watch, holding the document it parsed last: when every request is
	 * answered 304, tc_source_load parses nothing and leaves out empty
	 * (*not_modified = 1 says so). */
	int skip_unchanged;
	/* mqtt:// and mqtts:// (settings mqtt_*; NULL or 0: not set). See mqtt.h. */
	const char *mqtt_cafile;
	const char *mqtt_certfile;
	const char *mqtt_keyfile;
	const char *mqtt_username;
	const char *mqtt_password_file;
	unsigned mqtt_keepalive;	/* seconds; 0: TC_MQTT_KEEPALIVE_DEFAULT */
};

#define TC_FETCH_DIR ".fetch"	/* STATE_DIR/.fetch: the conditional-GET cache */

#define TC_SORACOM_DEFAULT "http://metadata.soracom.io"

/* Fetch and parse. statefd (may be -1) holds the validator cache in
 * STATE_DIR/.fetch/. *not_modified = 1 when the server said 304 (the cached
 * document was parsed, or with skip_unchanged nothing was). An mqtt:// or mqtts:// URL is read once with
 * tc_mqtt_get (the retained message; no cache, never not_modified).
 * Errors: TC_ERR_FETCH or TC_ERR_INVALID; TC_ERR_USAGE for a bad MQTT URL,
 * id or option. */
int tc_source_load(int statefd, const struct tc_source *src, struct tc_doc_result *out,
		   int *not_modified, struct tc_err *err);

/* Drop what keep_connection kept in memory (documents, validators): when a
 * watcher changes its source or ends. */
void tc_source_forget(void);

/* src as tc_mqtt_opts (pointers into src): for watch's tc_mqtt_new. */
struct tc_mqtt_opts;
void tc_source_mqtt_opts(const struct tc_source *src, struct tc_mqtt_opts *o);

/* An MQTT message's payload -> this device's specs, as a fetched body is
 * parsed, except that an empty payload is a valid "no entry for this device"
 * (has_device 0, no specs). Errors: TC_ERR_INVALID. */
int tc_source_parse_mqtt(const char *buf, size_t len, const char *id,
			 struct tc_doc_result *out, struct tc_err *err);

#endif
