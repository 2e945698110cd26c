/*
 * tool_table[] and the life of a tool call: arguments checked against the
 * row's inputSchema, the handler, scans on the call's behalf (progress to
 * the client, cancellation from it), and exactly one answer. The scan
 * engine (credentials, STS, the job queue) starts with the first call
 * that needs it, so a server without AWS credentials still starts and
 * says what is missing in the answer.
 */
#include <sys/queue.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <jansson.h>

#include "config.h"
#include "creds.h"
#include "errbuf.h"
#include "http.h"
#include "jschema.h"
#include "log.h"
#include "mcp.h"
#include "policy.h"
#include "queue-compat.h"
#include "result.h"
#include "scan.h"
#include "tools.h"
#include "xmalloc.h"

#define nitems(a)	(sizeof(a) / sizeof((a)[0]))

/* tools/list order. */
static const struct tool *const tool_table[] = {
	&tool_check_tag_compliance,
	&tool_find_untagged_resources,
	&tool_validate_resource_tags,
	&tool_get_tagging_policy,
	&tool_get_violation_history,
	&tool_get_cost_attribution_gap,
};

const char *const tool_resource_types[] = {
	"ec2:instance", "ec2:volume", "s3:bucket", "rds:db",
	"lambda:function", "ecs:cluster",
};
const size_t tool_nresource_types = nitems(tool_resource_types);

struct tool_scan {
	TAILQ_ENTRY(tool_scan)	 entry;
	struct tool_call	*call;
	struct scan		*scan;
	size_t			 done, total;	/* accounts */
	long long		 resources;
	int			 finished;
	void			(*cb)(struct tool_call *,
				    const struct tool_scan_done *);
	void			*arg;
};

TAILQ_HEAD(tool_scans, tool_scan);

struct tool_call {
	struct tools		*tools;
	struct mcp_request	*req;
	const struct tool	*tool;
	json_t			*args;
	struct tool_scans	 scans;
	void			*state;
	void			(*state_free)(void *);
};

struct tools {
	struct event_base	*base;
	const struct config	*cfg;
	struct store		*store;
	char			*worker_path;
	struct http_client	*http;
	struct scan_engine	*eng;
	json_t			*inputs[nitems(tool_table)];
	json_t			*outputs[nitems(tool_table)];
};

/* --- the table --- */

const struct tool *
tools_find(const char *name)
{
	size_t i;

	for (i = 0; i < nitems(tool_table); i++)
		if (strcmp(tool_table[i]->name, name) == 0)
			return tool_table[i];
	return NULL;
}

static json_t *
tools_parse(const char *tool, const char *what, const char *text,
    struct errbuf *err)
{
	json_error_t jerr;
	json_t *schema;

	if ((schema = json_loads(text, 0, &jerr)) == NULL) {
		err_set(err, "%s %s: %s at line %d", tool, what, jerr.text,
		    jerr.line);
		return NULL;
	}
	if (!json_is_object(schema) || !json_is_string(json_object_get(schema,
	    "type")) || strcmp(json_string_value(json_object_get(schema,
	    "type")), "object") != 0) {
		json_decref(schema);
		err_set(err, "%s %s: expected a schema of type object", tool,
		    what);
		return NULL;
	}
	return schema;
}

int
tools_check_table(struct errbuf *err)
{
	json_t *in, *out;
	size_t i;
	int rc = 0;

	for (i = 0; rc == 0 && i < nitems(tool_table); i++) {
		in = tools_parse(tool_table[i]->name, "inputSchema",
		    tool_table[i]->input_schema, err);
		out = tools_parse(tool_table[i]->name, "outputSchema",
		    tool_table[i]->output_schema, err);
		if (in == NULL || out == NULL)
			rc = -1;
		else if (!json_is_false(json_object_get(in,
		    "additionalProperties")))
			rc = err_set(err, "%s inputSchema: additionalProperties "
			    "must be false", tool_table[i]->name);
		else if (jschema_check(in, err) == -1)
			rc = err_prefix(err, "%s inputSchema: ",
			    tool_table[i]->name);
		json_decref(in);
		json_decref(out);
	}
	return rc;
}

struct tools *
tools_new(struct event_base *base, const struct config *cfg,
    struct store *store, const char *worker_path)
{
	struct tools *t = xcalloc(1, sizeof(*t));
	struct errbuf err;
	size_t i;

