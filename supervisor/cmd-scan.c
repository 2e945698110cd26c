/*
 * tagwarden scan: one scan from the command line on the same engine the
 * MCP tools use, with a live progress line on a terminal, a per-account
 * table and the data-quality notes on stdout, or the JSON result alone.
 */
#include <ctype.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <event2/event.h>
#include <jansson.h>

#include "commands.h"
#include "config.h"
#include "creds.h"
#include "errbuf.h"
#include "http.h"
#include "log.h"
#include "result.h"
#include "scan.h"
#include "store.h"
#include "xmalloc.h"

#define EXIT_SOME_FAILED	1
#define EXIT_USAGE		2
/* Longest alias and error shown in the table; --json has them whole. */
#define ALIAS_WIDTH		20
#define ERROR_WIDTH		200

struct scan_args {
	char	**accounts, **regions, **types;
	size_t	  naccounts, nregions, ntypes;
	int	  json, no_store, force_refresh, help, no_cost;
	char	 *cost_metric, *cost_start, *cost_end;
};

struct cli {
	struct event_base	*base;
	struct scan		*scan;
	struct event		*tick, *sigint, *sigterm;
	struct scan_progress	 last;
	struct timespec		 t0;
	int			 tty, shown, done;
	enum scan_outcome	 outcome;
	char			*error;
};

static const char scan_usage[] =
    "usage: tagwarden scan [--accounts ID,...] [--regions R,...] "
    "[--types T,...]\n"
    "                      [--json] [--no-store] [--force-refresh]\n"
    "                      [--no-cost] [--cost-metric M] "
    "[--cost-period START..END]\n"
    "  --accounts ID,...  accounts to scan (default: AWS_ACCOUNT_IDS when "
    "MULTI_ACCOUNT_ENABLED=true,\n"
    "                     else the local account)\n"
    "  --regions R,...    regions (default: ALLOWED_REGIONS, else every "
    "enabled region)\n"
    "  --types T,...      resource types, or all (default: the policy's "
    "types)\n"
    "  --json             print only the JSON result on stdout\n"
    "  --no-store         neither read nor write the history database\n"
    "  --force-refresh    scan again even when a cached result is fresh\n"
    "  --no-cost          do not ask Cost Explorer ($0.01 per request) "
    "for the cost\n"
    "                     attribution gap\n"
    "  --cost-metric M    UnblendedCost or AmortizedCost (default: "
    "COST_METRIC)\n"
    "  --cost-period START..END\n"
    "                     cost period, UTC dates, END exclusive (default: "
    "the last 30\n"
    "                     full days)\n"
    "environment: the tagwarden variables (tagwarden help-config), and "
    "TAGWARDEN_WORKER,\n"
    "the tagwarden-worker to run (default: beside this tagwarden, else "
    LIBEXECDIR ")\n"
    "exit status: 0 every account scanned, 1 some failed, 2 usage or "
    "configuration error\n";

/* --- arguments --- */

static void
args_free(struct scan_args *a)
{
	size_t i;

	for (i = 0; i < a->naccounts; i++)
		free(a->accounts[i]);
	for (i = 0; i < a->nregions; i++)
		free(a->regions[i]);
	for (i = 0; i < a->ntypes; i++)
		free(a->types[i]);
	free(a->accounts);
	free(a->regions);
	free(a->types);
	free(a->cost_metric);
	free(a->cost_start);
	free(a->cost_end);
}

/* START..END, either side may be empty (its default). */
static int
args_period(struct scan_args *a, const char *value)
{
	const char *dots = strstr(value, "..");

	if (dots == NULL) {
		fprintf(stderr, "tagwarden scan: --cost-period \"%s\": expected "
		    "START..END such as 2026-10-01..2026-11-01 (END exclusive; "
		    "either may be left out)\n", value);
		return -1;
	}
	if (dots > value)
		a->cost_start = xstrndup(value, dots - value);
	if (dots[2] != '\0')
		a->cost_end = xstrdup(dots + 2);
	return 0;
}

