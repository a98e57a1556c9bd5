/* text.c: growable strings and RFC 3339 times for lib/out.c and
 * lib/gateout.c (text.h). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "text.h"
#include "xalloc.h"

void
tc_sb_printf(struct tc_sb *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		size_t room = b->cap - b->len;

		va_start(ap, fmt);
		n = vsnprintf(b->s ? b->s + b->len : NULL, b->s ? room : 0, fmt, ap);
		va_end(ap);
		if (n < 0)
			return;		/* an encoding error: nothing is added */
		if (b->s && (size_t)n < room) {
			b->len += (size_t)n;
			return;
		}
		b->cap = (b->cap ? b->cap * 2 : 256) + (size_t)n;
		b->s = xrealloc(b->s, b->cap);
	}
}

char *
tc_sb_done(struct tc_sb *b)
{
	return b->s ? b->s : xstrdup("");
}

void
tc_rfc3339(int64_t t, char *buf, size_t sz)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if ((int64_t)tt != t || !gmtime_r(&tt, &tm) || !strftime(buf, sz, "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(buf, sz, "?");
}
