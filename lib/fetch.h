/* fetch.h: get a config document over http(s), file:// or a plain path,
 * bounded in size and time, with a conditional GET. libcurl lives behind this. */
#ifndef TC_FETCH_H
#define TC_FETCH_H

#include <stddef.h>

#include "err.h"

struct tc_fetch_opts {
	const char *cacert;		/* extra CA bundle file, or NULL */
	/* http(s) only through this network interface (SO_BINDTODEVICE), or
	 * NULL: plain-HTTP metadata is trusted only over the cellular link. */
	const char *interface;
	long connect_timeout_s;		/* 0 = default (10) */
	long total_timeout_s;		/* 0 = default (30) */
	size_t max_bytes;		/* 0 = default TC_DOC_MAX (1 MiB) */
	/* Conditional GET validators from the previous fetch, or NULL. */
	const char *etag;
	const char *last_modified;
};

struct tc_fetch_result {
	int not_modified;		/* 1 on HTTP 304: body is empty, validators unchanged */
	char *body;			/* owned, NUL-terminated (len excludes the NUL) */
	size_t len;
	/* Owned, or NULL: the response's validators (printable ASCII, at most
	 * 255 bytes; anything else is dropped). A 304 may omit them: then keep
	 * the ones that were sent. */
	char *etag;
	char *last_modified;
	long http_code;			/* 0 for file:// and paths */
	size_t bytes_received;		/* headers + body, for benchmarks */
};

/* Fetch url (http://, https://, file:// or a plain path; nothing else, also not
 * after a redirect; at most 5 redirects). Errors are TC_ERR_FETCH with a message
 * "URL: why" (refused, timed out, HTTP 500, truncated, over the size cap, an
 * HTML page such as a captive portal's); the URL in it has no userinfo or query.
 * An empty 200 body is returned as len 0 (the caller decides it is invalid).
 * file:// and paths are read directly (a regular file, symlinks followed).
 * Validators are sent only when printable ASCII (no header injection).
 * out is always initialised; on error it holds nothing to free. */
int tc_fetch(const char *url, const struct tc_fetch_opts *o,
	     struct tc_fetch_result *out, struct tc_err *err);
void tc_fetch_result_free(struct tc_fetch_result *r);

/* Close the connections kept open between fetches (a later fetch opens new
 * ones). Call it before starting anything that could inherit the sockets,
 * unless, as watch does, the connection is kept on purpose: every socket
 * libcurl opens here is CLOEXEC, so only a fork() without exec() (which
 * closes the descriptors it does not need) could hold it. */
void tc_fetch_cleanup(void);

/* url as messages and status show it: no userinfo, query or fragment (they
 * may hold secrets), unprintable bytes replaced, cut with "..." to fit. */
void tc_fetch_shown_url(const char *url, char *out, size_t outsz);

/* libcurl's version string, for `tunnelctl version`. */
const char *tc_fetch_version(void);

#endif