/* "a, b,,c" -> {"a", "b", "c"}; blanks around entries are ignored. */
static int
args_list(const char *opt, const char *value, char ***list, size_t *n)
{
	char *copy = xstrdup(value), *p = copy, *item, *end;

	while ((item = strsep(&p, ",")) != NULL) {
		while (isspace((unsigned char)*item))
			item++;
		end = item + strlen(item);
		while (end > item && isspace((unsigned char)end[-1]))
			*--end = '\0';
		if (*item == '\0')
			continue;
		*list = xreallocarray(*list, *n + 1, sizeof(**list));
		(*list)[(*n)++] = xstrdup(item);
	}
	free(copy);
	if (*n > 0)
		return 0;
	fprintf(stderr, "tagwarden scan: %s \"%s\": expected a comma-separated "
	    "list; run tagwarden scan --help\n", opt, value);
	return -1;
}

/* One option from getopt_long; -1 for an unknown one or a bad value. */
static int
args_option(struct scan_args *a, int c, char *const *argv)
{
	if (c == 'a')
		return args_list("--accounts", optarg, &a->accounts,
		    &a->naccounts);
	if (c == 'r')
		return args_list("--regions", optarg, &a->regions,
		    &a->nregions);
	if (c == 't')
		return args_list("--types", optarg, &a->types, &a->ntypes);
	if (c == 'p')
		return args_period(a, optarg);
	if (c == 'm') {
		free(a->cost_metric);
		a->cost_metric = xstrdup(optarg);
	} else if (c == 'c')
		a->no_cost = 1;
	else if (c == 'j')
		a->json = 1;
	else if (c == 'n')
		a->no_store = 1;
	else if (c == 'f')
		a->force_refresh = 1;
	else if (c == 'h')
		a->help = 1;
	else {
		fprintf(stderr, "tagwarden scan: unknown option or missing "
		    "value \"%s\"; run tagwarden scan --help\n",
		    argv[optind - 1]);
		return -1;
	}
	return 0;
}

static int
args_parse(int argc, char **argv, struct scan_args *a)
{
	static const struct option opts[] = {
		{ "accounts", required_argument, NULL, 'a' },
		{ "regions", required_argument, NULL, 'r' },
		{ "types", required_argument, NULL, 't' },
		{ "json", no_argument, NULL, 'j' },
		{ "no-store", no_argument, NULL, 'n' },
		{ "force-refresh", no_argument, NULL, 'f' },
		{ "no-cost", no_argument, NULL, 'c' },
		{ "cost-metric", required_argument, NULL, 'm' },
		{ "cost-period", required_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	int c, rc = 0;

	/* argv[-1] is "scan", which getopt takes for the program name. */
	optind = 1;
	opterr = 0;
	while (rc == 0 && (c = getopt_long(argc + 1, argv - 1, "h", opts,
	    NULL)) != -1)
		rc = args_option(a, c, argv - 1);
	if (rc == 0 && optind <= argc) {
		fprintf(stderr, "tagwarden scan: unexpected argument \"%s\"; run "
		    "tagwarden scan --help\n", argv[optind - 1]);
		rc = -1;
	}
	return rc;
}

/* --- the terminal --- */

/* Text from AWS or a worker, made safe to print on a terminal. */
static void
safe_text(char *dst, size_t size, const char *src)
{
	size_t i;

	snprintf(dst, size, "%s", src != NULL ? src : "-");
	for (i = 0; dst[i] != '\0'; i++)
		if (iscntrl((unsigned char)dst[i]))
			dst[i] = '?';
}

static void
progress_draw(struct cli *cli)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	fprintf(stderr, "\rscanning: %zu/%zu accounts, %lld resources, "
	    "%lld s\033[K", cli->last.accounts_done, cli->last.accounts_total,
	    cli->last.resources, (long long)(now.tv_sec - cli->t0.tv_sec));
	fflush(stderr);
	cli->shown = 1;
}

static void
progress_clear(struct cli *cli)
{
	if (!cli->shown)
		return;
	fprintf(stderr, "\r\033[K");
	fflush(stderr);
	cli->shown = 0;
}

static void
on_progress(struct scan *scan, const struct scan_progress *p, void *arg)
{
	struct cli *cli = arg;

	(void)scan;
	cli->last = *p;
	if (cli->tty)
		progress_draw(cli);
}

/* Once a second, so elapsed time moves while nothing else does. */
static void
on_tick(evutil_socket_t fd, short what, void *arg)
{
	struct cli *cli = arg;

	(void)fd;
	(void)what;
	if (cli->last.accounts_total > 0)
		progress_draw(cli);
}

static void
on_done(struct scan *scan, enum scan_outcome outcome, const char *error,
    const struct result *res, void *arg)
{
	struct cli *cli = arg;

	(void)scan;
	(void)res;
	cli->done = 1;
	cli->outcome = outcome;
	cli->error = error != NULL ? xstrdup(error) : NULL;
	progress_clear(cli);
	event_base_loopexit(cli->base, NULL);
}

static void
on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct cli *cli = arg;

	(void)what;
	progress_clear(cli);
	fprintf(stderr, "tagwarden scan: %s: cancelling the scan\n",
	    strsignal(sig));
	scan_cancel(cli->scan);
}

