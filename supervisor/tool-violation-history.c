/*
 * get_violation_history: compliance over time from the history database,
 * no AWS call. Per period (UTC day, week from Monday, or month) each
 * account counts once, with its last successful result of that period (as
 * the daily_compliance_trend view does), so repeated scans do not count
 * the same resources twice. The trend compares the first and the last
 * period's scores: a change of more than HISTORY_TREND_THRESHOLD (one
 * percentage point) either way is improving or worsening, anything
 * smaller (or fewer than two periods) is stable.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sqlite3.h>

#include "errbuf.h"
#include "result.h"
#include "store.h"
#include "tools.h"

#define HISTORY_TREND_THRESHOLD	0.01

static const char history_input[] = "{"
    "\"type\": \"object\","
    "\"properties\": {"
    " \"days_back\": {\"type\": \"integer\", \"minimum\": 1, \"maximum\": 90,"
    "  \"default\": 30, \"description\": \"How many days of history, up "
    "to now.\"},"
    " \"group_by\": {\"type\": \"string\", \"enum\": [\"day\", \"week\", "
    "\"month\"], \"default\": \"day\", \"description\": \"Period of each "
    "data point (UTC; weeks start on Monday).\"},"
    " \"account_id\": {\"type\": \"string\", \"pattern\": \"^[0-9]{12}$\","
    "  \"description\": \"Only this account (default: every account in the "
    "history).\"}"
    "},"
    "\"additionalProperties\": false"
    "}";

static const char history_output[] = "{"
    "\"type\": \"object\","
    "\"required\": [\"days_back\", \"group_by\", \"account_id\", "
    "\"periods\", \"trend\"],"
    "\"properties\": {"
    " \"days_back\": {\"type\": \"integer\"},"
    " \"group_by\": {\"type\": \"string\"},"
    " \"account_id\": {\"type\": [\"string\", \"null\"]},"
    " \"periods\": {\"type\": \"array\", \"items\": {\"type\": \"object\","
    "  \"required\": [\"period_start\", \"accounts\", \"scans\","
    "   \"total_resources\", \"compliant_resources\", \"violation_count\","
    "   \"compliance_score\", \"violations_by_type\"],"
    "  \"properties\": {"
    "   \"period_start\": {\"type\": \"string\"},"
    "   \"accounts\": {\"type\": \"integer\"},"
    "   \"scans\": {\"type\": \"integer\"},"
    "   \"total_resources\": {\"type\": \"integer\"},"
    "   \"compliant_resources\": {\"type\": \"integer\"},"
    "   \"violation_count\": {\"type\": \"integer\"},"
    "   \"compliance_score\": {\"type\": \"number\"},"
    "   \"violations_by_type\": {\"type\": \"object\"}}}},"
    " \"trend\": {\"type\": \"object\","
    "  \"required\": [\"direction\", \"first_score\", \"last_score\","
    "   \"change\", \"threshold\", \"periods_compared\"],"
    "  \"properties\": {"
    "   \"direction\": {\"type\": \"string\", \"enum\": [\"improving\","
    "    \"worsening\", \"stable\"]},"
    "   \"first_score\": {\"type\": [\"number\", \"null\"]},"
    "   \"last_score\": {\"type\": [\"number\", \"null\"]},"
    "   \"change\": {\"type\": [\"number\", \"null\"]},"
    "   \"threshold\": {\"type\": \"number\"},"
    "   \"periods_compared\": {\"type\": \"integer\"}}}"
    "}}";

/*
 * ?1 the window ("-30 days"), ?2 day|week|month, ?3 an account or NULL.
 * Violations by type are counted over the same chosen account results.
 */
static const char history_sql[] =
    "WITH chosen AS ("
    " SELECT a.account_id, a.scan_id, a.total_resources,"
    "  a.compliant_resources, a.violation_count,"
    "  CASE ?2 WHEN 'day' THEN date(a.finished_at)"
    "   WHEN 'week' THEN date(a.finished_at, '-6 days', 'weekday 1')"
    "   ELSE strftime('%Y-%m-01', a.finished_at) END AS period,"
    "  row_number() OVER (PARTITION BY (CASE ?2"
    "   WHEN 'day' THEN date(a.finished_at)"
    "   WHEN 'week' THEN date(a.finished_at, '-6 days', 'weekday 1')"
    "   ELSE strftime('%Y-%m-01', a.finished_at) END), a.account_id"
    "   ORDER BY a.finished_at DESC, a.scan_id DESC) AS n"
    " FROM account_results AS a"
    " WHERE a.status = 'ok'"
    "  AND a.finished_at >= strftime('%Y-%m-%dT%H:%M:%SZ', 'now', ?1)"
    "  AND (?3 IS NULL OR a.account_id = ?3))"
    "SELECT c.period, count(*), count(DISTINCT c.scan_id),"
    " sum(c.total_resources), sum(c.compliant_resources),"
    " sum(c.violation_count),"
    " sum((SELECT count(*) FROM violations AS v WHERE v.scan_id = c.scan_id"
    "  AND v.account_id = c.account_id"
    "  AND v.violation_type = 'missing_required_tag')),"
    " sum((SELECT count(*) FROM violations AS v WHERE v.scan_id = c.scan_id"
    "  AND v.account_id = c.account_id"
    "  AND v.violation_type = 'invalid_value')),"
    " sum((SELECT count(*) FROM violations AS v WHERE v.scan_id = c.scan_id"
    "  AND v.account_id = c.account_id"
    "  AND v.violation_type = 'invalid_format'))"
    " FROM chosen AS c WHERE c.n = 1 GROUP BY c.period ORDER BY c.period";

