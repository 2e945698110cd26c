/*
 * For the drivers that test code on a real history database (test-store,
 * test-costdb): a fresh temporary directory per test, removed after it,
 * opening the store, and one integer from a query.
 */
#ifndef DBFIXTURE_H
#define DBFIXTURE_H

struct sqlite3;
struct store;

struct db_fixture {
	char	 dir[64];
	char	 path[128];	/* the database: dir/relpath */
};

/* cmocka setup/teardown bodies; prefix names the directory in /tmp. */
int	db_fixture_setup(void **state, const char *prefix,
	    const char *relpath);
int	db_fixture_teardown(void **state);

/* store_open that fails the test with the store's error. */
struct store *db_open(const char *path);
/* The first column of the first row of sql, which must have one. */
long long db_int(struct sqlite3 *, const char *sql);

#endif
