/*
 * The emulator's timestamp formats: ISO 8601 in responses and fixtures,
 * calendar days for costs, and SigV4's compact X-Amz-Date. All UTC.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "emulator.h"

void
isotime_format(time_t t, int millis, char out[32])
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, 32, millis ? "%Y-%m-%dT%H:%M:%S.000Z" :
	    "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* strptime accepts more than the exact shape; the caller checks the rest. */
static const char *
isotime_strptime(const char *s, const char *fmt, time_t *out)
{
	struct tm tm;
	const char *end;

	memset(&tm, 0, sizeof(tm));
	end = strptime(s, fmt, &tm);
	if (end == NULL)
		return NULL;
	*out = timegm(&tm);
	return end;
}

int
isotime_parse(const char *s, time_t *out)
{
	const char *end;

	if (strlen(s) < 20 || s[4] != '-' || s[10] != 'T')
		return -1;
	if ((end = isotime_strptime(s, "%Y-%m-%dT%H:%M:%S", out)) == NULL)
		return -1;
	if (end[0] == '.') {
		end++;
		while (*end >= '0' && *end <= '9')
			end++;
	}
	return strcmp(end, "Z") == 0 ? 0 : -1;
}

int
isotime_parse_day(const char *s, long *days)
{
	const char *end;
	time_t t;

	if (strlen(s) != 10 || s[4] != '-' || s[7] != '-')
		return -1;
	if ((end = isotime_strptime(s, "%Y-%m-%d", &t)) == NULL || *end != '\0')
		return -1;
	*days = (long)(t / 86400);
	return 0;
}

int
isotime_parse_amz(const char *s, time_t *out)
{
	const char *end;

	if (strlen(s) != 16 || s[8] != 'T')
		return -1;
	if ((end = isotime_strptime(s, "%Y%m%dT%H%M%S", out)) == NULL)
		return -1;
	return strcmp(end, "Z") == 0 ? 0 : -1;
}
