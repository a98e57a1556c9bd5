/* test_echo.c: untrusted values quoted in messages stay printable and short. */
#include <string.h>

#include "echo.h"
#include "tap.h"

int
main(void)
{
	char out[TC_ECHO_MAX + 4], in[200];

	is_str(tc_echo("203.0.113.10", out), "203.0.113.10", "a plain value is unchanged");
	is_str(tc_echo("", out), "", "empty value");
	is_str(tc_echo("a\n[OK] tunnel up", out), "a?[OK] tunnel up", "newline becomes ? (no forged log line)");
	is_str(tc_echo("\x1b[31mred", out), "?[31mred", "escape becomes ? (no terminal escape)");
	is_str(tc_echo("\x7f\t", out), "??", "DEL and tab become ?");
	is_str(tc_echo("caf\xc3\xa9", out), "caf??", "each non-ASCII byte becomes ?");
	memset(in, 'x', TC_ECHO_MAX);
	in[TC_ECHO_MAX] = '\0';
	ok(strcmp(tc_echo(in, out), in) == 0, "exactly %d chars are kept whole", TC_ECHO_MAX);
	in[TC_ECHO_MAX] = 'y';
	in[TC_ECHO_MAX + 1] = '\0';
	tc_echo(in, out);
	ok(strlen(out) == TC_ECHO_MAX + 3 && strcmp(out + TC_ECHO_MAX, "...") == 0 && strchr(out, 'y') == NULL,
	   "a longer value is cut and ends in ...");
	memset(in, 'z', sizeof(in) - 1);
	in[sizeof(in) - 1] = '\0';
	ok(tc_echo(in, out) == out && strlen(out) == TC_ECHO_MAX + 3, "returns out; never longer than the buffer");
	return tap_done();
}
