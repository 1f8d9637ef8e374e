// SPDX-License-Identifier: MIT
/*
 * Unit tests of the MySQL replay's parameter binding: the codec's text
 * renderings of recorded COM_STMT_EXECUTE parameters turned back into the
 * values and types libmariadb sends.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "replayer/mysql_int.h"

static void test_parse_time(void **state)
{
	MYSQL_TIME t;

	(void)state;
	assert_int_equal(rp_mysql_parse_time("2024-02-29", DT_MYSQL_TYPE_DATE,
					     &t), 0);
	assert_int_equal(t.time_type, MYSQL_TIMESTAMP_DATE);
	assert_int_equal(t.year, 2024);
	assert_int_equal(t.month, 2);
	assert_int_equal(t.day, 29);

	assert_int_equal(rp_mysql_parse_time("1999-12-31 23:59:58.000123",
					     DT_MYSQL_TYPE_DATETIME, &t), 0);
	assert_int_equal(t.time_type, MYSQL_TIMESTAMP_DATETIME);
	assert_int_equal(t.hour, 23);
	assert_int_equal(t.minute, 59);
	assert_int_equal(t.second, 58);
	assert_int_equal(t.second_part, 123);

	assert_int_equal(rp_mysql_parse_time("2000-01-01 00:00:00.5",
					     DT_MYSQL_TYPE_TIMESTAMP, &t), 0);
	assert_int_equal(t.second_part, 500000);

	/* hours include the days */
	assert_int_equal(rp_mysql_parse_time("-838:59:59.000001",
					     DT_MYSQL_TYPE_TIME, &t), 0);
	assert_int_equal(t.time_type, MYSQL_TIMESTAMP_TIME);
	assert_true(t.neg);
	assert_int_equal(t.day, 34);
	assert_int_equal(t.hour, 22);
	assert_int_equal(t.minute, 59);
	assert_int_equal(t.second_part, 1);

	assert_int_equal(rp_mysql_parse_time("", DT_MYSQL_TYPE_DATE, &t),
			 -EINVAL);
	assert_int_equal(rp_mysql_parse_time("2024-01-01 10:00",
					     DT_MYSQL_TYPE_DATETIME, &t),
			 -EINVAL);
	assert_int_equal(rp_mysql_parse_time("2024-01-01x",
					     DT_MYSQL_TYPE_DATE, &t), -EINVAL);
	assert_int_equal(rp_mysql_parse_time("10:00:00.1234567",
					     DT_MYSQL_TYPE_TIME, &t), -EINVAL);
	assert_int_equal(rp_mysql_parse_time("10:00:00.", DT_MYSQL_TYPE_TIME,
					     &t), -EINVAL);
}

static void set_value(struct dt_mysql_value *v, uint8_t type,
		      bool is_unsigned, const char *text)
{
	memset(v, 0, sizeof(*v));
	v->type = type;
	v->is_unsigned = is_unsigned;
	if (!text) {
		v->is_null = true;
		return;
	}
	v->text = strdup(text);
	assert_non_null(v->text);
	v->len = strlen(text);
}

#define NPARAMS 10

