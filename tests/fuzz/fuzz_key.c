/* fuzz-sources: lib/key.c lib/echo.c lib/err.c lib/xalloc.c lib/log.c */
/* fuzz_key: the key parsers of key.h. The first byte picks the parser, the
 * rest is its input. Oracle: no sanitizer report, an accepted private key
 * is one PEM block of printable ASCII that ends in a newline and is not
 * marked encrypted, and an accepted host key is what tc_valid_host_key
 * wants. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "key.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
private_key(const char *s, size_t len)
{
	struct tc_err err;
	char *pem;
	size_t pl, i;

	/* raw length, NULs included: the key may be any bytes */
	if (tc_key_normalize(s, len, &pem, &pl, "k", &err) < 0) {
		if (err.kind != TC_ERR_INVALID || strncmp(err.msg, "k: ", 3) != 0)
			abort();
		return;
	}
	if (pl == 0 || pl > TC_KEY_MAX || strlen(pem) != pl || pem[pl - 1] != '\n' ||
	    strncmp(pem, "-----BEGIN ", 11) != 0 ||
	    strstr(pem, "\nProc-Type: 4,ENCRYPTED") != NULL || strncmp(pem, "-----BEGIN ENCRYPTED", 20) == 0)
		abort();
	for (i = 0; i < pl; i++)
		if (pem[i] != '\n' && (pem[i] < 0x20 || pem[i] > 0x7e))
			abort();
	tc_key_free(pem, pl);
}

static void
host_key(const char *s)
{
	char out[TC_HOSTKEY_MAX + 1];
	struct tc_err err;

	(void)tc_valid_host_key(s);
	if (tc_host_key_normalize(s, out, "h", &err) < 0) {
		if (err.kind != TC_ERR_INVALID || strncmp(err.msg, "h: ", 3) != 0)
			abort();
		return;
	}
	/* what it keeps is exactly what the strict validator wants */
	if (!tc_valid_host_key(out) || strlen(out) > TC_HOSTKEY_MAX || strchr(out, '\n') != NULL)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s;

	if (size < 1)
		return 0;
	/* an exact-size copy (plus the NUL the string parsers need) */
	s = malloc(size);
	if (s == NULL)
		return 0;
	memcpy(s, data + 1, size - 1);
	s[size - 1] = '\0';
	if (data[0] % 2 == 0)
		private_key(s, size - 1);
	else
		host_key(s);
	free(s);
	return 0;
}
