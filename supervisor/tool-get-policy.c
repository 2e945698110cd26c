/*
 * get_tagging_policy: the policy at POLICY_PATH as the scans read it (the
 * file is loaded at each call, as each scan loads it), its path and hash,
 * the resource types its rules name, and which of the types tagwarden
 * scans it covers.
 */
#include <stdlib.h>

#include <jansson.h>

#include "config.h"
#include "policy.h"
#include "tools.h"

static const char policy_input[] = "{"
    "\"type\": \"object\","
    "\"properties\": {},"
    "\"additionalProperties\": false"
    "}";

static const char policy_output[] = "{"
    "\"type\": \"object\","
    "\"required\": [\"policy\", \"path\", \"hash\", \"resource_types\","
    " \"scanned_resource_types\", \"required_tag_count\","
    " \"optional_tag_count\"],"
    "\"properties\": {"
    " \"policy\": {\"type\": \"object\","
    "  \"required\": [\"required_tags\", \"optional_tags\"],"
    "  \"properties\": {"
    "   \"required_tags\": {\"type\": \"array\"},"
    "   \"optional_tags\": {\"type\": \"array\"}}},"
    " \"path\": {\"type\": \"string\"},"
    " \"hash\": {\"type\": \"string\"},"
    " \"resource_types\": {\"type\": \"array\", \"items\": {\"type\": "
    "\"string\"}},"
    " \"scanned_resource_types\": {\"type\": \"array\", \"items\": "
    "{\"type\": \"string\"}},"
    " \"required_tag_count\": {\"type\": \"integer\"},"
    " \"optional_tag_count\": {\"type\": \"integer\"}"
    "}}";

static void
policy_handler(struct tool_call *c)
{
	const char *path = tool_config(c)->policy_path;
	struct policy_errors perr = { NULL, 0 };
	const char *const *types;
	struct policy *p = NULL;
	json_t *listed, *scanned;
	size_t i, n;

	if (policy_load(path, &p, &perr) == -1) {
		tool_fail(c, "POLICY_PATH=%s: %s%s; tagwarden policy check %s "
		    "lists every problem", path, perr.count > 0 ? perr.lines[0] :
		    "cannot load the policy", perr.count > 1 ? " (and more)" : "",
		    path);
		policy_errors_free(&perr);
		return;
	}
	policy_errors_free(&perr);
	listed = json_array();
	n = policy_resource_types(p, &types);
	for (i = 0; i < n; i++)
		json_array_append_new(listed, json_string(types[i]));
	scanned = json_array();
	for (i = 0; i < tool_nresource_types; i++)
		if (policy_applies(p, tool_resource_types[i]))
			json_array_append_new(scanned,
			    json_string(tool_resource_types[i]));
	tool_done(c, json_pack("{s:o, s:s, s:s, s:o, s:o, s:I, s:I}",
	    "policy", policy_json(p), "path", path, "hash", policy_hash(p),
	    "resource_types", listed, "scanned_resource_types", scanned,
	    "required_tag_count", (json_int_t)policy_required_count(p),
	    "optional_tag_count", (json_int_t)policy_optional_count(p)));
	policy_free(p);
}

const struct tool tool_get_tagging_policy = {
	"get_tagging_policy",
	"Get the tagging policy",
	"Return the tagging policy in force: required and optional tags with "
	"their rules, the file path and SHA-256 hash, and the resource types "
	"it applies to.",
	policy_input,
	policy_output,
	policy_handler,
};
