// SPDX-License-Identifier: MIT
/*
 * Prepared-statement client for tests/integration/test_mysql.sh: runs a
 * fixed sequence of server-side prepared statements through libmariadb's
 * statement API and prints, as JSON lines, every command it made and what
 * it saw, for check_mysql.py to compare with the recording.
 *
 *   mysql_stmt_client HOST PORT USER PASSWORD DB TABLE > OUT.jsonl
 *   mysql_stmt_client unix:SOCKET - USER PASSWORD DB TABLE > OUT.jsonl
 *
 * TABLE has the columns (i INT PRIMARY KEY, b BIGINT, d DOUBLE,
 * s VARCHAR(64), dt DATETIME(6), n INT NULL) and no rows.
 * Each line: {"command": "COM_STMT_...", ...} in the order the commands
 * went to the server (the handshake first, with the "connection_id" the
 * server gave, COM_QUIT last):
 *   prepare  "sql", then "stmt_id" and "params" (count), or "error"
 *   execute  "stmt_id", "params": [{"type", "value"}...] as bound (value
 *            rendered as text, null for NULL), then "affected_rows" or
 *            "columns" (names), "column_types" (enum_field_types codes
 *            from the result metadata) and "rows" (every row, as text)
 *   reset, close: "stmt_id"
 * Values as text: integers in decimal, doubles as the shortest text that
 * reads back the same, DATETIME "YYYY-MM-DD HH:MM:SS[.ffffff]", strings as
 * they are.
 *
 * Build: cc -std=gnu11 -Wall -Wextra -Werror -o mysql_stmt_client
 *        mysql_stmt_client.c $(mariadb_config --cflags --libs)
 */
#include <mysql.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NCOLS 6
#define TEXT_MAX 64

#define SQL_MAX 256

static const char *const BAD_SQL =
	"SELECT x FROM no_such_table WHERE x = ?";

/* One row of ps_t as bound to the INSERT's parameters. */
struct row {
	int i;
	long long b;
	double d;
	char s[TEXT_MAX];
	unsigned long s_len;
	MYSQL_TIME dt;
	int n;
	bool n_is_null;	  /* bind n as MYSQL_TYPE_NULL */
};

static void die(MYSQL *db, MYSQL_STMT *st, const char *what)
{
	fprintf(stderr, "mysql_stmt_client: %s: %s\n", what,
		st ? mysql_stmt_error(st) : mysql_error(db));
	exit(1);
}

static void json_string(const char *s, size_t n)
{
	putchar('"');
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c < 0x20)
			printf("\\u%04x", c);
		else
			putchar(c);
	}
	putchar('"');
}

/* The shortest %g rendering that reads back as the same double. */
static void format_double(char *out, size_t cap, double d)
{
	for (int prec = 1; prec <= 17; prec++) {
		snprintf(out, cap, "%.*g", prec, d);
		if (strtod(out, NULL) == d)
			return;
	}
}

static void format_datetime(char *out, size_t cap, const MYSQL_TIME *t)
{
	int n = snprintf(out, cap, "%04u-%02u-%02u %02u:%02u:%02u", t->year,
			 t->month, t->day, t->hour, t->minute, t->second);

	if (t->second_part && n > 0 && (size_t)n < cap)
		snprintf(out + n, cap - n, ".%06lu", t->second_part);
}

/* Prints one value as {"type": T, "value": V} or as V alone. */
static void print_value(const char *type, const char *text, size_t len,
			bool with_type)
{
	if (with_type) {
		printf("{\"type\":");
		json_string(type, strlen(type));
		printf(",\"value\":");
	}
	if (text)
		json_string(text, len);
	else
		printf("null");
	if (with_type)
		putchar('}');
}

