/* output.c: the one way commands print to stdout, with its failures kept
 * for the exit code. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "xalloc.h"

static int write_errno;		/* first failure to write stdout, 0 if none */

void
out_print(const struct g *g, char *text)
{
	size_t len = strlen(text);

	if (!g->quiet && len > 0) {
		errno = 0;
		if (fputs(text, stdout) == EOF ||
		    (text[len - 1] != '\n' && fputc('\n', stdout) == EOF) || fflush(stdout) == EOF) {
			if (!write_errno)
				write_errno = errno ? errno : EIO;
			clearerr(stdout);
		}
	}
	free(text);
}

int
out_failed(void)
{
	/* A full disk may show only now, or only at close. */
	if (!write_errno && (fflush(stdout) == EOF || ferror(stdout)))
		write_errno = errno ? errno : EIO;
	return write_errno;
}
