/*
 * The worker's whole sandbox policy: privilege drop, rlimits,
 * no_new_privs, Landlock and the seccomp allow-list, entered once by
 * sandbox_enter() after JOB, CREDENTIALS and libcurl are set up.
 *
 * Decisions (STYLE.md rules 19-21 and gotchas):
 * - Resolver: libcurl keeps resolving names itself (threaded getaddrinfo),
 *   so openat is allowed with read-only flags and any write, create,
 *   truncate or append flag gets EACCES instead of a kill, which libraries
 *   probing a file handle gracefully. Landlock then narrows what can be
 *   read to the CA files, the resolver files and the shared libraries that
 *   NSS may dlopen. socket(AF_UNIX) gets EACCES too: glibc tries nscd
 *   that way and falls back; socketpair(AF_UNIX) stays for libcurl's
 *   wakeup pairs. Legacy open(2) is not allowed at all (glibc uses openat).
 * - Processes: clone is allowed only with CLONE_THREAD|CLONE_VM set and
 *   every namespace bit (mask 0x7E020000) clear, so threads and nothing
 *   else; clone3 answers ENOSYS (its flags sit behind a pointer) and glibc
 *   falls back to clone; fork, vfork and execve are killed.
 * - RLIMIT_NPROC=0 would stop libcurl's resolver threads: the kernel
 *   counts threads against it for every uid but root, and the worker runs
 *   unprivileged. The limit is SANDBOX_NPROC instead, which counts every
 *   task of the uid (all workers together); the clone rule above is what
 *   forbids new processes.
 * - RLIMIT_FSIZE=0 kills a process writing to a regular file, and stderr
 *   may be one: the supervisor therefore gives every worker a pipe as
 *   stderr (supervisor/spawn-worker.c) and re-logs its lines.
 * - Privileges: started as root, the worker switches to nobody (65534
 *   when the name is unknown) here, before no_new_privs and the filters;
 *   after that it needs only the fds it already holds.
 * - TAGWARDEN_SANDBOX_DEBUG=1 makes the default action a trap whose SIGSYS
 *   handler prints the syscall number and lets the call fail with ENOSYS;
 *   every rule stays as it is.
 * - ASan builds keep the sandbox but not LeakSanitizer, whose exit-time
 *   check needs clone and ptrace; valgrind checks worker leaks in the
 *   --disable-sandbox build. RLIMIT_DATA is skipped under ASan, whose
 *   shadow memory alone exceeds it.
 */
#include <sys/types.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/ioctl.h>

#include <dirent.h>
#include <stddef.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <curl/curl.h>

#ifdef WITH_SANDBOX
#include <linux/landlock.h>
#include <sched.h>
#include <seccomp.h>
#include <ucontext.h>
#endif

#include "errbuf.h"
#include "log.h"
#include "sandbox.h"
#include "strnum.h"
#include "xmalloc.h"

#define nitems(a)	(sizeof(a) / sizeof((a)[0]))

extern char **environ;

/* Always reachable: AWS's TLS port unless overridden, DNS over TCP. */
#define PORT_HTTPS	443
#define PORT_DNS	53

static int
opts_add_port(struct sandbox_opts *o, long long port)
{
	size_t i;

	for (i = 0; i < o->nports; i++) {
		if (o->ports[i] == port)
			return 0;
	}
	if (o->nports == SANDBOX_MAX_PORTS)
		return -1;
	o->ports[o->nports++] = (uint16_t)port;
	return 0;
}

/* The port of an http(s) URL, by libcurl's parser; scheme default if none. */
static int
url_port(const char *name, const char *url, long long *port,
    struct errbuf *err)
{
	const char *errstr;
	char *s = NULL;
	CURLU *u;
	int rc = -1;

	if ((u = curl_url()) == NULL)
		fatalx("curl_url: out of memory");
	if (curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_PORT, &s, CURLU_DEFAULT_PORT) ==
	    CURLUE_OK) {
		*port = strnum(s, 1, 65535, &errstr);
		rc = errstr == NULL ? 0 : -1;
	}
	curl_free(s);
	curl_url_cleanup(u);
	if (rc == -1)
		return err_set(err, "%s=%s: not an http(s) URL with a host; "
		    "set it like https://host[:port]", name, url);
	return 0;
}