/* --- the summary --- */

/* "$1,234.56", or "-" when unknown. */
static void
dollars(char *buf, size_t size, int known, long long cents)
{
	char digits[32], grouped[48];
	long long whole = (cents < 0 ? -cents : cents) / 100;
	size_t n, i, j = 0;

	if (!known) {
		snprintf(buf, size, "-");
		return;
	}
	n = (size_t)snprintf(digits, sizeof(digits), "%lld", whole);
	for (i = 0; i < n; i++) {
		if (i > 0 && (n - i) % 3 == 0)
			grouped[j++] = ',';
		grouped[j++] = digits[i];
	}
	grouped[j] = '\0';
	snprintf(buf, size, "%s$%s.%02lld", cents < 0 ? "-" : "", grouped,
	    (cents < 0 ? -cents : cents) % 100);
}

static void
print_account(const struct result_account *a)
{
	char alias[ALIAS_WIDTH + 1], error[ERROR_WIDTH + 1], dur[32], gap[64];

	safe_text(alias, sizeof(alias), a->alias);
	safe_text(error, sizeof(error), a->error != NULL ? a->error : "");
	if (a->from_cache)
		snprintf(dur, sizeof(dur), "cached");
	else if (a->duration_ms < 10000)
		snprintf(dur, sizeof(dur), "%lld ms", a->duration_ms);
	else
		snprintf(dur, sizeof(dur), "%.1f s", a->duration_ms / 1000.0);
	if (a->status != RESULT_OK) {
		printf("%-12s  %-20s  %-9s  %9s  %9s  %6s  %10s  %12s  %8s  "
		    "%s\n", a->account_id, alias, result_status_name(a->status),
		    "-", "-", "-", "-", "-", dur, error);
		return;
	}
	dollars(gap, sizeof(gap), a->has_cost, a->cost_cents);
	printf("%-12s  %-20s  %-9s  %9lld  %9lld  %5.1f%%  %10lld  %12s  %8s\n",
	    a->account_id, alias, "ok", a->total, a->compliant,
	    100.0 * result_score(a->compliant, a->total), a->violations, gap,
	    dur);
}

static void
print_quality(const json_t *o)
{
	char line[ERROR_WIDTH * 2];
	const json_t *dq = json_object_get(o, "data_quality"), *n;
	size_t i;

	printf("\ndata quality: %s\n", json_is_true(json_object_get(dq,
	    "complete")) ? "every account and region scanned" :
	    "INCOMPLETE, the totals above do not cover everything");
	json_array_foreach(json_object_get(dq, "notes"), i, n) {
		safe_text(line, sizeof(line), json_string_value(n));
		printf("  - %s\n", line);
	}
}