static void bind_row(MYSQL_BIND *bind, struct row *r)
{
	memset(bind, 0, NCOLS * sizeof(*bind));
	bind[0].buffer_type = MYSQL_TYPE_LONG;
	bind[0].buffer = &r->i;
	bind[1].buffer_type = MYSQL_TYPE_LONGLONG;
	bind[1].buffer = &r->b;
	bind[2].buffer_type = MYSQL_TYPE_DOUBLE;
	bind[2].buffer = &r->d;
	bind[3].buffer_type = MYSQL_TYPE_VAR_STRING;
	bind[3].buffer = r->s;
	bind[3].length = &r->s_len;
	bind[4].buffer_type = MYSQL_TYPE_DATETIME;
	bind[4].buffer = &r->dt;
	bind[5].buffer_type = r->n_is_null ? MYSQL_TYPE_NULL : MYSQL_TYPE_LONG;
	bind[5].buffer = &r->n;
}

/* The parameters of an INSERT execution, as check_mysql.py expects
 * `deetune cat` to show them. */
static void print_insert_params(const struct row *r)
{
	char text[TEXT_MAX];

	printf("\"params\":[");
	snprintf(text, sizeof(text), "%d", r->i);
	print_value("LONG", text, strlen(text), true);
	putchar(',');
	snprintf(text, sizeof(text), "%lld", r->b);
	print_value("LONGLONG", text, strlen(text), true);
	putchar(',');
	format_double(text, sizeof(text), r->d);
	print_value("DOUBLE", text, strlen(text), true);
	putchar(',');
	print_value("VAR_STRING", r->s, r->s_len, true);
	putchar(',');
	format_datetime(text, sizeof(text), &r->dt);
	print_value("DATETIME", text, strlen(text), true);
	putchar(',');
	if (r->n_is_null) {
		print_value("NULL", NULL, 0, true);
	} else {
		snprintf(text, sizeof(text), "%d", r->n);
		print_value("LONG", text, strlen(text), true);
	}
	putchar(']');
}

static MYSQL_STMT *prepare(MYSQL *db, const char *sql)
{
	MYSQL_STMT *st = mysql_stmt_init(db);

	if (!st)
		die(db, NULL, "mysql_stmt_init");
	printf("{\"command\":\"COM_STMT_PREPARE\",\"sql\":");
	json_string(sql, strlen(sql));
	if (mysql_stmt_prepare(st, sql, strlen(sql))) {
		printf(",\"error\":%u}\n", mysql_stmt_errno(st));
		mysql_stmt_close(st);
		return NULL;
	}
	printf(",\"stmt_id\":%lu,\"params\":%lu}\n", st->stmt_id,
	       mysql_stmt_param_count(st));
	return st;
}

static void insert(MYSQL *db, MYSQL_STMT *st, struct row *r, bool rebind)
{
	MYSQL_BIND bind[NCOLS];

	r->s_len = strlen(r->s);
	if (rebind) {
		bind_row(bind, r);
		if (mysql_stmt_bind_param(st, bind))
			die(db, st, "bind INSERT");
	}
	printf("{\"command\":\"COM_STMT_EXECUTE\",\"stmt_id\":%lu,",
	       st->stmt_id);
	print_insert_params(r);
	if (mysql_stmt_execute(st))
		die(db, st, "execute INSERT");
	printf(",\"affected_rows\":%llu}\n",
	       (unsigned long long)mysql_stmt_affected_rows(st));
}

/* Result buffers for the SELECT's columns. */
struct out_row {
	int i;
	long long b;
	double d;
	char s[TEXT_MAX];
	unsigned long s_len;
	MYSQL_TIME dt;
	int n;
	my_bool is_null[NCOLS];
};

