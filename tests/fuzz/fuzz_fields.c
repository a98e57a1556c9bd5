/* fuzz-sources: lib/spec.c lib/key.c lib/echo.c lib/num.c lib/sha256.c lib/err.c lib/xalloc.c lib/log.c */
/* fuzz_fields: the field parsers of spec.h. The first byte picks the parser,
 * the rest is its input. Oracle: no sanitizer report, and what a parser
 * accepts is within the documented ranges and passes the validators. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "spec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
fields(unsigned sel, const char *s)
{
	struct tc_err err;
	char host[TC_HOST_MAX + 1], user[TC_USER_MAX + 1];
	uint16_t port;
	int64_t secs;
	unsigned iv, ct;

	switch (sel % 6) {
	case 0:
		if (tc_parse_duration(s, &secs, "d", &err) == 0 && (secs < 1 || secs > 365LL * 86400))
			abort();
		break;
	case 1:
		if (tc_parse_hostport(s, host, sizeof(host), &port, "h", &err) == 0 &&
		    (!tc_valid_host(host) || port == 0))
			abort();
		break;
	case 2:
		if (tc_parse_server(s, user, sizeof(user), host, sizeof(host), &port, "s", &err) == 0 &&
		    (!tc_valid_host(host) || port == 0 || (user[0] != '\0' && !tc_valid_user(user))))
			abort();
		break;
	case 3:
		if (tc_parse_keepalive(s, &iv, &ct, "k", &err) == 0 &&
		    (iv < 1 || iv > 3600 || ct < 1 || ct > 100))
			abort();
		break;
	case 4:
		if (tc_parse_port(s, sel & 8, &port, "p", &err) == 0 && port == 0 && !(sel & 8))
			abort();
		break;
	default:
		(void)(tc_valid_host(s) + tc_valid_user(s) + tc_valid_name(s));
		break;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s;

	if (size < 1)
		return 0;
	s = malloc(size);
	if (s == NULL)
		return 0;
	memcpy(s, data + 1, size - 1);
	s[size - 1] = '\0';
	fields(data[0], s);
	free(s);
	return 0;
}
