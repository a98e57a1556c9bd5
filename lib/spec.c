/* spec.c: one tunnel's specification: field validators and parsers shared by
 * the command line and the config documents, and the digest that tells sync
 * whether a running tunnel still matches. Pure: no I/O. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "num.h"
#include "sha256.h"
#include "spec.h"

#define ECHO_MAX TC_ECHO_MAX
#define DURATION_MAX (365LL * 24 * 3600)	/* a maintenance tunnel open for a year is a mistake */

static const char duration_help[] = "(90, 90s, 30m, 2h, 1d)";

static int
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static int
is_lower_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || is_digit(c);
}

static int
is_alnum(char c)
{
	return is_lower_alnum(c) || (c >= 'A' && c <= 'Z');
}

int
tc_valid_name(const char *s)
{
	size_t i;

	if (s == NULL || !is_lower_alnum(s[0]))
		return 0;
	for (i = 1; s[i] != '\0'; i++) {
		if (i >= TC_NAME_MAX)
			return 0;
		if (!is_lower_alnum(s[i]) && s[i] != '_' && s[i] != '-')
			return 0;
	}
	return 1;
}

int
tc_valid_user(const char *s)
{
	size_t i;

	if (s == NULL || s[0] == '\0' || s[0] == '-')
		return 0;
	for (i = 0; s[i] != '\0'; i++) {
		if (i >= TC_USER_MAX)
			return 0;
		if (!is_alnum(s[i]) && s[i] != '_' && s[i] != '.' && s[i] != '-')
			return 0;
	}
	return 1;
}