static void bind_out(MYSQL_BIND *bind, struct out_row *o)
{
	memset(bind, 0, NCOLS * sizeof(*bind));
	bind[0].buffer_type = MYSQL_TYPE_LONG;
	bind[0].buffer = &o->i;
	bind[1].buffer_type = MYSQL_TYPE_LONGLONG;
	bind[1].buffer = &o->b;
	bind[2].buffer_type = MYSQL_TYPE_DOUBLE;
	bind[2].buffer = &o->d;
	bind[3].buffer_type = MYSQL_TYPE_STRING;
	bind[3].buffer = o->s;
	bind[3].buffer_length = sizeof(o->s);
	bind[3].length = &o->s_len;
	bind[4].buffer_type = MYSQL_TYPE_DATETIME;
	bind[4].buffer = &o->dt;
	bind[5].buffer_type = MYSQL_TYPE_LONG;
	bind[5].buffer = &o->n;
	for (int k = 0; k < NCOLS; k++)
		bind[k].is_null = &o->is_null[k];
}

static void print_out_row(const struct out_row *o)
{
	char text[NCOLS][TEXT_MAX];
	size_t len[NCOLS];

	snprintf(text[0], TEXT_MAX, "%d", o->i);
	snprintf(text[1], TEXT_MAX, "%lld", o->b);
	format_double(text[2], TEXT_MAX, o->d);
	memcpy(text[3], o->s, o->s_len < TEXT_MAX ? o->s_len : TEXT_MAX);
	format_datetime(text[4], TEXT_MAX, &o->dt);
	snprintf(text[5], TEXT_MAX, "%d", o->n);
	for (int k = 0; k < NCOLS; k++)
		len[k] = k == 3 ? o->s_len : strlen(text[k]);
	putchar('[');
	for (int k = 0; k < NCOLS; k++) {
		if (k)
			putchar(',');
		print_value(NULL, o->is_null[k] ? NULL : text[k], len[k],
			    false);
	}
	putchar(']');
}

static void select_from(MYSQL *db, MYSQL_STMT *st, int from)
{
	MYSQL_BIND param, result[NCOLS];
	MYSQL_RES *meta;
	MYSQL_FIELD *fields;
	struct out_row o;
	char text[TEXT_MAX];
	int rc, nrows = 0;

	memset(&param, 0, sizeof(param));
	param.buffer_type = MYSQL_TYPE_LONG;
	param.buffer = &from;
	if (mysql_stmt_bind_param(st, &param))
		die(db, st, "bind SELECT");
	snprintf(text, sizeof(text), "%d", from);
	printf("{\"command\":\"COM_STMT_EXECUTE\",\"stmt_id\":%lu,"
	       "\"params\":[", st->stmt_id);
	print_value("LONG", text, strlen(text), true);
	printf("],\"columns\":[");
	if (mysql_stmt_execute(st))
		die(db, st, "execute SELECT");
	meta = mysql_stmt_result_metadata(st);
	if (!meta)
		die(db, st, "result metadata");
	fields = mysql_fetch_fields(meta);
	for (unsigned k = 0; k < mysql_num_fields(meta); k++) {
		if (k)
			putchar(',');
		json_string(fields[k].name, strlen(fields[k].name));
	}
	printf("],\"column_types\":[");
	for (unsigned k = 0; k < mysql_num_fields(meta); k++)
		printf("%s%d", k ? "," : "", (int)fields[k].type);
	mysql_free_result(meta);
	printf("],\"rows\":[");
	bind_out(result, &o);
	if (mysql_stmt_bind_result(st, result) || mysql_stmt_store_result(st))
		die(db, st, "store SELECT");
	while ((rc = mysql_stmt_fetch(st)) == 0) {
		if (nrows++)
			putchar(',');
		print_out_row(&o);
	}
	if (rc != MYSQL_NO_DATA)
		die(db, st, "fetch SELECT");
	printf("]}\n");
}

static void stmt_command(MYSQL *db, MYSQL_STMT *st, bool reset)
{
	printf("{\"command\":\"%s\",\"stmt_id\":%lu}\n",
	       reset ? "COM_STMT_RESET" : "COM_STMT_CLOSE", st->stmt_id);
	if (reset ? mysql_stmt_reset(st) : mysql_stmt_close(st))
		die(db, reset ? st : NULL, reset ? "reset" : "close");
}

