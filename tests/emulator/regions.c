/*
 * The commercial regions every account has without opting in, used when a
 * fixture account lists no regions, and the shape check for region names.
 */
#include <ctype.h>
#include <string.h>

#include "emulator.h"

const char *const regions_standard[] = {
	"us-east-1", "us-east-2", "us-west-1", "us-west-2",
	"ca-central-1",
	"eu-central-1", "eu-west-1", "eu-west-2", "eu-west-3", "eu-north-1",
	"ap-south-1", "ap-northeast-1", "ap-northeast-2", "ap-northeast-3",
	"ap-southeast-1", "ap-southeast-2",
	"sa-east-1",
};
const size_t regions_nstandard =
    sizeof(regions_standard) / sizeof(regions_standard[0]);

/* "xx-word-N" or "xx-word-word-N": lowercase parts, a trailing number. */
int
regions_valid_name(const char *s)
{
	size_t len = strlen(s), i, dashes = 0;

	if (len < 9 || len > 25 || !islower((unsigned char)s[0]) ||
	    !isdigit((unsigned char)s[len - 1]) || s[len - 2] != '-')
		return 0;
	for (i = 0; i < len; i++) {
		if (s[i] == '-') {
			if (s[i + 1] == '-')
				return 0;
			dashes++;
		} else if (!islower((unsigned char)s[i]) &&
		    !isdigit((unsigned char)s[i]))
			return 0;
	}
	return dashes >= 2;
}
