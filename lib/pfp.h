/* pfp.h: SORACOM's portForwardParam, the one-line tunnel of the
 * SORACOM-compatible schema, parsed (never handed to a shell). */
#ifndef TC_PFP_H
#define TC_PFP_H

#include "err.h"
#include "spec.h"

/* Parse `[BIND:]RPORT:THOST:TPORT [-p PORT] USER@HOST` into s: server,
 * remote and target fields, via direct (name, key and the rest untouched;
 * s is unchanged on error). BIND, THOST and HOST may be IPv6 literals in
 * brackets ("8080:[::1]:22 t@[2001:db8::1]"); BIND and THOST must have
 * them, HOST may also be a bare one, as it always could. 0 or -1
 * (TC_ERR_INVALID, message starts with `what`). */
int tc_parse_pfp(const char *param, struct tc_spec *s, const char *what, struct tc_err *err);

#endif
