/* gateout.h: what `tunnelctl-gate list` prints, from the same records in
 * every format: a table for people at a terminal, the contract's JSON, an
 * HTML page for people who are not engineers, and an nginx map body.
 * Every function returns heap text the caller frees. */
#ifndef TC_GATEOUT_H
#define TC_GATEOUT_H

#include <stddef.h>
#include <time.h>

#include "registry.h"

#define TC_GATE_DOMAIN_MAX 200	/* leaves room for TUNNEL.DEVICE. in a 253-byte name */

char *tc_gate_out_table(const struct tc_gate_rec *v, size_t n, time_t now);
char *tc_gate_out_json(const struct tc_gate_rec *v, size_t n);
/* The page for people who are not engineers: one row per session, times in
 * the zone of TZ (stated on the page) with the time left as of now, and a
 * link to https://HOST/ for exactly the sessions the nginx map routes.
 * domain may be NULL: the page then has no links and says so. */
char *tc_gate_out_html(const struct tc_gate_rec *v, size_t n, const char *domain, time_t now);
/* One `HOST SCHEME://ADDR:PORT;` line per session whose host name is valid
 * (SCHEME https when the claimed target port is 443). A session without
 * one, or whose name a session that started later takes (names compared in
 * lower case), is left out with a line in *warn (heap text, "" if none). */
char *tc_gate_out_nginx(const struct tc_gate_rec *v, size_t n, const char *domain, char **warn);

/* TUNNEL.DEVICE.DOMAIN in lower case into out, 0; or -1 when that is not a
 * valid DNS name (a '_' in the tunnel name, a device id that is not a
 * sequence of labels, longer than 253 bytes). */
int tc_gate_host(const struct tc_gate_rec *r, const char *domain, char *out, size_t sz);

/* A domain for --domain: a DNS name of letters, digits, '-' and '.'
 * (case-folded by the caller), at most TC_GATE_DOMAIN_MAX bytes. */
int tc_gate_valid_domain(const char *s);

#endif