/* The gap's total and what it stands for: period, method, CE spend. */
static void
print_cost(const json_t *o, const struct result_totals *t)
{
	const json_t *c = json_object_get(o, "cost_attribution");
	const json_t *p = json_object_get(c, "period");
	char gap[64];

	if (c != NULL) {
		dollars(gap, sizeof(gap), t->cost_accounts > 0, t->cost_cents);
		printf("cost attribution gap: %s over %s..%s (%lld days, %s; "
		    "see cost_attribution for each account's method), %lld Cost "
		    "Explorer request%s ($%.2f)\n", gap,
		    json_string_value(json_object_get(p, "start")),
		    json_string_value(json_object_get(p, "end")),
		    json_integer_value(json_object_get(p, "days")),
		    json_string_value(json_object_get(c, "metric")),
		    json_integer_value(json_object_get(c, "ce_requests")),
		    json_integer_value(json_object_get(c, "ce_requests")) == 1 ?
		    "" : "s", json_number_value(json_object_get(c,
		    "ce_request_cost_usd")));
	}
}

static void
print_summary(const struct result *res)
{
	struct result_totals t;
	json_t *o;
	size_t i;

	printf("%-12s  %-20s  %-9s  %9s  %9s  %6s  %10s  %12s  %8s  %s\n",
	    "ACCOUNT", "ALIAS", "STATUS", "RESOURCES", "COMPLIANT", "SCORE",
	    "VIOLATIONS", "COST GAP", "DURATION", "ERROR");
	for (i = 0; i < result_naccounts(res); i++)
		print_account(result_account_at(res, i));
	result_totals(res, &t);
	printf("\ntotal: %lld of %lld account%s scanned, %lld resources, %lld "
	    "compliant, score %.1f%%, %lld violations\n", t.ok, t.accounts,
	    t.accounts == 1 ? "" : "s", t.total, t.compliant, 100.0 * t.score,
	    t.violations);
	o = result_json(res, RESULT_SEVERITY_ALL);	/* built once */
	print_cost(o, &t);
	print_quality(o);
	json_decref(o);
}

static int
print_json(const struct result *res)
{
	json_t *o = result_json(res, RESULT_SEVERITY_ALL);
	int rc;

	rc = json_dumpf(o, stdout, JSON_INDENT(2) | RESULT_JSON_REALS);
	json_decref(o);
	printf("\n");
	return rc;
}

/* --- the run --- */

struct scan_setup {
	struct http_client	*http;
	struct aws_creds	*creds;
	struct store		*store;
	char			*worker;
	struct scan_engine	*eng;
};

static void
setup_free(struct scan_setup *su)
{
	scan_engine_free(su->eng);
	store_close(su->store);
	creds_free(su->creds);
	http_client_free(su->http);
	free(su->worker);
}

/* Credentials, worker and history: each problem is a configuration one. */
static int
setup_init(struct scan_setup *su, const struct config *cfg,
    const struct scan_args *args, struct event_base *base)
{
	struct errbuf err;

	memset(su, 0, sizeof(*su));
	su->http = http_client_new(NULL);
	if (creds_resolve_chain(su->http, &su->creds, &err) == -1) {
		fprintf(stderr, "tagwarden scan: AWS credentials: %s\n",
		    err.msg);
		return -1;
	}
	if ((su->worker = scan_worker_path(&err)) == NULL ||
	    (!args->no_store && (su->store = store_open(cfg->history_db_path,
	    &err)) == NULL)) {
		fprintf(stderr, "tagwarden scan: %s\n", err.msg);
		return -1;
	}
	su->eng = scan_engine_new(base, cfg, su->creds, su->store,
	    su->worker);
	return 0;
}

static void
request_init(struct scan_request *req, const struct scan_args *args,
    const struct config *cfg, const char **cfg_ids)
{
	size_t i;

	memset(req, 0, sizeof(*req));
	req->account_ids = (const char *const *)args->accounts;
	req->naccount_ids = args->naccounts;
	if (args->naccounts == 0 && cfg->multi_account_enabled) {
		for (i = 0; i < cfg->naccount_ids; i++)
			cfg_ids[i] = cfg->account_ids[i];
		req->account_ids = cfg_ids;
		req->naccount_ids = cfg->naccount_ids;
	}
	req->regions = (const char *const *)args->regions;
	req->nregions = args->nregions;
	req->resource_types = (const char *const *)args->types;
	req->ntypes = args->ntypes;
	req->force_refresh = args->force_refresh;
	req->store = !args->no_store;
	req->no_cost = args->no_cost;
	req->cost_metric = args->cost_metric;
	req->cost_start = args->cost_start;
	req->cost_end = args->cost_end;
}

