/* log.h: messages to stderr and, when stderr is not a terminal, to syslog
 * (LOG_DAEMON, tag tunnelctl). Never pass key material to these. */
#ifndef TC_LOG_H
#define TC_LOG_H

enum tc_loglevel { TC_LOG_ERR, TC_LOG_WARN, TC_LOG_INFO, TC_LOG_DEBUG };

/* daemon: 1 for the supervisor (syslog only; its stderr is /dev/null). */
void tc_log_open(const char *ident, int daemon);
void tc_log_set_verbosity(int v);	/* -1 quiet, 0 normal, 1+ verbose */
/* Replace control characters in s by '?' (no forged log lines, no terminal
 * escapes from text that came from outside): what tc_log does to a line. */
void tc_scrub(char *s);

void tc_log(enum tc_loglevel lvl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* No core file and no ptrace by others: a core of this process could hold a
 * private key (it reads them). Best effort. */
void tc_no_core(void);

#endif
