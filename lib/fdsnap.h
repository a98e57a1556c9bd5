/* fdsnap.h: find the descriptors a library call opened (libmosquitto and
 * libcurl 7.88 open sockets without SOCK_CLOEXEC and keep some to
 * themselves), to make them CLOEXEC. */
#ifndef TC_FDSNAP_H
#define TC_FDSNAP_H

#include <stddef.h>

struct tc_fdsnap {
	int *fds;		/* open descriptors, ascending; owned */
	size_t n;
};

/* The process's open descriptors now (/proc/self/fd; none without /proc). */
void tc_fdsnap_take(struct tc_fdsnap *s);

/* Set FD_CLOEXEC on every descriptor open now that was not in s; write up to
 * max of them (ascending) to out (may be NULL) and return how many there
 * were. Frees s. */
size_t tc_fdsnap_cloexec_new(struct tc_fdsnap *s, int *out, size_t max);

#endif
