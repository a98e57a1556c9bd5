/* pfp.c: SORACOM's portForwardParam grammar (pfp.h). Split on single
 * spaces and colons only; every part is then checked by the same validators
 * as the native schema, so nothing reaches ssh that could read as an option. */
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

/* Bracketed IPv6 in BIND/THOST is refused: SORACOM's grammar is colon-split
 * and existing fleets forward to localhost or LAN IPv4 hosts; refusing keeps
 * the parse unambiguous. */
static int
pfp_forward(char *fwd, struct tc_spec *t, const char *what, struct tc_err *err)
{
	char w[WHAT_MAX], e[TC_ECHO_MAX + 4];
	unsigned char a4[4];
	char *part[5];
	int np = 0, i;

	tc_echo(fwd, e);	/* before the split below cuts it up */
	part[np++] = fwd;
	for (; *fwd != '\0'; fwd++)
		if (*fwd == ':') {
			if (np == 4)
				goto bad;
			*fwd = '\0';
			part[np++] = fwd + 1;
		}
	if (np < 3)
		goto bad;
	i = 0;
	if (np == 4) {
		if (!tc_valid_host(part[0]) || strlen(part[0]) >= sizeof(t->remote_bind))
			return tc_err_set(err, TC_ERR_INVALID, "%s: bind address '%s' is not an address",
					  what, tc_echo(part[0], e));
		if (inet_pton(AF_INET, part[0], a4) == 1 && memcmp(a4, "\0\0\0\0", 4) == 0)
			return tc_err_set(err, TC_ERR_INVALID, "%s: bind address '%s' is a wildcard: "
					  "the port would be reachable by every host reaching the server",
					  what, part[0]);
		memcpy(t->remote_bind, part[0], strlen(part[0]) + 1);
		i = 1;
	}
	if (tc_parse_port(part[i], 1, &t->remote_port, part_what(w, what, "remote port"), err) < 0)
		return -1;
	if (!tc_valid_host(part[i + 1]) || strlen(part[i + 1]) >= sizeof(t->target_host))
		return tc_err_set(err, TC_ERR_INVALID, "%s: target host '%s' is not a host name or address",
				  what, tc_echo(part[i + 1], e));
	memcpy(t->target_host, part[i + 1], strlen(part[i + 1]) + 1);
	return tc_parse_port(part[i + 2], 0, &t->target_port, part_what(w, what, "target port"), err);
bad:
	return tc_err_set(err, TC_ERR_INVALID, "%s: '%s' is not [BIND:]RPORT:THOST:TPORT", what, e);
}

int
tc_parse_pfp(const char *param, struct tc_spec *s, const char *what, struct tc_err *err)
{
	static const char grammar[] = "[BIND:]RPORT:THOST:TPORT [-p PORT] USER@HOST";
	char buf[PFP_MAX + 1], w[WHAT_MAX], e[TC_ECHO_MAX + 4];
	char *tok[4], *dest;
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
	dest = tok[nt - 1];
	if (strchr(dest, '@') == NULL)
		return tc_err_set(err, TC_ERR_INVALID, "%s: '%s' is not USER@HOST", what, tc_echo(dest, e));
	{
		char *at = strchr(dest, '@');

		*at = '\0';
		if (!tc_valid_user(dest))
			return tc_err_set(err, TC_ERR_INVALID, "%s: user '%s' is not a user name", what, tc_echo(dest, e));
		if (!tc_valid_host(at + 1))
			return tc_err_set(err, TC_ERR_INVALID, "%s: server host '%s' is not a host name or address",
					  what, tc_echo(at + 1, e));
		memcpy(t.user, dest, strlen(dest) + 1);
		memcpy(t.host, at + 1, strlen(at + 1) + 1);
	}
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
