/* xalloc.h: memory that cannot fail to arrive. The out-of-memory policy of
 * every program of this project (tunnelctl, its supervisor, tunnelctl-gate):
 * an allocation that fails logs "out of memory" (stderr, and syslog off a
 * terminal) and ends the process with exit code 1, as nftables' xmalloc and
 * OpenBSD's tools do. No caller carries an OOM branch that could get it
 * wrong (report success having done nothing). This is the one place where
 * lib/ ends the process. */
#ifndef TC_XALLOC_H
#define TC_XALLOC_H

#include <stddef.h>

void tc_oom(void) __attribute__((noreturn));

void *xmalloc(size_t n) __attribute__((malloc, returns_nonnull));
void *xcalloc(size_t n, size_t size) __attribute__((malloc, returns_nonnull));
void *xrealloc(void *p, size_t n) __attribute__((returns_nonnull));
char *xstrdup(const char *s) __attribute__((malloc, returns_nonnull));

/* p, or tc_oom() when p is NULL: for what other libraries allocate
 * (json_object_new_*, curl_slist_append, nftnl_*_alloc). */
#define XCHECK(p) __extension__ ({ __typeof__(p) xcheck_p_ = (p); if (!xcheck_p_) tc_oom(); xcheck_p_; })

#endif