int
tc_valid_ifname(const char *s)
{
	size_t i;

	if (s == NULL || s[0] == '\0' || s[0] == '-' || strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
		return 0;
	for (i = 0; s[i] != '\0'; i++) {
		if (i >= 15)	/* IFNAMSIZ - 1 */
			return 0;
		if (!is_alnum(s[i]) && s[i] != '_' && s[i] != '.' && s[i] != '-')
			return 0;
	}
	return 1;
}

/* The resolver (inet_aton) reads "127.1", "999.1.1.1" or "0x7f000001" as
 * IPv4 addresses, so a "name" whose last label is numeric or hex-looking is
 * refused unless it is a proper dotted-quad: what the operator wrote is what
 * ssh connects to. No real TLD looks like that. */
static int
numeric_label(const char *l, size_t n)
{
	size_t i, start = 0;

	if (n > 2 && l[0] == '0' && (l[1] == 'x' || l[1] == 'X'))
		start = 2;
	for (i = start; i < n; i++) {
		char c = l[i];

		if (!is_digit(c) && !(start == 2 && ((c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))))
			return 0;
	}
	return 1;
}

static int
valid_dns_name(const char *s, size_t len)
{
	size_t i, lstart = 0;

	for (i = 0; i <= len; i++) {
		size_t n;

		if (i < len && s[i] != '.') {
			if (!is_alnum(s[i]) && s[i] != '-')
				return 0;
			continue;
		}
		n = i - lstart;
		if (n < 1 || n > 63 || s[lstart] == '-' || s[i - 1] == '-')
			return 0;
		if (i == len && numeric_label(s + lstart, n))
			return 0;
		lstart = i + 1;
	}
	return 1;
}

int
tc_valid_host(const char *s)
{
	unsigned char addr[16];
	size_t len;

	if (s == NULL || s[0] == '\0' || s[0] == '-')
		return 0;
	len = strnlen(s, TC_HOST_MAX + 1);
	if (len > TC_HOST_MAX)
		return 0;
	if (strchr(s, ':') != NULL)
		return inet_pton(AF_INET6, s, addr) == 1;
	if (inet_pton(AF_INET, s, addr) == 1)
		return 1;
	return valid_dns_name(s, len);
}

int
tc_parse_port(const char *s, int allow_zero, uint16_t *out, const char *what, struct tc_err *err)
{
	char e[ECHO_MAX + 4];
	unsigned long long v;

	if (tc_parse_uint(s, 65535, &v) < 0 || (v == 0 && !allow_zero))
		return tc_err_set(err, TC_ERR_INVALID, "%s: '%s' is not a port (%s-65535)",
				  what, tc_echo(s ? s : "", e), allow_zero ? "0" : "1");
	*out = (uint16_t)v;
	return 0;
}

int
tc_same_host(const char *a, const char *b)
{
	unsigned char x[16], y[16];

	if (inet_pton(AF_INET, a, x) == 1)
		return inet_pton(AF_INET, b, y) == 1 && memcmp(x, y, 4) == 0;
	if (inet_pton(AF_INET6, a, x) == 1)
		return inet_pton(AF_INET6, b, y) == 1 && memcmp(x, y, 16) == 0;
	return strcasecmp(a, b) == 0;
}

/* NUMBER[s|m|h|d]; the number follows tc_parse_uint's rules (no sign, no
 * leading zero). */
int
tc_parse_duration(const char *s, int64_t *secs, const char *what, struct tc_err *err)
{
	char e[ECHO_MAX + 4], num[24];
	unsigned long long v;
	int64_t mult = 1;
	size_t i;

	if (s == NULL)
		s = "";
	for (i = 0; is_digit(s[i]); i++)
		;
	if (i == 0)
		goto bad;
	switch (s[i]) {
	case '\0': break;
	case 's': mult = 1; break;
	case 'm': mult = 60; break;
	case 'h': mult = 3600; break;
	case 'd': mult = 86400; break;
	default: goto bad;
	}
	if (s[i] != '\0' && s[i + 1] != '\0')
		goto bad;
	if (i >= sizeof(num))
		goto toolong;
	memcpy(num, s, i);
	num[i] = '\0';
	if (tc_parse_uint(num, (unsigned long long)DURATION_MAX, &v) < 0) {
		if (num[0] == '0')
			goto bad;
		goto toolong;
	}
	if (v == 0)
		return tc_err_set(err, TC_ERR_INVALID, "%s: '%s' is not a positive duration %s",
				  what, tc_echo(s, e), duration_help);
	if ((int64_t)v * mult > DURATION_MAX)
		goto toolong;
	*secs = (int64_t)v * mult;
	return 0;
toolong:
	return tc_err_set(err, TC_ERR_INVALID, "%s: '%s' is longer than 365d", what, tc_echo(s, e));
bad:
	return tc_err_set(err, TC_ERR_INVALID, "%s: '%s' is not a duration %s",
			  what, tc_echo(s, e), duration_help);
}

/* Copy a validated host into a caller buffer. */
static int
put_host(const char *h, size_t n, char *host, size_t hostsz)
{
	char tmp[TC_HOST_MAX + 1];

	if (n > TC_HOST_MAX || n >= hostsz)
		return -1;
	memcpy(tmp, h, n);
	tmp[n] = '\0';
	if (!tc_valid_host(tmp))
		return -1;
	memcpy(host, tmp, n + 1);
	return 0;
}

/* "HOST", "HOST:PORT", "[V6]" or "[V6]:PORT" (port optional when default_port
 * is nonzero). A bare IPv6 literal is refused: "2001:db8::22" could mean
 * port 22, so brackets are required. */
static int
split_hostport(const char *s, char *host, size_t hostsz, uint16_t *port, uint16_t default_port,
	       const char *what, struct tc_err *err)
{
	char e[ECHO_MAX + 4];
	const char *h = s, *colon;
	size_t hn;

	if (s[0] == '[') {
		const char *rb = strchr(s, ']');

		if (rb == NULL)
			goto bad;
		h = s + 1;
		hn = (size_t)(rb - h);
		colon = rb[1] == ':' ? rb + 1 : NULL;
		if (rb[1] != '\0' && colon == NULL)
			goto bad;
		if (memchr(h, ':', hn) == NULL)	/* brackets are for IPv6 only */
			goto badhost;
	} else {
		colon = strchr(s, ':');
		if (colon != NULL && strchr(colon + 1, ':') != NULL)
			return tc_err_set(err, TC_ERR_INVALID,
					  "%s: '%s': write an IPv6 address as [ADDR]:PORT", what, tc_echo(s, e));
		hn = colon ? (size_t)(colon - s) : strlen(s);
	}
	if (put_host(h, hn, host, hostsz) < 0)
		goto badhost;
	if (colon == NULL) {
		if (default_port == 0)
			goto bad;
		*port = default_port;
		return 0;
	}
	return tc_parse_port(colon + 1, 0, port, what, err);
bad:
	return tc_err_set(err, TC_ERR_INVALID, "%s: '%s' is not %s", what, tc_echo(s, e),
			  default_port ? "[USER@]HOST[:PORT]" : "HOST:PORT");
badhost:
	return tc_err_set(err, TC_ERR_INVALID, "%s: '%s' has no valid host name or address",
			  what, tc_echo(s, e));
}

int
tc_parse_hostport(const char *s, char *host, size_t hostsz, uint16_t *port,
		  const char *what, struct tc_err *err)
{
	if (s == NULL)
		s = "";
	return split_hostport(s, host, hostsz, port, 0, what, err);
}

int
tc_parse_server(const char *s, char *user, size_t usersz, char *host, size_t hostsz,
		uint16_t *port, const char *what, struct tc_err *err)
{
	char e[ECHO_MAX + 4], u[TC_USER_MAX + 1];
	const char *at;
	size_t un;

	if (s == NULL)
		s = "";
	at = strchr(s, '@');
	if (at == NULL) {
		if (usersz < 1)
			return tc_err_set(err, TC_ERR_INVALID, "%s: no room for the user", what);
		if (split_hostport(s, host, hostsz, port, 22, what, err) < 0)
			return -1;
		user[0] = '\0';
		return 0;
	}
	un = (size_t)(at - s);
	if (un == 0 || un > TC_USER_MAX || un >= usersz)
		goto baduser;
	memcpy(u, s, un);
	u[un] = '\0';
	if (!tc_valid_user(u))
		goto baduser;
	if (split_hostport(at + 1, host, hostsz, port, 22, what, err) < 0)
		return -1;
	memcpy(user, u, un + 1);
	return 0;
baduser:
	return tc_err_set(err, TC_ERR_INVALID, "%s: '%s' has no valid user name before '@'",
			  what, tc_echo(s, e));
}

int
tc_parse_keepalive(const char *s, unsigned *interval, unsigned *count,
		   const char *what, struct tc_err *err)
{
	char e[ECHO_MAX + 4], a[8];
	unsigned long long iv, ct = TC_KEEPALIVE_COUNT;
	const char *comma;
	size_t n;

	if (s == NULL)
		s = "";
	comma = strchr(s, ',');
	n = comma ? (size_t)(comma - s) : strlen(s);
	if (n >= sizeof(a))
		goto bad;
	memcpy(a, s, n);
	a[n] = '\0';
	if (tc_parse_uint(a, TC_KEEPALIVE_INTERVAL_MAX, &iv) < 0 || iv < 1)
		goto bad;
	if (comma != NULL && (tc_parse_uint(comma + 1, TC_KEEPALIVE_COUNT_MAX, &ct) < 0 || ct < 1))
		goto bad;
	*interval = (unsigned)iv;
	*count = (unsigned)ct;
	return 0;
bad:
	return tc_err_set(err, TC_ERR_INVALID,
			  "%s: '%s' is not SECONDS[,COUNT] (seconds 1-3600, count 1-100)",
			  what, tc_echo(s, e));
}

/* ---- the spec ---- */

void
tc_spec_init(struct tc_spec *s)
{
	memset(s, 0, sizeof(*s));
	s->port = 22;
	memcpy(s->remote_bind, "127.0.0.1", sizeof("127.0.0.1"));
	s->via = TC_VIA_DIRECT;
	s->keepalive_interval = TC_KEEPALIVE_INTERVAL;
	s->keepalive_count = TC_KEEPALIVE_COUNT;
}

void
tc_spec_clear(struct tc_spec *s)
{
	tc_key_free(s->key, s->key_len + 1);
	s->key = NULL;
	s->key_len = 0;
}

void
tc_spec_move(struct tc_spec *dst, struct tc_spec *src)
{
	memcpy(dst, src, sizeof(*dst));
	tc_spec_init(src);
}

/* A field of a struct must be NUL-terminated within its array. */
#define TERMINATED(f) (memchr((f), '\0', sizeof(f)) != NULL)

static int
bad_str(struct tc_err *err, const char *prefix, const char *field, const char *v, const char *thing)
{
	char e[ECHO_MAX + 4];

	return tc_err_set(err, TC_ERR_INVALID, "%s%s: '%s' is not %s", prefix, field, tc_echo(v, e), thing);
}

/* 0.0.0.0 / :: as remote.bind would expose the forwarded port to every host
 * that reaches the server (RELIABILITY S16); bind a specific address instead. */
static int
is_wildcard(const char *h)
{
	unsigned char a[16];
	static const unsigned char zero[16];

	if (inet_pton(AF_INET, h, a) == 1)
		return memcmp(a, zero, 4) == 0;
	if (inet_pton(AF_INET6, h, a) == 1)
		return memcmp(a, zero, 16) == 0;
	return 0;
}

static int
validate_strings(const struct tc_spec *s, const char *p, struct tc_err *err)
{
	unsigned char a4[4];

	if (!TERMINATED(s->name) || !tc_valid_name(s->name))
		return bad_str(err, p, "name", TERMINATED(s->name) ? s->name : "",
			       "a name ([a-z0-9][a-z0-9_-]{0,31})");
	if (!TERMINATED(s->user) || (s->user[0] != '\0' && !tc_valid_user(s->user)))
		return bad_str(err, p, "server.user", TERMINATED(s->user) ? s->user : "", "a user name");
	if (!TERMINATED(s->host) || !tc_valid_host(s->host))
		return bad_str(err, p, "server.host", TERMINATED(s->host) ? s->host : "",
			       "a host name or address");
	if (!TERMINATED(s->host_key) || (s->host_key[0] != '\0' && !tc_valid_host_key(s->host_key)))
		return bad_str(err, p, "server.host_key", TERMINATED(s->host_key) ? s->host_key : "",
			       "a host key ('TYPE BASE64', e.g. 'ssh-ed25519 AAAA...')");
	if (!TERMINATED(s->remote_bind) || !tc_valid_host(s->remote_bind))
		return bad_str(err, p, "remote.bind", TERMINATED(s->remote_bind) ? s->remote_bind : "",
			       "an address");
	if (is_wildcard(s->remote_bind))
		return bad_str(err, p, "remote.bind", s->remote_bind,
			       "allowed: a wildcard bind exposes the port to every host reaching the server");
	if (!TERMINATED(s->target_host) || !tc_valid_host(s->target_host))
		return bad_str(err, p, "target.host", TERMINATED(s->target_host) ? s->target_host : "",
			       "a host name or address");
	if (s->via == TC_VIA_DNAT && inet_pton(AF_INET, s->target_host, a4) != 1)
		return bad_str(err, p, "target.host", s->target_host,
			       "an IPv4 address (via dnat writes an nftables rule in table 'ip tunnelctl', IPv4 only)");
	return 0;
}

int
tc_spec_validate(const struct tc_spec *s, const char *prefix, struct tc_err *err)
{
	const char *p = prefix ? prefix : "";

	if (validate_strings(s, p, err) < 0)
		return -1;
	if (s->port == 0)
		return tc_err_set(err, TC_ERR_INVALID, "%sserver.port: 0 is not a port (1-65535)", p);
	if (s->target_port == 0)
		return tc_err_set(err, TC_ERR_INVALID, "%starget.port: 0 is not a port (1-65535)", p);
	if (s->via != TC_VIA_DIRECT && s->via != TC_VIA_DNAT)
		return tc_err_set(err, TC_ERR_INVALID, "%svia: %d is not direct or dnat", p, (int)s->via);
	if (s->via == TC_VIA_DNAT && s->local_port == 0)
		return tc_err_set(err, TC_ERR_INVALID, "%slocal_port: 0 is not a port (1-65535; required with via dnat)", p);
	if (s->via == TC_VIA_DIRECT && s->local_port != 0)
		return tc_err_set(err, TC_ERR_INVALID, "%slocal_port: %u is only allowed with via dnat",
				  p, (unsigned)s->local_port);
	if (s->timeout_s < 0 || s->timeout_s > DURATION_MAX)
		return tc_err_set(err, TC_ERR_INVALID, "%stimeout: %lld is not a duration of 0-365d",
				  p, (long long)s->timeout_s);
	if (s->keepalive_interval < 1 || s->keepalive_interval > TC_KEEPALIVE_INTERVAL_MAX)
		return tc_err_set(err, TC_ERR_INVALID, "%skeepalive.interval: %u is not 1-3600 seconds",
				  p, s->keepalive_interval);
	if (s->keepalive_count < 1 || s->keepalive_count > TC_KEEPALIVE_COUNT_MAX)
		return tc_err_set(err, TC_ERR_INVALID, "%skeepalive.count: %u is not 1-100",
				  p, s->keepalive_count);
	if (s->key != NULL && s->key_len == 0)
		return tc_err_set(err, TC_ERR_INVALID, "%sprivate_key: is empty", p);
	if (!TERMINATED(s->certificate) ||
	    (s->certificate[0] && strspn(s->certificate, "abcdefghijklmnopqrstuvwxyz0123456789-@.") <
	     strcspn(s->certificate, " ")))
		return tc_err_set(err, TC_ERR_INVALID, "%scertificate: is not a certificate line", p);
	return 0;
}

/* One field into the digest: tag, 8-byte big-endian length, bytes. Tags and
 * lengths make the serialisation unambiguous ("a"+"bc" != "ab"+"c"). */
static void
dig_field(struct tc_sha256 *c, const char *tag, const void *v, size_t n)
{
	unsigned char len[8];
	int i;

	tc_sha256_update(c, tag, strlen(tag) + 1);
	for (i = 0; i < 8; i++)
		len[i] = (unsigned char)((uint64_t)n >> (56 - 8 * i));
	tc_sha256_update(c, len, sizeof(len));
	tc_sha256_update(c, v, n);
}

static void
dig_str(struct tc_sha256 *c, const char *tag, const char *v, size_t max)
{
	dig_field(c, tag, v, strnlen(v, max));
}

static void
dig_num(struct tc_sha256 *c, const char *tag, long long v)
{
	char b[32];
	int n = snprintf(b, sizeof(b), "%lld", v);

	dig_field(c, tag, b, n > 0 && (size_t)n < sizeof(b) ? (size_t)n : 0);
}

void
tc_spec_digest(const struct tc_spec *s, int ssh_only, char out[TC_DIGEST_HEX])
{
	static const char hex[] = "0123456789abcdef";
	struct tc_sha256 c;
	unsigned char d[TC_SHA256_LEN];
	int i;

	tc_sha256_init(&c);
	dig_field(&c, "tc-spec", "1", 1);	/* format version: bump if fields change */
	dig_str(&c, "name", s->name, sizeof(s->name));
	dig_str(&c, "user", s->user, sizeof(s->user));
	dig_str(&c, "host", s->host, sizeof(s->host));
	dig_num(&c, "port", s->port);
	dig_str(&c, "host_key", s->host_key, sizeof(s->host_key));
	dig_str(&c, "remote_bind", s->remote_bind, sizeof(s->remote_bind));
	dig_num(&c, "remote_port", s->remote_port);
	if (!(ssh_only && s->via == TC_VIA_DNAT)) {
		dig_str(&c, "target_host", s->target_host, sizeof(s->target_host));
		dig_num(&c, "target_port", s->target_port);
	}
	dig_num(&c, "via", s->via);
	dig_num(&c, "local_port", s->local_port);
	dig_num(&c, "timeout", s->timeout_s);
	dig_num(&c, "keepalive_interval", s->keepalive_interval);
	dig_num(&c, "keepalive_count", s->keepalive_count);
	dig_field(&c, "key", s->key ? s->key : "", s->key ? s->key_len : 0);
	/* Whether there is a certificate (ssh gets the option), not which.
	 * Both only when set, so specs without them keep their digests from
	 * before these fields existed: an upgrade restarts no tunnel. */
	if (s->certificate[0] != '\0')
		dig_num(&c, "certificate", 1);
	if (s->gate)
		dig_num(&c, "gate", 1);
	tc_sha256_final(&c, d);
	for (i = 0; i < TC_SHA256_LEN; i++) {
		out[2 * i] = hex[d[i] >> 4];
		out[2 * i + 1] = hex[d[i] & 15];
	}
	out[TC_DIGEST_HEX - 1] = '\0';
	explicit_bzero(d, sizeof(d));
}
