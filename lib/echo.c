/* echo.c: printable, bounded copies of untrusted values (echo.h). */
#include <string.h>

#include "echo.h"

const char *
tc_echo(const char *in, char out[TC_ECHO_MAX + 4])
{
	size_t i;

	for (i = 0; in[i] != '\0' && i < TC_ECHO_MAX; i++)
		out[i] = (in[i] >= 0x20 && in[i] < 0x7f) ? in[i] : '?';
	out[i] = '\0';
	if (in[i] != '\0')
		memcpy(out + i, "...", 4);
	return out;
}