static int
opts_add_endpoints(struct sandbox_opts *o, struct errbuf *err)
{
	const char *prefix = "AWS_ENDPOINT_URL", *eq;
	char name[128];
	long long port = 0;
	int global = 0;
	size_t i, n;

	for (i = 0; environ[i] != NULL; i++) {
		if (strncmp(environ[i], prefix, strlen(prefix)) != 0 ||
		    (eq = strchr(environ[i], '=')) == NULL || eq[1] == '\0')
			continue;
		n = (size_t)(eq - environ[i]);
		snprintf(name, sizeof(name), "%.*s", (int)n, environ[i]);
		if (n != strlen(prefix) && environ[i][strlen(prefix)] != '_')
			continue;
		if (url_port(name, eq + 1, &port, err) == -1)
			return -1;
		if (n == strlen(prefix))
			global = 1;
		if (opts_add_port(o, port) == -1)
			return err_set(err, "%s: more than %d distinct endpoint "
			    "ports", name, SANDBOX_MAX_PORTS - 2);
	}
	if (!global)
		opts_add_port(o, PORT_HTTPS);
	opts_add_port(o, PORT_DNS);
	return 0;
}

static void
opts_add_path(struct sandbox_opts *o, const char *path)
{
	if (path != NULL && *path != '\0' && o->npaths < SANDBOX_MAX_PATHS)
		o->paths[o->npaths++] = xstrdup(path);
}

int
sandbox_opts_init(struct sandbox_opts *o, struct errbuf *err)
{
	const char *bundle = getenv("AWS_CA_BUNDLE");
	char *info = NULL, *dir = NULL;
	CURL *curl;

	memset(o, 0, sizeof(*o));
	if (opts_add_endpoints(o, err) == -1)
		return -1;
	if (bundle != NULL && *bundle != '\0') {
		opts_add_path(o, bundle);
		return 0;
	}
	/* libcurl's compiled-in defaults (7.84+ reports them). */
	if ((curl = curl_easy_init()) == NULL)
		return err_set(err, "curl_easy_init failed");
	curl_easy_getinfo(curl, CURLINFO_CAINFO, &info);
	curl_easy_getinfo(curl, CURLINFO_CAPATH, &dir);
	opts_add_path(o, info);
	opts_add_path(o, dir);
	curl_easy_cleanup(curl);
	return 0;
}

void
sandbox_opts_clear(struct sandbox_opts *o)
{
	size_t i;

	for (i = 0; i < o->npaths; i++)
		free(o->paths[i]);
	memset(o, 0, sizeof(*o));
}

#ifndef WITH_SANDBOX

int
sandbox_enter(const struct sandbox_opts *o, char *desc, size_t desclen,
    struct errbuf *err)
{
	(void)o;
	(void)err;
	log_warnx("sandbox disabled at build time (--disable-sandbox): for "
	    "valgrind only, never for production");
	snprintf(desc, desclen, "none (built with --disable-sandbox)");
	return 0;
}

#else /* WITH_SANDBOX */

#ifdef __SANITIZE_ADDRESS__
const char *__asan_default_options(void);

/* LeakSanitizer's exit check needs clone+ptrace, which the filter kills. */
const char *
__asan_default_options(void)
{
	return "detect_leaks=0";
}
#endif

/*
 * Counts every task of the worker's uid, so it must fit
 * MAX_CONCURRENT_ACCOUNTS (20) workers, each with its main thread and one
 * resolver thread per name being resolved.
 */
#define SANDBOX_NPROC		512
#define SANDBOX_NOFILE		1024
#define SANDBOX_DATA		(1024ULL * 1024 * 1024)
#define NOBODY_ID		65534

/* ---- privileges and limits ---- */