	if (tools_check_table(&err) == -1)
		fatalx("tool table: %s", err.msg);
	t->base = base;
	t->cfg = cfg;
	t->store = store;
	t->worker_path = xstrdup(worker_path);
	t->http = http_client_new(NULL);
	for (i = 0; i < nitems(tool_table); i++) {
		t->inputs[i] = json_loads(tool_table[i]->input_schema, 0, NULL);
		t->outputs[i] = json_loads(tool_table[i]->output_schema, 0,
		    NULL);
	}
	return t;
}

void
tools_free(struct tools *t)
{
	size_t i;

	if (t == NULL)
		return;
	scan_engine_free(t->eng);
	http_client_free(t->http);
	for (i = 0; i < nitems(tool_table); i++) {
		json_decref(t->inputs[i]);
		json_decref(t->outputs[i]);
	}
	free(t->worker_path);
	free(t);
}

/* Fields a revision does not know are left out for its clients. */
json_t *
tools_list(struct tools *t, const struct mcp *m)
{
	json_t *list = json_array(), *o;
	size_t i;

	for (i = 0; i < nitems(tool_table); i++) {
		o = json_pack("{s:s, s:s, s:O}", "name", tool_table[i]->name,
		    "description", tool_table[i]->description, "inputSchema",
		    t->inputs[i]);
		if (mcp_protocol_at_least(m, "2025-06-18")) {
			json_object_set_new(o, "title",
			    json_string(tool_table[i]->title));
			json_object_set(o, "outputSchema", t->outputs[i]);
		}
		/* Every tool reads AWS or the history and changes nothing. */
		if (mcp_protocol_at_least(m, "2025-03-26"))
			json_object_set_new(o, "annotations", json_pack("{s:s, "
			    "s:b, s:b, s:b, s:b}", "title", tool_table[i]->title,
			    "readOnlyHint", 1, "destructiveHint", 0,
			    "idempotentHint", 1, "openWorldHint", 1));
		json_array_append_new(list, o);
	}
	return list;
}

/* --- a call --- */

static void
call_free(struct tool_call *c)
{
	struct tool_scan *ts;

	while ((ts = TAILQ_FIRST(&c->scans)) != NULL) {
		TAILQ_REMOVE(&c->scans, ts, entry);
		scan_free(ts->scan);	/* a running one is killed */
		free(ts);
	}
	if (c->state_free != NULL)
		c->state_free(c->state);
	json_decref(c->args);
	free(c);
}

static void
call_cancel(void *arg)
{
	struct tool_call *c = arg;
	struct tool_scan *ts;

	TAILQ_FOREACH(ts, &c->scans, entry)
		if (!ts->finished)
			scan_cancel(ts->scan);	/* done follows */
}

static void
call_abandon(void *arg)
{
	call_free(arg);
}

static void
call_answer(struct tool_call *c, json_t *result)
{
	mcp_reply(c->req, result);
	call_free(c);
}

void
tool_done(struct tool_call *c, json_t *structured)
{
	json_t *result = json_object();
	char *text;

	if ((text = json_dumps(structured, JSON_COMPACT |
	    RESULT_JSON_REALS)) == NULL)
		fatalx("%s: cannot encode the result of %s", __func__,
		    c->tool->name);
	json_object_set_new(result, "content", json_pack("[{s:s, s:s}]",
	    "type", "text", "text", text));
	free(text);
	if (mcp_protocol_at_least(mcp_request_server(c->req), "2025-06-18"))
		json_object_set_new(result, "structuredContent", structured);
	else
		json_decref(structured);
	json_object_set_new(result, "isError", json_false());
	call_answer(c, result);
}

/* Drop an incomplete multibyte sequence at the end of s[0..n). */
static void
utf8_trim(char *s, size_t n)
{
	size_t k = n, need;
	unsigned char lead;

	while (k > 0 && ((unsigned char)s[k - 1] & 0xc0) == 0x80)
		k--;
	if (k == 0)
		return;
	lead = (unsigned char)s[k - 1];
	need = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 1;
	if (k - 1 + need > n)
		s[k - 1] = '\0';
}

