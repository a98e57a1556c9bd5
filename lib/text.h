/* text.h: what every printed report is made of: a growable string, and a
 * time as RFC 3339 UTC. Out of memory ends the process (xalloc.h). */
#ifndef TC_TEXT_H
#define TC_TEXT_H

#include <stddef.h>
#include <stdint.h>

struct tc_sb {
	char *s;
	size_t len, cap;
};

/* Append to b (start from `struct tc_sb b = { 0 };`). */
void tc_sb_printf(struct tc_sb *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The text, as heap memory the caller frees ("" when nothing was added). */
char *tc_sb_done(struct tc_sb *b);

/* Unix time t as "2026-11-22T10:00:00Z" into buf; "?" when t does not fit
 * time_t (a 32-bit one after 2038) or cannot be formatted. */
void tc_rfc3339(int64_t t, char *buf, size_t sz);

#endif