static int
priv_drop(uid_t *uid, struct errbuf *err)
{
	struct passwd *pw;
	gid_t gid = NOBODY_ID;

	*uid = geteuid();
	if (*uid != 0)
		return 0;
	*uid = NOBODY_ID;
	if ((pw = getpwnam("nobody")) != NULL && pw->pw_uid != 0) {
		*uid = pw->pw_uid;
		gid = pw->pw_gid;
	}
	if (setgroups(0, NULL) == -1 || setresgid(gid, gid, gid) == -1 ||
	    setresuid(*uid, *uid, *uid) == -1)
		return err_set(err, "cannot switch to uid %u gid %u: %s",
		    (unsigned)*uid, (unsigned)gid, strerror(errno));
	if (setuid(0) != -1)
		return err_set(err, "uid %u can become root again",
		    (unsigned)*uid);
	return 0;
}

struct limit_row {
	int		 resource;
	const char	*name;
	rlim_t		 value;
};

static const struct limit_row limits[] = {
	{ RLIMIT_CORE, "RLIMIT_CORE", 0 },		/* no core with creds */
	{ RLIMIT_FSIZE, "RLIMIT_FSIZE", 0 },		/* no file written */
	{ RLIMIT_NPROC, "RLIMIT_NPROC", SANDBOX_NPROC },
	{ RLIMIT_NOFILE, "RLIMIT_NOFILE", SANDBOX_NOFILE },
#ifndef __SANITIZE_ADDRESS__
	{ RLIMIT_DATA, "RLIMIT_DATA", SANDBOX_DATA },	/* 1 GiB heap */
#endif
};

static int
limits_set(struct errbuf *err)
{
	struct rlimit rl;
	size_t i;

	for (i = 0; i < nitems(limits); i++) {
		if (getrlimit(limits[i].resource, &rl) == -1)
			return err_set(err, "getrlimit %s: %s", limits[i].name,
			    strerror(errno));
		/* Soft and hard alike, and never above what we were given. */
		if (rl.rlim_max == RLIM_INFINITY || rl.rlim_max > limits[i].value)
			rl.rlim_max = limits[i].value;
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(limits[i].resource, &rl) == -1)
			return err_set(err, "setrlimit %s %llu: %s",
			    limits[i].name, (unsigned long long)rl.rlim_cur,
			    strerror(errno));
	}
	return 0;
}

/* Landlock and seccomp restrict the calling thread only. */
static int
single_threaded(struct errbuf *err)
{
	struct dirent *d;
	DIR *dir;
	int n = 0;

	if ((dir = opendir("/proc/self/task")) == NULL)
		return 0;
	while ((d = readdir(dir)) != NULL)
		n += d->d_name[0] != '.';
	closedir(dir);
	if (n > 1)
		return err_set(err, "%d threads are running; the sandbox must "
		    "be entered before any thread starts", n);
	return 0;
}

/* ---- Landlock ---- */

/* Newer than the 6.1 UAPI headers Debian 12 ships; values are the ABI. */
#define LL_FS_TRUNCATE		(1ULL << 14)	/* ABI 3 */
#define LL_FS_IOCTL_DEV		(1ULL << 15)	/* ABI 5 */
#define LL_NET_BIND_TCP		(1ULL << 0)	/* ABI 4 */
#define LL_NET_CONNECT_TCP	(1ULL << 1)	/* ABI 4 */
#define LL_SCOPE_ABSTRACT_UNIX	(1ULL << 0)	/* ABI 6 */
#define LL_SCOPE_SIGNAL		(1ULL << 1)	/* ABI 6 */
#define LL_RULE_NET_PORT	2
#define LL_FS_READ		(LANDLOCK_ACCESS_FS_READ_FILE | \
				 LANDLOCK_ACCESS_FS_READ_DIR)

struct ll_ruleset {
	uint64_t	handled_access_fs;
	uint64_t	handled_access_net;	/* ABI 4 */
	uint64_t	scoped;			/* ABI 6 */
};

struct ll_net_port {
	uint64_t	allowed_access;
	uint64_t	port;
};

/* Read-only beneath these, when they exist, besides opts->paths. */
static const char *const ll_read_paths[] = {
	/* getaddrinfo and its NSS configuration */
	"/etc/hosts", "/etc/resolv.conf", "/etc/nsswitch.conf",
	"/etc/host.conf", "/etc/gai.conf",
	/* NSS modules glibc may dlopen, found through the loader cache */
	"/etc/ld.so.cache", "/usr/lib", "/lib",
	/* OpenSSL: /etc/ssl/certs links point into ca-certificates */
	"/etc/ssl", "/usr/share/ca-certificates",
};

