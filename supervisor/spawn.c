/*
 * Process creation, in one place and one way (STYLE.md rule 8):
 * socketpair with CLOEXEC, fork, the child's end on fd 3, closefrom, then
 * execve of tagwarden-worker with the environment spawn_env() builds.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "errbuf.h"
#include "log.h"
#include "spawn.h"
#include "xmalloc.h"

#define nitems(a)	(sizeof(a) / sizeof((a)[0]))

extern char **environ;

/* Where the child parks its fds before moving them to 0..4. */
#define SPAWN_PARK_FD	10
/* The execve status pipe lives here in the child until exec closes it. */
#define SPAWN_STATUS_FD	4

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
 * In the child, between fork and execve: only async-signal-safe calls, as
 * the supervisor may have threads (libcurl's resolver). Every fd is first
 * parked above SPAWN_PARK_FD so that no dup2 below overwrites a source.
 */
static void __attribute__((noreturn))
spawn_child(const char *path, char *const envp[], int sock, int errw,
    int statw, int null)
{
	char *const argv[] = { (char *)"tagwarden-worker", NULL };
	char *const noenv[] = { NULL };
	sigset_t none;
	int e;

	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_DFL);
	if ((sock = fcntl(sock, F_DUPFD_CLOEXEC, SPAWN_PARK_FD)) == -1 ||
	    (errw = fcntl(errw, F_DUPFD_CLOEXEC, SPAWN_PARK_FD)) == -1 ||
	    (null = fcntl(null, F_DUPFD_CLOEXEC, SPAWN_PARK_FD)) == -1 ||
	    (statw = fcntl(statw, F_DUPFD_CLOEXEC, SPAWN_PARK_FD)) == -1 ||
	    dup2(null, STDIN_FILENO) == -1 || dup2(null, STDOUT_FILENO) == -1 ||
	    dup2(errw, STDERR_FILENO) == -1 || dup2(sock, 3) == -1 ||
	    dup3(statw, SPAWN_STATUS_FD, O_CLOEXEC) == -1)
		goto fail;
	/*
	 * dup2 onto another number clears FD_CLOEXEC, but had the end already
	 * been fd 3 it would have been a no-op and exec would close it: clear
	 * the flag explicitly either way (OpenSMTPD start_child()).
	 */
	if (fcntl(3, F_SETFD, 0) == -1)
		goto fail;
	closefrom(SPAWN_STATUS_FD + 1);
	execve(path, argv, envp != NULL ? envp : noenv);
fail:
	e = errno;
	(void)!write(SPAWN_STATUS_FD, &e, sizeof(e));
	_exit(127);
}

/* 0 once the child has exec'd (the pipe closed), else its errno. */
static int
spawn_wait_exec(int statr)
{
	ssize_t n;
	int e = 0;

	do {
		n = read(statr, &e, sizeof(e));
	} while (n == -1 && errno == EINTR);
	return n == (ssize_t)sizeof(e) ? e : 0;
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
spawn_fds(int fds[7], struct errbuf *err)
{
	const char *what = "socketpair";

	/* channel (2), stderr pipe (2), exec status pipe (2), /dev/null */
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) == 0) {
		what = "pipe";
		if (pipe2(fds + 2, O_CLOEXEC) == 0 &&
		    pipe2(fds + 4, O_CLOEXEC) == 0) {
			what = "/dev/null";
			if ((fds[6] = open("/dev/null", O_RDWR | O_CLOEXEC)) != -1)
				return 0;
		}
	}
	err_set(err, "cannot start a worker: %s: %s", what, strerror(errno));
	close_all(fds, 7);
	return -1;
}

int
spawn_worker(const char *path, char *const envp[], struct spawn_child *sc,
    struct errbuf *err)
{
	int fds[7] = { -1, -1, -1, -1, -1, -1, -1 }, e, status;
	pid_t pid;

	if (spawn_fds(fds, err) == -1)
		return -1;
	if ((pid = fork()) == -1) {
		err_set(err, "cannot start a worker: fork: %s", strerror(errno));
		close_all(fds, 7);
		return -1;
	}
	if (pid == 0)
		spawn_child(path, envp, fds[1], fds[3], fds[5], fds[6]);
	close(fds[1]);
	close(fds[3]);
	close(fds[5]);
	close(fds[6]);
	fds[1] = fds[3] = fds[5] = fds[6] = -1;
	if ((e = spawn_wait_exec(fds[4])) != 0) {
		close_all(fds, 7);
		while (waitpid(pid, &status, 0) == -1 && errno == EINTR)
			;
		return err_set(err, "cannot execute %s: %s", path,
		    strerror(e));
	}
	close(fds[4]);
	if (fcntl(fds[0], F_SETFL, O_NONBLOCK) == -1 ||
	    fcntl(fds[2], F_SETFL, O_NONBLOCK) == -1)
		fatal("fcntl O_NONBLOCK on a new worker's fds");
	sc->pid = pid;
	sc->fd = fds[0];
	sc->errfd = fds[2];
	return 0;
}
