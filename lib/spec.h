/* spec.h: one tunnel's validated specification, the parsers for its fields,
 * and its digest. Pure: no I/O. */
#ifndef TC_SPEC_H
#define TC_SPEC_H

#include <stddef.h>
#include <stdint.h>

#include "echo.h"	/* tc_echo: messages of spec.c's callers quote values with it */
#include "err.h"
#include "key.h"	/* the key of a spec, TC_HOSTKEY_MAX */

#define TC_NAME_MAX	32		/* contract: [a-z0-9][a-z0-9_-]{0,31} */
#define TC_HOST_MAX	253		/* longest DNS name */
#define TC_USER_MAX	32		/* POSIX login name limit used by shadow-utils */
#define TC_KEEPALIVE_INTERVAL	30	/* contract default: ServerAliveInterval */
#define TC_KEEPALIVE_COUNT	3	/* contract default: ServerAliveCountMax */
/* An interval over an hour would leave a dead link unnoticed for hours; more
 * than 100 unanswered probes is never what was meant. */
#define TC_KEEPALIVE_INTERVAL_MAX 3600
#define TC_KEEPALIVE_COUNT_MAX	100
#define TC_DIGEST_HEX	65		/* sha256 hex + NUL */

enum tc_via { TC_VIA_DIRECT = 0, TC_VIA_DNAT = 1 };

struct tc_spec {
	char name[TC_NAME_MAX + 1];
	char user[TC_USER_MAX + 1];	/* "" = ssh's default user */
	char host[TC_HOST_MAX + 1];
	uint16_t port;			/* server port, default 22 */
	char host_key[TC_HOSTKEY_MAX + 1];	/* "TYPE BASE64" or "" (trust on first use) */
	char remote_bind[TC_HOST_MAX + 1];	/* default "127.0.0.1" */
	uint16_t remote_port;		/* 0 = the server allocates */
	char target_host[TC_HOST_MAX + 1];
	uint16_t target_port;
	enum tc_via via;
	uint16_t local_port;		/* with TC_VIA_DNAT only */
	int64_t timeout_s;		/* 0 = no timeout */
	unsigned keepalive_interval;
	unsigned keepalive_count;
	int gate;			/* the server runs tunnelctl-gate: send it the hello */
	/* An OpenSSH user certificate for the key ("TYPE BASE64"), or "". It is
	 * public. Only whether there is one enters the digest: a renewed one is
	 * written in place and used from the next connection, no restart. */
	char certificate[TC_CERT_MAX + 1];
	/* PEM text, NUL-terminated; owned; freed (wiped) by tc_spec_clear().
	 * NULL: the device's own key (lib/devkey.h) is used. */
	char *key;
	size_t key_len;
};

/* Set every field to its contract default (port 22, bind 127.0.0.1, keepalive 30,3). */
void tc_spec_init(struct tc_spec *s);
/* Wipe and free the key; the struct may be reused after tc_spec_init(). */
void tc_spec_clear(struct tc_spec *s);
/* Move src's contents into dst (dst must be cleared/initialised); src is left initialised. */
void tc_spec_move(struct tc_spec *dst, struct tc_spec *src);

/* Check every field. The message names the field with `prefix` in front
 * (e.g. prefix "devices.edge.tunnels[0]." gives "...target.port: 0 is not a port").
 * Never quotes the key. 0 or -1 (TC_ERR_INVALID). */
int tc_spec_validate(const struct tc_spec *s, const char *prefix, struct tc_err *err);

/* Field validators: 1 if valid, 0 if not. None accepts a leading '-',
 * whitespace or control characters. */
int tc_valid_name(const char *s);
int tc_valid_host(const char *s);	/* DNS name or IPv4/IPv6 literal (no brackets) */
int tc_valid_user(const char *s);	/* POSIX portable user name */
int tc_valid_ifname(const char *s);	/* network interface name: 1-15 of [A-Za-z0-9_.-], not . or .. */
/* 1 if two valid hosts are written to mean the same: equal IP addresses
 * ("2001:db8::1", "2001:0db8::1"), or DNS names equal but for case. A name
 * and an address never are (that would need DNS). */
int tc_same_host(const char *a, const char *b);

/* Parsers for the command line and the documents: 0 or -1 with err (TC_ERR_USAGE
 * kind is chosen by the caller; these use TC_ERR_INVALID). `what` names the field
 * in the message. */
int tc_parse_port(const char *s, int allow_zero, uint16_t *out, const char *what, struct tc_err *err);
int tc_parse_duration(const char *s, int64_t *secs, const char *what, struct tc_err *err);
int tc_parse_hostport(const char *s, char *host, size_t hostsz, uint16_t *port,
		      const char *what, struct tc_err *err);
int tc_parse_server(const char *s, char *user, size_t usersz, char *host, size_t hostsz,
		    uint16_t *port, const char *what, struct tc_err *err);
int tc_parse_keepalive(const char *s, unsigned *interval, unsigned *count,
		       const char *what, struct tc_err *err);

/* sha256 hex of a canonical serialisation of every field, key included.
 * With ssh_only, fields that do not reach ssh (target of a dnat tunnel) are
 * left out, so a target change can be applied without restarting ssh. */
void tc_spec_digest(const struct tc_spec *s, int ssh_only, char out[TC_DIGEST_HEX]);

#endif
