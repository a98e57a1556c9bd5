/* sshmsg.c: classify one stderr line of ssh 9.x / autossh 1.4g into an event.
 * The patterns come from lines recorded in docs/SSH-MESSAGES.md. */
#include <string.h>

#include "sshmsg.h"

/* Where a pattern may appear after the known prefixes are stripped. */
enum where {
	AT_START,		/* the message begins with the needle */
	ANYWHERE,		/* the needle occurs in a non-debug message */
};

/* What goes into text. */
enum textmode {
	T_LINE,			/* the message itself (sanitized, cut) */
	T_FIXED,		/* the rule's fixed reason */
};

struct rule {
	const char *needle;
	enum where where;
	enum tc_sshev ev;
	enum textmode tm;
	const char *fixed;
};

/* ssh's own messages (debug1 lines are matched separately). Order matters:
 * the first rule that matches wins. */
static const struct rule ssh_rules[] = {
	{ "Too many authentication failures", ANYWHERE, TC_SSHEV_FATAL, T_LINE, NULL },
	{ "connect to host ", AT_START, TC_SSHEV_RETRY, T_LINE, NULL },
	{ "Could not resolve hostname ", AT_START, TC_SSHEV_RETRY, T_LINE, NULL },
	{ "Timeout, server ", AT_START, TC_SSHEV_RETRY, T_LINE, NULL },
	{ "Connection to ", AT_START, TC_SSHEV_RETRY, T_LINE, NULL },
	{ "Connection closed by ", AT_START, TC_SSHEV_RETRY, T_LINE, NULL },
	{ "Connection reset by ", AT_START, TC_SSHEV_RETRY, T_LINE, NULL },
	{ "Connection timed out during banner exchange", AT_START, TC_SSHEV_RETRY, T_LINE, NULL },
	{ "kex_exchange_identification: ", AT_START, TC_SSHEV_RETRY, T_LINE, NULL },
	{ "client_loop: ", AT_START, TC_SSHEV_RETRY, T_LINE, NULL },
	{ "packet_write_wait: ", AT_START, TC_SSHEV_RETRY, T_LINE, NULL },
	{ "ssh_dispatch_run_fatal: ", AT_START, TC_SSHEV_RETRY, T_LINE, NULL },
	{ "Read from remote host ", AT_START, TC_SSHEV_RETRY, T_LINE, NULL },
	{ "Received disconnect from ", AT_START, TC_SSHEV_RETRY, T_LINE, NULL },

	{ "Host key verification failed", AT_START, TC_SSHEV_FATAL, T_FIXED,
	  "host key verification failed" },
	{ "REMOTE HOST IDENTIFICATION HAS CHANGED", ANYWHERE, TC_SSHEV_FATAL, T_FIXED,
	  "host key mismatch: remote host identification has changed" },
	{ "Host key for ", AT_START, TC_SSHEV_FATAL, T_LINE, NULL },
	{ "host key is known for ", ANYWHERE, TC_SSHEV_FATAL, T_LINE, NULL },
	{ "Permission denied (", ANYWHERE, TC_SSHEV_FATAL, T_LINE, NULL },
	{ "Load key ", AT_START, TC_SSHEV_FATAL, T_LINE, NULL },
	{ "no such identity: ", AT_START, TC_SSHEV_FATAL, T_LINE, NULL },
	{ "Bad remote forwarding specification", AT_START, TC_SSHEV_FATAL, T_LINE, NULL },
	{ "Unable to negotiate with ", AT_START, TC_SSHEV_FATAL, T_LINE, NULL },
	{ "Port forwarding is disabled to avoid man-in-the-middle", AT_START, TC_SSHEV_FATAL, T_FIXED,
	  "host key mismatch: port forwarding disabled" },
	{ "forwarding disabled due to host key check failure", ANYWHERE, TC_SSHEV_FATAL, T_FIXED,
	  "host key mismatch: port forwarding disabled" },
};

