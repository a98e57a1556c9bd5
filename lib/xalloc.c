/* xalloc.c: allocation wrappers that end the process on failure (xalloc.h). */
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "xalloc.h"

void
tc_oom(void)
{
	tc_log(TC_LOG_ERR, "out of memory");
	exit(1);
}

void *
xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (p == NULL)
		tc_oom();
	return p;
}

void *
xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);

	if (p == NULL)
		tc_oom();
	return p;
}

void *
xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);

	if (q == NULL)
		tc_oom();
	return q;
}

char *
xstrdup(const char *s)
{
	char *p = strdup(s);

	if (p == NULL)
		tc_oom();
	return p;
}