static void set_time(MYSQL_TIME *t, unsigned y, unsigned mo, unsigned d,
		     unsigned h, unsigned mi, unsigned s, unsigned long us)
{
	memset(t, 0, sizeof(*t));
	t->year = y;
	t->month = mo;
	t->day = d;
	t->hour = h;
	t->minute = mi;
	t->second = s;
	t->second_part = us;
	t->time_type = MYSQL_TIMESTAMP_DATETIME;
}

static void run(MYSQL *db, const char *table)
{
	char insert_sql[SQL_MAX], select_sql[SQL_MAX];
	struct row r = { 0 };
	MYSQL_STMT *ins, *sel;

	snprintf(insert_sql, sizeof(insert_sql),
		 "INSERT INTO %s (i, b, d, s, dt, n) VALUES (?, ?, ?, ?, ?, ?)",
		 table);
	snprintf(select_sql, sizeof(select_sql),
		 "SELECT i, b, d, s, dt, n FROM %s WHERE i >= ? ORDER BY i",
		 table);
	ins = prepare(db, insert_sql);
	if (!ins)
		die(db, NULL, "prepare INSERT");
	/* bound once, executed three times: the later executions send no
	 * parameter types */
	r = (struct row){ .i = 1, .b = 9007199254740993LL, .d = 3.25,
			  .s = "h\xc3\xa9llo w\xc3\xb6rld", .n_is_null = true };
	set_time(&r.dt, 2024, 2, 29, 13, 45, 7, 0);
	insert(db, ins, &r, true);
	r.i = 2;
	r.b = -42;
	r.d = -0.5;
	strcpy(r.s, "it's \"quoted\"");
	set_time(&r.dt, 1999, 12, 31, 23, 59, 59, 0);
	insert(db, ins, &r, false);
	r.i = 3;
	r.b = 0;
	r.d = 1234.5678;
	r.s[0] = '\0';
	set_time(&r.dt, 2030, 1, 1, 0, 0, 0, 250000);
	insert(db, ins, &r, false);
	/* bound again, n no longer NULL */
	r.i = 4;
	r.b = 4294967296LL;
	r.d = 0.1;
	strcpy(r.s, "four");
	r.n_is_null = false;
	r.n = 7;
	set_time(&r.dt, 2001, 9, 9, 1, 46, 40, 0);
	insert(db, ins, &r, true);

	sel = prepare(db, select_sql);
	if (!sel)
		die(db, NULL, "prepare SELECT");
	select_from(db, sel, 2);
	stmt_command(db, sel, true);
	select_from(db, sel, 100);
	select_from(db, sel, 1);
	stmt_command(db, sel, false);
	stmt_command(db, ins, false);
	if (prepare(db, BAD_SQL))
		die(db, NULL, "prepare of a missing table succeeded");
}

int main(int argc, char **argv)
{
	const char *host = NULL, *sock = NULL;
	unsigned port = 0;
	MYSQL *db;

	if (argc != 7) {
		fprintf(stderr, "usage: %s HOST PORT USER PASSWORD DB TABLE\n"
				"       %s unix:SOCKET - USER PASSWORD DB TABLE\n",
			argv[0], argv[0]);
		return 2;
	}
	if (!strncmp(argv[1], "unix:", 5))
		sock = argv[1] + 5;
	else
		host = argv[1];
	if (host)
		port = (unsigned)atoi(argv[2]);
	db = mysql_init(NULL);
	if (!db)
		die(db, NULL, "mysql_init");
	if (!mysql_real_connect(db, host, argv[3], argv[4], argv[5], port, sock,
				0))
		die(db, NULL, "connect");
	printf("{\"command\":\"handshake\",\"user\":");
	json_string(argv[3], strlen(argv[3]));
	printf(",\"schema\":");
	json_string(argv[5], strlen(argv[5]));
	printf(",\"connection_id\":%lu}\n", mysql_thread_id(db));
	run(db, argv[6]);
	printf("{\"command\":\"COM_QUIT\"}\n");
	mysql_close(db);
	return fflush(stdout) ? 1 : 0;
}