static int
ll_abi(void)
{
	long v;

	v = syscall(SYS_landlock_create_ruleset, NULL, 0,
	    LANDLOCK_CREATE_RULESET_VERSION);
	return v < 0 ? 0 : (int)v;
}

static int
ll_add_path(int rs, const char *path, struct errbuf *err)
{
	struct landlock_path_beneath_attr pb;
	struct stat st;
	int fd, rc;

	if ((fd = open(path, O_PATH | O_CLOEXEC)) == -1)
		return 0;	/* absent here: nothing to allow */
	memset(&pb, 0, sizeof(pb));
	pb.parent_fd = fd;
	pb.allowed_access = LANDLOCK_ACCESS_FS_READ_FILE;
	if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode))
		pb.allowed_access = LL_FS_READ;
	rc = (int)syscall(SYS_landlock_add_rule, rs, LANDLOCK_RULE_PATH_BENEATH,
	    &pb, 0);
	close(fd);
	if (rc == -1)
		return err_set(err, "landlock rule for %s: %s", path,
		    strerror(errno));
	return 0;
}

static int
ll_add_port(int rs, uint16_t port, struct errbuf *err)
{
	struct ll_net_port np;

	np.allowed_access = LL_NET_CONNECT_TCP;
	np.port = port;
	if (syscall(SYS_landlock_add_rule, rs, LL_RULE_NET_PORT, &np, 0) == -1)
		return err_set(err, "landlock rule for TCP port %u: %s", port,
		    strerror(errno));
	return 0;
}

/* Every right the ABI knows is handled, so all but the rules is denied. */
static size_t
ll_ruleset_for(int abi, struct ll_ruleset *r)
{
	memset(r, 0, sizeof(*r));
	r->handled_access_fs = (LANDLOCK_ACCESS_FS_MAKE_SYM << 1) - 1;
	if (abi >= 2)
		r->handled_access_fs |= LANDLOCK_ACCESS_FS_REFER;
	if (abi >= 3)
		r->handled_access_fs |= LL_FS_TRUNCATE;
	if (abi >= 5)
		r->handled_access_fs |= LL_FS_IOCTL_DEV;
	if (abi < 4)
		return sizeof(r->handled_access_fs);
	r->handled_access_net = LL_NET_BIND_TCP | LL_NET_CONNECT_TCP;
	if (abi < 6)
		return offsetof(struct ll_ruleset, scoped);
	r->scoped = LL_SCOPE_ABSTRACT_UNIX | LL_SCOPE_SIGNAL;
	return sizeof(*r);
}

static int
ll_rules(int rs, int abi, const struct sandbox_opts *o, struct errbuf *err)
{
	size_t i;

	for (i = 0; i < nitems(ll_read_paths); i++) {
		if (ll_add_path(rs, ll_read_paths[i], err) == -1)
			return -1;
	}
	for (i = 0; i < o->npaths; i++) {
		if (ll_add_path(rs, o->paths[i], err) == -1)
			return -1;
	}
	for (i = 0; abi >= 4 && i < o->nports; i++) {
		if (ll_add_port(rs, o->ports[i], err) == -1)
			return -1;
	}
	return 0;
}

/* Returns the ABI applied, 0 when the kernel has no Landlock, or -1. */
static int
ll_apply(const struct sandbox_opts *o, struct errbuf *err)
{
	struct ll_ruleset r;
	size_t size;
	int abi, rs;

	if ((abi = ll_abi()) == 0) {
		log_debug("landlock unavailable in this kernel; seccomp only");
		return 0;
	}
	size = ll_ruleset_for(abi, &r);
	rs = (int)syscall(SYS_landlock_create_ruleset, &r, size, 0);
	if (rs == -1)
		return err_set(err, "landlock ruleset (ABI %d): %s", abi,
		    strerror(errno));
	if (ll_rules(rs, abi, o, err) == -1) {
		close(rs);
		return -1;
	}
	if (syscall(SYS_landlock_restrict_self, rs, 0) == -1) {
		close(rs);
		return err_set(err, "landlock_restrict_self: %s",
		    strerror(errno));
	}
	close(rs);
	return abi;
}

