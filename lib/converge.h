/* converge.h: one sync round: this device's desired tunnels (a parsed
 * document) against the tunnels on disk -> start, restart, update, stop,
 * each failure logged (stderr, and syslog off a terminal). Shared by `sync`
 * and `watch`. The caller holds the state dir's lock. */
#ifndef TC_CONVERGE_H
#define TC_CONVERGE_H

#include <stddef.h>

#include "doc.h"
#include "err.h"
#include "plan.h"
#include "tunnel.h"

struct tc_round {
	struct tc_action *acts;	/* owned; what was planned, in report order */
	int *ok;		/* owned; ok[i] = 0: acts[i] failed (and was logged) */
	size_t n;
	struct tc_err last;	/* the last failure, kind TC_OK when none */
};

/* Plan and act. `absent_why` is the reason given for stops when the document
 * has no entry for this device (e.g. "no entry for device 'edge-1' in the
 * document"). Returns 0 when every action worked, 1 when some failed (each
 * logged, the last in r->last), -1 when nothing could be planned (err).
 * Free r with tc_round_free() in every case. */
int tc_converge(struct tc_ctx *c, const struct tc_doc_result *doc, const char *absent_why,
		struct tc_round *r, struct tc_err *err);
void tc_round_free(struct tc_round *r);

#endif
