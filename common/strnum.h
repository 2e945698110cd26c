/*
 * Bounded integer parsing, the strtonum(3) glibc lacks: the whole string
 * must be a decimal integer within [min, max], else *errstr says why.
 */
#ifndef STRNUM_H
#define STRNUM_H

long long strnum(const char *s, long long min, long long max,
	    const char **errstr);

#endif
