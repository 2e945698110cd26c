/*
 * tagwarden check-config: load the environment exactly as startup does and
 * print the effective configuration, or every problem (bgpd -n style).
 */
#include <stdio.h>

#include "commands.h"
#include "config.h"

int
cmd_check_config(int argc, char **argv)
{
	struct config cfg;
	int nerrors = 0, rv = 0;

	if (argc > 0) {
		fprintf(stderr, "tagwarden check-config: unexpected argument "
		    "\"%s\"; run tagwarden --help\n", argv[0]);
		return 2;
	}
	if (config_load(&cfg, config_getenv, config_report_stderr,
	    &nerrors) == -1) {
		fprintf(stderr, "configuration invalid: %d error%s; tagwarden "
		    "help-config lists every variable\n", nerrors,
		    nerrors == 1 ? "" : "s");
		rv = 2;
	} else {
		config_dump(&cfg, stdout);
		printf("configuration OK\n");
		if (fflush(stdout) == EOF)
			rv = 1;
	}
	config_free(&cfg);
	return rv;
}
