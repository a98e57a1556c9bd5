/* fuzz-sources: lib/pfp.c lib/spec.c lib/key.c lib/echo.c lib/num.c lib/sha256.c lib/err.c lib/xalloc.c lib/log.c */
/* fuzz_pfp: tc_parse_pfp on arbitrary strings. Oracle: no sanitizer report;
 * an accepted portForwardParam yields a spec that tc_spec_validate accepts
 * and that has no field an ssh argv could read as an option; an IPv6 bind
 * or target address was bracketed. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pfp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char pem[] = "-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END OPENSSH PRIVATE KEY-----\n";

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tc_spec s;
	struct tc_err err;
	char *str = malloc(size + 1);

	if (str == NULL)
		return 0;
	memcpy(str, data, size);
	str[size] = '\0';
	tc_spec_init(&s);
	if (tc_parse_pfp(str, &s, "pfp", &err) == 0) {
		memcpy(s.name, "ssh", 4);
		s.key = pem;
		s.key_len = strlen(pem);
		if (tc_spec_validate(&s, "", &err) < 0)
			abort();
		if (s.user[0] == '-' || s.host[0] == '-' || s.target_host[0] == '-' || s.remote_bind[0] == '-')
			abort();
		if (strpbrk(str, "\t\n\r;$`\\") != NULL)
			abort();
		/* an IPv6 bind or target was written in brackets */
		if ((strchr(s.remote_bind, ':') != NULL || strchr(s.target_host, ':') != NULL) &&
		    strchr(str, '[') == NULL)
			abort();
	}
	free(str);
	return 0;
}
