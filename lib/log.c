/* log.c: stderr for people, syslog for unattended runs. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include "log.h"

static int use_syslog, use_stderr = 1, verbosity;
static const char *prefix = "tunnelctl";	/* stderr lines start "IDENT: " */

/* 1 when stderr is systemd's journal stream (a service's stderr): the
 * journal has each line already, and syslog would store it twice.
 * systemd names the stream in JOURNAL_STREAM as "DEVICE:INODE". */
static int
stderr_is_journal(void)
{
	const char *js = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	return js && sscanf(js, "%llu:%llu", &dev, &ino) == 2 && fstat(STDERR_FILENO, &st) == 0 &&
	       (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

void
tc_log_open(const char *ident, int daemon)
{
	prefix = ident;
	use_stderr = !daemon;
	use_syslog = daemon || (!isatty(STDERR_FILENO) && !stderr_is_journal());
	if (use_syslog)
		openlog(ident, LOG_PID, LOG_DAEMON);
}

void
tc_log_set_verbosity(int v)
{
	verbosity = v;
}

static int
prio(enum tc_loglevel lvl)
{
	switch (lvl) {
	case TC_LOG_ERR: return LOG_ERR;
	case TC_LOG_WARN: return LOG_WARNING;
	case TC_LOG_INFO: return LOG_INFO;
	default: return LOG_DEBUG;
	}
}

void
tc_scrub(char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			*s = '?';
}

void
tc_log(enum tc_loglevel lvl, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	tc_scrub(msg);
	if (use_syslog && (lvl <= TC_LOG_INFO || verbosity > 0))
		syslog(prio(lvl), "%s", msg);
	if (!use_stderr)
		return;
	if (lvl == TC_LOG_ERR || (lvl == TC_LOG_WARN && verbosity >= 0) ||
	    (lvl == TC_LOG_INFO && verbosity > 0) || (lvl == TC_LOG_DEBUG && verbosity > 1))
		fprintf(stderr, "%s: %s\n", prefix, msg);
}

void
tc_no_core(void)
{
	struct rlimit none = { 0, 0 };

	setrlimit(RLIMIT_CORE, &none);
	prctl(PR_SET_DUMPABLE, 0);
}
