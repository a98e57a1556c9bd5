/* fuzz-sources: lib/hello.c lib/spec.c lib/echo.c lib/key.c lib/sha256.c lib/num.c lib/err.c lib/xalloc.c lib/log.c */
/* fuzz_hello: tc_hello_parse on arbitrary bytes (the device's hello is
 * hostile input). Oracle: no sanitizer report; an accepted hello is at
 * most 512 bytes of printable ASCII without shell metacharacters, its
 * fields pass the same validators again, and parsing is deterministic. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hello.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tc_hello h, h2;
	struct tc_err err;
	char host[TC_HOST_MAX + 1];
	uint16_t port;
	size_t i;

	if (tc_hello_parse((const char *)data, size, &h, &err) != 0)
		return 0;
	if (size > TC_HELLO_MAX)
		abort();
	for (i = 0; i < size; i++)
		if (data[i] < 0x20 || data[i] >= 0x7f || strchr(";|&$`\\\"'<>(){}*?!~#\n", data[i]))
			abort();
	if (!tc_valid_name(h.tunnel) || h.expires < 0 || (uint64_t)h.expires > TC_HELLO_EXPIRES_MAX)
		abort();
	if (tc_parse_hostport(h.target, host, sizeof(host), &port, "target", &err) != 0 ||
	    strcmp(host, h.target_host) != 0 || port != h.target_port || port == 0)
		abort();
	if (tc_hello_parse((const char *)data, size, &h2, &err) != 0 || memcmp(&h, &h2, sizeof(h)) != 0)
		abort();
	return 0;
}
