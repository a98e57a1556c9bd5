/* sshmsg.h: one line of ssh's (and autossh's) stderr -> an event for the
 * supervisor. Pure: no I/O, no allocation. The lines it knows, and the ssh
 * options they need (LogLevel=DEBUG1 for UP), are in docs/SSH-MESSAGES.md. */
#ifndef TC_SSHMSG_H
#define TC_SSHMSG_H

#include <stddef.h>
#include <stdint.h>

#define TC_SSHMSG_LINE_MAX 1024	/* longer lines are cut by the reader */

enum tc_sshev {
	TC_SSHEV_NONE = 0,	/* nothing of interest */
	TC_SSHEV_CONNECTING,	/* autossh started ssh ("starting ssh (count N)"), once
				 * per attempt; count says which. ssh's own
				 * "Connecting to" is not used: it repeats per
				 * address and is missing when DNS fails. */
	TC_SSHEV_UP,		/* the server confirmed the remote forward (debug1 only) */
	TC_SSHEV_ALLOCATED,	/* the server allocated port (remote port 0) */
	TC_SSHEV_RETRY,		/* transient failure: refused, timeout, DNS, forward
				 * failed (port busy), connection lost */
	TC_SSHEV_FATAL,		/* needs a change: host key mismatch or unknown with
				 * strict checking, auth refused (also an encrypted
				 * key in BatchMode), unreadable key, bad -R spec,
				 * ssh binary missing */
	TC_SSHEV_EXITED,	/* autossh: ssh exited (restarting or giving up), or
				 * autossh itself is exiting on a signal */
	TC_SSHEV_GATE_EXPIRED,	/* tunnelctl-gate: "closed: expired" (its --max-time
				 * or our expires= came first) */
	TC_SSHEV_GATE_REVOKED,	/* tunnelctl-gate: "closed: revoked: REASON"; text
				 * is the reason */
};

struct tc_sshmsg {
	enum tc_sshev ev;
	uint16_t port;		/* ALLOCATED: the port; UP: the listen port as the line
				 * says it (0 when the server allocates); RETRY for
				 * "remote port forwarding failed": that port */
	unsigned count;		/* CONNECTING: autossh's start count (1 = first
				 * attempt), so restarts = count - 1 */
	int unknown;		/* NONE: a message of ssh's that no rule knows
				 * (text holds it): the supervisor reports it
				 * when ssh fails without a known reason */
	char text[160];		/* short human reason for last_error, sanitized
				 * (printable ASCII only), e.g. "Connection refused",
				 * "remote port forwarding failed for listen port 8080",
				 * "host key verification failed" */
};

/* Classify one line (without its newline; need not be NUL-terminated; a
 * trailing '\r' is ignored; any bytes are accepted, only the first
 * TC_SSHMSG_LINE_MAX are looked at). out is always fully written; text is
 * empty for NONE and never echoes a line mentioning "PRIVATE KEY". */
void tc_sshmsg_parse(const char *line, size_t len, struct tc_sshmsg *out);

#endif
