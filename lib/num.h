/* num.h: the one parser of unsigned decimal numbers, for command lines,
 * settings and documents alike. */
#ifndef TC_NUM_H
#define TC_NUM_H

/* s is 1+ ASCII digits with no sign, space or leading zero ("0" itself is
 * fine; "022" is refused, since some tools would read it as octal), and its
 * value is at most max. 0 and *out set, or -1 and *out untouched. */
int tc_parse_uint(const char *s, unsigned long long max, unsigned long long *out);

#endif