static void
cli_events(struct cli *cli)
{
	struct timeval second = { 1, 0 };

	cli->sigint = evsignal_new(cli->base, SIGINT, on_signal, cli);
	cli->sigterm = evsignal_new(cli->base, SIGTERM, on_signal, cli);
	cli->tick = event_new(cli->base, -1, EV_PERSIST, on_tick, cli);
	if (cli->sigint == NULL || cli->sigterm == NULL || cli->tick == NULL ||
	    evsignal_add(cli->sigint, NULL) == -1 ||
	    evsignal_add(cli->sigterm, NULL) == -1)
		fatalx("cannot set up events");
	if (cli->tty)
		evtimer_add(cli->tick, &second);
}

static int
cli_exit(struct cli *cli, const struct scan_args *args)
{
	const struct result *res = scan_result(cli->scan);

	if (cli->outcome == SCAN_FAILED || cli->outcome == SCAN_REFUSED) {
		fprintf(stderr, "tagwarden scan: %s\n", cli->error != NULL ?
		    cli->error : "scan failed");
		return cli->outcome == SCAN_REFUSED ? EXIT_USAGE :
		    EXIT_SOME_FAILED;
	}
	if (args->json)
		print_json(res);
	else
		print_summary(res);
	if (fflush(stdout) == EOF)
		return EXIT_SOME_FAILED;
	return cli->outcome == SCAN_OK ? 0 : EXIT_SOME_FAILED;
}

static int
scan_run(const struct config *cfg, const struct scan_args *args)
{
	static const struct scan_callbacks cb = { on_progress, on_done };
	const char **cfg_ids = xcalloc(cfg->naccount_ids + 1, sizeof(char *));
	struct scan_request req;
	struct scan_setup su;
	struct cli cli;
	struct errbuf err;
	int rv = EXIT_USAGE;

	memset(&cli, 0, sizeof(cli));
	cli.tty = isatty(STDERR_FILENO);
	clock_gettime(CLOCK_MONOTONIC, &cli.t0);
	if ((cli.base = event_base_new()) == NULL)
		fatalx("event_base_new failed");
	if (setup_init(&su, cfg, args, cli.base) == 0) {
		request_init(&req, args, cfg, cfg_ids);
		if ((cli.scan = scan_start(su.eng, &req, &cb, &cli, &err)) ==
		    NULL)
			fprintf(stderr, "tagwarden scan: %s\n", err.msg);
		else {
			cli_events(&cli);
			event_base_dispatch(cli.base);
			rv = cli.done ? cli_exit(&cli, args) : EXIT_SOME_FAILED;
		}
	}
	progress_clear(&cli);
	scan_free(cli.scan);
	setup_free(&su);
	if (cli.tick != NULL) {
		event_free(cli.tick);
		event_free(cli.sigint);
		event_free(cli.sigterm);
	}
	event_base_free(cli.base);
	free(cli.error);
	free(cfg_ids);
	return rv;
}

int
cmd_scan(int argc, char **argv)
{
	struct scan_args args;
	struct config cfg;
	int nerrors = 0, rv;

	memset(&args, 0, sizeof(args));
	if (args_parse(argc, argv, &args) == -1) {
		args_free(&args);
		return EXIT_USAGE;
	}
	if (args.help) {
		args_free(&args);
		printf("%s", scan_usage);
		return 0;
	}
	if (config_load(&cfg, config_getenv, config_report_stderr, &nerrors) == -1) {
		fprintf(stderr, "configuration invalid: %d error%s; tagwarden "
		    "help-config lists every variable\n", nerrors,
		    nerrors == 1 ? "" : "s");
		rv = EXIT_USAGE;
	} else {
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
			fatalx("curl_global_init failed");
		rv = scan_run(&cfg, &args);
		curl_global_cleanup();
	}
	config_free(&cfg);
	args_free(&args);
	return rv;
}
