/*
 * What the config*.c files share and nothing else may use: the row table
 * and its types, the state of one config_load() and the way its problems
 * are reported, the type rows and the value checks the table names.
 */
#ifndef CONFIG_INTERNAL_H
#define CONFIG_INTERNAL_H

#include <stddef.h>

#include "config.h"

struct errbuf;

#define CONFIG_NITEMS(a)	(sizeof(a) / sizeof((a)[0]))

#define CONFIG_SHOW_MAX		128	/* bytes of a value quoted in errors */
#define CONFIG_PATH_MAX		4096

enum config_type {
	CONFIG_TYPE_BOOL,
	CONFIG_TYPE_INT,
	CONFIG_TYPE_TEXT,
	CONFIG_TYPE_ACCOUNTS,
	CONFIG_TYPE_REGIONS,
	CONFIG_TYPE_LOGLEVEL,
	CONFIG_TYPE_DOC		/* documented family, read by another module */
};

enum config_source {
	CONFIG_SOURCE_DEFAULT,
	CONFIG_SOURCE_ENV,
	CONFIG_SOURCE_FALLBACK
};

struct config_entry {
	enum config_source source;
	char	*shown;
};

/* State of one config_load() call. */
struct config_loader {
	struct config	*cfg;
	const char	*(*getenv_fn)(const char *);
	void		(*report)(void *, enum config_severity, const char *);
	void		*arg;
	int		 nerrors;
	int		 quiet;		/* parsing a default or a fallback */
};

struct config_row {
	const char	*name;
	enum config_type type;
	const char	*def;		/* default value; NULL: unset */
	const char	*def_help;	/* default as help shows it, if not def */
	char		*(*def_fn)(struct config_loader *); /* computed default */
	const char	*fallback;	/* variable read when name is unset */
	long long	 min, max;	/* CONFIG_TYPE_INT */
	const char	*form;		/* what "must be" names; INT: built */
	const char	*help;
	int		 flags;
	size_t		 field;		/* offsetof(struct config, x); 0: none */
	/* -1 if invalid; why->msg may refine "must be <form>". */
	int		(*check)(const char *, struct errbuf *why);
};

#define CONFIG_FIELD(cfg, row, type) \
	((type *)(void *)((char *)(cfg) + (row)->field))
#define CONFIG_CFIELD(cfg, row, type) \
	((const type *)(const void *)((const char *)(cfg) + (row)->field))

/* config.c: the rows, and how a load reports a bad value. */
extern const struct config_row config_rows[];
extern const size_t config_nrows;
char	*config_row_form(const struct config_row *);
char	*config_show_value(const char *, size_t max);
int	config_load_problem(struct config_loader *, const struct config_row *,
	    const char *value, const char *fmt, ...)
	    __attribute__((format(printf, 4, 5)));
int	config_load_invalid(struct config_loader *, const struct config_row *,
	    const char *value, const struct errbuf *why);

/* config-types.c: parse a value into cfg, or show it from there. */
int	config_type_parse(struct config_loader *, const struct config_row *,
	    const char *value);
char	*config_type_show(const struct config_row *, const struct config *);

/* config-check.c: the row checks; -1 when invalid, why may say more. */
int	config_check_role_name(const char *, struct errbuf *);
int	config_check_template(const char *, struct errbuf *);
int	config_check_external_id(const char *, struct errbuf *);
int	config_check_region(const char *, struct errbuf *);
int	config_check_account_id(const char *, struct errbuf *);
int	config_check_path(const char *, struct errbuf *);
int	config_check_text(const char *, struct errbuf *);
int	config_check_url(const char *, struct errbuf *);
int	config_check_true_false(const char *, struct errbuf *);
int	config_check_key_id(const char *, struct errbuf *);
int	config_check_secret(const char *, struct errbuf *);
int	config_check_role_arn(const char *, struct errbuf *);
int	config_check_session_name(const char *, struct errbuf *);
int	config_check_cost_metric(const char *, struct errbuf *);

#endif