/* ---- seccomp ---- */

struct sys_row {
	int		 nr;
	const char	*who;
};

#define ROW(name, who)	{ SCMP_SYS(name), who }

/* Allowed with any arguments. Every row says who needs it. */
static const struct sys_row allowed[] = {
	/* Descriptors: frames on fd 3, stderr, sockets, read-only files */
	ROW(read, "fd 3, sockets, CA and resolver files"),
	ROW(write, "fd 3 frames, stderr, sockets"),
	ROW(readv, "libc stdio"),
	ROW(writev, "libc stdio, ASan reports"),
	ROW(pread64, "the loader, when NSS dlopens a module"),
	ROW(close, "everyone"),
	ROW(lseek, "stdio reading resolver files"),
	ROW(fstat, "stdio, the loader"),
	ROW(newfstatat, "glibc's fstat and stat, resolv.conf reload check"),
	ROW(statx, "glibc stat family"),
	ROW(readlink, "ASan reading /proc/self/exe in a report"),
	/* Waiting for sockets */
	ROW(poll, "libcurl's multi handle, the resolver"),
	ROW(ppoll, "libcurl's multi handle"),
	/* Memory (mmap and mprotect are argument-checked below) */
	ROW(brk, "malloc"),
	ROW(munmap, "malloc, thread stacks"),
	ROW(mremap, "malloc realloc of large blocks"),
	ROW(madvise, "malloc trimming, thread stack release, ASan"),
	/* Threads: libcurl resolves names in a thread */
	ROW(futex, "pthread mutexes, condition variables, joins"),
	ROW(set_robust_list, "every new thread (glibc)"),
	ROW(rseq, "every new thread registers rseq (glibc 2.35+)"),
	ROW(sched_yield, "spinlocks in OpenSSL and ASan"),
	ROW(sched_getaffinity, "glibc counting CPUs for malloc arenas"),
	ROW(gettid, "pthread, ASan"),
	ROW(exit, "a thread ending"),
	ROW(exit_group, "the process ending"),
	/* Signals */
	ROW(rt_sigaction, "libcurl, ASan, the debug trap"),
	ROW(rt_sigprocmask, "pthread_create, abort()"),
	ROW(rt_sigreturn, "return from any signal handler"),
	ROW(sigaltstack, "ASan's per-thread signal stack"),
	ROW(restart_syscall, "resuming an interrupted sleep"),
	/* Time */
	ROW(clock_gettime, "timeouts, SigV4 dates (when not in the vDSO)"),
	ROW(clock_getres, "libcurl timers"),
	ROW(gettimeofday, "libcurl, OpenSSL"),
	ROW(clock_nanosleep, "retry backoff"),
	ROW(nanosleep, "retry backoff"),
	/* Identity and entropy */
	ROW(getpid, "HELLO, raise()"),
	ROW(getuid, "OpenSSL, libcurl"),
	ROW(geteuid, "OpenSSL, libcurl"),
	ROW(getgid, "OpenSSL"),
	ROW(getegid, "OpenSSL"),
	ROW(getrandom, "OpenSSL, arc4random, expat per parser"),
	ROW(uname, "glibc, OpenSSL"),
	/* Network (socket domains are argument-checked below) */
	ROW(connect, "HTTPS to the endpoints, DNS over UDP"),
	ROW(bind, "getaddrinfo's netlink socket; Landlock denies TCP"),
	ROW(getsockopt, "libcurl SO_ERROR after connect"),
	ROW(setsockopt, "libcurl TCP_NODELAY, keepalive"),
	ROW(getsockname, "libcurl, getaddrinfo address sorting"),
	ROW(getpeername, "libcurl"),
	ROW(sendto, "sockets, DNS queries"),
	ROW(recvfrom, "sockets, DNS answers"),
	ROW(sendmsg, "sockets"),
	ROW(recvmsg, "getaddrinfo's netlink query"),
	ROW(sendmmsg, "glibc's resolver sends A and AAAA together"),
	ROW(shutdown, "libcurl closing connections"),
#ifdef __SANITIZE_ADDRESS__
	/* Sanitizer builds only (--enable-asan): what a report needs */
	ROW(pipe2, "UBSan testing whether memory is readable"),
#endif
};

