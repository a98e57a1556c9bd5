/* hello.h: the one line a device sends to tunnelctl-gate, as its ssh remote
 * command: `tunnelctl-gate hello 1 tunnel=NAME target=HOST:PORT expires=UNIXTIME`.
 * Untrusted input: parsed strictly, never handed to anything else. Pure. */
#ifndef TC_HELLO_H
#define TC_HELLO_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "spec.h"

#define TC_HELLO_MAX 512	/* contract: a longer hello is refused */
#define TC_HELLO_VERSION "1"
/* Latest expires= accepted: 9999-12-31T23:59:59Z, so every accepted time
 * prints as a four-digit-year RFC 3339 date. */
#define TC_HELLO_EXPIRES_MAX 253402300799ULL
/* "[" HOST "]:" PORT: the claimed target as the device wrote it. */
#define TC_TARGET_MAX (TC_HOST_MAX + 8)

struct tc_hello {
	char tunnel[TC_NAME_MAX + 1];
	char target[TC_TARGET_MAX + 1];		/* as sent: "192.0.2.50:443", "[2001:db8::1]:22" */
	char target_host[TC_HOST_MAX + 1];
	uint16_t target_port;
	int64_t expires;			/* unix seconds; 0 = the device set no timeout */
};

/* Parse len bytes (not necessarily NUL-terminated; a NUL inside is refused).
 * The grammar: the words "tunnelctl-gate", "hello", "1", then the keys
 * tunnel=, target= and expires=, each exactly once, in any order; words are
 * separated by one space, with nothing before the first or after the last.
 * 0 and *h filled, or -1 with err (TC_ERR_INVALID) saying what was wrong,
 * quoting at most a printable, bounded piece of the input. */
int tc_hello_parse(const char *buf, size_t len, struct tc_hello *h, struct tc_err *err);

#endif