static json_t *
tool_error_result(const char *text)
{
	json_t *s = json_string(text);

	if (s == NULL)		/* never expected: texts are built from UTF-8 */
		s = json_string("the tool failed; the server log says why");
	return json_pack("{s:[{s:s, s:o}], s:b}", "content", "type", "text",
	    "text", s, "isError", 1);
}

void
tool_fail(struct tool_call *c, const char *fmt, ...)
{
	char text[ERRBUF_SIZE * 2];
	va_list ap;
	size_t n;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	/* vsnprintf may have cut a UTF-8 sequence; json_string refuses it. */
	n = strlen(text);
	if (n == sizeof(text) - 1)
		utf8_trim(text, n);
	log_debug("%s: %s", c->tool->name, text);
	call_answer(c, tool_error_result(text));
}

int
tools_call(struct tools *t, struct mcp_request *req, const char *name,
    const json_t *arguments)
{
	const struct tool *tool = tools_find(name);
	struct tool_call *c;
	struct errbuf err;
	json_t *args;
	size_t i;

	if (tool == NULL)
		return -1;
	for (i = 0; tool_table[i] != tool; i++)
		;
	args = arguments != NULL ? json_deep_copy(arguments) : json_object();
	if (jschema_validate(t->inputs[i], args, &err) == -1) {
		json_decref(args);
		mcp_reply(req, tool_error_result(err.msg));
		return 0;
	}
	c = xcalloc(1, sizeof(*c));
	c->tools = t;
	c->req = req;
	c->tool = tool;
	c->args = args;
	TAILQ_INIT(&c->scans);
	mcp_request_hooks(req, call_cancel, call_abandon, c);
	log_debug("tool %s called", tool->name);
	tool->handler(c);
	return 0;
}

const json_t *
tool_args(const struct tool_call *c)
{
	return c->args;
}

const struct config *
tool_config(const struct tool_call *c)
{
	return c->tools->cfg;
}

struct store *
tool_store(const struct tool_call *c)
{
	return c->tools->store;
}

void
tool_set_state(struct tool_call *c, void *state, void (*free_fn)(void *))
{
	c->state = state;
	c->state_free = free_fn;
}

void *
tool_state(const struct tool_call *c)
{
	return c->state;
}

int
tool_check_accounts(const struct tool_call *c, const json_t *ids,
    struct errbuf *err)
{
	if (json_array_size(ids) == 0 || c->tools->cfg->multi_account_enabled)
		return 0;
	return err_set(err, "account_ids: multi-account scanning is disabled "
	    "(MULTI_ACCOUNT_ENABLED=false). To enable it, set "
	    "MULTI_ACCOUNT_ENABLED=true in the environment of the tagwarden MCP "
	    "server (and AWS_ACCOUNT_IDS, with a role named by "
	    "AWS_ASSUME_ROLE_NAME in each account) and restart it; or leave "
	    "account_ids out to scan the local account");
}

static int
scope_types(const struct tool_call *c, const char *field, const json_t *types,
    struct errbuf *err)
{
	struct policy_errors perr = { NULL, 0 };
	const char *path = c->tools->cfg->policy_path, *t;
	struct policy *p = NULL;
	char covered[512] = "";
	size_t i, j;
	int rc = 0;

	if (policy_load(path, &p, &perr) == -1) {
		rc = err_set(err, "POLICY_PATH=%s: %s; tagwarden policy check %s "
		    "lists every problem", path, perr.count > 0 ? perr.lines[0] :
		    "cannot load the policy", path);
		policy_errors_free(&perr);
		return rc;
	}
	policy_errors_free(&perr);
	for (j = 0; j < tool_nresource_types; j++)
		if (policy_applies(p, tool_resource_types[j]))
			snprintf(covered + strlen(covered), sizeof(covered) -
			    strlen(covered), ", %s", tool_resource_types[j]);
	for (i = 0; rc == 0 && i < json_array_size(types); i++) {
		t = json_string_value(json_array_get(types, i));
		if (strcmp(t, "all") == 0 && json_array_size(types) > 1)
			rc = err_set(err, "%s[%zu]: \"all\": expected [\"all\"] "
			    "alone, or a list of types without it", field, i);
		else if (strcmp(t, "all") != 0 && !policy_applies(p, t))
			rc = err_set(err, "%s[%zu]: \"%s\": expected all or a "
			    "type the policy (POLICY_PATH=%s) covers: all%s",
			    field, i, t, path, covered);
	}
	policy_free(p);
	return rc;
}