/* autossh's messages, after its "DATE TIME autossh[PID]: " prefix. */
static const struct rule autossh_rules[] = {
	{ "ssh exited ", AT_START, TC_SSHEV_EXITED, T_LINE, NULL },
	{ "received signal to exit", AT_START, TC_SSHEV_EXITED, T_LINE, NULL },
	{ "signalled to exit", AT_START, TC_SSHEV_EXITED, T_LINE, NULL },
	{ "signalled to kill and restart ssh", AT_START, TC_SSHEV_EXITED, T_LINE, NULL },
	{ "max start count reached", AT_START, TC_SSHEV_EXITED, T_LINE, NULL },
};

static int
starts_with(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* ASCII case-insensitive strstr (strcasestr is a GNU extension). */
static int
contains_nocase(const char *s, const char *needle)
{
	size_t n = strlen(needle), i;

	for (; *s != '\0'; s++) {
		for (i = 0; i < n; i++) {
			char a = s[i], b = needle[i];
			if (a >= 'A' && a <= 'Z')
				a = (char)(a - 'A' + 'a');
			if (b >= 'A' && b <= 'Z')
				b = (char)(b - 'A' + 'a');
			if (a != b)
				break;
		}
		if (i == n)
			return 1;
	}
	return 0;
}

static int
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Skip an ESC sequence starting at in[i] (in[i] == 0x1b); returns the index
 * after it. CSI (ESC [ ... final 0x40-0x7e) and two-byte escapes are covered;
 * anything else loses only the ESC. */
static size_t
skip_escape(const unsigned char *in, size_t len, size_t i)
{
	i++;
	if (i >= len)
		return i;
	if (in[i] != '[')
		return in[i] >= 0x40 && in[i] <= 0x5f ? i + 1 : i;
	for (i++; i < len; i++)
		if (in[i] >= 0x40 && in[i] <= 0x7e)
			return i + 1;
	return i;
}

/* Copy line into buf as printable ASCII: ESC sequences dropped, tabs become
 * spaces, every other control or 8-bit byte (NUL included) becomes '?', so
 * it can neither end the string early nor splice two words into a match.
 * Trailing '\r' and blanks go. buf has room for TC_SSHMSG_LINE_MAX + 1. */
static void
sanitize(const char *line, size_t len, char *buf)
{
	const unsigned char *in = (const unsigned char *)line;
	size_t i = 0, o = 0;

	if (len > TC_SSHMSG_LINE_MAX)
		len = TC_SSHMSG_LINE_MAX;
	while (i < len) {
		if (in[i] == 0x1b) {
			i = skip_escape(in, len, i);
			continue;
		}
		if (in[i] == '\t')
			buf[o++] = ' ';
		else if (in[i] == '\r' || in[i] == '\n')
			buf[o++] = '\r';	/* kept only to be trimmed if trailing */
		else if (in[i] < 0x20 || in[i] > 0x7e)
			buf[o++] = '?';
		else
			buf[o++] = (char)in[i];
		i++;
	}
	while (o > 0 && (buf[o - 1] == '\r' || buf[o - 1] == ' '))
		o--;
	buf[o] = '\0';
	for (i = 0; i < o; i++)
		if (buf[i] == '\r')
			buf[i] = '?';
}

/* "YYYY/MM/DD HH:MM:SS autossh[PID]: " (AUTOSSH_LOGFILE) or "autossh[PID]: "
 * (AUTOSSH_DEBUG). Returns the message after it, or NULL. */
static const char *
strip_autossh(const char *s)
{
	static const char shape[] = "dddd/dd/dd dd:dd:dd ";
	size_t i;

	for (i = 0; shape[i] != '\0'; i++) {
		if (shape[i] == 'd' ? !is_digit(s[i]) : s[i] != shape[i])
			break;
	}
	if (shape[i] == '\0')
		s += i;
	if (!starts_with(s, "autossh["))
		return NULL;
	s += strlen("autossh[");
	if (!is_digit(*s))
		return NULL;
	while (is_digit(*s))
		s++;
	if (!starts_with(s, "]: "))
		return NULL;
	return s + 3;
}

/* Parse 1-5 digits at s as a port (0-65535); -1 when there is none. */
static long
port_at(const char *s, const char **end)
{
	long v = 0;
	int n = 0;

	while (is_digit(s[n]) && n < 6) {
		v = v * 10 + (s[n] - '0');
		n++;
	}
	if (n == 0 || n > 5 || is_digit(s[n]) || v > 65535)
		return -1;
	if (end)
		*end = s + n;
	return v;
}

static void
set_text(struct tc_sshmsg *out, const char *s)
{
	size_t n = strlen(s);

	if (n >= sizeof(out->text))
		n = sizeof(out->text) - 1;	/* a cut reason is still a reason */
	memcpy(out->text, s, n);
	out->text[n] = '\0';
}

static int
apply_rules(const struct rule *r, size_t nr, const char *msg, struct tc_sshmsg *out)
{
	size_t i;

	for (i = 0; i < nr; i++) {
		int hit = r[i].where == AT_START ? starts_with(msg, r[i].needle)
		    : strstr(msg, r[i].needle) != NULL;
		if (!hit)
			continue;
		out->ev = r[i].ev;
		set_text(out, r[i].tm == T_FIXED ? r[i].fixed : msg);
		return 1;
	}
	return 0;
}

/* autossh: "starting ssh (count N)" / "(count N of M)", the exits, and an
 * exec failure "PATH: strerror" (the configured ssh cannot run). */
static void
parse_autossh(const char *msg, struct tc_sshmsg *out)
{
	const char *p;

	if (starts_with(msg, "starting ssh (count ")) {
		p = msg + strlen("starting ssh (count ");
		out->ev = TC_SSHEV_CONNECTING;
		while (is_digit(*p) && out->count < 100000000u)
			out->count = out->count * 10 + (unsigned)(*p++ - '0');
		set_text(out, msg);
		return;
	}
	if (apply_rules(autossh_rules, sizeof(autossh_rules) / sizeof(autossh_rules[0]), msg, out))
		return;
	p = strchr(msg, ' ');
	if (msg[0] == '/' && p != NULL && p[-1] == ':') {
		out->ev = TC_SSHEV_FATAL;
		set_text(out, msg);
	}
}

/* "remote forward success for: listen H:P, connect T:TP": P is after the
 * last ':' before ", connect" (H may be an IPv6 literal). */
static void
parse_forward_success(const char *msg, struct tc_sshmsg *out)
{
	const char *listen = msg + strlen("remote forward success for: listen ");
	const char *comma = strstr(listen, ", connect ");
	const char *colon = NULL, *p, *end;
	long port;

	out->ev = TC_SSHEV_UP;
	set_text(out, msg);
	if (comma == NULL)
		return;
	for (p = listen; p < comma; p++)
		if (*p == ':')
			colon = p;
	if (colon == NULL)
		return;
	port = port_at(colon + 1, &end);
	if (port >= 0 && end == comma)
		out->port = (uint16_t)port;
}

/* "Allocated port N for remote forward to H:P" */
static void
parse_allocated(const char *msg, struct tc_sshmsg *out)
{
	const char *end;
	long port = port_at(msg + strlen("Allocated port "), &end);

	if (port <= 0 || !starts_with(end, " for remote forward"))
		return;
	out->ev = TC_SSHEV_ALLOCATED;
	out->port = (uint16_t)port;
	set_text(out, msg);
}

/* "remote port forwarding failed for listen port N" (after "Error: " or
 * "Warning: "): the port is busy or not permitted on the server. */
static void
parse_forward_failed(const char *msg, struct tc_sshmsg *out)
{
	const char *end;
	long port = port_at(msg + strlen("remote port forwarding failed for listen port "), &end);

	out->ev = TC_SSHEV_RETRY;
	if (port >= 0 && *end == '\0')
		out->port = (uint16_t)port;
	set_text(out, msg);
}

/* debug1 lines: only ssh's own fixed-format ones. "debug1: Remote: ..." and
 * everything else may carry text chosen by the server, so it stays NONE. */
static void
parse_debug1(const char *msg, struct tc_sshmsg *out)
{
	if (starts_with(msg, "remote forward success for: listen "))
		parse_forward_success(msg, out);
}

/* tunnelctl-gate's lines (the server's forced command; SPEC "The server
 * side"), passed on by ssh from the session's stderr. */
static int
parse_gate(const char *msg, struct tc_sshmsg *out)
{
	static const char pre[] = "tunnelctl-gate: ";
	const char *m;

	/* The shell of an account without the gate: bash, dash, busybox, zsh. */
	if (strstr(msg, "tunnelctl-gate: command not found") || strstr(msg, "tunnelctl-gate: not found") ||
	    strstr(msg, "command not found: tunnelctl-gate")) {
		out->ev = TC_SSHEV_FATAL;
		set_text(out, "the server account does not run tunnelctl-gate (its shell found no such "
			 "command): use gate only with accounts set up for it");
		return 1;
	}
	if (!starts_with(msg, pre))
		return 0;
	m = msg + strlen(pre);
	if (strcmp(m, "closed: expired") == 0) {
		out->ev = TC_SSHEV_GATE_EXPIRED;
		set_text(out, "the server ended the session at its expiry");
	} else if (starts_with(m, "closed: revoked: ")) {
		out->ev = TC_SSHEV_GATE_REVOKED;
		set_text(out, m + strlen("closed: "));
	} else if (starts_with(m, "refused: ")) {
		out->ev = TC_SSHEV_FATAL;
		set_text(out, m - strlen(pre));
	} else if (starts_with(m, "registered ")) {
		set_text(out, m - strlen(pre));	/* NONE: noted, not a reason */
	} else {
		return 0;
	}
	return 1;
}

static void
parse_ssh(const char *msg, struct tc_sshmsg *out)
{
	if (starts_with(msg, "ssh: "))
		msg += strlen("ssh: ");
	if (starts_with(msg, "Error: "))
		msg += strlen("Error: ");
	else if (starts_with(msg, "Warning: "))
		msg += strlen("Warning: ");
	if (starts_with(msg, "Allocated port ")) {
		parse_allocated(msg, out);
		return;
	}
	if (starts_with(msg, "remote port forwarding failed for listen port ")) {
		parse_forward_failed(msg, out);
		return;
	}
	apply_rules(ssh_rules, sizeof(ssh_rules) / sizeof(ssh_rules[0]), msg, out);
}

/* ssh's ordinary chatter at -v: never a reason for a failure. */
static const char *const benign[] = {
	"Authenticated to ", "Transferred: ", "Bytes per second: ",
	"Warning: Permanently added ", "Pseudo-terminal will not be allocated",
};

/* A line no rule knows: kept as text (flagged unknown) unless it is benign
 * chatter, so a failing ssh never leaves last_error empty. */
static void
unknown_line(const char *buf, struct tc_sshmsg *out)
{
	size_t i;

	out->text[0] = '\0';
	if (buf[0] == '\0')
		return;
	for (i = 0; i < sizeof(benign) / sizeof(benign[0]); i++)
		if (starts_with(buf, benign[i]))
			return;
	out->unknown = 1;
	set_text(out, buf);
}

void
tc_sshmsg_parse(const char *line, size_t len, struct tc_sshmsg *out)
{
	char buf[TC_SSHMSG_LINE_MAX + 1];
	const char *msg;

	memset(out, 0, sizeof(*out));
	if (line == NULL)
		return;
	sanitize(line, len, buf);
	/* ssh never prints key material, but if anything ever does, the line
	 * must not travel on into status output and logs. ssh's own warning
	 * about key file modes is the one exception, reported by a fixed text. */
	if (strstr(buf, "UNPROTECTED PRIVATE KEY FILE") != NULL) {
		out->ev = TC_SSHEV_FATAL;
		set_text(out, "private key file permissions are too open");
		return;
	}
	if (contains_nocase(buf, "private key") || strstr(buf, "-----") != NULL)
		return;

	msg = strip_autossh(buf);
	if (msg != NULL) {
		parse_autossh(msg, out);
		return;
	}
	if (starts_with(buf, "debug1: ")) {
		parse_debug1(buf + strlen("debug1: "), out);
		return;
	}
	if (starts_with(buf, "debug"))	/* debug2/debug3: never of interest */
		return;
	if (parse_gate(buf, out))
		return;
	parse_ssh(buf, out);
	if (out->ev == TC_SSHEV_NONE)
		unknown_line(buf, out);
}
