/*
 * What the creds*.c files share and nothing else may use: the state of one
 * walk of the chain, the parameters of one AssumeRole*, the parsed shared
 * files, and the providers that the chain table and a profile's
 * credential_source both call.
 */
#ifndef CREDS_INTERNAL_H
#define CREDS_INTERNAL_H

#include <stddef.h>
#include <time.h>

struct aws_creds;
struct creds_chain_opts;
struct errbuf;
struct http_client;
struct http_response;

#define CREDS_NITEMS(a)		(sizeof(a) / sizeof((a)[0]))

/* One walk of the chain (creds.c). */
struct creds_chain {
	const struct creds_chain_opts	*opts;
	struct http_client		*sts;		/* caller's, or own_sts */
	struct http_client		*own_sts;
	time_t				 now;
	char				 tried[768];	/* why each did not yield */
};

/*
 * Providers and their helpers return 1 when they yielded *out, 0 when not
 * configured (the chain falls through), -1 on error.
 */

/* creds.c: wiping, and the walk's environment and defaults. */
void	creds_secret_free(char *);
void	creds_resp_wipe(struct http_response *);
const char *creds_env(struct creds_chain *, const char *name);
void	creds_skip(struct creds_chain *, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
struct http_client *creds_sts_client(struct creds_chain *);
const char *creds_region(struct creds_chain *, const char *fallback);
int	creds_env_keys(struct creds_chain *, struct aws_creds **,
	    struct errbuf *);

/* creds-sts.c: STS AssumeRole and AssumeRoleWithWebIdentity. */
struct creds_role {
	const char	*role_arn;
	const char	*session_name;	/* NULL: tagwarden-<unix time> */
	const char	*external_id;	/* NULL: none */
	const char	*duration;	/* NULL: STS default; range-checked */
	const char	*region;
	char		 source[64];
	char		 default_session[64];
};

int	creds_sts_assume_role(struct creds_chain *, const struct aws_creds *,
	    struct creds_role *, struct aws_creds **, struct errbuf *);
int	creds_web_identity(struct creds_chain *, const char *label,
	    const char *path, struct creds_role *, struct aws_creds **,
	    struct errbuf *);
int	creds_prov_web_identity(struct creds_chain *, struct aws_creds **,
	    struct errbuf *);

/* creds-meta.c: the container endpoint and EC2 instance metadata. */
int	creds_container_fetch(struct creds_chain *, struct aws_creds **,
	    struct errbuf *);
int	creds_prov_container(struct creds_chain *, struct aws_creds **,
	    struct errbuf *);
int	creds_imds_disabled(struct creds_chain *);
int	creds_imds_fetch(struct creds_chain *, struct aws_creds **,
	    struct errbuf *);
int	creds_prov_imds(struct creds_chain *, struct aws_creds **,
	    struct errbuf *);

/* creds-files.c: token files and the shared files, parsed. */
enum creds_prof_file {
	CREDS_PF_CREDENTIALS,		/* wins over config for the same key */
	CREDS_PF_CONFIG,
	CREDS_PF_NFILES
};

struct creds_prof_kv {
	char	*key;
	char	*value;		/* may be secret: wiped when freed */
	int	 file;		/* enum creds_prof_file */
	int	 line;
};

struct creds_prof {
	char			*name;
	struct creds_prof_kv	*kv;
	size_t			 nkv;
};

struct creds_prof_set {
	char			*path[CREDS_PF_NFILES];
	struct creds_prof	*prof;
	size_t			 nprof;
};

char	*creds_token_read(const char *path, struct errbuf *);
int	creds_prof_load(struct creds_chain *, struct creds_prof_set *,
	    struct errbuf *);
void	creds_prof_set_free(struct creds_prof_set *);
const struct creds_prof *creds_prof_find(const struct creds_prof_set *,
	    const char *name);
const struct creds_prof_kv *creds_prof_get(const struct creds_prof *,
	    const char *key, int file);

/* creds-profile.c: the profile AWS_PROFILE names, and its role chain. */
int	creds_prov_profile(struct creds_chain *, struct aws_creds **,
	    struct errbuf *);

#endif
