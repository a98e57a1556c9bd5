/* pfp.h: SORACOM's portForwardParam, the one-line tunnel of the
 * SORACOM-compatible schema, parsed (never handed to a shell). */
#ifndef TC_PFP_H
#define TC_PFP_H

#include "err.h"
#include "spec.h"

/* Parse `[BIND:]RPORT:THOST:TPORT [-p PORT] USER@HOST` into s: server,
 * remote and target fields, via direct (name, key and the rest untouched;
 * s is unchanged on error). 0 or -1 (TC_ERR_INVALID, message starts with
 * `what`). */
int tc_parse_pfp(const char *param, struct tc_spec *s, const char *what, struct tc_err *err);

#endif
