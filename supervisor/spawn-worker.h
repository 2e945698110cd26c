/*
 * The one place the supervisor creates processes: a tagwarden-worker with
 * its channel on fd 3, a pipe as stderr, /dev/null as stdin and stdout, and
 * a minimal environment that never holds a secret.
 */
#ifndef SPAWN_WORKER_H
#define SPAWN_WORKER_H

#include <sys/types.h>

struct errbuf;

struct spawn_child {
	pid_t	pid;
	int	fd;	/* supervisor's end of the channel */
	int	errfd;	/* read end of the worker's stderr */
};

/*
 * Start path with argv {"tagwarden-worker", NULL} and envp (NULL: an empty
 * environment). Both returned
 * fds are non-blocking and close-on-exec. An execve failure is reported
 * here ("cannot execute /x/tagwarden-worker: No such file or directory"),
 * and that child is already reaped.
 */
int	spawn_worker(const char *path, char *const envp[],
	    struct spawn_child *, struct errbuf *);

/*
 * The worker's environment from environment (NULL: this process's):
 * LOG_LEVEL, AWS_ENDPOINT_URL, AWS_ENDPOINT_URL_<SERVICE>, AWS_CA_BUNDLE
 * and TAGWARDEN_SANDBOX_DEBUG when set and not empty, then TZ=UTC. Nothing
 * else, so no credential variable can pass. Free with spawn_env_free().
 */
char	**spawn_env(char *const *environment);
void	spawn_env_free(char **);

#endif
