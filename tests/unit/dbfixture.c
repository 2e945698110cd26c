#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <cmocka.h>

#include <sqlite3.h>

#include "dbfixture.h"
#include "errbuf.h"
#include "store.h"

int
db_fixture_setup(void **state, const char *prefix, const char *relpath)
{
	struct db_fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	assert_true((size_t)snprintf(f->dir, sizeof(f->dir),
	    "/tmp/%s-XXXXXX", prefix) < sizeof(f->dir));
	assert_non_null(mkdtemp(f->dir));
	assert_true((size_t)snprintf(f->path, sizeof(f->path), "%s/%s",
	    f->dir, relpath) < sizeof(f->path));
	*state = f;
	return 0;
}

int
db_fixture_teardown(void **state)
{
	struct db_fixture *f = *state;
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

struct store *
db_open(const char *path)
{
	struct errbuf err;
	struct store *st = store_open(path, &err);

	if (st == NULL)
		fail_msg("store_open: %s", err.msg);
	return st;
}

long long
db_int(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *s;
	long long v;

	if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK)
		fail_msg("%s: %s", sql, sqlite3_errmsg(db));
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return v;
}