int
tool_check_scope(const struct tool_call *c, const char *types_field,
    const json_t *types, const char *regions_field, const json_t *regions,
    struct errbuf *err)
{
	const struct config *cfg = c->tools->cfg;
	char allowed[512] = "";
	const char *r;
	size_t i, j;

	if (scope_types(c, types_field, types, err) == -1)
		return -1;
	if (cfg->nallowed_regions == 0)
		return 0;
	for (j = 0; j < cfg->nallowed_regions; j++)
		snprintf(allowed + strlen(allowed), sizeof(allowed) -
		    strlen(allowed), "%s%s", j > 0 ? ", " : "",
		    cfg->allowed_regions[j]);
	for (i = 0; i < json_array_size(regions); i++) {
		r = json_string_value(json_array_get(regions, i));
		for (j = 0; j < cfg->nallowed_regions; j++)
			if (strcmp(cfg->allowed_regions[j], r) == 0)
				break;
		if (j == cfg->nallowed_regions)
			return err_set(err, "%s[%zu]: \"%s\": expected a region "
			    "of ALLOWED_REGIONS: %s", regions_field, i, r,
			    allowed);
	}
	return 0;
}

const char **
tool_strings(const json_t *array, size_t *n)
{
	const char **v;
	size_t i;

	*n = json_array_size(array);
	v = xcalloc(*n + 1, sizeof(*v));
	for (i = 0; i < *n; i++)
		v[i] = json_string_value(json_array_get(array, i));
	return v;
}

/* --- scans for a call --- */

/* Credentials are resolved once, by the first call that scans. */
static struct scan_engine *
tools_engine(struct tools *t, struct errbuf *err)
{
	struct aws_creds *creds;

	if (t->eng != NULL)
		return t->eng;
	if (creds_resolve_chain(t->http, &creds, err) == -1) {
		err_prefix(err, "AWS credentials: ");
		return NULL;
	}
	t->eng = scan_engine_new(t->base, t->cfg, creds, t->store,
	    t->worker_path);
	creds_free(creds);
	return t->eng;
}

static void
tool_scan_progress(struct scan *scan, const struct scan_progress *p,
    void *arg)
{
	struct tool_scan *ts = arg, *s;
	struct tool_call *c = ts->call;
	size_t done = 0, total = 0;
	long long resources = 0;
	char msg[128];

	(void)scan;
	ts->done = p->accounts_done;
	ts->total = p->accounts_total;
	ts->resources = p->resources;
	TAILQ_FOREACH(s, &c->scans, entry) {
		done += s->done;
		total += s->total;
		resources += s->resources;
	}
	snprintf(msg, sizeof(msg), "%zu of %zu account scans done, %lld "
	    "resources", done, total, resources);
	if (total > 0)
		mcp_progress(c->req, (double)done, (double)total, msg);
}

static void
tool_scan_finished(struct scan *scan, enum scan_outcome outcome,
    const char *error, const struct result *res, void *arg)
{
	struct tool_scan *ts = arg;
	struct tool_scan_done d;

	d.outcome = outcome;
	d.error = error;
	d.result = res;
	d.scan_id = scan_history_id(scan);
	d.cost = scan_cost_run(scan);
	d.arg = ts->arg;
	ts->finished = 1;
	/* The callback may end the call, which frees ts: touch it no more. */
	ts->cb(ts->call, &d);
}

struct scan *
tool_scan(struct tool_call *c, const struct scan_request *req,
    void (*done)(struct tool_call *, const struct tool_scan_done *),
    void *arg, struct errbuf *err)
{
	static const struct scan_callbacks cb = {
		tool_scan_progress, tool_scan_finished
	};
	struct scan_engine *eng;
	struct tool_scan *ts;

	if ((eng = tools_engine(c->tools, err)) == NULL)
		return NULL;
	ts = xcalloc(1, sizeof(*ts));
	ts->call = c;
	ts->cb = done;
	ts->arg = arg;
	/* Listed first: scan_start may report progress before it returns. */
	TAILQ_INSERT_TAIL(&c->scans, ts, entry);
	if ((ts->scan = scan_start(eng, req, &cb, ts, err)) == NULL) {
		TAILQ_REMOVE(&c->scans, ts, entry);
		free(ts);
		return NULL;
	}
	return ts->scan;
}
