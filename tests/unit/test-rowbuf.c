/*
 * supervisor/rowbuf.c: rows of values packed into one buffer, read back
 * by binding them to a real SQLite statement (SELECT ?1, ?2, ...) and
 * looking at what SQLite received.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include <sqlite3.h>

#include "rowbuf.h"

struct fixture {
	sqlite3		*db;
	sqlite3_stmt	*select4;	/* SELECT ?1, ?2, ?3, ?4 */
};

static int
setup(void **state)
{
	static struct fixture f;

	assert_int_equal(sqlite3_open(":memory:", &f.db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(f.db, "SELECT ?1, ?2, ?3, ?4",
	    -1, &f.select4, NULL), SQLITE_OK);
	*state = &f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	sqlite3_finalize(f->select4);
	sqlite3_close(f->db);
	return 0;
}

/* Bind n values at *pos to ?1.. and step; the row is then readable. */
static void
bind_row(struct fixture *f, const struct rowbuf *rb, size_t *pos, int n)
{
	sqlite3_reset(f->select4);
	sqlite3_clear_bindings(f->select4);
	rowbuf_bind(rb, pos, f->select4, 1, n);
	assert_int_equal(sqlite3_step(f->select4), SQLITE_ROW);
}

static void
test_rowbuf_round_trip(void **state)
{
	struct fixture *f = *state;
	struct rowbuf *rb = rowbuf_new();
	static const char embedded[] = { 'a', '\0', 'b' };
	size_t pos = 0;

	rowbuf_row(rb, 7);
	rowbuf_text(rb, "arn:aws:ec2:us-east-1:1:instance/i-1");
	rowbuf_text(rb, NULL);
	rowbuf_int(rb, -42);
	rowbuf_textn(rb, embedded, sizeof(embedded));
	rowbuf_row(rb, 200);
	rowbuf_text(rb, "");
	rowbuf_int(rb, INT64_MAX);

	assert_int_equal(rowbuf_next(rb, &pos), 7);
	bind_row(f, rb, &pos, 4);
	assert_string_equal(sqlite3_column_text(f->select4, 0),
	    "arn:aws:ec2:us-east-1:1:instance/i-1");
	assert_int_equal(sqlite3_column_type(f->select4, 1), SQLITE_NULL);
	assert_int_equal(sqlite3_column_int64(f->select4, 2), -42);
	/* A length, not a terminator: the NUL inside survives. */
	assert_int_equal(sqlite3_column_bytes(f->select4, 3), 3);
	assert_memory_equal(sqlite3_column_text(f->select4, 3), embedded, 3);

	assert_int_equal(rowbuf_next(rb, &pos), 200);
	bind_row(f, rb, &pos, 2);
	assert_int_equal(sqlite3_column_type(f->select4, 0), SQLITE_TEXT);
	assert_int_equal(sqlite3_column_bytes(f->select4, 0), 0);
	assert_true(sqlite3_column_int64(f->select4, 1) == INT64_MAX);
	assert_int_equal(rowbuf_next(rb, &pos), -1);
	rowbuf_free(rb);
}

/* Re-reading from a saved position gives the same values again. */
static void
test_rowbuf_reread(void **state)
{
	struct fixture *f = *state;
	struct rowbuf *rb = rowbuf_new();
	size_t pos = 0, saved;

	rowbuf_row(rb, 1);
	rowbuf_text(rb, "us-east-1");
	rowbuf_text(rb, "i-1");
	assert_int_equal(rowbuf_next(rb, &pos), 1);
	saved = pos;
	bind_row(f, rb, &pos, 2);
	bind_row(f, rb, &saved, 1);
	assert_string_equal(sqlite3_column_text(f->select4, 0), "us-east-1");
	assert_int_equal(saved, pos - (1 + 4 + 3 + 1));
	rowbuf_free(rb);
}

/* Many rows: the buffer grows (and moves) without losing a byte. */
static void
test_rowbuf_grows(void **state)
{
	struct fixture *f = *state;
	struct rowbuf *rb = rowbuf_new();
	char text[64];
	size_t pos = 0;
	int i, kind;

	for (i = 0; i < 20000; i++) {
		snprintf(text, sizeof(text), "resource-%d", i);
		rowbuf_row(rb, i % 2);
		rowbuf_text(rb, text);
		rowbuf_int(rb, i);
	}
	for (i = 0; (kind = rowbuf_next(rb, &pos)) != -1; i++) {
		assert_int_equal(kind, i % 2);
		bind_row(f, rb, &pos, 2);
		snprintf(text, sizeof(text), "resource-%d", i);
		assert_string_equal(sqlite3_column_text(f->select4, 0), text);
		assert_int_equal(sqlite3_column_int(f->select4, 1), i);
	}
	assert_int_equal(i, 20000);
	rowbuf_free(rb);
}

/* Values read directly, and a row copied into another buffer. */
static void
test_rowbuf_value_and_copy(void **state)
{
	struct rowbuf *src = rowbuf_new(), *dst = rowbuf_new();
	struct rowbuf_value v;
	size_t pos = 0;

	(void)state;
	rowbuf_row(src, 3);
	rowbuf_text(src, NULL);
	rowbuf_int(src, 9);
	rowbuf_text(src, "tag \"Owner\" is missing");
	rowbuf_row(src, 5);
	rowbuf_text(src, "skipped");
	rowbuf_int(src, 1);
	assert_int_equal(rowbuf_next(src, &pos), 3);
	rowbuf_copy_row(dst, 4, src, &pos, 3);
	assert_int_equal(rowbuf_next(src, &pos), 5);
	rowbuf_skip(src, &pos, 2);
	assert_int_equal(rowbuf_next(src, &pos), -1);

	pos = 0;
	assert_int_equal(rowbuf_next(dst, &pos), 4);
	rowbuf_value(dst, &pos, &v);
	assert_null(v.text);
	assert_false(v.is_int);
	rowbuf_value(dst, &pos, &v);
	assert_true(v.is_int);
	assert_int_equal(v.num, 9);
	rowbuf_value(dst, &pos, &v);
	assert_int_equal(v.len, strlen("tag \"Owner\" is missing"));
	assert_string_equal(v.text, "tag \"Owner\" is missing");
	assert_int_equal(rowbuf_next(dst, &pos), -1);
	rowbuf_free(src);
	rowbuf_free(dst);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rowbuf_round_trip),
		cmocka_unit_test(test_rowbuf_reread),
		cmocka_unit_test(test_rowbuf_grows),
		cmocka_unit_test(test_rowbuf_value_and_copy),
	};

	return cmocka_run_group_tests_name("rowbuf", tests, setup, teardown);
}
