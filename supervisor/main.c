/*
 * tagwarden: subcommand dispatch. Being written.
 */
#include <stdio.h>

int
main(void)
{
	return 0;
}
