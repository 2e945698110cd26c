/*
 * Process creation, in one place and one way (STYLE.md rule 8):
 * socketpair with CLOEXEC, posix_spawn with the child's end on fd 3 and
 * every other fd closed, of tagwarden-worker with the environment
 * spawn_env() builds.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "errbuf.h"
#include "log.h"
#include "spawn-worker.h"
#include "xmalloc.h"

#define nitems(a)	(sizeof(a) / sizeof((a)[0]))

extern char **environ;

/* Channel (2), stderr pipe (2), /dev/null. */
#define SPAWN_NFDS	5

/* The variables a worker may see; a row ending in '_' is a prefix. */
static const char *const env_allowed[] = {
	"LOG_LEVEL",
	"AWS_ENDPOINT_URL",
	"AWS_ENDPOINT_URL_",		/* per service: AWS_ENDPOINT_URL_S3 */
	"AWS_CA_BUNDLE",
	"TAGWARDEN_SANDBOX_DEBUG",
};

static int
env_name_ok(const char *entry, size_t namelen)
{
	const char *row;
	size_t i, n, j;

	for (i = 0; i < nitems(env_allowed); i++) {
		row = env_allowed[i];
		n = strlen(row);
		if (row[n - 1] != '_') {
			if (namelen == n && strncmp(entry, row, n) == 0)
				return 1;
			continue;
		}
		if (namelen <= n || strncmp(entry, row, n) != 0)
			continue;
		for (j = n; j < namelen; j++) {
			if (!((entry[j] >= 'A' && entry[j] <= 'Z') ||
			    (entry[j] >= '0' && entry[j] <= '9') ||
			    entry[j] == '_'))
				break;
		}
		if (j == namelen)
			return 1;
	}
	return 0;
}

char **
spawn_env(char *const *environment)
{
	const char *eq;
	char **out;
	size_t i, n = 0;

	if (environment == NULL)
		environment = environ;
	for (i = 0; environment[i] != NULL; i++)
		;
	out = xcalloc(i + 2, sizeof(*out));
	for (i = 0; environment[i] != NULL; i++) {
		if ((eq = strchr(environment[i], '=')) == NULL || eq[1] == '\0')
			continue;
		if (env_name_ok(environment[i], (size_t)(eq - environment[i])))
			out[n++] = xstrdup(environment[i]);
	}
	/* Worker timestamps are UTC whatever the supervisor's zone is. */
	out[n++] = xstrdup("TZ=UTC");
	out[n] = NULL;
	return out;
}

void
spawn_env_free(char **env)
{
	size_t i;

	if (env == NULL)
		return;
	for (i = 0; env[i] != NULL; i++)
		free(env[i]);
	free(env);
}

/*
 * File actions run in the child in order. Every source fd is first parked
 * above all of them, so that no dup2 onto 0..3 overwrites a source still
 * to be moved (a supervisor started with fd 0 closed gets low numbers).
 * dup2 onto the same number clears FD_CLOEXEC in glibc >= 2.29, as POSIX
 * now requires, so fd 3 survives exec even if it already was fd 3.
 */
static int
spawn_actions(posix_spawn_file_actions_t *fa, int sock, int errw, int null)
{
	int park = sock, e;

	if (errw > park)
		park = errw;
	if (null > park)
		park = null;
	park++;
	if ((e = posix_spawn_file_actions_init(fa)) != 0)
		return e;
	if ((e = posix_spawn_file_actions_adddup2(fa, sock, park)) != 0 ||
	    (e = posix_spawn_file_actions_adddup2(fa, errw, park + 1)) != 0 ||
	    (e = posix_spawn_file_actions_adddup2(fa, null, park + 2)) != 0 ||
	    (e = posix_spawn_file_actions_adddup2(fa, park + 2,
	    STDIN_FILENO)) != 0 ||
	    (e = posix_spawn_file_actions_adddup2(fa, park + 2,
	    STDOUT_FILENO)) != 0 ||
	    (e = posix_spawn_file_actions_adddup2(fa, park + 1,
	    STDERR_FILENO)) != 0 ||
	    (e = posix_spawn_file_actions_adddup2(fa, park, 3)) != 0 ||
	    (e = posix_spawn_file_actions_addclosefrom_np(fa, 4)) != 0)
		posix_spawn_file_actions_destroy(fa);
	return e;
}

