/* echo.h: a safe copy of an untrusted value for an error message, so a
 * hostile document cannot forge log lines or send terminal escapes. */
#ifndef TC_ECHO_H
#define TC_ECHO_H

/* Longest value echoed back in a message: enough to recognise it, short
 * enough that a hostile document cannot flood the log. */
#define TC_ECHO_MAX 64

/* A printable, bounded copy of in: control bytes and non-ASCII become '?',
 * and a value cut at TC_ECHO_MAX ends in "...". Returns out. */
const char *tc_echo(const char *in, char out[TC_ECHO_MAX + 4]);

#endif
