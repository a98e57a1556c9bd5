/* fuzz-sources: lib/doc.c lib/json_strict.c lib/pfp.c lib/spec.c lib/key.c lib/echo.c lib/num.c lib/sha256.c lib/err.c lib/xalloc.c lib/log.c */
/* fuzz_doc: tc_doc_parse and tc_doc_imsi on arbitrary bytes. Oracle: no
 * sanitizer report, every accepted spec passes tc_spec_validate again
 * (the parser never hands out something the validator would refuse), and
 * every message is printable ASCII. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "doc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check(const char *buf, size_t len, const char *id)
{
	struct tc_doc_result r;
	struct tc_err err;
	char digest[TC_DIGEST_HEX];
	size_t i;

	if (tc_doc_parse(buf, len, id, &r, &err) < 0) {
		if (err.kind != TC_ERR_INVALID || strlen(err.msg) == 0)
			abort();
		/* untrusted text reaches a message only through tc_echo */
		for (i = 0; err.msg[i] != '\0'; i++)
			if (err.msg[i] < 0x20 || err.msg[i] > 0x7e)
				abort();
		return;
	}
	if (!r.has_device && r.n != 0)
		abort();
	for (i = 0; i < r.n; i++) {
		if (tc_spec_validate(&r.specs[i], "", &err) < 0)
			abort();
		/* no key: the device's own is used */
		if (r.specs[i].key != NULL && strlen(r.specs[i].key) != r.specs[i].key_len)
			abort();
		tc_spec_digest(&r.specs[i], 1, digest);
	}
	tc_doc_result_free(&r);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char imsi[16];
	struct tc_err err;
	/* A copy of exactly `size` bytes, so ASan sees any read past the end. */
	char *buf = malloc(size ? size : 1);

	if (buf == NULL)
		return 0;
	memcpy(buf, data, size);
	check(buf, size, "edge-0042");
	check(buf, size, "440101234567890");
	if (tc_doc_imsi(buf, size, imsi, sizeof(imsi), &err) == 0 &&
	    (strlen(imsi) < 5 || strlen(imsi) > 15 || strspn(imsi, "0123456789") != strlen(imsi)))
		abort();
	free(buf);
	return 0;
}