/* Allowed, or answered with an errno, only for these argument values. */
struct arg_row {
	int		 nr;
	uint32_t	 action;
	unsigned int	 arg;
	enum scmp_compare op;
	uint64_t	 a;		/* EQ: the value; MASKED_EQ: the mask */
	uint64_t	 b;		/* MASKED_EQ: the value */
	const char	*who;
};

#define ALLOW		SCMP_ACT_ALLOW
#define DENY(e)		SCMP_ACT_ERRNO(e)
#define IS(v)		SCMP_CMP_EQ, (v), 0
#define MASKED(m, v)	SCMP_CMP_MASKED_EQ, (m), (v)
#define OPEN_WRITE	(O_ACCMODE | O_CREAT | O_TRUNC | O_APPEND)
#define CLONE_NS_MASK	0x7E020000ULL	/* every CLONE_NEW* flag */
#define CLONE_THREADS	(CLONE_THREAD | CLONE_VM)
#define PROT_WX		(PROT_WRITE | PROT_EXEC)

static const struct arg_row checked[] = {
	/* Socket domains */
	{ SCMP_SYS(socket), ALLOW, 0, IS(AF_INET), "HTTPS, DNS" },
	{ SCMP_SYS(socket), ALLOW, 0, IS(AF_INET6), "HTTPS, DNS" },
	{ SCMP_SYS(socket), ALLOW, 0, IS(AF_NETLINK),
	  "getaddrinfo asking which address families are configured" },
	{ SCMP_SYS(socket), DENY(EACCES), 0, IS(AF_UNIX),
	  "glibc probing nscd: refused, it falls back to files and DNS" },
	{ SCMP_SYS(socketpair), ALLOW, 0, IS(AF_UNIX),
	  "libcurl's wakeup pair and resolver thread notification" },
	/* fcntl operations */
	{ SCMP_SYS(fcntl), ALLOW, 1, IS(F_GETFD), "libcurl, stdio" },
	{ SCMP_SYS(fcntl), ALLOW, 1, IS(F_SETFD), "close-on-exec" },
	{ SCMP_SYS(fcntl), ALLOW, 1, IS(F_GETFL), "libcurl non-blocking" },
	{ SCMP_SYS(fcntl), ALLOW, 1, IS(F_SETFL), "libcurl non-blocking" },
	/* ioctl requests */
	{ SCMP_SYS(ioctl), ALLOW, 1, IS(FIONREAD), "glibc's resolver" },
	{ SCMP_SYS(ioctl), ALLOW, 1, IS(FIONBIO), "non-blocking sockets" },
	{ SCMP_SYS(ioctl), DENY(ENOTTY), 1, IS(TCGETS),
	  "isatty() in stdio: no terminal here" },
	/* Threads only: thread flags set, no namespace flag */
	{ SCMP_SYS(clone), ALLOW, 0,
	  MASKED(CLONE_THREADS | CLONE_NS_MASK, CLONE_THREADS),
	  "pthread_create for libcurl's resolver" },
	/* Files: read-only opens; writes refused, not killed */
	{ SCMP_SYS(openat), ALLOW, 2, MASKED(OPEN_WRITE, 0),
	  "CA bundle, resolver files, NSS modules" },
	{ SCMP_SYS(openat), DENY(EACCES), 2, MASKED(O_ACCMODE, O_WRONLY),
	  "nothing is written" },
	{ SCMP_SYS(openat), DENY(EACCES), 2, MASKED(O_ACCMODE, O_RDWR),
	  "nothing is written" },
	{ SCMP_SYS(openat), DENY(EACCES), 2, MASKED(O_CREAT, O_CREAT),
	  "nothing is created" },
	{ SCMP_SYS(openat), DENY(EACCES), 2, MASKED(O_TRUNC, O_TRUNC),
	  "nothing is truncated" },
	{ SCMP_SYS(openat), DENY(EACCES), 2, MASKED(O_APPEND, O_APPEND),
	  "nothing is appended to" },
	/* Memory never writable and executable at once */
	{ SCMP_SYS(mmap), ALLOW, 2, MASKED(PROT_WX, 0), "malloc, stacks" },
	{ SCMP_SYS(mmap), ALLOW, 2, MASKED(PROT_WX, PROT_WRITE), "malloc" },
	{ SCMP_SYS(mmap), ALLOW, 2, MASKED(PROT_WX, PROT_EXEC),
	  "the loader mapping an NSS module" },
	{ SCMP_SYS(mprotect), ALLOW, 2, MASKED(PROT_WX, 0), "guard pages" },
	{ SCMP_SYS(mprotect), ALLOW, 2, MASKED(PROT_WX, PROT_WRITE),
	  "thread stacks, malloc arenas, RELRO" },
	{ SCMP_SYS(mprotect), ALLOW, 2, MASKED(PROT_WX, PROT_EXEC),
	  "the loader" },
	/* Reading limits, never setting them */
	{ SCMP_SYS(prlimit64), ALLOW, 2, IS(0), "getrlimit (pthread, ASan)" },
#ifdef __SANITIZE_ADDRESS__
	/* The sanitizer runtimes open with the legacy call (x86_64) */
	{ SCMP_SYS(open), ALLOW, 1, MASKED(OPEN_WRITE, 0),
	  "ASan and UBSan reading /proc/self/maps for a report" },
	{ SCMP_SYS(open), DENY(EACCES), 1, MASKED(O_ACCMODE, O_WRONLY),
	  "nothing is written" },
	{ SCMP_SYS(open), DENY(EACCES), 1, MASKED(O_ACCMODE, O_RDWR),
	  "nothing is written" },
	{ SCMP_SYS(open), DENY(EACCES), 1, MASKED(O_CREAT, O_CREAT),
	  "nothing is created" },
#endif
};

