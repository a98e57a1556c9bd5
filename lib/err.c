/* err.c: fill a caller-owned struct tc_err. */
#include <stdarg.h>
#include <stdio.h>

#include "err.h"

int
tc_err_set(struct tc_err *err, enum tc_errkind kind, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL)
		return -1;
	err->kind = kind;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);	/* truncation is acceptable for a message */
	va_end(ap);
	return -1;
}
