/* sshmsg.h: one line of ssh's (and autossh's) stderr -> an event for the
 * supervisor. Pure: no I/O, no allocation. */
#ifndef TC_SSHMSG_H
#define TC_SSHMSG_H

#include <stddef.h>
#include <stdint.h>

#define TC_SSHMSG_LINE_MAX 1024	/* longer lines are cut by the reader */

enum tc_sshev {
	TC_SSHEV_NONE = 0,	/* nothing of interest */
	TC_SSHEV_CONNECTING,	/* a new connection attempt began (restart counting) */
	TC_SSHEV_UP,		/* the server confirmed the remote forward */
	TC_SSHEV_ALLOCATED,	/* the server allocated port (remote port 0) */
	TC_SSHEV_RETRY,		/* transient failure: refused, timeout, forward failed, reset */
	TC_SSHEV_FATAL,		/* needs a change: host key mismatch, auth refused, bad key */
	TC_SSHEV_EXITED,	/* ssh exited / autossh restarting it */
};

struct tc_sshmsg {
	enum tc_sshev ev;
	uint16_t port;		/* TC_SSHEV_ALLOCATED (and UP when the line says it) */
	char text[160];		/* short human reason for last_error, sanitized
				 * (printable ASCII only), e.g. "Connection refused",
				 * "remote port forwarding failed for listen port 8080",
				 * "host key verification failed" */
};

/* Classify one line (without its newline; need not be NUL-terminated). */
void tc_sshmsg_parse(const char *line, size_t len, struct tc_sshmsg *out);

#endif
