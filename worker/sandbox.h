/*
 * The worker's sandbox (DESIGN.md section 3), entered once after JOB and
 * CREDENTIALS are read and libcurl is initialised. Afterwards the process
 * has fd 3, its stderr, TCP to the endpoint ports, the resolver and the CA
 * files, and nothing else. The whole policy is in sandbox.c.
 */
#ifndef SANDBOX_H
#define SANDBOX_H

#include <stddef.h>
#include <stdint.h>

struct errbuf;

#define SANDBOX_MAX_PORTS	16
#define SANDBOX_MAX_PATHS	4

struct sandbox_opts {
	/* TCP ports the worker may connect to (Landlock ABI >= 4). */
	uint16_t	 ports[SANDBOX_MAX_PORTS];
	size_t		 nports;
	/* Files or directories readable afterwards: the CA bundle. */
	char		*paths[SANDBOX_MAX_PATHS];
	size_t		 npaths;
};

/*
 * Fill opts from the environment the supervisor passed: the ports of
 * AWS_ENDPOINT_URL and every AWS_ENDPOINT_URL_<SERVICE> (443 when
 * AWS_ENDPOINT_URL is unset, since some service then uses AWS), and the CA
 * bundle of AWS_CA_BUNDLE or libcurl's built-in defaults. Call after
 * curl_global_init(). A malformed URL is an error naming the variable.
 */
int	sandbox_opts_init(struct sandbox_opts *, struct errbuf *);
void	sandbox_opts_clear(struct sandbox_opts *);

/*
 * Enter the sandbox; the process must still be single-threaded. desc gets
 * a short description for HELLO ("seccomp, landlock v4 (fs, tcp 443),
 * uid 65534"). Built with --disable-sandbox this logs and does nothing.
 */
int	sandbox_enter(const struct sandbox_opts *, char *desc, size_t desclen,
	    struct errbuf *);

#endif
