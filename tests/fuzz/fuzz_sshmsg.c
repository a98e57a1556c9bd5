/* fuzz-sources: lib/sshmsg.c lib/err.c */
/* fuzz_sshmsg: tc_sshmsg_parse on arbitrary bytes (libFuzzer hands over an
 * exact-size buffer, so any read past len is an ASan report). Oracle: the
 * event is a known value, text is NUL-terminated printable ASCII that never
 * carries a PEM marker, NONE has text only when flagged unknown (or is the
 * gate's "registered" line), and port/count are only set where the API says. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sshmsg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check(const struct tc_sshmsg *m)
{
	size_t i;

	if (m->ev < TC_SSHEV_NONE || m->ev > TC_SSHEV_GATE_REVOKED)
		abort();
	if ((m->unknown != 0 && m->unknown != 1) || (m->unknown && m->ev != TC_SSHEV_NONE))
		abort();
	for (i = 0; i < sizeof(m->text) && m->text[i] != '\0'; i++)
		if (m->text[i] < 0x20 || m->text[i] > 0x7e)
			abort();
	if (i == sizeof(m->text))
		abort();
	/* NONE carries text only for a message no rule knows, or the gate's
	 * "registered" line. */
	if (m->ev == TC_SSHEV_NONE && m->text[0] != '\0' && !m->unknown &&
	    strncmp(m->text, "tunnelctl-gate: registered ", 27) != 0)
		abort();
	if (strstr(m->text, "PRIVATE KEY") != NULL || strstr(m->text, "-----") != NULL)
		abort();
	if (m->port != 0 && m->ev != TC_SSHEV_UP && m->ev != TC_SSHEV_ALLOCATED &&
	    m->ev != TC_SSHEV_RETRY)
		abort();
	if (m->ev == TC_SSHEV_ALLOCATED && m->port == 0)
		abort();
	if (m->count != 0 && m->ev != TC_SSHEV_CONNECTING)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tc_sshmsg m;

	memset(&m, 0xa5, sizeof(m));	/* the parser must overwrite all of it */
	tc_sshmsg_parse((const char *)data, size, &m);
	check(&m);
	return 0;
}