/* Signals back to normal in the worker: nothing blocked, SIGPIPE default. */
static int
spawn_attrs(posix_spawnattr_t *at)
{
	sigset_t none, pipe;
	int e;

	sigemptyset(&none);
	sigemptyset(&pipe);
	sigaddset(&pipe, SIGPIPE);
	if ((e = posix_spawnattr_init(at)) != 0)
		return e;
	if ((e = posix_spawnattr_setsigmask(at, &none)) != 0 ||
	    (e = posix_spawnattr_setsigdefault(at, &pipe)) != 0 ||
	    (e = posix_spawnattr_setflags(at, POSIX_SPAWN_SETSIGMASK |
	    POSIX_SPAWN_SETSIGDEF)) != 0)
		posix_spawnattr_destroy(at);
	return e;
}

static void
close_all(int *fds, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (fds[i] != -1)
			close(fds[i]);
		fds[i] = -1;
	}
}

static int
spawn_fds(int fds[SPAWN_NFDS], struct errbuf *err)
{
	const char *what = "socketpair";

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) == 0) {
		what = "pipe";
		if (pipe2(fds + 2, O_CLOEXEC) == 0) {
			what = "/dev/null";
			if ((fds[4] = open("/dev/null", O_RDWR | O_CLOEXEC)) != -1)
				return 0;
		}
	}
	err_set(err, "cannot start a worker: %s: %s", what, strerror(errno));
	close_all(fds, SPAWN_NFDS);
	return -1;
}

/*
 * posix_spawn, not fork: glibc starts the child with CLONE_VM|CLONE_VFORK,
 * so the supervisor's heap, holding the accounts still scanning, is
 * neither copied into page tables nor copy-on-write faulted afterwards
 * for each worker, and an execve failure comes back as its return value.
 */
int
spawn_worker(const char *path, char *const envp[], struct spawn_child *sc,
    struct errbuf *err)
{
	char *const argv[] = { (char *)"tagwarden-worker", NULL };
	char *const noenv[] = { NULL };
	int fds[SPAWN_NFDS] = { -1, -1, -1, -1, -1 }, e;
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	pid_t pid;

	/*
	 * posix_spawn reports an execve failure itself, except where the
	 * clone is emulated as a fork (valgrind): then the child would just
	 * exit 127. Asking first keeps the common failures precise there.
	 */
	if (access(path, X_OK) == -1)
		return err_set(err, "cannot execute %s: %s", path,
		    strerror(errno));
	if (spawn_fds(fds, err) == -1)
		return -1;
	if ((e = spawn_actions(&fa, fds[1], fds[3], fds[4])) != 0) {
		close_all(fds, SPAWN_NFDS);
		return err_set(err, "cannot start a worker: posix_spawn "
		    "file actions: %s", strerror(e));
	}
	if ((e = spawn_attrs(&at)) != 0) {
		posix_spawn_file_actions_destroy(&fa);
		close_all(fds, SPAWN_NFDS);
		return err_set(err, "cannot start a worker: posix_spawn "
		    "attributes: %s", strerror(e));
	}
	e = posix_spawn(&pid, path, &fa, &at, argv,
	    envp != NULL ? envp : noenv);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&at);
	if (e != 0) {
		close_all(fds, SPAWN_NFDS);
		return err_set(err, "cannot execute %s: %s", path, strerror(e));
	}
	close(fds[1]);
	close(fds[3]);
	close(fds[4]);
	if (fcntl(fds[0], F_SETFL, O_NONBLOCK) == -1 ||
	    fcntl(fds[2], F_SETFL, O_NONBLOCK) == -1)
		fatal("fcntl O_NONBLOCK on a new worker's fds");
	sc->pid = pid;
	sc->fd = fds[0];
	sc->errfd = fds[2];
	return 0;
}
