/* pfp.c: SORACOM's portForwardParam grammar (pfp.h). Split on single
 * spaces and on colons outside [IPv6] brackets only; every part is then
 * checked by the same validators as the native schema, so nothing reaches
 * ssh that could read as an option. */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "echo.h"
#include "pfp.h"

#define PFP_MAX 600		/* a legitimate portForwardParam is < 400 chars */
#define WHAT_MAX 448		/* `what` (a JSON path of up to 384) and a part's name */

/* out = what ": " part, for a message about one part; cut with "...". */
static const char *
part_what(char out[WHAT_MAX], const char *what, const char *part)
{
	int r = snprintf(out, WHAT_MAX, "%s: %s", what, part);

	if (r < 0)
		out[0] = '\0';
	else if ((size_t)r >= WHAT_MAX)
		memcpy(out + WHAT_MAX - 4, "...", 4);
	return out;
}

/* Split s at single spaces into at most max tokens (copied into buf).
 * Empty tokens (double, leading or trailing spaces) are an error. */
static int
split_tokens(const char *s, char *buf, size_t bufsz, char **tok, int max)
{
	size_t n = strlen(s), i;
	int nt = 0;

	if (n == 0 || n >= bufsz)
		return -1;
	memcpy(buf, s, n + 1);
	tok[nt++] = buf;
	for (i = 0; i < n; i++) {
		if (buf[i] != ' ')
			continue;
		buf[i] = '\0';
		if (nt == max)
			return -1;
		tok[nt++] = buf + i + 1;
	}
	for (i = 0; i < (size_t)nt; i++)
		if (tok[i][0] == '\0')
			return -1;
	return nt;
}

/* A host part, as written (`part`, NUL-terminated, brackets kept) into
 * out: a name or an IPv4 literal, or an IPv6 literal in brackets, which
 * are required for IPv6 since the parts are split at ':'. */
static int
pfp_host(char *part, char *out, size_t outsz, const char *what, const char *which, const char *thing,
	 struct tc_err *err)
{
	char e[TC_ECHO_MAX + 4];
	const char *h = part;
	size_t n = strlen(part);

	tc_echo(part, e);	/* as written, before the brackets go */
	if (part[0] == '[') {
		if (n < 2 || part[n - 1] != ']')
			return tc_err_set(err, TC_ERR_INVALID, "%s: %s '%s' is not %s", what, which, e, thing);
		part[n - 1] = '\0';
		h = part + 1;
		if (strchr(h, ':') == NULL)
			return tc_err_set(err, TC_ERR_INVALID, "%s: %s '%s': brackets are for IPv6 addresses only",
					  what, which, e);
		if (!tc_valid_host(h))
			return tc_err_set(err, TC_ERR_INVALID, "%s: %s '%s' is not an IPv6 address", what, which, e);
	} else if (strchr(h, ':') != NULL || !tc_valid_host(h)) {
		return tc_err_set(err, TC_ERR_INVALID, "%s: %s '%s' is not %s", what, which, e, thing);
	}
	if (strlen(h) >= outsz)
		return tc_err_set(err, TC_ERR_INVALID, "%s: %s '%s' is too long", what, which, e);
	memcpy(out, h, strlen(h) + 1);
	return 0;
}

/* 0.0.0.0 or :: (any spelling). */
static int
wildcard(const char *h)
{
	static const unsigned char zero[16];
	unsigned char a[16];

	if (inet_pton(AF_INET, h, a) == 1)
		return memcmp(a, zero, 4) == 0;
	return inet_pton(AF_INET6, h, a) == 1 && memcmp(a, zero, 16) == 0;
}

