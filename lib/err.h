/* err.h: the error record lib/ fills for its callers; bin/ maps kinds to exit codes. */
#ifndef TC_ERR_H
#define TC_ERR_H

enum tc_errkind {
	TC_OK = 0,
	TC_ERR_RUNTIME,		/* ssh, firewall, filesystem failed at run time */
	TC_ERR_USAGE,		/* bad command line */
	TC_ERR_NOTUP,		/* status: a named tunnel is not up or unknown */
	TC_ERR_INVALID,		/* config document or a field is invalid */
	TC_ERR_FETCH,		/* the config source could not be fetched */
	TC_ERR_LOCKED,		/* another tunnelctl holds the lock too long */
	TC_ERR_PERM,		/* not permitted (no CAP_NET_ADMIN, not root) */
};

struct tc_err {
	enum tc_errkind kind;
	char msg[512];
};

/* Fill err (if not NULL) and return -1, so callers can `return tc_err_set(...)`. */
int tc_err_set(struct tc_err *err, enum tc_errkind kind, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
