-- Resource types by non-compliance in the latest scan, worst first.
--   sqlite3 "$HISTORY_DB_PATH" < sql/queries/worst-types.sql
SELECT resource_type, resources, noncompliant,
    printf('%.4f', noncompliance_rate), violations
FROM worst_resource_types;