/* [BIND:]RPORT:THOST:TPORT, split at ':' outside brackets. */
static int
pfp_forward(char *fwd, struct tc_spec *t, const char *what, struct tc_err *err)
{
	char w[WHAT_MAX], e[TC_ECHO_MAX + 4];
	char *part[4], *p = fwd;
	int np = 0, i = 0;

	tc_echo(fwd, e);	/* before the split below cuts it up */
	for (;;) {
		if (np == 4)
			return tc_err_set(err, TC_ERR_INVALID, "%s: '%s' is not [BIND:]RPORT:THOST:TPORT "
					  "(an IPv6 address goes in brackets: [2001:db8::1])", what, e);
		part[np++] = p;
		if (*p == '[') {
			p = strchr(p, ']');
			if (p == NULL || (p[1] != ':' && p[1] != '\0'))
				goto bad;
			p++;
		} else {
			p += strcspn(p, ":[]");
			if (*p == '[' || *p == ']')
				goto bad;
		}
		if (*p == '\0')
			break;
		*p++ = '\0';
	}
	if (np < 3)
		goto bad;
	if (part[np - 3][0] == '[' || part[np - 1][0] == '[')	/* ports */
		goto bad;
	if (np == 4) {
		if (pfp_host(part[0], t->remote_bind, sizeof(t->remote_bind), what, "bind address",
			     "an address", err) < 0)
			return -1;
		if (wildcard(t->remote_bind))
			return tc_err_set(err, TC_ERR_INVALID, "%s: bind address '%s' is a wildcard: "
					  "the port would be reachable by every host reaching the server",
					  what, t->remote_bind);
		i = 1;
	}
	if (tc_parse_port(part[i], 1, &t->remote_port, part_what(w, what, "remote port"), err) < 0)
		return -1;
	if (pfp_host(part[i + 1], t->target_host, sizeof(t->target_host), what, "target host",
		     "a host name or address", err) < 0)
		return -1;
	return tc_parse_port(part[i + 2], 0, &t->target_port, part_what(w, what, "target port"), err);
bad:
	return tc_err_set(err, TC_ERR_INVALID, "%s: '%s' is not [BIND:]RPORT:THOST:TPORT", what, e);
}

/* USER@HOST; HOST may be a bracketed IPv6 literal, or (as SORACOM's form
 * always allowed, there being no port after it) a bare one. */
static int
pfp_dest(char *dest, struct tc_spec *t, const char *what, struct tc_err *err)
{
	char e[TC_ECHO_MAX + 4];
	char *at = strchr(dest, '@'), *h;

	if (at == NULL)
		return tc_err_set(err, TC_ERR_INVALID, "%s: '%s' is not USER@HOST", what, tc_echo(dest, e));
	*at = '\0';
	h = at + 1;
	if (!tc_valid_user(dest) || strlen(dest) >= sizeof(t->user))
		return tc_err_set(err, TC_ERR_INVALID, "%s: user '%s' is not a user name", what, tc_echo(dest, e));
	if (h[0] == '[') {
		if (pfp_host(h, t->host, sizeof(t->host), what, "server host", "a host name or address", err) < 0)
			return -1;
	} else if (tc_valid_host(h) && strlen(h) < sizeof(t->host)) {
		memcpy(t->host, h, strlen(h) + 1);
	} else {
		return tc_err_set(err, TC_ERR_INVALID, "%s: server host '%s' is not a host name or address",
				  what, tc_echo(h, e));
	}
	memcpy(t->user, dest, strlen(dest) + 1);
	return 0;
}

int
tc_parse_pfp(const char *param, struct tc_spec *s, const char *what, struct tc_err *err)
{
	static const char grammar[] = "[BIND:]RPORT:THOST:TPORT [-p PORT] USER@HOST";
	char buf[PFP_MAX + 1], w[WHAT_MAX], e[TC_ECHO_MAX + 4];
	char *tok[4];
	struct tc_spec t;
	int nt;

	if (param == NULL)
		param = "";
	nt = split_tokens(param, buf, sizeof(buf), tok, 4);
	if (nt != 2 && nt != 4)
		return tc_err_set(err, TC_ERR_INVALID, "%s: '%s' is not %s (single spaces between parts)",
				  what, tc_echo(param, e), grammar);
	tc_spec_init(&t);
	if (pfp_forward(tok[0], &t, what, err) < 0)
		return -1;
	if (nt == 4) {
		if (strcmp(tok[1], "-p") != 0)
			return tc_err_set(err, TC_ERR_INVALID, "%s: '%s' is not -p (%s)",
					  what, tc_echo(tok[1], e), grammar);
		if (tc_parse_port(tok[2], 0, &t.port, part_what(w, what, "server port"), err) < 0)
			return -1;
	}
	if (pfp_dest(tok[nt - 1], &t, what, err) < 0)
		return -1;
	memcpy(s->user, t.user, sizeof(s->user));
	memcpy(s->host, t.host, sizeof(s->host));
	s->port = t.port;
	memcpy(s->remote_bind, t.remote_bind, sizeof(s->remote_bind));
	s->remote_port = t.remote_port;
	memcpy(s->target_host, t.target_host, sizeof(s->target_host));
	s->target_port = t.target_port;
	s->via = TC_VIA_DIRECT;
	s->local_port = 0;
	return 0;
}