static json_t *
history_period(sqlite3_stmt *st)
{
	long long total = sqlite3_column_int64(st, 3);
	long long compliant = sqlite3_column_int64(st, 4);

	return json_pack("{s:s, s:I, s:I, s:I, s:I, s:I, s:f, "
	    "s:{s:I, s:I, s:I}}",
	    "period_start", (const char *)sqlite3_column_text(st, 0),
	    "accounts", (json_int_t)sqlite3_column_int64(st, 1),
	    "scans", (json_int_t)sqlite3_column_int64(st, 2),
	    "total_resources", (json_int_t)total,
	    "compliant_resources", (json_int_t)compliant,
	    "violation_count", (json_int_t)sqlite3_column_int64(st, 5),
	    "compliance_score", result_score(compliant, total),
	    "violations_by_type",
	    "missing_required_tag", (json_int_t)sqlite3_column_int64(st, 6),
	    "invalid_value", (json_int_t)sqlite3_column_int64(st, 7),
	    "invalid_format", (json_int_t)sqlite3_column_int64(st, 8));
}

static int
history_query(struct store *store, int days, const char *group,
    const char *account, json_t *periods, struct errbuf *err)
{
	sqlite3 *db = store_sqlite(store);
	sqlite3_stmt *st = NULL;
	char window[32];
	int rc;

	snprintf(window, sizeof(window), "-%d days", days);
	if (sqlite3_prepare_v2(db, history_sql, -1, &st, NULL) != SQLITE_OK ||
	    sqlite3_bind_text(st, 1, window, -1, SQLITE_TRANSIENT) !=
	    SQLITE_OK || sqlite3_bind_text(st, 2, group, -1,
	    SQLITE_TRANSIENT) != SQLITE_OK || (account != NULL ?
	    sqlite3_bind_text(st, 3, account, -1, SQLITE_TRANSIENT) :
	    sqlite3_bind_null(st, 3)) != SQLITE_OK) {
		err_set(err, "history database: %s", sqlite3_errmsg(db));
		sqlite3_finalize(st);
		return -1;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		json_array_append_new(periods, history_period(st));
	if (rc != SQLITE_DONE)
		err_set(err, "history database: %s", sqlite3_errmsg(db));
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

static json_t *
history_trend(const json_t *periods)
{
	size_t n = json_array_size(periods);
	double first, last, change;
	const char *direction = "stable";

	if (n == 0)
		return json_pack("{s:s, s:n, s:n, s:n, s:f, s:i}", "direction",
		    direction, "first_score", "last_score", "change",
		    "threshold", HISTORY_TREND_THRESHOLD, "periods_compared", 0);
	first = json_real_value(json_object_get(json_array_get(periods, 0),
	    "compliance_score"));
	last = json_real_value(json_object_get(json_array_get(periods, n - 1),
	    "compliance_score"));
	change = last - first;
	if (n >= 2 && change > HISTORY_TREND_THRESHOLD)
		direction = "improving";
	else if (n >= 2 && change < -HISTORY_TREND_THRESHOLD)
		direction = "worsening";
	return json_pack("{s:s, s:f, s:f, s:f, s:f, s:i}", "direction",
	    direction, "first_score", first, "last_score", last, "change",
	    change, "threshold", HISTORY_TREND_THRESHOLD, "periods_compared",
	    n >= 2 ? 2 : (int)n);
}

static void
history_handler(struct tool_call *c)
{
	const json_t *args = tool_args(c);
	const json_t *days = json_object_get(args, "days_back");
	const json_t *group = json_object_get(args, "group_by");
	const json_t *account = json_object_get(args, "account_id");
	json_t *periods = json_array();
	struct errbuf err;
	const char *g = group != NULL ? json_string_value(group) : "day";
	int d = days != NULL ? (int)json_integer_value(days) : 30;

	if (history_query(tool_store(c), d, g, json_string_value(account),
	    periods, &err) == -1) {
		json_decref(periods);
		tool_fail(c, "%s", err.msg);
		return;
	}
	tool_done(c, json_pack("{s:i, s:s, s:O, s:o, s:o}", "days_back", d,
	    "group_by", g, "account_id", account != NULL ? account :
	    json_null(), "periods", periods, "trend", history_trend(periods)));
}

const struct tool tool_get_violation_history = {
	"get_violation_history",
	"Get violation history",
	"Return compliance score, resource and violation counts per day, week "
	"or month from past scans in the history database, and whether the "
	"trend is improving, worsening or stable.",
	history_input,
	history_output,
	history_handler,
};
