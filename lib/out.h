/* out.h: every line tunnelctl prints on stdout, human or JSON, built in one
 * place so the two never drift. Returns heap strings the caller frees. */
#ifndef TC_OUT_H
#define TC_OUT_H

#include <stddef.h>
#include <time.h>

#include "plan.h"
#include "tunnel.h"
#include "watchfile.h"

/* status: a table (header + one row per tunnel, and a line on the running
 * watcher) or the contract's JSON ({"tunnels": [...], "watch": null or
 * {...}}). w: the live watcher, or NULL. */
char *tc_out_status(const struct tc_view *v, size_t n, const struct tc_watch_info *w, int json,
		    time_t now);

/* sync: one line per tunnel (`NAME: started (not running)`), or
 * {"started":[..],"restarted":[..],"stopped":[..],"unchanged":[..],"expired":[..],
 * "revoked":[..]}.
 * ok[i] = 0 marks an action that failed (reported with its error, not listed). */
char *tc_out_sync(const struct tc_action *a, const int *ok, size_t n, int json);

/* A single result line for start/stop/restart: `NAME: WORD` or {"WORD":["NAME"]}
 * merged for several names. */
char *tc_out_results(const char (*names)[TC_NAME_MAX + 1], const char *const *words,
		     size_t n, int json);

/* version: the tool's and its parts' versions. */
char *tc_out_version(const char *const *keys, const char *const *vals, size_t n, int json);

/* key: the public key line, or {"path", "public_key", "fingerprint"}. */
char *tc_out_key(const char *path, const char *public_key, const char *fingerprint, int json);

/* json-c's version string. */
const char *tc_json_version(void);

#endif
