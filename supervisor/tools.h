/*
 * The MCP tools: tool_table[] (one row per tool, each implemented in
 * supervisor/tool-<name>.c), argument checking against each row's
 * inputSchema, and what every tool shares: the answer (structuredContent
 * plus the same JSON as one text item, or an isError text), the scan
 * engine, scans run on behalf of a call with progress and cancellation.
 */
#ifndef TOOLS_H
#define TOOLS_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "scan.h"

struct config;
struct cost_run;
struct errbuf;
struct event_base;
struct mcp;
struct mcp_request;
struct result;
struct store;
struct tool_call;
struct tools;

/*
 * Most violations (or resources) one tool answer lists; the answer says
 * when it stopped there and gives the full count. Every row stays in
 * the history database (the answer's scan_id names the scan).
 */
#define TOOL_MAX_LIST		100

/* One row of tool_table[]. Schemas are JSON text, parsed once at start. */
struct tool {
	const char	*name;
	const char	*title;
	const char	*description;
	const char	*input_schema;
	const char	*output_schema;
	/*
	 * Arguments are valid against input_schema. Answer with tool_done
	 * or tool_fail, now or later (after scans).
	 */
	void		(*handler)(struct tool_call *);
};

/*
 * The resource types a scan collects, as scan.c's scan_types[] and
 * worker/services.c list them (and the schemas' enums repeat them).
 */
extern const char *const tool_resource_types[];
extern const size_t tool_nresource_types;

extern const struct tool tool_check_tag_compliance;
extern const struct tool tool_find_untagged_resources;
extern const struct tool tool_validate_resource_tags;
extern const struct tool tool_get_tagging_policy;
extern const struct tool tool_get_violation_history;
extern const struct tool tool_get_cost_attribution_gap;

/* store: the history (borrowed, required); worker_path is copied. */
struct tools *tools_new(struct event_base *, const struct config *,
	    struct store *, const char *worker_path);
/* After mcp_free: every call has ended or been abandoned. */
void	tools_free(struct tools *);
/* The tools array of a tools/list answer, shaped for the agreed revision. */
json_t	*tools_list(struct tools *, const struct mcp *);
/* Start a tool; -1 (nothing answered) when no tool has that name. */
int	tools_call(struct tools *, struct mcp_request *, const char *name,
	    const json_t *arguments);
/* The row of a tool, or NULL. */
const struct tool *tools_find(const char *name);
/* Every row checked: schemas parse and use only what jschema knows. */
int	tools_check_table(struct errbuf *);

/* --- for tool-*.c --- */

/* The arguments (an object, {} when none were sent). */
const json_t *tool_args(const struct tool_call *);
const struct config *tool_config(const struct tool_call *);
struct store *tool_store(const struct tool_call *);

/* Per-call state, freed with free_fn when the call ends in any way. */
void	tool_set_state(struct tool_call *, void *, void (*free_fn)(void *));
void	*tool_state(const struct tool_call *);

/* Answer with structured (stolen) and end the call. */
void	tool_done(struct tool_call *, json_t *structured);
/* Answer with an isError text and end the call. */
void	tool_fail(struct tool_call *, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));

/*
 * account_ids given while MULTI_ACCOUNT_ENABLED is false: -1 with err
 * saying how to enable it. NULL or an empty array is fine.
 */
int	tool_check_accounts(const struct tool_call *, const json_t *ids,
	    struct errbuf *);
/*
 * The scope a scan would refuse, named by the argument that asked for it:
 * a resource type the policy at POLICY_PATH does not cover (or a policy
 * that does not load), a region outside ALLOWED_REGIONS. types_field and
 * regions_field name the arguments ("resource_types", "filters.regions").
 */
int	tool_check_scope(const struct tool_call *, const char *types_field,
	    const json_t *types, const char *regions_field,
	    const json_t *regions, struct errbuf *);
/* Borrowed strings of a JSON array; free the array only. */
const char **tool_strings(const json_t *array, size_t *n);

/*
 * A scan for this call: progress reaches the client (summed over the
 * call's scans), cancellation reaches the scan. done runs once from the
 * event loop; the scan and its result stay valid until the call ends.
 * NULL with err when scan_start refuses the request.
 */
struct tool_scan_done {
	enum scan_outcome	 outcome;
	const char		*error;
	const struct result	*result;
	int64_t			 scan_id;	/* 0: not recorded */
	const struct cost_run	*cost;		/* NULL: no cost phase */
	void			*arg;
};

struct scan *tool_scan(struct tool_call *, const struct scan_request *,
	    void (*done)(struct tool_call *, const struct tool_scan_done *),
	    void *arg, struct errbuf *);

#endif
