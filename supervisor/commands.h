/*
 * Subcommands of the tagwarden binary. Each is one row in main.c's
 * command table and lives in its own supervisor/cmd-<name>.c. A handler
 * gets the arguments after the subcommand name and returns the exit status.
 */
#ifndef COMMANDS_H
#define COMMANDS_H

int	cmd_check_config(int argc, char **argv);
int	cmd_policy(int argc, char **argv);
int	cmd_scan(int argc, char **argv);
int	cmd_serve(int argc, char **argv);

#endif