static void test_bind(void **state)
{
	struct dt_mysql_value v[NPARAMS];
	struct dt_mysql_request rq = { .params = v, .nparams = NPARAMS,
				       .nparams_kept = NPARAMS,
				       .params_decoded = true };
	struct rp_mysql_params p;
	MYSQL_BIND *b;
	MYSQL_TIME *t;

	(void)state;
	set_value(&v[0], DT_MYSQL_TYPE_TINY, false, "-5");
	set_value(&v[1], DT_MYSQL_TYPE_SHORT, true, "65535");
	set_value(&v[2], DT_MYSQL_TYPE_LONG, false, "-2147483648");
	set_value(&v[3], DT_MYSQL_TYPE_LONGLONG, true,
		  "18446744073709551615");
	set_value(&v[4], DT_MYSQL_TYPE_DOUBLE, false, "0.1");
	set_value(&v[5], DT_MYSQL_TYPE_FLOAT, false, "3.25");
	set_value(&v[6], DT_MYSQL_TYPE_DATETIME, false,
		  "2020-05-06 07:08:09.5");
	set_value(&v[7], DT_MYSQL_TYPE_VAR_STRING, false, "h\xc3\xa9llo");
	set_value(&v[8], DT_MYSQL_TYPE_LONG, false, NULL);
	/* an ENUM goes as a string; a number that does not parse too */
	set_value(&v[9], DT_MYSQL_TYPE_ENUM, false, "red");
	assert_int_equal(rp_mysql_params_bind(&p, &rq), 0);
	assert_int_equal(p.n, NPARAMS);
	b = p.binds;

	assert_int_equal(b[0].buffer_type, MYSQL_TYPE_TINY);
	assert_int_equal(*(signed char *)b[0].buffer, -5);
	assert_int_equal(b[1].buffer_type, MYSQL_TYPE_SHORT);
	assert_true(b[1].is_unsigned);
	assert_int_equal(*(unsigned short *)b[1].buffer, 65535);
	assert_int_equal(b[2].buffer_type, MYSQL_TYPE_LONG);
	assert_int_equal(*(int *)b[2].buffer, INT32_MIN);
	assert_int_equal(b[3].buffer_type, MYSQL_TYPE_LONGLONG);
	assert_true(*(unsigned long long *)b[3].buffer == UINT64_MAX);
	assert_int_equal(b[4].buffer_type, MYSQL_TYPE_DOUBLE);
	assert_true(*(double *)b[4].buffer == 0.1);
	assert_int_equal(b[5].buffer_type, MYSQL_TYPE_FLOAT);
	assert_true(*(float *)b[5].buffer == 3.25f);
	assert_int_equal(b[6].buffer_type, MYSQL_TYPE_DATETIME);
	t = b[6].buffer;
	assert_int_equal(t->year, 2020);
	assert_int_equal(t->second, 9);
	assert_int_equal(t->second_part, 500000);
	assert_int_equal(b[7].buffer_type, MYSQL_TYPE_VAR_STRING);
	assert_int_equal(*b[7].length, 6);
	assert_memory_equal(b[7].buffer, "h\xc3\xa9llo", 6);
	assert_int_equal(b[8].buffer_type, MYSQL_TYPE_NULL);
	assert_true(*b[8].is_null);
	assert_int_equal(b[9].buffer_type, MYSQL_TYPE_STRING);
	assert_int_equal(*b[9].length, 3);
	rp_mysql_params_release(&p);

	/* text that does not parse as its type goes as bytes */
	free(v[2].text);
	set_value(&v[2], DT_MYSQL_TYPE_LONG, false, "12abc");
	assert_int_equal(rp_mysql_params_bind(&p, &rq), 0);
	assert_int_equal(p.binds[2].buffer_type, MYSQL_TYPE_STRING);
	assert_int_equal(*p.binds[2].length, 5);
	rp_mysql_params_release(&p);
	for (size_t i = 0; i < NPARAMS; i++)
		free(v[i].text);
}

static void test_no_params(void **state)
{
	struct dt_mysql_request rq = { 0 };
	struct rp_mysql_params p;

	(void)state;
	assert_int_equal(rp_mysql_params_bind(&p, &rq), 0);
	assert_null(p.binds);
	assert_int_equal(p.n, 0);
	rp_mysql_params_release(&p);
}

static void test_client_errors(void **state)
{
	(void)state;
	/* CR_SERVER_LOST, CR_SERVER_GONE_ERROR: libmariadb's own */
	assert_true(rp_mysql_client_error(2013));
	assert_true(rp_mysql_client_error(2006));
	assert_true(rp_mysql_client_error(5001));
	/* ER_NO_SUCH_TABLE, ER_DUP_ENTRY: the server's answers */
	assert_false(rp_mysql_client_error(1146));
	assert_false(rp_mysql_client_error(1062));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_time),
		cmocka_unit_test(test_bind),
		cmocka_unit_test(test_no_params),
		cmocka_unit_test(test_client_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
