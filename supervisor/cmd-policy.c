/*
 * `tagwarden policy check FILE`: load a tagging policy the way the server
 * will, and say "policy OK" or list every problem, one per line, prefixed
 * with the file name. Sub-subcommands are rows in policy_cmds[].
 */
#include <stdio.h>
#include <string.h>

#include "policy.h"
#include "commands.h"

#define POLICY_EXIT_OK		0
#define POLICY_EXIT_INVALID	2	/* bad policy or bad usage */

struct policy_cmd {
	const char	*name;
	int		 nargs;		/* after the name */
	const char	*args;		/* for usage */
	int		(*run)(char **);
};

static int	policy_cmd_check(char **);

static const struct policy_cmd policy_cmds[] = {
	{ "check", 1, "FILE", policy_cmd_check },
};

static int
policy_usage(void)
{
	size_t i;

	for (i = 0; i < sizeof(policy_cmds) / sizeof(policy_cmds[0]); i++)
		fprintf(stderr, "usage: tagwarden policy %s %s\n",
		    policy_cmds[i].name, policy_cmds[i].args);
	return POLICY_EXIT_INVALID;
}

/* Errors go to stderr; the verdict line alone goes to stdout. */
static int
policy_cmd_check(char **argv)
{
	struct policy_errors errs = { NULL, 0 };
	struct policy *p;
	size_t i;

	if (policy_load(argv[0], &p, &errs) == -1) {
		for (i = 0; i < errs.count; i++)
			fprintf(stderr, "%s: %s\n", argv[0], errs.lines[i]);
		policy_errors_free(&errs);
		return POLICY_EXIT_INVALID;
	}
	printf("policy OK: %zu required, %zu optional tags\n",
	    policy_required_count(p), policy_optional_count(p));
	policy_free(p);
	return POLICY_EXIT_OK;
}

int
cmd_policy(int argc, char **argv)
{
	size_t i;

	if (argc < 1)
		return policy_usage();
	for (i = 0; i < sizeof(policy_cmds) / sizeof(policy_cmds[0]); i++) {
		if (strcmp(argv[0], policy_cmds[i].name) != 0)
			continue;
		if (argc - 1 != policy_cmds[i].nargs)
			return policy_usage();
		return policy_cmds[i].run(argv + 1);
	}
	fprintf(stderr, "tagwarden policy: unknown command \"%s\"\n",
	    argv[0]);
	return policy_usage();
}