/* Answered with an errno whatever the arguments. */
static const struct sys_row enosys[] = {
	ROW(clone3, "glibc tries it first, then falls back to clone"),
};

static int
sc_add(scmp_filter_ctx ctx, uint32_t action, int nr, unsigned int count,
    const struct scmp_arg_cmp *cmp, const char *what, struct errbuf *err)
{
	int rc;

	if (nr < 0)
		return 0;	/* not a syscall on this architecture */
	rc = seccomp_rule_add_exact_array(ctx, action, nr, count, cmp);
	if (rc < 0)
		return err_set(err, "seccomp rule for syscall %d (%s): %s", nr,
		    what, strerror(-rc));
	return 0;
}

static int
sc_rules(scmp_filter_ctx ctx, struct errbuf *err)
{
	struct scmp_arg_cmp cmp;
	size_t i;

	for (i = 0; i < nitems(allowed); i++) {
		if (sc_add(ctx, ALLOW, allowed[i].nr, 0, NULL, allowed[i].who,
		    err) == -1)
			return -1;
	}
	for (i = 0; i < nitems(enosys); i++) {
		if (sc_add(ctx, DENY(ENOSYS), enosys[i].nr, 0, NULL,
		    enosys[i].who, err) == -1)
			return -1;
	}
	for (i = 0; i < nitems(checked); i++) {
		memset(&cmp, 0, sizeof(cmp));
		cmp.arg = checked[i].arg;
		cmp.op = checked[i].op;
		cmp.datum_a = checked[i].a;
		cmp.datum_b = checked[i].b;
		if (sc_add(ctx, checked[i].action, checked[i].nr, 1, &cmp,
		    checked[i].who, err) == -1)
			return -1;
	}
	return 0;
}

/* Signals only to ourselves: abort() and raise() in any thread. */
static int
sc_self_signals(scmp_filter_ctx ctx, struct errbuf *err)
{
	struct scmp_arg_cmp cmp;

	memset(&cmp, 0, sizeof(cmp));
	cmp.arg = 0;
	cmp.op = SCMP_CMP_EQ;
	cmp.datum_a = (uint64_t)getpid();
	if (sc_add(ctx, ALLOW, SCMP_SYS(kill), 1, &cmp, "raise", err) == -1 ||
	    sc_add(ctx, ALLOW, SCMP_SYS(tgkill), 1, &cmp, "raise, abort",
	    err) == -1)
		return -1;
	return 0;
}

