// SPDX-License-Identifier: MIT
/*
 * The daemon's task store (daemon/taskstore.c): tasks saved in the state
 * directory come back after a restart, those left running as
 * "interrupted"; ids keep growing; one daemon per directory; files that
 * are not task files are skipped.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "daemon/daemon_int.h"

static int setup(void **state)
{
	char *dir = strdup("/tmp/test_taskstore.XXXXXX");

	assert_non_null(dir);
	assert_non_null(mkdtemp(dir));
	*state = dir;
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", (char *)*state);
	assert_int_equal(system(cmd), 0);
	free(*state);
	return 0;
}

static struct dt_taskstore *open_store(const char *dir)
{
	struct dt_taskstore *s = NULL;
	char err[256];

	assert_int_equal(dt_taskstore_open(&s, dir, err, sizeof(err)), 0);
	return s;
}

static struct dt_stored_task *add(struct dt_taskstore *s,
				  enum dt_task_state st, const char *reason)
{
	struct dt_task_info info = {
		.id = dt_taskstore_next_id(s),
		.state = st,
		.started_ns = 111,
		.exchanges = 5,
		.bytes_written = 1234,
		.drops = { .gaps = 2, .sampled_out = 3 },
	};
	json_t *spec = json_pack("{s[s] ss}", "server", "port:80",
				 "output", "/tmp/x.dts");

	snprintf(info.reason, sizeof(info.reason), "%s", reason);
	return dt_taskstore_add(s, spec, "/tmp/x.dts", 1000, &info);
}

static void test_restart_interrupts_running(void **state)
{
	const char *dir = *state;
	struct dt_taskstore *s = open_store(dir);
	struct dt_stored_task *t;

	assert_int_equal(dt_taskstore_next_id(s), 1);
	assert_non_null(add(s, DT_TASK_DONE, "count"));
	assert_non_null(add(s, DT_TASK_RUNNING, ""));
	assert_int_equal(dt_taskstore_next_id(s), 3);
	dt_taskstore_free(s);

	s = open_store(dir);
	assert_int_equal(dt_taskstore_next_id(s), 3);
	t = dt_taskstore_tasks(s);
	assert_non_null(t);
	assert_int_equal(t->id, 2);
	assert_int_equal(t->info.state, DT_TASK_INTERRUPTED);
	assert_string_equal(t->info.reason, "daemon restarted");
	assert_true(t->info.ended_ns > 0);
	assert_int_equal(t->info.exchanges, 5);
	assert_int_equal(t->info.drops.sampled_out, 3);
	assert_int_equal(t->owner_uid, 1000);
	t = t->next;
	assert_non_null(t);
	assert_int_equal(t->id, 1);
	assert_int_equal(t->info.state, DT_TASK_DONE);
	assert_string_equal(t->info.reason, "count");
	assert_null(t->next);
	assert_ptr_equal(dt_taskstore_find(s, 1), t);
	assert_null(dt_taskstore_find(s, 3));
	dt_taskstore_free(s);
}

static void test_one_daemon_per_directory(void **state)
{
	struct dt_taskstore *s = open_store(*state), *s2 = NULL;
	char err[256];

	assert_int_equal(dt_taskstore_open(&s2, *state, err, sizeof(err)),
			 -EBUSY);
	assert_non_null(strstr(err, "another daemon"));
	dt_taskstore_free(s);
}

static void write_file(const char *dir, const char *name, const char *text)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/tasks/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void test_skips_foreign_files(void **state)
{
	struct dt_taskstore *s = open_store(*state);

	dt_taskstore_free(s);
	write_file(*state, "7.json", "{\"id\": \"seven\"");
	write_file(*state, "8.json", "[1, 2]");
	write_file(*state, "9.json", "{\"id\":9,\"state\":\"bogus\","
		   "\"reason\":\"\",\"output\":\"/x\",\"spec\":{}}");
	write_file(*state, "notes.txt", "hello");
	s = open_store(*state);
	assert_null(dt_taskstore_tasks(s));
	assert_int_equal(dt_taskstore_next_id(s), 1);
	dt_taskstore_free(s);
}

static void test_task_json(void **state)
{
	struct dt_taskstore *s = open_store(*state);
	struct dt_stored_task *t = add(s, DT_TASK_FAILED, "disk full");
	json_t *o = dt_stored_task_json(t);

	assert_non_null(o);
	assert_int_equal(json_integer_value(json_object_get(o, "id")), 1);
	assert_string_equal(json_string_value(json_object_get(o, "state")),
			    "failed");
	assert_string_equal(json_string_value(json_object_get(o, "reason")),
			    "disk full");
	assert_int_equal(json_integer_value(json_object_get(o,
							    "bytes_written")),
			 1234);
	assert_int_equal(json_integer_value(json_object_get(
				 json_object_get(o, "drops"), "gaps")), 2);
	assert_true(json_is_object(json_object_get(o, "spec")));
	json_decref(o);
	dt_taskstore_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_restart_interrupts_running,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_one_daemon_per_directory,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_skips_foreign_files,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_task_json, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
