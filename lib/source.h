/* source.h: where this device's tunnels come from: a URL + id, or the
 * SORACOM metadata service. Fetches (conditionally, with a cache in the
 * state dir) and parses; nothing else. */
#ifndef TC_SOURCE_H
#define TC_SOURCE_H

#include "doc.h"
#include "err.h"

struct tc_source {
	const char *url;		/* --source; NULL with soracom */
	const char *id;			/* --id; NULL with soracom */
	const char *soracom;		/* BASE URL, or NULL */
	const char *cacert;
	const char *interface;		/* fetch only through this interface, or NULL */
};

#define TC_SORACOM_DEFAULT "http://metadata.soracom.io"

/* Fetch and parse. statefd (may be -1) holds the validator cache in
 * STATE_DIR/.fetch/. *not_modified = 1 when the server said 304 (the cached
 * document was parsed). Errors: TC_ERR_FETCH or TC_ERR_INVALID. */
int tc_source_load(int statefd, const struct tc_source *src, struct tc_doc_result *out,
		   int *not_modified, struct tc_err *err);

#endif