/* Debug trap: async-signal-safe report, then the call fails with ENOSYS. */
static void
sc_trap(int sig, siginfo_t *si, void *ctx)
{
	char msg[96], digits[16];
	int n = si->si_syscall, i = (int)sizeof(digits);

	(void)sig;
	do {
		digits[--i] = (char)('0' + n % 10);
		n /= 10;
	} while (n > 0 && i > 0);
	strcpy(msg, "tagwarden-worker: sandbox: forbidden syscall ");
	strncat(msg, digits + i, (size_t)(sizeof(digits) - (size_t)i));
	strcat(msg, "\n");
	(void)!write(STDERR_FILENO, msg, strlen(msg));
#ifdef __x86_64__
	((ucontext_t *)ctx)->uc_mcontext.gregs[REG_RAX] = -ENOSYS;
#else
	(void)ctx;
	_exit(3);
#endif
}

static int
sc_debug(void)
{
	const char *v = getenv("TAGWARDEN_SANDBOX_DEBUG");
	struct sigaction sa;

	if (v == NULL || strcmp(v, "1") != 0)
		return 0;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = sc_trap;
	sa.sa_flags = SA_SIGINFO;
	sigaction(SIGSYS, &sa, NULL);
	log_warnx("TAGWARDEN_SANDBOX_DEBUG=1: forbidden syscalls are "
	    "reported and fail with ENOSYS instead of killing the worker");
	return 1;
}

static int
sc_apply(int debug, struct errbuf *err)
{
	scmp_filter_ctx ctx;
	int rc;

	ctx = seccomp_init(debug ? SCMP_ACT_TRAP : SCMP_ACT_KILL_PROCESS);
	if (ctx == NULL)
		return err_set(err, "seccomp_init failed");
	if (seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH,
	    SCMP_ACT_KILL_PROCESS) < 0 ||
	    seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1) < 0 ||
	    sc_rules(ctx, err) == -1 || sc_self_signals(ctx, err) == -1) {
		seccomp_release(ctx);
		return err != NULL && err->msg[0] != '\0' ? -1 :
		    err_set(err, "seccomp filter attributes");
	}
	rc = seccomp_load(ctx);
	seccomp_release(ctx);
	if (rc < 0)
		return err_set(err, "seccomp_load: %s", strerror(-rc));
	return 0;
}

static void
describe(char *desc, size_t len, int debug, int abi,
    const struct sandbox_opts *o, uid_t uid)
{
	char ports[SANDBOX_MAX_PORTS * 6 + 1] = "";
	size_t i, n = 0;

	for (i = 0; i < o->nports && n < sizeof(ports); i++)
		n += (size_t)snprintf(ports + n, sizeof(ports) - n, "%s%u",
		    i > 0 ? " " : "", o->ports[i]);
	if (abi == 0)
		snprintf(desc, len, "seccomp%s, no landlock, uid %u",
		    debug ? " (debug trap)" : "", (unsigned)uid);
	else if (abi < 4)
		snprintf(desc, len, "seccomp%s, landlock v%d (fs), uid %u",
		    debug ? " (debug trap)" : "", abi, (unsigned)uid);
	else
		snprintf(desc, len, "seccomp%s, landlock v%d (fs, tcp %s), "
		    "uid %u", debug ? " (debug trap)" : "", abi, ports,
		    (unsigned)uid);
}

int
sandbox_enter(const struct sandbox_opts *o, char *desc, size_t desclen,
    struct errbuf *err)
{
	uid_t uid;
	int abi, debug;

	err_clear(err);
	if (single_threaded(err) == -1)
		return -1;
	closefrom(4);
	if (priv_drop(&uid, err) == -1)
		return -1;
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == -1)
		return err_set(err, "PR_SET_DUMPABLE: %s", strerror(errno));
	if (limits_set(err) == -1)
		return -1;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1)
		return err_set(err, "PR_SET_NO_NEW_PRIVS: %s", strerror(errno));
	if ((abi = ll_apply(o, err)) == -1)
		return -1;
	debug = sc_debug();
	if (sc_apply(debug, err) == -1)
		return -1;
	describe(desc, desclen, debug, abi, o, uid);
	return 0;
}

#endif /* WITH_SANDBOX */
