/*
 * tagwarden's entry point: set the log level from the environment, then
 * run argv[1] through the command table. Adding a subcommand is adding a
 * row here and its supervisor/cmd-<name>.c; --help lists the rows.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "config.h"
#include "log.h"
#include "xmalloc.h"

#define nitems(a)	(sizeof(a) / sizeof((a)[0]))

#define EXIT_USAGE	2

struct command {
	const char	*name;		/* "": no subcommand given */
	const char	*usage;		/* arguments, as --help shows them */
	const char	*help;		/* NULL: an alias, not listed */
	int		(*run)(int, char **);
};

static int	main_help(int, char **);
static int	main_help_config(int, char **);
static int	main_version(int, char **);

static const struct command commands[] = {
	/* No command: the MCP server, as MCP clients start it. */
	{ "", "", NULL, cmd_serve },
	{ "serve", "", "run the MCP server on stdin/stdout (also: no command)",
	  cmd_serve },
	{ "check-config", "",
	  "check the environment, print the effective configuration",
	  cmd_check_config },
	{ "policy", " check FILE", "check a tagging policy file", cmd_policy },
	{ "scan", " [options]", "scan accounts now (scan --help: options)",
	  cmd_scan },
	{ "help-config", " [--markdown]",
	  "print the environment variables (Markdown: the README table)",
	  main_help_config },
	{ "help", "", "print this help (also -h, --help)", main_help },
	{ "-h", "", NULL, main_help },
	{ "--help", "", NULL, main_help },
	{ "--version", "", "print the version", main_version },
};

static int
usage_extra(const char *command, const char *arg)
{
	fprintf(stderr, "tagwarden %s: unexpected argument \"%s\"; run "
	    "tagwarden --help\n", command, arg);
	return EXIT_USAGE;
}

static int
main_help(int argc, char **argv)
{
	char *synopsis;
	size_t i;

	if (argc > 0)
		return usage_extra("help", argv[0]);
	printf("usage: tagwarden command [arguments]\n\ncommands:\n");
	for (i = 0; i < nitems(commands); i++) {
		if (commands[i].help == NULL)
			continue;
		synopsis = xprintf("%s%s", commands[i].name, commands[i].usage);
		printf("  tagwarden %-26s %s\n", synopsis, commands[i].help);
		free(synopsis);
	}
	printf("\nexit status: 0 success, 1 failure, 2 usage or "
	    "configuration error\n\nenvironment (SYSCONFDIR is %s):\n",
	    SYSCONFDIR);
	config_help(stdout, CONFIG_HELP_TEXT);
	return 0;
}

static int
main_help_config(int argc, char **argv)
{
	int markdown = argc > 0 && strcmp(argv[0], "--markdown") == 0;

	if (argc > markdown)
		return usage_extra("help-config", argv[markdown]);
	config_help(stdout, markdown ? CONFIG_HELP_MARKDOWN : CONFIG_HELP_TEXT);
	return 0;
}

static int
main_version(int argc, char **argv)
{
	if (argc > 0)
		return usage_extra("--version", argv[0]);
	printf("tagwarden %s\n", PACKAGE_VERSION);
	return 0;
}

static const struct command *
command_find(const char *name)
{
	size_t i;

	for (i = 0; i < nitems(commands); i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

/*
 * The level comes from a full load so LOG_LEVEL means the same everywhere;
 * problems are not reported here: an invalid LOG_LEVEL leaves INFO, and
 * check-config (or startup of the server) names every error.
 */
static void
main_log_init(void)
{
	struct config cfg;

	config_load(&cfg, config_getenv, NULL, NULL);
	log_init("tagwarden", cfg.log_level);
	config_free(&cfg);
}

int
main(int argc, char **argv)
{
	const struct command *cmd;
	const char *name = argc > 1 ? argv[1] : "";

	main_log_init();
	if ((argc > 1 && name[0] == '\0') || (cmd = command_find(name)) == NULL) {
		fprintf(stderr, "tagwarden: unknown %s \"%s\"; run "
		    "tagwarden --help\n", name[0] == '-' ? "option" : "command",
		    name);
		return EXIT_USAGE;
	}
	if (argc < 2)
		return cmd->run(0, argv + argc);
	return cmd->run(argc - 2, argv + 2);
}
